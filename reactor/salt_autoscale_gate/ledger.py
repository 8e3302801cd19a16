"""The admission ledger: which instance ids this tool admitted, how and when, and when they went. It lets
`salt-autoscale reconcile` tell the minions it manages from everyone else's (docs/reactor.md, "The admission
ledger").

Each entry is the instance's record in the store (the record the gate's tombstone lives in), written whole as
one line appended to instances/journal.log (instance_journal.py): a reader sees the old entry or the new one.
Every read-modify-write holds an exclusive flock on <cache_dir>/ledger.lock: the reactor (several worker
threads, one master process) and reconcile (another process) take turns. Entries are written only while an
accepted decision is performed (the reactor's or reconcile's), never while judging.

Bounded: at most MAX_ENTRIES entries, counted on every new entry (the journal's reader keeps the count). Past
that, entries are evicted down to EVICT_TO: terminated ones first, oldest termination first; only then, if the
fleet itself is that large, live ones, oldest admission first.
"""
import contextlib
import fcntl
import json
import os
import threading

from . import instance_journal
from .policy import parse_timestamp
from .store import _write_atomic
from .text import sha256_hex

FORMAT = 1
MAX_ENTRIES = 10000
EVICT_TO = 9000
LOCK_NAME = "ledger.lock"

# How an instance was admitted or removed (the entry's admitted_how / terminated_how).
STUB_WRITTEN = "stub_written"
CLOUD_CREATE_ASKED = "cloud_create_asked"
ATTESTED_KEY_WRITTEN = "attested_key_written"  # attest.py wrote the attested key to pki/minions/<id>
KEY_DELETE_ASKED = "key_delete_asked"  # the reactor's wheel.key.delete reaction, run by Salt after it returns
CLOUD_CREATE_RUN = "cloud_create_run"  # the SQS engine ran runner.cloud.create itself, and it succeeded
KEY_DELETE_RUN = "key_delete_run"  # the SQS engine ran wheel.key.delete itself, and it succeeded
KEY_DELETED = "key_deleted"  # reconcile removed the key files itself
VIA_RECONCILE = "reconcile"
LIFECYCLE_KEY_DELETED = "lifecycle_key_deleted"  # the lifecycle worker deleted the key, then completed the hook


_held = threading.local()
_threads = threading.Lock()  # the flock below is per open file, so threads of one process take this first
_lock_files = {}  # (lock path, pid) -> (descriptor, its inode), opened once per process: an open per event was measurable


def _lock_fd(path):
    """This process's descriptor of the lock file; opened again when the file was replaced (a cache dir made
    afresh) or after a fork (a child must not share its parent's open file, hence its flock)."""
    key = (path, os.getpid())
    known = _lock_files.get(key)
    if known is not None:
        fd, inode = known  # while fd is open, its inode number cannot go to another file
        try:
            if os.stat(path).st_ino == inode:
                return fd
        except OSError:
            pass
        os.close(fd)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    _lock_files[key] = (fd, os.fstat(fd).st_ino)
    return fd


@contextlib.contextmanager
def locked(store):
    """The ledger's lock: held while an entry is read and rewritten, and by reconcile while it acts. Reentrant
    within a thread; other threads and processes wait."""
    if getattr(_held, "depth", 0):
        _held.depth += 1
        try:
            yield
        finally:
            _held.depth -= 1
        return
    with _threads:
        fd = _lock_fd(os.path.join(store.root, LOCK_NAME))
        fcntl.flock(fd, fcntl.LOCK_EX)
        _held.depth = 1
        try:
            yield
        finally:
            _held.depth = 0
            fcntl.flock(fd, fcntl.LOCK_UN)


def _launched_at(decision):
    """The launch's StartTime from the Auto Scaling message, in epoch seconds, when it has a readable one."""
    start = decision.message.get("StartTime") if isinstance(decision.message, dict) else None
    try:
        return parse_timestamp(start) if isinstance(start, str) else None
    except ValueError:
        return None


