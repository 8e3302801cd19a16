"""The gate's state on disk, under cache_dir (every directory mode 0700, owned by the master's user):

    certs/<sha256 of the URL>.pem            SNS signing certificates
    handled/<bucket>.log                     one line per handled message: the sha256 of its MessageId and of
                                             its signed string (a re-labelled replay), when, outcome, instance
    instances/journal.log                    one record per instance (instance_journal.py): its termination
                                             (the tombstone) and the admission ledger's keys (group,
                                             launched_at, admitted_*, ...), one appended line per change
    prune.stamp, alert.stamp                 when records were last pruned; when the last alert email went

A directory that is a symlink, not owned by the master's user, or writable by group or others is refused
(StoreProblem): anyone who can write there could plant a certificate and forge any message.
"""
import os
import stat
import threading
import time

from . import instance_journal
from .text import sha256_hex

PRUNE_EVERY_SECONDS = 60
MAX_CERT_BYTES = 64 * 1024
SUBDIRS = ("certs", "handled", "instances")
_PATHS = {}  # per process: cache_dir -> [it, its SUBDIRS] (joined once; they are checked on every event)
JOURNALS = {}  # per process: handled/<bucket>.log path -> [inode, bytes read, {digest: time}]
LEGACY = {}  # per process: cache_dir -> False once handled/ was seen without an earlier version's records
PRUNED = {}  # per process: cache_dir -> when this process last found or made a fresh prune.stamp


class StoreProblem(Exception):
    """The cache directory cannot be trusted or used: logged as one ERROR line, no reaction."""


def _trusted_owner(uid, readonly):
    # The reactor's own files are the master user's; verify (readonly, often another user) also accepts root's.
    return uid == os.geteuid() or (readonly and uid == 0)


def _check_dir(path, readonly):
    st = os.lstat(path)
    if st.st_uid == os.geteuid() and stat.S_ISDIR(st.st_mode) and not st.st_mode & 0o022:
        return  # as it should be, in one test: every directory is checked for every event
    if stat.S_ISLNK(st.st_mode):
        raise StoreProblem("%s is a symlink; use a real directory" % path)
    if not stat.S_ISDIR(st.st_mode):
        raise StoreProblem("%s is not a directory" % path)
    if not _trusted_owner(st.st_uid, readonly):
        raise StoreProblem("%s is owned by uid %d, not by the master's user (uid %d)" % (path, st.st_uid, os.geteuid()))
    if st.st_mode & 0o022:
        raise StoreProblem("%s is writable by group or others (mode %o); chmod 700 it" % (path, st.st_mode & 0o777))


