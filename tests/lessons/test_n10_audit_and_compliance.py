"""Notebook 10's exercises accept right answers and refuse wrong ones; tampering_outcome tells the truth."""

from __future__ import annotations

import pytest

from leptonkit import accounting, audit, crypto
from leptonkit.errors import IntegrityError
from leptonkit.lessons.n10_audit_and_compliance import rewrite_with_key, stolen_writer_key, tampering_outcome


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


def _secured(tmp_path, n=3):
    initial = crypto.generate_key()
    path = tmp_path / f"secured{n}.jsonl"
    audit.AuditLog(path, key=initial, forward_secure=True).append(actor="ana", action="access",
                                                                  details={"purpose": "study"})
    writer = audit.AuditLog(path, forward_secure=True)   # holds only the current key
    for i in range(n - 1):
        writer.append(actor="ana", action="process", details={"purpose": str(i)})
    private, public = crypto.generate_signing_keypair()
    return audit.AuditLog(path, key=initial, forward_secure=True), audit.sign_head(writer, private), public


def _forward_secure(tmp_path):
    log, checkpoint, public = _secured(tmp_path)
    short, short_checkpoint, short_public = _secured(tmp_path, n=2)
    other_public = crypto.generate_signing_keypair()[1]
    plain_key = crypto.generate_key()
    plain = audit.AuditLog(tmp_path / "plain.jsonl", key=plain_key)
    for i in range(3):
        plain.append(actor="ana", action="access", details={"purpose": str(i)})
    plain_checkpoint = audit.sign_head(plain, crypto.generate_signing_keypair()[0])
    stale_log, stale_checkpoint, stale_public = _secured(tmp_path, n=4)
    audit.AuditLog(stale_log.path, forward_secure=True).append(actor="ana", action="export",
                                                               details={"purpose": "late"})
    return ([(log, checkpoint, public)],
            [(log, checkpoint, other_public), (short, short_checkpoint, short_public),
             (plain, plain_checkpoint, public), (audit.AuditLog(log.path, forward_secure=True), checkpoint,
                                                 public),
             (stale_log, stale_checkpoint, stale_public), (log, checkpoint, "public")])


ANSWERS = {"10.1": _tampered, "10.2": _repaired, "10.3": _flagged, "10.4": _forward_secure}


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


def test_an_administrator_with_the_hmac_key_rewrites_the_chain_undetected(tmp_path):
    key = crypto.generate_key()
    log = _log(tmp_path, 6, key=key)
    before = log.path.read_bytes()
    private, public = crypto.generate_signing_keypair()
    checkpoint = audit.sign_head(log, private)
    forged = audit.AuditLog(rewrite_with_key(log, tmp_path / "forged.jsonl", seq=2, actor="ana", key=key),
                            key=key)
    assert forged.verify() and forged.records()[2].actor == "ana"   # the attack works
    assert log.path.read_bytes() == before
    with pytest.raises(IntegrityError):                             # the signed head catches it
        audit.verify_checkpoint(forged, checkpoint, public)
    with pytest.raises(IntegrityError):                             # so does an anchor kept elsewhere
        forged.verify(anchor=checkpoint.anchor())


def test_a_stolen_forward_secure_key_cannot_rewrite_the_past_but_the_initial_one_could(tmp_path):
    initial = crypto.generate_key()
    path = tmp_path / "fs.jsonl"
    audit.AuditLog(path, key=initial, forward_secure=True).append(actor="ana", action="access")
    writer = audit.AuditLog(path, forward_secure=True)
    for _ in range(4):
        writer.append(actor="ana", action="access")
    seq, stolen = stolen_writer_key(writer)
    assert seq == 5
    auditor_view = audit.AuditLog(path, key=initial, forward_secure=True)
    for target in (0, 2, 4):
        forged = rewrite_with_key(auditor_view, tmp_path / f"f{target}.jsonl", seq=target, actor="x",
                                  key=stolen, forward_secure=True)
        with pytest.raises(IntegrityError):
            audit.AuditLog(forged, key=initial, forward_secure=True).verify()
    # the helper itself is right: with record 0's own key the rewrite verifies (why K_0 stays off the host)
    forged = rewrite_with_key(auditor_view, tmp_path / "k0.jsonl", seq=0, actor="x", key=initial,
                              forward_secure=True)
    assert audit.AuditLog(forged, key=initial, forward_secure=True).verify()
    (tmp_path / "plain").mkdir()
    with pytest.raises(ValueError, match="writer key"):
        stolen_writer_key(_log(tmp_path / "plain", 1))


def test_the_tampering_explorer_keeps_working_after_the_log_file_is_gone(tmp_path):
    """Notebook 10's last cell deletes its working folder; the explorer above must still move."""
    from leptonkit.lessons import n10_audit_and_compliance as lesson

    log = audit.AuditLog(tmp_path / "plain.jsonl")
    for i in range(4):
        log.append(actor=f"analyst{i}", action="access", details={"dataset": "d", "purpose": "p"})
    explorer = lesson.tampering_explorer(log, seq=2)
    before = explorer.figure.to_plotly_json()
    log.path.unlink()
    explorer.controls["seq"].value = 0
    assert explorer.figure.to_plotly_json() != before
