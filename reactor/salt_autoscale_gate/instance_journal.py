"""The instances' records (the gate's tombstones and the admission ledger's entries) as one append-only journal,
<cache_dir>/instances/journal.log. One line per change, the instance's whole record:

    <instance id> <length of the JSON in bytes> <the record as JSON>
    <instance id> -                                      (the record removed: evicted)

The latest line of an id wins. Why a journal and not a file per instance: an accepted launch in Salt's reactor
loop paid most of its cost creating that file's inode (266-278 us on the test VM's ext4, against ~1 us for an
append). A reader keeps what it has read (per process, _CACHE) and reads only what was appended since; a rewrite
(compaction, eviction) replaces the file, and a reader that sees another inode reads it again from the start.

Writers append and rewrite only under the ledger's lock (ledger.locked), so one writer at a time. A line is one
write() on an O_APPEND descriptor; a line a crash cut short fails its length check and is ignored, and the next
append starts on a line of its own, so it never swallows its successor.
"""
import json
import os
import stat
import threading

NAME = "journal.log"
MAX_LINE_BYTES = 64 * 1024
# Rewrite once the journal holds this many lines more than twice its live records: the file stays within about
# twice the live size, and a busy master rewrites it once per ~COMPACT_SLACK changes at most.
COMPACT_SLACK = 1000

_ENCODER = json.JSONEncoder(sort_keys=True)  # once: json.dumps with a keyword builds an encoder per call
_CACHE = {}  # journal path -> [inode, bytes read (to the end of a whole line), size seen, lines read, {id: JSON}]
_guard = threading.Lock()  # the reactor's worker threads and the engines' threads share _CACHE


_PATHS = {}


def path_of(root):
    path = _PATHS.get(root)
    if path is None:
        path = _PATHS[root] = os.path.join(root, "instances", NAME)
    return path


def _ingest(known, data):
    """Applies the whole lines of data to the cached state; returns the bytes consumed."""
    end = data.rfind(b"\n") + 1  # a line still being written is read next time
    records = known[4]
    for line in data[:end].split(b"\n")[:-1]:
        known[3] += 1
        head, _, rest = line.partition(b" ")
        if not head.startswith(b"i-"):
            continue
        size, _, body = rest.partition(b" ")
        if size == b"-" and not body:
            records.pop(head.decode("ascii", "replace"), None)
        elif size.isdigit() and int(size) == len(body) and len(body) <= MAX_LINE_BYTES:
            records[head.decode("ascii", "replace")] = body
    return end


def _refresh(root):
    """The journal's live records, instance id -> JSON bytes, brought up to date with one stat when unchanged."""
    path = path_of(root)
    try:
        st = os.lstat(path)
    except OSError:
        _CACHE.pop(path, None)
        return {}
    if not stat.S_ISREG(st.st_mode):
        return {}
    known = _CACHE.get(path)
    if known is not None and known[0] == st.st_ino and known[2] == st.st_size:
        return known[4]
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return {}
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(handle.fileno())  # the file opened, which a rewrite may have replaced since the lstat
        if known is None or known[0] != st.st_ino or known[1] > st.st_size:
            known = [st.st_ino, 0, 0, 0, {}]
        handle.seek(known[1])
        data = handle.read(st.st_size - known[1])
    known[1] += _ingest(known, data)
    known[2] = st.st_size
    _CACHE[path] = known
    return known[4]


def records(root):
    """Every live record, instance id -> record (dict)."""
    with _guard:
        raw = dict(_refresh(root))
    out = {}
    for instance_id, body in raw.items():
        record = _parse(body)
        if record:
            out[instance_id] = record
    return out


def read(root, instance_id):
    """The instance's record ({} when there is none)."""
    with _guard:
        body = _refresh(root).get(instance_id)
    return _parse(body) if body is not None else {}


def count(root):
    with _guard:
        return len(_refresh(root))


def _parse(body):
    try:
        record = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}
    return record if isinstance(record, dict) else {}


def _line(instance_id, record):
    if record is None:
        return instance_id.encode("ascii") + b" -\n"
    body = _ENCODER.encode(record).encode("utf-8")
    return b"%s %d %s\n" % (instance_id.encode("ascii"), len(body), body)


def append(root, instance_id, record):
    """Writes the instance's whole record (None: removes it). The caller holds the ledger's lock."""
    path = path_of(root)
    line = _line(instance_id, record)
    with _guard:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            st = os.fstat(fd)
            known = _CACHE.get(path)
            current = known is not None and known[0] == st.st_ino and known[1] == known[2] == st.st_size
            if st.st_size and not current and os.pread(fd, 1, st.st_size - 1) != b"\n":
                line = b"\n" + line  # a line cut short by a crash: ours starts on a line of its own
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        if current:  # what this process knows plus this line is the whole file: no need to read it back
            known[1] = known[2] = st.st_size + len(line)
            known[3] += 1
            if record is None:
                known[4].pop(instance_id, None)
            else:
                known[4][instance_id] = line[line.index(b" ", len(instance_id) + 1) + 1:-1]
        live = known[4] if current else _refresh(root)
        if _CACHE[path][3] > 2 * len(live) + COMPACT_SLACK:
            _rewrite(root, live)


def rewrite(root, keep):
    """Replaces the journal by the records of the ids in keep (a rewrite: eviction). Caller holds the lock."""
    with _guard:
        live = _refresh(root)
        _rewrite(root, dict((i, live[i]) for i in keep if i in live))


def _rewrite(root, live):
    from .store import _write_atomic  # here, not at the top: store reads instances through this module
    path = path_of(root)
    lines = [b"%s %d %s\n" % (i.encode("ascii"), len(live[i]), live[i]) for i in sorted(live)]
    content = b"".join(lines)
    _write_atomic(path, content)
    st = os.lstat(path)
    _CACHE[path] = [st.st_ino, len(content), len(content), len(lines), dict(live)]
