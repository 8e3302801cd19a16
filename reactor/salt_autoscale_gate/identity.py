"""Attested admission: is this posted minion key really from the EC2 instance it names?

An instance POSTs its identity document (IMDS /latest/dynamic/instance-identity/document), the document's
RSA-2048 PKCS#7 signature (IMDS .../rsa2048: base64 SignedData, SHA-256 with RSA, content attached) and the
public key of the Salt key pair it just generated. judge() returns a Verdict (data): accept with the facts the
gate acts on, or refuse with a reason code from REASONS. It performs nothing and writes nothing.

What a verdict proves: AWS signed this document for this instance id, account, region and pendingTime, and the
posted key is the first key presented for that id together with a document AWS signed for it, after a verified
launch notification announced the id. The document is not bound to the key (AWS signs the document only), so
the binding is "first come, once": only code that could read the document (IMDS is reachable from the instance
only) can present it before the instance does, and a second, different key for the same id is refused as
key_conflict or document_replayed (a possible attack, to alert on).

Crypto: `cryptography` when importable, else the `openssl` command (`openssl smime -verify -nointern -noverify`),
chosen once per process, as the SNS certificate code does. Everything else is the standard library and runs on
the Python that Salt 3006-3008 ship (3.10 and later).
"""
import base64
import binascii
import calendar
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile

from .reasons import ATTEST_REMEDIES

MAX_DOCUMENT_BYTES = 16 * 1024   # a real document is ~500 bytes
MAX_SIGNATURE_BYTES = 16 * 1024  # a real rsa2048 signature is ~1.5 KB of base64
MAX_PUBLIC_KEY_BYTES = 16 * 1024
MAX_REQUEST_BYTES = 64 * 1024    # the POST body: the three above, base64-encoded, plus the id
REQUEST_FIELDS = ("instance_id", "document_b64", "signature", "public_key_b64")
MAX_DER_DEPTH = 16
MIN_KEY_BITS, MAX_KEY_BITS = 2048, 8192  # Salt's keysize defaults to 2048; 4096 is common
SALT_KEY_EXPONENT = 65537                # salt.crypt.gen_keys always uses e = 65537

INSTANCE_ID_RE = re.compile(r"\Ai-[0-9a-f]{8}(?:[0-9a-f]{9})?\Z")
ACCOUNT_ID_RE = re.compile(r"\A[0-9]{12}\Z")
REGION_RE = re.compile(r"\A[a-z]{2,4}(?:-[a-z]+)+-[0-9]{1,2}\Z")  # us-east-1, us-gov-west-1, eusc-de-east-1
PENDING_TIME_RE = re.compile(r"\A([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]{1,9})?Z\Z")
REQUIRED_FIELDS = ("accountId", "instanceId", "region", "pendingTime")

CERTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "aws_iid_certs", "rsa2048")

# The reason codes (log lines, docs/reactor.md "Attested admission"); their remedies are in reasons.py.
REASONS = ATTEST_REMEDIES
# Refusals that mean someone else holds an instance's document: a person is told at once.
ALERT_REASONS = ("key_conflict", "document_replayed")

_OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
_OID_DATA = "1.2.840.113549.1.7.1"
_OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
_OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_OID_SHA256 = "2.16.840.1.101.3.4.2.1"
_OID_RSA = "1.2.840.113549.1.1.1"
_OID_SHA256_RSA = "1.2.840.113549.1.1.11"


class Refused(Exception):
    """A failed check: a reason code from REASONS and a sentence about this request (no secret)."""

    def __init__(self, reason, detail=""):
        Exception.__init__(self, reason)
        self.reason, self.detail = reason, detail


class CertificateProblem(Exception):
    """The certificate set cannot be loaded (a config problem, not the sender's fault): one ERROR line."""


class Verdict(object):
    """accepted + facts (what the gate needs to act), or reason + detail. `alert`: tell a person now."""

    def __init__(self, reason=None, detail="", facts=None):
        self.reason, self.detail, self.facts = reason, detail, dict(facts or {})

    @property
    def accepted(self):
        return self.reason is None

    @property
    def alert(self):
        return self.reason in ALERT_REASONS

    def to_dict(self):
        return {"verdict": "accepted" if self.accepted else "rejected", "reason": self.reason,
                "detail": self.detail, "remedy": REASONS.get(self.reason), "alert": self.alert,
                "facts": self.facts}