def record_admission(store, instance_id, group, how, via, now, launched_at=None):
    """The instance was admitted: its stub written, or cloud.create asked for. `via`: the MessageId, or
    "reconcile". A later admission of the same id (a reused id) clears the earlier termination."""
    with locked(store):
        record = store.instance(instance_id)
        new = not record
        for key in ("terminated_at", "terminated_how", "terminated_by"):
            record.pop(key, None)
        record.update(ledger=FORMAT, group=group, admitted_at=now, admitted_how=how, admitted_via=via,
                      launched_at=launched_at)
        count = _write(store, instance_id, record)
    _evict_sometimes(store, new, count)


def record_decided_admission(store, decision, how, now):
    facts = decision.facts
    record_admission(store, facts["instance_id"], facts.get("group"), how, decision.envelope["MessageId"], now,
                     _launched_at(decision))


def record_announcement(store, instance_id, group, topic_arn, via, now, launched_at=None):
    """An attested group's launch, verified: the instance may now attest (attest.py). No stub, no key yet:
    admitted_* stays unset until the instance's own key is written. A key already attested for the id stays:
    a later launch message never reopens the first-key-wins choice (EC2 does not reuse instance ids)."""
    with locked(store):
        record = store.instance(instance_id)
        new = not record
        for key in ("terminated_at", "terminated_how", "terminated_by"):
            record.pop(key, None)
        record.update(ledger=FORMAT, group=group, announced_at=now, announced_via=via, announced_topic=topic_arn,
                      launched_at=launched_at)
        count = _write(store, instance_id, record)
    _evict_sometimes(store, new, count)


def record_decided_announcement(store, decision, now):
    facts = decision.facts
    record_announcement(store, facts["instance_id"], facts.get("group"), decision.envelope.get("TopicArn"),
                        decision.envelope["MessageId"], now, _launched_at(decision))


def record_attested(store, instance_id, public_key, fingerprint, document_sha256, now):
    """The instance's own key was written to pki/minions/<id>: the first key wins, the document is used up.
    The caller holds the lock (attest.py checks and writes under it)."""
    with locked(store):
        record = store.instance(instance_id)
        record.update(ledger=FORMAT, admitted_at=now, admitted_how=ATTESTED_KEY_WRITTEN, admitted_via="attestation",
                      attested_key=public_key, attested_key_fingerprint=fingerprint,
                      attested_document_sha256=document_sha256)
        _write(store, instance_id, record)


def record_termination(store, instance_id, group, how, via, now):
    """The instance is gone and its key deleted (or asked to be). Keeps the admission's fields: the entry then
    says the whole story. terminated_at is also the gate's tombstone (a later launch message is refused)."""
    with locked(store):
        record = store.instance(instance_id)
        new = not record
        record.update(ledger=FORMAT, terminated_at=now, terminated_how=how, terminated_by=via)
        if group is not None:
            record["group"] = group
        count = _write(store, instance_id, record)
    _evict_sometimes(store, new, count)


def _write(store, instance_id, record):
    """Appends the entry; returns how many entries the ledger holds now."""
    record["instance_id"] = instance_id
    return instance_journal.append(store.root, instance_id, record)


def entries(store):
    """Every ledger entry, instance id -> record."""
    return instance_journal.records(store.root)


def _eviction_order(item):
    """Terminated entries first, oldest termination first; then live ones, oldest admission first."""
    record = item[1]
    terminated = record.get("terminated_at")
    if isinstance(terminated, (int, float)):
        return (0, terminated)
    admitted = record.get("admitted_at")
    return (1, admitted if isinstance(admitted, (int, float)) else 0)


def _evict_sometimes(store, new, count):
    """Only a new entry grows the ledger; count is the journal reader's, after the write (nothing listed or
    parsed unless the ledger is over the bound)."""
    if new and count > MAX_ENTRIES:
        evict(store)


