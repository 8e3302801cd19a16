"""Alert emails via Salt's smtp settings (salt.utils.smtp when importable, else smtplib), rate-limited."""
import logging
import smtplib
import ssl
from email.message import EmailMessage

log = logging.getLogger("salt.reactor.ec2_autoscale")


class Alerts(object):
    def __init__(self, settings, store):
        self.settings, self.store = settings, store

    def send(self, subject, text, rate_limited=True):
        if not self.settings.email:
            return
        if rate_limited and not self.store.alert_allowed(self.settings.min_interval):
            log.debug("ec2-autoscale: alert email suppressed (one per %d s)", self.settings.min_interval)
            return
        try:
            self._deliver(subject, text)
        except Exception as exc:  # an alert must never turn into a reactor failure
            log.error("ec2-autoscale: could not send the alert email: %s", exc)

    def _password(self):
        if self.settings.password_file:
            with open(self.settings.password_file, "r") as handle:
                return handle.read().strip()
        return self.settings.smtp.get("smtp.password") or ""

    def _deliver(self, subject, text):
        smtp = self.settings.smtp
        full_subject = "%s: %s" % (smtp.get("smtp.subject") or "salt-autoscale", subject)
        recipients = [r.strip() for r in str(smtp.get("smtp.to") or "").split(",") if r.strip()]
        try:
            import salt.utils.smtp as salt_smtp
        except ImportError:
            salt_smtp = None
        if salt_smtp is not None:
            for recipient in recipients:  # salt.utils.smtp sends to one address string
                salt_smtp.send({"smtp.to": recipient, "smtp.subject": full_subject, "smtp.content": text,
                                "smtp.password": self._password()}, dict(smtp))
            return
        message = EmailMessage()
        message["From"] = smtp.get("smtp.from")
        message["To"] = ", ".join(recipients)
        message["Subject"] = full_subject
        message.set_content(text)
        with smtplib.SMTP(smtp.get("smtp.host"), int(smtp.get("smtp.port") or 25), timeout=15) as server:
            if smtp.get("smtp.tls"):
                server.starttls(context=ssl.create_default_context())
            password = self._password()
            if smtp.get("smtp.username") and password:
                server.login(smtp.get("smtp.username"), password)
            server.send_message(message, to_addrs=recipients)
