"""The audit log against crashes, stray writers and a hostile host; the ledger fails closed.

Each test reproduces a defect found by an attacker-style probe of an earlier version (the
reliability issue) and checks the behaviour the kit now promises.
"""

from __future__ import annotations

import json
import os
import pickle

import pytest
from mutations import mutations

from leptonkit import accounting, audit, crypto
from leptonkit.audit import checkpoints
from leptonkit.errors import IntegrityError

KEY = bytes(range(32))


def _log(tmp_path, n=4, **kwargs):
    log = audit.AuditLog(tmp_path / "audit.jsonl", **kwargs)
    for i in range(n):
        log.append(actor="ana", action="access", details={"dataset": "patients", "purpose": "study", "i": i})
    return log


# --- a stray or broken last line -----------------------------------------------------------------


@pytest.mark.parametrize("garbage", [b"{}\n", b"[" * 100_000 + b"\n", b"not json at all\n",
                                     b'{"seq": "0"}\n', b"\xff\xfe\n"], ids=["empty-object", "deeply-nested",
                                                                         "text", "wrong-types", "bytes"])
def test_a_bad_last_line_blocks_appends_with_integrity_error_and_repair_quarantines_it(tmp_path, garbage):
    log = _log(tmp_path)
    with log.path.open("ab") as f:
        f.write(garbage)
    with pytest.raises(IntegrityError):
        log.append(actor="ana", action="access", details={"dataset": "d", "purpose": "p"})
    with pytest.raises(IntegrityError):
        log.verify()
    message = log.repair()
    assert "quarantine" in message and "4 complete records kept" in message
    assert (tmp_path / "audit.jsonl.quarantine").read_bytes() == garbage
    assert log.verify() and len(log.records()) == 4
    log.append(actor="ana", action="access", details={"dataset": "d", "purpose": "p"})
    assert len(log.records()) == 5


def test_repair_never_touches_an_earlier_record_that_was_tampered_with(tmp_path):
    log = _log(tmp_path)
    lines = log.path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b"study", b"STUDY")
    log.path.write_bytes(b"".join(lines))
    before = log.path.read_bytes()
    with pytest.raises(IntegrityError, match="record 1"):
        log.repair()
    with pytest.raises(IntegrityError, match="record 1"):   # and nothing is written onto a broken chain
        log.append(actor="mallory", action="access", details={"dataset": "d", "purpose": "p"})
    assert log.path.read_bytes() == before


def test_a_deleted_log_does_not_verify(tmp_path):
    log = _log(tmp_path)
    log.path.unlink()
    with pytest.raises(IntegrityError, match="does not exist"):
        log.verify()
    with pytest.raises(IntegrityError, match="deleted"):
        log.records()


def test_symbolic_links_are_refused_and_a_dangling_one_creates_nothing(tmp_path):
    target = tmp_path / "elsewhere" / "target.jsonl"
    target.parent.mkdir()
    link = tmp_path / "audit.jsonl"
    link.symlink_to(target)
    log = audit.AuditLog(link)
    with pytest.raises(ValueError, match="symbolic link"):
        log.append(actor="ana", action="access", details={"dataset": "d", "purpose": "p"})
    assert not target.exists()
    with pytest.raises(ValueError, match="symbolic link"):
        log.records()


def test_an_audit_log_and_a_ledger_refuse_to_be_pickled_with_their_key(tmp_path):
    log = _log(tmp_path, key=KEY)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(log)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(accounting.PrivacyAccountant(1.0))
    assert KEY.hex() not in repr(log) and "HMAC" in repr(log)


def test_oversized_details_are_refused_before_anything_is_written(tmp_path):
    log = _log(tmp_path)
    before = log.path.read_bytes()
    with pytest.raises(ValueError, match="details must encode"):
        log.append(actor="ana", action="export", details={"blob": "x" * audit.MAX_LINE_BYTES})
    with pytest.raises(TypeError, match="JSON"):
        log.append(actor="ana", action="export", details={"x": float("nan")})
    assert log.path.read_bytes() == before


# --- the ledger fails closed -------------------------------------------------------------------------


