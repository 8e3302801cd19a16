"""salt-autoscale's SQS engine: long-polls this master's queue and hands each SNS message to the gate.

salt-autoscale render installs this file as <reactor_dir>/engines/ec2_autoscale_sqs.py and the master.d
drop-in names it (docs/reactor.md, "The SQS engine"):

    engines_dirs: [<reactor_dir>/engines]
    engines:
      - ec2_autoscale_sqs: {queue_url: https://sqs.<region>.amazonaws.com/<account>/<queue>, region: <region>,
                            wait_seconds: 20, max_messages: 10}

Salt's master starts it in a process of its own (salt/engines/__init__.py: Engine.run calls start(**config)
with __opts__ set by the loader). This file is only the loop: the gate package beside it
(<reactor_dir>/salt_autoscale_gate, loaded after boot.py and every file match MANIFEST, and loaded again when
render writes a new MANIFEST) receives, judges, performs and deletes (salt_autoscale_gate/sqs_delivery.py).
"""
import hashlib
import logging
import os
import sys
import time

log = logging.getLogger("salt.engines.ec2_autoscale_sqs")
PACKAGE = "salt_autoscale_gate"
STOP = None  # a test harness sets a callable; Salt never does, and the loop runs until the master stops it
BACKOFF = (1, 2, 5, 10, 30, 60)  # seconds to wait after consecutive failed rounds


def _reactor_dir(configured):
    return configured or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_gate(here):
    """Checks boot.py against MANIFEST, then lets it check and load the whole package (as ec2-autoscale.sls)."""
    with open(os.path.join(here, "MANIFEST"), "rb") as handle:
        manifest = handle.read().decode("utf-8").split("\n")
    with open(os.path.join(here, "boot.py"), "rb") as handle:
        code = handle.read()
    if hashlib.sha256(code).hexdigest() + "  boot.py" not in manifest:
        raise ValueError("boot.py does not match MANIFEST (render is still writing, or it was edited)")
    boot = {"__name__": PACKAGE + "_boot"}
    exec(compile(code, os.path.join(here, "boot.py"), "exec"), boot)
    return boot["load"](here)


def current_gate(here):
    """The loaded package, loaded again when MANIFEST changed since (a re-render): no master restart."""
    gate = sys.modules.get(PACKAGE)
    if gate is None or not hasattr(gate, "MANIFEST_KEY") or gate.boot._key(here) != gate.MANIFEST_KEY:
        gate = load_gate(here)
    return gate


def config_problem(queue_url, wait_seconds, max_messages, visibility_timeout):
    def whole(value, low, high):
        return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high

    if not isinstance(queue_url, str) or not queue_url.startswith(("https://", "http://")):
        return "queue_url must be the queue's URL (https://sqs.<region>.amazonaws.com/<account>/<name>)"
    if not whole(wait_seconds, 0, 20):
        return "wait_seconds must be a whole number from 0 to 20 (SQS's long-poll limit)"
    if not whole(max_messages, 1, 10):
        return "max_messages must be a whole number from 1 to 10 (SQS's limit per receive)"
    if visibility_timeout is not None and not whole(visibility_timeout, 0, 43200):
        return "visibility_timeout must be a whole number of seconds from 0 to 43200, or left out"
    return None


def _stopped():
    return STOP is not None and STOP()


def _sleep(seconds):
    end = time.monotonic() + seconds
    while not _stopped() and time.monotonic() < end:
        time.sleep(min(0.2, max(0.0, end - time.monotonic())))


def start(queue_url=None, region=None, wait_seconds=20, max_messages=10, visibility_timeout=None,
          reactor_dir=None):
    # Set by Salt's loader; on 3006+ a dunder may be a NamedLoaderContext (salt/loader/context.py, a
    # MutableMapping resolved through the loader's context): a plain dict of it works everywhere the gate goes.
    opts = dict(globals()["__opts__"])
    problem = config_problem(queue_url, wait_seconds, max_messages, visibility_timeout)
    if problem:
        log.error("ec2-autoscale: the ec2_autoscale_sqs engine's config (engines: in the master.d drop-in "
                  "that salt-autoscale render writes): %s; not polling. Render again and restart the master", problem)
        while not _stopped():  # returning would only make Salt start the engine again, and log this again
            _sleep(60)
        return
    here = os.path.join(_reactor_dir(reactor_dir), PACKAGE)
    failures, queue, calls = 0, None, None
    while not _stopped():
        try:
            gate = current_gate(here)
            if queue is None or calls is None or getattr(queue, "gate_key", None) != gate.MANIFEST_KEY:
                settings_region = (opts.get("ec2.autoscale") or {}).get("region")
                queue = gate.sqs_delivery.open_queue(
                    queue_url, gate.sqs_delivery.region_of(region, settings_region, queue_url), wait_seconds)
                queue.gate_key = gate.MANIFEST_KEY
                calls = gate.executor.SaltCalls(opts)
                log.info("ec2-autoscale: polling %s (%s)", queue_url, type(queue).__name__)
            summary = gate.sqs_delivery.step(opts, queue, calls.run, max_messages, wait_seconds, visibility_timeout)
            failures = 0
            if summary["received"]:
                log.debug("ec2-autoscale: %s", summary)
        except Exception as exc:  # a queue that cannot be read, a package that does not load: retry later
            delay = BACKOFF[min(failures, len(BACKOFF) - 1)]
            failures += 1
            log.error("ec2-autoscale: SQS engine round failed: %s; next try in %d s", exc, delay)
            _sleep(delay)
