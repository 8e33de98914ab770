"""Personal data at rest: encrypted ID numbers, keyed look-up hashes, last-4 search keys.

The key is app.config["PII_KEY"] (instance/pii_key or the PII_KEY environment variable), kept apart
from SECRET_KEY. Independent keys are derived from it with HKDF-SHA256: a Fernet key (AES-128-CBC
+ HMAC-SHA256, authenticated) for the stored value, an HMAC key for the look-up column, so that
"is this person already registered?" is an indexed equality without decrypting anything, and an
HMAC key for the last-4 search key.

What stays in clear about an ID number is chosen so that nobody holding the database file without
the key, plus anything a page, export, PDF or transfer file shows, can narrow a number to fewer than
1,000 candidates (docs/security-pii.md, tests/volunteers/test_pii_reconstruction.py): the birth year,
the sex and the first four characters; never the birth month/day, the sequence digits or the check
character.

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
def _keys(secret: str) -> tuple[Fernet, bytes, bytes]:
    fernet = Fernet(base64.urlsafe_b64encode(_derive(secret, b"fernet")))
    return fernet, _derive(secret, b"lookup-hmac"), _derive(secret, b"last4-search-hmac")


def _current(secret: str | None = None) -> tuple[Fernet, bytes, bytes]:
    """The keys derived from `secret`, by default the configured PII_KEY (key rotation passes both)."""
    secret = secret or current_app.config.get("PII_KEY")
    if not secret:
        raise PiiError("PII_KEY is not configured")
    return _keys(str(secret))


def normalize(value: str) -> str:
    """ID numbers compare upper-case and without surrounding blanks (a typed 'x' is an 'X')."""
    return (value or "").strip().upper()


def encrypt(value: str, secret: str | None = None) -> str:
    return _current(secret)[0].encrypt(normalize(value).encode()).decode("ascii")


def decrypt(token: str, secret: str | None = None) -> str:
    try:
        return _current(secret)[0].decrypt(token.encode("ascii")).decode()
    except (InvalidToken, ValueError, AttributeError):
        raise PiiError("stored personal data cannot be decrypted with the configured PII_KEY") from None


def lookup_hash(value: str, secret: str | None = None) -> str:
    """Keyed hash for equality look-ups (unique index); useless without the key."""
    return hmac.new(_current(secret)[1], normalize(value).encode(), hashlib.sha256).hexdigest()


def last4(value: str | None) -> str:
    """The last four characters, the only part of a number that search may use."""
    return normalize(value or "")[-4:]


# Birth years a search by the last four characters tries (parse_id_number refuses births before 1900).
FIRST_BIRTH_YEAR = 1900


def last4_key(value: str, birth_year: int, secret: str | None = None) -> str:
    """Search key of the last four characters of an ID number, stored instead of the digits.

    Keyed (useless without PII_KEY) and bound to the birth year: equal keys only tell that two people
    born in the same year share their last four characters, so someone who knows one person's full
    number learns almost nobody else's last four (docs/security-pii.md)."""
    message = f"{last4(value)}|{int(birth_year)}".encode()
    return hmac.new(_current(secret)[2], message, hashlib.sha256).hexdigest()


def last4_keys(value: str, last_year: int | None = None) -> list[str]:
    """Every key a search for these last four characters may match (one per birth year): an
    indexed IN (…) of ~130 values, no decryption."""
    if last_year is None:
        from core.timeutil import local_today

        last_year = local_today().year
    return [last4_key(value, year) for year in range(FIRST_BIRTH_YEAR, last_year + 1)]
