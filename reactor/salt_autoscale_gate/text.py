"""Values made fit for one log line or email, and the digests used as file names."""
import hashlib
import json

LOG_LIMIT = 120


def utf8(text):
    # "surrogatepass": a lone surrogate (valid in JSON, never in what SNS signs) must not crash the gate.
    return text.encode("utf-8", "surrogatepass")


def sha256_hex(text):
    return hashlib.sha256(utf8(text) if isinstance(text, str) else text).hexdigest()


def shown(value, limit=LOG_LIMIT):
    """A sender-controlled value for a log line or an email: quoted, ASCII-escaped, truncated."""
    if value is None:
        return "-"
    try:
        text = json.dumps(value if isinstance(value, str) else repr(value)[:limit * 2], ensure_ascii=True)
    except RecursionError:
        text = '"<too deeply nested>"'
    return text if len(text) <= limit else text[:limit - 4] + '..."'
