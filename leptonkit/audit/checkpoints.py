"""What a keyed hash chain cannot do alone: survive a hostile host, and prove its own length.

The host that appends to an HMAC-chained log holds the key, so it can rewrite every record since
the last anchor kept elsewhere. Two defences, each against one thing:

- **Forward-secure keys** (Schneier & Kelsey 1999): record i is authenticated with K_i, and
  K_{i+1} = HKDF(K_i); the writer keeps only the newest key and the old one is dropped. A host
  compromised after record n learns K_n and can forge from there on, but cannot rewrite records
  0 … n−1 without a key it no longer has. The auditor verifies with K_0, which the writer never
  needs again. (Python cannot promise the old bytes are wiped from memory, only that the kit
  keeps no reference to them and overwrites the key file.)
- **Signed checkpoints**: the chain's head (seq, hash) signed with Ed25519 by a key that does
  *not* live on the host — the data-protection officer's, say. An auditor with the public key
  verifies the signature and then the log against it, which also catches records cut off from
  the end. A host without the signing key can neither move a checkpoint nor make a new one.

What neither defends: a host that withholds or deletes the whole log, or one that forges records
*after* it is compromised and before the next checkpoint.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .. import crypto
from ..errors import IntegrityError

if TYPE_CHECKING:
    from .log import AuditLog

__all__ = ["Checkpoint", "WriterKey", "evolve", "sign_head", "verify_checkpoint"]

_EVOLVE_INFO = b"leptonkit audit log: next record key"
_CHECKPOINT_CONTEXT = b"leptonkit audit checkpoint v1\x00"


def evolve(key: bytes) -> bytes:
    """The next record's key: HKDF-SHA256 of this one (one-way, so the old key cannot be recomputed)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_EVOLVE_INFO).derive(key)


@dataclass(frozen=True, repr=False)
class WriterKey:
    """A forward-secure writer's state: the key for record ``seq``, and nothing older."""

    seq: int
    key: bytes

    def __repr__(self) -> str:
        return f"WriterKey(seq={self.seq}, key=<hidden>)"

    @classmethod
    def load(cls, path: Path) -> WriterKey | None:
        """The state in ``path``, or None when there is none; a malformed file is IntegrityError."""
        if path.is_symlink():
            raise ValueError(f"path must not be a symbolic link: {path}")
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_bytes()[:4096])
            state = cls(int(data["seq"]), bytes.fromhex(data["key"]))
        except (ValueError, KeyError, TypeError, RecursionError):
            raise IntegrityError(f"{path} is not a writer key file") from None
        if state.seq < 0 or len(state.key) != 32:
            raise IntegrityError(f"{path} is not a writer key file")
        return state

    def save(self, path: Path) -> None:
        """Replace the state atomically (write, fsync, rename): a crash leaves the old or the new."""
        temporary = path.with_name(path.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, json.dumps({"seq": self.seq, "key": self.key.hex()}).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)


@dataclass(frozen=True)
class Checkpoint:
    """A signed chain head: record ``seq`` of the log whose first record is ``first`` has ``hash``."""

    seq: int
    hash: str
    first: str
    signature: str

    def anchor(self) -> tuple[int, str]:
        """``(seq, hash)`` for :meth:`AuditLog.verify` — after :func:`verify_checkpoint` has checked it."""
        return self.seq, self.hash

    def to_json(self) -> str:
        return json.dumps({"seq": self.seq, "hash": self.hash, "first": self.first,
                           "signature": self.signature}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        try:
            data = json.loads(text)
            checkpoint = cls(data["seq"], data["hash"], data["first"], data["signature"])
        except (ValueError, KeyError, TypeError, RecursionError):
            raise IntegrityError("not a checkpoint") from None
        if not (isinstance(checkpoint.seq, int) and all(isinstance(v, str) for v in
                                                          (checkpoint.hash, checkpoint.first,
                                                           checkpoint.signature))):
            raise IntegrityError("not a checkpoint")
        return checkpoint


def _message(seq: int, digest: str, first: str) -> bytes:
    return _CHECKPOINT_CONTEXT + json.dumps({"seq": seq, "hash": digest, "first": first},
                                            sort_keys=True, separators=(",", ":")).encode()


def sign_head(log: AuditLog, private: ed25519.Ed25519PrivateKey) -> Checkpoint:
    """Sign the head of ``log`` (after checking the chain) with an Ed25519 key kept off the host.

    Raises
    ------
    ValueError
        If the log is empty: there is no head to sign.
    """
    _check_log(log)
    if not isinstance(private, ed25519.Ed25519PrivateKey):
        raise TypeError(f"private must be an Ed25519 private key, got {type(private).__name__}")
    records = log.records()
    if not records:
        raise ValueError("log must hold at least one record to sign its head")
    head = records[-1]
    signature = crypto.sign(_message(head.seq, head.hash, records[0].hash), private)
    return Checkpoint(head.seq, head.hash, records[0].hash, signature.hex())


def verify_checkpoint(log: AuditLog, checkpoint: Checkpoint, public: ed25519.Ed25519PublicKey) -> bool:
    """True if ``checkpoint`` is signed by ``public`` and ``log`` still holds it; else IntegrityError.

    Checks the signature, then the whole chain against the checkpoint as an anchor: an edited,
    reordered or cut-off record before the checkpoint, or a checkpoint from another log, fails.
    """
    _check_log(log)
    if not isinstance(checkpoint, Checkpoint):
        raise TypeError(f"checkpoint must be a Checkpoint, got {type(checkpoint).__name__}")
    if not isinstance(public, ed25519.Ed25519PublicKey):
        raise TypeError(f"public must be an Ed25519 public key, got {type(public).__name__}")
    try:
        signature: Any = bytes.fromhex(checkpoint.signature)
    except ValueError:
        signature = b""
    if not crypto.verify(_message(checkpoint.seq, checkpoint.hash, checkpoint.first), signature, public):
        raise IntegrityError("the checkpoint's signature does not verify: it was not signed by this key "
                             "or has been altered")
    log.verify(anchor=checkpoint.anchor())
    records = log.records()
    if not records or records[0].hash != checkpoint.first:
        raise IntegrityError("the checkpoint belongs to another log")
    return True


def _check_log(log: Any) -> None:
    from .log import AuditLog

    if not isinstance(log, AuditLog):
        raise TypeError(f"log must be a leptonkit.audit.AuditLog, got {type(log).__name__}")
