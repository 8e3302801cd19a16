"""Runs the Salt calls of an accepted decision (runner.cloud.create, wheel.key.delete) in this process and
reports whether they worked, for a delivery that has no Salt reactor to hand a reaction to: the SQS engine.

Salt's reactor runs such a reaction as ReactWrap.runner/wheel do (salt/utils/reactor.py): RunnerClient or
WheelClient `.low(fun, {"arg": (), "kwarg": {...}, "__user__": ...})` in a thread pool, after run() has
returned, and nobody learns whether it worked. Here the same `.low()` call runs before the message counts as
handled, with full_return=True, so a failure (Salt's SyncClientMixin._low catches the function's exception and
returns success False) raises ActionFailed: the SQS message is then not deleted and SQS delivers it again.
"""
USER = "ec2_autoscale_sqs"  # the job's user in Salt's job events (the reactor's is "Reactor")


class ActionFailed(Exception):
    """A Salt call ran and failed (or could not run): the message must stay in the queue."""


def failure_of(action, ret):
    """Why a `.low(..., full_return=True)` result is a failure, or None. Salt's own verdict first (success
    False: the function raised, or set a non-zero retcode); then what cloud.create answers when salt-cloud did
    not bootstrap (False for an unknown provider; the instance's entry False, None or {"Error": ...})."""
    if not isinstance(ret, dict):
        return "no job result from Salt (%r)" % (type(ret).__name__,)
    value = ret.get("return")
    if ret.get("success") is False:
        return _first_line(value)
    if isinstance(value, str) and value.lstrip().startswith("Passed invalid arguments"):
        return _first_line(value)  # _low reports a TypeError so, with success True
    if action["action"] == "runner" and action["fun"] == "cloud.create":
        if not isinstance(value, dict):
            return "cloud.create returned %r" % (value,)
        entry = value.get(action["kwargs"]["instance_id"])
        if not entry or (isinstance(entry, dict) and ("Error" in entry or "error" in entry)):
            return "cloud.create did not bootstrap %s: %s" % (action["kwargs"]["instance_id"], _first_line(entry))
    return None


def _first_line(value):
    text = str(value).strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    # A traceback's last line names the exception; anything else, its first line.
    line = lines[-1] if text.startswith("Exception occurred") and lines else (lines[0] if lines else text)
    return line[:300]


class SaltCalls(object):
    """One per engine process: Salt's clients are built on first use and kept (building them loads every
    runner or wheel module). Tests pass their own clients."""

    def __init__(self, opts, runner_client=None, wheel_client=None):
        self.opts = opts
        self.clients = {"runner": runner_client, "wheel": wheel_client}

    def client(self, kind):
        if self.clients.get(kind) is None:
            if kind == "runner":
                import salt.runner
                self.clients[kind] = salt.runner.RunnerClient(self.opts)
            else:
                import salt.wheel
                self.clients[kind] = salt.wheel.WheelClient(self.opts)
        return self.clients[kind]

    def run(self, action):
        """Runs one runner/wheel action of actions.plan(); returns Salt's job data or raises ActionFailed."""
        kind, fun = action["action"], action["fun"]
        low = {"arg": [], "kwarg": dict(action["kwargs"]), "__user__": USER}
        what = "%s.%s for %s" % (kind, fun, action["kwargs"].get("instance_id") or action["kwargs"].get("match"))
        try:
            ret = self.client(kind).low(fun, low, full_return=True)
        except Exception as exc:  # the client itself failed (e.g. the master's job cache): not handled
            raise ActionFailed("%s could not run: %s" % (what, _first_line(exc)))
        failure = failure_of(action, ret)
        if failure:
            raise ActionFailed("%s failed: %s" % (what, failure))
        return ret