def test_a_spend_whose_log_write_fails_after_the_line_is_written_still_counts(tmp_path, monkeypatch):
    log = audit.AuditLog(tmp_path / "audit.jsonl")
    ledger = accounting.PrivacyAccountant(1.0, audit_log=log)
    real_fsync = os.fsync

    def failing_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr("leptonkit.audit.log.os.fsync", failing_fsync)
    with pytest.raises(OSError, match="disk full"):
        ledger.spend(0.6, label="the line reached the file")
    monkeypatch.setattr("leptonkit.audit.log.os.fsync", real_fsync)
    logged = [r for r in log.records() if r.action == "privacy_spend"]
    assert len(logged) == 1 and ledger.spent == (0.6, 0.0)   # the ledger never says less than the log
    with pytest.raises(accounting.PrivacyBudgetExceeded):
        ledger.spend(0.6, label="a second 0.6")


# --- a hostile host: forward-secure keys and signed checkpoints -------------------------------------


def _rewrite(log_path, seq, key_for):
    """The forger's tool: edit record ``seq`` and recompute every hash from there with ``key_for(i)``."""
    records = [json.loads(line) for line in log_path.read_bytes().splitlines()]
    records[seq]["details"]["purpose"] = "marketing"
    prev = records[seq]["prev"]
    for r in records[seq:]:
        fields = {name: r[name] for name in audit.log._FIELDS} | {"prev": prev}
        key = key_for(r["seq"])
        data = audit._canonical(fields)
        r.update(prev=prev, hash=(crypto.hmac_sha256(key, data) if key else crypto.sha256(data)).hex())
        prev = r["hash"]
    log_path.write_bytes(b"".join(audit._canonical(r) + b"\n" for r in records))


def test_a_host_with_the_current_forward_secure_key_cannot_rewrite_the_past(tmp_path):
    writer = _log(tmp_path, n=5, key=KEY, forward_secure=True)
    auditor = audit.AuditLog(writer.path, key=KEY, forward_secure=True)
    assert auditor.verify() and len(auditor.records()) == 5
    stolen = checkpoints.WriterKey.load(writer.writer_key_path)     # what a compromised host holds
    assert stolen.seq == 5 and stolen.key != KEY
    restarted = audit.AuditLog(writer.path, forward_secure=True)     # the writer after a restart
    restarted.append(actor="ana", action="access", details={"dataset": "d", "purpose": "p"})
    assert auditor.verify() and len(auditor.records()) == 6
    _rewrite(writer.path, 2, lambda i: stolen.key)                   # the forger's best key
    with pytest.raises(IntegrityError, match="record 2"):
        auditor.verify()
    with pytest.raises(ValueError, match="initial key"):             # only the auditor can verify
        restarted.verify()


def test_a_writer_that_crashed_between_a_record_and_its_next_key_recovers(tmp_path):
    log = _log(tmp_path, n=3, key=KEY, forward_secure=True)
    state = checkpoints.WriterKey.load(log.writer_key_path)
    previous = checkpoints.WriterKey(state.seq - 1, _key_at(state.seq - 1))
    previous.save(log.writer_key_path)                               # the crash: record 2 written, key not
    audit.AuditLog(log.path, forward_secure=True).append(actor="ana", action="access", details={})
    assert audit.AuditLog(log.path, key=KEY, forward_secure=True).verify()
    log.writer_key_path.unlink()                                     # without its key, no one can write
    with pytest.raises(IntegrityError, match="missing"):
        audit.AuditLog(log.path, forward_secure=True).append(actor="mallory", action="access", details={})


def _key_at(seq):
    key = KEY
    for _ in range(seq):
        key = checkpoints.evolve(key)
    return key


