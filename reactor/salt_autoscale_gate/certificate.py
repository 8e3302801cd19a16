"""The SNS signing certificate: strict PEM, the crypto backend (`cryptography`, else the `openssl` command),
and where a certificate comes from (memory, the disk cache, then one bounded fetch)."""
import base64
import calendar
import datetime
import hashlib
import os
import re
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

from .reasons import Rejected
from .settings import ConfigProblem
from .text import shown

MAX_CERT_BYTES = 64 * 1024
# Outbound requests that unauthenticated senders can cause: each needs a message that passed every cheap
# check (trusted topic, fresh timestamp, new MessageId, known group); then at most FETCH_BURST fetches at once
# and FETCHES_PER_MINUTE on average, and a URL that failed is not tried again for FAILURE_MEMORY_SECONDS.
FETCH_BURST = 10
FETCHES_PER_MINUTE = 10
FAILURE_MEMORY_SECONDS = 300
MEMORY_ENTRIES = 64

# Exactly one "CERTIFICATE" block: openssl also reads "TRUSTED CERTIFICATE" (with trust settings) and
# "X509 CERTIFICATE", which SNS never serves; both backends see only what this accepts.
PEM_RE = re.compile(rb"\s*-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END CERTIFICATE-----\s*")
# DER of the rsaEncryption OID (1.2.840.113549.1.1.1) as it opens an RSA SubjectPublicKeyInfo.
RSA_SPKI_OID = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01"


def strict_pem(pem):
    if not isinstance(pem, bytes) or not PEM_RE.fullmatch(pem):
        raise ValueError("not one PEM CERTIFICATE block")
    return pem


class CryptographyBackend(object):
    name = "cryptography"

    def __init__(self):
        import cryptography
        from cryptography import x509
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
        self._x509, self._invalid, self._rsa = x509, InvalidSignature, rsa
        # Before 42, cryptography's RSA went through cffi, and its per-call hash objects cost more than the
        # verification (cryptography 38: 50.7 us a check, 43.7 us over a digest hashlib made, Prehashed). From
        # 42 on RSA is Rust, which hashes faster itself (48: 32.6 us, against 41.3 us prehashed). Same check.
        self._pkcs1 = padding.PKCS1v15()
        major = cryptography.__version__.split(".")[0]
        if major.isdigit() and int(major) < 42:
            self._digests = {"1": (hashlib.sha1, utils.Prehashed(hashes.SHA1())),
                             "2": (hashlib.sha256, utils.Prehashed(hashes.SHA256()))}
        else:
            self._digests = {"1": (None, hashes.SHA1()), "2": (None, hashes.SHA256())}
        try:  # cryptography < 3.1 requires the backend argument; later ones ignore it
            from cryptography.hazmat.backends import default_backend
            self._backend = default_backend()
        except ImportError:
            self._backend = None

    def load(self, pem):
        """(not_before, not_after, key) from a PEM certificate; ValueError when it is not one."""
        strict_pem(pem)
        if self._backend is not None:
            cert = self._x509.load_pem_x509_certificate(pem, self._backend)
        else:
            cert = self._x509.load_pem_x509_certificate(pem)
        if hasattr(cert, "not_valid_before_utc"):
            start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
        else:  # cryptography < 42: naive datetimes in UTC
            start = cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)
            end = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
        return start.timestamp(), end.timestamp(), cert.public_key()

    def verify(self, key, signature, data, version):
        if not isinstance(key, self._rsa.RSAPublicKey):
            return False
        hasher, algorithm = self._digests["1" if version == "1" else "2"]
        try:
            key.verify(signature, hasher(data).digest() if hasher else data, self._pkcs1, algorithm)
            return True
        except self._invalid:
            return False


