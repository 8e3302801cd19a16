"""Starts a Salt engine from master opts the way salt-master does, in this process, for a bounded run.

Mirrors salt/engines/__init__.py (start_engines, Engine.run) and salt/loader (engines(), _module_dirs,
LazyLoader) of Salt 3006-3008:
- the engines are opts["engines"]: a list of {name: config} or names (a dict is turned into that list);
  `engine_module` in a config names the module and is removed from the kwargs;
- the module <name>.py is looked up in module_dirs' engines/ or _engines/, then opts["engines_dirs"], then
  <extension_modules>/engines (salt/engines itself is not here); the first directory that has it wins
  (LazyLoader's file mapping);
- it is loaded as a fresh module with the loader's dunders: __opts__ (the opts), __salt__ (minion modules),
  __runners__ (runner functions, on a master), __utils__, __proxy__, __context__;
- start(**config) is called (the engine's config, or {} when it has none); an exception is logged CRITICAL
  "Engine '<name>' could not be started!" as Engine.run does.
Salt gives each engine a process of its own; this harness is that process for one engine (job "engine").

Salt itself is faked where the engine reaches it: salt.runner.RunnerClient and salt.wheel.WheelClient record
each .low() call and answer as SyncClientMixin._low does (a function that raises gives success False and
"Exception occurred in ..."); wheel key.delete removes the key files as salt.key.Key.delete_key does, from
cluster_pki_dir when cluster_id is set (salt/key.py Key.__init__), else pki_dir; runner cloud.create pre-seeds
the minion's key in pki_dir/minions/<id> as salt-cloud does on the master that ran it. salt.loader.runner()
lists job["saltRunners"]. job["fakeSaltAws"] installs a salt.utils.aws whose sig4 returns syntactically valid
SigV4 headers (the fake AWS does not check signatures); job["blockBoto3"] makes `import boto3` fail.

Job (JSON on stdin): {"opts", "engine", "rounds", "seconds", "cloudCreate": "ok"|"raise"|"false",
  "cloudCreateFailures": n (the first n calls raise), "wheelRaises": bool, "saltRunners", "fakeSaltAws",
  "blockBoto3"}
Result (JSON on stdout): {"found": [engine names and paths], "calls": [{"client", "fun", "kwarg", "user"}],
  "logs": [{"level", "logger", "message"}], "error": traceback or null}
"""
import glob
import importlib.util
import json
import logging
import os
import sys
import time
import traceback
import types


