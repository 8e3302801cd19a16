import json

import pytest

from salt_autoscale_gate.envelope import canonical_string, check_envelope, check_fields, parse_body
from salt_autoscale_gate.reasons import Rejected

from conftest import launch


def reason(fn, *args):
    with pytest.raises(Rejected) as caught:
        fn(*args)
    return caught.value.reason


def test_field_folding_replay_is_refused(pki):
    # A genuine message with a Subject; the attacker moves the Subject into MessageId and drops Subject: the
    # signed string is byte-for-byte the same, the MessageId is new.
    genuine = pki.sign(launch())
    folded = dict(genuine, MessageId=genuine["MessageId"] + "\nSubject\n" + genuine["Subject"])
    del folded["Subject"]
    assert canonical_string(folded) == canonical_string(genuine)
    assert reason(check_fields, folded) == "bad_envelope"


@pytest.mark.parametrize("field", ["Subject", "TopicArn", "Timestamp"])
def test_a_control_character_in_a_signed_field_other_than_message_is_refused(pki, field):
    envelope = pki.sign(launch())
    envelope[field] = envelope[field] + "\x1b[2J"
    assert reason(check_fields, envelope) == "bad_envelope"


def test_message_may_hold_newlines(pki):
    envelope = pki.sign(launch(Message=json.dumps({"a": 1}, indent=2)))
    assert check_fields(envelope)


def test_message_id_must_be_a_lowercase_uuid(pki):
    envelope = pki.sign(launch())
    for bad in ("m-1", envelope["MessageId"].upper(), envelope["MessageId"] + "\n"):
        assert reason(check_fields, dict(envelope, MessageId=bad)) == "bad_envelope"


def test_signature_version_and_base64_are_checked_before_any_crypto(pki):
    envelope = pki.sign(launch())
    assert reason(check_fields, dict(envelope, SignatureVersion="3")) == "bad_signature_version"
    assert reason(check_fields, dict(envelope, Signature="not base64!")) == "bad_signature"


def test_deep_json_in_the_body_and_in_post_is_not_json_not_a_crash():
    deep = "[" * 100000 + "]" * 100000
    assert reason(parse_body, {"body": deep}) == "not_json"
    nested = {}
    node = nested
    for _ in range(5000):
        node["x"] = {}
        node = node["x"]
    assert reason(parse_body, {"body": "", "post": nested}) == "not_json"


def test_body_null_or_empty_falls_back_to_post(pki):
    envelope = pki.sign(launch())
    for body in (None, ""):
        assert check_envelope(parse_body({"body": body, "post": envelope}))["MessageId"] == envelope["MessageId"]