class OpensslBackend(object):
    name = "openssl"
    MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

    def __init__(self):
        self._openssl = shutil.which("openssl")
        if not self._openssl:
            raise ConfigProblem("neither the python `cryptography` package nor the `openssl` command is "
                                "available to verify SNS signatures; install one of them on the master")

    def _run(self, args, stdin):
        return subprocess.run([self._openssl] + args, input=stdin, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=30, check=False)

    def _date(self, text):
        # openssl prints e.g. "Jan  2 03:04:05 2030 GMT" (English month names whatever the locale).
        parts = text.split()
        if len(parts) != 5 or parts[4] != "GMT" or parts[0] not in self.MONTHS:
            raise ValueError(text)
        hour, minute, second = (int(x) for x in parts[2].split(":"))
        month = self.MONTHS.index(parts[0]) + 1
        return calendar.timegm((int(parts[3]), month, int(parts[1]), hour, minute, second, 0, 0, 0))

    def load(self, pem):
        strict_pem(pem)
        proc = self._run(["x509", "-noout", "-startdate", "-enddate", "-pubkey"], pem)
        if proc.returncode != 0:
            raise ValueError("not an X.509 PEM certificate")
        out = proc.stdout.decode("ascii", "replace")
        start = end = None
        for line in out.splitlines():
            if line.startswith("notBefore="):
                start = self._date(line[len("notBefore="):])
            elif line.startswith("notAfter="):
                end = self._date(line[len("notAfter="):])
        begin = out.find("-----BEGIN PUBLIC KEY-----")
        if start is None or end is None or begin < 0:
            raise ValueError("unexpected openssl x509 output")
        return start, end, out[begin:].encode("ascii")

    @staticmethod
    def is_rsa(key_pem):
        """Whether a PUBLIC KEY PEM holds an RSA key (as cryptography's isinstance check does): SNS signs
        with RSA only, and `openssl dgst -verify` would accept an EC key's signature too."""
        lines = key_pem.decode("ascii").strip().splitlines()
        try:
            der = base64.b64decode("".join(lines[1:-1]))
        except ValueError:
            return False
        return RSA_SPKI_OID in der[:24]

    def verify(self, key, signature, data, version):
        if not self.is_rsa(key):
            return False
        workdir = tempfile.mkdtemp(prefix="ec2-autoscale-verify-")
        try:
            key_file, sig_file = os.path.join(workdir, "key.pem"), os.path.join(workdir, "sig.bin")
            with open(key_file, "wb") as handle:
                handle.write(key)
            with open(sig_file, "wb") as handle:
                handle.write(signature)
            digest = "-sha1" if version == "1" else "-sha256"
            proc = self._run(["dgst", digest, "-verify", key_file, "-signature", sig_file], data)
            return proc.returncode == 0 and b"Verified OK" in proc.stdout
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


_BACKEND = []


def crypto_backend():
    """`cryptography` when importable, else the `openssl` command; chosen once per process."""
    if not _BACKEND:
        try:
            _BACKEND.append(CryptographyBackend())
        except ImportError:
            _BACKEND.append(OpensslBackend())
    return _BACKEND[0]


class FetchFailed(Exception):
    pass


def _https_context():
    context = ssl.create_default_context()
    if not context.get_ca_certs() and not (os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR")):
        # Salt's onedir Python can start with no usable trust store; its bundled certifi is the same Mozilla set.
        try:
            import certifi
            context.load_verify_locations(cafile=certifi.where())
        except (ImportError, OSError):
            pass
    return context


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError for the 3xx


def https_get(url, deadline_seconds, limit=MAX_CERT_BYTES):
    """GET with TLS verification (system store, SSL_CERT_FILE), the *_proxy variables, no redirects, and a
    TOTAL deadline: urllib's timeout bounds each socket operation only, so a server trickling bytes could hold
    the caller for ever. The request runs in a daemon thread; the caller waits at most the deadline, and the
    thread itself stops reading once it is past it. Returns (status, body up to limit + 1 bytes)."""
    result = {}
    deadline = time.monotonic() + deadline_seconds

    def work():
        try:
            opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=_https_context()), _NoRedirect())
            with opener.open(url, timeout=deadline_seconds) as response:
                chunks, size = [], 0
                while size <= limit:
                    if time.monotonic() > deadline:
                        raise FetchFailed("no complete answer within %g s" % deadline_seconds)
                    chunk = response.read(8192)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
                result["answer"] = (response.status, b"".join(chunks))
        except urllib.error.HTTPError as exc:
            result["answer"] = (exc.code, b"")
        except Exception as exc:  # URLError, OSError, ssl errors, FetchFailed: all end the same way
            result["error"] = exc

    worker = threading.Thread(target=work, name="ec2-autoscale-fetch", daemon=True)
    worker.start()
    worker.join(deadline_seconds)
    if "answer" in result:
        return result["answer"]
    if "error" in result:
        reason = getattr(result["error"], "reason", None) or result["error"]
        raise FetchFailed(str(reason))
    raise FetchFailed("no complete answer within %g s" % deadline_seconds)


