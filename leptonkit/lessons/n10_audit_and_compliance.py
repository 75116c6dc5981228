"""Lesson for notebooks/10_audit_and_compliance.ipynb: hash-chained audit logs and compliance reports.

Here: ``tampering_outcome``, ``rewrite_with_key`` (the attack of an administrator who holds the
HMAC key), ``stolen_writer_key``, the exercise checkers 10.1–10.4 and the tampering explorer.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as w
import plotly.graph_objects as go

from leptonkit import audit, crypto
from leptonkit._checks import check_int
from leptonkit.audit import _FIELDS, _canonical  # the log's own record format, on purpose
from leptonkit.audit.checkpoints import WriterKey, evolve
from leptonkit.errors import IntegrityError
from leptonkit.exercises import NotYet, exercise
from leptonkit.i18n import N_, _
from leptonkit.plots import NEUTRAL_COLOUR, PALETTE, finish
from leptonkit.widgets import Explorer, slider

__all__ = ["EXPLORERS", "audit_chain", "rewrite_with_key", "stolen_writer_key", "tampering_explorer",
           "tampering_outcome"]


def tampering_outcome(log: audit.AuditLog, *, seq: int, recompute_hashes: bool, use_anchor: bool,
                      data: bytes | None = None) -> dict:
    """What ``verify`` says when a forger edits record ``seq`` of ``log`` (in memory; the file is untouched).

    The forger renames the record's actor; with ``recompute_hashes`` they also recompute every
    hash from there on with SHA-256, as anyone can who lacks the log's key. ``use_anchor``
    verifies against the head taken before the forgery. Returns the per-record ``status``
    (``"ok"``, ``"first bad"``, ``"not reached"``) and verify's ``message``. ``data``: the log's bytes
    as read earlier (the explorer's snapshot), else they are read from ``log.path`` now.
    """
    lines = (log.path.read_bytes() if data is None else data).splitlines()
    seq = check_int(seq, "seq", low=0, high=max(len(lines) - 1, 0))
    records = [json.loads(line) for line in lines]
    anchor = (len(records) - 1, records[-1]["hash"]) if use_anchor else None
    records[seq]["actor"] += " (edited)"
    if recompute_hashes:
        prev = records[seq]["prev"]
        for r in records[seq:]:
            fields = {name: r[name] for name in _FIELDS} | {"prev": prev}
            r.update(prev=prev, hash=crypto.sha256(_canonical(fields)).hex())
            prev = r["hash"]
    forged = b"".join(_canonical(r) + b"\n" for r in records)
    try:
        log._check(anchor=anchor, data=forged)
        first_bad, message = None, _("verifies: this forgery goes unnoticed")
    except IntegrityError as error:
        first_bad, message = error.record, str(error)
    status = ["ok" if first_bad is None or i < first_bad else "first bad" if i == first_bad
              else "not reached" for i in range(len(records))]
    return {"status": status, "message": message}


def rewrite_with_key(log: audit.AuditLog, forged_path: Path, *, seq: int, actor: str, key: bytes,
                     forward_secure: bool = False) -> Path:
    """The administrator's forgery: rename record ``seq``'s actor and recompute every later MAC with ``key``.

    This is what the host that appends can do, since it holds the key it appends with. With
    ``forward_secure`` the forger evolves ``key`` record by record from ``seq`` on — right only
    if ``key`` really is record ``seq``'s key, which a forward-secure writer no longer has for
    any record it has already written. Writes the forged log to ``forged_path`` (the original
    file is untouched) and returns that path.
    """
    lines = log.path.read_bytes().splitlines()
    seq = check_int(seq, "seq", low=0, high=max(len(lines) - 1, 0))
    key = bytes(key)
    records = [json.loads(line) for line in lines]
    records[seq]["actor"] = actor
    prev = records[seq]["prev"]
    for r in records[seq:]:
        fields = {name: r[name] for name in _FIELDS} | {"prev": prev}
        r.update(prev=prev, hash=crypto.hmac_sha256(key, _canonical(fields)).hex())
        prev = r["hash"]
        if forward_secure:
            key = evolve(key)
    forged_path = Path(forged_path)
    forged_path.write_bytes(b"".join(_canonical(r) + b"\n" for r in records))
    return forged_path


def stolen_writer_key(log: audit.AuditLog) -> tuple[int, bytes]:
    """What an intruder on the host of a forward-secure log finds: ``(seq, key)`` of the *next* record."""
    state = WriterKey.load(log.writer_key_path)
    if state is None:
        raise ValueError(f"log has no writer key file at {log.writer_key_path}: is it forward-secure?")
    return state.seq, state.key


# --- exercises -----------------------------------------------------------------------------


@exercise("10.1", hint=N_("Copy the log file, change it (edit a byte, delete or swap lines), and answer "
                          "AuditLog(copy_path, key=key): its verify() must fail."))
def _tampering_caught(answer: Any) -> bool:
    if not isinstance(answer, audit.AuditLog):
        raise NotYet(_("answer an AuditLog, not {kind}.").format(kind=type(answer).__name__))
    if not answer.path.exists() or answer.path.stat().st_size == 0:
        raise NotYet(_("that log is empty: tamper with a copy that has records."))
    try:
        answer.verify()
    except IntegrityError:
        return True
    raise NotYet(_("this log still verifies: it has not been tampered with (or was rewritten with the key)."))


@exercise("10.2", hint=N_("Count len(log.records()) before the crash; after repair(), answer "
                          "(log, that count)."))
def _repair_keeps_every_complete_record(answer: Any) -> bool:
    log, before = answer
    log.verify()
    if len(log.records()) != int(before):
        raise NotYet(_("the log holds {n} records, not {before}.").format(n=len(log.records()),
                                                                        before=int(before)))
    return True


@exercise("10.3", hint=N_("Count the lines that start with '- ' under '## Flagged problems' in "
                          "audit.compliance_report(log); answer (log, count)."))
def _flagged_problems(answer: Any) -> bool:
    log, count = answer
    report = audit.compliance_report(log)
    flagged = report.split("## Flagged problems", 1)[1].count("\n- ")
    if int(count) != flagged:
        raise NotYet(_("the report flags {flagged} problems, not {count}.").format(flagged=flagged,
                                                                                 count=int(count)))
    return True


@exercise("10.4", hint=N_("AuditLog(path, key=initial, forward_secure=True) writes the first record; then "
                          "append through AuditLog(path, forward_secure=True), which holds only the current "
                          "key; sign with audit.sign_head(log, dpo_private). Answer (AuditLog(path, "
                          "key=initial, forward_secure=True), checkpoint, dpo_public)."))
def _forward_secure_and_signed(answer: Any) -> bool:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    log, checkpoint, public = answer
    if not isinstance(log, audit.AuditLog) or not log._forward or log._key is None:
        raise NotYet(_("answer the log opened by the auditor: AuditLog(path, key=initial_key, "
                       "forward_secure=True)."))
    if not isinstance(public, ed25519.Ed25519PublicKey):
        raise NotYet(_("the third item must be the DPO's Ed25519 public key."))
    log.verify()
    records = log.records()
    if len(records) < 3:
        raise NotYet(_("the log holds {n} records: append at least 3.").format(n=len(records)))
    audit.verify_checkpoint(log, checkpoint, public)   # IntegrityError if not signed or not this log
    if checkpoint.seq != records[-1].seq:
        raise NotYet(_("the checkpoint does not sign the newest record: sign the head after the last "
                       "append."))
    seq, stolen = stolen_writer_key(log)
    if seq != len(records):
        raise NotYet(_("the writer's key file is not at the next record: append through the log, not by "
                       "hand."))
    with tempfile.TemporaryDirectory() as scratch:   # the intruder's forgery must fail
        forged = rewrite_with_key(log, Path(scratch) / "forged.jsonl", seq=0, actor="intruder",
                                  key=stolen, forward_secure=True)
        try:
            audit.AuditLog(forged, key=log._key, forward_secure=True).verify()
        except IntegrityError:
            return True
    raise NotYet(_("a forger with the writer's current key rewrote record 0 and it still verifies."))


# --- explorer: tampering with an audit log -----------------------------------------------------

_STATUS_COLOURS = {N_("ok"): PALETTE[2], N_("first bad"): PALETTE[1], N_("not reached"): NEUTRAL_COLOUR}


_HOW = {(False, False): N_("edited"), (True, False): N_("edited and re-hashed"),
        (False, True): N_("edited, verified against an anchor"),
        (True, True): N_("edited and re-hashed, verified against an anchor")}


def audit_chain(outcome: dict, *, seq: int, recompute_hashes: bool, use_anchor: bool) -> go.Figure:
    """The log as a row of records, coloured by what verify concluded: ok, first bad, not reached.

    ``outcome`` is :func:`tampering_outcome`.
    """
    status = outcome["status"]
    fig = go.Figure(go.Scatter(
        x=list(range(len(status))), y=[0] * len(status), mode="markers+text",
        marker={"symbol": "square", "size": 44, "color": [_STATUS_COLOURS[s] for s in status],
                "line": {"width": [4 if i == seq else 0 for i in range(len(status))], "color": "black"}},
        text=[str(i) for i in range(len(status))], textfont={"color": "white", "size": 16},
        hovertext=[_(s) for s in status], hoverinfo="text"))
    how = _(_HOW[bool(recompute_hashes), bool(use_anchor)])
    fig.update_layout(title_font={"size": 14}, showlegend=False,
                      xaxis={"visible": False, "range": [-0.7, len(status) - 0.3]},
                      yaxis={"visible": False, "range": [-1, 1]})
    return finish(fig, height=230, margin={"t": 70, "b": 20},
                  title=_("record {seq} {how}:<br>{message}").format(seq=seq, how=how,
                                                                     message=outcome["message"]))


def tampering_explorer(log: audit.AuditLog | None = None, *, seq: int = 2) -> Explorer:
    """Which record a forger edits, whether they re-hash the chain, whether an anchor is kept.

    Works on the bytes of ``log`` read once, when the explorer is made (so it keeps working after
    the file is moved or deleted); the file is never changed. Without a log, a small unkeyed
    demonstration log is written to a temporary file.
    """
    if log is None:
        log = audit.AuditLog(Path(tempfile.mkdtemp(prefix="leptonkit-")) / "demo.jsonl")
        for i in range(6):
            log.append(actor=f"analyst{i % 2}", action="access",
                       details={"dataset": "demo", "purpose": "demo"})
    last = len(log.records()) - 1
    snapshot = log.path.read_bytes()
    controls = {
        "seq": slider(w.IntSlider, _("record the forger edits"), value=min(seq, last), min=0, max=last),
        "recompute_hashes": w.Checkbox(description=_("forger recomputes the hashes"), value=False,
                                       indent=False, layout={"width": "260px"}),
        "use_anchor": w.Checkbox(description=_("verify against an anchor"), value=False, indent=False,
                                 layout={"width": "220px"}),
    }

    def compute(seq: int, recompute_hashes: bool, use_anchor: bool) -> dict:
        return tampering_outcome(log, seq=seq, recompute_hashes=recompute_hashes, use_anchor=use_anchor,
                                 data=snapshot)

    return Explorer(controls, compute, audit_chain)


EXPLORERS: dict[str, Callable[..., Explorer]] = {"tampering": tampering_explorer}
