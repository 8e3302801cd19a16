import importlib.util
import http.server
import threading
import time

import pytest

from salt_autoscale_gate.certificate import (Certificates, CryptographyBackend, FetchFailed, FetchLimits,
                                             OpensslBackend, https_get)
from salt_autoscale_gate.envelope import canonical_string, check_fields
from salt_autoscale_gate.reasons import Rejected

from conftest import CERT_URL, launch


def _has_cryptography():
    try:
        return importlib.util.find_spec("cryptography") is not None
    except ImportError:
        return False


BACKENDS = [OpensslBackend] + ([CryptographyBackend] if _has_cryptography() else [])


def relabel(pem, label):
    return pem.replace(b"BEGIN CERTIFICATE", b"BEGIN " + label).replace(b"END CERTIFICATE", b"END " + label)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("label", [b"TRUSTED CERTIFICATE", b"X509 CERTIFICATE"])
def test_only_a_plain_certificate_pem_is_loaded(pki, backend, label):
    backend().load(pki.rsa_pem)
    with pytest.raises(ValueError):
        backend().load(relabel(pki.rsa_pem, label))
    with pytest.raises(ValueError):
        backend().load(pki.rsa_pem + pki.rsa_pem)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("version", ["1", "2"])
def test_each_signature_version_verifies_its_own_digest_and_nothing_else(pki, backend, version):
    b = backend()
    _, _, key = b.load(pki.rsa_pem)
    envelope = pki.sign(launch(), version=version)
    signature, signed = check_fields(envelope), canonical_string(envelope)
    assert b.verify(key, signature, signed, version) is True
    assert b.verify(key, signature, signed.replace(b"web-asg", b"web-asX"), version) is False  # content changed
    other = "2" if version == "1" else "1"
    assert b.verify(key, signature, signed, other) is False  # a SHA1 signature is no SHA256 one, and back


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_ec_key_certificate_never_verifies(pki, backend):
    envelope = pki.sign(launch(), key="ec.key")
    b = backend()
    _, _, key = b.load(pki.ec_pem)
    assert b.verify(key, check_fields(envelope), canonical_string(envelope), "2") is False
    rsa = pki.sign(launch())
    _, _, key = b.load(pki.rsa_pem)
    assert b.verify(key, check_fields(rsa), canonical_string(rsa), "2") is True


class FakeFetch(object):
    def __init__(self, status=200, body=b""):
        self.status, self.body, self.urls = status, body, []

    def __call__(self, url, timeout):
        self.urls.append(url)
        return self.status, self.body


def certificates(fetch, **limits):
    return Certificates(None, 5, backend=OpensslBackend(), limits=FetchLimits(**limits), fetch=fetch, memory={})


@pytest.mark.parametrize("status", [203, 206, 226])
def test_a_certificate_comes_with_http_200_only(pki, status):
    with pytest.raises(Rejected) as caught:
        certificates(FakeFetch(status, pki.rsa_pem)).key(CERT_URL, time.time())
    assert caught.value.reason == "cert_fetch_failed"


def test_a_failed_url_is_remembered_with_its_verdict_and_not_fetched_again(pki):
    fetch = FakeFetch(200, b"not a certificate")
    certs = certificates(fetch)
    for _ in range(3):
        with pytest.raises(Rejected) as caught:
            certs.key(CERT_URL, time.time())
        assert caught.value.reason == "cert_invalid"
    assert fetch.urls == [CERT_URL]


def test_fetches_are_rate_limited(pki):
    fetch = FakeFetch(404)
    certs = certificates(fetch, burst=3, per_minute=3)
    for i in range(20):
        with pytest.raises(Rejected):
            certs.key(CERT_URL.replace("test", "t%d" % i), time.time())
    assert len(fetch.urls) == 3


def test_a_good_certificate_is_fetched_once_then_served_from_memory(pki):
    fetch = FakeFetch(200, pki.rsa_pem)
    certs = certificates(fetch)
    certs.key(CERT_URL, time.time())
    certs.key(CERT_URL, time.time())
    assert fetch.urls == [CERT_URL] and certs.source == "memory"


STOP = threading.Event()


class Trickle(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        while not STOP.is_set():
            try:
                self.wfile.write(b"x")
                self.wfile.flush()
            except OSError:
                return
            STOP.wait(0.05)

    def log_message(self, *args):
        pass


def test_a_trickling_server_cannot_hold_a_fetch_past_its_total_deadline(monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    STOP.clear()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        started = time.monotonic()
        with pytest.raises(FetchFailed):
            https_get("http://127.0.0.1:%d/x.pem" % server.server_port, 0.5)
        assert time.monotonic() - started < 1.5  # each byte comes well within urllib's per-read timeout
    finally:
        STOP.set()
        server.shutdown()
        server.server_close()
