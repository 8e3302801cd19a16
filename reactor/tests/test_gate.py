import time

from salt_autoscale_gate import ledger
from salt_autoscale_gate.certificate import Certificates, FetchLimits, OpensslBackend
from salt_autoscale_gate.gate import CHECK_NAMES, Context, judge
from salt_autoscale_gate.store import Store

from conftest import launch


class CountingFetch(object):
    def __init__(self, pem=b""):
        self.pem, self.urls = pem, []

    def __call__(self, url, timeout):
        self.urls.append(url)
        return (200, self.pem) if self.pem else (404, b"")


def context(settings, fetch, now=None):
    store = Store(settings.cache_dir, settings.keep_seconds)
    certs = Certificates(store, 5, backend=OpensslBackend(), limits=FetchLimits(), fetch=fetch, memory={})
    return Context(settings, store, certs, now or time.time())


def body(envelope):
    import json
    return {"body": json.dumps(envelope)}


def test_the_checks_run_in_the_documented_order():
    assert CHECK_NAMES == ("envelope", "fields", "topic", "cert_url", "timestamp", "dedupe", "message",
                           "instance", "certificate", "signature")


def test_no_cheap_check_failure_ever_causes_a_request(pki, settings):
    fetch = CountingFetch()
    ctx = context(settings, fetch)
    bad = [
        launch(TopicArn="arn:aws:sns:us-east-1:999999999999:evil"),
        launch(MessageId="not-a-uuid"),
        launch(Timestamp="2001-01-01T00:00:00.000Z"),
        launch(group="not-configured"),
        launch(instance_id="*"),
        dict(launch(), SigningCertURL="https://sns.eu-west-1.amazonaws.com/x.pem"),  # another region
    ]
    for envelope in bad:
        decision = judge(body(pki.sign(envelope)), ctx)
        assert not decision.accepted
        assert decision.checks[-2]["result"] == "not_run"
    assert fetch.urls == []


def test_a_genuine_launch_is_accepted_and_explain_reports_every_check(pki, settings):
    ctx = context(settings, CountingFetch(pki.rsa_pem))
    decision = judge(body(pki.sign(launch())), ctx, explain=True)
    assert decision.accepted, decision.to_dict()
    assert [c["result"] for c in decision.checks] == ["pass"] * len(CHECK_NAMES)


def test_explain_reports_a_good_signature_on_a_message_rejected_for_its_content(pki, settings):
    ctx = context(settings, CountingFetch(pki.rsa_pem))
    decision = judge(body(pki.sign(launch(group="not-configured"))), ctx, explain=True)
    results = dict((c["name"], (c["result"], c["reason"])) for c in decision.checks)
    assert decision.reason == "unknown_group"
    assert results["signature"] == ("pass", None)
    assert results["instance"][0] == "not_run"


def test_a_launch_after_its_terminate_is_refused(pki, settings):
    ctx = context(settings, CountingFetch(pki.rsa_pem))
    ledger.record_termination(ctx.store, "i-0123456789abcdef0", "web-asg", ledger.KEY_DELETE_ASKED, "m",
                              time.time() - 10)
    assert judge(body(pki.sign(launch())), ctx).reason == "instance_terminated"
    terminate = launch(event="autoscaling:EC2_INSTANCE_TERMINATE")
    assert judge(body(pki.sign(terminate)), ctx).accepted
