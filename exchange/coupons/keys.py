"""The coupon signing keys: Ed25519 keys on disk, with a manifest of which is current.

`<dir>/keyring.json` lists every key with its status: `current` (signs new tokens), `active`
(still verifies tokens it signed) or `retired` (verifies nothing; tokens it signed are
refused). Private keys are `<dir>/<kid>.pem`, readable by the owner only. Several workers
share the directory; rotation takes a file lock and replaces the manifest atomically, and each
worker notices a new manifest within a few seconds.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

RECHECK_SECONDS = 2.0


@dataclass(frozen=True)
class SigningKey:
    kid: str
    status: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self):
        return self.private_key.public_key()


class KeyRingError(RuntimeError):
    pass


class KeyRing:
    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self._keys: dict[str, SigningKey] = {}
        self._verifying: dict[str, object] = {}
        self._stamp: float | None = None
        self._checked = 0.0

    @property
    def manifest(self) -> Path:
        return self.directory / "keyring.json"

    # reading ---------------------------------------------------------------------------------
    def _load(self) -> None:
        entries = json.loads(self.manifest.read_text())["keys"]
        self._keys = {e["kid"]: SigningKey(e["kid"], e["status"], self._read_private(e["kid"]))
                      for e in entries}
        # Derived once per manifest: every redemption of a token verifies against these.
        self._verifying = {k.kid: k.public_key for k in self._keys.values() if k.status != "retired"}
        self._stamp = self.manifest.stat().st_mtime

    def _read_private(self, kid: str) -> Ed25519PrivateKey:
        return serialization.load_pem_private_key((self.directory / f"{kid}.pem").read_bytes(), None)

    def refresh(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < RECHECK_SECONDS and self._keys:
            return
        self._checked = now
        if not self.manifest.exists():
            raise KeyRingError(f"no coupon signing keys in {self.directory}: run "
                               "`flask --app wsgi exchange rotate-keys`")
        if self.manifest.stat().st_mtime != self._stamp:
            self._load()

    def current(self) -> SigningKey:
        self.refresh()
        return next(k for k in self._keys.values() if k.status == "current")

    def verifying_keys(self) -> dict[str, object]:
        self.refresh()
        return self._verifying

    def jwks(self) -> dict:
        keys = []
        for kid, public in sorted(self.verifying_keys().items(), key=lambda kv: int(kv[0])):
            jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
            keys.append({**jwk, "kid": kid, "alg": "EdDSA", "use": "sig"})
        return {"keys": keys}

    def statuses(self) -> dict[str, str]:
        self.refresh(force=True)
        return {k.kid: k.status for k in self._keys.values()}

    # changing --------------------------------------------------------------------------------
    @contextmanager
    def _locked(self):
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.directory / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _entries(self) -> list[dict]:
        return json.loads(self.manifest.read_text())["keys"] if self.manifest.exists() else []

    def _write(self, entries: list[dict]) -> None:
        tmp = self.manifest.with_suffix(".tmp")
        tmp.write_text(json.dumps({"keys": entries}, indent=2))
        os.replace(tmp, self.manifest)
        self._load()

    def rotate(self) -> str:
        """Add a new current key; the previous current key keeps verifying."""
        with self._locked():
            return self._add_current_key()

    def _add_current_key(self) -> str:
        entries = self._entries()
        kid = str(max((int(e["kid"]) for e in entries), default=0) + 1)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
        fd = os.open(self.directory / f"{kid}.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        for e in entries:
            if e["status"] == "current":
                e["status"] = "active"
        entries.append({"kid": kid, "status": "current", "created_at": int(time.time())})
        self._write(entries)
        return kid

    def retire(self, kid: str) -> None:
        """Stop accepting tokens signed with `kid` (a leaked key). The current key cannot be."""
        with self._locked():
            entries = self._entries()
            entry = next((e for e in entries if e["kid"] == kid), None)
            if entry is None:
                raise KeyRingError(f"no key {kid}")
            if entry["status"] == "current":
                raise KeyRingError("rotate first: the current key cannot be retired")
            entry["status"] = "retired"
            self._write(entries)

    def ensure(self) -> None:
        """Development: make a first key if there is none (several workers may race here)."""
        with self._locked():
            if not self.manifest.exists():
                self._add_current_key()