# --- ASN.1 --------------------------------------------------------------------------------------------------
# Hand-written on purpose: the standard library has no ASN.1, and `cryptography` (38 through 48 at least) can
# load the certificates of a PKCS#7 blob but cannot verify its signature (no pkcs7/CMS verify API). So this
# reads the few structures needed (SignedData, SignerInfo, an X.509 certificate's serial/issuer/key, an RSA
# SubjectPublicKeyInfo) and the signature itself is checked by cryptography's RSA primitive or by openssl.
# It reads BER as well as DER: AWS's rsa2048 blob uses indefinite lengths and a constructed OCTET STRING.

class _Node(object):
    __slots__ = ("tag", "raw", "content", "children", "definite")

    def __init__(self, tag, raw, content, children, definite):
        self.tag, self.raw, self.content, self.children, self.definite = tag, raw, content, children, definite

    @property
    def constructed(self):
        return bool(self.tag & 0x20)


def _read(data, pos=0, depth=0):
    """(node, end) for the element at data[pos]; ValueError on anything malformed or unsupported."""
    if depth > MAX_DER_DEPTH:
        raise ValueError("nested too deeply")
    if pos + 2 > len(data):
        raise ValueError("truncated")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise ValueError("high tag numbers are not used here")
    first, at = data[pos + 1], pos + 2
    if first == 0x80:  # indefinite length (BER): children until the end-of-contents octets 00 00
        if not tag & 0x20:
            raise ValueError("indefinite length on a primitive")
        children = []
        while True:
            if at + 2 > len(data):
                raise ValueError("truncated")
            if data[at] == 0 and data[at + 1] == 0:
                at += 2
                break
            child, at = _read(data, at, depth + 1)
            children.append(child)
        return _Node(tag, data[pos:at], None, children, False), at
    if first & 0x80:
        count = first & 0x7F
        if count == 0 or count > 4 or at + count > len(data):
            raise ValueError("bad length")
        length = int.from_bytes(data[at:at + count], "big")
        at += count
    else:
        length = first
    end = at + length
    if end > len(data):
        raise ValueError("truncated")
    content = data[at:end]
    children = None
    if tag & 0x20:
        children, inner = [], at
        while inner < end:
            child, inner = _read(data, inner, depth + 1)
            children.append(child)
        if inner != end:
            raise ValueError("bad inner length")
    return _Node(tag, data[pos:end], content, children, True), end


def _parse(data):
    node, end = _read(data)
    if end != len(data):
        raise ValueError("trailing bytes")
    return node


def _expect(node, tag):
    if node.tag != tag:
        raise ValueError("expected tag 0x%02x, got 0x%02x" % (tag, node.tag))
    return node


