"""What an accepted message leads to: plan() returns the actions as data (verify prints them); perform() does
them, in one place, and returns the reaction for Salt. The message is recorded as handled last, once every
side effect is done: a failure before that leaves nothing recorded, so SNS's retry is judged afresh."""
import errno
import logging
import os
import time

from . import ledger, lifecycle, lifecycle_worker
from .certificate import FetchFailed, https_get
from .gate import handled_record
from .text import shown

log = logging.getLogger("salt.reactor.ec2_autoscale")
RESERVED_KWARGS = ("provider", "instances", "instance_id", "opts")


def autosign_stub_path(settings, instance_id):
    return os.path.join(settings.pki_dir, "minions_autosign", instance_id)


def cloud_create_kwargs(group, instance_id):
    """runner.cloud.create's keyword arguments: provider, instances and instance_id first (a group setting
    cannot override them, nor pass opts or Salt's dunder arguments), then the group's settings by name."""
    kwargs = [("provider", group.get("provider")), ("instances", instance_id), ("instance_id", instance_id)]
    settings = group.get("settings") if isinstance(group.get("settings"), dict) else {}
    for name in sorted(settings):
        if name not in RESERVED_KWARGS and not str(name).startswith("__"):
            kwargs.append((name, settings[name]))
    return kwargs


def plan(decision, settings):
    """The actions for an accepted Decision, in the order perform() does them."""
    facts = decision.facts
    outcome, instance_id = facts["outcome"], facts.get("instance_id")
    group = settings.groups.get(facts.get("group")) or {}
    actions = []
    if outcome in ("launch", "lifecycle_launch"):
        if group.get("bootstrap") == "preauth":
            actions.append({"action": "write_autosign_stub", "path": autosign_stub_path(settings, instance_id)})
        elif group.get("bootstrap") == "attested":
            # No stub: the instance proves itself with its identity document (attest.py); until then no key
            # for this id is accepted.
            actions.append({"action": "record_announcement", "instance_id": instance_id})
        elif not settings.performs_once:  # several masters: the one marked to bootstrap does it, once
            actions.append({"action": "bootstrap_elsewhere", "instance_id": instance_id})
        else:
            actions.append({"action": "runner", "fun": "cloud.create",
                            "kwargs": dict(cloud_create_kwargs(group, instance_id))})
        if outcome == "lifecycle_launch":
            # Out of the warm pool: admitted at its first boot already (the launch hook held it until then).
            actions[-1]["unless_admitted"] = facts.get("warm_pool") == "leave"
            # Several masters: the primary alone holds the instance and completes the action, once.
            if settings.performs_once:
                actions.append({"action": "open_lifecycle", "kind": "launch", "hook": facts["hook"]})
    elif outcome == "lifecycle_terminate":
        leaving = facts.get("warm_pool") != "return"  # back into the pool it keeps its key (and needs no stub)
        if leaving:
            actions.append({"action": "remove_autosign_stub", "path": autosign_stub_path(settings, instance_id)})
        if settings.performs_once:
            actions.append({"action": "open_lifecycle", "kind": "terminate", "hook": facts["hook"]})
        elif leaving:  # the primary drains and completes; this master deletes its own key now
            actions += [{"action": "record_termination", "instance_id": instance_id},
                        {"action": "wheel", "fun": "key.delete", "kwargs": {"match": instance_id}}]
    elif outcome == "terminate":
        actions += [{"action": "remove_autosign_stub", "path": autosign_stub_path(settings, instance_id)},
                    {"action": "record_termination", "instance_id": instance_id},
                    {"action": "wheel", "fun": "key.delete", "kwargs": {"match": instance_id}}]
    elif outcome in ("launch_error", "terminate_error"):
        actions.append({"action": "alert", "level": "WARNING", "email": settings.email,
                        "message": "%s in group %s, instance %s: %s" % (
                            facts["event"], shown(facts["group"]), instance_id or "-", shown(facts["status"], 300))})
    elif outcome == "test_notification":
        actions.append({"action": "log", "level": "INFO",
                        "message": "test notification for group %s" % shown(facts["group"])})
    elif outcome == "subscription_confirmation":
        kind = "email_subscribe_url" if settings.confirm == "email" else "confirm_subscription"
        actions.append({"action": kind, "url": facts["subscribe_url"]})
    else:
        actions.append({"action": "alert", "level": "WARNING", "email": settings.email,
                        "message": "UnsubscribeConfirmation: its SubscribeURL is never visited (that would "
                                   "subscribe again)"})
    actions.append({"action": "record_handled", "message_id": decision.envelope["MessageId"]})
    return actions


