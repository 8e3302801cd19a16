"""verify's side: `python3 -m salt_autoscale_gate.judge_cli` reads one job (JSON) on stdin and prints the
gate's Decision and planned actions (JSON) on stdout. Judge only: nothing is performed, nothing is written
(the store is opened read-only, a fetched certificate is not cached).

Job: {"opts": {...the master's opts...}, "body": raw SNS text, "at": epoch seconds | null,
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
               certificate_source=certificates.source)
    return out


def main():
    job = json.load(sys.stdin)
    try:
        out = judge_job(job)
    except (ConfigProblem, StoreProblem) as problem:
        out = {"error": str(problem)}
    json.dump(out, sys.stdout, default=repr)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