def _oid(node):
    body = _expect(node, 0x06).content
    if not body:
        raise ValueError("empty OID")
    parts, value = [], 0
    for byte in body:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    if body[-1] & 0x80:
        raise ValueError("bad OID")
    first = min(parts[0] // 40, 2)
    return ".".join(str(x) for x in [first, parts[0] - 40 * first] + parts[1:])


def _integer(node):
    return int.from_bytes(_expect(node, 0x02).content, "big", signed=True)


def _octets(node):
    """An OCTET STRING's bytes, primitive or (BER) constructed of pieces."""
    if node.tag == 0x04:
        return node.content
    if node.tag == 0x24:
        return b"".join(_octets(child) for child in node.children)
    raise ValueError("expected an OCTET STRING")


def _algorithm(node):
    """The OID of an AlgorithmIdentifier whose parameters are absent or NULL."""
    parts = _expect(node, 0x30).children
    if not parts or len(parts) > 2 or (len(parts) == 2 and parts[1].raw != b"\x05\x00"):
        raise ValueError("unexpected algorithm parameters")
    return _oid(parts[0])


def _explicit(node, tag):
    _expect(node, tag)
    if len(node.children) != 1:
        raise ValueError("explicit tag 0x%02x holds %d elements" % (tag, len(node.children)))
    return node.children[0]


class SignedDocument(object):
    """What a PKCS#7 SignedData says: the attached content (or None: detached), the signer's issuer (raw DER)
    and serial, the bytes the RSA signature covers, the messageDigest attribute, the signature."""

    def __init__(self, der):
        self.der = der
        info = _expect(_parse(der), 0x30).children
        if len(info) != 2 or _oid(info[0]) != _OID_SIGNED_DATA:
            raise ValueError("not a PKCS#7 SignedData")
        fields = _expect(_explicit(info[1], 0xA0), 0x30).children
        if len(fields) < 4:
            raise ValueError("SignedData is too short")
        encap = _expect(fields[2], 0x30).children
        if not encap or _oid(encap[0]) != _OID_DATA or len(encap) > 2:
            raise ValueError("the signed content is not plain data")
        self.content = _octets(_explicit(encap[1], 0xA0)) if len(encap) == 2 else None
        signer_infos = _expect(fields[-1], 0x31).children
        self.embedded_certificates = any(f.tag == 0xA0 for f in fields[3:-1])
        if len(signer_infos) != 1:
            raise ValueError("%d signers (AWS signs with exactly one)" % len(signer_infos))
        signer = _expect(signer_infos[0], 0x30).children
        if len(signer) < 5 or _integer(signer[0]) != 1:
            raise ValueError("the signer is not named by issuer and serial number (SignerInfo version 1)")
        issuer_serial = _expect(signer[1], 0x30).children
        if len(issuer_serial) != 2:
            raise ValueError("bad issuerAndSerialNumber")
        self.issuer, self.serial = _expect(issuer_serial[0], 0x30).raw, _integer(issuer_serial[1])
        if _algorithm(signer[2]) != _OID_SHA256:
            raise ValueError("the digest is not SHA-256")
        rest = signer[3:]
        self.message_digest = None
        if rest[0].tag == 0xA0:
            attrs = rest[0]
            if not attrs.definite:
                raise ValueError("signed attributes must be DER")
            self.signed_bytes = b"\x31" + attrs.raw[1:]  # RFC 5652 5.4: signed as an explicit SET OF
            self._read_attributes(attrs.children)
            rest = rest[1:]
        else:
            self.signed_bytes = None  # the content itself (attached, or the posted document when detached)
        if len(rest) < 2 or _algorithm(rest[0]) not in (_OID_RSA, _OID_SHA256_RSA):
            raise ValueError("the signature algorithm is not RSA")
        self.signature = _expect(rest[1], 0x04).content
        if len(rest) > 3 or (len(rest) == 3 and rest[2].tag != 0xA1):
            raise ValueError("unexpected fields after the signature")

    def _read_attributes(self, attributes):
        seen = {}
        for attribute in attributes:
            parts = _expect(attribute, 0x30).children
            if len(parts) != 2:
                raise ValueError("bad attribute")
            oid, values = _oid(parts[0]), _expect(parts[1], 0x31).children
            if oid in seen or len(values) != 1:
                raise ValueError("attribute %s repeated" % oid)
            seen[oid] = values[0]
        if _OID_CONTENT_TYPE not in seen or _oid(seen[_OID_CONTENT_TYPE]) != _OID_DATA:
            raise ValueError("the contentType attribute is missing or not data")
        if _OID_MESSAGE_DIGEST not in seen:
            raise ValueError("the messageDigest attribute is missing")
        self.message_digest = _expect(seen[_OID_MESSAGE_DIGEST], 0x04).content


# --- certificates ---------------------------------------------------------------------------------------------

PEM_CERT_RE = re.compile(rb"-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END CERTIFICATE-----")


class Certificate(object):
    """One AWS RSA-2048 certificate: its region, source file, serial, issuer (raw DER) and PEM."""

    def __init__(self, region, pem, source):
        self.region, self.pem, self.source = region, pem, source
        blocks = PEM_CERT_RE.findall(pem)
        if len(blocks) != 1 or pem.count(b"-----BEGIN") != 1:
            raise ValueError("not exactly one PEM CERTIFICATE block")
        try:
            der = base64.b64decode(b"".join(blocks[0].split()), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("bad base64")
        try:
            tbs = _expect(_expect(_parse(der), 0x30).children[0], 0x30).children
            if tbs and tbs[0].tag == 0xA0:
                tbs = tbs[1:]
            if len(tbs) < 6:
                raise ValueError("not an X.509 certificate")
            self.serial, self.issuer = _integer(tbs[0]), _expect(tbs[2], 0x30).raw
            spki = _expect(tbs[5], 0x30).children
            rsa = _algorithm(spki[0]) == _OID_RSA
        except (IndexError, TypeError):
            raise ValueError("not an X.509 certificate")
        if not rsa:
            raise ValueError("the certificate's key is not RSA")

    def names(self, signed):
        return signed.issuer == self.issuer and signed.serial == self.serial

    def __repr__(self):
        return "<Certificate %s serial %X from %s>" % (self.region, self.serial, self.source)


def _region_of(filename):
    """`us-east-1.pem` or `us-east-1.<anything>.pem` (a second certificate for a region, e.g. a rotation)."""
    return filename[:-len(".pem")].split(".", 1)[0]


def _check_trusted_dir(path):
    # Whoever can write here can add a certificate and so forge any admission (as for the gate's cache dir).
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise CertificateProblem("%s is not a real directory (a symlink or a file); name a directory" % path)
    if st.st_uid not in (os.geteuid(), 0):
        raise CertificateProblem("%s is owned by uid %d, neither root nor this user (uid %d); chown it"
                                 % (path, st.st_uid, os.geteuid()))
    if st.st_mode & 0o022:
        raise CertificateProblem("%s is writable by group or others (mode %o); chmod go-w it"
                                 % (path, st.st_mode & 0o777))


def _load_dir(path, into, trusted):
    if not trusted:
        _check_trusted_dir(path)
    for name in sorted(os.listdir(path)):
        if not name.endswith(".pem"):
            continue
        full = os.path.join(path, name)
        region = _region_of(name)
        if not REGION_RE.match(region):
            raise CertificateProblem("%s: the file name must start with a region name (us-east-1.pem, "
                                     "us-east-1.2027.pem); rename it" % full)
        if os.path.islink(full) or not os.path.isfile(full):
            raise CertificateProblem("%s is not a regular file (a symlink?); copy the certificate there" % full)
        with open(full, "rb") as handle:
            pem = handle.read(64 * 1024)
        try:
            cert = Certificate(region, pem, full)
        except ValueError as exc:
            raise CertificateProblem("%s is not one RSA X.509 certificate in PEM (%s); replace it with AWS's "
                                     "RSA-2048 certificate for %s" % (full, exc, region))
        into.setdefault(region, []).append(cert)


def load_certificates(extra_dir=None, shipped_dir=CERTS_DIR):
    """{region: [Certificate, ...]}: the certificates shipped in the package, plus any `<region>*.pem` in
    extra_dir (other partitions, new regions, rotations, tests). CertificateProblem names the file at fault."""
    certs = {}
    if shipped_dir:
        if not os.path.isdir(shipped_dir):
            raise CertificateProblem("%s (AWS's certificates, shipped with the gate package) is missing: the "
                                     "package was installed without its data; render the reactor again" % shipped_dir)
        _load_dir(shipped_dir, certs, trusted=True)
    if extra_dir:
        if not os.path.isdir(extra_dir):
            raise CertificateProblem("%s (extra instance identity certificates) does not exist; create it or "
                                     "remove the setting" % extra_dir)
        _load_dir(extra_dir, certs, trusted=False)
    return certs


# --- crypto backends --------------------------------------------------------------------------------------------

class CryptographyVerifier(object):
    name = "cryptography"

    def __init__(self):
        from cryptography import x509
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding, rsa
        self._x509, self._invalid, self._hashes, self._padding, self._rsa = x509, InvalidSignature, hashes, padding, rsa
        try:  # cryptography < 3.1 requires the backend argument
            from cryptography.hazmat.backends import default_backend
            self._backend = default_backend()
        except ImportError:
            self._backend = None

    def verify(self, signed, cert, content):
        """Whether signed.signature is cert's RSA PKCS#1 v1.5 SHA-256 signature (the messageDigest attribute
        is checked by the caller, for both backends)."""
        if self._backend is not None:
            key = self._x509.load_pem_x509_certificate(cert.pem, self._backend).public_key()
        else:
            key = self._x509.load_pem_x509_certificate(cert.pem).public_key()
        if not isinstance(key, self._rsa.RSAPublicKey):
            return False
        try:
            data = signed.signed_bytes if signed.signed_bytes is not None else content
            key.verify(signed.signature, data, self._padding.PKCS1v15(), self._hashes.SHA256())
            return True
        except self._invalid:
            return False


class OpensslVerifier(object):
    """`openssl smime -verify`, as AWS's guide does, with -binary (no MIME newline rewriting of the content)
    and -nointern (AWS's command lacks it): without it openssl also looks for the signer among certificates
    carried inside the signature, and with -noverify would accept one a forger put there."""
    name = "openssl"

    def __init__(self):
        self._openssl = shutil.which("openssl")
        if not self._openssl:
            raise CertificateProblem("neither the python `cryptography` package nor the `openssl` command is "
                                     "available to verify instance identity signatures; install one of them")

    def verify(self, signed, cert, content):
        workdir = tempfile.mkdtemp(prefix="salt-autoscale-iid-")
        try:
            paths = {name: os.path.join(workdir, name) for name in ("sig.der", "cert.pem", "content", "out")}
            for name, data in (("sig.der", signed.der), ("cert.pem", cert.pem), ("content", content)):
                with open(paths[name], "wb") as handle:
                    handle.write(data)
            args = [self._openssl, "smime", "-verify", "-binary", "-inform", "DER", "-in", paths["sig.der"],
                    "-certfile", paths["cert.pem"], "-nointern", "-noverify", "-out", paths["out"]]
            if signed.content is None:
                args += ["-content", paths["content"]]
            proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, check=False)
            if proc.returncode != 0:
                return False
            with open(paths["out"], "rb") as handle:
                return handle.read() == content
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


_VERIFIER = []


def verifier():
    """`cryptography` when importable, else the `openssl` command; chosen once per process."""
    if not _VERIFIER:
        try:
            _VERIFIER.append(CryptographyVerifier())
        except ImportError:
            _VERIFIER.append(OpensslVerifier())
    return _VERIFIER[0]


# --- the minion's public key -----------------------------------------------------------------------------------

def salt_public_key(text):
    """(canonical PEM, fingerprint) of a minion public key as salt-minion writes it (salt.crypt.gen_keys:
    SubjectPublicKeyInfo PEM, RSA, e = 65537). The canonical form is what Salt compares (salt.crypt.clean_key:
    stripped, \\n line ends) plus a final newline; the fingerprint is `salt-key -f`'s (pem_finger)."""
    if not isinstance(text, str) or len(text) > MAX_PUBLIC_KEY_BYTES:
        raise Refused("bad_public_key", "the public key is not a string under %d bytes" % MAX_PUBLIC_KEY_BYTES)
    lines = text.strip().splitlines()
    if len(lines) < 3 or lines[0] != "-----BEGIN PUBLIC KEY-----" or lines[-1] != "-----END PUBLIC KEY-----":
        label = "an RSA PUBLIC KEY (PKCS#1)" if "BEGIN RSA PUBLIC KEY" in text else "not a PEM PUBLIC KEY"
        raise Refused("bad_public_key", "the public key is %s; post minion.pub (-----BEGIN PUBLIC KEY-----)" % label)
    body = "".join(lines[1:-1])
    try:
        der = base64.b64decode(body, validate=True)
        spki = _expect(_parse(der), 0x30).children
        if len(spki) != 2 or _algorithm(spki[0]) != _OID_RSA:
            raise ValueError("not an RSA key")
        bits = _expect(spki[1], 0x03).content
        if not bits or bits[0] != 0:
            raise ValueError("bad BIT STRING")
        numbers = _expect(_parse(bits[1:]), 0x30).children
        if len(numbers) != 2:
            raise ValueError("bad RSAPublicKey")
        modulus, exponent = _integer(numbers[0]), _integer(numbers[1])
    except (binascii.Error, ValueError, IndexError, TypeError) as exc:
        raise Refused("bad_public_key", "the public key does not parse as an RSA SubjectPublicKeyInfo (%s)" % exc)
    size = modulus.bit_length() if modulus > 0 else 0
    if not MIN_KEY_BITS <= size <= MAX_KEY_BITS:
        raise Refused("bad_public_key", "the RSA key has %d bits; Salt's keys have %d to %d"
                      % (size, MIN_KEY_BITS, MAX_KEY_BITS))
    if exponent != SALT_KEY_EXPONENT:
        raise Refused("bad_public_key", "the RSA exponent is %d; salt-minion always uses 65537" % exponent)
    return "\n".join(lines) + "\n", pem_finger(lines)


def pem_finger(lines):
    """`salt-key -f`'s fingerprint (salt.utils.crypt.pem_finger with sum_type sha256, Salt's default hash_type
    in 3006-3008; master_finger is the same function of master.pub): the sha256 of the PEM's base64 lines, each with its newline, between the
    BEGIN and END lines, colon-separated. (Not the DER's digest.)"""
    body = "".join(line + "\n" for line in lines[1:-1] if line.strip())
    digest = hashlib.sha256(body.encode("ascii")).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


# --- the decision -------------------------------------------------------------------------------------------------

class Policy(object):
    """What the config allows: accounts, regions, the admission window (seconds after pendingTime), the clock
    skew tolerated for a pendingTime in the future, `now` (epoch seconds), and optionally the groups whose
    bootstrap is attested (None: whichever group the ledger names)."""

    def __init__(self, account_ids, regions, window_seconds, now, clock_skew_seconds=300, groups=None):
        self.account_ids, self.regions = frozenset(account_ids), frozenset(regions)
        self.window_seconds, self.now, self.clock_skew_seconds = window_seconds, now, clock_skew_seconds
        self.groups = None if groups is None else frozenset(groups)


def _refuse_constant(name):
    raise ValueError("%s is not JSON" % name)


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("a key appears twice")
    return dict(pairs)


def _document(raw):
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates,
                           parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Refused("bad_document", "the document is not strict UTF-8 JSON (%s)" % str(exc)[:80])
    if not isinstance(value, dict):
        raise Refused("bad_document", "the document is not a JSON object")
    missing = [f for f in REQUIRED_FIELDS if not isinstance(value.get(f), str)]
    if missing:
        raise Refused("bad_document", "the document lacks string field(s) %s" % ", ".join(missing))
    return value


def _pending_time(text):
    match = PENDING_TIME_RE.match(text)
    if not match:
        raise Refused("bad_pending_time", "pendingTime %s is not YYYY-MM-DDTHH:MM:SSZ" % json.dumps(text[:40]))
    year, month, day, hour, minute, second = (int(x) for x in match.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
        raise Refused("bad_pending_time", "pendingTime %s is not a real time" % json.dumps(text))
    return calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))


