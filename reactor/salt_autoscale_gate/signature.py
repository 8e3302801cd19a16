"""The signature check: SignatureVersion 1 is SHA1withRSA, 2 is SHA256withRSA (PKCS#1 v1.5), over the
canonical string."""
from .envelope import canonical_string
from .reasons import Rejected


def check_signature(envelope, signature, key, backend):
    if not backend.verify(key, signature, canonical_string(envelope), envelope["SignatureVersion"]):
        raise Rejected("bad_signature", "the signature does not match the message")
