"""SQS delivery: the engine ec2_autoscale_sqs long-polls its master's queue and hands each body to the gate.

step() is one round, decide then act: receive up to max_messages (long poll), judge and perform each through
salt_glue.handle_sns with the Salt calls run here (executor.SaltCalls), and delete a message only once it is
handled: accepted and every side effect done, or rejected (its WARNING line logged). An error deletes
nothing: the message becomes visible again after the queue's visibility timeout, SQS delivers it again, and
after the redrive policy's maxReceiveCount receives SQS moves it to the dead-letter queue (reconcile reads
that). Salt's own SQS engine (sqs_events; saltext-sqs-events on 3008) deletes each message right after firing
an event, before anything handled it; a master that failed to act would then have lost the message.

AWS calls: boto3 when importable (credentials and endpoint as boto3 finds them: the standard environment,
the instance role), else Salt's salt.utils.aws (sig4 signing, env or instance-role credentials) over urllib.
No signing code here. AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL point either at another endpoint (tests).
"""
import json
import logging
import os
import urllib.error
import urllib.parse
import urllib.request

from . import salt_glue
from .text import shown

log = logging.getLogger("salt.engines.ec2_autoscale_sqs")
SQS_API_VERSION = "2012-11-05"
# Rejections that are not the message's fault, left in the queue instead of deleted: the certificate host was
# unreachable (a later receive may succeed); or the message is older than max_age because this master was down
# (only the topic can send to the queue, by its policy): after maxReceiveCount receives SQS moves it to the
# dead-letter queue, where `salt-autoscale reconcile` judges it as of when it reached the queue.
KEEP_REASONS = ("cert_fetch_failed", "stale_message")


class QueueError(Exception):
    """An SQS call failed (network, credentials, permissions, no such queue): logged, retried next round."""


class Message(object):
    def __init__(self, body, receipt_handle, message_id, receive_count):
        self.body, self.receipt_handle, self.message_id, self.receive_count = (
            body, receipt_handle, message_id, receive_count)


def _message(raw):
    count = (raw.get("Attributes") or {}).get("ApproximateReceiveCount")
    return Message(raw.get("Body") or "", raw.get("ReceiptHandle"), raw.get("MessageId"),
                   int(count) if str(count or "").isdigit() else None)


def endpoint_url():
    return os.environ.get("AWS_ENDPOINT_URL_SQS") or os.environ.get("AWS_ENDPOINT_URL") or None


def region_of(config_region, settings_region, queue_url):
    """The engine's region: the engine config, ec2.autoscale.region, the environment, the queue URL's host."""
    for value in (config_region, settings_region, os.environ.get("AWS_REGION"), os.environ.get("AWS_DEFAULT_REGION")):
        if isinstance(value, str) and value:
            return value
    host = urllib.parse.urlparse(queue_url).netloc.split(".")
    return host[1] if len(host) > 2 and host[0] == "sqs" else "us-east-1"


class Boto3Queue(object):
    def __init__(self, queue_url, region, timeout):
        import boto3
        import botocore.config
        import botocore.exceptions
        # Older boto3 releases do not read AWS_ENDPOINT_URL*: pass it on. The read timeout outlasts the long poll.
        self.client = boto3.client("sqs", region_name=region, endpoint_url=endpoint_url(),
                                   config=botocore.config.Config(read_timeout=timeout, retries={"mode": "standard"}))
        self.queue_url = queue_url
        self.errors = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)

    def receive(self, max_messages, wait_seconds, visibility_timeout=None):
        params = dict(QueueUrl=self.queue_url, MaxNumberOfMessages=max_messages, WaitTimeSeconds=wait_seconds,
                      AttributeNames=["ApproximateReceiveCount"])
        if visibility_timeout is not None:
            params["VisibilityTimeout"] = visibility_timeout
        try:
            return [_message(m) for m in self.client.receive_message(**params).get("Messages") or []]
        except self.errors as exc:
            raise QueueError("ReceiveMessage: %s" % exc)

    def delete(self, receipt_handle):
        try:
            self.client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt_handle)
        except self.errors as exc:
            raise QueueError("DeleteMessage: %s" % exc)


