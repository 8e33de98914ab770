"""Personal data at rest: encrypted ID numbers, keyed look-up hashes, last-4 search keys.

The key is app.config["PII_KEY"] (instance/pii_key or the PII_KEY environment variable), kept apart
from SECRET_KEY. Two independent keys are derived from it with HKDF-SHA256: a Fernet key (AES-128-CBC
+ HMAC-SHA256, authenticated) for the stored value, and an HMAC key for the look-up column, so that
"is this person already registered?" is an indexed equality without decrypting anything.

Never log, flash or put into a URL what `decrypt()` returns.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_SALT = b"zhiyuan-pii-v1"


class PiiError(RuntimeError):
    """The stored value cannot be decrypted with the configured key (wrong or rotated PII_KEY)."""


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=purpose).derive(secret.encode())


@lru_cache(maxsize=4)
def _keys(secret: str) -> tuple[Fernet, bytes]:
    fernet = Fernet(base64.urlsafe_b64encode(_derive(secret, b"fernet")))
    return fernet, _derive(secret, b"lookup-hmac")


def _current() -> tuple[Fernet, bytes]:
    secret = current_app.config.get("PII_KEY")
    if not secret:
        raise PiiError("PII_KEY is not configured")
    return _keys(str(secret))


def normalize(value: str) -> str:
    """ID numbers compare upper-case and without surrounding blanks (a typed 'x' is an 'X')."""
    return (value or "").strip().upper()


def encrypt(value: str) -> str:
    return _current()[0].encrypt(normalize(value).encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _current()[0].decrypt(token.encode("ascii")).decode()
    except (InvalidToken, ValueError, AttributeError):
        raise PiiError("stored personal data cannot be decrypted with the configured PII_KEY") from None


def lookup_hash(value: str) -> str:
    """Keyed hash for equality look-ups (unique index); useless without the key."""
    return hmac.new(_current()[1], normalize(value).encode(), hashlib.sha256).hexdigest()


def last4(value: str | None) -> str:
    """The last four characters, the only part of a number that search may use."""
    return normalize(value or "")[-4:]
