"""Attested admission on the master (salt_autoscale_gate.attest): a verified SNS launch of an attested group
announces the instance (no stub); the instance's POST, as salt-api fires it, admits exactly its key into
pki/minions/<id>; every attack is one WARNING line, nothing written, and the possible attacks alert."""
import base64
import json
import logging
import os
import stat
import time

import pytest

from salt_autoscale_gate import attest, ledger, salt_glue
from salt_autoscale_gate.actions import Performer, plan
from salt_autoscale_gate.certificate import Certificates, FetchLimits, OpensslBackend
from salt_autoscale_gate.gate import Context, judge
from salt_autoscale_gate.settings import Settings
from salt_autoscale_gate.store import Store

from conftest import TOPIC, launch
from test_identity import ACCOUNT, INSTANCE, document, iso

TAG = "salt/netapi/hook/ec2/autoscale/attest"


class Alerts(object):
    def __init__(self):
        self.sent = []

    def send(self, subject, text, rate_limited=True):
        self.sent.append(subject)


@pytest.fixture
def master(tmp_path, iid):
    opts = {"cachedir": str(tmp_path / "cache"), "pki_dir": str(tmp_path / "pki"),
            "ec2.autoscale": {"topic_arns": [TOPIC], "max_age": 3600, "clock_skew": 300,
                              "attest": {"window": 900, "extra_certs_dir": iid.certs_dir},
                              "groups": {"web-asg": {"bootstrap": "attested"},
                                         "worker-asg": {"bootstrap": "preauth"}}}}
    os.makedirs(str(tmp_path / "pki" / "minions"))
    return opts


def announce(pki, opts, instance_id=INSTANCE, group="web-asg"):
    """A signed SNS launch judged and performed as the reactor does (the certificate served by a fake fetch)."""
    settings = Settings(opts)
    store = Store(settings.cache_dir, settings.keep_seconds)
    certs = Certificates(store, 5, backend=OpensslBackend(), limits=FetchLimits(),
                         fetch=lambda url, timeout: (200, pki.rsa_pem), memory={})
    decision = judge({"body": json.dumps(pki.sign(launch(instance_id, group)))},
                     Context(settings, store, certs, time.time()))
    assert decision.accepted, decision.to_dict()
    actions = plan(decision, settings)
    Performer({}, settings, store, Alerts()).perform(decision, actions)
    return actions


def body(iid, doc=None, key="minion", instance_id=INSTANCE, signer="us-east-1"):
    doc = document(pendingTime=iso(time.time() - 60)) if doc is None else doc
    return json.dumps({"instance_id": instance_id, "document_b64": base64.b64encode(doc).decode(),
                       "signature": iid.sign(doc, signer=signer).replace("\n", ""),
                       "public_key_b64": base64.b64encode(iid.pub(key).encode()).decode()})


def post(opts, text, tag=TAG, alerts=None, engine=False):
    """The event salt-api's Webhook fires for the POST ({"body", "post", "headers"}; rest_cherrypy), or the
    webhook engine's ({"headers", "body": bytes}; salt/engines/webhook.py), through salt_glue as the entry
    calls it."""
    if engine:
        data = {"headers": {"Content-Type": "application/json"}, "body": text.encode()}
        tag = "salt/engines/hook/ec2/autoscale/attest"
    else:
        data = {"body": text, "post": json.loads(text), "headers": {"Content-Type": "application/json"}}
    if alerts is None:
        return salt_glue.run(opts, data, tag)
    settings = Settings(opts)
    store = Store(settings.cache_dir, settings.keep_seconds)
    return attest.handle(opts, data, settings, store, alerts, time.time())


def minion_key(opts, instance_id=INSTANCE, folder="minions"):
    path = os.path.join(opts["pki_dir"], folder, instance_id)
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return handle.read()


def refusals(caplog):
    return [r.getMessage() for r in caplog.records if "refused attestation" in r.getMessage()]


def test_an_attested_launch_records_the_announcement_and_writes_no_stub(pki, master):
    actions = announce(pki, master)
    assert [a["action"] for a in actions] == ["record_announcement", "record_handled"]
    assert not os.path.exists(os.path.join(master["pki_dir"], "minions_autosign"))
    settings = Settings(master)
    entry = Store(settings.cache_dir, settings.keep_seconds).instance(INSTANCE)
    assert entry["group"] == "web-asg" and entry["announced_topic"] == TOPIC
    assert "admitted_how" not in entry  # nothing is admitted until the instance attests


def test_the_instances_post_admits_exactly_its_key(pki, iid, master, caplog):
    caplog.set_level(logging.INFO)
    announce(pki, master)
    pending = os.path.join(master["pki_dir"], "minions_pre")
    os.makedirs(pending)
    with open(os.path.join(pending, INSTANCE), "w") as handle:  # salt-minion presented it before the post
        handle.write(iid.pub())
    assert post(master, body(iid)) == {}
    assert minion_key(master) == iid.pub().strip() + "\n"
    assert stat.S_IMODE(os.stat(os.path.join(master["pki_dir"], "minions", INSTANCE)).st_mode) == 0o644
    assert minion_key(master, folder="minions_pre") is None  # as salt-cloud's accept_key does
    assert not os.path.exists(os.path.join(master["pki_dir"], "minions_autosign"))
    settings = Settings(master)
    entry = Store(settings.cache_dir, settings.keep_seconds).instance(INSTANCE)
    assert entry["admitted_how"] == ledger.ATTESTED_KEY_WRITTEN
    assert entry["attested_key"] == iid.pub().strip() + "\n"
    assert [m for m in caplog.messages if "admitted its key" in m]
    assert not refusals(caplog)
    # The instance cannot see the verdict and posts again: nothing changes, no warning.
    caplog.clear()
    assert post(master, body(iid)) == {}
    assert minion_key(master) == iid.pub().strip() + "\n"
    assert not refusals(caplog) and [m for m in caplog.messages if "admitted already" in m]