def salt_reaction(actions):
    """What run() returns to Salt: the runner/wheel actions in the reactor's `args` form (Salt 2017.7+)."""
    out = {}
    for a in actions:
        if a["action"] == "runner":
            args = [{k: v} for k, v in a["kwargs"].items()]
            out["ec2_autoscale_launch_" + a["kwargs"]["instance_id"]] = {"runner.cloud.create": [{"args": args}]}
        elif a["action"] == "wheel":
            out["ec2_autoscale_terminate_" + a["kwargs"]["match"]] = {
                "wheel.key.delete": [{"args": [{"match": a["kwargs"]["match"]}]}]}
    return out


_CLOUD_RUNNER = {}


def cloud_runner_available(opts):
    """False only when Salt's loader positively lacks the cloud runner (Salt 3008 moved salt-cloud out of core;
    there a runner.cloud.create reaction would fail with a terse "function not available"). Asked once per
    process: building Salt's runner loader is costly, and which runners exist changes only with a restart."""
    if "answer" not in _CLOUD_RUNNER:
        try:
            import salt.loader
            _CLOUD_RUNNER["answer"] = "cloud.create" in salt.loader.runner(opts)
        except ImportError:
            _CLOUD_RUNNER["answer"] = True  # not inside a Salt master: nothing to ask
        except Exception:  # the question itself failed: let Salt's own error speak
            _CLOUD_RUNNER["answer"] = True
    return _CLOUD_RUNNER["answer"]


def write_autosign_stub(settings, path):
    """Salt's master accepts this minion id's key once while the stub exists (AutoKey.check_autosign_dir),
    and removes it once its mtime is older than autosign_timeout. The stub is empty, so there is nothing to
    half-write: it is created in place (no temp file and rename, a third of the write's cost), without following
    a symlink, and its mtime is set to now when it was there already (a repeated launch restarts the timeout)."""
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        os.makedirs(folder, mode=0o700, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EPERM, errno.ELOOP):
            raise
        # A stub there already that the master cannot open for writing (root's, mode 0644) or a symlink:
        # replaced by a file of its own, through a temp file in pki_dir (not in minions_autosign/, where Salt
        # would see it).
        from .store import _write_atomic
        _write_atomic(path, b"", 0o600, tmp_dir=settings.pki_dir)
        return
    try:
        os.utime(fd)
    finally:
        os.close(fd)


def remove_autosign_stub(path):
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False


