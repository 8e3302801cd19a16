"""reconcile's side: `salt-autoscale reconcile` runs this module (one job as JSON on stdin, the answer as JSON
on stdout), so what it reads and writes on the master goes through the reactor's own code: the gate judges the
dead-letter queue's messages, actions.write_autosign_stub writes stubs, the ledger records what was done.

  {"op": "snapshot", "opts": {...}, "dlq": [{"id": str, "body": str, "at": epoch}]}
      Reads, writes nothing: the key names in the pki dir (names only, never a key's content), the autosign
      stubs and whether each is still live, the ledger, and the gate's verdict on each DLQ message (`at`: when
      SNS put it in the queue; see _judged_at).
  {"op": "apply", "opts": {...}, "actions": [...], "aws": {"region", "endpoint_url", "profile"}}
      Performs reconcile's plan, every action under the ledger's lock and re-checked there (the reactor may
      have acted since the snapshot), and answers one result per action. `aws`: where complete_lifecycle calls
      Auto Scaling (reconcile's own --region / --endpoint-url / --profile).
"""
import json
import os
import signal
import sys
import time

from . import autoscaling_api, ledger
from .actions import autosign_stub_path, remove_autosign_stub, write_autosign_stub
from .certificate import Certificates
from .gate import Context, handled_record, judge
from .keys import KEY_DIRS, delete_key_files
from .policy import INSTANCE_ID_RE, parse_timestamp
from .settings import ConfigProblem, Settings
from .store import Store, StoreProblem

DEFAULT_AUTOSIGN_TIMEOUT_MINUTES = 120  # Salt's default autosign_timeout


def _names(folder):
    """A key directory's entries as salt-key lists them (dot files are not keys); [] when it is missing."""
    try:
        return sorted(n for n in os.listdir(folder) if not n.startswith("."))
    except FileNotFoundError:
        return []


def _autosign_seconds(opts):
    value = opts.get("autosign_timeout")
    return 60 * (DEFAULT_AUTOSIGN_TIMEOUT_MINUTES if value is None else int(value))


def _instance_id(value):
    """Every id that reaches a path here is i-<hex>: nothing else may name a file under pki_dir."""
    if not isinstance(value, str) or not INSTANCE_ID_RE.fullmatch(value):
        raise ValueError("not an instance id: %r" % (value,))
    return value


def _verdict(message, decision):
    facts = decision.facts if decision.accepted else {}
    return {"id": message["id"], "verdict": "accepted" if decision.accepted else "rejected",
            "reason": decision.reason, "outcome": facts.get("outcome"), "group": facts.get("group"),
            "instance_id": facts.get("instance_id"),
            "message_id": decision.envelope.get("MessageId") if isinstance(decision.envelope.get("MessageId"), str)
            else None}


class _CertificatesValidNow(Certificates):
    """The message is judged as of when SNS gave up on it, but its signing certificate must be valid today:
    what is trusted now is what reconcile acts on."""

    def key(self, url, now):
        return Certificates.key(self, url, time.time())


class _SinceThen(object):
    """The store for a message judged as of `at`: what happened to it since (handled, by the reactor then or by
    reconcile now; its instance terminated) is looked up as of now as well."""

    def __init__(self, store, at):
        self._store, self._at = store, at

    def __getattr__(self, name):
        return getattr(self._store, name)

    def handled(self, message_id, signed, before=None, now=None):
        for when in (self._at, time.time()):
            found = self._store.handled(message_id, signed, before, when)
            if found is not None:
                return found
        return None

    def terminated_at(self, instance_id, now):
        return self._store.terminated_at(instance_id, time.time())


def _judged_at(settings, message):
    """When to judge a dead letter: the last moment the reactor would still have taken it (its Timestamp +
    max_age), or when SNS gave up on it if that came first. Only this topic's subscription can send to the queue
    (its policy), so the age SNS spent retrying, then waiting in the queue, is not held against it; a Timestamp
    after it reached the queue still is (future_message), and so is every other check."""
    at = min(float(message["at"]), time.time())
    try:
        sent = parse_timestamp(json.loads(message["body"])["Timestamp"])
    except (ValueError, KeyError, TypeError):
        return at  # the gate says what is wrong with it
    return min(at, sent + settings.max_age - 1)  # a second inside max_age: no float rounding past it


