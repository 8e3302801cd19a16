import json
import os
import threading
import time

from salt_autoscale_gate import ledger
from salt_autoscale_gate.actions import Performer, plan
from salt_autoscale_gate.certificate import Certificates, FetchLimits, OpensslBackend
from salt_autoscale_gate.gate import Context, judge
from salt_autoscale_gate.store import Store

from conftest import launch

WORKER = "i-0123456789abcdef0"  # launched in worker-asg (preauth)
WEB = "i-0fedcba9876543210"  # launched in web-asg (salt-cloud)


class NoAlerts(object):
    def send(self, *args, **kwargs):
        pass


def perform(pki, settings, envelope, now=None):
    """Judge and perform one signed message as the reactor does; returns (decision, store)."""
    store = Store(settings.cache_dir, settings.keep_seconds)
    certs = Certificates(store, 5, backend=OpensslBackend(), limits=FetchLimits(),
                         fetch=lambda url, timeout: (200, pki.rsa_pem), memory={})
    decision = judge({"body": json.dumps(pki.sign(envelope))}, Context(settings, store, certs, now or time.time()))
    if decision.accepted:
        Performer({}, settings, store, NoAlerts(), now=lambda: now or time.time()).perform(decision, plan(decision, settings))
    return decision, store


def launch_of(instance_id, group, **message):
    envelope = launch(instance_id=instance_id, group=group)
    body = json.loads(envelope["Message"])
    body.update(message)
    envelope["Message"] = json.dumps(body)
    return envelope


def test_a_preauth_launch_is_recorded_as_a_written_stub_with_its_launch_time(pki, settings):
    envelope = launch_of(WORKER, "worker-asg", StartTime="2026-01-01T00:00:10.500Z")
    decision, store = perform(pki, settings, envelope, now=time.time())
    assert decision.accepted
    entry = ledger.entries(store)[WORKER]
    assert entry["group"] == "worker-asg"
    assert entry["admitted_how"] == ledger.STUB_WRITTEN
    assert entry["admitted_via"] == envelope["MessageId"]
    assert entry["launched_at"] == 1767225610.5
    assert "terminated_at" not in entry


def test_a_salt_cloud_launch_is_recorded_as_cloud_create_asked(pki, settings):
    _, store = perform(pki, settings, launch_of(WEB, "web-asg"))
    assert ledger.entries(store)[WEB]["admitted_how"] == ledger.CLOUD_CREATE_ASKED


def test_a_termination_keeps_the_admission_and_the_tombstone_still_refuses_a_late_launch(pki, settings):
    perform(pki, settings, launch_of(WORKER, "worker-asg"))
    terminate = launch(instance_id=WORKER, group="worker-asg", event="autoscaling:EC2_INSTANCE_TERMINATE")
    _, store = perform(pki, settings, terminate)
    entry = ledger.entries(store)[WORKER]
    assert entry["admitted_how"] == ledger.STUB_WRITTEN
    assert entry["terminated_how"] == ledger.KEY_DELETE_ASKED
    assert entry["terminated_by"] == terminate["MessageId"]
    late, _ = perform(pki, settings, launch_of(WORKER, "worker-asg"))
    assert late.reason == "instance_terminated"


def test_a_rejected_message_writes_no_entry(pki, settings):
    decision, store = perform(pki, settings, launch_of(WORKER, "not-configured"))
    assert decision.reason == "unknown_group"
    assert ledger.entries(store) == {}


def test_the_ledger_survives_a_restart_as_documented_json_files(pki, settings):
    perform(pki, settings, launch_of(WORKER, "worker-asg"))
    path = os.path.join(settings.cache_dir, "instances", WORKER + ".json")
    with open(path) as handle:
        on_disk = json.load(handle)
    assert set(on_disk) == {"admitted_at", "admitted_how", "admitted_via", "group", "instance_id", "launched_at",
                            "ledger"}
    assert on_disk["ledger"] == ledger.FORMAT
    reopened = Store(settings.cache_dir, settings.keep_seconds)  # a new process: nothing held in memory
    assert ledger.entries(reopened)[WORKER] == on_disk
    assert [n for n in os.listdir(os.path.dirname(path)) if n.startswith(".")] == []  # no temp file left