def test_the_webhook_engines_event_is_judged_alike(pki, iid, master):
    announce(pki, master)
    post(master, body(iid), engine=True)
    assert minion_key(master) == iid.pub().strip() + "\n"


def assert_refused(caplog, reason, opts):
    lines = refusals(caplog)
    assert len(lines) == 1 and "reason=%s " % reason in lines[0], lines
    assert [r.levelname for r in caplog.records if "refused attestation" in r.getMessage()] == ["WARNING"]
    caplog.clear()


def test_attacks_are_refused_with_their_reason_and_write_nothing(pki, iid, master, caplog):
    alerts = Alerts()
    # Never launched (no announcement).
    post(master, body(iid), alerts=alerts)
    assert_refused(caplog, "instance_not_announced", master)
    announce(pki, master)
    # Another account, another region, a stale document, a tampered one, the wrong certificate, a bad key.
    cases = [
        (body(iid, document(accountId="999999999999", pendingTime=iso(time.time() - 60))), "account_not_allowed"),
        (body(iid, document(region="eu-west-1", pendingTime=iso(time.time() - 60)), signer="eu-west-1"),
         "region_not_allowed"),
        (body(iid, document(pendingTime=iso(time.time() - 901))), "stale_document"),
        (body(iid, signer="forger"), "wrong_certificate"),
        (body(iid, key="small"), "bad_public_key"),
        ("{}", "bad_request"),
    ]
    doc = document(pendingTime=iso(time.time() - 60))
    tampered = json.loads(body(iid, doc))
    tampered["document_b64"] = base64.b64encode(doc.replace(b"t3.micro", b"t3.large")).decode()
    cases.append((json.dumps(tampered), "document_mismatch"))
    for text, reason in cases:
        post(master, text, alerts=alerts)
        assert_refused(caplog, reason, master)
    assert minion_key(master) is None and alerts.sent == []
    # The real instance, then a key swapped onto its document: a replay, and an alert.
    post(master, body(iid, doc), alerts=alerts)
    assert not refusals(caplog)
    post(master, body(iid, doc, key="other"), alerts=alerts)
    assert_refused(caplog, "document_replayed", master)
    # A second key with another genuinely signed document for the same id: key_conflict, and an alert.
    post(master, body(iid, document(pendingTime=iso(time.time() - 30)), key="other"), alerts=alerts)
    assert_refused(caplog, "key_conflict", master)
    assert minion_key(master) == iid.pub().strip() + "\n"  # the first key stays
    assert len(alerts.sent) == 2 and all("possible attack" in s for s in alerts.sent)


def test_a_key_already_in_pki_minions_is_never_replaced(pki, iid, master, caplog):
    announce(pki, master)
    path = os.path.join(master["pki_dir"], "minions", INSTANCE)
    with open(path, "w") as handle:
        handle.write(iid.pub("other"))
    alerts = Alerts()
    post(master, body(iid), alerts=alerts)
    assert_refused(caplog, "key_conflict", master)
    assert minion_key(master) == iid.pub("other") and alerts.sent


def test_a_preauth_instance_cannot_attest(pki, iid, master, caplog):
    announce(pki, master, group="worker-asg")  # preauth: a stub, no announcement to attest against
    post(master, body(iid), alerts=Alerts())
    assert_refused(caplog, "instance_not_announced", master)


def test_a_terminated_instance_cannot_attest(pki, iid, master, caplog):
    announce(pki, master)
    settings = Settings(master)
    ledger.record_termination(Store(settings.cache_dir, settings.keep_seconds), INSTANCE, "web-asg",
                              ledger.KEY_DELETE_ASKED, "m", time.time())
    post(master, body(iid), alerts=Alerts())
    assert_refused(caplog, "instance_terminated", master)


def test_routing_by_tag(pki, iid, master, caplog):
    announce(pki, master)
    # The attest body on the SNS tag is judged as SNS (and rejected as such); nothing is written.
    post(master, body(iid), tag="salt/netapi/hook/ec2/autoscale")
    assert [m for m in caplog.messages if "rejected SNS message" in m] and minion_key(master) is None
    post(master, body(iid))
    assert minion_key(master) == iid.pub().strip() + "\n"


def test_a_bad_extra_certificate_directory_is_one_error_line(pki, iid, master, caplog, tmp_path):
    master["ec2.autoscale"]["attest"]["extra_certs_dir"] = str(tmp_path / "missing")
    post(master, body(iid))
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "extra instance identity certificates" in errors[0].getMessage()
    assert minion_key(master) is None


def test_the_account_and_region_come_from_the_trusted_topics(master):
    master["ec2.autoscale"]["topic_arns"] = [TOPIC, "arn:aws:sns:eu-west-1:210987654321:other"]
    pol = attest.policy(Settings(master), 0)
    assert pol.account_ids == {ACCOUNT, "210987654321"} and pol.regions == {"us-east-1", "eu-west-1"}
    assert pol.window_seconds == 900 and pol.groups == {"web-asg"}
