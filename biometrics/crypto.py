"""Encryption at rest for biometric templates and any kept raw samples.

Fernet (AES-128-CBC + HMAC-SHA256) from the `cryptography` package, with keys from
BIOMETRIC_TEMPLATE_KEYS: the first key encrypts, every key decrypts, so keys rotate by
prepending a new one and re-encrypting at leisure.
"""

import base64
import functools
import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

logger = logging.getLogger(__name__)


class TemplateDecryptionError(Exception):
    """A stored template could not be decrypted with any configured key."""


@functools.cache
def _fernet() -> MultiFernet:
    keys = list(settings.BIOMETRIC_TEMPLATE_KEYS)
    if not keys:
        # A fresh clone must run without configuration, so derive a key from
        # SECRET_KEY; production sets BIOMETRIC_TEMPLATE_KEYS (see .env.example).
        logger.warning("BIOMETRIC_TEMPLATE_KEYS is unset; deriving the template key from SECRET_KEY")
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"biometric-templates").derive(
            settings.SECRET_KEY.encode()
        )
        keys = [base64.urlsafe_b64encode(derived).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(data: bytes) -> bytes:
    return _fernet().encrypt(data)


def decrypt(token: bytes | memoryview) -> bytes:
    try:
        return _fernet().decrypt(bytes(token))
    except InvalidToken as error:
        raise TemplateDecryptionError("template cannot be decrypted with the configured keys") from error
