"""Loads the gate package for ec2-autoscale.sls, once per master process and again when MANIFEST changes,
and hands each event to it (react).

Every file is checked against MANIFEST (sha256 of each file as render wrote it; render writes MANIFEST last), so
a package that render is still writing, or one edited by hand, never loads. The modules are then imported from
exactly the bytes checked, through a finder that serves this package's names only (and none from elsewhere on
sys.path), replacing an earlier load. The entry checks this file itself before running it.
"""
import functools
import hashlib
import importlib
import logging
import importlib.abc
import importlib.util
import os
import sys

PACKAGE = "salt_autoscale_gate"


def _sources(here):
    with open(os.path.join(here, "MANIFEST"), "rb") as handle:
        lines = [ln.split() for ln in handle.read().decode("utf-8").splitlines() if ln and not ln.startswith("#")]
    sources = {}
    for digest, name in lines:
        with open(os.path.join(here, name), "rb") as handle:
            code = handle.read()
        if hashlib.sha256(code).hexdigest() != digest:
            raise ValueError("%s does not match MANIFEST (render is still writing, or it was edited)" % name)
        if name.endswith(".py") and "/" not in name:  # a module; anything else is package data
            module = PACKAGE if name == "__init__.py" else PACKAGE + "." + name[:-3]
            sources[module] = (os.path.join(here, name), code)
    return sources


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    salt_autoscale_gate = True

    def __init__(self, sources):
        self.sources = sources

    def find_spec(self, name, path=None, target=None):
        if name not in self.sources:
            return None
        return importlib.util.spec_from_loader(name, self, origin=self.sources[name][0], is_package=name == PACKAGE)

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        path, code = self.sources[module.__name__]
        module.__file__ = path
        exec(compile(code, path, "exec"), module.__dict__)


def _key(here):
    st = os.stat(os.path.join(here, "MANIFEST"))
    return (here, st.st_ino, st.st_size, st.st_mtime_ns)


def _forget():
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "salt_autoscale_gate", False)]


def load(here):
    key = _key(here)
    sources = _sources(here)
    _forget()
    sys.meta_path.insert(0, _Finder(sources))
    try:
        for module in sorted(sources):
            importlib.import_module(module)
    except BaseException:
        # A module that fails at import must not leave a half-loaded package behind: the next event would find
        # it in sys.modules without MANIFEST_KEY and fail until the master restarts. Forget it all instead.
        _forget()
        raise
    gate = sys.modules[PACKAGE]
    gate.MANIFEST_KEY = key
    return gate


def entry(boot_source, g):
    """ec2-autoscale.sls's every event once this package is loaded: the entry calls it where it would otherwise
    call exec(BOOT, globals()), hence the unused first argument. Defines run in the entry's globals `g`, which
    Salt fills with data, tag and __opts__ before calling it."""
    g["run"] = functools.partial(_run_entry, g)


def _run_entry(g):
    return react(g["__file__"], g["__opts__"], g["data"], g.get("tag"))


_HERE = {}  # entry file -> the package folder beside it (Salt gives the entry's absolute path every event)


def react(entry_file, opts, data, tag=None):
    """One event: reload the package first when render has written a new MANIFEST, then let the gate decide."""
    here = _HERE.get(entry_file)
    if here is None:
        here = os.path.join(os.path.dirname(os.path.abspath(entry_file)), PACKAGE)
        if os.path.isabs(entry_file):  # a relative one depends on the working directory
            _HERE[entry_file] = here
    gate = sys.modules[PACKAGE]
    try:
        if _key(here) != gate.MANIFEST_KEY:
            gate = load(here)
    except Exception as exc:  # any failure to load: one ERROR line and no reaction, never a stuck reactor
        logging.getLogger("salt.reactor.ec2_autoscale").error(
            "ec2-autoscale: cannot load the gate package %s: %s; no reaction", here, exc)
        return {}
    return gate.salt_glue.run(opts, data, tag)
