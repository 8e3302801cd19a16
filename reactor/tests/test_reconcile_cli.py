import json
import os
import time

from salt_autoscale_gate import ledger
from salt_autoscale_gate.reconcile_cli import answer
from salt_autoscale_gate.store import Store

from conftest import CERT_URL, launch

LIVE = "i-0123456789abcdef0"
GONE = "i-0aaaaaaaaaaaaaaaa"


def master(tmp_path, settings):
    """The opts reconcile passes (the conftest settings' own) and a pki dir with keys in every state."""
    opts = {"cachedir": str(tmp_path / "cache"), "pki_dir": str(tmp_path / "pki"), "autosign_timeout": 1,
            "ec2.autoscale": {"topic_arns": list(settings.topic_arns), "groups": settings.groups}}
    for folder, names in (("minions", [GONE, "db01"]), ("minions_pre", [GONE]), ("minions_denied", [GONE, LIVE]),
                          ("minions_rejected", []), ("minions_autosign", [GONE])):
        os.makedirs(str(tmp_path / "pki" / folder), exist_ok=True)
        for name in names:
            (tmp_path / "pki" / folder / name).write_text("key")
    (tmp_path / "pki" / "minions" / ".hidden").write_text("not a key")
    return opts


def test_snapshot_reads_names_stubs_and_the_ledger_and_writes_nothing(tmp_path, settings):
    opts = master(tmp_path, settings)
    stale = str(tmp_path / "pki" / "minions_autosign" / LIVE)
    open(stale, "w").close()
    os.utime(stale, (time.time() - 120, time.time() - 120))  # older than autosign_timeout (1 minute)
    ledger.record_admission(Store(settings.cache_dir, settings.keep_seconds), GONE, "worker-asg",
                            ledger.STUB_WRITTEN, "m-1", 5.0)
    before = sorted(os.listdir(settings.cache_dir))
    out = answer({"op": "snapshot", "opts": opts})
    assert out["keys"] == {"accepted": ["db01", GONE], "pending": [GONE], "rejected": [], "denied": [LIVE, GONE]}
    assert out["stubs"] == {GONE: {"live": True}, LIVE: {"live": False}}
    assert out["ledger"][GONE]["admitted_how"] == ledger.STUB_WRITTEN
    assert sorted(os.listdir(settings.cache_dir)) == before


def test_delete_key_removes_every_state_and_the_stub_and_records_it(tmp_path, settings):
    opts = master(tmp_path, settings)
    out = answer({"op": "apply", "opts": opts, "actions": [
        {"action": "delete_key", "instance_id": GONE, "group": "worker-asg"},
        {"action": "delete_key", "instance_id": GONE, "group": "worker-asg"}]})
    first, second = out["results"]
    assert first["state"] == "deleted" and sorted(first["removed"]) == ["accepted", "denied", "pending"]
    assert first["stub_removed"] is True
    assert second["state"] == "already_gone"  # idempotent
    assert sorted(os.listdir(str(tmp_path / "pki" / "minions"))) == [".hidden", "db01"]
    entry = ledger.entries(Store(settings.cache_dir, settings.keep_seconds))[GONE]
    assert entry["terminated_how"] == ledger.KEY_DELETED and entry["terminated_by"] == ledger.VIA_RECONCILE


def test_write_stub_is_rechecked_under_the_lock(tmp_path, settings):
    opts = master(tmp_path, settings)
    out = answer({"op": "apply", "opts": opts, "actions": [
        {"action": "write_stub", "instance_id": LIVE, "group": "worker-asg"},
        {"action": "write_stub", "instance_id": LIVE, "group": "worker-asg"},
        {"action": "write_stub", "instance_id": GONE, "group": "worker-asg"}]})  # GONE has an accepted key
    assert [r["state"] for r in out["results"]] == ["written", "not_needed", "not_needed"]
    assert os.path.exists(str(tmp_path / "pki" / "minions_autosign" / LIVE))
    entry = ledger.entries(Store(settings.cache_dir, settings.keep_seconds))[LIVE]
    assert entry["admitted_via"] == ledger.VIA_RECONCILE and entry["group"] == "worker-asg"


def test_an_id_that_is_not_an_instance_id_never_reaches_a_path(tmp_path, settings):
    opts = master(tmp_path, settings)
    out = answer({"op": "apply", "opts": opts, "actions": [
        {"action": "delete_key", "instance_id": "../minions/db01"},
        {"action": "clear_denied", "instance_id": "*"},
        {"action": "write_stub", "instance_id": "db01"}]})
    assert [r["ok"] for r in out["results"]] == [False, False, False]
    assert "db01" in os.listdir(str(tmp_path / "pki" / "minions"))
    assert not os.path.exists(str(tmp_path / "pki" / "minions_autosign" / "db01"))


def test_a_dead_letter_past_max_age_is_judged_as_the_reactor_would_have_and_recorded_as_handled(tmp_path, settings, pki):
    opts = master(tmp_path, settings)
    store = Store(settings.cache_dir, settings.keep_seconds)
    store.write_cert(CERT_URL, pki.rsa_pem)  # the reactor's certificate cache: no fetch
    sent = time.time() - 7200  # the master was down for two hours: past max_age by now
    body = json.dumps(pki.sign(launch(instance_id=LIVE, group="worker-asg",
                                      Timestamp=time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(sent)))))
    message = {"id": "r-1", "body": body, "at": sent + 3700}  # SNS retried for an hour, then dead-lettered it
    judged = answer({"op": "snapshot", "opts": opts, "dlq": [message]})["dlq"]
    assert judged[0]["verdict"] == "accepted", judged[0]["reason"]
    assert (judged[0]["outcome"], judged[0]["instance_id"], judged[0]["group"]) == ("launch", LIVE, "worker-asg")
    early = answer({"op": "snapshot", "opts": opts, "dlq": [dict(message, at=sent - 3600)]})["dlq"]
    assert early[0]["reason"] == "future_message"  # in the queue before SNS stamped it: not SNS's
    done = answer({"op": "apply", "opts": opts, "actions": [dict(message, action="message_handled")]})
    assert done["results"][0]["state"] == "recorded"
    again = answer({"op": "snapshot", "opts": opts, "dlq": [message]})["dlq"]
    assert again[0]["reason"] == "duplicate_message"
