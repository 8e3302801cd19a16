"""A read-only view of __opts__['ec2.autoscale'] (written by `salt-autoscale render`), with defaults."""
import os


class ConfigProblem(Exception):
    """The master's settings are missing or unusable (not the sender's fault): logged as one ERROR line."""


class Settings(object):
    def __init__(self, opts):
        raw = opts.get("ec2.autoscale")
        if not isinstance(raw, dict):
            raise ConfigProblem("__opts__['ec2.autoscale'] is missing: install the master.d drop-in that "
                                "`salt-autoscale render` writes and restart the master")
        # Empty until `provision` has written sns.topic_arn: every message is then rejected as unknown_topic.
        topics = raw.get("topic_arns") or []
        if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
            raise ConfigProblem("ec2.autoscale.topic_arns must be a list of topic ARNs")
        groups = raw.get("groups")
        if not isinstance(groups, dict) or not groups:
            raise ConfigProblem("ec2.autoscale.groups must map group names to their bootstrap settings")
        self.topic_arns = tuple(topics)
        # Where the master calls Auto Scaling (lifecycle hooks): ec2.autoscale.region, else the topic's region.
        region = raw.get("region") or (topics[0].split(":")[3] if topics and len(topics[0].split(":")) > 3 else None)
        self.region = str(region) if region else None
        self.groups = groups
        alerts = raw.get("alerts") if isinstance(raw.get("alerts"), dict) else {}
        try:
            self.max_age = int(_setting(raw, "max_age", 3600))
            self.clock_skew = int(_setting(raw, "clock_skew", 300))
            self.fetch_timeout = float(_setting(raw, "cert_fetch_timeout", 10))
            self.min_interval = int(_setting(alerts, "min_interval", 300))
            attest = raw.get("attest") if isinstance(raw.get("attest"), dict) else {}
            self.attest_window = int(_setting(attest, "window", 900))
        except (TypeError, ValueError) as exc:
            raise ConfigProblem("ec2.autoscale has a setting that is not a number: %s" % exc)
        # Attested admission: extra instance identity certificates (<region>*.pem) that render installed.
        self.attest_certs_dir = attest.get("extra_certs_dir") or None
        cache_dir = raw.get("cache_dir") or os.path.join(opts.get("cachedir") or "/var/cache/salt/master",
                                                         "ec2-autoscale")
        self.cache_dir = str(cache_dir)
        # Autosign stubs go to pki_dir: Salt reads them from the authenticating master's own pki_dir, cluster or
        # not (salt/daemons/masterapi.py AutoKey.check_autosign_dir). Minion keys live in keys_dir: a master
        # cluster (3007+, cluster_id set) keeps them in cluster_pki_dir (salt/key.py Key.__init__,
        # salt/channel/server.py _auth). ec2.autoscale.pki_dir, when given, names both.
        self.pki_dir = str(raw.get("pki_dir") or opts.get("pki_dir") or "/etc/salt/pki/master")
        clustered = opts.get("cluster_id") and opts.get("cluster_pki_dir")
        self.keys_dir = str(raw.get("pki_dir") or (opts["cluster_pki_dir"] if clustered else self.pki_dir))
        # Several masters: only the one marked true runs what must happen once per instance (cloud.create).
        once = raw.get("performs_once_per_instance", True)
        if not isinstance(once, bool):
            raise ConfigProblem("ec2.autoscale.performs_once_per_instance must be true or false, not %r" % (once,))
        self.performs_once = once
        self.region = raw.get("region") if isinstance(raw.get("region"), str) else None
        self.confirm = raw.get("subscription_confirmation") or "auto"
        self.email = bool(alerts.get("email")) and bool(opts.get("smtp.host"))
        self.password_file = alerts.get("password_file")
        self._opts, self._smtp = opts, None

    @property
    def smtp(self):
        """Salt's smtp.* settings. Read when an email is composed (on the reactor's thread, before the sending
        thread starts), then kept: a real master's opts have hundreds of keys, and Settings is built per event."""
        if self._smtp is None:
            self._smtp = dict((k, v) for k, v in self._opts.items() if isinstance(k, str) and k.startswith("smtp."))
        return self._smtp

    @property
    def attested_groups(self):
        return [name for name, g in self.groups.items() if isinstance(g, dict) and g.get("bootstrap") == "attested"]

    @property
    def keep_seconds(self):
        """How long handled messages and tombstones are kept: longer than any message can stay fresh."""
        return self.max_age + self.clock_skew


def _setting(raw, name, default):
    value = raw.get(name)
    return default if value is None else value
