"""The two Auto Scaling calls the master makes for lifecycle hooks, with what the master already has: boto3
when importable (its own SigV4, credential chain and endpoint settings), else Salt's own salt.utils.aws
(Salt 3006-3008 core: SigV4 in sig4(), the instance role through IMDS). No signing code of our own.

Credentials and endpoint: the standard AWS environment variables (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
AWS_SESSION_TOKEN, AWS_ENDPOINT_URL_AUTO_SCALING, AWS_ENDPOINT_URL) and, without keys, the instance role.
boto3 reads them itself; for salt.utils.aws they are passed in (it reads only its provider dict: keys, or
"use-instance-role-credentials" for IMDS; a requesturl for another endpoint).

Called only from the lifecycle worker thread, never in Salt's reactor loop: salt.utils.aws.query calls
requests.get without a timeout and sleeps between its own retries.
"""
import os
import threading

COMPLETE = "CompleteLifecycleAction"
HEARTBEAT = "RecordLifecycleActionHeartbeat"
API_VERSION = "2011-01-01"
CONNECT_TIMEOUT, READ_TIMEOUT = 3, 10


class CallFailed(Exception):
    """The call did not succeed; worth retrying (network, throttling, credentials, a 5xx)."""


class ActionGone(CallFailed):
    """Auto Scaling has no such active action (timed out, completed by someone else, or the instance is gone):
    retrying cannot help."""


_clients = {}
_clients_lock = threading.Lock()


def _params(action):
    return {"AutoScalingGroupName": action["group"], "LifecycleHookName": action["hook"],
            "LifecycleActionToken": action["token"], "InstanceId": action["instance_id"]}


def complete(region, action, result):
    params = _params(action)
    params["LifecycleActionResult"] = result
    call(region, COMPLETE, params)


def heartbeat(region, action):
    call(region, HEARTBEAT, _params(action))


def have_boto3():
    try:
        import boto3
    except ImportError:
        return False
    return boto3 is not None


def call(region, name, params):
    if not region:
        raise CallFailed("no region: set aws.region in salt-autoscale.yaml (ec2.autoscale.region) and render again")
    return _call_boto3(region, name, params) if have_boto3() else _call_salt(region, name, params)


def _gone(code, message):
    # Auto Scaling answers ValidationError "No active Lifecycle Action found with instance ID ..." (or "... with
    # token ...") for an action that is no longer pending.
    return code == "ValidationError" and "no active lifecycle action" in (message or "").lower()


def _boto3_client(region):
    with _clients_lock:
        client = _clients.get(region)
        if client is None:
            import boto3
            from botocore.config import Config
            # One attempt per call: the worker does its own backoff between calls (and records each failure).
            config = Config(connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT,
                            retries={"total_max_attempts": 1, "mode": "standard"})
            client = _clients[region] = boto3.session.Session().client("autoscaling", region_name=region,
                                                                        config=config)
        return client


def _call_boto3(region, name, params):
    from botocore.exceptions import BotoCoreError, ClientError
    method = {COMPLETE: "complete_lifecycle_action", HEARTBEAT: "record_lifecycle_action_heartbeat"}[name]
    try:
        getattr(_boto3_client(region), method)(**params)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code", ""), error.get("Message", "")
        if _gone(code, message):
            raise ActionGone("%s: %s" % (code, message))
        raise CallFailed("%s: %s" % (code or "error", message))
    except BotoCoreError as exc:  # no credentials, endpoint unreachable, timeouts
        raise CallFailed(str(exc))


def _call_salt(region, name, params):
    try:
        import salt.utils.aws as aws
    except ImportError:
        raise CallFailed("neither boto3 nor Salt's salt.utils.aws is importable in this Python")
    key_id, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not (key_id and secret):
        key_id = secret = aws.IROLE_CODE  # salt.utils.aws.creds(): the instance role, from IMDS
    endpoint = os.environ.get("AWS_ENDPOINT_URL_AUTO_SCALING") or os.environ.get("AWS_ENDPOINT_URL")
    requesturl = endpoint.rstrip("/") + "/" if endpoint else "https://autoscaling.%s.amazonaws.com/" % region
    # query() reads the provider dict from opts["providers"][provider][product]; sigver "4" signs with sig4().
    opts = {"providers": {"ec2-autoscale": {"autoscaling": {"id": key_id, "key": secret,
                                                            "aws_api_version": API_VERSION}}}}
    query = dict(params, Action=name)
    try:
        result = aws.query(query, requesturl=requesturl, location=region, opts=opts, provider="ec2-autoscale",
                           product="autoscaling", sigver="4")
    except Exception as exc:  # requests' connection errors, an unparsable answer
        raise CallFailed("%s: %s" % (type(exc).__name__, exc))
    if isinstance(result, dict) and "error" in result:
        error = result["error"]
        detail = error.get("Error", {}) if isinstance(error, dict) else {}
        if not detail and isinstance(error, dict):  # <ErrorResponse><Error>..</Error></ErrorResponse>
            detail = error.get("ErrorResponse", {}).get("Error", {}) if isinstance(error.get("ErrorResponse"), dict) else {}
        code, message = detail.get("Code", ""), detail.get("Message", str(error))
        if _gone(code, message):
            raise ActionGone("%s: %s" % (code, message))
        raise CallFailed("%s: %s" % (code or "error", message))
