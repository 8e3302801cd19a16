"""Attested admission (salt_autoscale_gate.identity): PKCS#7 signatures made here by test CAs standing in for
AWS's per-region certificates, two genuine AWS-signed documents (fixtures/aws-iid-genuine.json), and each attack
refused with its reason, on both crypto paths (cryptography, the openssl command)."""
import base64
import calendar
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from salt_autoscale_gate import identity  # noqa: E402
from salt_autoscale_gate.identity import (REASONS, CertificateProblem, OpensslVerifier, Policy,  # noqa: E402
                                          judge, load_certificates, salt_public_key)

HERE = os.path.dirname(os.path.abspath(__file__))
ACCOUNT = "123456789012"
INSTANCE = "i-0123456789abcdef0"
# The DN AWS's certificates carry: the test CAs use it too, so only the serial tells them apart (as for AWS's).
AWS_DN = "/C=US/ST=Washington State/L=Seattle/O=Amazon Web Services LLC"

VERIFIERS = [OpensslVerifier]
if importlib.util.find_spec("cryptography") is not None:
    VERIFIERS.append(identity.CryptographyVerifier)


def openssl(*args, cwd=None, stdin=None):
    return subprocess.run(("openssl",) + args, cwd=cwd, input=stdin, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE).stdout


class IidPki(object):
    """Test CAs for us-east-1 and eu-west-1 (in an extra certificate directory), a forger's CA, minion keys."""

    def __init__(self, root):
        self.root = str(root)
        self.certs_dir = os.path.join(self.root, "extra-certs")
        os.mkdir(self.certs_dir, 0o755)
        for name, serial in (("us-east-1", "0x0A11CE"), ("eu-west-1", "0x0B0B"), ("forger", "0x0BAD"),
                             ("impostor", "0x0A11CE")):  # impostor: us-east-1's DN and serial, its own key
            openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out",
                    name + ".pem", "-days", "2", "-subj", AWS_DN, "-set_serial", serial, cwd=self.root)
        for region in ("us-east-1", "eu-west-1"):
            shutil.copy(self.path(region + ".pem"), os.path.join(self.certs_dir, region + ".pem"))
        for name, args in (("minion", ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]),
                           ("other", ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]),
                           ("small", ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"]),
                           ("e3", ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                                   "-pkeyopt", "rsa_keygen_pubexp:3"]),
                           ("ec", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"])):
            openssl("genpkey", *args, "-out", name + ".key.pem", cwd=self.root)
            openssl("pkey", "-in", name + ".key.pem", "-pubout", "-out", name + ".pub", cwd=self.root)
        self.certificates = load_certificates(self.certs_dir)

    def path(self, name):
        return os.path.join(self.root, name)

    def read(self, name):
        with open(self.path(name), "rb") as handle:
            return handle.read()

    def pub(self, name="minion"):
        return self.read(name + ".pub").decode("ascii")

    def sign(self, document, signer="us-east-1", detached=False, attributes=True, embed=False, digest="sha256"):
        """base64 PKCS#7 SignedData of document, wrapped at 64 columns as IMDS serves it."""
        with open(self.path("doc.tmp"), "wb") as handle:
            handle.write(document)
        args = ["smime", "-sign", "-binary", "-md", digest, "-outform", "DER", "-in", "doc.tmp",
                "-signer", signer + ".pem", "-inkey", signer + ".key"]
        args += [] if detached else ["-nodetach"]
        args += [] if attributes else ["-noattr"]
        args += [] if embed else ["-nocerts"]
        der = openssl(*args, cwd=self.root)
        text = base64.b64encode(der).decode("ascii")
        return "\n".join(text[i:i + 64] for i in range(0, len(text), 64))


# The `iid` fixture (one IidPki per session, shared with test_attest.py) is in conftest.py.


def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


NOW = calendar.timegm((2026, 12, 2, 6, 0, 0, 0, 0, 0))


def document(**fields):
    """An instance identity document laid out as IMDS serves it (pretty-printed, ' : ', no final newline)."""
    doc = {"accountId": ACCOUNT, "architecture": "x86_64", "availabilityZone": "us-east-1a",
           "billingProducts": None, "devpayProductCodes": None, "marketplaceProductCodes": None,
           "imageId": "ami-0123456789abcdef0", "instanceId": INSTANCE, "instanceType": "t3.micro",
           "kernelId": None, "pendingTime": iso(NOW - 60), "privateIp": "10.0.0.12", "ramdiskId": None,
           "region": "us-east-1", "version": "2017-09-30"}
    doc.update(fields)
    return json.dumps(doc, indent=2, separators=(",", " : ")).encode("ascii")


class Ledger(object):
    """What the gate's ledger knows (attest.LedgerView reads it from the store), in memory."""

    def __init__(self, announced=None, topic_arn=None, terminated=()):
        self.announced_ids = {INSTANCE: "web-asg"} if announced is None else announced
        self.topic_arn, self.terminated = topic_arn, set(terminated)
        self.keys, self.used = {}, {}

    def announcement(self, instance_id):
        group = self.announced_ids.get(instance_id)
        if group is None:
            return None
        return {"group": group, "topic_arn": self.topic_arn, "terminated": instance_id in self.terminated}

    def recorded(self, instance_id):
        if instance_id not in self.keys:
            return None
        return {"public_key": self.keys[instance_id], "document_sha256": self.used.get(instance_id)}

    def record(self, verdict):
        """What the gate does after writing the key: remember the key and the document."""
        self.keys[verdict.facts["instance_id"]] = verdict.facts["public_key"]
        self.used[verdict.facts["instance_id"]] = verdict.facts["document_sha256"]


def policy(**changes):
    values = dict(account_ids=[ACCOUNT], regions=["us-east-1", "eu-west-1"], window_seconds=900, now=NOW)
    values.update(changes)
    return Policy(**values)


def attempt(iid, verifier, doc=None, signature=None, key=None, instance_id=INSTANCE, ledger=None, pol=None,
            certificates=None):
    doc = document() if doc is None else doc
    return judge(doc, iid.sign(doc) if signature is None else signature, iid.pub() if key is None else key,
                 instance_id, iid.certificates if certificates is None else certificates,
                 pol or policy(), ledger if ledger is not None else Ledger(), verifier())


def assert_refused(verdict, reason):
    assert not verdict.accepted, verdict.to_dict()
    assert verdict.reason == reason, verdict.to_dict()
    assert reason in REASONS
    assert "outcome" not in verdict.facts


# --- accepted -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("verifier", VERIFIERS)
def test_a_document_signed_for_its_region_admits_exactly_the_posted_key(iid, verifier):
    verdict = attempt(iid, verifier)
    assert verdict.accepted, verdict.to_dict()
    facts = verdict.facts
    assert facts["outcome"] == "admit"
    assert (facts["instance_id"], facts["account_id"], facts["region"], facts["group"]) == \
        (INSTANCE, ACCOUNT, "us-east-1", "web-asg")
    assert facts["public_key"] == iid.pub().strip() + "\n"
    assert facts["document_sha256"] == hashlib.sha256(document()).hexdigest()
    assert facts["verified_by"] == verifier.name
    assert facts["signer_serial"] == "A11CE"


@pytest.mark.parametrize("verifier", VERIFIERS)
@pytest.mark.parametrize("detached,attributes", [(True, True), (True, False), (False, False)])
def test_detached_and_attribute_free_signatures_verify_too(iid, verifier, detached, attributes):
    doc = document()
    verdict = attempt(iid, verifier, doc, iid.sign(doc, detached=detached, attributes=attributes))
    assert verdict.accepted, verdict.to_dict()


def test_the_fingerprint_is_salt_keys(iid):
    # salt.utils.crypt.pem_finger: sha256 of the non-blank lines between BEGIN and END, newlines included.
    with open(iid.path("minion.pub"), "rb") as handle:
        body = b"".join([x for x in handle.readlines() if x.strip()][1:-1])
    digest = hashlib.sha256(body).hexdigest()
    pem, finger = salt_public_key(iid.pub().replace("\n", "\r\n"))
    assert finger == ":".join(digest[i:i + 2] for i in range(0, 64, 2))
    assert pem == iid.pub().strip() + "\n"  # what salt.crypt.clean_key compares, plus a final newline


def genuine():
    with open(os.path.join(HERE, "fixtures", "aws-iid-genuine.json")) as handle:
        return json.load(handle)["documents"]


@pytest.mark.parametrize("verifier", VERIFIERS)
@pytest.mark.parametrize("case", genuine(), ids=lambda c: c["region"])
def test_genuine_aws_signed_documents_verify_with_the_shipped_certificates(iid, verifier, case):
    signed = identity.SignedDocument(base64.b64decode("".join(case["rsa2048"].split())))
    doc = signed.content  # IMDS's document is the attached content, byte for byte
    started = calendar.timegm(time.strptime(case["pending_time"], "%Y-%m-%dT%H:%M:%SZ"))
    pol = policy(account_ids=[case["account_id"]], regions=[case["region"]], now=started + 120)
    ledger = Ledger({case["instance_id"]: "web-asg"})
    certificates = load_certificates()
    verdict = judge(doc, case["rsa2048"], iid.pub(), case["instance_id"], certificates, pol, ledger, verifier())
    assert verdict.accepted, verdict.to_dict()
    assert verdict.facts["region"] == case["region"]
    tampered = doc.replace(case["account_id"].encode(), b"999999999999")
    verdict = judge(tampered, case["rsa2048"], iid.pub(), case["instance_id"], certificates,
                    policy(account_ids=["999999999999"], regions=[case["region"]], now=started + 120), ledger,
                    verifier())
    assert_refused(verdict, "document_mismatch")


@pytest.mark.parametrize("verifier", VERIFIERS)
def test_a_genuine_signature_is_refused_when_the_region_has_another_certificate(iid, verifier):
    us_west_2, us_west_1 = genuine()
    certificates = load_certificates()
    certificates["us-west-2"] = certificates["us-west-1"]  # as if the us-west-1 key had signed the document
    started = calendar.timegm(time.strptime(us_west_2["pending_time"], "%Y-%m-%dT%H:%M:%SZ"))
    signed = identity.SignedDocument(base64.b64decode("".join(us_west_2["rsa2048"].split())))
    verdict = judge(signed.content, us_west_2["rsa2048"], iid.pub(), us_west_2["instance_id"], certificates,
                    policy(account_ids=[us_west_2["account_id"]], regions=["us-west-2"], now=started + 60),
                    Ledger({us_west_2["instance_id"]: "g"}), verifier())
    assert_refused(verdict, "wrong_certificate")


# --- the attacks ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("verifier", VERIFIERS)
def test_replayed_document(iid, verifier):
    ledger = Ledger()
    first = attempt(iid, verifier, ledger=ledger)
    assert first.accepted and first.facts["outcome"] == "admit"
    ledger.record(first)
    # The instance itself posting again (it cannot see the verdict): accepted, nothing more to write.
    again = attempt(iid, verifier, ledger=ledger)
    assert again.accepted and again.facts["outcome"] == "already_admitted"
    # The same document with another key: a replay, and an alert (only once the signature verified).
    other = attempt(iid, verifier, key=iid.pub("other"), ledger=ledger)
    assert_refused(other, "document_replayed")
    assert other.alert and other.facts["verified_by"] == verifier.name
    forged = attempt(iid, verifier, key=iid.pub("other"), ledger=ledger, signature=iid.sign(document(), "forger"))
    assert_refused(forged, "wrong_certificate")
    assert not forged.alert


@pytest.mark.parametrize("verifier", VERIFIERS)
def test_a_document_for_an_instance_never_launched(iid, verifier):
    assert_refused(attempt(iid, verifier, ledger=Ledger({})), "instance_not_announced")


@pytest.mark.parametrize("verifier", VERIFIERS)
def test_a_group_that_is_not_attested(iid, verifier):
    verdict = attempt(iid, verifier, pol=policy(groups=["other-asg"]))
    assert_refused(verdict, "group_not_attested")


@pytest.mark.parametrize("verifier", VERIFIERS)
def test_another_account(iid, verifier):
    assert_refused(attempt(iid, verifier, document(accountId="999999999999")), "account_not_allowed")


@pytest.mark.parametrize("verifier", VERIFIERS)
def test_another_region(iid, verifier):
    doc = document(region="eu-west-1", availabilityZone="eu-west-1a")
    verdict = attempt(iid, verifier, doc, iid.sign(doc, signer="eu-west-1"), pol=policy(regions=["us-east-1"]))
    assert_refused(verdict, "region_not_allowed")
    # allowed, the same document verifies with eu-west-1's certificate: the document's region picks it
    assert attempt(iid, verifier, doc, iid.sign(doc, signer="eu-west-1")).accepted


@pytest.mark.parametrize("verifier", VERIFIERS)
def test_a_key_swapped_after_signing(iid, verifier):
    # The signature covers the document, not the key: the binding is "the first key for this id, once".
    ledger = Ledger()
    real = attempt(iid, verifier, ledger=ledger)
    assert real.accepted
    ledger.record(real)
    swapped = attempt(iid, verifier, key=iid.pub("other"), ledger=ledger)
    assert_refused(swapped, "document_replayed")
    assert swapped.alert and swapped.facts["key_fingerprint"] != real.facts["key_fingerprint"]


@pytest.mark.parametrize("verifier", VERIFIERS)
def test_a_second_key_for_the_same_id_with_another_signed_document(iid, verifier):
    ledger = Ledger()
    ledger.record(attempt(iid, verifier, ledger=ledger))
    doc = document(pendingTime=iso(NOW - 30))  # e.g. the instance stopped and started: a new document
    second = attempt(iid, verifier, doc, key=iid.pub("other"), ledger=ledger)
    assert_refused(second, "key_conflict")
    assert second.alert and second.facts["verified_by"] == verifier.name  # only after the signature verified
    # Without a genuine signature nobody can raise that alert.
    forged = attempt(iid, verifier, doc, iid.sign(doc, signer="forger"), key=iid.pub("other"), ledger=ledger)
    assert_refused(forged, "wrong_certificate")
    assert not forged.alert


@pytest.mark.parametrize("verifier", VERIFIERS)
def test_the_announcing_topic_fixes_account_and_region(iid, verifier):
    ledger = Ledger(topic_arn="arn:aws:sns:eu-west-1:123456789012:salt-autoscale")
    assert_refused(attempt(iid, verifier, ledger=ledger), "region_not_allowed")
    ledger = Ledger(topic_arn="arn:aws:sns:us-east-1:210987654321:salt-autoscale")
    verdict = attempt(iid, verifier, ledger=ledger, pol=policy(account_ids=[ACCOUNT, "210987654321"]))
    assert_refused(verdict, "account_not_allowed")
    ledger = Ledger(topic_arn="arn:aws:sns:us-east-1:123456789012:salt-autoscale")
    assert attempt(iid, verifier, ledger=ledger).accepted


@pytest.mark.parametrize("verifier", VERIFIERS)
def test_a_terminated_instance_is_not_admitted(iid, verifier):
    assert_refused(attempt(iid, verifier, ledger=Ledger(terminated=[INSTANCE])), "instance_terminated")


@pytest.mark.parametrize("verifier", VERIFIERS)
def test_a_stale_or_future_pending_time(iid, verifier):
    assert_refused(attempt(iid, verifier, document(pendingTime=iso(NOW - 901))), "stale_document")
    assert attempt(iid, verifier, document(pendingTime=iso(NOW - 899))).accepted
    assert_refused(attempt(iid, verifier, document(pendingTime=iso(NOW + 301))), "future_document")
    assert attempt(iid, verifier, document(pendingTime=iso(NOW + 299))).accepted
    assert_refused(attempt(iid, verifier, document(pendingTime="yesterday")), "bad_pending_time")


@pytest.mark.parametrize("verifier", VERIFIERS)
def test_a_tampered_document(iid, verifier):
    doc = document()
    forged = doc.replace(b'"t3.micro"', b'"t3.large"')
    assert_refused(attempt(iid, verifier, forged, iid.sign(doc)), "document_mismatch")  # attached content
    assert_refused(attempt(iid, verifier, forged, iid.sign(doc, detached=True)), "bad_document_signature")
    assert_refused(attempt(iid, verifier, forged, iid.sign(doc, detached=True, attributes=False)), "bad_document_signature")


@pytest.mark.parametrize("verifier", VERIFIERS)
def test_a_tampered_signature(iid, verifier):
    doc = document()
    der = bytearray(base64.b64decode(iid.sign(doc)))
    der[-10] ^= 0x01  # inside the RSA signature value, at the end of the blob
    assert_refused(attempt(iid, verifier, doc, base64.b64encode(bytes(der)).decode()), "bad_document_signature")


@pytest.mark.parametrize("verifier", VERIFIERS)
def test_a_signature_by_the_wrong_certificate(iid, verifier):
    doc = document()
    other_region = attempt(iid, verifier, doc, iid.sign(doc, signer="eu-west-1"))
    assert_refused(other_region, "wrong_certificate")
    assert "eu-west-1" in other_region.detail
    assert_refused(attempt(iid, verifier, doc, iid.sign(doc, signer="forger")), "wrong_certificate")
    # The forger carries its own certificate inside the signature: still not a certificate this master trusts.
    assert_refused(attempt(iid, verifier, doc, iid.sign(doc, signer="forger", embed=True)), "wrong_certificate")
    # The forger copies us-east-1's issuer and serial into a certificate of its own: the key tells.
    assert_refused(attempt(iid, verifier, doc, iid.sign(doc, signer="impostor", embed=True)), "bad_document_signature")


def test_openssl_never_takes_the_signer_certificate_from_inside_the_signature(iid):
    # AWS's documented command (`openssl smime -verify ... -noverify`, no -nointern) would accept this.
    doc = document()
    signed = identity.SignedDocument(base64.b64decode(iid.sign(doc, signer="forger", embed=True)))
    assert signed.embedded_certificates
    us_east_1 = [c for c in iid.certificates["us-east-1"] if c.serial == 0x0A11CE][0]
    assert OpensslVerifier().verify(signed, us_east_1, doc) is False


@pytest.mark.parametrize("verifier", VERIFIERS)
def test_the_instance_id_must_be_the_documents_and_well_formed(iid, verifier):
    assert_refused(attempt(iid, verifier, instance_id="i-0fedcba9876543210"), "instance_id_mismatch")
    for hostile in ("*", "../x", INSTANCE + "\n", "i-0123456789ABCDEF0"):
        doc = document(instanceId=hostile)
        assert_refused(attempt(iid, verifier, doc, iid.sign(doc), instance_id=hostile), "bad_instance_id")


@pytest.mark.parametrize("raw", [
    b"not json", b"[]", b'{"accountId": NaN}', document()[:-1] + b', "region" : "eu-west-1"}',
    json.dumps({"accountId": ACCOUNT, "instanceId": INSTANCE, "region": "us-east-1"}).encode(),
    b"\xff" + document(), b"[" * 5000])
def test_a_document_that_is_not_one(iid, raw):
    assert_refused(attempt(iid, VERIFIERS[0], raw, iid.sign(document())), "bad_document")


@pytest.mark.parametrize("key,why", [("small", "1024 bits"), ("e3", "exponent is 3"), ("ec", "RSA")])
def test_a_public_key_salt_would_not_write(iid, key, why):
    verdict = attempt(iid, VERIFIERS[0], key=iid.pub(key))
    assert_refused(verdict, "bad_public_key")
    assert why in verdict.detail


def test_a_pkcs1_or_garbled_public_key(iid):
    pkcs1 = openssl("rsa", "-pubin", "-in", iid.path("minion.pub"), "-RSAPublicKey_out").decode()
    assert "PKCS#1" in attempt(iid, VERIFIERS[0], key=pkcs1).detail
    lines = iid.pub().splitlines()
    del lines[3]  # a line lost in transit: the DER is cut short
    assert_refused(attempt(iid, VERIFIERS[0], key="\n".join(lines)), "bad_public_key")
    assert_refused(attempt(iid, VERIFIERS[0], key=iid.read("minion.key.pem").decode()), "bad_public_key")


def test_signatures_aws_would_not_make(iid):
    doc = document()
    assert_refused(attempt(iid, VERIFIERS[0], doc, "%%%"), "bad_signature_format")
    assert_refused(attempt(iid, VERIFIERS[0], doc, base64.b64encode(b"\x30\x03\x02\x01\x01").decode()),
                   "bad_signature_format")
    sha1 = attempt(iid, VERIFIERS[0], doc, iid.sign(doc, digest="sha1"))
    assert_refused(sha1, "bad_signature_format")
    assert "SHA-256" in sha1.detail
    pem = "-----BEGIN PKCS7-----\n%s\n-----END PKCS7-----\n" % iid.sign(doc)  # the guide's PEM form is fine
    assert attempt(iid, VERIFIERS[0], doc, pem).accepted


def test_no_certificate_for_the_region(iid):
    doc = document(region="ap-east-2")
    verdict = attempt(iid, VERIFIERS[0], doc, iid.sign(doc), pol=policy(regions=["ap-east-2"]),
                      certificates={"us-east-1": iid.certificates["us-east-1"]})
    assert_refused(verdict, "no_certificate_for_region")


def test_oversized_or_mistyped_requests(iid):
    assert_refused(attempt(iid, VERIFIERS[0], b"{" + b" " * 20000 + b"}"), "bad_request")
    assert_refused(attempt(iid, VERIFIERS[0], signature="A" * 20000), "bad_request")
    assert_refused(attempt(iid, VERIFIERS[0], instance_id=None), "bad_request")
    assert_refused(attempt(iid, VERIFIERS[0], key=b"-----BEGIN PUBLIC KEY-----"), "bad_public_key")


def test_every_reason_code_is_documented():
    with open(os.path.join(HERE, "..", "..", "docs", "reactor.md")) as handle:
        docs = handle.read()
    section = docs[docs.index("## Attested admission"):]
    assert sorted(REASONS) == sorted(code for code in REASONS if "`%s`" % code in section)


# --- the certificates -----------------------------------------------------------------------------------------

def test_the_shipped_certificates_are_each_documented_with_their_digest():
    with open(os.path.join(os.path.dirname(identity.CERTS_DIR), "SOURCE.md")) as handle:
        source = handle.read()
    names = sorted(os.listdir(identity.CERTS_DIR))
    assert len(names) >= 39
    for name in names:
        with open(os.path.join(identity.CERTS_DIR, name), "rb") as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()
        assert "`rsa2048/%s`" % name in source and digest in source, name
    certificates = load_certificates()
    assert {"us-east-1", "cn-north-1", "us-gov-west-1", "eusc-de-east-1"} <= set(certificates)
    assert all(len(v) == 1 for v in certificates.values())


def test_extra_certificates_add_to_a_region(iid):
    assert len(iid.certificates["us-east-1"]) == 2  # AWS's and the test CA's
    assert [c.region for c in iid.certificates["eu-west-1"]] == ["eu-west-1", "eu-west-1"]


def test_an_extra_directory_others_can_write_is_refused(tmp_path):
    extra = tmp_path / "certs"
    extra.mkdir()
    extra.chmod(0o777)
    with pytest.raises(CertificateProblem, match="writable by group or others"):
        load_certificates(str(extra))
    link = tmp_path / "link"
    extra.chmod(0o755)
    link.symlink_to(extra)
    with pytest.raises(CertificateProblem, match="symlink"):
        load_certificates(str(link))
    with pytest.raises(CertificateProblem, match="does not exist"):
        load_certificates(str(tmp_path / "missing"))


def test_a_package_installed_without_its_certificates_says_so(tmp_path):
    with pytest.raises(CertificateProblem, match="installed without its data"):
        load_certificates(shipped_dir=str(tmp_path / "aws_iid_certs" / "rsa2048"))


def test_a_bad_extra_certificate_names_its_file(tmp_path, iid):
    extra = tmp_path / "certs"
    extra.mkdir()
    (extra / "us-east-1.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(CertificateProblem, match="us-east-1.pem is not one RSA X.509"):
        load_certificates(str(extra))
    (extra / "us-east-1.pem").unlink()
    (extra / "certificate.pem").write_bytes(iid.read("us-east-1.pem"))
    with pytest.raises(CertificateProblem, match="must start with a region name"):
        load_certificates(str(extra))


# --- other Pythons --------------------------------------------------------------------------------------------

SELF_CHECK = r"""
import base64, json, sys
sys.path.insert(0, sys.argv[1])
from salt_autoscale_gate import identity as i
case = json.load(open(sys.argv[2]))["documents"][0]
signed = i.SignedDocument(base64.b64decode("".join(case["rsa2048"].split())))
class L(object):
    announcement = lambda self, x: {"group": "g", "topic_arn": None, "terminated": False}
    recorded = lambda self, x: None
pol = i.Policy([case["account_id"]], [case["region"]], 10 ** 12, 1630704344 + 60)
key = open(sys.argv[3]).read()
ok = i.judge(signed.content, case["rsa2048"], key, case["instance_id"], i.load_certificates(), pol, L())
bad = i.judge(signed.content.replace(b"t2.medium", b"t2.large"), case["rsa2048"], key, case["instance_id"],
              i.load_certificates(), pol, L())
print(json.dumps([i.verifier().name, ok.accepted, ok.facts.get("outcome"), bad.reason]))
"""


@pytest.mark.parametrize("python,backend", [("/root/.pyenv/versions/3.10.13/bin/python3", "openssl"),
                                            ("python3", "cryptography"), ("/usr/bin/python3", "cryptography")])
def test_other_pythons_judge_the_genuine_document_alike(iid, python, backend):
    exe = shutil.which(python)
    if exe is None:
        pytest.skip("%s is not installed here" % python)
    out = subprocess.run([exe, "-c", SELF_CHECK, os.path.dirname(HERE),
                          os.path.join(HERE, "fixtures", "aws-iid-genuine.json"), iid.path("minion.pub")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True, timeout=60)
    name, accepted, outcome, refusal = json.loads(out.stdout)
    if backend == "cryptography" and name != backend:
        pytest.skip("%s has no cryptography" % python)
    assert (name, accepted, outcome, refusal) == (backend, True, "admit", "document_mismatch")


# --- the POST body the attested user data sends ---------------------------------------------------------------

def body(iid, doc=None, **changes):
    doc = document() if doc is None else doc
    value = {"instance_id": INSTANCE, "document_b64": base64.b64encode(doc).decode(),
             "signature": iid.sign(doc).replace("\n", ""),
             "public_key_b64": base64.b64encode(iid.pub().encode()).decode()}
    value.update(changes)
    return json.dumps(value)


def test_a_posted_body_is_judged_with_its_exact_bytes(iid):
    verdict = identity.judge_request(body(iid), iid.certificates, policy(), Ledger(), VERIFIERS[0]())
    assert verdict.accepted, verdict.to_dict()
    assert verdict.facts["public_key"] == iid.pub()


@pytest.mark.parametrize("raw", [
    "[]", "{}", '{"instance_id": "x"}', "x" * 70000, b"\xff{}",
    json.dumps({"instance_id": INSTANCE, "document_b64": "%%", "signature": "", "public_key_b64": ""}),
    json.dumps({"instance_id": INSTANCE, "document_b64": "", "signature": "", "public_key_b64": "", "more": ""}),
    json.dumps({"instance_id": 1, "document_b64": "", "signature": "", "public_key_b64": ""})])
def test_a_body_that_is_not_what_the_user_data_sends(iid, raw):
    verdict = identity.judge_request(raw, iid.certificates, policy(), Ledger(), VERIFIERS[0]())
    assert_refused(verdict, "bad_request")


def test_a_body_with_a_key_field_repeated_is_refused(iid):
    raw = body(iid)[:-1] + ', "instance_id": "i-0fedcba9876543210"}'
    assert_refused(identity.judge_request(raw, iid.certificates, policy(), Ledger(), VERIFIERS[0]()), "bad_request")