class Capture(logging.Handler):
    def __init__(self):
        logging.Handler.__init__(self, logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append({"level": record.levelname, "logger": record.name, "message": record.getMessage()})


class Block(object):
    def __init__(self, names):
        self.names = names

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.names:
            raise ImportError("%s is hidden by the test harness" % name)
        return None


def module_dirs(opts, ext_type="engines"):
    """salt.loader._module_dirs(opts, "engines") without Salt's own salt/engines and entry points."""
    cli = []
    for base in opts.get("module_dirs", []):
        for candidate in (os.path.join(base, ext_type), os.path.join(base, "_" + ext_type)):
            if os.path.isdir(candidate):
                cli.insert(0, candidate)
                break
    return cli + list(opts.get(ext_type + "_dirs", [])) + [os.path.join(opts.get("extension_modules", "/nonexistent"),
                                                                           ext_type)]


def find_module(opts, name):
    for folder in module_dirs(opts):
        path = os.path.join(folder, name + ".py")
        if os.path.isfile(path):
            return path
    return None


def configured_engines(opts):
    engines_opt = opts.get("engines", [])
    if isinstance(engines_opt, dict):
        engines_opt = [{k: v} for k, v in engines_opt.items()]
    out = []
    for engine in engines_opt:
        if isinstance(engine, dict):
            engine, engine_opts = next(iter(engine.items()))
        else:
            engine_opts = None
        module = engine
        if engine_opts is not None and "engine_module" in engine_opts:
            module = engine_opts.pop("engine_module")
        out.append((engine, module, engine_opts))
    return out


def load_engine(path, module_name, opts, dunders):
    spec = importlib.util.spec_from_file_location("salt.loaded.ext.engines." + module_name, path)
    module = importlib.util.module_from_spec(spec)
    for key, value in dunders.items():
        setattr(module, key, value)
    module.__opts__ = opts
    spec.loader.exec_module(module)
    return module


def install_fake_salt(job, calls):
    salt = sys.modules.get("salt") or types.ModuleType("salt")
    salt.__path__ = []
    runner_mod, wheel_mod, loader_mod = (types.ModuleType("salt.runner"), types.ModuleType("salt.wheel"),
                                         types.ModuleType("salt.loader"))
    state = {"cloud_calls": 0}

    def exception_result(client, fun, message):
        return {"fun": "%s.%s" % (client, fun), "success": False, "retcode": 1,
                "return": "Exception occurred in %s %s: Traceback (most recent call last):\n  File ...\n"
                          "RuntimeError: %s\n" % (client, fun, message)}

    class RunnerClient(object):
        def __init__(self, opts):
            self.opts = opts

        def low(self, fun, low, print_event=True, full_return=False):
            calls.append({"client": "runner", "fun": fun, "kwarg": low.get("kwarg"), "user": low.get("__user__")})
            if fun != "cloud.create":
                data = exception_result("runner", fun, "no such runner in the test harness")
            else:
                state["cloud_calls"] += 1
                iid = low["kwarg"]["instance_id"]
                if job.get("cloudCreate") == "raise" or state["cloud_calls"] <= job.get("cloudCreateFailures", 0):
                    data = exception_result("runner", fun, "salt-cloud could not reach %s over SSH" % iid)
                elif job.get("cloudCreate") == "false":
                    data = {"fun": "runner.cloud.create", "success": True, "return": {iid: False}}
                else:
                    minions = os.path.join(self.opts["pki_dir"], "minions")
                    os.makedirs(minions, exist_ok=True)
                    with open(os.path.join(minions, iid), "w") as handle:
                        handle.write("-----BEGIN PUBLIC KEY-----\nseeded by salt-cloud\n-----END PUBLIC KEY-----\n")
                    data = {"fun": "runner.cloud.create", "success": True,
                            "return": {iid: {"instanceId": iid, "deployed": True}}}
            return data if full_return else data["return"]

    class WheelClient(object):
        def __init__(self, opts):
            self.opts = opts

        def low(self, fun, low, print_event=True, full_return=False):
            calls.append({"client": "wheel", "fun": fun, "kwarg": low.get("kwarg"), "user": low.get("__user__")})
            if job.get("wheelRaises") or fun != "key.delete":
                data = exception_result("wheel", fun, "the key directory is not writable")
            else:
                pki = self.opts["cluster_pki_dir"] if self.opts.get("cluster_id") else self.opts["pki_dir"]
                match = low["kwarg"]["match"]
                deleted = {}
                for folder in ("minions", "minions_pre", "minions_rejected", "minions_denied"):
                    for path in glob.glob(os.path.join(pki, folder, match)):
                        os.remove(path)
                        deleted.setdefault(folder, []).append(os.path.basename(path))
                data = {"fun": "wheel.key.delete", "success": True, "return": deleted}
            return data if full_return else data["return"]

    runner_mod.RunnerClient = RunnerClient
    wheel_mod.WheelClient = WheelClient
    names = job.get("saltRunners", ["cloud.create"])
    loader_mod.runner = lambda opts, **kwargs: {name: (lambda *a, **k: None) for name in names}
    salt.runner, salt.wheel, salt.loader = runner_mod, wheel_mod, loader_mod
    modules = {"salt": salt, "salt.runner": runner_mod, "salt.wheel": wheel_mod, "salt.loader": loader_mod}
    if job.get("fakeSaltAws"):
        utils = types.ModuleType("salt.utils")
        utils.__path__ = []
        aws = types.ModuleType("salt.utils.aws")
        aws.IROLE_CODE = "use-instance-role-credentials"

        def sig4(method, endpoint, params, prov_dict, aws_api_version="2014-10-01", location=None, product="ec2",
                 uri="/", requesturl=None, data="", headers=None, role_arn=None, payload_hash=None):
            calls.append({"client": "salt.utils.aws", "fun": "sig4", "kwarg": {"product": product,
                                                                                "location": location}})
            out = dict(headers or {})
            out["X-Amz-date"] = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            out["host"] = endpoint
            out["Authorization"] = ("AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=host, "
                                    "Signature=0" % (prov_dict["id"], time.strftime("%Y%m%d"), location, product))
            return out, "%s?Version=%s" % (requesturl, aws_api_version)

        aws.sig4 = sig4
        utils.aws = aws
        salt.utils = utils
        modules.update({"salt.utils": utils, "salt.utils.aws": aws})
    sys.modules.update(modules)


def main():
    job = json.load(sys.stdin)
    if job.get("blockBoto3"):
        sys.meta_path.insert(0, Block(("boto3", "botocore")))
    calls = []
    install_fake_salt(job, calls)
    capture = Capture()
    root = logging.getLogger()
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    opts = job["opts"]
    found = []
    chosen = None
    for engine, module, config in configured_engines(opts):
        path = find_module(opts, module)
        found.append({"engine": engine, "module": module, "path": path, "config": config})
        if engine == job.get("engine", "ec2_autoscale_sqs") and path:
            chosen = (engine, module, path, config)
    error = None
    if chosen is None:
        error = "engine %s is not configured or its module is not in the engine dirs" % job.get("engine")
    else:
        engine, module, path, config = chosen
        started = time.monotonic()
        checks = {"n": 0}
        limit_rounds, limit_seconds = job.get("rounds", 3), job.get("seconds", 60)

        def stop():
            checks["n"] += 1
            return checks["n"] > limit_rounds or time.monotonic() - started > limit_seconds

        dunders = {"__salt__": {}, "__runners__": {}, "__utils__": {}, "__proxy__": None, "__context__": {}}
        try:
            mod = load_engine(path, module, opts, dunders)
            mod.STOP = stop
            mod.start(**(config or {}))
        except Exception:
            logging.getLogger("salt.engines").critical("Engine '%s' could not be started!", module, exc_info=True)
            error = traceback.format_exc()
    json.dump({"found": found, "calls": calls, "logs": capture.records, "error": error}, sys.stdout, default=repr)


if __name__ == "__main__":
    main()
