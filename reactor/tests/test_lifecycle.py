"""Lifecycle hooks: the message check, the open action's transitions on Salt's events, and the worker's AWS
calls (against a fake of autoscaling_api)."""
import json
import os

import pytest

from salt_autoscale_gate import autoscaling_api, ledger, lifecycle, lifecycle_worker, policy, salt_glue
from salt_autoscale_gate.reasons import REMEDIES, Rejected
from salt_autoscale_gate.settings import Settings
from salt_autoscale_gate.store import Store

from conftest import TOPIC, iso

INSTANCE = "i-0123456789abcdef0"
TOKEN = "bcd2f1b8-9a78-44d3-8a7a-4dd07d7cf635"
LIFECYCLE = {"launch": {"hook_name": "salt-autoscale-launch", "ready": "highstate", "on_failure": "ABANDON",
                        "heartbeat_timeout": 900},
             "terminate": {"hook_name": "salt-autoscale-terminate", "heartbeat_timeout": 600,
                           "drain": {"state": "drain", "timeout": 300}}}


def opts_for(tmp_path, lifecycle_config=LIFECYCLE):
    return {"cachedir": str(tmp_path / "cache"), "pki_dir": str(tmp_path / "pki"),
            "ec2.autoscale": {"topic_arns": [TOPIC], "region": "us-east-1", "max_age": 3600, "clock_skew": 300,
                              "groups": {"web-asg": {"bootstrap": "preauth", "lifecycle": lifecycle_config},
                                         "plain-asg": {"bootstrap": "preauth"}}}}


def message(transition="autoscaling:EC2_INSTANCE_LAUNCHING", hook="salt-autoscale-launch", group="web-asg",
            origin="EC2", destination="AutoScalingGroup", **extra):
    """The lifecycle notification as the Auto Scaling user guide shows it (Amazon SNS / SQS target)."""
    m = {"Origin": origin, "LifecycleHookName": hook, "Destination": destination, "AccountId": "123456789012",
         "RequestId": "4f0e3b8c-1111-2222-3333-444455556666", "LifecycleTransition": transition,
         "AutoScalingGroupName": group, "Service": "AWS Auto Scaling", "Time": iso(), "EC2InstanceId": INSTANCE,
         "LifecycleActionToken": TOKEN, "NotificationMetadata": "salt-autoscale"}
    m.update(extra)
    return {"Type": "Notification", "TopicArn": TOPIC, "Message": json.dumps(m)}


@pytest.fixture
def master(tmp_path):
    opts = opts_for(tmp_path)
    os.makedirs(os.path.join(opts["pki_dir"], "minions"))
    settings = Settings(opts)
    return opts, settings, Store(settings.cache_dir, settings.keep_seconds)


def facts_of(env, settings):
    return policy.check_message(env, settings, policy.parsed_message(env))


# ── the message ──

def test_a_launching_message_for_the_configured_hook_is_understood(master):
    facts = facts_of(message(), master[1])
    assert facts["outcome"] == "lifecycle_launch" and facts["token"] == TOKEN and facts["warm_pool"] is None
    assert facts["hook"] == "salt-autoscale-launch" and facts["instance_id"] == INSTANCE


@pytest.mark.parametrize("env,reason", [
    (message(hook="someone-elses-hook"), "unknown_hook"),
    (message(group="plain-asg"), "unknown_hook"),  # the group has no lifecycle
    (message(transition="autoscaling:EC2_INSTANCE_TERMINATING"), "unknown_hook"),  # the launch hook's name
    (message(group="other-asg"), "unknown_group"),
    (message(AccountId="999999999999"), "account_mismatch"),
    (message(LifecycleActionToken=None), "bad_lifecycle_message"),
    (message(LifecycleActionToken="../x"), "bad_lifecycle_message"),
    (message(LifecycleHookName=7), "bad_lifecycle_message"),
    (message(transition="autoscaling:EC2_INSTANCE_REBOOTING"), "unknown_event"),
])
def test_only_configured_hooks_from_the_topics_account_are_acted_on(master, env, reason):
    with pytest.raises(Rejected) as caught:
        facts_of(env, master[1])
    assert caught.value.reason == reason and reason in REMEDIES


