"""Attested admission, the master's side: an instance of an `attested` group POSTs its identity document, AWS's
signature of it and its own public key to <public_url><webhook_url>/ec2/autoscale/attest; salt-api fires that as
the event salt/netapi/hook/ec2/autoscale/attest (Salt's webhook engine: salt/engines/hook/ec2/autoscale/attest),
and salt_glue hands it here.

Decide, then act: judge() returns identity's Verdict (data: accept with its facts, or a reason code);
plan() turns an accepted one into actions; Admitter.perform() does them in one place. A refusal is one WARNING
line and no reaction; key_conflict and document_replayed also alert a person (someone else holds the document).
salt-api answers every POST with 200 whatever the verdict, so the instance never learns it from the answer: it
learns it when salt-minion authenticates (docs/reactor.md, "Attested admission").
"""
import logging
import os

from . import identity, ledger
from .store import _write_atomic
from .text import shown

log = logging.getLogger("salt.reactor.ec2_autoscale")

TAGS = frozenset(("salt/netapi/hook/ec2/autoscale/attest", "salt/engines/hook/ec2/autoscale/attest"))

_CERTS = {}  # per process: extra dir -> (its listing with mtimes, the certificates)


def post_body(data):
    """The raw POST body: salt-api's webhook event {"body": raw text, "post", "headers"}, or the webhook engine's
    {"headers", "body": bytes or text}. None when there is none (an event fired by other means)."""
    body = data.get("body") if isinstance(data, dict) else None
    return body if isinstance(body, (bytes, str)) and body else None


def certificates(settings):
    """AWS's shipped certificates plus the extra directory's, loaded once per process and again when a file in
    the extra directory changes (one listdir per post). CertificateProblem names the file at fault."""
    extra = settings.attest_certs_dir
    listing = ()
    if extra:
        try:
            listing = tuple(sorted((n, os.stat(os.path.join(extra, n)).st_mtime_ns) for n in os.listdir(extra)))
        except OSError:
            listing = None  # load_certificates says what is wrong with it
    cached = _CERTS.get(extra)
    if cached is None or cached[0] != listing or listing is None:
        _CERTS[extra] = (listing, identity.load_certificates(extra))
    return _CERTS[extra][1]


class LedgerView(object):
    """What identity.judge asks of the admission ledger, read from the instance's record in the store."""

    def __init__(self, store):
        self.store = store

    def announcement(self, instance_id):
        record = self.store.instance(instance_id)
        if not record.get("announced_at"):
            return None
        return {"group": record.get("group"), "topic_arn": record.get("announced_topic"),
                "terminated": record.get("terminated_at") is not None}

    def recorded(self, instance_id):
        record = self.store.instance(instance_id)
        if not record.get("attested_key"):
            return None
        return {"public_key": record["attested_key"], "document_sha256": record.get("attested_document_sha256")}


def policy(settings, now):
    """Accounts and regions of the trusted topics (the announcing topic's own are checked per instance), the
    admission window after pendingTime, the clock skew, the attested groups."""
    parts = [identity._topic_parts(arn) for arn in settings.topic_arns]
    return identity.Policy([a for _, a in parts if a], [r for r, _ in parts if r], settings.attest_window, now,
                           settings.clock_skew, settings.attested_groups)


def judge(data, settings, store, now, backend=None):
    """The Verdict for one attest event's data. Raises identity.CertificateProblem (a master problem)."""
    body = post_body(data)
    if body is None:
        return identity.Verdict("bad_request", "the event carries no POST body", {})
    return identity.judge_request(body, certificates(settings), policy(settings, now), LedgerView(store), backend)


def key_path(settings, instance_id, folder="minions"):
    return os.path.join(settings.pki_dir, folder, instance_id)


def plan(verdict, settings):
    """The actions for an accepted Verdict: write the key and record it, or nothing (already admitted)."""
    facts = verdict.facts
    if facts["outcome"] != "admit":
        return []
    return [{"action": "write_minion_key", "path": key_path(settings, facts["instance_id"]),
             "fingerprint": facts["key_fingerprint"]},
            {"action": "record_attested", "instance_id": facts["instance_id"]}]


def _clean(pem):
    """salt.crypt.clean_key's comparison form: stripped, \\n line ends."""
    return "\n".join(pem.strip().splitlines())


