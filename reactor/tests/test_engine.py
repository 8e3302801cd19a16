"""The SQS engine's core (sqs_delivery.step, executor.SaltCalls, Performer with execute): what is deleted, what
stays in the queue, what Salt is asked to do, and when a message counts as handled."""
import json
import logging
import os
import socket

import pytest

from salt_autoscale_gate import executor, ledger, sqs_delivery
from salt_autoscale_gate.settings import ConfigProblem, Settings
from salt_autoscale_gate.store import Store

from conftest import CERT_URL, TOPIC, launch

INSTANCE = "i-0123456789abcdef0"


class FakeQueue(object):
    """SQS as the engine sees it: receive hands out what is visible; a received message stays until deleted."""

    def __init__(self, bodies):
        self.messages = [{"id": "m%d" % i, "body": b, "receives": 0, "deleted": False} for i, b in enumerate(bodies)]
        self.deleted = []

    def receive(self, max_messages, wait_seconds, visibility_timeout=None):
        out = []
        for m in [m for m in self.messages if not m["deleted"]][:max_messages]:
            m["receives"] += 1
            out.append(sqs_delivery.Message(m["body"], "%s-r%d" % (m["id"], m["receives"]), m["id"], m["receives"]))
        return out

    def delete(self, receipt_handle):
        ident = receipt_handle.split("-r")[0]
        for m in self.messages:
            if m["id"] == ident:
                m["deleted"] = True
        self.deleted.append(ident)

    def left(self):
        return [m["id"] for m in self.messages if not m["deleted"]]


class FakeClient(object):
    """RunnerClient/WheelClient .low() as SyncClientMixin._low answers (full_return)."""

    def __init__(self, fail=0):
        self.calls, self.fail = [], fail

    def low(self, fun, low, print_event=True, full_return=False):
        self.calls.append((fun, low))
        if len(self.calls) <= self.fail:
            return {"success": False, "return": "Exception occurred in runner %s: Traceback (most recent call "
                                                "last):\n  ...\nRuntimeError: ssh timed out" % fun}
        iid = low["kwarg"].get("instance_id") or low["kwarg"].get("match")
        return {"success": True, "return": {iid: {"deployed": True}} if fun == "cloud.create" else {"minions": [iid]}}


def opts_for(tmp_path, **extra):
    conf = {"topic_arns": [TOPIC], "max_age": 3600, "clock_skew": 300,
            "groups": {"web-asg": {"bootstrap": "salt-cloud", "provider": "ec2"},
                       "worker-asg": {"bootstrap": "preauth"}}}
    conf.update(extra)
    opts = {"cachedir": str(tmp_path / "cache"), "pki_dir": str(tmp_path / "pki"), "ec2.autoscale": conf}
    os.makedirs(opts["pki_dir"], exist_ok=True)
    return opts


@pytest.fixture
def master(tmp_path, pki):
    def make(**extra):
        opts = opts_for(tmp_path, **extra)
        settings = Settings(opts)
        Store(settings.cache_dir, settings.keep_seconds).write_cert(CERT_URL, pki.rsa_pem)  # no fetch in tests
        return opts
    return make


def signed(pki, **kwargs):
    return json.dumps(pki.sign(launch(**kwargs)))


def run_step(opts, queue, runner=None, wheel=None):
    calls = executor.SaltCalls(opts, runner_client=runner or FakeClient(), wheel_client=wheel or FakeClient())
    return sqs_delivery.step(opts, queue, calls.run, 10, 0)


def test_a_launch_runs_cloud_create_then_records_and_deletes(master, pki, caplog):
    opts = master()
    queue, runner = FakeQueue([signed(pki)]), FakeClient()
    with caplog.at_level(logging.INFO):
        summary = run_step(opts, queue, runner=runner)
    assert summary == {"received": 1, "handled": 1, "rejected": 0, "errors": 0, "deleted": 1, "kept": 0}
    assert queue.left() == []
    (fun, low), = runner.calls
    assert fun == "cloud.create" and low["__user__"] == executor.USER
    assert low["kwarg"] == {"provider": "ec2", "instances": INSTANCE, "instance_id": INSTANCE}
    store = Store(Settings(opts).cache_dir, 3900)
    assert store.instance(INSTANCE)["admitted_how"] == ledger.CLOUD_CREATE_RUN
    assert any("runner.cloud.create" in r.getMessage() for r in caplog.records)