@pytest.mark.parametrize("transition,origin,destination,move", [
    ("autoscaling:EC2_INSTANCE_LAUNCHING", "EC2", "WarmPool", "enter"),
    ("autoscaling:EC2_INSTANCE_LAUNCHING", "WarmPool", "AutoScalingGroup", "leave"),
    ("autoscaling:EC2_INSTANCE_TERMINATING", "AutoScalingGroup", "WarmPool", "return"),
    ("autoscaling:EC2_INSTANCE_TERMINATING", "WarmPool", "EC2", "discard"),
    ("autoscaling:EC2_INSTANCE_LAUNCHING", "Somewhere", "Else", None),  # undocumented: the plain move, no error
])
def test_warm_pool_moves_are_handled_never_rejected(master, transition, origin, destination, move):
    hook = "salt-autoscale-launch" if "LAUNCHING" in transition else "salt-autoscale-terminate"
    facts = facts_of(message(transition, hook, origin=origin, destination=destination), master[1])
    assert facts["warm_pool"] == move


# ── the open action and Salt's events ──

def launch_action(settings, now=1000.0, **config):
    group = {"lifecycle": {"launch": dict(LIFECYCLE["launch"], **config)}}
    return lifecycle.new_launch_action(facts_of(message(), settings), group, now, "m-1")


def test_a_launch_waits_for_the_first_highstate_and_succeeds_on_an_all_true_return(master):
    action = launch_action(master[1])
    assert action["state"] == "waiting" and action["deadline"] == 1900.0 and action["heartbeat_due"] is None
    action = lifecycle.on_event(action, lifecycle.AUTH, {"act": "accept", "result": True, "id": INSTANCE}, True, 1010)
    assert action["state"] == "waiting" and action["progress"] and action["heartbeat_due"] == 1310.0
    ret = {"fun": "state.highstate", "fun_args": [], "retcode": 0, "id": INSTANCE,
           "return": {"pkg_|-nginx_|-nginx_|-installed": {"result": True}, "service_|-nginx_|-nginx_|-running": {"result": True}}}
    done = lifecycle.on_event(action, lifecycle.RETURN, ret, True, 1500)
    assert (done["state"], done["result"], done["why"]) == ("complete", "CONTINUE", "highstate")


@pytest.mark.parametrize("ret", [
    {"fun": "state.apply", "fun_args": [], "retcode": 2, "return": {"a": {"result": False}}},
    {"fun": "state.highstate", "fun_args": [], "retcode": 0, "return": {"a": {"result": True}, "b": {"result": False}}},
    {"fun": "state.highstate", "fun_args": [], "retcode": 1, "return": ["Rendering SLS 'base:web' failed"]},
])
def test_a_failed_highstate_gives_on_failure(master, ret):
    done = lifecycle.on_event(launch_action(master[1]), lifecycle.RETURN, ret, True, 1500)
    assert (done["result"], done["why"]) == ("ABANDON", "highstate_failed")
    done = lifecycle.on_event(launch_action(master[1], on_failure="CONTINUE"), lifecycle.RETURN, ret, True, 1500)
    assert done["result"] == "CONTINUE"


@pytest.mark.parametrize("ret", [
    {"fun": "state.apply", "fun_args": ["web"], "retcode": 0, "return": {}},            # a named state, not highstate
    {"fun": "state.highstate", "fun_args": ["test=True"], "retcode": 0, "return": {"a": {"result": None}}},
    {"fun": "state.apply", "fun_args": [{"test": True}], "retcode": 0, "return": {"a": {"result": None}}},
    {"fun": "test.ping", "fun_args": [], "retcode": 0, "return": True},
])
def test_other_jobs_and_test_runs_are_not_the_highstate(master, ret):
    action = lifecycle.on_event(launch_action(master[1]), lifecycle.RETURN, ret, True, 1500)
    assert action["state"] == "waiting"