def _read_key(path):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as handle:
        return handle.read(identity.MAX_PUBLIC_KEY_BYTES + 1).decode("utf-8", "replace")


class Admitter(object):
    """Performs an accepted attestation. Under the ledger's lock, it checks again what judge() saw (two posts
    for one id may race) and that pki/minions/<id> holds no other key, then writes the key as salt-cloud
    pre-seeds it (salt.cloud.accept_key: the PEM as posted in pki/minions/<id>, and a pending copy of the same
    key in minions_pre/ removed), then records it. The key first, the record after: a failure in between
    leaves the document unused, and the instance's next post writes the same key again."""

    def __init__(self, settings, store, alerts, now):
        self.settings, self.store, self.alerts, self.now = settings, store, alerts, now

    def perform(self, verdict, actions):
        facts = verdict.facts
        instance_id = facts["instance_id"]
        if not actions:
            log.info("ec2-autoscale: attestation of %s in group %s: its key %s is admitted already; nothing to do",
                     instance_id, shown(facts.get("group")), facts["key_fingerprint"])
            return {}
        with ledger.locked(self.store):
            recorded = LedgerView(self.store).recorded(instance_id)
            if recorded is not None and _clean(recorded["public_key"]) != _clean(facts["public_key"]):
                return refuse(identity.Verdict("key_conflict", "another key was admitted for %s meanwhile"
                                               % instance_id, facts), self.alerts)
            for a in actions:
                if a["action"] == "write_minion_key":
                    existing = _read_key(a["path"])
                    if existing is not None and _clean(existing) != _clean(facts["public_key"]):
                        return refuse(identity.Verdict(
                            "key_conflict", "%s already holds another key; it is kept" % a["path"], facts),
                            self.alerts)
                    if existing is None:
                        self._write_key(a["path"], facts["public_key"])
                    self._drop_pending_copy(instance_id, facts["public_key"])
                elif a["action"] == "record_attested":
                    ledger.record_attested(self.store, instance_id, facts["public_key"], facts["key_fingerprint"],
                                           facts["document_sha256"], self.now)
        log.info("ec2-autoscale: attestation of %s in group %s: admitted its key %s (%s), signed by %s's "
                 "certificate, verified with %s", instance_id, shown(facts.get("group")), facts["key_fingerprint"],
                 key_path(self.settings, instance_id), facts["region"], facts["verified_by"])
        return {}

    def _write_key(self, path, pem):
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        # The temp file lives in pki_dir, not in minions/, so Salt never reads half a key. 0644: a public key,
        # as salt-cloud's accept_key leaves it (open "w+" under the usual umask).
        _write_atomic(path, pem.encode("ascii"), 0o644, tmp_dir=self.settings.pki_dir)

    def _drop_pending_copy(self, instance_id, pem):
        pending = key_path(self.settings, instance_id, "minions_pre")
        existing = _read_key(pending)
        if existing is not None and _clean(existing) == _clean(pem):
            try:
                os.unlink(pending)
            except OSError:
                pass


def refuse(verdict, alerts):
    """One WARNING line; an alert email too when the refusal means someone else holds the document."""
    facts = verdict.facts
    line = "ec2-autoscale: refused attestation: reason=%s instance_id=%s group=%s key=%s: %s" % (
        verdict.reason, shown(facts.get("instance_id")), shown(facts.get("group")),
        facts.get("key_fingerprint") or "-", verdict.detail)
    log.warning("%s", line)
    if verdict.alert:
        alerts.send("possible attack on %s (%s)" % (facts.get("instance_id"), verdict.reason),
                    line + "\n\nAnother key than the one first admitted was presented with this instance's "
                    "identity document. See the salt-autoscale docs, Troubleshooting, for this reason code.")
    return {}


def handle(opts, data, settings, store, alerts, now):
    """salt_glue's handler for the attest tags."""
    try:
        verdict = judge(data, settings, store, now)
    except identity.CertificateProblem as problem:
        log.error("ec2-autoscale: cannot judge attestations: %s", problem)
        alerts.send("the reactor cannot judge attestations", str(problem))
        return {}
    if not verdict.accepted:
        return refuse(verdict, alerts)
    return Admitter(settings, store, alerts, now).perform(verdict, plan(verdict, settings))
