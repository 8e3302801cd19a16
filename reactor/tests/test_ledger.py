import json
import os
import subprocess
import sys
import threading
import time

from salt_autoscale_gate import instance_journal, ledger
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


def test_the_ledger_survives_a_restart_as_documented_journal_lines(pki, settings):
    perform(pki, settings, launch_of(WORKER, "worker-asg"))
    path = os.path.join(settings.cache_dir, "instances", "journal.log")
    with open(path, "rb") as handle:
        lines = handle.read().splitlines()
    assert len(lines) == 2 and instance_journal.HEADER_RE.fullmatch(lines[0] + b"\n")  # its generation first
    instance_id, size, body = lines[1].split(b" ", 2)
    assert instance_id.decode() == WORKER and int(size) == len(body)
    on_disk = json.loads(body)
    assert set(on_disk) == {"admitted_at", "admitted_how", "admitted_via", "group", "instance_id", "launched_at",
                            "ledger"}
    assert on_disk["ledger"] == ledger.FORMAT
    instance_journal._CACHE.clear()  # a new process: nothing held in memory
    assert ledger.entries(Store(settings.cache_dir, settings.keep_seconds))[WORKER] == on_disk
    assert os.listdir(os.path.dirname(path)) == ["journal.log"]  # no temp file, no file per instance


def test_a_change_is_one_appended_line_and_the_latest_line_of_an_id_wins(settings):
    store = Store(settings.cache_dir, settings.keep_seconds)
    path = instance_journal.path_of(settings.cache_dir)
    ledger.record_admission(store, WORKER, "worker-asg", ledger.STUB_WRITTEN, "m-1", 100.0)
    first = os.stat(path)
    ledger.record_termination(store, WORKER, None, ledger.KEY_DELETED, ledger.VIA_RECONCILE, 200.0)
    assert os.stat(path).st_ino == first.st_ino and os.stat(path).st_size > first.st_size  # appended, not replaced
    instance_journal._CACHE.clear()
    entry = Store(settings.cache_dir, settings.keep_seconds).instance(WORKER)
    assert entry["admitted_via"] == "m-1" and entry["terminated_how"] == ledger.KEY_DELETED


def test_a_line_a_crash_cut_short_is_ignored_and_does_not_swallow_the_next(settings):
    store = Store(settings.cache_dir, settings.keep_seconds)
    ledger.record_admission(store, WORKER, "worker-asg", ledger.STUB_WRITTEN, "m-1", 100.0)
    path = instance_journal.path_of(settings.cache_dir)
    with open(path, "ab") as handle:  # a crash in the middle of the termination's line
        handle.write(b'%s 120 {"group": "worker-asg", "instance_id": "%s", "terminated_at"' % (
            WORKER.encode(), WORKER.encode()))
    instance_journal._CACHE.clear()
    store = Store(settings.cache_dir, settings.keep_seconds)
    assert store.instance(WORKER)["admitted_via"] == "m-1"  # the entry before the cut stands
    ledger.record_admission(store, WEB, "web-asg", ledger.CLOUD_CREATE_ASKED, "m-2", 300.0)
    instance_journal._CACHE.clear()
    again = ledger.entries(Store(settings.cache_dir, settings.keep_seconds))
    assert sorted(again) == sorted([WORKER, WEB]) and "terminated_at" not in again[WORKER]


def test_another_process_sees_each_change_and_each_rewrite(settings):
    # Two processes, as the reactor and reconcile: each reader brings what it holds up to date on every read.
    store = Store(settings.cache_dir, settings.keep_seconds)
    ledger.record_admission(store, WORKER, "worker-asg", ledger.STUB_WRITTEN, "m-1", 100.0)
    assert store.instance(WORKER)["admitted_via"] == "m-1"
    assert _in_another_process(settings, "ledger.record_termination(s, %r, None, ledger.KEY_DELETED, "
                               "'reconcile', 200.0)" % WORKER) == 0
    assert store.instance(WORKER)["terminated_how"] == ledger.KEY_DELETED  # an append read incrementally
    assert _in_another_process(settings, "ledger.evict(s, max_entries=0, evict_to=0)") == 0
    assert store.instance(WORKER) == {} and ledger.entries(store) == {}  # a rewrite (another file) read again


def test_a_reader_tells_a_new_journal_from_the_one_it_read_even_on_the_same_inode(settings):
    # ext4 gives a freed inode number out again at once, and `cp backup journal.log` rewrites in place: the
    # generation header, not the inode, says which file a reader has read.
    store = Store(settings.cache_dir, settings.keep_seconds)
    for n in range(3):
        ledger.record_admission(store, "i-%08x" % n, "worker-asg", ledger.STUB_WRITTEN, "m", 100.0 + n)
    assert sorted(ledger.entries(store)) == ["i-00000000", "i-00000001", "i-00000002"]
    path = instance_journal.path_of(settings.cache_dir)
    inode = os.stat(path).st_ino
    other = Store(str(settings.cache_dir) + "-other", settings.keep_seconds)  # another master's journal
    for n in range(5):
        ledger.record_admission(other, "i-%08x" % (10 + n), "web-asg", ledger.CLOUD_CREATE_ASKED, "o", 200.0 + n)
    with open(instance_journal.path_of(other.root), "rb") as handle:
        replacement = handle.read()
    with open(path, "r+b") as handle:  # in place: same inode, longer than what the reader has read
        handle.write(replacement)
        handle.truncate()
    assert os.stat(path).st_ino == inode
    assert sorted(ledger.entries(store)) == ["i-0000000a", "i-0000000b", "i-0000000c", "i-0000000d", "i-0000000e"]
    os.unlink(path)  # deleted: forgotten, and the next append starts a journal of its own
    assert ledger.entries(store) == {}
    ledger.record_termination(store, "i-00000001", "worker-asg", ledger.KEY_DELETED, "reconcile", 300.0)
    assert _in_another_process(settings, "print(sorted(ledger.entries(s)))", output=True) == "['i-00000001']"
    assert sorted(ledger.entries(store)) == ["i-00000001"]


