"""Encryption of sensitive fields (national ID numbers, phone numbers) and their masking.

Ciphertext is Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from the secret key with HKDF;
a separate HKDF key gives a keyed hash (HMAC-SHA256) so a record can be found by exact value without
storing the value. ``JIZUO_DATA_KEYS_OLD`` (comma-separated old secret keys) keeps old ciphertext
readable after a key rotation.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _derive(secret: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"jizuo-field-keys", info=info).derive(
        secret.encode()
    )


class FieldCipher:
    def __init__(self, secret: str, old_secrets: list[str] | None = None) -> None:
        keys = [secret, *(old_secrets or [])]
        self._fernet = MultiFernet(
            [Fernet(base64.urlsafe_b64encode(_derive(k, b"fernet-v1"))) for k in keys]
        )
        self._hash_key = _derive(secret, b"blind-index-v1")

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        return self._fernet.decrypt(token.encode()).decode()

    def blind_index(self, value: str) -> str:
        return hmac.new(self._hash_key, normalise(value).encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=8)
def cipher_for(secret: str) -> FieldCipher:
    old = [k for k in os.environ.get("JIZUO_DATA_KEYS_OLD", "").split(",") if k]
    return FieldCipher(secret, old)


def normalise(value: str) -> str:
    return value.strip().upper().replace(" ", "")


def mask_id_number(value: str | None) -> str | None:
    """``310105200801011234`` → ``3101**********1234``: region prefix and last four only."""
    if not value:
        return None
    v = normalise(value)
    if len(v) <= 8:
        return "*" * len(v)
    return v[:4] + "*" * (len(v) - 8) + v[-4:]


def mask_phone(value: str | None) -> str | None:
    if not value:
        return None
    return value[:3] + "****" + value[-4:] if len(value) >= 7 else "*" * len(value)


def mask_name(value: str | None) -> str | None:
    """``张小明`` → ``张*明``, ``王芳`` → ``王*``: enough to recognise among people one already knows."""
    if not value:
        return None
    if len(value) <= 2:
        return value[0] + "*" * (len(value) - 1)
    return value[0] + "*" * (len(value) - 2) + value[-1]


_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def id_check_char(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def id_number_problem(value: str) -> str | None:
    """Why ``value`` is not a valid resident ID number (GB 11643), or None. Returns a message key."""
    v = normalise(value)
    if len(v) != 18 or not v[:17].isdigit() or not (v[17].isdigit() or v[17] == "X"):
        return "id_number.format"
    if id_check_char(v[:17]) != v[17]:
        return "id_number.checksum"
    return None