def test_key_accepted_needs_the_masters_accepted_key_too(master):
    action = launch_action(master[1], ready="key_accepted")
    auth = {"act": "accept", "result": True, "id": INSTANCE}
    assert lifecycle.on_event(dict(action), lifecycle.AUTH, auth, False, 1010)["state"] == "waiting"
    assert lifecycle.on_event(dict(action), lifecycle.AUTH, dict(auth, act="pend"), True, 1010)["state"] == "waiting"
    assert lifecycle.on_event(dict(action), lifecycle.AUTH, auth, True, 1010)["result"] == "CONTINUE"


def test_out_of_the_warm_pool_highstate_readiness_becomes_the_minion_starting_again(master):
    facts = facts_of(message(origin="WarmPool", destination="AutoScalingGroup"), master[1])
    action = lifecycle.new_launch_action(facts, {"lifecycle": LIFECYCLE}, 1000.0, "m")
    assert action["ready"] == "minion_started"


def test_minion_of_is_cheap_and_strict():
    assert lifecycle.minion_of("salt/auth", {"act": "accept", "id": INSTANCE}) == ("auth", INSTANCE)
    assert lifecycle.minion_of("salt/auth", {"cmd": "_minion_event", "id": INSTANCE}) is None  # sent by a minion
    assert lifecycle.minion_of("salt/minion/%s/start" % INSTANCE, {}) == ("start", INSTANCE)
    assert lifecycle.minion_of("salt/job/20260101/ret/%s" % INSTANCE, {}) == ("return", INSTANCE)
    for tag in ("salt/job/20260101/ret/web01", "salt/job/20260101/new", "salt/minion/*/start",
                "salt/job/1/ret/i-0123456789abcdef0/x", "salt/minion/../start"):
        assert lifecycle.minion_of(tag, {}) is None


def test_a_terminate_drains_then_deletes_and_continues(master):
    facts = facts_of(message("autoscaling:EC2_INSTANCE_TERMINATING", "salt-autoscale-terminate",
                             origin="AutoScalingGroup", destination="EC2"), master[1])
    action = lifecycle.new_terminate_action(facts, {"lifecycle": LIFECYCLE}, 1000.0, "m")
    assert action["state"] == "draining" and action["drain_deadline"] == 1300.0 and action["delete_key"]
    assert lifecycle.drain_reaction(action) == {"ec2_autoscale_drain_" + INSTANCE: {"local.state.sls": [
        {"tgt": INSTANCE}, {"args": [{"mods": "drain"}]}]}}
    other = {"fun": "state.sls", "fun_args": ["web"], "retcode": 0}
    assert lifecycle.on_event(dict(action), lifecycle.RETURN, other, True, 1100) is None
    drained = {"fun": "state.sls", "fun_args": [{"mods": "drain", "__kwarg__": True}], "retcode": 0}
    done = lifecycle.on_event(action, lifecycle.RETURN, drained, True, 1100)
    assert (done["state"], done["result"], done["why"]) == ("complete", "CONTINUE", "drained")


def test_back_into_the_warm_pool_keeps_the_key_and_a_stopped_instance_is_not_drained(master):
    back = facts_of(message("autoscaling:EC2_INSTANCE_TERMINATING", "salt-autoscale-terminate",
                            origin="AutoScalingGroup", destination="WarmPool"), master[1])
    action = lifecycle.new_terminate_action(back, {"lifecycle": LIFECYCLE}, 1000.0, "m")
    assert action["state"] == "draining" and not action["delete_key"]
    gone = facts_of(message("autoscaling:EC2_INSTANCE_TERMINATING", "salt-autoscale-terminate",
                            origin="WarmPool", destination="EC2"), master[1])
    action = lifecycle.new_terminate_action(gone, {"lifecycle": LIFECYCLE}, 1000.0, "m")
    assert (action["state"], action["result"], action["delete_key"]) == ("complete", "CONTINUE", True)


# ── the reactor's handler: nothing without an open action ──

def test_a_forged_event_for_an_instance_without_an_open_action_does_nothing(master, tmp_path):
    opts = master[0]
    before = sorted(os.walk(str(tmp_path)))
    for tag, data in (("salt/auth", {"act": "accept", "result": True, "id": INSTANCE}),
                      ("salt/minion/%s/start" % INSTANCE, {"id": INSTANCE}),
                      ("salt/job/1/ret/%s" % INSTANCE, {"fun": "state.highstate", "retcode": 0, "return": {}})):
        assert salt_glue.run(opts, data, tag) == {}
    assert sorted(os.walk(str(tmp_path))) == before


