"""The instances' records (the gate's tombstones and the admission ledger's entries) as one append-only journal,
<cache_dir>/instances/journal.log:

    #journal <32 hex digits>                             its generation: new whenever the file is made or rewritten
    <instance id> <length of the JSON in bytes> <the record as JSON>
    ...

One line per change, the instance's whole record; the latest line of an id wins. Why a journal and not a file
per instance: an accepted launch in Salt's reactor loop paid most of its cost creating that file's inode
(266-278 us on the test VM's ext4, against ~1 us for an append). A reader keeps what it has read (per process,
_CACHE) and reads only what was appended since. A rewrite (compaction, eviction) replaces the file; a reader
that finds another generation reads it again from the start. The generation, not the inode number, says which
file it is: ext4 hands a freed inode number out again at once (a deleted journal made afresh, two rewrites).

Writers append and rewrite only under the ledger's lock (ledger.locked), so one writer at a time. A line is one
write() on an O_APPEND descriptor; a line a crash cut short fails its length check and is ignored, and the next
append starts on a line of its own, so it never swallows its successor.
"""
import binascii
import json
import os
import re
import stat
import threading

NAME = "journal.log"
MAX_LINE_BYTES = 64 * 1024
# Rewrite once the journal holds this many lines more than twice its live records: the file stays within about
# twice the live size, and a busy master rewrites it once per ~COMPACT_SLACK changes at most.
COMPACT_SLACK = 1000
HEADER_RE = re.compile(rb"#journal [0-9a-f]{32}\n")
HEADER_BYTES = len(b"#journal \n") + 32
ID_RE = re.compile(rb"i-[0-9a-f]{8}(?:[0-9a-f]{9})?")  # policy.INSTANCE_ID_RE, as bytes

_ENCODER = json.JSONEncoder(sort_keys=True)  # once: json.dumps with a keyword builds an encoder per call
TAIL_BYTES = 64  # the end of what a reader has read, which it checks is still there before it reads on
_CACHE = {}  # journal path -> _Known
_PATHS = {}
_guard = threading.Lock()  # the reactor's worker threads and the engines' threads share _CACHE


class _Known(object):
    """What this process has read of one journal file."""

    def __init__(self, generation, inode):
        self.generation, self.inode = generation, inode
        self.offset = 0  # bytes read, up to the end of a whole line
        self.size, self.mtime = -1, None  # the file's size and mtime when last read: unchanged means nothing new
        self.lines = 0
        self.records = {}  # instance id -> its latest record, JSON bytes
        self.tail = b""  # the last TAIL_BYTES bytes read, ending at offset

    def unchanged(self, st):
        # Same inode, size and mtime: nothing appended, nothing rewritten. Two rewrites could bring back the inode
        # and the size within one mtime tick (1-4 ms on older kernels), but rewrites are at least COMPACT_SLACK
        # appends apart (an eviction, EVICT_TO below the bound: a thousand new entries apart).
        return self.inode == st.st_ino and self.size == st.st_size and self.mtime == st.st_mtime_ns

    def continues(self, fd, st, generation):
        """Whether the file is the one read so far, grown: same generation and inode, and what was read last is
        still where it was (`cp backup journal.log` keeps the generation and the inode, not the content)."""
        if self.generation != generation or self.inode != st.st_ino or self.offset > st.st_size:
            return False
        return not self.tail or os.pread(fd, len(self.tail), self.offset - len(self.tail)) == self.tail

    def consumed(self, data):
        self.offset += len(data)
        self.tail = (self.tail + data)[-TAIL_BYTES:]

    def saw(self, st):
        self.size, self.mtime = st.st_size, st.st_mtime_ns


def path_of(root):
    path = _PATHS.get(root)
    if path is None:
        path = _PATHS[root] = os.path.join(root, "instances", NAME)
    return path


def _generation(fd):
    """The file's generation (its header), or b"" for a file without one."""
    head = os.pread(fd, HEADER_BYTES, 0)
    return head if HEADER_RE.fullmatch(head) else b""


