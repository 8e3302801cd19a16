"""Runs the rendered ec2-autoscale.sls the way Salt's py renderer does, for a batch of events.

Salt (salt/utils/templates.py `py`, via salt/renderers/py.py) loads the file as a fresh module for every event,
sets the globals data, tag, __opts__/opts, __salt__/salt, __grains__/grains, __pillar__/pillar, __env__/saltenv,
__sls__/sls on it, and calls run(). This harness does exactly that, one fresh module per delivery.

Job (JSON on stdin):
  {"reactor": path, "opts": {...master opts...}, "deliveries": [{"body": text} | {"data": {...}}],
   "tag": "salt/netapi/hook/ec2/autoscale", "blockCryptography": bool, "fakeSaltSmtp": bool,
   "saltRunners": [names] (a fake salt.loader whose runner() loads just these, e.g. a Salt 3008 master)}
A delivery may carry "write": {path: text}, files written just before it (a re-render while the master runs).
A delivery may carry its own "tag" (a Salt event such as salt/auth) and name its own "reactor" file (the bench interleaves a trivial `#!py` file with the real one).
A delivery may carry "sleep": seconds to wait before it (a master idles; the gate's lifecycle worker thread runs
meanwhile) and "settle": true (or the job "settle": true for every delivery) to let that worker finish what is due
now before the next delivery: a master keeps running after an event, this process would otherwise move on or exit.
A delivery given as {"body": text} becomes the event data rest_cherrypy's Webhook fires for a text/plain POST:
  {"body": text, "post": json.loads(text) if that works else text, "headers": {...}}.
A delivery given as {"engineBody": text} becomes the data Salt's webhook engine fires (salt/engines/webhook.py:
  {"headers": dict(request.headers), "body": request.body}, the body as bytes, which Salt's event bus keeps as
  bytes: salt.payload packs with use_bin_type=True); give it the tag salt/engines/hook/ec2/autoscale.
Result (JSON on stdout):
  {"backend": "cryptography"|"openssl", "results": [{"reaction", "logs": [{"level", "message"}], "error",
   "optsUnchanged", "seconds", "loadSeconds", "runSeconds",
   "saltCalls", "saltErrors" (the client calls Salt's reactor would make of the reaction: salt_reactwrap.py)}], "saltSmtpCalls": [...], "elapsedSeconds"}
"""
import copy
import importlib.machinery
import importlib.util
import json
import logging
import sys
import time
import traceback
import types

from salt_reactwrap import salt_calls

MODULE_NAME = "ec2-autoscale"


class BlockCryptography(object):
    """A meta path finder that makes `import cryptography` fail, as on a master without the package."""

    def find_spec(self, name, path=None, target=None):
        if name == "cryptography" or name.startswith("cryptography."):
            raise ImportError("cryptography is hidden by the test harness")
        return None