def _write_atomic(path, content, mode=0o600, tmp_dir=None):
    """Write a file in one step: a temp file in tmp_dir (same filesystem) renamed over the target.

    The temp name is this process's and thread's own (a writer writes one file at a time), not mkstemp's random
    one: mkstemp's name generation was a third of the reactor's per-event write cost. O_NOFOLLOW and O_TRUNC
    make a leftover from a crash, or anything planted under that name, harmless (the directories are the master
    user's own and nobody else can write there)."""
    tmp = os.path.join(tmp_dir or os.path.dirname(path),
                       ".ec2-autoscale-%d-%d.tmp" % (os.getpid(), threading.get_ident()))
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
        try:
            os.fchmod(fd, mode)
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class Store(object):
    def __init__(self, root, keep_seconds, readonly=False):
        self.root, self.keep_seconds, self.readonly = root, keep_seconds, readonly
        self.absent = False
        self._digests = (None, None, None, None)  # (MessageId, signed, their sha256s): handled, then recorded
        paths = _PATHS.get(root)
        if paths is None:
            paths = _PATHS[root] = [root] + [os.path.join(root, d) for d in SUBDIRS]
        self._handled_dir = paths[2]
        for path in paths:
            try:
                _check_dir(path, readonly)
            except FileNotFoundError:
                if readonly and path == root:
                    self.absent = True  # nothing cached, nothing handled: judged as a first delivery
                    return
                if readonly:
                    continue  # e.g. a cache from an older reactor: what is not there reads as empty
                os.makedirs(path, mode=0o700, exist_ok=True)
                _check_dir(path, readonly)
            except PermissionError as exc:
                raise StoreProblem("%s cannot be read by this user (%s)" % (path, exc.strerror))

    # ── certificates ──
    def cert_path(self, url):
        return os.path.join(self.root, "certs", sha256_hex(url) + ".pem")

    def read_cert(self, url):
        """The cached PEM, or None. Opened without following symlinks, and only a regular file of the master's
        user that nobody else can write is believed."""
        if self.absent:
            return None
        try:
            fd = os.open(self.cert_path(url), os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            return None
        with os.fdopen(fd, "rb") as handle:
            st = os.fstat(handle.fileno())
            if not stat.S_ISREG(st.st_mode) or not _trusted_owner(st.st_uid, self.readonly) or st.st_mode & 0o022:
                return None
            return handle.read(MAX_CERT_BYTES + 1)

    def write_cert(self, url, pem):
        if self.readonly:
            return
        try:
            _write_atomic(self.cert_path(url), pem, 0o600)
        except OSError:
            pass  # only a cache: the next message fetches again

    # ── handled messages ──
    # One line per handled message, appended to handled/<bucket>.log (bucket = time // keep_seconds): creating
    # a file per message costs ~1 ms on some disks, an append ~10 us. A line is written with one write() on an
    # O_APPEND descriptor, so it is all there or (after a crash mid-write) unparsable and ignored: never half a
    # record. Lookups read the current and the previous bucket, so a record lives at least keep_seconds; older
    # buckets are pruned. The reactor process keeps what it has read (JOURNALS) and reads only what was added.
    def _bucket_paths(self, now):
        bucket = int(now // max(self.keep_seconds, 1))
        return ["%s/%d.log" % (self._handled_dir, b) for b in (bucket, bucket - 1)]

    def _digests_of(self, message_id, signed):
        if self._digests[0] != message_id or self._digests[1] != signed:
            self._digests = (message_id, signed, sha256_hex(message_id), sha256_hex(signed))
        return self._digests[2], self._digests[3]

    def _journal(self, path):
        """{digest: time} of a bucket file, read incrementally (a replaced or shrunk file is read again)."""
        try:
            st = os.stat(path)
        except OSError:
            JOURNALS.pop(path, None)
            return {}
        known = JOURNALS.get(path)
        if known is None or known[0] != st.st_ino or known[1] > st.st_size:
            known = JOURNALS[path] = [st.st_ino, 0, {}]
        if known[1] < st.st_size:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as handle:
                handle.seek(known[1])
                data = handle.read(st.st_size - known[1])
            end = data.rfind(b"\n") + 1  # a line still being written is read next time
            for line in data[:end].decode("utf-8", "replace").splitlines():
                parts = line.split(" ")
                if len(parts) >= 3 and len(parts[0]) == 64 and len(parts[1]) == 64:
                    try:
                        when = float(parts[2])
                    except ValueError:
                        continue
                    known[2][parts[0]] = known[2][parts[1]] = when
            known[1] += end
        return known[2]

    def handled(self, message_id, signed, before=None, now=None):
        """When this MessageId or this exact signed content was handled (epoch seconds), or None. `before`:
        count only records older than that time (verify --at)."""
        if self.absent:
            return None
        by_id, by_content = self._digests_of(message_id, signed)
        for path in self._bucket_paths(time.time() if now is None else now):
            journal = self._journal(path)
            for digest in (by_id, by_content):
                when = journal.get(digest)
                if when is not None and (before is None or when < before):
                    return when
        if not self._has_legacy_records():
            return None
        try:  # a record left by an earlier version: one file per MessageId
            when = os.stat(os.path.join(self.root, "handled", by_id)).st_mtime
            return when if before is None or when < before else None
        except OSError:
            return None

    def _has_legacy_records(self):
        """Whether handled/ holds an earlier version's one-file-per-message records. Asked once per process
        and directory: this version never writes them, so once there are none there never are."""
        if LEGACY.get(self.root) is False:
            return False
        try:
            names = os.listdir(os.path.join(self.root, "handled"))
        except OSError:
            return False
        LEGACY[self.root] = any(len(n) == 64 and not n.endswith(".log") for n in names)
        return LEGACY[self.root]

    def record_handled(self, message_id, signed, record):
        """Records the message as handled, once its reaction is decided and its side effects are done."""
        now = record["at"]
        by_id, by_content = self._digests_of(message_id, signed)
        line = "%s %s %.3f %s %s\n" % (by_id, by_content, now, record.get("outcome") or "-",
                                       record.get("instance_id") or "-")
        path = self._bucket_paths(now)[0]
        data = line.encode("ascii")
        known = JOURNALS.get(path)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            was = os.fstat(fd)
            size = was.st_size
            read_to_end = known is not None and known[0] == was.st_ino and known[1] == size
            if size and not read_to_end and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data  # a line a crash cut short: this one starts on a line of its own
            os.write(fd, data)
            st = os.fstat(fd)
        finally:
            os.close(fd)
        # When nobody else appended since this process last read the journal, what it knows plus this line is
        # the whole file: remember the line instead of reading it back on the next event.
        if known is None and st.st_size == len(data):
            known = JOURNALS[path] = [st.st_ino, 0, {}]
        if known is not None and known[0] == st.st_ino and known[1] + len(data) == st.st_size:
            known[1] = st.st_size
            known[2][by_id] = known[2][by_content] = now
        self.prune(now)
        return True

    # ── instances: the gate's tombstones and the ledger's entries, one record per instance ──
    def instance(self, instance_id):
        """The instance's record ({} when there is none). Written by ledger.py only."""
        return {} if self.absent else instance_journal.read(self.root, instance_id)

    def terminated_at(self, instance_id, now):
        """When the instance's termination was handled, if within keep_seconds of now."""
        when = self.instance(instance_id).get("terminated_at")
        if isinstance(when, (int, float)) and now - when < self.keep_seconds and when <= now:
            return when
        return None

    # ── housekeeping ──
    def prune(self, now=None):
        """Forget handled messages older than keep_seconds (those messages are stale anyway); at most once a
        minute. Tombstones stay: they are ledger entries, which the ledger's own bound evicts."""
        stamp = os.path.join(self.root, "prune.stamp")
        now = time.time() if now is None else now
        if 0 <= now - PRUNED.get(self.root, -PRUNE_EVERY_SECONDS) < PRUNE_EVERY_SECONDS:
            return  # this process saw a fresh stamp within the minute: no need to stat it again
        try:
            stamped = os.path.getmtime(stamp)
            if now - stamped < PRUNE_EVERY_SECONDS:
                PRUNED[self.root] = stamped
                return
        except OSError:
            pass
        _write_atomic(stamp, b"", 0o600)
        PRUNED[self.root] = now
        cutoff = now - self.keep_seconds
        current = [os.path.basename(p) for p in self._bucket_paths(now)]
        folder = os.path.join(self.root, "handled")
        for name in os.listdir(folder):
            path = os.path.join(folder, name)
            try:
                if name.endswith(".log"):
                    if name not in current:
                        os.unlink(path)
                        JOURNALS.pop(path, None)
                elif os.path.getmtime(path) < cutoff:  # an earlier version's one file per message
                    os.unlink(path)
            except OSError:
                pass

    def alert_allowed(self, min_interval, budget="verified"):
        """At most one alert email per min_interval seconds per budget, across events (a stamp file's mtime)."""
        stamp = os.path.join(self.root, "alert.stamp" if budget == "verified" else "alert-%s.stamp" % budget)
        try:
            if time.time() - os.path.getmtime(stamp) < min_interval:
                return False
        except OSError:
            pass
        if not self.readonly:
            _write_atomic(stamp, b"", 0o600)
        return True
