import os
import time

import pytest

from salt_autoscale_gate import ledger
from salt_autoscale_gate.store import Store, StoreProblem
from salt_autoscale_gate.text import sha256_hex

URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"


def test_a_fresh_store_makes_0700_directories(tmp_path):
    Store(str(tmp_path / "c"), 3900)
    for sub in ("", "certs", "handled", "instances"):
        assert os.stat(str(tmp_path / "c" / sub)).st_mode & 0o777 == 0o700


@pytest.mark.parametrize("sub", ["", "certs", "handled"])
def test_a_group_or_other_writable_directory_is_refused(tmp_path, sub):
    Store(str(tmp_path / "c"), 3900)
    os.chmod(str(tmp_path / "c" / sub), 0o777)
    with pytest.raises(StoreProblem, match="writable by group or others"):
        Store(str(tmp_path / "c"), 3900)


@pytest.mark.parametrize("sub", ["", "certs", "handled"])
def test_a_symlinked_directory_is_refused(tmp_path, sub):
    real = tmp_path / "elsewhere"
    real.mkdir(mode=0o700)
    root = tmp_path / "c"
    if sub:
        root.mkdir(mode=0o700)
        os.symlink(str(real), str(root / sub))
    else:
        os.symlink(str(real), str(root))
    with pytest.raises(StoreProblem, match="symlink"):
        Store(str(root), 3900)


def test_a_directory_owned_by_another_user_is_refused(tmp_path, monkeypatch):
    Store(str(tmp_path / "c"), 3900)
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(str(tmp_path)).st_uid + 4242)
    with pytest.raises(StoreProblem, match="not by the master's user"):
        Store(str(tmp_path / "c"), 3900)


def test_a_cached_certificate_that_is_a_symlink_is_not_believed(tmp_path, pki):
    store = Store(str(tmp_path / "c"), 3900)
    planted = tmp_path / "planted.pem"
    planted.write_bytes(pki.rsa_pem)
    os.symlink(str(planted), store.cert_path(URL))
    assert store.read_cert(URL) is None
    os.unlink(store.cert_path(URL))
    store.write_cert(URL, pki.rsa_pem)
    assert store.read_cert(URL) == pki.rsa_pem
    os.chmod(store.cert_path(URL), 0o666)
    assert store.read_cert(URL) is None


def test_handled_is_found_by_id_or_by_signed_content_and_kept_keep_seconds(tmp_path):
    store = Store(str(tmp_path / "c"), 3900)
    now = time.time()
    assert store.handled("id-1", b"signed") is None
    store.record_handled("id-1", b"signed", {"at": now})
    assert store.handled("id-1", b"other") is not None
    assert store.handled("id-2", b"signed") is not None  # the same signed content under a new MessageId
    assert store.handled("id-1", b"signed", before=now - 1) is None  # verify --at before it was handled
    assert store.handled("id-1", b"signed", now=now + 3899) is not None
    # Another process (verify) reads the same journal from scratch.
    assert Store(str(tmp_path / "c"), 3900, readonly=True).handled("id-2", b"signed") is not None


def test_a_half_written_line_is_no_record(tmp_path):
    store = Store(str(tmp_path / "c"), 3900)
    journal = store._bucket_paths(time.time())[0]
    with open(journal, "w") as handle:
        handle.write("%s %s %.3f" % (sha256_hex("x"), sha256_hex(b"y"), time.time()))  # no newline yet
    assert store.handled("x", b"y") is None
    assert Store(str(tmp_path / "c"), 3900).handled("x", b"y") is None


def test_a_tombstone_lasts_keep_seconds_and_the_record_keeps_other_keys(tmp_path):
    store = Store(str(tmp_path / "c"), 3900)
    ledger.record_admission(store, "i-0123456789abcdef0", "web-asg", ledger.STUB_WRITTEN, "m-1", 900.0)
    ledger.record_termination(store, "i-0123456789abcdef0", None, ledger.KEY_DELETE_ASKED, "m-2", 1000.0)
    assert store.terminated_at("i-0123456789abcdef0", 1000.0 + 3899) == 1000.0
    assert store.terminated_at("i-0123456789abcdef0", 1000.0 + 3901) is None
    assert store.instance("i-0123456789abcdef0")["group"] == "web-asg"
    assert store.instance("i-0123456789abcdef0")["admitted_via"] == "m-1"


def test_a_line_a_crash_cut_short_does_not_swallow_the_next_handled_record(tmp_path):
    store = Store(str(tmp_path / "c"), 3900)
    journal = store._bucket_paths(time.time())[0]
    with open(journal, "w") as handle:
        handle.write("%s %s %.3f" % (sha256_hex("x"), sha256_hex(b"y"), time.time()))  # cut short
    store.record_handled("id-2", b"signed", {"at": time.time(), "outcome": "accepted"})
    assert store.handled("id-2", b"signed") is not None
    assert Store(str(tmp_path / "c"), 3900).handled("id-2", b"signed") is not None


def test_readonly_store_of_an_absent_directory_is_empty_and_writes_nothing(tmp_path):
    store = Store(str(tmp_path / "absent"), 3900, readonly=True)
    assert store.absent and store.read_cert(URL) is None and store.handled("x", b"y") is None
    assert not (tmp_path / "absent").exists()


def test_the_two_alert_budgets_are_spent_apart(tmp_path):
    store = Store(str(tmp_path / "cache"), 3900)
    assert store.alert_allowed(300, "verified") is True
    assert store.alert_allowed(300, "verified") is False  # one mail per min_interval ...
    assert store.alert_allowed(300, "error") is True  # ... but a reactor error still gets its own
    assert store.alert_allowed(300, "error") is False


def test_a_record_appended_by_this_process_is_found_without_reading_it_back(tmp_path):
    store = Store(str(tmp_path / "cache"), 3900)
    now = time.time()
    store.record_handled("m-1", "signed-1", {"at": now, "outcome": "launch", "instance_id": "i-1"})
    store.record_handled("m-2", "signed-2", {"at": now, "outcome": "launch", "instance_id": "i-2"})
    assert store.handled("m-1", "x", now=now) == pytest.approx(now, abs=0.001)
    assert store.handled("y", "signed-2", now=now) == pytest.approx(now, abs=0.001)
    # another process appends: this one still sees it (the file grew beyond what it knows)
    path = store._bucket_paths(now)[0]
    with open(path, "a") as handle:
        handle.write("%s %s %.3f launch i-3\n" % (sha256_hex("m-3"), sha256_hex("signed-3"), now))
    store.record_handled("m-4", "signed-4", {"at": now, "outcome": "launch", "instance_id": "i-4"})
    assert store.handled("m-3", "z", now=now) is not None
    assert store.handled("m-4", "z", now=now) is not None