def test_the_handler_moves_the_open_action_of_exactly_that_id(master, monkeypatch):
    opts, settings, store = master
    monkeypatch.setattr(lifecycle_worker, "ensure", lambda *a: None)
    with ledger.locked(store):
        assert lifecycle.open_lifecycle(store, launch_action(settings, ready="key_accepted"))
        assert not lifecycle.open_lifecycle(store, launch_action(settings))  # the same token: a duplicate
    other = "i-0fedcba9876543210"
    assert salt_glue.run(opts, {"act": "accept", "result": True, "id": other}, "salt/auth") == {}
    assert ledger.read_action(store, INSTANCE)["state"] == "waiting"
    with open(os.path.join(opts["pki_dir"], "minions", INSTANCE), "w") as handle:
        handle.write("key")
    assert salt_glue.run(opts, {"act": "accept", "result": True, "id": INSTANCE}, "salt/auth") == {}
    assert ledger.read_action(store, INSTANCE)["result"] == "CONTINUE"


# ── the worker ──

class FakeApi(object):
    def __init__(self, fail=0, gone=False):
        self.calls, self.fail, self.gone = [], fail, gone

    def complete(self, region, action, result):
        self.calls.append(("complete", region, action["token"], result))
        self._maybe_fail()

    def heartbeat(self, region, action):
        self.calls.append(("heartbeat", region, action["token"]))
        self._maybe_fail()

    def _maybe_fail(self):
        if self.gone:
            raise autoscaling_api.ActionGone("ValidationError: No active Lifecycle Action found")
        if self.fail:
            self.fail -= 1
            raise autoscaling_api.CallFailed("Throttling: Rate exceeded")


@pytest.fixture
def worker(master, monkeypatch):
    opts, settings, store = master
    api = FakeApi()
    monkeypatch.setattr(lifecycle_worker.autoscaling_api, "complete", api.complete)
    monkeypatch.setattr(lifecycle_worker.autoscaling_api, "heartbeat", api.heartbeat)
    monkeypatch.setattr(lifecycle_worker, "_context", {"opts": opts, "settings": settings, "store": store})
    return api


def test_a_decided_action_is_completed_once_and_remembered(master, worker):
    opts, settings, store = master
    action = lifecycle.complete(launch_action(settings), "CONTINUE", "highstate", 1000.0)
    with ledger.locked(store):
        ledger.write_action(store, action)
    lifecycle_worker.run_pass(now=1001.0)
    lifecycle_worker.run_pass(now=1002.0)
    assert worker.calls == [("complete", "us-east-1", TOKEN, "CONTINUE")]
    assert not ledger.action_exists(settings.cache_dir, INSTANCE)
    assert ledger.token_completed(store, INSTANCE, TOKEN)
    with ledger.locked(store):
        assert not lifecycle.open_lifecycle(store, launch_action(settings))  # the same message again


def test_a_failed_call_is_retried_with_backoff_then_left_open_for_reconcile(master, worker):
    opts, settings, store = master
    worker.fail = 100
    with ledger.locked(store):
        ledger.write_action(store, lifecycle.complete(launch_action(settings), "ABANDON", "highstate_failed", 0.0))
    now = 0.0
    for _ in range(30):
        now = max(now + 0.001, lifecycle_worker.run_pass(now=now))
    action = ledger.read_action(store, INSTANCE)
    assert len(worker.calls) == lifecycle_worker.MAX_ATTEMPTS and action["given_up"]
    assert action["attempts"] == lifecycle_worker.MAX_ATTEMPTS and "Throttling" in action["last_error"]
    assert [lifecycle_worker.backoff(n) for n in (1, 2, 3, 9, 20)] == [2.0, 4.0, 8.0, 300.0, 300.0]


