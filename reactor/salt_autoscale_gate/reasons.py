"""The reason codes (part of the interface: log lines, verify --json, docs) and what to do about each."""


class Rejected(Exception):
    """A failed check: the documented reason code and a sentence about this message (no secret)."""

    def __init__(self, reason, detail=""):
        Exception.__init__(self, reason)
        self.reason = reason
        self.detail = detail


REMEDIES = {
    "body_too_large": "SNS messages are at most 256 KiB; this is not an SNS delivery (or it was captured with "
                      "extra data).",
    "not_json": "Pass the raw HTTP body that SNS posted (a JSON object), not a log line or an email.",
    "bad_envelope": "The message lacks a field SNS always sends, a field is not a string, or a field has a form "
                    "SNS never sends (a MessageId that is not a UUID, a control character): capture the raw body "
                    "again, unedited.",
    "unknown_type": "Only Notification, SubscriptionConfirmation and UnsubscribeConfirmation come from SNS.",
    "cert_url_invalid": "Genuine SNS messages name a certificate at https://sns.<region>.amazonaws.com/...pem in "
                        "the topic's own region; anything else is forged or tampered with.",
    "cert_fetch_failed": "Check that this host reaches https://sns.<region>.amazonaws.com (DNS, firewall, "
                         "https_proxy, CA bundle in SSL_CERT_FILE), then retry.",
    "cert_invalid": "The signing certificate URL did not serve one X.509 PEM certificate with HTTP 200; retry "
                    "later, or treat the message as forged.",
    "cert_expired": "The signing certificate is outside its validity dates: check this host's clock; an old "
                    "capture can be judged as of its arrival with --at.",
    "bad_signature_version": "SNS signs with SignatureVersion 1 (SHA1) or 2 (SHA256); set the topic's "
                             "SignatureVersion to 2.",
    "bad_signature": "The signature does not match the content: the message was changed after SNS signed it "
                     "(even whitespace inside a value counts) or it is forged.",
    "unknown_topic": "Only the topics in sns.topic_arn / sns.extra_topic_arns are trusted; if this topic is "
                     "yours, add it there and run `salt-autoscale render` again.",
    "bad_timestamp": "SNS timestamps are ISO-8601 (e.g. 2026-01-01T12:00:00.000Z); the message was altered.",
    "stale_message": "The reactor refuses messages older than reactor.max_age_seconds (replay protection); check "
                     "the master's clock, or raise the limit.",
    "future_message": "The message is dated in the future beyond reactor.clock_skew_seconds: check this host's "
                      "clock (NTP).",
    "duplicate_message": "SNS delivers at least once; the reactor already handled this message and ignores "
                         "repeats. Nothing to do.",
    "bad_message_json": "An Auto Scaling notification carries a JSON object in Message; this one does not come "
                        "from Auto Scaling.",
    "unknown_event": "Only EC2_INSTANCE_LAUNCH, _TERMINATE, _LAUNCH_ERROR, _TERMINATE_ERROR and "
                     "TEST_NOTIFICATION are handled, and lifecycle hooks' EC2_INSTANCE_LAUNCHING and _TERMINATING.",
    "unknown_group": "Add the group under groups: in salt-autoscale.yaml and run `salt-autoscale render` again, "
                     "or remove its notification.",
    "account_mismatch": "The AccountId inside the message must be the account that owns the topic; the message "
                        "was forged or altered.",
    "bad_instance_id": "Instance ids look like i-0123456789abcdef0; anything else (a glob such as *) is refused "
                       "so it can never reach a key delete.",
    "instance_terminated": "The reactor handled this instance's termination already; a launch delivered after "
                           "it is late (or replayed) and must not admit a dead instance. Nothing to do.",
    "bad_lifecycle_message": "A lifecycle hook's notification names its hook (LifecycleHookName) and carries a "
                             "LifecycleActionToken; this one lacks one or has a malformed one, so it was not sent by "
                             "Auto Scaling.",
    "unknown_hook": "Only the hooks named in groups.<group>.lifecycle (launch.hook_name, terminate.hook_name) are "
                    "acted on: add lifecycle to the group in salt-autoscale.yaml and run `salt-autoscale render` "
                    "and `provision`, or delete the other hook that targets this topic. The instance waits until "
                    "the hook's timeout, then Auto Scaling applies its DefaultResult.",
    # Not rejections: what the lifecycle worker logs with reason=<code> (README, "Lifecycle hooks, by reason code").
    "lifecycle_call_failed": "CompleteLifecycleAction or RecordLifecycleActionHeartbeat failed: let the master reach "
                             "autoscaling.<region>.amazonaws.com and allow it both calls on the group; a completion "
                             "is retried 8 times with backoff, then left open in the ledger for `salt-autoscale "
                             "reconcile`.",
    "lifecycle_action_gone": "Auto Scaling no longer has the action (its heartbeat timeout passed and the "
                             "DefaultResult applied, or someone else completed it): raise heartbeat_timeout if boots "
                             "are slower.",
    "lifecycle_timed_out": "The instance showed no sign of life (no salt/auth) within the hook's heartbeat timeout: "
                           "check its user data or salt-cloud bootstrap, or raise heartbeat_timeout.",
    "drain_timeout": "The drain's job return did not come within drain.timeout: the key was deleted and the hook "
                     "continued anyway; make the drain faster or raise the timeout.",
    "subscribe_url_invalid": "A genuine SubscribeURL is https://sns.<region>.amazonaws.com/?Action="
                             "ConfirmSubscription... in the topic's region; this one is not.",
}
REASONS = tuple(REMEDIES)
