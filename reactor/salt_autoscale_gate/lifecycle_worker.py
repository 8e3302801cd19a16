"""The lifecycle worker: one daemon thread in the process that runs Salt's reactor, which makes every AWS call
for the open lifecycle actions in the ledger, so that none is made in the reactor loop (docs/reactor.md,
"Heartbeats"). Each pass:

- a decided action (state complete): deletes the key first when the action says so, then
  CompleteLifecycleAction; a failure is retried with backoff (2 s doubling, at most MAX_ATTEMPTS calls), and
  then the action stays open in the ledger, `given_up`, for `salt-autoscale reconcile` to complete or report;
- a waiting or draining action that has shown progress: RecordLifecycleActionHeartbeat every third of the
  heartbeat timeout, until AWS's global timeout;
- a drain past its time limit: proceeds (key delete, CONTINUE); a wait past its deadline: AWS has applied the
  hook's DefaultResult, so the action is closed as timed out.

The thread sleeps until the next action is due or a reactor event wakes it. It is started by the event that
opens an action, and by the first event of a process that finds actions open (after a master restart). When
the package is reloaded (a re-render), the old thread notices that its module is no longer the loaded one and
exits; the next event starts the new module's thread.
"""
import logging
import sys
import threading
import time

from . import autoscaling_api, ledger
from .keys import delete_key
from .text import shown

log = logging.getLogger("salt.reactor.ec2_autoscale")

THREAD_NAME = "ec2-autoscale-lifecycle"
MAX_ATTEMPTS = 8          # CompleteLifecycleAction calls before the action is left to reconcile
BACKOFF_FIRST, BACKOFF_MAX = 2.0, 300.0
TIMEOUT_GRACE = 5.0       # seconds past an action's deadline before it counts as timed out at AWS
IDLE_WAKE = 60.0          # at most this long asleep

_wake = threading.Event()
_pass_lock = threading.Lock()  # one pass at a time (the thread, or settle() in the test harness)
_context = {}                   # the latest opts/settings/store an event handed over