def _signature(text):
    if not isinstance(text, str) or len(text) > MAX_SIGNATURE_BYTES:
        raise Refused("bad_request", "the signature is not a string under %d bytes" % MAX_SIGNATURE_BYTES)
    body = "".join(text.split())  # IMDS wraps the base64 at 64 or 76 columns
    if body.startswith("-----BEGINPKCS7-----") and body.endswith("-----ENDPKCS7-----"):
        body = body[len("-----BEGINPKCS7-----"):-len("-----ENDPKCS7-----")]  # the guide's PEM form
    try:
        return SignedDocument(base64.b64decode(body, validate=True))
    except (binascii.Error, ValueError, IndexError, TypeError) as exc:  # TypeError, IndexError: a wrong shape
        raise Refused("bad_signature_format", "the signature is not a PKCS#7 SignedData AWS would make (%s)" % exc)


def _verify(signed, document, region, certificates, backend):
    candidates = certificates.get(region) or []
    if not candidates:
        raise Refused("no_certificate_for_region", "no RSA-2048 certificate is known for region %s" % region)
    cert = next((c for c in candidates if c.names(signed)), None)
    if cert is None:
        other = next((c for certs in certificates.values() for c in certs if c.names(signed)), None)
        named = "the certificate for %s" % other.region if other else "a certificate this master does not know"
        raise Refused("wrong_certificate", "the document says region %s but the signer is %s (serial %X)"
                      % (region, named, signed.serial))
    if signed.content is not None and signed.content != document:
        raise Refused("document_mismatch", "the posted document is not the one inside the signature")
    if signed.message_digest is not None and signed.message_digest != hashlib.sha256(document).digest():
        raise Refused("bad_document_signature", "the document's SHA-256 is not the signed messageDigest")
    if not backend.verify(signed, cert, document):
        raise Refused("bad_document_signature", "the RSA signature does not verify with %s's certificate (serial %X)"
                      % (region, cert.serial))
    return cert


