"""TOTP second factor (RFC 6238, pyotp): enrol, verify (each time step accepted once), remove."""
from __future__ import annotations

import io
import time

import pyotp
import qrcode
import qrcode.image.svg
from flask import current_app

from foundation.audit import record
from foundation.models import Account
from foundation.security.fields import cipher_for

ISSUER_NAME = "Jizuo 基座"


def _cipher():
    return cipher_for(current_app.config["SECRET_KEY"])


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning(account: Account, secret: str) -> tuple[str, str]:
    """The otpauth:// URI and an SVG QR code of it, for an authenticator app."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=account.username, issuer_name=ISSUER_NAME)
    buf = io.BytesIO()
    qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8).save(buf)
    return uri, buf.getvalue().decode()


def _check(secret: str, code: str, last_step: int | None) -> int | None:
    """The matching time step (±1 step of clock drift), or None; a step already used is refused."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = int(time.time()) // totp.interval
    for step in (now, now - 1, now + 1):
        if (last_step is None or step > last_step) and totp.generate_otp(step) == code:
            return step
    return None


def enable(account: Account, secret: str, code: str) -> bool:
    step = _check(secret, code, None)
    if step is None:
        return False
    account.totp_secret_enc = _cipher().encrypt(secret)
    account.totp_last_step = step
    record("account.totp.enable", "account", account.id, account=account)
    return True


def verify(account: Account, code: str) -> bool:
    if not account.totp_secret_enc:
        return True
    step = _check(_cipher().decrypt(account.totp_secret_enc), code, account.totp_last_step)
    if step is None:
        return False
    account.totp_last_step = step
    return True


def disable(account: Account, code: str) -> bool:
    if not verify(account, code):
        return False
    account.totp_secret_enc = None
    account.totp_last_step = None
    record("account.totp.disable", "account", account.id, account=account)
    return True
