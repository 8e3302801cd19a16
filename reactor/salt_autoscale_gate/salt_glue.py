"""The reactor's side: ec2-autoscale.sls calls run(__opts__, data, tag) for every event and returns its result
to Salt. Routed by tag (ROUTES): an SNS message is decided (gate.judge), then acted on (actions.Performer); a
rejection reacts with nothing and logs one WARNING line with its reason code. Salt's readiness events
(salt/auth, salt/minion/<id>/start, salt/job/<jid>/ret/<id>) go to the lifecycle handler, which does nothing
unless an action is open for exactly that minion id (one stat). A tag that is not ours costs one dict lookup and
reacts with nothing."""
import logging
import time

from . import attest, ledger, lifecycle, lifecycle_worker
from .actions import Performer, plan
from .alerts import Alerts
from .certificate import Certificates
from .executor import ActionFailed
from .gate import Context, judge
from .settings import ConfigProblem, Settings
from .store import Store, StoreProblem
from .text import shown

log = logging.getLogger("salt.reactor.ec2_autoscale")


def run(opts, data, tag=None):
    """One reactor event. `tag`: the event's tag (None from an entry rendered before tags were passed: an SNS
    message, the only kind such an entry was mapped to)."""
    handler = ROUTES.get(tag)
    if handler is None:
        if tag is not None and (tag.startswith("salt/job/") or tag.startswith("salt/minion/")):
            return readiness_event(opts, data, tag)
        return {}
    return handler(opts, data)


def readiness_event(opts, data, tag="salt/auth"):
    """salt/auth, a minion's start, a job's return: moves the open lifecycle action of that minion, if any."""
    found = lifecycle.minion_of(tag, data) if isinstance(data, dict) else None
    if found is None or not ledger.action_exists(lifecycle.cache_dir_of(opts), found[1]):
        return {}
    kind, minion = found
    try:
        settings = Settings(opts)
        store = Store(settings.cache_dir, settings.keep_seconds)
        with ledger.locked(store):
            action = ledger.read_action(store, minion)
            changed = lifecycle.on_event(action, kind, data, lifecycle.key_accepted(settings.keys_dir, minion),
                                         time.time()) if action else None
            if changed is not None:
                ledger.write_action(store, changed)
        if changed is not None:
            if changed["state"] == "complete":
                log.info("ec2-autoscale: lifecycle action of %s (hook %s): %s seen (%s); completing with %s",
                         minion, shown(changed.get("hook")), changed["why"], tag, changed["result"])
            lifecycle_worker.ensure(opts, settings, store)
    except (ConfigProblem, StoreProblem, OSError) as exc:
        log.error("ec2-autoscale: cannot handle %s for %s: %s; no reaction", tag, minion, exc)
    except Exception:
        log.exception("ec2-autoscale: unexpected error handling %s; no reaction", tag)
    return {}


_process_checked = []  # whether this process has looked for actions left open (a restarted master)


def _resume_open_actions(opts, settings, store):
    """Once per process: a master restarted with actions open gets its worker back."""
    if _process_checked:
        return
    _process_checked.append(True)
    if ledger.open_actions(store):
        lifecycle_worker.ensure(opts, settings, store)


def sns_message(opts, data):
    """An SNS message: salt-api's webhook ({"body", "post", "headers"}) or Salt's webhook engine
    ({"headers", "body"}, body as bytes; salt/engines/webhook.py): envelope.parse_body reads either."""
    return handle_sns(opts, data).reaction


class Outcome(object):
    """What became of one SNS message: state "handled" (accepted and performed), "rejected" (one WARNING line)
    or "error" (nothing recorded as handled: a retry is judged afresh); reason: the rejection's reason code."""

    def __init__(self, state, reason=None, reaction=None):
        self.state, self.reason, self.reaction = state, reason, reaction if reaction is not None else {}


