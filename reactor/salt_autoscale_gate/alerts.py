"""Alert emails, from Salt's smtp.* master options, rate-limited, sent by smtplib in a thread of their own.

Not salt.utils.smtp (3006-3008): it connects with no timeout and calls starttls() with no SSL context, so the
server's certificate is never verified, and it runs inside Salt's reactor loop, where a slow SMTP server would
hold every other reaction. Here the connection has a timeout, STARTTLS verifies the server against the system's
CA store, and the reactor returns without waiting for the mail.

Only what a verified message (or the master itself) caused is emailed: a rejection is one WARNING line, never a
mail, since anyone can post one and would otherwise spend the alert budget and hide the alerts that matter. Two
budgets of one mail per min_interval: "verified" (launch errors, unsubscribes, bootstrap problems) and "error"
(the reactor failing), so that one kind cannot silence the other.
"""
import logging
import smtplib
import ssl
import threading
from email.message import EmailMessage

log = logging.getLogger("salt.reactor.ec2_autoscale")
SMTP_TIMEOUT = 15  # seconds per SMTP operation
BUDGETS = ("verified", "error")


class Alerts(object):
    def __init__(self, settings, store, background=True):
        self.settings, self.store, self.background = settings, store, background

    def send(self, subject, text, rate_limited=True, budget="verified"):
        assert budget in BUDGETS
        if not self.settings.email:
            return
        if rate_limited and not self.store.alert_allowed(self.settings.min_interval, budget):
            log.debug("ec2-autoscale: alert email suppressed (one per %d s)", self.settings.min_interval)
            return
        message = self._message(subject, text)
        if not self.background:
            self._deliver(message)
            return
        # Not a daemon thread: a master shutting down, or a short-lived process, still sends what it queued.
        threading.Thread(target=self._deliver, args=(message,), name="ec2-autoscale-alert").start()

    def _password(self):
        if self.settings.password_file:
            with open(self.settings.password_file, "r") as handle:
                return handle.read().strip()
        return self.settings.smtp.get("smtp.password") or ""

    def _message(self, subject, text):
        smtp = self.settings.smtp
        message = EmailMessage()
        message["From"] = smtp.get("smtp.from")
        message["To"] = ", ".join(self._recipients())
        message["Subject"] = "%s: %s" % (smtp.get("smtp.subject") or "salt-autoscale", subject)
        message.set_content(text)
        return message

    def _recipients(self):
        return [r.strip() for r in str(self.settings.smtp.get("smtp.to") or "").split(",") if r.strip()]

    def _deliver(self, message):
        smtp = self.settings.smtp
        try:
            with smtplib.SMTP(smtp.get("smtp.host"), int(smtp.get("smtp.port") or 25), timeout=SMTP_TIMEOUT) as server:
                if smtp.get("smtp.tls"):
                    server.starttls(context=ssl.create_default_context())
                password = self._password()
                if smtp.get("smtp.username") and password:
                    server.login(smtp.get("smtp.username"), password)
                server.send_message(message, to_addrs=self._recipients())
        except Exception as exc:  # an alert must never turn into a reactor failure
            log.error("ec2-autoscale: could not send the alert email: %s", exc)
