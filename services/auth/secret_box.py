"""Encrypt secrets at rest (signing keys, TOTP secrets) with AES-256-GCM."""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE = 12


class SecretBox:
    """Authenticated encryption bound to a context string, so a ciphertext cannot be moved."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, context: str) -> bytes:
        """Return nonce + ciphertext of `plaintext` for `context`."""
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, context: str) -> bytes:
        """Return the plaintext; raises InvalidTag if tampered with or moved."""
        return self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], context.encode())
