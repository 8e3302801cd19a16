"""Lifecycle hooks: the open action an accepted lifecycle message leaves in the ledger, and what Salt's own
events on the master do to it (docs/reactor.md, "Lifecycle hooks").

Decisions are pure (new_launch_action, new_terminate_action, on_event): they take an action record and return
the next one. handle_minion_event() is the reactor's entry for salt/auth, salt/minion/<id>/start and
salt/job/<jid>/ret/<id>; the AWS calls are made by lifecycle_worker, never here.

Minion-sent events are trusted for one thing only: moving the open action of exactly the minion id they name.
Any accepted minion can put any tag and any data on the master's bus (masterapi._minion_event fires a batched
event's data as sent), so an event for an id without an open action is dropped after one stat, and an event
with one can at most complete that instance's hook early or late; it never admits, deletes or runs anything.
"""
import os

from . import ledger
from .policy import INSTANCE_ID_RE, lifecycle_config

READY_CONDITIONS = ("key_accepted", "minion_started", "highstate")
RESULTS = ("CONTINUE", "ABANDON")
AWS_GLOBAL_TIMEOUT = 172800  # an action ends after min(100 x HeartbeatTimeout, 48 h), heartbeats or not
DEFAULT_HEARTBEAT_TIMEOUT = 3600  # AWS's default HeartbeatTimeout
HEARTBEATS_PER_TIMEOUT = 3  # a heartbeat every third of the timeout: two can fail before the hook times out
HIGHSTATE_FUNS = ("state.highstate", "state.apply")

# Kinds of minion events, from the tag (salt_glue routes these tags here).
AUTH, START, RETURN = "auth", "start", "return"


def minion_of(tag, data):
    """(kind, minion id) of a readiness event about an instance id, or None. Cheap: string tests only."""
    if tag == "salt/auth":
        # The master's auth fires {"result", "act", "id", "pub"} (salt/channel/server.py); a salt/auth that a minion
        # sent through event.fire_master carries the whole load, cmd "_minion_event" (masterapi._minion_event).
        if data.get("cmd") == "_minion_event":
            return None
        minion, kind = data.get("id"), AUTH
    elif tag.startswith("salt/minion/") and tag.endswith("/start"):
        minion, kind = tag[12:-6], START
    elif tag.startswith("salt/job/"):
        parts = tag.split("/")
        if len(parts) != 5 or parts[3] != "ret":
            return None
        minion, kind = parts[4], RETURN
    else:
        return None
    if not isinstance(minion, str) or not INSTANCE_ID_RE.fullmatch(minion):
        return None
    return kind, minion


def cache_dir_of(opts):
    """Settings.cache_dir without building Settings (the handler's cheap path)."""
    raw = opts.get("ec2.autoscale")
    raw = raw if isinstance(raw, dict) else {}
    return str(raw.get("cache_dir") or os.path.join(opts.get("cachedir") or "/var/cache/salt/master",
                                                    "ec2-autoscale"))


def _seconds(value, default):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return float(default)
    return number if number > 0 else float(default)


def _base(facts, heartbeat_timeout, now, message_id):
    return {"instance_id": facts["instance_id"], "group": facts["group"], "hook": facts["hook"],
            "token": facts["token"], "transition": facts["event"], "warm_pool": facts.get("warm_pool"),
            "origin": facts.get("origin"), "destination": facts.get("destination"), "message_id": message_id,
            "heartbeat_timeout": heartbeat_timeout, "heartbeat_every": heartbeat_timeout / HEARTBEATS_PER_TIMEOUT,
            "opened_at": now, "deadline": now + heartbeat_timeout,
            "global_deadline": now + min(100 * heartbeat_timeout, AWS_GLOBAL_TIMEOUT),
            "result": None, "why": None, "delete_key": False, "attempts": 0, "next_attempt": None,
            "last_error": None, "given_up": False, "progress": False, "heartbeat_due": None, "heartbeats": 0}


def new_launch_action(facts, group, now, message_id):
    """The open action of a LAUNCHING message: waiting for the group's ready condition."""
    config = lifecycle_config(group).get("launch") or {}
    timeout = _seconds(config.get("heartbeat_timeout"), DEFAULT_HEARTBEAT_TIMEOUT)
    ready = config.get("ready") if config.get("ready") in READY_CONDITIONS else "key_accepted"
    if facts.get("warm_pool") == "leave" and ready == "highstate":
        # Out of the warm pool the instance boots again, but user data and the first highstate ran at its first
        # boot (before it entered the pool, which the launch hook held until then): ready once the minion is back.
        ready = "minion_started"
    action = _base(facts, timeout, now, message_id)
    action.update(kind="launch", state="waiting", ready=ready,
                  on_failure=config.get("on_failure") if config.get("on_failure") in RESULTS else "ABANDON")
    return action