def test_a_hostile_message_is_deleted_with_its_warning_and_asks_salt_for_nothing(master, pki, caplog):
    opts = master()
    forged = pki.sign(launch())
    forged["Message"] = forged["Message"].replace(INSTANCE, "i-0fedcba9876543210")
    queue, runner = FakeQueue([json.dumps(forged), "not json at all"]), FakeClient()
    with caplog.at_level(logging.INFO):
        summary = run_step(opts, queue, runner=runner)
    assert summary["rejected"] == 2 and summary["deleted"] == 2 and queue.left() == []
    assert runner.calls == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert [w.split(" message_id")[0] for w in warnings] == [
        "ec2-autoscale: rejected SNS message: reason=bad_signature",
        "ec2-autoscale: rejected SNS message: reason=not_json"]
    assert os.listdir(opts["pki_dir"]) == []


def test_a_failing_runner_leaves_the_message_and_the_retry_bootstraps_once(master, pki, caplog):
    opts = master()
    queue, runner = FakeQueue([signed(pki)]), FakeClient(fail=1)
    with caplog.at_level(logging.INFO):
        first = run_step(opts, queue, runner=runner)
    assert first["errors"] == 1 and first["deleted"] == 0 and queue.left() == ["m0"]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert errors[0].startswith("ec2-autoscale: runner.cloud.create for %s failed: RuntimeError: ssh timed out "
                                "(message_id=" % INSTANCE)
    assert "it will be delivered again" in errors[0]
    # Nothing recorded as handled: the redelivery is judged afresh, not as a duplicate.
    second = run_step(opts, queue, runner=runner)
    assert second["handled"] == 1 and second["deleted"] == 1 and queue.left() == []
    third = run_step(opts, FakeQueue([queue.messages[0]["body"]]), runner=runner)
    assert third["rejected"] == 1  # duplicate_message: the same SNS message again is deleted, not re-run
    assert [c[0] for c in runner.calls] == ["cloud.create", "cloud.create"]


def test_a_duplicate_delivery_reacts_once(master, pki):
    opts = master()
    body = signed(pki, group="worker-asg")
    queue = FakeQueue([body, body])
    summary = run_step(opts, queue)
    assert summary["handled"] == 1 and summary["rejected"] == 1 and summary["deleted"] == 2
    assert os.listdir(os.path.join(opts["pki_dir"], "minions_autosign")) == [INSTANCE]


def test_a_terminate_deletes_the_key_through_wheel_then_records_it(master, pki):
    opts = master()
    stub_dir = os.path.join(opts["pki_dir"], "minions_autosign")
    os.makedirs(stub_dir)
    open(os.path.join(stub_dir, INSTANCE), "w").close()
    wheel = FakeClient()
    terminate = launch(group="worker-asg", event="autoscaling:EC2_INSTANCE_TERMINATE")
    summary = run_step(opts, FakeQueue([json.dumps(pki.sign(terminate))]), wheel=wheel)
    assert summary["handled"] == 1 and summary["deleted"] == 1
    assert [(f, low["kwarg"]) for f, low in wheel.calls] == [("key.delete", {"match": INSTANCE})]
    assert os.listdir(stub_dir) == []
    record = Store(Settings(opts).cache_dir, 3900).instance(INSTANCE)
    assert record["terminated_how"] == ledger.KEY_DELETE_RUN


def test_a_failing_key_delete_records_no_termination(master, pki):
    opts = master()
    terminate = pki.sign(launch(group="worker-asg", event="autoscaling:EC2_INSTANCE_TERMINATE"))
    queue = FakeQueue([json.dumps(terminate)])
    summary = run_step(opts, queue, wheel=FakeClient(fail=5))
    assert summary["errors"] == 1 and queue.left() == ["m0"]
    assert Store(Settings(opts).cache_dir, 3900).instance(INSTANCE) == {}


def test_a_master_not_marked_to_bootstrap_does_not_run_cloud_create(master, pki, caplog):
    opts = master(performs_once_per_instance=False)
    queue, runner = FakeQueue([signed(pki)]), FakeClient()
    with caplog.at_level(logging.INFO):
        summary = run_step(opts, queue, runner=runner)
    assert summary["handled"] == 1 and summary["deleted"] == 1 and runner.calls == []
    assert any("bootstrapped by another master (performs_once_per_instance is false here)" in r.getMessage()
               for r in caplog.records)


def test_an_unreachable_certificate_host_leaves_the_message(master, pki, monkeypatch):
    opts = master()
    with socket.socket() as s:  # a port nothing listens on: the fetch through the proxy fails at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:%d" % port)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:%d" % port)
    other = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-other.pem"
    queue = FakeQueue([json.dumps(pki.sign(launch(SigningCertURL=other)))])
    summary = run_step(opts, queue)
    assert summary["rejected"] == 1 and summary["kept"] == 1 and queue.left() == ["m0"]