def _topic_parts(topic_arn):
    """(region, account) of arn:<partition>:sns:<region>:<account>:<name>, or (None, None)."""
    parts = topic_arn.split(":") if isinstance(topic_arn, str) else []
    return (parts[3], parts[4]) if len(parts) >= 6 else (None, None)


def _same_key(recorded_pem, key_pem):
    return "\n".join(recorded_pem.strip().splitlines()) + "\n" == key_pem


def _judge(document, signature, public_key, instance_id, certificates, policy, ledger, backend, facts):
    # 1. The request's shape and sizes, the document's JSON, the ids: no file is opened yet.
    if isinstance(document, str):
        document = document.encode("utf-8", "surrogatepass")
    if not isinstance(document, bytes) or len(document) > MAX_DOCUMENT_BYTES:
        raise Refused("bad_request", "the document is not text under %d bytes" % MAX_DOCUMENT_BYTES)
    if not isinstance(instance_id, str):
        raise Refused("bad_request", "the instance id is not a string")
    doc = _document(document)
    facts.update(instance_id=doc["instanceId"], account_id=doc["accountId"], region=doc["region"],
                 pending_time=doc["pendingTime"], document_sha256=hashlib.sha256(document).hexdigest())
    if not INSTANCE_ID_RE.match(doc["instanceId"]):
        raise Refused("bad_instance_id", "instanceId %s is not an EC2 instance id" % json.dumps(doc["instanceId"][:40]))
    if instance_id != doc["instanceId"]:
        raise Refused("instance_id_mismatch", "posted for %s, the document is %s's"
                      % (json.dumps(instance_id[:40]), doc["instanceId"]))
    # 2. Account, region and age against the config (the trusted topics' accounts and regions).
    if not ACCOUNT_ID_RE.match(doc["accountId"]) or doc["accountId"] not in policy.account_ids:
        raise Refused("account_not_allowed", "account %s is not a trusted topic's" % json.dumps(doc["accountId"][:40]))
    if not REGION_RE.match(doc["region"]) or doc["region"] not in policy.regions:
        raise Refused("region_not_allowed", "region %s is not a trusted topic's" % json.dumps(doc["region"][:40]))
    started = _pending_time(doc["pendingTime"])
    if started > policy.now + policy.clock_skew_seconds:
        raise Refused("future_document", "pendingTime is %d s in the future" % (started - policy.now))
    if policy.now - started > policy.window_seconds:
        raise Refused("stale_document", "the instance started %d s ago; the admission window is %d s"
                      % (policy.now - started, policy.window_seconds))
    # 3. The key and the signature's structure (parsing only, no crypto yet).
    key_pem, fingerprint = salt_public_key(public_key)
    facts.update(public_key=key_pem, key_fingerprint=fingerprint)
    signed = _signature(signature)
    # 4. The ledger (one small file read): announced by a verified launch notification of an attested group,
    # from a topic of the document's own account and region, not terminated since.
    announced = ledger.announcement(doc["instanceId"])
    if announced is None:
        raise Refused("instance_not_announced", "no verified launch notification names %s" % doc["instanceId"])
    group = announced.get("group")
    facts["group"] = group
    if announced.get("terminated"):
        raise Refused("instance_terminated", "the termination of %s was handled already" % doc["instanceId"])
    if policy.groups is not None and group not in policy.groups:
        raise Refused("group_not_attested", "%s was launched by group %s, which is not attested"
                      % (doc["instanceId"], json.dumps(group)))
    topic_region, topic_account = _topic_parts(announced.get("topic_arn"))
    if topic_account is not None and doc["accountId"] != topic_account:
        raise Refused("account_not_allowed", "account %s is not the account of the topic that announced %s (%s)"
                      % (doc["accountId"], doc["instanceId"], topic_account))
    if topic_region is not None and doc["region"] != topic_region:
        raise Refused("region_not_allowed", "region %s is not the region of the topic that announced %s (%s)"
                      % (doc["region"], doc["instanceId"], topic_region))
    # 5. The signature: AWS's certificate for the document's region.
    cert = _verify(signed, document, doc["region"], certificates, backend)
    facts.update(signer_serial="%X" % cert.serial, verified_by=backend.name)
    # 6. Once only, and first key wins. Both refusals alert a person, so they come after the signature: only a
    # document AWS signed can raise them (alerts.py: nobody can spend the alert budget with a forged post).
    recorded = ledger.recorded(doc["instanceId"])
    if recorded and recorded.get("document_sha256") == facts["document_sha256"] and \
            not _same_key(recorded.get("public_key") or "", key_pem):
        raise Refused("document_replayed", "this document already admitted a key for %s; it came again with "
                      "another key (%s)" % (doc["instanceId"], fingerprint))
    if recorded and recorded.get("public_key"):
        if not _same_key(recorded["public_key"], key_pem):
            raise Refused("key_conflict", "another key is already admitted for %s; this one (%s) is refused"
                          % (doc["instanceId"], fingerprint))
        facts["outcome"] = "already_admitted"  # the instance posting again: nothing to do
        return
    facts["outcome"] = "admit"


