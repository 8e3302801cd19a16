"""The signature check: SignatureVersion 1 is SHA1withRSA, 2 is SHA256withRSA (PKCS#1 v1.5), over the
canonical string."""
from .reasons import Rejected


def check_signature(envelope, signed, signature, key, backend):
    """signed: envelope.canonical_string(envelope), which the gate made once when it checked the envelope."""
    if not backend.verify(key, signature, signed, envelope["SignatureVersion"]):
        raise Rejected("bad_signature", "the signature does not match the message")
