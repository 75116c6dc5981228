"""The hash-chained, append-only audit log: writing, locking, verifying, repairing.

Each record names who did what, when and why, and carries the hash of the record before it and
its own: SHA-256, or HMAC-SHA256 when a key is given, so that someone without the key cannot
rewrite the chain and recompute the hashes. Any edit, deletion or reordering breaks the chain
at the first record touched; records cut off from the end show only against an anchor kept
elsewhere (:meth:`AuditLog.head`, or a signed checkpoint from :mod:`.checkpoints`).

Writers take an exclusive lock (a thread lock in the process, ``flock`` on a ``.lock`` file
beside the log across processes) from reading the chain to writing the next record, and never
extend a chain that does not verify. A write appends one whole line and fsyncs before it
returns; a crash mid-write leaves at most a torn last line, which :meth:`AuditLog.repair`
removes. With ``forward_secure=True`` the key evolves after every record (see
:mod:`.checkpoints`), so a host compromised today cannot rewrite yesterday's records.
"""

from __future__ import annotations

import hmac
import json
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import crypto
from .._checks import as_bytes
from ..errors import IntegrityError
from .checkpoints import WriterKey, evolve

__all__ = ["GENESIS", "MAX_LINE_BYTES", "AuditLog", "Record"]

GENESIS = "0" * 64          # the "previous hash" of the first record
MAX_LINE_BYTES = 1 << 20    # a record longer than this is refused when written and when read
_FIELDS = ("seq", "time", "actor", "action", "details", "prev")
_HEX64 = re.compile(r"[0-9a-f]{64}")

try:  # POSIX; elsewhere the lock is the in-process one only
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None


@dataclass(frozen=True)
class Record:
    """One verified line of the log."""

    seq: int
    time: str
    actor: str
    action: str
    details: dict
    prev: str
    hash: str


def _bad(record: int, message: str) -> IntegrityError:
    error = IntegrityError(message)
    error.record = record  # the index of the first bad record, for tools that show it
    return error


def _canonical(fields: dict) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _parse(line: bytes, where: str, index: int) -> dict:
    """One line as a record's fields, or IntegrityError: never KeyError, RecursionError or the like."""
    if len(line) > MAX_LINE_BYTES:
        raise _bad(index, f"{where} is longer than {MAX_LINE_BYTES} bytes: not a record the log writes")
    try:
        raw = json.loads(line)
    except (ValueError, RecursionError):
        raise _bad(index, f"{where} is not a valid record") from None
    if not isinstance(raw, dict) or set(raw) != {*_FIELDS, "hash"}:
        raise _bad(index, f"{where} is not a valid record")
    types = {"seq": int, "time": str, "actor": str, "action": str, "details": dict, "prev": str, "hash": str}
    if any(not isinstance(raw[name], kind) or isinstance(raw[name], bool) for name, kind in types.items()):
        raise _bad(index, f"{where} is not a valid record")
    if not all(_HEX64.fullmatch(raw[name]) for name in ("hash", "prev")):
        raise _bad(index, f"{where} is not a valid record: its hashes are not 64 hex digits")
    try:
        canonical = _canonical(raw)
    except (ValueError, RecursionError):
        raise _bad(index, f"{where} is not a valid record") from None
    if canonical != line:
        raise _bad(index, f"{where} was altered: it is not in the form the log writes")
    return raw


class _PathLock:
    """One re-entrant lock per log file in this process, holding ``flock`` while it is held."""

    def __init__(self) -> None:
        self.thread_lock = threading.RLock()
        self.depth = 0
        self.fd: int | None = None


_PATH_LOCKS: dict[str, _PathLock] = {}
_PATH_LOCKS_GUARD = threading.Lock()