class Capture(logging.Handler):
    def __init__(self):
        logging.Handler.__init__(self, logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append({"level": record.levelname, "logger": record.name, "message": record.getMessage()})


def fake_salt_package():
    return sys.modules.get("salt") or types.ModuleType("salt")


def install_fake_salt_loader(runner_names):
    salt = fake_salt_package()
    loader = types.ModuleType("salt.loader")
    loader.runner = lambda opts, **kwargs: {name: (lambda *a, **k: None) for name in runner_names}
    salt.loader = loader
    sys.modules.update({"salt": salt, "salt.loader": loader})


def install_fake_salt_smtp(calls):
    salt = fake_salt_package()
    utils = types.ModuleType("salt.utils")
    smtp = types.ModuleType("salt.utils.smtp")

    def send(kwargs, opts):
        calls.append({"kwargs": kwargs, "optsKeys": sorted(opts)})

    smtp.send = send
    utils.smtp = smtp
    salt.utils = utils
    sys.modules.update({"salt": salt, "salt.utils": utils, "salt.utils.smtp": smtp})


def event_data(delivery):
    if "data" in delivery:
        return delivery["data"]
    if "engineBody" in delivery:
        return {"headers": {"Content-Type": "text/plain; charset=UTF-8", "X-Amz-Sns-Message-Type": "Notification",
                            "Host": "127.0.0.1:5000"},
                "body": delivery["engineBody"].encode("utf-8")}
    body = delivery["body"]
    try:
        post = json.loads(body)
    except ValueError:
        post = body
    return {"body": body, "post": post or {},
            "headers": {"Content-Type": "text/plain; charset=UTF-8", "X-Amz-Sns-Message-Type": "Notification"}}


def render_like_salt(path, globals_, timing):
    started = time.perf_counter()
    loader = importlib.machinery.SourceFileLoader(MODULE_NAME, path)
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[MODULE_NAME] = module
    for name, value in globals_.items():
        setattr(module, name, value)
    loaded = time.perf_counter()
    try:
        return module.run()
    finally:
        timing["loadSeconds"] = loaded - started
        timing["runSeconds"] = time.perf_counter() - loaded


def main():
    job = json.load(sys.stdin)
    if job.get("blockCryptography"):
        sys.meta_path.insert(0, BlockCryptography())
    smtp_calls = []
    if job.get("fakeSaltSmtp"):
        install_fake_salt_smtp(smtp_calls)
    if "saltRunners" in job:
        install_fake_salt_loader(job["saltRunners"])
    capture = Capture()
    root = logging.getLogger()
    root.addHandler(capture)
    root.setLevel(getattr(logging, job.get("logLevel") or "DEBUG"))  # Salt's default is WARNING
    opts = job["opts"]
    results = []
    started = time.perf_counter()
    for delivery in job["deliveries"]:
        capture.records = []
        pristine = copy.deepcopy(opts)
        fake_salt = {}
        globals_ = {
            "data": event_data(delivery),
            "tag": delivery.get("tag", job.get("tag", "salt/netapi/hook/ec2/autoscale")),
            "__opts__": opts, "opts": opts, "__salt__": fake_salt, "salt": fake_salt,
            "__grains__": {}, "grains": {}, "__pillar__": {}, "pillar": {},
            "__env__": "base", "saltenv": "base", "__sls__": "ec2-autoscale", "sls": "ec2-autoscale",
        }
        if delivery.get("sleep"):
            time.sleep(float(delivery["sleep"]))
        for path, text in delivery.get("write", {}).items():
            with open(path, "w") as handle:
                handle.write(text)
        reaction, error = None, None
        one = time.perf_counter()
        timing = {}
        try:
            reaction = render_like_salt(delivery.get("reactor", job["reactor"]), globals_, timing)
        except Exception:
            error = traceback.format_exc()
        seconds = time.perf_counter() - one
        calls, salt_errors = salt_calls(reaction) if isinstance(reaction, dict) else ([], [])
        worker = sys.modules.get("salt_autoscale_gate.lifecycle_worker")
        if worker is not None and (delivery.get("settle") or job.get("settle")):
            worker.settle(30.0)
        results.append({
            "saltCalls": calls, "saltErrors": salt_errors,
            "seconds": seconds, "loadSeconds": timing.get("loadSeconds"), "runSeconds": timing.get("runSeconds"),
            "reaction": reaction, "error": error, "optsUnchanged": opts == pristine,
            "logs": [r for r in capture.records if r["level"] != "DEBUG" or job.get("debug")],
        })
    elapsed = time.perf_counter() - started
    # Which crypto path really ran: `cryptography` gets imported only when the reactor used it.
    backend = "cryptography" if "cryptography.x509" in sys.modules else "openssl"
    json.dump({"backend": backend, "results": results, "saltSmtpCalls": smtp_calls, "elapsedSeconds": elapsed},
              sys.stdout, default=repr)


if __name__ == "__main__":
    main()