class Performer(object):
    """Does an accepted Decision's actions, logs what it did (the documented lines) and returns the reaction.

    `execute`: None in Salt's reactor, where the runner/wheel actions become the returned reaction and Salt runs
    them after run() returns. The SQS engine, which has no reactor to return them to, passes
    executor.SaltCalls(...).run: each runs here, before the message is recorded as handled, and a failure
    raises (nothing recorded as handled, the message stays in its queue)."""

    def __init__(self, opts, settings, store, alerts, fetch=https_get, now=time.time, execute=None):
        self.opts, self.settings, self.store, self.alerts, self.fetch, self.now = opts, settings, store, alerts, fetch, now
        self.execute = execute

    def perform(self, decision, actions):
        if str(decision.facts.get("outcome")).startswith("lifecycle_"):
            return self.perform_lifecycle(decision, actions)
        return self._perform(decision, actions)

    def perform_lifecycle(self, decision, actions):
        """A lifecycle message: admit (launch) as the bootstrap mode says, record the open action; the
        lifecycle worker makes the AWS calls. A message for an action open or completed already does nothing."""
        facts = decision.facts
        ids = "message_id=%s topic_arn=%s" % (shown(decision.envelope["MessageId"]), shown(decision.envelope["TopicArn"]))
        instance_id, group = facts["instance_id"], facts["group"]
        make = lifecycle.new_launch_action if facts["outcome"] == "lifecycle_launch" else lifecycle.new_terminate_action
        action = make(facts, self.settings.groups.get(group) or {}, self.now(), decision.envelope["MessageId"])
        what = "launch" if action["kind"] == "launch" else "termination"
        moved = " from %s to %s" % (facts.get("origin"), facts.get("destination")) if facts.get("warm_pool") else ""
        with ledger.locked(self.store):
            duplicate = (ledger.read_action(self.store, instance_id).get("token") == facts["token"]
                         or ledger.token_completed(self.store, instance_id, facts["token"]))
        reaction = {}
        if duplicate:
            log.info("ec2-autoscale: lifecycle %s of %s in group %s (hook %s): this action is open or completed "
                     "already; nothing to do (%s)", what, instance_id, shown(group), shown(facts["hook"]), ids)
            actions = [a for a in actions if a["action"] == "record_handled"]
        for a in actions:
            kind = a["action"]
            if kind in ("write_autosign_stub", "runner"):
                record = self.store.instance(instance_id)
                if a.get("unless_admitted") and record.get("admitted_at") and not record.get("terminated_at"):
                    log.info("ec2-autoscale: lifecycle launch of %s in group %s: out of the warm pool, admitted at "
                             "its first boot; not admitted again (%s)", instance_id, shown(group), ids)
                    continue
                reaction.update(self._perform(decision, [a]))
            elif kind == "remove_autosign_stub":
                remove_autosign_stub(a["path"])
            elif kind == "open_lifecycle":
                with ledger.locked(self.store):
                    lifecycle.open_lifecycle(self.store, action)
                if action["state"] == "draining":
                    reaction.update(lifecycle.drain_reaction(action))
                    then = "draining with %s %s (at most %d s), then the key delete and CONTINUE" % (
                        action["drain"]["fun"], action["drain"].get("mods", ""), action["drain_deadline"] - action["opened_at"])
                elif action["kind"] == "terminate":
                    then = "deleting the key, then CONTINUE" if action["delete_key"] else \
                        "back into the warm pool, keeping its key; CONTINUE"
                else:
                    then = "holding it in Pending:Wait until %s" % action["ready"]
                log.info("ec2-autoscale: lifecycle %s of %s in group %s (hook %s%s): %s (%s)", what, instance_id,
                         shown(group), shown(facts["hook"]), moved, then, ids)
                lifecycle_worker.ensure(self.opts, self.settings, self.store)
            elif kind == "record_handled":
                self.store.record_handled(decision.envelope["MessageId"], decision.signed,
                                          handled_record(decision, self.now()))
        return reaction

    def _perform(self, decision, actions):
        facts = decision.facts
        ids = "message_id=%s topic_arn=%s" % (shown(decision.envelope["MessageId"]), shown(decision.envelope["TopicArn"]))
        group, instance_id = facts.get("group"), facts.get("instance_id")
        reaction, done, removed = {}, True, False
        for a in actions:
            kind = a["action"]
            if kind == "write_autosign_stub":
                write_autosign_stub(self.settings, a["path"])
                ledger.record_decided_admission(self.store, decision, ledger.STUB_WRITTEN, self.now())
                log.info("ec2-autoscale: launch of %s in group %s: wrote the autosign stub (%s)",
                         instance_id, shown(group), ids)
            elif kind == "record_announcement":
                ledger.record_decided_announcement(self.store, decision, self.now())
                log.info("ec2-autoscale: launch of %s in group %s (attested): announced; its key is accepted once "
                         "the instance attests (%s)", instance_id, shown(group), ids)
            elif kind == "runner":
                if not cloud_runner_available(self.opts):
                    line = ("ec2-autoscale: launch of %s in group %s: cannot bootstrap it, this master has no "
                            "cloud runner (Salt 3008 moved salt-cloud out of core). Set `bootstrap: preauth` for "
                            "the group in salt-autoscale.yaml and render again, or install the salt-cloud "
                            "extension (%s)" % (instance_id, shown(group), ids))
                    log.error("%s", line)
                    self.alerts.send("cannot bootstrap %s" % instance_id, line)
                    continue
                log.info("ec2-autoscale: launch of %s in group %s: runner.cloud.create (%s)",
                         instance_id, shown(group), ids)
                if self.execute:
                    self.execute(a)
                    ledger.record_decided_admission(self.store, decision, ledger.CLOUD_CREATE_RUN, self.now())
                else:
                    reaction.update(salt_reaction([a]))
                    ledger.record_decided_admission(self.store, decision, ledger.CLOUD_CREATE_ASKED, self.now())
            elif kind == "bootstrap_elsewhere":
                log.info("ec2-autoscale: launch of %s in group %s: bootstrapped by another master "
                         "(performs_once_per_instance is false here) (%s)", instance_id, shown(group), ids)
            elif kind == "remove_autosign_stub":
                removed = remove_autosign_stub(a["path"])
            elif kind == "record_termination" and not self.execute:
                ledger.record_termination(self.store, instance_id, group, ledger.KEY_DELETE_ASKED,
                                          decision.envelope["MessageId"], self.now())
            elif kind == "wheel":
                log.info("ec2-autoscale: termination of %s in group %s: wheel.key.delete%s (%s)", instance_id,
                         shown(group), ", removed its unused autosign stub" if removed else "", ids)
                if self.execute:  # the termination is recorded once the key delete has run
                    self.execute(a)
                    ledger.record_termination(self.store, instance_id, group, ledger.KEY_DELETE_RUN,
                                              decision.envelope["MessageId"], self.now())
                else:
                    reaction.update(salt_reaction([a]))
            elif kind == "alert" and facts["outcome"] == "unsubscribe_confirmation":
                line = "ec2-autoscale: UnsubscribeConfirmation for %s; not visiting its SubscribeURL" % ids
                log.warning("%s", line)
                self.alerts.send("the SNS subscription was removed", line + "\nRun `salt-autoscale provision` "
                                 "to subscribe again if this was not intended.")
            elif kind == "alert":
                line = "ec2-autoscale: %s (%s)" % (a["message"], ids)
                log.warning("%s", line)
                self.alerts.send("%s in %s" % (facts["outcome"].replace("_", " "), group), line)
            elif kind == "log":
                log.info("ec2-autoscale: %s (%s)", a["message"], ids)
            elif kind == "email_subscribe_url":
                log.info("ec2-autoscale: SubscriptionConfirmation for %s: emailing the confirmation link", ids)
                if not self.settings.email:
                    log.error("ec2-autoscale: subscription_confirmation is email but no SMTP is configured")
                self.alerts.send("confirm the SNS subscription", "Visit this link to confirm the subscription "
                                 "(%s):\n\n%s\n" % (ids, a["url"]), rate_limited=False)
            elif kind == "confirm_subscription":
                done = self.confirm(a["url"], ids)
            elif kind == "record_handled" and done:
                self.store.record_handled(decision.envelope["MessageId"], decision.signed,
                                          handled_record(decision, self.now()))
        return reaction

    def confirm(self, url, ids):
        try:
            status, _ = self.fetch(url, self.settings.fetch_timeout)
            if status != 200:
                raise FetchFailed("HTTP Error %s" % status)
        except FetchFailed as exc:
            line = "ec2-autoscale: could not confirm the SNS subscription (%s): %s" % (ids, shown(str(exc), 300))
            log.error("%s", line)
            self.alerts.send("could not confirm the SNS subscription", line)
            return False  # not recorded: SNS's next delivery tries again
        log.info("ec2-autoscale: confirmed the SNS subscription (%s)", ids)
        return True