class AuditLog:
    """An append-only, hash-chained log in a JSON-lines file.

    Parameters
    ----------
    path
        The log file; created on the first :meth:`append`. It must not be a symbolic link.
    key
        Optional HMAC key (bytes, at least 16). Without it the chain uses SHA-256, which detects
        accidents and edits by anyone who does not recompute every later hash; with it, only
        key holders can produce a verifying chain. The key is never written to the log or a repr.
    forward_secure
        Evolve the key after every record (Schneier & Kelsey 1999). ``key`` is then the
        *initial* key: give it to the auditor, who verifies with it; the writer keeps only the
        current key, in ``<path>.key`` (mode 0600), and starts the log with ``key`` once.

    Example
    -------
    >>> import pathlib, tempfile
    >>> log = AuditLog(pathlib.Path(tempfile.mkdtemp()) / "audit.jsonl")
    >>> record = log.append(actor="ana", action="access", details={"dataset": "patients", "purpose": "study"})
    >>> record.seq, log.verify()
    (0, True)
    """

    def __init__(self, path: str | os.PathLike, *, key: bytes | None = None, forward_secure: bool = False):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a str or a path, got {type(path).__name__}")
        self.path = Path(path)
        if key is not None:
            key = bytes(as_bytes(key, "key"))
            if len(key) < 16:
                raise ValueError(f"key must be at least 16 bytes, got {len(key)} bytes")
        if not isinstance(forward_secure, bool):
            raise TypeError(f"forward_secure must be True or False, got {type(forward_secure).__name__}")
        self._key, self._forward = key, forward_secure
        self._written = False   # this object appended: a log that then vanishes was deleted

    def __repr__(self) -> str:
        kind = "forward-secure HMAC-SHA256" if self._forward else "HMAC-SHA256" if self._key else "SHA-256"
        return f"AuditLog({str(self.path)!r}, {kind})"

    def __getstate__(self) -> dict:
        raise TypeError("an AuditLog cannot be pickled (it may hold its key): open it again by path")

    @property
    def writer_key_path(self) -> Path:
        """Where a forward-secure log keeps its writer's current key."""
        return self.path.with_name(self.path.name + ".key")

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the log's exclusive lock: no other thread or process appends meanwhile.

        Re-entrant in one thread; ``append`` takes it, and so does the privacy ledger around
        its check, its record and its update.
        """
        key = os.path.abspath(self.path)
        with _PATH_LOCKS_GUARD:
            lock = _PATH_LOCKS.setdefault(key, _PathLock())
        with lock.thread_lock:
            if lock.depth == 0 and fcntl is not None:
                fd = os.open(f"{key}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                except BaseException:
                    os.close(fd)
                    raise
                lock.fd = fd
            lock.depth += 1
            try:
                yield
            finally:
                lock.depth -= 1
                if lock.depth == 0 and lock.fd is not None:
                    fcntl.flock(lock.fd, fcntl.LOCK_UN)
                    os.close(lock.fd)
                    lock.fd = None

    def _digest(self, fields: dict, key: bytes | None) -> str:
        data = _canonical(fields)
        return (crypto.hmac_sha256(key, data) if key else crypto.sha256(data)).hex()

    # --- writing ------------------------------------------------------------------------------

    def append(self, *, actor: str, action: str, details: dict | None = None) -> Record:
        """Add a record; it is on disk (flushed and fsynced) when this returns.

        Raises
        ------
        TypeError, ValueError
            For an empty actor or action, or details that are not a JSON-serialisable dict of
            at most ``MAX_LINE_BYTES``; nothing is written.
        IntegrityError
            If the chain does not verify (a torn last line: run :meth:`repair`; anything else:
            the log has been tampered with) — nothing is written onto a broken chain.
        """
        for name, value in (("actor", actor), ("action", action)):
            if not isinstance(value, str) or not value.strip():
                raise TypeError(f"{name} must be a non-empty string")
        details = {} if details is None else details
        if not isinstance(details, dict):
            raise TypeError(f"details must be a dict, got {type(details).__name__}")
        try:
            json.dumps(details, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as error:
            raise TypeError(f"details must be JSON-serialisable without NaN or infinity: "
                            f"{type(error).__name__}") from None
        with self.locked():   # from reading the chain to writing the next record: one writer
            records = self._check(writer=self._forward and self._key is None)
            writer = WriterKey.load(self.writer_key_path) if self._forward else None
            key = self._key
            if self._forward:
                writer = self._writer_state(writer, records)
                key = writer.key
            last = records[-1] if records else None
            fields = {"seq": 0 if last is None else last.seq + 1,
                      "time": datetime.now(timezone.utc).isoformat(timespec="microseconds"),
                      "actor": actor, "action": action, "details": details,
                      "prev": GENESIS if last is None else last.hash}
            record = {**fields, "hash": self._digest(fields, key)}
            line = _canonical(record) + b"\n"
            if len(line) > MAX_LINE_BYTES:
                raise ValueError(f"details must encode to at most {MAX_LINE_BYTES} bytes, got {len(line)}")
            self._write(line)
            self._written = True
            if writer is not None:   # the old key goes: only the next one is kept
                WriterKey(fields["seq"] + 1, evolve(key)).save(self.writer_key_path)
        return Record(**record)

    def _writer_state(self, writer: WriterKey | None, records: list[Record]) -> WriterKey:
        """The forward-secure writer's current key, after a crash between a record and its key."""
        if writer is None:
            if records or self._key is None:
                raise IntegrityError(f"{self.writer_key_path} is missing: this forward-secure log cannot be "
                                     f"extended (only its initial key, for a new log, or the writer's "
                                     f"current key can write)")
            return WriterKey(0, self._key)
        if writer.seq == len(records) - 1:   # crashed after the record, before the key evolved
            last = records[-1]
            fields = {name: getattr(last, name) for name in _FIELDS}
            if _same(self._digest(fields, writer.key), last.hash):
                return WriterKey(writer.seq + 1, evolve(writer.key))
        if writer.seq != len(records):
            raise IntegrityError(f"{self.writer_key_path} does not belong to the log's last record")
        return writer

    def _write(self, line: bytes) -> None:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError as error:
            if self.path.is_symlink():
                raise ValueError(f"path must not be a symbolic link: {self.path}") from None
            raise error
        try:
            written = os.write(fd, line)  # one write of one whole line
            while written < len(line):
                written += os.write(fd, line[written:])
            os.fsync(fd)
        finally:
            os.close(fd)

    # --- reading and checking -----------------------------------------------------------------

    def records(self) -> list[Record]:
        """Every record, after the whole chain has been checked (see :meth:`verify`).

        A forward-secure log's writer, which holds only its current key, checks the chain's
        links and form; every MAC is checked by :meth:`verify` with the initial key.
        """
        return self._check(writer=self._forward and self._key is None)

    def verify(self, *, anchor: tuple[int, str] | None = None) -> bool:
        """Return True if the chain is intact; raise ``IntegrityError`` naming the first bad record.

        Catches any edited byte, a deleted or reordered record, a torn last line, and a log that
        is missing altogether. With ``anchor=(seq, hash)`` from an earlier :meth:`head` (or a
        signed checkpoint), it also catches records cut off from the end since then.

        Raises
        ------
        ValueError
            For a forward-secure log opened without its initial key (only the auditor can verify).
        """
        if self._forward and self._key is None:
            raise ValueError("key is needed: a forward-secure log is verified with its initial key")
        if not self.path.exists() and not self.path.is_symlink():
            raise _bad(0, f"{self.path} does not exist: the log was deleted, or never written")
        self._check(anchor=anchor)
        return True

    def head(self) -> tuple[int, str] | None:
        """``(seq, hash)`` of the newest record: store it elsewhere to anchor later verifications."""
        records = self.records()
        return (records[-1].seq, records[-1].hash) if records else None

    def _read(self) -> bytes:
        if self.path.is_symlink():
            raise ValueError(f"path must not be a symbolic link: {self.path}")
        if not self.path.exists():
            if self._written:
                raise _bad(0, f"{self.path} was deleted after records were written to it")
            return b""
        return self.path.read_bytes()

    def _check(self, *, anchor: Any = None, data: bytes | None = None, writer: bool = False) -> list[Record]:
        data = self._read() if data is None else data
        if data and not data.endswith(b"\n"):
            complete = data.count(b"\n")
            raise _bad(complete, f"record {complete} (line {complete + 1}) is torn: the log ends in "
                                 f"an incomplete write; repair() removes it")
        key = self._key
        records, prev = [], GENESIS
        for i, line in enumerate(data.split(b"\n")[:-1] if data else []):
            where = f"record {i} (line {i + 1})"
            raw = _parse(line, where, i)
            if raw["seq"] != i:
                raise _bad(i, f"{where} has sequence number {raw['seq']}: a record was "
                              f"deleted, inserted or moved")
            if raw["prev"] != prev:
                raise _bad(i, f"{where} does not follow the record before it (chain broken)")
            fields = {name: raw[name] for name in _FIELDS}
            if not writer and not _same(raw["hash"], self._digest(fields, key)):
                raise _bad(i, f"{where} was altered: its hash does not match its contents")
            if self._forward and key is not None:
                key = evolve(key)
            records.append(Record(**raw))
            prev = raw["hash"]
        if anchor is not None:
            seq, digest = _anchor(anchor)
            if seq >= len(records) or not _same(records[seq].hash, digest):
                raise _bad(min(seq, len(records)), f"record {seq} no longer matches the anchor: records "
                                                   f"were removed from the end or rewritten")
        return records

    def repair(self) -> str:
        """Remove what a crash or a stray writer left at the end; never touch a record that verifies.

        A torn last line (an interrupted write) is cut off. A complete last line that is not a
        valid record — while every record before it verifies — is moved, byte for byte, to
        ``<path>.quarantine`` for inspection, and cut off. Anything wrong earlier in the chain is
        tampering, not a crash: it is left as it is and ``IntegrityError`` says where.
        Returns what was done.
        """
        with self.locked():
            data = self._read()
            done = []
            if data and not data.endswith(b"\n"):
                keep = data.rfind(b"\n") + 1
                done.append(f"removed a torn record of {len(data) - keep} bytes")
                self._truncate(keep)
                data = data[:keep]
            try:
                self._check(data=data, writer=self._forward and self._key is None)
            except IntegrityError as error:
                lines = data.split(b"\n")[:-1]
                if error.record != len(lines) - 1:
                    raise
                keep = len(data) - len(lines[-1]) - 1
                with open(self.path.with_name(self.path.name + ".quarantine"), "ab") as q:
                    q.write(lines[-1] + b"\n")
                    q.flush()
                    os.fsync(q.fileno())
                self._truncate(keep)
                done.append(f"moved an invalid last line of {len(lines[-1])} bytes to "
                            f"{self.path.name}.quarantine")
            if not done:
                return "nothing to repair: the log ends with a complete record"
            kept = self._read().count(b"\n")
            return "; ".join(done) + f"; {kept} complete records kept"

    def _truncate(self, size: int) -> None:
        with self.path.open("r+b") as f:
            f.truncate(size)
            f.flush()
            os.fsync(f.fileno())


def _anchor(anchor: Any) -> tuple[int, str]:
    if not isinstance(anchor, (tuple, list)) or len(anchor) != 2 or not isinstance(anchor[0], int) \
            or isinstance(anchor[0], bool) or anchor[0] < 0 or not isinstance(anchor[1], str):
        raise TypeError("anchor must be a (seq, hash) pair from head() or a checkpoint")
    return anchor[0], anchor[1]


def _same(a: str, b: str) -> bool:
    """Constant-time comparison of two hashes (as UTF-8 bytes, so any string compares, never raises)."""
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))