def _ingest(known, data):
    """Applies the whole lines of data to the cached state (a line still being written is read next time)."""
    end = data.rfind(b"\n") + 1
    records = known.records
    for line in data[:end].split(b"\n")[:-1]:
        known.lines += 1
        head, _, rest = line.partition(b" ")
        size, _, body = rest.partition(b" ")
        if ID_RE.fullmatch(head) and size.isdigit() and int(size) == len(body) and len(body) <= MAX_LINE_BYTES:
            records[head.decode("ascii")] = body
    known.consumed(data[:end])


def _refresh(root):
    """The journal's live records, instance id -> JSON bytes, brought up to date (one lstat when unchanged)."""
    path = path_of(root)
    try:
        st = os.lstat(path)
    except OSError:
        _CACHE.pop(path, None)
        return {}
    if not stat.S_ISREG(st.st_mode):
        return {}
    known = _CACHE.get(path)
    if known is not None and known.unchanged(st):
        return known.records
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return {}
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(fd)  # the file opened, which a rewrite may have replaced since the lstat
        generation = _generation(fd)
        if known is None or not known.continues(fd, st, generation):
            known = _Known(generation, st.st_ino)
        handle.seek(known.offset)
        data = handle.read(st.st_size - known.offset)
    _ingest(known, data)
    known.saw(st)
    _CACHE[path] = known
    return known.records


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


def _line(instance_id, body):
    """One record's line: what _ingest reads back (its length check catches a line cut short)."""
    return b"%s %d %s\n" % (instance_id.encode("ascii"), len(body), body)


def _new_header():
    return b"#journal %s\n" % binascii.hexlify(os.urandom(16))


def append(root, instance_id, record):
    """Writes the instance's whole record; returns how many records the journal holds. The caller holds the
    ledger's lock."""
    path = path_of(root)
    body = _ENCODER.encode(record).encode("utf-8")
    line = _line(instance_id, body)
    with _guard:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            st = os.fstat(fd)
            known, prefix = _CACHE.get(path), b""
            if st.st_size == 0:  # made just now (or emptied): a generation of its own, in the same write()
                prefix = _new_header()
                known = _CACHE[path] = _Known(prefix, st.st_ino)
                known.consumed(prefix)
                known.lines, known.size = 1, 0
                current = True
            else:
                current = (known is not None and known.offset == known.size == st.st_size
                           and known.continues(fd, st, _generation(fd)))
                if not current and os.pread(fd, 1, st.st_size - 1) != b"\n":
                    prefix = b"\n"  # a line cut short by a crash: ours starts on a line of its own
            view = memoryview(prefix + line)
            while view:
                view = view[os.write(fd, view):]
            if current:  # what this process knows plus this line is the whole file: no need to read it back
                known.consumed(line)
                known.lines += 1
                known.records[instance_id] = body
                known.saw(os.fstat(fd))
        finally:
            os.close(fd)
        live = known.records if current else _refresh(root)
        known = _CACHE.get(path)
        if known is not None and known.lines > 2 * len(live) + COMPACT_SLACK:
            _rewrite(root, live)
        return len(live)


def rewrite(root, keep):
    """Replaces the journal by the records of the ids in keep (a rewrite: eviction). Caller holds the lock."""
    with _guard:
        live = _refresh(root)
        _rewrite(root, dict((i, live[i]) for i in keep if i in live))


def _rewrite(root, live):
    from .store import _write_atomic  # here, not at the top: store reads instances through this module
    path = path_of(root)
    header = _new_header()
    lines = [header] + [_line(i, live[i]) for i in sorted(live)]
    content = b"".join(lines)
    _write_atomic(path, content)
    st = os.lstat(path)
    known = _CACHE[path] = _Known(header, st.st_ino)
    known.consumed(content)
    known.lines, known.records = len(lines), dict(live)
    known.saw(st)
