"""Password hashing with Argon2id (argon2-cffi); rehash on login when parameters change."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

STRONG = PasswordHasher()  # argon2-cffi's RFC 9106 low-memory profile
# Tests only (PASSWORD_HASH_FAST): same algorithm, minimal cost.
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
MAX_LENGTH = 128  # hashing is costly on purpose: an unbounded input would be a way to load the server


def hasher(fast: bool = False) -> PasswordHasher:
    return FAST if fast else STRONG


def hash_password(password: str, fast: bool = False) -> str:
    return hasher(fast).hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    try:
        return STRONG.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """A message key when the password is too weak (or too long to be a password), else None. The one policy:
    set-password, account creation, the demo and a person changing their own password all ask here."""
    if len(password) < 8:
        return "password.too_short"
    if len(password) > MAX_LENGTH:
        return "password.too_long"
    if password.isdigit() or password.isalpha():
        return "password.too_simple"
    return None