def test_a_journal_restored_from_its_own_backup_is_read_again(settings):
    # `cp backup journal.log` keeps the inode and the generation; what a reader read last is no longer there.
    store = Store(settings.cache_dir, settings.keep_seconds)
    path = instance_journal.path_of(settings.cache_dir)
    for n in (1, 2):
        ledger.record_admission(store, "i-%08x" % n, "worker-asg", ledger.STUB_WRITTEN, "m", 100.0 + n)
    with open(path, "rb") as handle:
        backup = handle.read()
    ledger.record_termination(store, "i-00000002", None, ledger.KEY_DELETED, "reconcile", 200.0)
    assert ledger.entries(store)["i-00000002"]["terminated_how"] == ledger.KEY_DELETED
    with open(path, "r+b") as handle:  # the restore, in place
        handle.write(backup)
        handle.truncate()
    assert os.path.getsize(path) == len(backup)  # shorter than what the reader read; the next line grows it past
    assert _in_another_process(settings, "ledger.record_admission(s, 'i-00000003', 'web-asg', "
                               "ledger.CLOUD_CREATE_ASKED, 'm' * 400, 300.0)") == 0
    entries = ledger.entries(store)
    assert sorted(entries) == ["i-00000001", "i-00000002", "i-00000003"]
    assert "terminated_at" not in entries["i-00000002"]  # as the restored file says
    ledger.record_admission(store, "i-00000004", "web-asg", ledger.CLOUD_CREATE_ASKED, "m", 400.0)
    assert _in_another_process(settings, "print(sorted(ledger.entries(s)))", output=True) == (
        "['i-00000001', 'i-00000002', 'i-00000003', 'i-00000004']")


def _in_another_process(settings, statement, output=False):
    package = os.path.dirname(os.path.dirname(ledger.__file__))
    code = ("import sys; sys.path.insert(0, %r)\nfrom salt_autoscale_gate import ledger\n"
            "from salt_autoscale_gate.store import Store\ns = Store(%r, 3900)\n%s\n"
            % (package, settings.cache_dir, statement))
    if output:
        return subprocess.check_output([sys.executable, "-c", code]).decode().strip()
    return subprocess.call([sys.executable, "-c", code])


def test_the_journal_is_compacted_once_it_holds_far_more_lines_than_entries(settings, monkeypatch):
    monkeypatch.setattr(instance_journal, "COMPACT_SLACK", 10)
    store = Store(settings.cache_dir, settings.keep_seconds)
    path = instance_journal.path_of(settings.cache_dir)
    for n in range(30):  # one entry changed 30 times: 30 lines, 1 entry
        ledger.record_admission(store, WORKER, "worker-asg", ledger.STUB_WRITTEN, "m-%d" % n, 100.0 + n)
    with open(path, "rb") as handle:
        lines = handle.read().splitlines()
    assert len(lines) <= 2 * 1 + 10  # rewritten when it passed 12 lines
    instance_journal._CACHE.clear()
    assert Store(settings.cache_dir, settings.keep_seconds).instance(WORKER)["admitted_via"] == "m-29"


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


def test_a_new_entry_past_the_bound_evicts_and_an_update_never(settings, monkeypatch):
    store = Store(settings.cache_dir, settings.keep_seconds)
    evicted = []
    monkeypatch.setattr(ledger, "evict", lambda s, *a, **k: evicted.append(len(ledger.entries(s))) or 0)
    monkeypatch.setattr(ledger, "MAX_ENTRIES", 3)
    for n in range(7):
        ledger.record_admission(store, "i-%08x" % n, "worker-asg", ledger.STUB_WRITTEN, "m", 1000.0 + n)
    assert evicted == [4, 5, 6, 7]  # each new entry past 3 (the stand-in evicts nothing)
    for n in range(7):
        ledger.record_termination(store, "i-%08x" % n, None, ledger.KEY_DELETED, "m", 2000.0 + n)
    assert evicted == [4, 5, 6, 7]  # updates do not grow the ledger


def test_the_bound_holds_with_every_new_entry(settings, monkeypatch):
    monkeypatch.setattr(ledger, "MAX_ENTRIES", 5)
    monkeypatch.setattr(ledger, "EVICT_TO", 3)
    store = Store(settings.cache_dir, settings.keep_seconds)
    for n in range(12):
        ledger.record_admission(store, "i-%08x" % n, "worker-asg", ledger.STUB_WRITTEN, "m", 1000.0 + n)
        assert len(ledger.entries(store)) <= 5
    assert "i-0000000b" in ledger.entries(store)  # the newest stays
