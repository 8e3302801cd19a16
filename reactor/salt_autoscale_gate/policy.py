"""The checks on what a message claims, all pure and cheap: topic, certificate URL, age, event, group, id."""
import datetime
import re

from .envelope import NOTIFICATION, SUBSCRIPTION, strict_json
from .reasons import Rejected
from .text import shown

LAUNCH = "autoscaling:EC2_INSTANCE_LAUNCH"
TERMINATE = "autoscaling:EC2_INSTANCE_TERMINATE"
LAUNCH_ERROR = "autoscaling:EC2_INSTANCE_LAUNCH_ERROR"
TERMINATE_ERROR = "autoscaling:EC2_INSTANCE_TERMINATE_ERROR"
TEST_NOTIFICATION = "autoscaling:TEST_NOTIFICATION"
LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING"
TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING"
# A lifecycle hook's message has no Event: its LifecycleTransition says which hook held the instance.
LIFECYCLE_OUTCOMES = {LAUNCHING: "lifecycle_launch", TERMINATING: "lifecycle_terminate"}
# (transition, Origin, Destination) -> what the move means for Salt (docs/reactor.md, "Warm pools"). A pair not
# listed (none is documented today) is read as the plain move of its transition, never rejected.
WARM_POOL_MOVES = {
    (LAUNCHING, "EC2", "AutoScalingGroup"): None,           # a plain launch
    (LAUNCHING, "EC2", "WarmPool"): "enter",                # first boot, then stopped in the pool
    (LAUNCHING, "WarmPool", "AutoScalingGroup"): "leave",   # started again from the pool, into service
    (TERMINATING, "AutoScalingGroup", "EC2"): None,         # a plain termination
    (TERMINATING, "AutoScalingGroup", "WarmPool"): "return",  # scale-in back into the pool (reuse policy)
    (TERMINATING, "WarmPool", "EC2"): "discard",            # terminated from the pool (stopped, not running)
}
OUTCOMES = {
    LAUNCH: "launch",
    TERMINATE: "terminate",
    LAUNCH_ERROR: "launch_error",
    TERMINATE_ERROR: "terminate_error",
    TEST_NOTIFICATION: "test_notification",
}

# Regexes are ASCII-only ([0-9], not \d, which also matches other scripts' digits) and used with fullmatch, so
# a trailing newline never slips through. URLs are checked as strings, not parsed: URL parsers disagree on
# backslashes, whitespace and '@', and the string check leaves nothing to disagree on.
REGION_RE = re.compile(r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9]+")
CERT_URL_RE = re.compile(r"https://sns\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/[A-Za-z0-9._/-]*\.pem")
SUBSCRIBE_URL_RE = re.compile(r"https://sns\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/[\x21\x22\x24-\x5b\x5d-\x7e]*")


def in_its_partition(match):
    """The China regions (cn-*) and only they are served from amazonaws.com.cn."""
    return bool(match.group(2)) == match.group(1).startswith("cn-")
INSTANCE_ID_RE = re.compile(r"i-[0-9a-f]{8}(?:[0-9a-f]{9})?")
TIMESTAMP_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})")


def topic_parts(topic_arn):
    """(region, account) of arn:aws:sns:<region>:<account>:<name>, or (None, None)."""
    parts = topic_arn.split(":")
    return (parts[3], parts[4]) if len(parts) >= 6 else (None, None)


def check_topic(envelope, settings):
    if envelope["TopicArn"] not in settings.topic_arns:
        raise Rejected("unknown_topic", "TopicArn is not one of ec2.autoscale.topic_arns")


def check_cert_url(envelope):
    """An SNS certificate URL in the topic's own region (a genuine topic's messages are signed there)."""
    url = envelope["SigningCertURL"]
    match = CERT_URL_RE.fullmatch(url)
    if not match or not REGION_RE.fullmatch(match.group(1)) or not in_its_partition(match):
        raise Rejected("cert_url_invalid", "SigningCertURL %s is not an SNS certificate URL" % shown(url))
    region = topic_parts(envelope["TopicArn"])[0]
    if match.group(1) != region:
        raise Rejected("cert_url_invalid", "SigningCertURL %s is not in the topic's region %s"
                       % (shown(url), shown(region)))
    return url


def parse_timestamp(text):
    match = TIMESTAMP_RE.fullmatch(text)
    if not match:
        raise ValueError(text)
    parts = match.groups()
    # One C call checks the date (raises on Feb 30, hour 24, ...) and gives the epoch seconds.
    seconds = datetime.datetime(*map(int, parts[:6]), tzinfo=datetime.timezone.utc).timestamp()
    seconds += float(parts[6] or 0)
    zone = parts[7]
    if zone != "Z":
        zone_h, zone_m = int(zone[1:3]), int(zone[4:6])
        if zone_h > 23 or zone_m > 59:
            raise ValueError(text)
        offset = (zone_h * 60 + zone_m) * 60
        seconds -= offset if zone[0] == "+" else -offset
    return seconds


def check_timestamp(envelope, settings, now):
    try:
        sent = parse_timestamp(envelope["Timestamp"])
    except ValueError:
        raise Rejected("bad_timestamp", "Timestamp %s is not ISO-8601" % shown(envelope["Timestamp"]))
    if now - sent > settings.max_age:
        raise Rejected("stale_message", "sent %d s ago (max_age %d s)" % (now - sent, settings.max_age))
    if sent - now > settings.clock_skew:
        raise Rejected("future_message", "sent %d s in the future (clock_skew %d s)"
                       % (sent - now, settings.clock_skew))
    return sent