def test_heartbeats_only_after_progress_and_every_third_of_the_timeout(master, worker):
    opts, settings, store = master
    action = launch_action(settings)
    with ledger.locked(store):
        ledger.write_action(store, action)
    assert lifecycle_worker.run_pass(now=1200.0) >= 1900.0 and worker.calls == []  # no sign of life: no heartbeat
    with ledger.locked(store):
        ledger.write_action(store, lifecycle.on_event(action, lifecycle.START, {}, True, 1200.0))
    lifecycle_worker.run_pass(now=1499.0)
    assert worker.calls == []
    lifecycle_worker.run_pass(now=1501.0)
    assert worker.calls == [("heartbeat", "us-east-1", TOKEN)]
    assert ledger.read_action(store, INSTANCE)["heartbeats"] == 1


def test_a_drain_that_does_not_return_in_time_proceeds(master, worker):
    opts, settings, store = master
    key = os.path.join(opts["pki_dir"], "minions", INSTANCE)
    with open(key, "w") as handle:
        handle.write("key")
    facts = facts_of(message("autoscaling:EC2_INSTANCE_TERMINATING", "salt-autoscale-terminate",
                             origin="AutoScalingGroup", destination="EC2"), settings)
    with ledger.locked(store):
        ledger.write_action(store, lifecycle.new_terminate_action(facts, {"lifecycle": LIFECYCLE}, 1000.0, "m"))
    lifecycle_worker.run_pass(now=1299.0)
    assert os.path.exists(key) and [c[0] for c in worker.calls] == ["heartbeat"]  # draining: heartbeats too
    lifecycle_worker.run_pass(now=1301.0)
    assert not os.path.exists(key) and worker.calls[1:] == [("complete", "us-east-1", TOKEN, "CONTINUE")]
    assert store.instance(INSTANCE)["terminated_how"] == ledger.LIFECYCLE_KEY_DELETED


def test_an_action_gone_at_aws_is_closed_not_retried(master, worker):
    opts, settings, store = master
    worker.gone = True
    with ledger.locked(store):
        ledger.write_action(store, lifecycle.complete(launch_action(settings), "CONTINUE", "highstate", 0.0))
    lifecycle_worker.run_pass(now=1.0)
    lifecycle_worker.run_pass(now=100.0)
    assert len(worker.calls) == 1 and not ledger.action_exists(settings.cache_dir, INSTANCE)


def test_every_reason_code_the_lifecycle_code_logs_has_a_remedy_and_a_readme_entry():
    import re
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    codes = set()
    for name in ("lifecycle_worker.py", "lifecycle.py", "policy.py"):
        with open(os.path.join(here, "salt_autoscale_gate", name)) as handle:
            text = handle.read()
        codes |= set(re.findall(r"reason=([a-z_]+)", text)) | set(re.findall(r'Rejected\("([a-z_]+)"', text))
    with open(os.path.join(os.path.dirname(here), "README.md")) as handle:
        readme = handle.read()
    assert {"lifecycle_call_failed", "drain_timeout", "unknown_hook", "bad_lifecycle_message"} <= codes
    assert sorted(c for c in codes if c not in REMEDIES or "| `%s` |" % c not in readme) == []


# ── several masters: only the primary holds, drains and completes ──

class _Decision(object):
    def __init__(self, facts):
        self.facts, self.envelope = facts, {"MessageId": "m-1"}


@pytest.mark.parametrize("primary", [True, False])
def test_only_the_primary_master_opens_lifecycle_actions(tmp_path, primary):
    from salt_autoscale_gate.actions import plan
    opts = opts_for(tmp_path)
    opts["ec2.autoscale"]["performs_once_per_instance"] = primary
    settings = Settings(opts)
    launch = [a["action"] for a in plan(_Decision(facts_of(message(), settings)), settings)]
    terminate = [a["action"] for a in plan(_Decision(facts_of(message(
        "autoscaling:EC2_INSTANCE_TERMINATING", "salt-autoscale-terminate", origin="AutoScalingGroup",
        destination="EC2"), settings)), settings)]
    # Every master writes its own stub and, leaving, removes its own stub and key; one completes the action.
    assert launch[0] == "write_autosign_stub" and ("open_lifecycle" in launch) == primary
    assert terminate[0] == "remove_autosign_stub" and ("open_lifecycle" in terminate) == primary
    assert ("wheel" in terminate) == (not primary)