def _judge(settings, store, message):
    at = _judged_at(settings, message)
    ctx = Context(settings, _SinceThen(store, at), _CertificatesValidNow(store, settings.fetch_timeout), at)
    return judge({"body": message["body"], "post": {}}, ctx)


def snapshot(job):
    settings = Settings(job["opts"])
    store = Store(settings.cache_dir, settings.keep_seconds, readonly=True)
    now = time.time()
    keys = dict((state, _names(os.path.join(settings.keys_dir, folder))) for state, folder in KEY_DIRS)
    timeout = _autosign_seconds(job["opts"])
    stubs = {}
    autosign_dir = os.path.join(settings.pki_dir, "minions_autosign")
    for name in _names(autosign_dir):
        try:
            age = now - os.lstat(os.path.join(autosign_dir, name)).st_mtime
        except OSError:
            continue
        # Salt's AutoKey.check_autosign_dir: a stub older than autosign_timeout is removed, not used.
        stubs[name] = {"live": age < timeout}
    entries = {} if store.absent else ledger.entries(store)
    lifecycle = {} if store.absent else dict((i, _lifecycle_view(a)) for i, a in ledger.open_actions(store).items())
    return {"lifecycle": lifecycle, "pki_dir": settings.pki_dir, "cache_dir": settings.cache_dir, "keys": keys, "stubs": stubs,
            "ledger": entries, "dlq": [_verdict(m, _judge(settings, store, m)) for m in job.get("dlq", [])]}


def _delete_key(settings, store, action):
    """As wheel.key.delete for exactly this id: every state's key file, then any stub; the ledger says so."""
    instance_id = _instance_id(action["instance_id"])
    removed = delete_key_files(settings.keys_dir, instance_id)
    stub = remove_autosign_stub(autosign_stub_path(settings, instance_id))
    ledger.record_termination(store, instance_id, action.get("group"), ledger.KEY_DELETED, ledger.VIA_RECONCILE,
                              time.time())
    return {"ok": True, "state": "deleted" if removed or stub else "already_gone", "removed": removed,
            "stub_removed": stub}


def _write_stub(settings, store, action, timeout):
    instance_id = _instance_id(action["instance_id"])
    if os.path.exists(os.path.join(settings.keys_dir, "minions", instance_id)):
        return {"ok": True, "state": "not_needed"}  # admitted since the snapshot
    path = autosign_stub_path(settings, instance_id)
    try:
        if time.time() - os.lstat(path).st_mtime < timeout:
            return {"ok": True, "state": "not_needed"}  # the reactor wrote one since
    except FileNotFoundError:
        pass
    write_autosign_stub(settings, path)
    ledger.record_admission(store, instance_id, action.get("group"), ledger.STUB_WRITTEN, ledger.VIA_RECONCILE,
                            time.time(), action.get("launched_at"))
    return {"ok": True, "state": "written"}


LIFECYCLE_FIELDS = ("group", "hook", "transition", "kind", "state", "ready", "result", "why", "attempts",
                    "given_up", "last_error", "opened_at", "deadline", "global_deadline", "warm_pool")


def _lifecycle_view(action):
    """An open action as reconcile shows it (never the token: it completes the action, so it stays here)."""
    return dict((k, action.get(k)) for k in LIFECYCLE_FIELDS)


