"""verify's side: `python3 -m salt_autoscale_gate.judge_cli` reads one job (JSON) on stdin and prints the
gate's Decision and planned actions (JSON) on stdout. Judge only: nothing is performed, nothing is written
(the store is opened read-only, a fetched certificate is not cached).

Job (or {"jobs": [job, ...]} for a batch): {"opts": {...the master's opts...}, "body": raw SNS text, "at": epoch seconds | null,
      "cache": true | false, "explain": true | false}
"""
import json
import sys
import time

from .actions import plan, salt_reaction
from .certificate import Certificates, FetchLimits
from .gate import Context, judge
from .settings import ConfigProblem, Settings
from .store import Store, StoreProblem


def judge_job(job):
    settings = Settings(job["opts"])
    store = None
    if job.get("cache", True):
        store = Store(settings.cache_dir, settings.keep_seconds, readonly=True)
    at = job.get("at")
    now = float(at) if at is not None else time.time()
    # One fetch at most, never rate-limited or remembered: verify runs once and is run by a person.
    certificates = Certificates(store, settings.fetch_timeout, limits=FetchLimits(burst=1, per_minute=1), memory={})
    ctx = Context(settings, store, certificates, now, handled_before=now if at is not None else None)
    decision = judge({"body": job["body"], "post": {}}, ctx, explain=job.get("explain", True))
    out = decision.to_dict()
    actions = plan(decision, settings) if decision.accepted else []
    out.update(actions=actions, salt_reaction=salt_reaction(actions), at=now,
               cache={"dir": settings.cache_dir if store is not None else None,
                      "absent": bool(store is not None and store.absent)},
               backend=certificates.backend.name if certificates._backend is not None else None,
               certificate_source=certificates.source, python="%s %d.%d.%d" % ((sys.executable,) + sys.version_info[:3]))
    return out


def answer(job):
    try:
        return judge_job(job)
    except ConfigProblem as problem:
        return {"error": str(problem), "kind": "config"}
    except StoreProblem as problem:
        return {"error": str(problem), "kind": "store"}


def main():
    job = json.load(sys.stdin)
    # {"jobs": [...]}: a batch in one process (the test suite judges every shared vector this way).
    out = [answer(j) for j in job["jobs"]] if "jobs" in job else answer(job)
    json.dump(out, sys.stdout, default=repr)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