def evict(store, max_entries=None, evict_to=None):
    """Keeps the ledger within MAX_ENTRIES; records are parsed only when it is over. Returns how many went."""
    max_entries = MAX_ENTRIES if max_entries is None else max_entries
    evict_to = EVICT_TO if evict_to is None else evict_to
    if instance_journal.count(store.root) <= max_entries:
        return 0
    with locked(store):
        current = sorted(entries(store).items(), key=_eviction_order)
        gone = len(current) - evict_to
        if gone <= 0:
            return 0
        instance_journal.rewrite(store.root, [instance_id for instance_id, _ in current[gone:]])
    return gone


# ── open lifecycle actions ──
# One file per instance held by a lifecycle hook, <cache_dir>/lifecycle/<instance id>.json, from the lifecycle
# message until CompleteLifecycleAction succeeded (then it is removed and the instance's entry notes the token
# as completed). A file of its own, not a key of the instance's entry: the handler of salt/auth and job returns
# (every minion's) asks "is an action open for this id?" with one stat, and parses nothing unless one is.
LIFECYCLE_DIR = "lifecycle"
COMPLETED_KEEP = 5  # tokens remembered per instance (a duplicate message completes once)


def action_path(store, instance_id):
    return os.path.join(store.root, LIFECYCLE_DIR, instance_id + ".json")


def action_exists(cache_dir, instance_id):
    """The handler's one stat, before any Settings or Store: is an action open for this id?"""
    try:
        os.stat(os.path.join(cache_dir, LIFECYCLE_DIR, instance_id + ".json"))
        return True
    except OSError:
        return False


def read_action(store, instance_id):
    """The open action for this id ({} when none). Read without following symlinks, like every store record."""
    try:
        fd = os.open(action_path(store, instance_id), os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return {}
    with os.fdopen(fd, "rb") as handle:
        try:
            record = json.loads(handle.read(64 * 1024).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return {}
    return record if isinstance(record, dict) else {}


def write_action(store, action):
    folder = os.path.join(store.root, LIFECYCLE_DIR)
    if not os.path.isdir(folder):
        os.makedirs(folder, mode=0o700, exist_ok=True)
    action["ledger"] = FORMAT
    _write_atomic(action_path(store, action["instance_id"]), json.dumps(action, sort_keys=True).encode("utf-8"))


def open_actions(store):
    """Every open action, instance id -> record (the worker and reconcile; a listdir of the open ones only)."""
    try:
        names = os.listdir(os.path.join(store.root, LIFECYCLE_DIR))
    except OSError:
        return {}
    out = {}
    for name in names:
        if name.endswith(".json") and not name.startswith("."):
            record = read_action(store, name[:-5])
            if record:
                out[name[:-5]] = record
    return out


def token_completed(store, instance_id, token):
    """Whether this token's action was completed already (a duplicate lifecycle message)."""
    done = store.instance(instance_id).get("lifecycle_completed")
    digest = sha256_hex(token)
    return isinstance(done, list) and any(isinstance(d, dict) and d.get("token_sha256") == digest for d in done)


def close_action(store, action, how, now):
    """The action is over (completed with AWS, or gone there): remove its file and note it in the instance's
    entry. Caller holds the lock."""
    record = store.instance(action["instance_id"])
    done = record.get("lifecycle_completed") if isinstance(record.get("lifecycle_completed"), list) else []
    done.append({"token_sha256": sha256_hex(action["token"]), "hook": action.get("hook"),
                 "transition": action.get("transition"), "result": action.get("result"), "how": how, "at": now})
    record.update(ledger=FORMAT, lifecycle_completed=done[-COMPLETED_KEEP:])
    if action.get("group") is not None:
        record.setdefault("group", action["group"])
    _write(store, action["instance_id"], record)
    try:
        os.unlink(action_path(store, action["instance_id"]))
    except FileNotFoundError:
        pass