def test_a_reused_id_admitted_again_loses_its_old_termination(settings):
    store = Store(settings.cache_dir, settings.keep_seconds)
    ledger.record_admission(store, WORKER, "worker-asg", ledger.STUB_WRITTEN, "m-1", 100.0)
    ledger.record_termination(store, WORKER, None, ledger.KEY_DELETED, ledger.VIA_RECONCILE, 200.0)
    assert ledger.entries(store)[WORKER]["terminated_how"] == ledger.KEY_DELETED
    ledger.record_admission(store, WORKER, "worker-asg", ledger.STUB_WRITTEN, "m-2", 300.0)
    entry = ledger.entries(store)[WORKER]
    assert entry["admitted_via"] == "m-2" and "terminated_at" not in entry


def test_the_bound_evicts_terminated_entries_first_oldest_first_then_the_oldest_live(settings):
    store = Store(settings.cache_dir, settings.keep_seconds)
    ids = ["i-%08x" % n for n in range(8)]
    for n, instance_id in enumerate(ids):
        ledger.record_admission(store, instance_id, "worker-asg", ledger.STUB_WRITTEN, "m", 1000.0 + n)
    for n, instance_id in enumerate([ids[5], ids[2], ids[6]]):  # terminated in this order
        ledger.record_termination(store, instance_id, None, ledger.KEY_DELETED, ledger.VIA_RECONCILE, 2000.0 + n)
    assert ledger.evict(store, max_entries=8, evict_to=4) == 0  # within the bound: nothing goes
    ledger.record_admission(store, "i-000000ff", "worker-asg", ledger.STUB_WRITTEN, "m", 3000.0)  # 9 > 8
    assert ledger.evict(store, max_entries=8, evict_to=4) == 5
    # the three terminated ones went first (all of them), then the two oldest live ones (ids 0 and 1)
    assert sorted(ledger.entries(store)) == sorted([ids[3], ids[4], ids[7], "i-000000ff"])


def test_a_writer_waits_for_the_lock_that_reconcile_holds(settings):
    store = Store(settings.cache_dir, settings.keep_seconds)
    written = threading.Event()

    def write():
        ledger.record_admission(store, WORKER, "worker-asg", ledger.STUB_WRITTEN, "m", 1.0)
        written.set()

    with ledger.locked(store):
        writer = threading.Thread(target=write)
        writer.start()
        assert not written.wait(0.3)  # blocked on the flock
        assert ledger.entries(store) == {}
    writer.join(5)
    assert written.is_set() and WORKER in ledger.entries(store)


def test_new_entries_count_the_ledger_now_and_then_and_updates_never(settings, monkeypatch):
    # Counting is a listdir of the whole folder: the reactor does it on a process's first new entry and then on
    # every EVICT_CHECK_EVERY-th, never for an update of an existing entry.
    store = Store(settings.cache_dir, settings.keep_seconds)
    counted = []
    monkeypatch.setattr(ledger, "evict", lambda s, *a, **k: counted.append(1) or 0)
    monkeypatch.setattr(ledger, "EVICT_CHECK_EVERY", 3)
    monkeypatch.setattr(ledger, "_new_entries", [0])
    for n in range(7):
        ledger.record_admission(store, "i-%08x" % n, "worker-asg", ledger.STUB_WRITTEN, "m", 1000.0 + n)
    assert len(counted) == 3  # entries 1, 4 and 7
    for n in range(7):
        ledger.record_termination(store, "i-%08x" % n, None, ledger.KEY_DELETED, "m", 2000.0 + n)
    assert len(counted) == 3  # updates do not grow the ledger
