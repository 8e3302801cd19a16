"""The gate: the checks as a named, ordered list, cheapest first and all of them before any network I/O but
the certificate. judge() returns a Decision (data); it performs nothing and writes nothing itself.

In the reactor the first failed check decides. With explain=True (verify) every check whose inputs are there
runs too, so a person learns every problem at once and whether the signature was good; the verdict is still
the first failure, exactly what the reactor would do.
"""
from . import envelope as env
from . import policy
from .reasons import REMEDIES, Rejected
from .signature import check_signature
from .text import sha256_hex

CHECK_NAMES = ("envelope", "fields", "topic", "cert_url", "timestamp", "dedupe", "message", "instance",
               "certificate", "signature")


class NotRun(Exception):
    """A check that cannot run here (verify without the reactor's cache, say): reported, never a verdict."""


class Context(object):
    """What the checks may consult: settings, the store (read-only in verify), the certificates, the clock.
    `handled_before`: verify --at counts only records made before that time."""

    def __init__(self, settings, store, certificates, now, handled_before=None):
        self.settings, self.store, self.certificates, self.now = settings, store, certificates, now
        self.handled_before = handled_before


class Decision(object):
    def __init__(self, checks, state):
        self.checks = checks
        self.rejection = state.failures[0] if state.failures else None
        self.envelope = state.envelope if isinstance(state.envelope, dict) else {}
        self.facts = state.facts
        self.signed = state.signed
        self.message = state.message  # a Notification's Message as parsed JSON (None otherwise)

    @property
    def accepted(self):
        return self.rejection is None

    @property
    def reason(self):
        return self.rejection.reason if self.rejection else None

    def to_dict(self):
        out = {"verdict": "accepted" if self.accepted else "rejected", "reason": self.reason,
               "detail": self.rejection.detail if self.rejection else "",
               "remedy": REMEDIES.get(self.reason) if self.rejection else None,
               "outcome": self.facts.get("outcome") if self.accepted else None,
               "message_id": self.envelope.get("MessageId") if isinstance(self.envelope.get("MessageId"), str) else None,
               "topic_arn": self.envelope.get("TopicArn") if isinstance(self.envelope.get("TopicArn"), str) else None,
               "facts": self.facts, "checks": self.checks}
        return out


class _State(object):
    def __init__(self, data):
        self.data, self.envelope, self.signature, self.signed, self.facts, self.key = data, None, None, None, {}, None
        self.failures, self.message = [], None


def _envelope(s, ctx):
    s.envelope = env.parse_body(s.data)  # kept even when the next line fails: the log line names its ids
    env.check_envelope(s.envelope)
    s.signed = env.canonical_string(s.envelope)


def _fields(s, ctx):
    s.signature = env.check_fields(s.envelope)


def _topic(s, ctx):
    policy.check_topic(s.envelope, ctx.settings)


def _cert_url(s, ctx):
    policy.check_cert_url(s.envelope)


def _timestamp(s, ctx):
    policy.check_timestamp(s.envelope, ctx.settings, ctx.now)


def _dedupe(s, ctx):
    if ctx.store is None:
        raise NotRun("no reactor cache to look in (--no-cache)")
    if ctx.store.handled(s.envelope["MessageId"], s.signed, ctx.handled_before, ctx.now) is not None:
        raise Rejected("duplicate_message", "this MessageId (or this signed content) was handled already")


def _message(s, ctx):
    if s.envelope["Type"] == env.NOTIFICATION:
        s.message = policy.parsed_message(s.envelope)
    s.facts = policy.check_message(s.envelope, ctx.settings, s.message)


def _instance(s, ctx):
    instance_id = policy.check_instance_id(s.facts)
    if s.facts.get("event") in (policy.LAUNCH, policy.LAUNCHING) and ctx.store is not None:
        when = ctx.store.terminated_at(instance_id, ctx.now)
        if when is not None:
            raise Rejected("instance_terminated", "the termination of %s was handled %d s ago; a later launch "
                           "message cannot admit it" % (instance_id, ctx.now - when))


def _certificate(s, ctx):
    s.key = ctx.certificates.key(s.envelope["SigningCertURL"], ctx.now)


def _signature(s, ctx):
    check_signature(s.envelope, s.signed, s.signature, s.key, ctx.certificates.backend)


# (name, function, the checks whose results it needs)
CHECKS = (
    ("envelope", _envelope, ()),
    ("fields", _fields, ("envelope",)),
    ("topic", _topic, ("envelope",)),
    ("cert_url", _cert_url, ("envelope",)),
    ("timestamp", _timestamp, ("envelope",)),
    ("dedupe", _dedupe, ("envelope",)),
    ("message", _message, ("envelope",)),
    ("instance", _instance, ("message",)),
    ("certificate", _certificate, ("cert_url",)),
    ("signature", _signature, ("fields", "certificate")),
)
assert tuple(c[0] for c in CHECKS) == CHECK_NAMES


def judge(data, ctx, explain=False):
    """The Decision for one event's data. Raises ConfigProblem when the master cannot judge at all (no crypto
    backend): not the sender's fault, so not a rejection."""
    s = _State(data)
    results, checks = {}, []
    for name, check, needs in CHECKS:
        if s.failures and not explain:
            checks.append({"name": name, "result": "not_run", "reason": None, "detail": "an earlier check failed"})
            continue
        missing = None
        for need in needs:  # a loop, not a comprehension: this runs ten times an event in Salt's reactor loop
            if results.get(need) != "pass":
                missing = need
                break
        if missing is not None:
            results[name] = "not_run"
            checks.append({"name": name, "result": "not_run", "reason": None,
                           "detail": "needs the %s check, which did not pass" % missing})
            continue
        try:
            note = check(s, ctx)
        except NotRun as why:
            results[name] = "not_run"
            checks.append({"name": name, "result": "not_run", "reason": None, "detail": str(why)})
            continue
        except Rejected as rejection:
            s.failures.append(rejection)
            results[name] = "fail"
            checks.append({"name": name, "result": "fail", "reason": rejection.reason, "detail": rejection.detail})
            continue
        results[name] = "pass"
        checks.append({"name": name, "result": "pass", "reason": None, "detail": note or ""})
    return Decision(checks, s)


def handled_record(decision, now):
    return {"at": now, "message_id_sha256": sha256_hex(decision.envelope["MessageId"]),
            "outcome": decision.facts.get("outcome"), "instance_id": decision.facts.get("instance_id")}