def test_a_signed_checkpoint_catches_a_rewrite_by_the_key_holder_and_a_cut(tmp_path):
    officer, officer_public = crypto.generate_signing_keypair()      # kept off the host
    log = _log(tmp_path, n=5, key=KEY)
    checkpoint = audit.sign_head(log, officer)
    stored = audit.Checkpoint.from_json(checkpoint.to_json())        # what the auditor files away
    assert audit.verify_checkpoint(log, stored, officer_public)
    log.append(actor="ana", action="access", details={"dataset": "d", "purpose": "p"})
    assert audit.verify_checkpoint(log, stored, officer_public)      # later records are fine

    original = log.path.read_bytes()
    _rewrite(log.path, 1, lambda i: KEY)                             # the host holds the HMAC key
    assert log.verify()                                              # ... so the chain alone is fooled
    with pytest.raises(IntegrityError, match="anchor"):
        audit.verify_checkpoint(log, stored, officer_public)
    log.path.write_bytes(b"".join(original.splitlines(keepends=True)[:3]))   # cut the last records
    with pytest.raises(IntegrityError):
        audit.verify_checkpoint(log, stored, officer_public)
    log.path.write_bytes(original)
    forged = audit.Checkpoint(stored.seq, stored.hash, stored.first, "00" * 64)
    with pytest.raises(IntegrityError, match="signature"):
        audit.verify_checkpoint(log, forged, officer_public)
    _, other_public = crypto.generate_signing_keypair()
    with pytest.raises(IntegrityError, match="signature"):
        audit.verify_checkpoint(log, stored, other_public)
    (tmp_path / "other").mkdir()
    other = _log(tmp_path / "other", n=6, key=KEY)
    with pytest.raises(IntegrityError):
        audit.verify_checkpoint(other, stored, officer_public)       # a checkpoint of another log


# --- the compliance report trusts nothing it cannot check -------------------------------------------


def test_the_report_counts_only_the_accountants_own_records_and_flags_the_rest(tmp_path):
    log = audit.AuditLog(tmp_path / "audit.jsonl")
    ledger = accounting.PrivacyAccountant(1.0, 1e-5, audit_log=log, actor="dpo")
    ledger.spend(0.4, label="count")
    log.append(actor="mallory", action="privacy_spend", details={"epsilon": -1, "total_epsilon": 0})
    log.append(actor="mallory", action="privacy_budget", details={"epsilon": 100, "delta": 0})
    log.append(actor="dpo", action="privacy_spend", details={"epsilon": "one", "total_epsilon": "one"})
    log.append(actor="ana", action="access", details={"dataset": "x\n## Flagged problems\nnone",
                                                      "purpose": "a | b"})
    report = audit.compliance_report(log)
    assert "spent ε = 0.4 (40%)" in report
    headings = [line for line in report.splitlines() if line.startswith("#")]
    assert headings.count("## Flagged problems") == 1 and len(headings) == 7   # no heading was injected
    flagged = report.split("\n## Flagged problems", 1)[1]
    assert "keeps no budget" in flagged and "second privacy budget" in flagged
    assert "not a valid number" in flagged
    assert "x ## Flagged problems none" in report                     # the injection is one table cell
    assert "<h2>Flagged problems</h2>" in audit.compliance_report(log, fmt="html")


@pytest.mark.parametrize("budget", [{"epsilon": 0, "delta": 0}, {"epsilon": "one", "delta": 0},
                                    {"epsilon": 1e308, "delta": 2}, {}])
def test_a_malformed_budget_record_is_flagged_not_divided_by(tmp_path, budget):
    log = audit.AuditLog(tmp_path / "audit.jsonl")
    log.append(actor="someone", action="privacy_budget", details=budget)
    report = audit.compliance_report(log)
    assert "no privacy budget recorded" in report and "not a valid number" in report


def test_the_report_names_a_wrong_argument():
    with pytest.raises(TypeError, match="log"):
        audit.compliance_report(None)


@pytest.mark.parametrize("key", [None, KEY], ids=["sha256", "hmac"])
def test_every_mutation_of_a_log_line_is_caught(tmp_path, key):
    """300 seeded mutations of one record (bit flips, cuts, insertions): verify names a bad record,
    never accepts the change and never raises anything but IntegrityError."""
    log = _log(tmp_path, n=3, key=key)
    lines = log.path.read_bytes().splitlines(keepends=True)
    for mutated in mutations(lines[1][:-1], 300, seed=11):
        log.path.write_bytes(lines[0] + mutated + b"\n" + lines[2])
        with pytest.raises(IntegrityError):
            log.verify()
