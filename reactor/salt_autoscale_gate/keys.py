"""Removing a minion's key on the master, as `wheel.key.delete` does for exactly one id: Salt's own
salt.key.Key.delete_key when Salt is importable (it also fires salt/key and clears the minion's cache), else
the key files themselves (reconcile on a host without Salt's Python, the test harness)."""
import logging
import os

log = logging.getLogger("salt.reactor.ec2_autoscale")

# Salt's key directories under pki_dir (salt/key.py, Key.ACC/PEND/REJ/DEN), by the state salt-key shows.
KEY_DIRS = (("accepted", "minions"), ("pending", "minions_pre"), ("rejected", "minions_rejected"),
            ("denied", "minions_denied"))


def delete_key_files(pki_dir, instance_id):
    """Unlinks the id's key in every state; returns the states it was in. instance_id is checked i-<hex>."""
    removed = []
    for state, folder in KEY_DIRS:
        try:
            os.unlink(os.path.join(pki_dir, folder, instance_id))
            removed.append(state)
        except FileNotFoundError:
            pass
    return removed


def delete_key(opts, pki_dir, instance_id):
    try:
        import salt.key
    except ImportError:
        return delete_key_files(pki_dir, instance_id)
    try:
        salt.key.Key(opts).delete_key(match=instance_id)
    except Exception as exc:  # Salt's own path failed: the files are what matters
        log.warning("ec2-autoscale: salt.key could not delete the key of %s (%s); removing its files", instance_id,
                    exc)
    return delete_key_files(pki_dir, instance_id)
