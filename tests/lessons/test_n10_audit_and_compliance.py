"""Notebook 10's exercises accept right answers and refuse wrong ones; tampering_outcome tells the truth."""

from __future__ import annotations

import pytest

from leptonkit import accounting, audit, crypto
from leptonkit.lessons.n10_audit_and_compliance import tampering_outcome


def _logs(tmp_path):
    """An intact log (one flagged problem), a tampered copy, and a repaired log of 3 records."""
    intact = audit.AuditLog(tmp_path / "intact.jsonl")
    budget = accounting.PrivacyAccountant(0.5, audit_log=intact)
    budget.spend(0.5, label="all of it")
    intact.append(actor="bob", action="access", details={"dataset": "x"})   # no purpose: flagged
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_bytes(intact.path.read_bytes().replace(b"bob", b"bib"))
    repaired = audit.AuditLog(tmp_path / "repaired.jsonl")
    for i in range(3):
        repaired.append(actor="me", action="access", details={"purpose": str(i)})
    with repaired.path.open("ab") as f:
        f.write(b'{"se')
    repaired.repair()
    return intact, audit.AuditLog(tampered), repaired


def _tampered(tmp_path):
    intact, tampered, _ = _logs(tmp_path)
    return [tampered], [intact, audit.AuditLog(tmp_path / "missing.jsonl"), "log"]


def _repaired(tmp_path):
    _, tampered, repaired = _logs(tmp_path)
    return [(repaired, 3)], [(repaired, 4), (tampered, 2)]


def _flagged(tmp_path):
    intact, _, _ = _logs(tmp_path)
    return [(intact, 1)], [(intact, 0), (intact, 2)]


ANSWERS = {"10.1": _tampered, "10.2": _repaired, "10.3": _flagged}


@pytest.mark.parametrize("exercise_id", sorted(ANSWERS))
def test_exercise(exercise_id, judge, tmp_path):
    judge(exercise_id, *ANSWERS[exercise_id](tmp_path))


def _log(path, n, **kwargs) -> audit.AuditLog:
    log = audit.AuditLog(path / "audit.jsonl", **kwargs)
    for i in range(n):
        log.append(actor=f"user{i % 3}", action="access",
                   details={"dataset": "patients", "purpose": "study", "rows": i, "note": "é ü ✓"})
    return log


def test_tampering_outcome_shows_what_key_and_anchor_buy(tmp_path):
    (tmp_path / "plain").mkdir()
    (tmp_path / "keyed").mkdir()
    plain = _log(tmp_path / "plain", 6)
    keyed = _log(tmp_path / "keyed", 6, key=crypto.generate_key())
    before = plain.path.read_bytes()
    out = tampering_outcome(plain, seq=2, recompute_hashes=False, use_anchor=False)
    assert out["status"] == ["ok", "ok", "first bad", "not reached", "not reached", "not reached"]
    forged = tampering_outcome(plain, seq=2, recompute_hashes=True, use_anchor=False)
    assert forged["status"] == ["ok"] * 6 and "unnoticed" in forged["message"]
    anchored = tampering_outcome(plain, seq=2, recompute_hashes=True, use_anchor=True)
    assert anchored["status"][-1] == "first bad" and "anchor" in anchored["message"]
    rehashed = tampering_outcome(keyed, seq=2, recompute_hashes=True, use_anchor=False)
    assert rehashed["status"][2] == "first bad"
    assert plain.path.read_bytes() == before   # the file itself is never touched
    with pytest.raises(ValueError, match="seq must be in"):
        tampering_outcome(plain, seq=6, recompute_hashes=False, use_anchor=False)
