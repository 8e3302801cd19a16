"""Shared fixtures: the package on sys.path, a test PKI made with the openssl command, signed envelopes."""
import base64
import datetime
import json
import os
import subprocess
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


from salt_autoscale_gate.envelope import canonical_string  # noqa: E402
from salt_autoscale_gate.settings import Settings  # noqa: E402

TOPIC = "arn:aws:sns:us-east-1:123456789012:salt-autoscale"
CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"


def openssl(*args, cwd=None, stdin=None):
    return subprocess.run(("openssl",) + args, cwd=cwd, input=stdin, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE).stdout


class Pki(object):
    def __init__(self, root):
        self.root = str(root)
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rsa.key", "-out", "rsa.pem",
                "-days", "2", "-subj", "/CN=sns.amazonaws.com", cwd=self.root)
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ec.key", cwd=self.root)
        openssl("req", "-x509", "-new", "-key", "ec.key", "-out", "ec.pem", "-days", "2",
                "-subj", "/CN=sns.amazonaws.com", cwd=self.root)
        self.rsa_pem = self.read("rsa.pem")
        self.ec_pem = self.read("ec.pem")

    def read(self, name):
        with open(os.path.join(self.root, name), "rb") as handle:
            return handle.read()

    def sign(self, envelope, key="rsa.key", version="2"):
        envelope = dict(envelope, SignatureVersion=version, SigningCertURL=envelope.get("SigningCertURL", CERT_URL))
        digest = "-sha1" if version == "1" else "-sha256"
        raw = openssl("dgst", digest, "-sign", os.path.join(self.root, key), stdin=canonical_string(envelope))
        envelope["Signature"] = base64.b64encode(raw).decode("ascii")
        return envelope


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki"))


def iso(at=None):
    at = at or datetime.datetime.now(datetime.timezone.utc)
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def launch(instance_id="i-0123456789abcdef0", group="web-asg", event="autoscaling:EC2_INSTANCE_LAUNCH", **extra):
    message = {"Event": event, "AutoScalingGroupName": group, "AccountId": "123456789012",
               "EC2InstanceId": instance_id}
    envelope = {"Type": "Notification", "MessageId": str(uuid.uuid4()), "TopicArn": TOPIC,
                "Subject": "Auto Scaling: launch", "Message": json.dumps(message), "Timestamp": iso()}
    envelope.update(extra)
    return envelope


@pytest.fixture
def settings(tmp_path):
    opts = {"cachedir": str(tmp_path / "cache"), "pki_dir": str(tmp_path / "pki"),
            "ec2.autoscale": {"topic_arns": [TOPIC], "max_age": 3600, "clock_skew": 300,
                              "groups": {"web-asg": {"bootstrap": "salt-cloud", "provider": "ec2"},
                                         "worker-asg": {"bootstrap": "preauth"}}}}
    return Settings(opts)


@pytest.fixture(scope="session")
def iid(tmp_path_factory):
    """Test CAs standing in for AWS's identity certificates, and minion keys (test_identity.IidPki): made once."""
    from test_identity import IidPki
    return IidPki(tmp_path_factory.mktemp("iid"))