def backoff(attempts):
    return min(BACKOFF_FIRST * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def ensure(opts, settings, store):
    """Hands the worker the current context and wakes it, starting it when this module has none running."""
    _context.update(opts=opts, settings=settings, store=store)
    mine = [t for t in threading.enumerate() if t.name == THREAD_NAME and getattr(t, "module", None) is
            sys.modules.get(__name__) and t.is_alive()]
    if not mine:
        thread = threading.Thread(target=_loop, name=THREAD_NAME, daemon=True)
        thread.module = sys.modules.get(__name__)
        thread.start()
    _wake.set()


def _current():
    return sys.modules.get(__name__) is _self[0]


_self = [sys.modules.get(__name__)]


def _loop():
    while _current():
        try:
            due = run_pass()
        except Exception:
            log.exception("ec2-autoscale: the lifecycle worker failed; retrying in %d s", IDLE_WAKE)
            due = time.time() + IDLE_WAKE
        _wake.wait(max(0.05, min(due - time.time(), IDLE_WAKE)))
        _wake.clear()


def settle(timeout=30.0):
    """Runs passes until nothing is due now (the test harness: a master keeps running, a test process exits)."""
    end = time.time() + timeout
    while time.time() < end:
        if run_pass() > time.time() + 0.05:
            return True
        time.sleep(0.05)
    return False


def run_pass(now=None):
    """One pass over the open actions; returns when the next one is due."""
    with _pass_lock:
        store, settings = _context.get("store"), _context.get("settings")
        if store is None:
            return time.time() + IDLE_WAKE
        due = time.time() + IDLE_WAKE
        for instance_id in sorted(ledger.open_actions(store)):
            due = min(due, _step(store, settings, instance_id, time.time() if now is None else now))
        return due


def _step(store, settings, instance_id, now):
    with ledger.locked(store):
        action = ledger.read_action(store, instance_id)
        if not action:
            return now + IDLE_WAKE
        state = action.get("state")
        if state == "draining" and now >= action.get("drain_deadline", now):
            log.warning("ec2-autoscale: lifecycle termination of %s: the drain did not return within its time limit "
                        "(reason=drain_timeout); deleting the key and continuing", instance_id)
            action.update(state="complete", result="CONTINUE", why="drain_timeout", next_attempt=now)
            ledger.write_action(store, action)
            state = "complete"
        if state in ("waiting", "draining") and now > action.get("deadline", now) + TIMEOUT_GRACE:
            log.warning("ec2-autoscale: lifecycle action of %s (hook %s) passed its heartbeat timeout unheard "
                        "(reason=lifecycle_timed_out): Auto Scaling applied the hook's DefaultResult",
                        instance_id, shown(action.get("hook")))
            ledger.close_action(store, dict(action, result=None), "timed_out", now)
            return now + IDLE_WAKE
    if state == "complete":
        return _complete(store, settings, action, now)
    if state in ("waiting", "draining"):
        return _heartbeat(store, settings, action, now)
    return now + IDLE_WAKE


def _update(store, instance_id, token, **fields):
    """Applies fields to the action if it is still the one this pass read (same token)."""
    with ledger.locked(store):
        current = ledger.read_action(store, instance_id)
        if current.get("token") != token:
            return None
        current.update(fields)
        ledger.write_action(store, current)
        return current


def _complete(store, settings, action, now):
    instance_id, token = action["instance_id"], action["token"]
    if action.get("given_up"):
        return now + IDLE_WAKE  # reconcile's now
    if action.get("next_attempt") and action["next_attempt"] > now:
        return action["next_attempt"]
    if action.get("delete_key") and not action.get("key_deleted"):
        removed = delete_key(_context.get("opts") or {}, settings.keys_dir, instance_id)
        ledger.record_termination(store, instance_id, action.get("group"), ledger.LIFECYCLE_KEY_DELETED,
                                  action.get("message_id") or "lifecycle", time.time())
        log.info("ec2-autoscale: lifecycle termination of %s in group %s: deleted its key (%s)", instance_id,
                 shown(action.get("group")), ", ".join(removed) or "none was there")
        _update(store, instance_id, token, key_deleted=True)
    try:
        autoscaling_api.complete(settings.region, action, action["result"])
    except autoscaling_api.ActionGone as exc:
        with ledger.locked(store):
            ledger.close_action(store, action, "gone", time.time())
        log.warning("ec2-autoscale: CompleteLifecycleAction %s for %s (hook %s): no such action at Auto Scaling "
                    "any more (reason=lifecycle_action_gone): %s", action["result"], instance_id,
                    shown(action.get("hook")), shown(str(exc), 200))
        return now + IDLE_WAKE
    except autoscaling_api.CallFailed as exc:
        attempts = action.get("attempts", 0) + 1
        given_up = attempts >= MAX_ATTEMPTS
        wait = backoff(attempts)
        _update(store, instance_id, token, attempts=attempts, last_error=str(exc)[:300], given_up=given_up,
                next_attempt=now + wait)
        if given_up:
            log.error("ec2-autoscale: CompleteLifecycleAction %s for %s (hook %s) failed %d times "
                      "(reason=lifecycle_call_failed): %s; left open in the ledger for `salt-autoscale "
                      "reconcile`", action["result"], instance_id, shown(action.get("hook")), attempts,
                      shown(str(exc), 200))
            return now + IDLE_WAKE
        log.warning("ec2-autoscale: CompleteLifecycleAction %s for %s (hook %s) failed (reason=lifecycle_call_failed, "
                    "attempt %d of %d, next in %d s): %s", action["result"], instance_id, shown(action.get("hook")),
                    attempts, MAX_ATTEMPTS, wait, shown(str(exc), 200))
        return now + wait
    with ledger.locked(store):
        ledger.close_action(store, action, "completed", time.time())
    log.info("ec2-autoscale: completed the lifecycle action of %s in group %s (hook %s): %s, because %s",
             instance_id, shown(action.get("group")), shown(action.get("hook")), action["result"], action.get("why"))
    return now + IDLE_WAKE


def _heartbeat(store, settings, action, now):
    deadlines = [action.get("drain_deadline")] if action.get("state") == "draining" else []
    if not action.get("progress") or action.get("heartbeat_due") is None:
        return min([action.get("deadline", now) + TIMEOUT_GRACE + 0.01] + [d for d in deadlines if d])
    if now >= action.get("global_deadline", now):
        return min([action.get("deadline", now) + TIMEOUT_GRACE + 0.01] + [d for d in deadlines if d])
    if action["heartbeat_due"] > now:
        return min([action["heartbeat_due"]] + [d for d in deadlines if d])
    try:
        autoscaling_api.heartbeat(settings.region, action)
    except autoscaling_api.ActionGone as exc:
        with ledger.locked(store):
            ledger.close_action(store, dict(action, result=None), "gone", time.time())
        log.warning("ec2-autoscale: RecordLifecycleActionHeartbeat for %s: no such action at Auto Scaling any more "
                    "(reason=lifecycle_action_gone): %s", action["instance_id"], shown(str(exc), 200))
        return now + IDLE_WAKE
    except autoscaling_api.CallFailed as exc:
        retry = now + min(action["heartbeat_every"] / 3, 30)
        _update(store, action["instance_id"], action["token"], heartbeat_due=retry, last_error=str(exc)[:300])
        log.warning("ec2-autoscale: RecordLifecycleActionHeartbeat for %s failed (reason=lifecycle_call_failed): %s",
                    action["instance_id"], shown(str(exc), 200))
        return retry
    done = time.time()
    updated = _update(store, action["instance_id"], action["token"], heartbeat_due=done + action["heartbeat_every"],
                      deadline=done + action["heartbeat_timeout"], heartbeats=action.get("heartbeats", 0) + 1)
    log.debug("ec2-autoscale: heartbeat for the lifecycle action of %s", action["instance_id"])
    return min([done + action["heartbeat_every"]] + [d for d in deadlines if d]) if updated else now + IDLE_WAKE
