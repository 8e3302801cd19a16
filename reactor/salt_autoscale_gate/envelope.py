"""The SNS envelope: the raw body, the JSON object, its fields' types and syntax, and the string SNS signs."""
import base64
import json
import re

from .reasons import Rejected
from .text import shown, utf8

MAX_BODY_BYTES = 256 * 1024

NOTIFICATION = "Notification"
SUBSCRIPTION = "SubscriptionConfirmation"
UNSUBSCRIPTION = "UnsubscribeConfirmation"
_COMMON = ("MessageId", "TopicArn", "Message", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL")
REQUIRED_FIELDS = {
    NOTIFICATION: _COMMON,
    SUBSCRIPTION: _COMMON + ("Token", "SubscribeURL"),
    UNSUBSCRIPTION: _COMMON + ("Token", "SubscribeURL"),
}
SIGNED_FIELDS = {
    NOTIFICATION: ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    SUBSCRIPTION: ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    UNSUBSCRIPTION: ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
}

# SNS MessageIds are lower-case UUIDs. Requiring one closes field folding: SNS signs "Name\nvalue\n" pairs, so a
# MessageId holding "\nSubject\n..." would re-create a genuine signed string with a new id.
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Any C0/C1 control character or DEL; Message alone may hold newlines (the subscription text has them).
CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f]")


def _refuse(constant):
    raise ValueError("%s is not JSON" % constant)


# One decoder for the process: json.loads with a keyword builds a new one per call, a measurable share of an
# event's cost in Salt's reactor loop.
_DECODER = json.JSONDecoder(parse_constant=_refuse)


def strict_json(text):
    """json.loads without NaN/Infinity (RFC 8259); ValueError for anything else, deep nesting included."""
    try:
        if isinstance(text, str):
            return _DECODER.decode(text)
        return json.loads(text, parse_constant=_refuse)  # bytes: json.loads detects their encoding
    except RecursionError:
        # Nesting deeper than Python's parser can follow: no SNS message looks like that.
        raise ValueError("nested too deeply")


def parse_body(data):
    """The JSON document of the event: salt-api's data['body'] (the raw text SNS signed) when there is one,
    else data['post'] (an event fired by other means, or a form-encoded POST whose raw body is empty)."""
    if not isinstance(data, dict):
        raise Rejected("bad_envelope", "the event data is not a mapping")
    raw = data.get("body")
    if isinstance(raw, bytes):
        if len(raw) > MAX_BODY_BYTES:
            raise Rejected("body_too_large", "%d bytes" % len(raw))
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Rejected("not_json", "the body is not UTF-8 text")
    if isinstance(raw, str) and raw:
        size = len(utf8(raw))
        if size > MAX_BODY_BYTES:
            raise Rejected("body_too_large", "%d bytes" % size)
        try:
            return strict_json(raw)
        except ValueError:
            raise Rejected("not_json", "the body is not JSON")
    post = data.get("post")
    if isinstance(post, dict) and post:
        try:
            size = len(json.dumps(post, default=str))
        except (RecursionError, ValueError):
            raise Rejected("not_json", "the posted data is nested too deeply")
        if size > MAX_BODY_BYTES:
            raise Rejected("body_too_large", "the posted data is over 256 KiB")
        return post
    raise Rejected("not_json", "the event has no body")


def check_envelope(envelope):
    """A JSON object of a known Type with the string fields that Type needs."""
    if not isinstance(envelope, dict):
        raise Rejected("bad_envelope", "the body is JSON but not an object")
    kind = envelope.get("Type")
    if not isinstance(kind, str):
        raise Rejected("bad_envelope", "Type is missing or not a string")
    if kind not in REQUIRED_FIELDS:
        raise Rejected("unknown_type", "Type %s" % shown(kind))
    for field in REQUIRED_FIELDS[kind]:
        if not isinstance(envelope.get(field), str):
            raise Rejected("bad_envelope", "%s is missing or not a string" % field)
    if "Subject" in envelope and not isinstance(envelope["Subject"], str):
        raise Rejected("bad_envelope", "Subject is not a string")
    return envelope


def check_fields(envelope):
    """The syntax SNS always uses: a UUID MessageId, no control character in a signed field but Message, a
    known SignatureVersion and a base64 Signature. Returns the decoded signature."""
    if not UUID_RE.fullmatch(envelope["MessageId"]):
        raise Rejected("bad_envelope", "MessageId %s is not a UUID" % shown(envelope["MessageId"]))
    for name in SIGNED_FIELDS[envelope["Type"]]:
        if name != "Message" and name in envelope and CONTROL_RE.search(envelope[name]):
            raise Rejected("bad_envelope", "%s holds a control character" % name)
    version = envelope["SignatureVersion"]
    if version not in ("1", "2"):
        raise Rejected("bad_signature_version", "SignatureVersion %s" % shown(version))
    try:
        signature = base64.b64decode(envelope["Signature"].encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise Rejected("bad_signature", "Signature is not base64")
    if not signature:
        raise Rejected("bad_signature", "Signature is empty")
    return signature


def canonical_string(envelope):
    """What SNS signs: "Name\\nvalue\\n" for each signed field present, in order (bytes)."""
    fields = SIGNED_FIELDS[envelope["Type"]]
    return utf8("".join("%s\n%s\n" % (name, envelope[name]) for name in fields if name in envelope))