def _complete_lifecycle(settings, store, action, aws):
    """A decided lifecycle action that the reactor's worker could not send: send it now, as the worker would
    (the key first when the action deletes it)."""
    instance_id = _instance_id(action["instance_id"])
    open_action = ledger.read_action(store, instance_id)
    if not open_action:
        return {"ok": True, "state": "already_done"}
    if open_action.get("state") != "complete":
        return {"ok": True, "state": "still_waiting"}
    if open_action.get("delete_key") and not open_action.get("key_deleted"):
        delete_key_files(settings.pki_dir, instance_id)
        remove_autosign_stub(autosign_stub_path(settings, instance_id))
        ledger.record_termination(store, instance_id, open_action.get("group"), ledger.LIFECYCLE_KEY_DELETED,
                                  ledger.VIA_RECONCILE, time.time())
        open_action["key_deleted"] = True
        ledger.write_action(store, open_action)
    if aws.get("endpoint_url"):
        os.environ["AWS_ENDPOINT_URL"] = aws["endpoint_url"]
    if aws.get("profile"):
        os.environ["AWS_PROFILE"] = aws["profile"]
    try:
        autoscaling_api.complete(aws.get("region") or settings.region, open_action, open_action["result"])
    except autoscaling_api.ActionGone as exc:
        ledger.close_action(store, open_action, "gone", time.time())
        return {"ok": True, "state": "gone", "detail": str(exc)}
    except autoscaling_api.CallFailed as exc:
        return {"ok": False, "state": "failed", "error": str(exc)}
    ledger.close_action(store, open_action, "reconcile", time.time())
    return {"ok": True, "state": "completed", "result": open_action["result"]}


def _clear_denied(settings, action):
    instance_id = _instance_id(action["instance_id"])
    try:
        os.unlink(os.path.join(settings.keys_dir, "minions_denied", instance_id))
        return {"ok": True, "state": "deleted"}
    except FileNotFoundError:
        return {"ok": True, "state": "already_gone"}


def _message_handled(settings, store, action):
    """A DLQ message whose effect the plan's other actions carried out: judged again (under the lock), and an
    accepted one recorded as handled, so a copy SNS still delivers is a duplicate."""
    decision = _judge(settings, store, action)
    if decision.accepted:
        store.record_handled(decision.envelope["MessageId"], decision.signed, handled_record(decision, time.time()))
        return {"ok": True, "state": "recorded"}
    return {"ok": True, "state": "rejected", "reason": decision.reason}


def apply(job):
    settings = Settings(job["opts"])
    store = Store(settings.cache_dir, settings.keep_seconds)
    timeout = _autosign_seconds(job["opts"])
    results = []
    with ledger.locked(store):
        for action in job["actions"]:
            kind = action.get("action")
            try:
                if kind == "delete_key":
                    results.append(_delete_key(settings, store, action))
                elif kind == "write_stub":
                    results.append(_write_stub(settings, store, action, timeout))
                elif kind == "clear_denied":
                    results.append(_clear_denied(settings, action))
                elif kind == "complete_lifecycle":
                    results.append(_complete_lifecycle(settings, store, action, job.get("aws") or {}))
                elif kind == "message_handled":
                    results.append(_message_handled(settings, store, action))
                else:
                    results.append({"ok": False, "state": "unknown_action", "error": "unknown action %r" % (kind,)})
            except (OSError, ValueError) as exc:
                results.append({"ok": False, "state": "failed", "error": str(exc)})
    return {"results": results}


def answer(job):
    try:
        if job.get("op") == "snapshot":
            return snapshot(job)
        if job.get("op") == "apply":
            return apply(job)
        return {"error": "unknown op %r" % (job.get("op"),), "kind": "usage"}
    except ConfigProblem as problem:
        return {"error": str(problem), "kind": "config"}
    except StoreProblem as problem:
        return {"error": str(problem), "kind": "store"}
    except PermissionError as exc:
        return {"error": "%s: %s (run reconcile as the master's user)" % (exc.filename, exc.strerror),
                "kind": "store"}


def main():
    # Ctrl-C reaches this process too: a batch of file operations takes milliseconds, so it finishes rather than
    # stop half-way; the CLI stops what is still ahead (the queue's deletions) and reports.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    job = json.load(sys.stdin)
    json.dump(answer(job), sys.stdout, default=repr)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
