"""Encryption for sensitive columns of plugins' own tables (an ID number, a phone, a counsellor's note),
with the platform's keys: the same Fernet ciphertext and keyed lookup hash the core uses, derived from the
app's secret key (``JIZUO_DATA_KEYS_OLD`` keeps old ciphertext readable after a rotation). Store
``encrypt(value)`` and, to find a row by exact value, ``blind_index(value)``; show ``mask_*`` of it."""
from __future__ import annotations

from flask import current_app

from foundation.security.fields import FieldCipher, cipher_for


def _cipher() -> FieldCipher:
    return cipher_for(current_app.config["SECRET_KEY"])


def encrypt(value: str) -> str:
    """Ciphertext of ``value`` (store it in a Text column)."""
    return _cipher().encrypt(value)


def decrypt(token: str) -> str:
    """The value back, under the current key or an old one."""
    return _cipher().decrypt(token)


def blind_index(value: str) -> str:
    """A keyed hash of the normalised value (64 hex characters): find a row by exact value without storing it."""
    return _cipher().blind_index(value)
