"""Sealing secrets (provider credentials) with SWITCHBOARD_SECRET_KEY: authenticated encryption
(Fernet: AES-128-CBC + HMAC-SHA256) so they are stored and carried only as ciphertext."""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken


class SealingError(Exception):
    """The key is missing, or a sealed value was not made with this key (or was altered)."""


class Sealer:
    def __init__(self, secret_key: str):
        if not secret_key:
            raise SealingError("SWITCHBOARD_SECRET_KEY is not set; it is needed to seal provider secrets")
        # Any string is accepted as the key: it is stretched to the 32 bytes Fernet needs.
        digest = hashlib.sha256(b"switchboard-sealing\x00" + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, secrets: dict[str, str]) -> str:
        return self._fernet.encrypt(json.dumps(secrets, sort_keys=True).encode()).decode()

    def unseal(self, sealed: str) -> dict[str, str]:
        try:
            return json.loads(self._fernet.decrypt(sealed.encode()))
        except (InvalidToken, ValueError) as exc:
            raise SealingError("a sealed secret could not be opened with SWITCHBOARD_SECRET_KEY") from exc