def request_fields(body):
    """(document bytes, signature, public key, instance id) from the body the attested user data POSTs:
    a JSON object with exactly REQUEST_FIELDS, all strings; the document and the key base64-encoded (so their
    bytes arrive exact, with no JSON escaping in the shell), the signature as IMDS's base64. Refused otherwise."""
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    if not isinstance(body, bytes) or len(body) > MAX_REQUEST_BYTES:
        raise Refused("bad_request", "the body is not text under %d bytes" % MAX_REQUEST_BYTES)
    try:
        value = json.loads(body.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise Refused("bad_request", "the body is not a strict JSON object")
    if not isinstance(value, dict) or sorted(value) != sorted(REQUEST_FIELDS) or \
            not all(isinstance(v, str) for v in value.values()):
        raise Refused("bad_request", "the body must hold exactly the strings %s" % ", ".join(REQUEST_FIELDS))
    try:
        document = base64.b64decode(value["document_b64"], validate=True)
        public_key = base64.b64decode(value["public_key_b64"], validate=True).decode("ascii")
    except (binascii.Error, ValueError):
        raise Refused("bad_request", "document_b64 or public_key_b64 is not base64 (of ASCII, for the key)")
    return document, value["signature"], public_key, value["instance_id"]


def judge_request(body, certificates, policy, ledger, backend=None):
    """judge() for a raw POST body from the attested user data (see request_fields)."""
    try:
        fields = request_fields(body)
    except Refused as refusal:
        return Verdict(refusal.reason, refusal.detail, {})
    return judge(*fields, certificates=certificates, policy=policy, ledger=ledger, backend=backend)


def judge(document, signature, public_key, instance_id, certificates, policy, ledger, backend=None):
    """The Verdict for one attestation request, cheapest checks first and the signature last but one (see
    _judge's numbered steps). `ledger` answers announcement(instance_id) -> None or {"group", "topic_arn",
    "terminated"} (a verified launch notification named the id) and recorded(instance_id) -> None or
    {"public_key", "document_sha256"} (what an earlier admission recorded). Accepted facts: instance_id,
    account_id, region, group, pending_time, document_sha256, public_key (canonical PEM to write to
    pki/minions/<id>), key_fingerprint, signer_serial, verified_by, outcome ("admit": write the key, then
    record it and the document digest; "already_admitted": nothing to write). CertificateProblem when no
    crypto backend exists."""
    facts = {}
    try:
        _judge(document, signature, public_key, instance_id, certificates, policy, ledger,
               backend if backend is not None else verifier(), facts)
    except Refused as refusal:
        facts.pop("outcome", None)
        return Verdict(refusal.reason, refusal.detail, facts)
    return Verdict(None, "", facts)
