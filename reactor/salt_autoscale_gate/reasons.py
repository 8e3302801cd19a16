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
    "instance_terminated": "The reactor handled this instance's termination already; a launch message (or an "
                           "attestation) arriving after it is late or replayed and must not admit a dead "
                           "instance. Nothing to do.",
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

# Attested admission (identity.py, attest.py): a POST from an instance of an `attested` group.
ATTEST_REMEDIES = {
    "bad_request": "POST one JSON object with exactly the strings instance_id, document_b64, signature and "
                   "public_key_b64, each under 16 KiB, as the attested user data does.",
    "bad_document": "The document must be IMDS's instance identity document, unedited: a JSON object with "
                    "string accountId, instanceId, region and pendingTime.",
    "instance_id_mismatch": "The posted instance id must equal the document's instanceId: the user data posts "
                            "the id it read from IMDS.",
    "account_not_allowed": "The document's accountId is not the account of a trusted topic (sns.topic_arn, "
                           "sns.extra_topic_arns), or not the account of the topic that announced the instance: "
                           "forged, or a group of another account.",
    "region_not_allowed": "The document's region is not the region of a trusted topic, or not the region of the "
                          "topic that announced the instance: forged, or signed for another region.",
    "bad_pending_time": "pendingTime must be IMDS's ISO-8601 UTC time (2026-01-01T12:00:00Z); the document was "
                        "altered.",
    "stale_document": "The instance started longer ago than attested.window_seconds: attested admission is for "
                      "new instances. Raise the window if boots are that slow, or check the instance and "
                      "accept its key by hand (salt-key -a).",
    "future_document": "pendingTime is in the future beyond reactor.clock_skew_seconds: check the master's clock "
                       "(NTP).",
    "bad_public_key": "Post the minion's public key as salt-minion writes it (minion.pub: a PEM 'PUBLIC KEY', "
                      "RSA, 2048 to 8192 bits, exponent 65537).",
    "bad_signature_format": "Post IMDS's /latest/dynamic/instance-identity/rsa2048 output unchanged (base64 "
                            "PKCS#7 SignedData with one SHA-256/RSA signer).",
    "no_certificate_for_region": "No AWS RSA-2048 certificate is known for the document's region: add AWS's "
                                 "certificate for it (EC2 user guide, 'AWS public certificates') under "
                                 "attested.extra_certificates and render again.",
    "wrong_certificate": "The signature names a certificate that is not AWS's RSA-2048 certificate for the "
                         "document's region: forged, or signed for another region.",
    "document_mismatch": "The posted document differs from the document inside the signature: it was changed "
                         "after AWS signed it.",
    "bad_document_signature": "The signature does not verify with AWS's certificate for the region: the "
                              "document or the signature was altered, or it is forged.",
    "instance_not_announced": "No verified launch notification for a configured group has named this instance "
                              "(yet): the instance retries; if it persists, check the group's notifications and "
                              "the reactor's log for the launch message.",
    "group_not_attested": "The instance was announced by a group whose bootstrap is not attested: a post for a "
                          "preauth or salt-cloud instance is not needed, and refused.",
    "key_conflict": "Another key is already admitted for this instance id (in the ledger or in "
                    "pki/minions/<id>): a second key is a possible attack (someone else holding the document). "
                    "Find out which key the instance really has (salt-key -f <id>, and minion.pub on the "
                    "instance) before deleting the admitted one.",
    "document_replayed": "This identity document already admitted a key, and it came again with another key: a "
                         "replay of a captured or leaked document (a possible attack). Nothing is admitted.",
}
for _code, _remedy in ATTEST_REMEDIES.items():
    REMEDIES.setdefault(_code, _remedy)  # bad_instance_id and instance_terminated mean the same for both
ATTEST_REMEDIES["bad_instance_id"] = REMEDIES["bad_instance_id"]
ATTEST_REMEDIES["instance_terminated"] = REMEDIES["instance_terminated"]
REASONS = tuple(REMEDIES)