def parsed_message(envelope):
    """A Notification's Message as JSON, or None when it is not JSON."""
    try:
        return strict_json(envelope["Message"])
    except ValueError:
        return None


def check_message(envelope, settings, message):
    """What the message is about: for a Notification the Auto Scaling event inside (event, group, account),
    for a SubscriptionConfirmation its SubscribeURL. Returns the facts the reaction needs. message: the
    Notification's parsed_message (parsed once: the ledger reads the launch's StartTime from it too)."""
    kind = envelope["Type"]
    region, account = topic_parts(envelope["TopicArn"])
    if kind == SUBSCRIPTION:
        url = envelope["SubscribeURL"]
        match = SUBSCRIBE_URL_RE.fullmatch(url)
        if not match or match.group(1) != region or not in_its_partition(match):
            raise Rejected("subscribe_url_invalid", "SubscribeURL is not an SNS URL in the topic's region")
        return {"outcome": "subscription_confirmation", "subscribe_url": url}
    if kind != NOTIFICATION:
        return {"outcome": "unsubscribe_confirmation"}
    if not isinstance(message, dict):
        raise Rejected("bad_message_json", "Message is not a JSON object")
    if "LifecycleTransition" in message and "Event" not in message:
        return check_lifecycle_message(message, settings, account)
    event = message.get("Event")
    if not isinstance(event, str) or event not in OUTCOMES:
        raise Rejected("unknown_event", "Event %s" % shown(event))
    group = message.get("AutoScalingGroupName")
    if not isinstance(group, str) or group not in settings.groups:
        raise Rejected("unknown_group", "AutoScalingGroupName %s is not in ec2.autoscale.groups" % shown(group))
    if message.get("AccountId") != account:
        raise Rejected("account_mismatch", "AccountId %s is not the topic's account" % shown(message.get("AccountId")))
    status = message.get("StatusMessage")
    return {"outcome": OUTCOMES[event], "event": event, "group": group,
            "instance_id": message.get("EC2InstanceId"), "status": status if isinstance(status, str) else ""}


LIFECYCLE_TOKEN_RE = re.compile(r"[0-9a-fA-F-]{1,64}")  # a UUID (AWS: 36 characters, up to 64)
HOOK_NAME_RE = re.compile(r"[A-Za-z0-9\-_/]{1,255}")  # PutLifecycleHook's pattern for LifecycleHookName


def check_lifecycle_message(message, settings, account):
    """A lifecycle hook's notification: acted on only for a hook the group's `lifecycle` names, with its
    transition, from the topic's own account."""
    transition = message.get("LifecycleTransition")
    if transition not in LIFECYCLE_OUTCOMES:
        raise Rejected("unknown_event", "LifecycleTransition %s" % shown(transition))
    group = message.get("AutoScalingGroupName")
    if not isinstance(group, str) or group not in settings.groups:
        raise Rejected("unknown_group", "AutoScalingGroupName %s is not in ec2.autoscale.groups" % shown(group))
    if message.get("AccountId") != account:
        raise Rejected("account_mismatch", "AccountId %s is not the topic's account" % shown(message.get("AccountId")))
    hook, token = message.get("LifecycleHookName"), message.get("LifecycleActionToken")
    if not isinstance(hook, str) or not HOOK_NAME_RE.fullmatch(hook):
        raise Rejected("bad_lifecycle_message", "LifecycleHookName %s" % shown(hook))
    if not isinstance(token, str) or not LIFECYCLE_TOKEN_RE.fullmatch(token):
        raise Rejected("bad_lifecycle_message", "LifecycleActionToken %s" % shown(token))
    kind = "launch" if transition == LAUNCHING else "terminate"
    config = lifecycle_config(settings.groups[group]).get(kind)
    if not config or config.get("hook_name") != hook:
        raise Rejected("unknown_hook", "hook %s (%s) is not groups.%s.lifecycle.%s.hook_name" % (
            shown(hook), transition, shown(group), kind))
    origin, destination = message.get("Origin"), message.get("Destination")
    metadata = message.get("NotificationMetadata")
    return {"outcome": LIFECYCLE_OUTCOMES[transition], "event": transition, "group": group,
            "instance_id": message.get("EC2InstanceId"), "hook": hook, "token": token,
            "origin": origin if isinstance(origin, str) else None,
            "destination": destination if isinstance(destination, str) else None,
            "warm_pool": WARM_POOL_MOVES.get((transition, origin, destination)),
            "metadata": metadata if isinstance(metadata, str) else None, "status": ""}


def lifecycle_config(group):
    """groups.<g>.lifecycle as a dict ({} when absent or not a mapping)."""
    value = group.get("lifecycle") if isinstance(group, dict) else None
    return value if isinstance(value, dict) else {}


def check_instance_id(facts):
    """Launch and terminate need a well-formed id (it becomes a glob in wheel.key.delete: no `*` may get
    there); the _ERROR events may carry none."""
    instance_id = facts.get("instance_id")
    well_formed = isinstance(instance_id, str) and INSTANCE_ID_RE.fullmatch(instance_id) is not None
    if facts.get("event") in (LAUNCH, TERMINATE, LAUNCHING, TERMINATING) and not well_formed:
        raise Rejected("bad_instance_id", "EC2InstanceId %s" % shown(instance_id))
    facts["instance_id"] = instance_id if well_formed else None
    return facts["instance_id"]