class SaltAwsQueue(object):
    """SQS's JSON protocol (POST /, X-Amz-Target AmazonSQS.<Action>), signed by salt.utils.aws.sig4 with the
    credentials salt.utils.aws.creds finds (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, else the instance role)."""

    def __init__(self, queue_url, region, timeout):
        import salt.utils.aws
        self.aws = salt.utils.aws
        self.queue_url, self.region, self.timeout = queue_url, region, timeout
        self.url = endpoint_url() or "https://sqs.%s.amazonaws.com/" % region
        if not self.url.endswith("/"):
            self.url += "/"

    def call(self, action, params):
        body = json.dumps(params)
        headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS." + action}
        key_id, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
        if key_id and secret:
            provider = {"id": key_id, "key": secret}
            if os.environ.get("AWS_SESSION_TOKEN"):  # sig4 adds a token only for instance-role credentials
                headers["X-Amz-Security-Token"] = os.environ["AWS_SESSION_TOKEN"]
        else:
            provider = {"id": self.aws.IROLE_CODE, "key": self.aws.IROLE_CODE}
        parsed = urllib.parse.urlparse(self.url)
        signed, url = self.aws.sig4("POST", parsed.netloc, {}, provider, aws_api_version=SQS_API_VERSION,
                                    location=self.region, product="sqs", uri=parsed.path or "/",
                                    requesturl=self.url, data=body, headers=headers)
        request = urllib.request.Request(url, data=body.encode("utf-8"), method="POST",
                                         headers=dict((k, v) for k, v in signed.items() if k.lower() != "host"))
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read().decode("utf-8") or "{}")
        except urllib.error.HTTPError as exc:
            try:
                error = json.loads(exc.read().decode("utf-8"))
            except ValueError:
                error = {}
            raise QueueError("%s: HTTP %s %s: %s" % (action, exc.code, str(error.get("__type", "")).split("#")[-1],
                                                     shown(error.get("message") or error.get("Message"), 200)))
        except (OSError, ValueError) as exc:
            raise QueueError("%s: %s" % (action, exc))

    def receive(self, max_messages, wait_seconds, visibility_timeout=None):
        params = {"QueueUrl": self.queue_url, "MaxNumberOfMessages": max_messages, "WaitTimeSeconds": wait_seconds,
                  "AttributeNames": ["ApproximateReceiveCount"]}
        if visibility_timeout is not None:
            params["VisibilityTimeout"] = visibility_timeout
        return [_message(m) for m in self.call("ReceiveMessage", params).get("Messages") or []]

    def delete(self, receipt_handle):
        self.call("DeleteMessage", {"QueueUrl": self.queue_url, "ReceiptHandle": receipt_handle})


def open_queue(queue_url, region, wait_seconds, prefer_boto3=True):
    timeout = wait_seconds + 20
    if prefer_boto3:
        try:
            return Boto3Queue(queue_url, region, timeout)
        except ImportError:
            pass
    try:
        return SaltAwsQueue(queue_url, region, timeout)
    except ImportError:
        raise QueueError("neither boto3 nor Salt's salt.utils.aws can be imported: the engine runs inside "
                         "salt-master (salt.utils.aws), or install boto3 for the master's Python")


def handle(opts, message, execute):
    """One received message: the gate's outcome, and whether to delete it (handled, or rejected for good)."""
    outcome = salt_glue.handle_sns(opts, {"body": message.body, "headers": {}}, execute=execute)
    delete = outcome.state == "handled" or (outcome.state == "rejected" and outcome.reason not in KEEP_REASONS)
    return outcome, delete


def step(opts, queue, execute, max_messages=10, wait_seconds=20, visibility_timeout=None):
    """One round: receive, then for each message judge, plan, perform, delete. Returns a summary (data)."""
    summary = {"received": 0, "handled": 0, "rejected": 0, "errors": 0, "deleted": 0, "kept": 0}
    for message in queue.receive(max_messages, wait_seconds, visibility_timeout):
        summary["received"] += 1
        outcome, delete = handle(opts, message, execute)
        summary["errors" if outcome.state == "error" else outcome.state] += 1
        if not delete:
            summary["kept"] += 1
            log.info("ec2-autoscale: SQS message %s (receive %s) is not handled; it stays in the queue and is "
                     "delivered again after its visibility timeout", shown(message.message_id),
                     message.receive_count or "?")
            continue
        try:
            queue.delete(message.receipt_handle)
            summary["deleted"] += 1
        except QueueError as exc:  # handled; a redelivery is a duplicate, which the gate's dedupe drops
            summary["kept"] += 1
            log.error("ec2-autoscale: could not delete handled SQS message %s: %s", shown(message.message_id), exc)
    return summary