def test_a_config_error_deletes_nothing(tmp_path, pki):
    queue = FakeQueue([json.dumps(pki.sign(launch()))])
    summary = run_step({"cachedir": str(tmp_path)}, queue)
    assert summary["errors"] == 1 and queue.left() == ["m0"]


def test_performs_once_per_instance_must_be_a_boolean(tmp_path):
    with pytest.raises(ConfigProblem, match="performs_once_per_instance must be true or false"):
        Settings(opts_for(tmp_path, performs_once_per_instance="yes"))


def test_a_cluster_keeps_keys_in_cluster_pki_dir_and_stubs_in_the_masters_own_pki_dir(tmp_path):
    opts = opts_for(tmp_path)
    opts.update(cluster_id="c1", cluster_pki_dir=str(tmp_path / "shared"))
    settings = Settings(opts)
    assert settings.keys_dir == str(tmp_path / "shared")
    assert settings.pki_dir == str(tmp_path / "pki")
    opts.update(cluster_id=None)
    assert Settings(opts).keys_dir == str(tmp_path / "pki")  # cluster_pki_dir alone is not a cluster
    opts.update(cluster_id="c1")
    opts["ec2.autoscale"]["pki_dir"] = "/srv/pki"
    assert Settings(opts).keys_dir == "/srv/pki" and Settings(opts).pki_dir == "/srv/pki"


@pytest.mark.parametrize("ret, failed", [
    ({"success": True, "return": {INSTANCE: {"deployed": True}}}, None),
    ({"success": False, "return": "Exception occurred in runner cloud.create: Traceback\n  x\nKeyError: 'a'"},
     "KeyError: 'a'"),
    ({"success": True, "return": False}, "cloud.create returned False"),
    ({"success": True, "return": {INSTANCE: False}}, "did not bootstrap"),
    ({"success": True, "return": {INSTANCE: {"Error": "no ssh"}}}, "did not bootstrap"),
    ({"success": True, "return": "\nPassed invalid arguments: x() got an unexpected keyword"}, "Passed invalid"),
    (None, "no job result"),
])
def test_what_counts_as_a_failed_cloud_create(ret, failed):
    action = {"action": "runner", "fun": "cloud.create", "kwargs": {"instance_id": INSTANCE}}
    got = executor.failure_of(action, ret)
    assert (got is None) if failed is None else (failed in got)


def test_a_client_that_cannot_run_is_an_action_failure(tmp_path):
    class Broken(object):
        def low(self, *a, **k):
            raise OSError("job cache is read-only")

    calls = executor.SaltCalls({}, wheel_client=Broken())
    with pytest.raises(executor.ActionFailed, match="wheel.key.delete for i-1 could not run: job cache is read-only"):
        calls.run({"action": "wheel", "fun": "key.delete", "kwargs": {"match": "i-1"}})


def test_reconcile_on_a_clustered_master_reads_and_deletes_keys_in_cluster_pki_dir(tmp_path):
    from salt_autoscale_gate.reconcile_cli import answer
    opts = opts_for(tmp_path)
    shared = tmp_path / "shared"
    opts.update(cluster_id="c1", cluster_pki_dir=str(shared), autosign_timeout=120)
    for folder in ("minions", "minions_pre", "minions_denied", "minions_rejected"):
        os.makedirs(str(shared / folder))
    (shared / "minions" / INSTANCE).write_text("key")
    os.makedirs(os.path.join(opts["pki_dir"], "minions_autosign"))
    open(os.path.join(opts["pki_dir"], "minions_autosign", "i-0aaaaaaaaaaaaaaaa"), "w").close()
    snap = answer({"op": "snapshot", "opts": opts})
    assert snap["keys"]["accepted"] == [INSTANCE]
    assert list(snap["stubs"]) == ["i-0aaaaaaaaaaaaaaaa"]  # stubs: the master's own pki_dir
    out = answer({"op": "apply", "opts": opts, "actions": [
        {"action": "delete_key", "instance_id": INSTANCE, "group": "web-asg"}]})
    assert out["results"][0]["removed"] == ["accepted"]
    assert os.listdir(str(shared / "minions")) == []


def test_a_message_that_went_stale_while_the_master_was_down_is_left_for_the_dead_letter_queue(master, pki):
    import datetime
    opts = master()
    old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)
    queue = FakeQueue([json.dumps(pki.sign(launch(Timestamp=old.strftime("%Y-%m-%dT%H:%M:%S.000Z"))))])
    summary = run_step(opts, queue)
    assert summary["rejected"] == 1 and summary["kept"] == 1 and queue.left() == ["m0"]
