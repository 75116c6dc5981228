"""A tamper-evident audit log (a hash chain in JSON lines) and the compliance report built on it.

Each record names who did what, when and why, and carries the hash of the record before it and
its own — SHA-256, or HMAC-SHA256 when a key is given, so that someone without the key cannot
rewrite the chain and recompute the hashes. Anyone can run :meth:`AuditLog.verify`; any edit,
deletion or reordering breaks the chain at the first record touched. What a chain cannot show
is that its newest records were cut off: keep :meth:`AuditLog.head` somewhere else (a report,
a regulator's inbox) and pass it to ``verify(anchor=...)``. This is the honest core of the
"blockchain for integrity" idea, without the consensus a single organisation does not need.
Neighbours: ``accounting.PrivacyAccountant`` writes its spends here; ``crypto`` does the hashing.

Writers take an exclusive lock (a thread lock in the process, ``flock`` on a ``.lock`` file
beside the log across processes) from reading the last record to writing the next, so
concurrent writers never fork the chain. Writes append one whole line and fsync before
returning; a crash mid-write can leave only a torn last line, which ``verify`` reports and
``repair`` removes.
"""

from __future__ import annotations

import html
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from . import crypto
from ._checks import as_bytes
from .errors import IntegrityError

__all__ = ["GENESIS", "AuditLog", "IntegrityError", "Record", "compliance_report"]

GENESIS = "0" * 64  # the "previous hash" of the first record
_FIELDS = ("seq", "time", "actor", "action", "details", "prev")

try:  # POSIX; elsewhere the lock is the in-process one only
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None


class _PathLock:
    """One re-entrant lock per log file in this process, holding ``flock`` while it is held."""

    def __init__(self) -> None:
        self.thread_lock = threading.RLock()
        self.depth = 0
        self.fd: int | None = None


_PATH_LOCKS: dict[str, _PathLock] = {}
_PATH_LOCKS_GUARD = threading.Lock()


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


