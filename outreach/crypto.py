"""Secrets at rest. Fernet (AES-128-CBC + HMAC-SHA256) under FIELD_ENCRYPTION_KEYS: the first key
encrypts, all of them decrypt, which is what lets a key be rotated without downtime."""

import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class UndecryptableSecret(Exception):
    """A stored secret that none of the configured keys opens (a key was dropped too early)."""


@functools.cache
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "Each FIELD_ENCRYPTION_KEYS entry must be a Fernet key (32 url-safe base64 bytes)."
        ) from exc


def _fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise UndecryptableSecret("No configured key decrypts this value.") from exc


def generate_key() -> str:
    return Fernet.generate_key().decode()


class EncryptedTextField(models.TextField):
    """A text column holding ciphertext; Python code only ever sees the plaintext."""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)