def handle_sns(opts, data, execute=None):
    """Judge, then perform. `execute`: see actions.Performer (the SQS engine runs the Salt calls itself)."""
    try:
        settings = Settings(opts)
        store = Store(settings.cache_dir, settings.keep_seconds)
    except ConfigProblem as problem:
        log.error("ec2-autoscale: %s", problem)
        return Outcome("error")
    except (StoreProblem, OSError) as exc:
        log.error("ec2-autoscale: cannot use the cache directory (ec2.autoscale.cache_dir): %s; no reaction", exc)
        return Outcome("error")
    alerts = Alerts(settings, store)
    decision = None
    try:
        _resume_open_actions(opts, settings, store)
        now = time.time()
        decision = judge(data, Context(settings, store, Certificates(store, settings.fetch_timeout), now))
        if not decision.accepted:
            reject(decision)
            return Outcome("rejected", decision.reason)
        actions = plan(decision, settings)
        return Outcome("handled", None, Performer(opts, settings, store, alerts, execute=execute).perform(
            decision, actions))
    except ConfigProblem as problem:  # e.g. neither cryptography nor openssl on the master
        log.error("ec2-autoscale: %s", problem)
        alerts.send("the reactor cannot verify messages", str(problem), budget="error")
        return Outcome("error")
    except ActionFailed as failed:  # only with execute: a Salt call failed, nothing recorded as handled
        line = "ec2-autoscale: %s (message_id=%s topic_arn=%s); not handled, it will be delivered again" % (
            failed, shown(decision.envelope.get("MessageId")), shown(decision.envelope.get("TopicArn")))
        log.error("%s", line)
        alerts.send("a Salt call failed", line, budget="error")
        return Outcome("error")
    except Exception:
        log.exception("ec2-autoscale: unexpected error; no reaction")
        alerts.send("reactor error", "The ec2-autoscale reactor failed; see the master log.", budget="error")
        return Outcome("error")


def attestation(opts, data):
    """An attested instance's POST (attest.py): its identity document, signature and public key."""
    try:
        settings = Settings(opts)
        store = Store(settings.cache_dir, settings.keep_seconds)
    except ConfigProblem as problem:
        log.error("ec2-autoscale: %s", problem)
        return {}
    except (StoreProblem, OSError) as exc:
        log.error("ec2-autoscale: cannot use the cache directory (ec2.autoscale.cache_dir): %s; no reaction", exc)
        return {}
    alerts = Alerts(settings, store)
    try:
        return attest.handle(opts, data, settings, store, alerts, time.time())
    except Exception:
        log.exception("ec2-autoscale: unexpected error; no reaction")
        alerts.send("reactor error", "The ec2-autoscale reactor failed; see the master log.", budget="error")
        return {}


def reject(decision):
    """One WARNING line and no reaction. Never an email: anyone can post a rejection (alerts.py)."""
    envelope = decision.envelope
    line = "ec2-autoscale: rejected SNS message: reason=%s message_id=%s topic_arn=%s: %s" % (
        decision.reason, shown(envelope.get("MessageId")), shown(envelope.get("TopicArn")),
        decision.rejection.detail)
    log.warning("%s", line)


# Event tag -> handler. Salt's reactor calls the entry for every event its `reactor:` mapping names, so the
# lookup comes first: salt/auth and job returns reach here on busy masters.
ROUTES = {
    None: sns_message,
    "salt/netapi/hook/ec2/autoscale": sns_message,  # salt-api (rest_cherrypy) Webhook: POST /hook/ec2/autoscale
    "salt/engines/hook/ec2/autoscale": sns_message,  # Salt's webhook engine: POST /ec2/autoscale
    "salt/auth": readiness_event,  # lifecycle readiness (also salt/minion/*/start and salt/job/*/ret/*, by prefix)
}
for _tag in attest.TAGS:  # salt-api's .../ec2/autoscale/attest and the webhook engine's
    ROUTES[_tag] = attestation