class AuditLog:
    """An append-only, hash-chained log in a JSON-lines file.

    Parameters
    ----------
    path
        The log file; created on the first :meth:`append`.
    key
        Optional HMAC key (bytes, at least 16). Without it the chain uses SHA-256, which detects
        accidents and edits by anyone who does not recompute every later hash; with it, only
        key holders can produce a verifying chain. The key is never written to the log or a repr.

    Example
    -------
    >>> import pathlib, tempfile
    >>> log = AuditLog(pathlib.Path(tempfile.mkdtemp()) / "audit.jsonl")
    >>> record = log.append(actor="ana", action="access", details={"dataset": "patients", "purpose": "study"})
    >>> record.seq, log.verify()
    (0, True)
    """

    def __init__(self, path: str | os.PathLike, *, key: bytes | None = None):
        self.path = Path(path)
        if key is not None:
            key = bytes(as_bytes(key, "key"))
            if len(key) < 16:
                raise ValueError(f"key must be at least 16 bytes, got {len(key)} bytes")
        self._key = key

    def __repr__(self) -> str:
        return f"AuditLog({str(self.path)!r}, {'HMAC-SHA256' if self._key else 'SHA-256'})"

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
                fd = os.open(f"{key}.lock", os.O_RDWR | os.O_CREAT, 0o600)
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

    def _digest(self, fields: dict) -> str:
        data = _canonical(fields)
        return (crypto.hmac_sha256(self._key, data) if self._key else crypto.sha256(data)).hex()

    # --- writing ------------------------------------------------------------------------------

    def append(self, *, actor: str, action: str, details: dict | None = None) -> Record:
        """Add a record; it is on disk (flushed and fsynced) when this returns.

        Raises
        ------
        TypeError, ValueError
            For an empty actor or action, or details that are not a JSON-serialisable dict;
            nothing is written.
        IntegrityError
            If the log ends in a torn line (run :meth:`repair` first); nothing is written.
        """
        for name, value in (("actor", actor), ("action", action)):
            if not isinstance(value, str) or not value.strip():
                raise TypeError(f"{name} must be a non-empty string")
        details = {} if details is None else details
        if not isinstance(details, dict):
            raise TypeError(f"details must be a dict, got {type(details).__name__}")
        try:
            json.dumps(details, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise TypeError(f"details must be JSON-serialisable: {error}") from None
        with self.locked():   # from reading the last record to writing the next: one writer
            last = self._last_record()
            fields = {"seq": 0 if last is None else last["seq"] + 1,
                      "time": datetime.now(timezone.utc).isoformat(timespec="microseconds"),
                      "actor": actor, "action": action, "details": details,
                      "prev": GENESIS if last is None else last["hash"]}
            record = {**fields, "hash": self._digest(fields)}
            line = _canonical(record) + b"\n"
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                written = os.write(fd, line)  # one write of one whole line
                while written < len(line):
                    written += os.write(fd, line[written:])
                os.fsync(fd)
            finally:
                os.close(fd)
        return Record(**record)

    def _last_record(self) -> dict | None:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return None
        with self.path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(size - 1)
            if f.read(1) != b"\n":
                raise IntegrityError(f"{self.path} ends in a torn record (a write was interrupted); "
                                     f"run repair() before appending")
            block, position = b"", size
            while b"\n" not in block[:-1] and position > 0:
                step = min(4096, position)
                position -= step
                f.seek(position)
                block = f.read(step) + block
        last_line = block[:-1].rsplit(b"\n", 1)[-1]
        try:
            return json.loads(last_line)
        except ValueError:
            raise IntegrityError(f"the last record of {self.path} is not valid JSON; run verify()") from None

    # --- reading and checking -----------------------------------------------------------------

    def records(self) -> list[Record]:
        """Every record, after :meth:`verify` has checked the whole chain."""
        return self._check()

    def verify(self, *, anchor: tuple[int, str] | None = None) -> bool:
        """Return True if the chain is intact; raise ``IntegrityError`` naming the first bad record.

        Catches any edited byte, a deleted or reordered record, and a torn last line. With
        ``anchor=(seq, hash)`` from an earlier :meth:`head`, it also catches records cut off
        from the end since then.
        """
        self._check(anchor=anchor)
        return True

    def head(self) -> tuple[int, str] | None:
        """``(seq, hash)`` of the newest record: store it elsewhere to anchor later verifications."""
        records = self._check()
        return (records[-1].seq, records[-1].hash) if records else None

    def _check(self, *, anchor: tuple[int, str] | None = None, data: bytes | None = None) -> list[Record]:
        if data is None:
            data = self.path.read_bytes() if self.path.exists() else b""
        if data and not data.endswith(b"\n"):
            complete = data.count(b"\n")
            raise _bad(complete, f"record {complete} (line {complete + 1}) is torn: the log ends in "
                                 f"an incomplete write; repair() removes it")
        records, prev = [], GENESIS
        for i, line in enumerate(data.split(b"\n")[:-1] if data else []):
            where = f"record {i} (line {i + 1})"
            try:
                raw = json.loads(line)
                fields = {name: raw[name] for name in _FIELDS}
                stored = raw["hash"]
            except (ValueError, KeyError, TypeError):
                raise _bad(i, f"{where} is not a valid record") from None
            if set(raw) != {*_FIELDS, "hash"} or _canonical(raw) != line:
                raise _bad(i, f"{where} was altered: it is not in the form the log writes")
            if fields["seq"] != i:
                raise _bad(i, f"{where} has sequence number {fields['seq']}: a record was "
                              f"deleted, inserted or moved")
            if fields["prev"] != prev:
                raise _bad(i, f"{where} does not follow the record before it (chain broken)")
            if stored != self._digest(fields):
                raise _bad(i, f"{where} was altered: its hash does not match its contents")
            records.append(Record(**raw))
            prev = stored
        if anchor is not None:
            seq, digest = anchor
            if seq >= len(records) or records[seq].hash != digest:
                raise _bad(min(seq, len(records)), f"record {seq} no longer matches the anchor: records "
                                                   f"were removed from the end or rewritten")
        return records

    def repair(self) -> str:
        """Remove a torn last line left by a crash; never touch a complete record. Say what was done."""
        data = self.path.read_bytes() if self.path.exists() else b""
        if not data or data.endswith(b"\n"):
            return "nothing to repair: the log ends with a complete record"
        keep = data.rfind(b"\n") + 1
        complete = data.count(b"\n")
        with self.path.open("r+b") as f:
            f.truncate(keep)
            f.flush()
            os.fsync(f.fileno())
        return f"removed a torn record of {len(data) - keep} bytes; {complete} complete records kept"


# --- the compliance report ------------------------------------------------------------------------

_DATA_ACTIONS = {"access", "export", "train", "release", "share", "process", "encrypt", "decrypt"}


def compliance_report(log: AuditLog, *, title: str = "Compliance report", fmt: str = "markdown") -> str:
    """A report of what the log proves was done (GDPR Art. 30-style records of processing).

    Sections: the chain's integrity; data processed and its purposes; privacy spent against
    the budget (the first budget in the log and the running total its accountant wrote, which
    composes as that accountant does: tightly, not by adding up); encryption used; access
    events; and flagged problems — a broken chain, over-budget attempts, and data actions with
    no stated purpose. ``fmt`` is ``"markdown"`` or ``"html"``.
    """
    if fmt not in ("markdown", "html"):
        raise ValueError(f"fmt must be 'markdown' or 'html', got {fmt!r}")
    problems: list[str] = []
    try:
        records = log.records()
        integrity = f"intact: {len(records)} records verify"
        if records:
            integrity += f"; head {records[-1].seq}:{records[-1].hash[:16]}…"
    except IntegrityError as error:
        records, integrity = [], f"BROKEN — {error}"
        problems.append(f"the audit chain does not verify: {error}")

    data_rows, access_rows, crypto_rows = [], [], []
    budget, keeper, spent, refused = None, None, 0.0, []
    for r in records:
        d = r.details
        if r.action == "privacy_budget" and budget is None:
            budget, keeper = (d.get("epsilon"), d.get("delta")), r.actor
        elif r.action == "privacy_spend" and r.actor == keeper:
            # the ledger's own running total: it composes as the accountant does, not by adding up
            spent = float(d.get("total_epsilon", spent + float(d.get("epsilon", 0.0))))
        elif r.action == "privacy_spend_refused":
            refused.append(r)
            problems.append(f"record {r.seq}: over-budget attempt by {r.actor} ({d.get('label', '?')})")
        if r.action in _DATA_ACTIONS:
            data_rows.append([str(r.seq), r.time[:19], r.actor, r.action, str(d.get("dataset", "—")),
                              str(d.get("purpose", "—"))])
            if not str(d.get("purpose", "")).strip():
                problems.append(f"record {r.seq}: {r.action} of {d.get('dataset', 'data')} by {r.actor} "
                                f"has no stated purpose")
        if r.action == "access":
            access_rows.append([str(r.seq), r.time[:19], r.actor, str(d.get("dataset", "—"))])
        if "cipher" in d:
            crypto_rows.append([str(r.seq), r.action, str(d["cipher"]), str(d.get("dataset", "—"))])

    sections = [("Integrity of the audit log", [integrity]),
                ("Data processed and purposes", _table(["record", "time (UTC)", "actor", "action", "dataset",
                                                        "purpose"], data_rows)),
                ("Privacy spent against budget", [
                    "no privacy budget recorded" if budget is None else
                    f"budget ε = {budget[0]:g}, δ = {budget[1]:g}; spent ε = {spent:g} "
                    f"({spent / budget[0]:.0%}); {len(refused)} over-budget attempt(s) refused"]),
                ("Encryption used", _table(["record", "action", "cipher", "dataset"], crypto_rows)),
                ("Access events", _table(["record", "time (UTC)", "actor", "dataset"], access_rows)),
                ("Flagged problems", [f"- {p}" for p in problems] or ["none"])]
    if fmt == "html":
        return _html(title, sections)
    out = [f"# {title}", ""]
    for heading, lines in sections:
        out += [f"## {heading}", "", *lines, ""]
    return "\n".join(out)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    if not rows:
        return ["none recorded"]
    clean = [[cell.replace("|", "\\|") for cell in row] for row in rows]
    return [f"| {' | '.join(header)} |", f"|{'---|' * len(header)}", *[f"| {' | '.join(r)} |" for r in clean]]


def _html(title: str, sections: list[tuple[str, list[str]]]) -> str:
    parts = [f"<h1>{html.escape(title)}</h1>"]
    for heading, lines in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        if lines and lines[0].startswith("| "):
            rows = [line.strip("|").split(" | ") for line in lines if not line.startswith("|-")]
            cells = lambda row, tag: "".join(f"<{tag}>{html.escape(c.strip())}</{tag}>" for c in row)  # noqa: E731
            parts.append("<table><tr>" + cells(rows[0], "th") + "</tr>"
                         + "".join(f"<tr>{cells(r, 'td')}</tr>" for r in rows[1:]) + "</table>")
        else:
            parts += [f"<p>{html.escape(line.lstrip('- '))}</p>" for line in lines]
    return "\n".join(parts)