class FetchLimits(object):
    """Per process: which URLs failed lately, and a token bucket of fetches."""

    def __init__(self, burst=FETCH_BURST, per_minute=FETCHES_PER_MINUTE, failure_memory=FAILURE_MEMORY_SECONDS,
                 clock=time.monotonic):
        self.burst, self.rate, self.failure_memory, self.clock = burst, per_minute / 60.0, failure_memory, clock
        self.tokens, self.stamp, self.failures = float(burst), clock(), {}
        self.requests = 0

    def failed_lately(self, url):
        """The Rejected of a recent failed fetch of url (the same verdict again, without a request), or None."""
        known = self.failures.get(url)
        if known is not None and self.clock() - known[0] < self.failure_memory:
            return known[1]
        return None

    def take(self):
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        self.requests += 1
        return True

    def failed(self, url, rejection):
        if len(self.failures) > 1000:  # bounded memory: forgetting early only means fetching sooner
            self.failures.clear()
        self.failures[url] = (self.clock(), rejection)
        return rejection


LIMITS = FetchLimits()
_MEMORY = {}


class Certificates(object):
    """The signing key for a checked URL, valid at `now`: from memory, the disk cache (store), else fetched.
    Read-only when `store` is None or read-only (verify): nothing fetched is written."""

    def __init__(self, store, fetch_timeout, backend=None, limits=None, fetch=https_get, memory=None):
        self.store, self.fetch_timeout, self.fetch = store, fetch_timeout, fetch
        self._backend = backend
        self.limits = limits if limits is not None else LIMITS
        self.memory = memory if memory is not None else _MEMORY
        self.source = None  # where the last key came from: memory | cache | fetched

    @property
    def backend(self):
        if self._backend is None:
            self._backend = crypto_backend()
        return self._backend

    def key(self, url, now):
        known = self.memory.get(url)
        if known is not None and known[0] <= now <= known[1]:
            self.source = "memory"
            return known[2]
        cached = self.store.read_cert(url) if self.store is not None else None
        if cached is not None:
            try:
                start, end, key = self.backend.load(cached)
                if start <= now <= end:
                    self._remember(url, start, end, key)
                    self.source = "cache"
                    return key
            except (ValueError, TypeError):
                pass  # a corrupt cache entry is treated as absent
        earlier = self.limits.failed_lately(url)
        if earlier is not None:
            raise Rejected(earlier.reason, "%s (remembered: not fetched again for %d s)"
                           % (earlier.detail, self.limits.failure_memory))
        if not self.limits.take():
            raise Rejected("cert_fetch_failed", "certificate fetches are rate-limited (%d a minute); not fetching %s"
                           % (FETCHES_PER_MINUTE, shown(url)))
        try:
            status, pem = self.fetch(url, self.fetch_timeout)
        except FetchFailed as exc:
            raise self.limits.failed(url, Rejected("cert_fetch_failed", "GET %s: %s" % (shown(url), shown(str(exc), 200))))
        if status != 200:
            raise self.limits.failed(url, Rejected(
                "cert_fetch_failed", "GET %s: HTTP %s (a certificate comes with HTTP 200 only)" % (shown(url), status)))
        if len(pem) > MAX_CERT_BYTES:
            raise self.limits.failed(url, Rejected("cert_invalid", "the certificate is over %d bytes" % MAX_CERT_BYTES))
        try:
            start, end, key = self.backend.load(pem)
        except (ValueError, TypeError):
            raise self.limits.failed(url, Rejected("cert_invalid", "%s is not an X.509 PEM certificate" % shown(url)))
        if not start <= now <= end:
            raise Rejected("cert_expired", "the certificate at %s is outside its validity dates" % shown(url))
        if self.store is not None:
            self.store.write_cert(url, pem)
        self._remember(url, start, end, key)
        self.source = "fetched"
        return key

    def _remember(self, url, start, end, key):
        if len(self.memory) >= MEMORY_ENTRIES:
            self.memory.clear()
        self.memory[url] = (start, end, key)