def new_terminate_action(facts, group, now, message_id):
    """The open action of a TERMINATING message: draining, or straight to the key delete and CONTINUE."""
    config = lifecycle_config(group).get("terminate") or {}
    timeout = _seconds(config.get("heartbeat_timeout"), DEFAULT_HEARTBEAT_TIMEOUT)
    action = _base(facts, timeout, now, message_id)
    warm_pool = facts.get("warm_pool")
    # Back into the pool (ReuseOnScaleIn) the instance keeps its minion key: it returns with it, and its user
    # data will not run again to make a new one.
    action.update(kind="terminate", delete_key=warm_pool != "return")
    drain = config.get("drain") if isinstance(config.get("drain"), dict) else None
    if drain and warm_pool != "discard":  # an instance in the pool is stopped: nothing runs there to drain
        limit = _seconds(drain.get("timeout"), 300)
        if drain.get("state"):
            action["drain"] = {"fun": "state.sls", "mods": str(drain["state"])}
        else:
            action["drain"] = {"fun": str(drain.get("function"))}
        action.update(state="draining", drain_deadline=now + limit, progress=True,
                      heartbeat_due=now + action["heartbeat_every"])
    else:
        complete(action, "CONTINUE", "no_drain", now)
    return action


def drain_reaction(action):
    """The reaction that runs the drain on the minion (LocalClient.cmd_async, by ReactWrap.local): args form."""
    drain, instance_id = action["drain"], action["instance_id"]
    if drain["fun"] == "state.sls":
        return {"ec2_autoscale_drain_" + instance_id: {"local.state.sls": [{"tgt": instance_id},
                                                                           {"args": [{"mods": drain["mods"]}]}]}}
    return {"ec2_autoscale_drain_" + instance_id: {"local." + drain["fun"]: [{"tgt": instance_id}]}}


def complete(action, result, why, now):
    action.update(state="complete", result=result, why=why, next_attempt=now)
    return action


def _positional(fun_args):
    """The positional arguments of a job (kwargs arrive as dicts, or as key=value strings from the CLI)."""
    out, kwargs = [], {}
    for arg in fun_args if isinstance(fun_args, list) else []:
        if isinstance(arg, dict):
            kwargs.update(arg)
        elif isinstance(arg, str) and "=" in arg:
            key, _, value = arg.partition("=")
            kwargs[key] = value
        else:
            out.append(arg)
    return out, kwargs


def highstate_result(data):
    """True / False for a highstate's return (state.highstate, or state.apply with no states named), None for
    any other job or a test run. Success: retcode 0 and every state's result True (a return that is not a dict
    of states, e.g. a list of render errors, is a failure)."""
    if data.get("fun") not in HIGHSTATE_FUNS:
        return None
    positional, kwargs = _positional(data.get("fun_args"))
    if positional or str(kwargs.get("test", "")).lower() in ("true", "1") or kwargs.get("test") is True:
        return None
    ret = data.get("return")
    if data.get("retcode", 0) != 0 or data.get("success") is False or not isinstance(ret, dict):
        return False
    return all(isinstance(v, dict) and v.get("result") is True for v in ret.values())


def drain_returned(action, data):
    """Whether a job return is the drain's (by function, and for a state by the state's name)."""
    drain = action.get("drain") or {}
    if data.get("fun") != drain.get("fun"):
        return False
    if drain["fun"] != "state.sls":
        return True
    positional, kwargs = _positional(data.get("fun_args"))
    mods = positional[0] if positional else kwargs.get("mods")
    return str(mods) == drain.get("mods")


def key_accepted(pki_dir, instance_id):
    """The master's own record that the key is accepted: pki_dir/minions/<id> (Salt's Key.ACC)."""
    return os.path.isfile(os.path.join(pki_dir, "minions", instance_id))


def on_event(action, kind, data, key_is_accepted, now):
    """The action after a minion event for its instance, or None when nothing changes."""
    state = action.get("state")
    if state == "waiting":
        before = dict(action)
        if not action.get("progress"):
            action.update(progress=True, heartbeat_due=now + action["heartbeat_every"])
        ready = action.get("ready")
        if kind == AUTH and data.get("act") == "accept" and data.get("result") is True and ready == "key_accepted":
            if key_is_accepted:
                return complete(action, "CONTINUE", "key_accepted", now)
        elif kind == START and ready in ("key_accepted", "minion_started") and key_is_accepted:
            return complete(action, "CONTINUE", "minion_started", now)
        elif kind == RETURN and ready == "highstate" and key_is_accepted:
            verdict = highstate_result(data)
            if verdict is True:
                return complete(action, "CONTINUE", "highstate", now)
            if verdict is False:
                return complete(action, action.get("on_failure") or "ABANDON", "highstate_failed", now)
        return action if action != before else None
    if state == "draining" and kind == RETURN and drain_returned(action, data):
        failed = data.get("retcode", 0) != 0 or data.get("success") is False
        return complete(action, "CONTINUE", "drain_failed" if failed else "drained", now)
    return None


def open_lifecycle(store, action):
    """Records the open action (caller holds the ledger lock). Returns False for a duplicate: an action with
    this token is open already, or was completed."""
    current = ledger.read_action(store, action["instance_id"])
    if current.get("token") == action["token"] or ledger.token_completed(store, action["instance_id"],
                                                                         action["token"]):
        return False
    ledger.write_action(store, action)
    return True
