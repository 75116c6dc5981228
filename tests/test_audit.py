"""leptonkit.audit: the chain catches every edit, deletion and reordering; crashes lose nothing."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time

import pytest

from leptonkit import accounting, audit, crypto
from leptonkit.errors import IntegrityError, PrivacyBudgetExceeded

RNG = random.Random(8)  # which bytes get edited: fixed so a failure can be replayed


def _log(tmp_path, n: int = 20, **kwargs) -> audit.AuditLog:
    log = audit.AuditLog(tmp_path / "audit.jsonl", **kwargs)
    for i in range(n):
        log.append(actor=f"user{i % 3}", action="access",
                   details={"dataset": "patients", "purpose": "study", "rows": i, "note": "é ü ✓"})
    return log


def test_append_and_verify(tmp_path):
    log = _log(tmp_path, 5)
    assert log.verify() is True
    records = log.records()
    assert [r.seq for r in records] == [0, 1, 2, 3, 4]
    assert records[0].prev == audit.GENESIS and records[1].prev == records[0].hash
    assert records[4].details["rows"] == 4
    assert log.head() == (4, records[4].hash)
    with pytest.raises(IntegrityError, match="does not exist"):   # a missing log proves nothing
        audit.AuditLog(tmp_path / "never-written.jsonl").verify()
    assert audit.AuditLog(tmp_path / "never-written.jsonl").records() == []


def test_every_single_byte_edit_is_caught(tmp_path):
    log = _log(tmp_path)
    original = log.path.read_bytes()
    for _ in range(1000):
        position = RNG.randrange(len(original))
        edited = bytearray(original)
        edited[position] = RNG.choice([b for b in range(256) if b != original[position]])
        log.path.write_bytes(bytes(edited))
        with pytest.raises(IntegrityError):
            log.verify()
    log.path.write_bytes(original)
    assert log.verify()


def test_every_deletion_and_reordering_is_caught(tmp_path):
    log = _log(tmp_path, 8)
    lines = log.path.read_bytes().splitlines(keepends=True)
    anchor = log.head()
    for i in range(len(lines)):
        log.path.write_bytes(b"".join(lines[:i] + lines[i + 1:]))
        with pytest.raises(IntegrityError):
            log.verify(anchor=anchor)   # the last record's removal needs the anchor
        if i < len(lines) - 1:
            with pytest.raises(IntegrityError, match=f"record {i} "):
                log.verify()            # any other is caught by the chain alone, named
    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            swapped = list(lines)
            swapped[i], swapped[j] = swapped[j], swapped[i]
            log.path.write_bytes(b"".join(swapped))
            with pytest.raises(IntegrityError, match=f"record {i} "):
                log.verify()


def test_without_a_key_a_forger_can_rewrite_the_chain_with_a_key_not(tmp_path):
    for key in (None, crypto.generate_key()):
        path = tmp_path / f"{'keyed' if key else 'plain'}.jsonl"
        log = audit.AuditLog(path, key=key)
        for i in range(3):
            log.append(actor="ana", action="access", details={"rows": i, "purpose": "p"})
        # the forger edits record 1 and recomputes every SHA-256 hash after it
        records = [json.loads(line) for line in path.read_bytes().splitlines()]
        prev, forged = audit.GENESIS, []
        records[1]["details"]["rows"] = 999
        for r in records:
            fields = {k: r[k] for k in ("seq", "time", "actor", "action", "details")} | {"prev": prev}
            prev = crypto.sha256(audit._canonical(fields)).hex()
            forged.append(audit._canonical({**fields, "hash": prev}) + b"\n")
        path.write_bytes(b"".join(forged))
        if key is None:
            assert log.verify()            # the honest limit of an unkeyed chain: anchor it
        else:
            with pytest.raises(IntegrityError, match="record 0"):
                log.verify()


def test_a_torn_write_is_reported_refused_and_repaired_without_loss(tmp_path):
    log = _log(tmp_path, 5)
    intact = log.path.read_bytes()
    torn = b'{"action":"access","actor":"eve","det'
    with log.path.open("ab") as f:
        f.write(torn)     # a crash mid-write
    with pytest.raises(IntegrityError, match=r"record 5 .* torn"):
        log.verify()
    with pytest.raises(IntegrityError, match="repair"):
        log.append(actor="ana", action="access", details={"purpose": "p"})
    assert f"torn record of {len(torn)} bytes; 5 complete records kept" in log.repair()
    assert log.path.read_bytes() == intact and log.verify()
    assert "nothing to repair" in log.repair()
    log.append(actor="ana", action="access", details={"purpose": "p"})
    assert log.verify() and log.head()[0] == 5


CHILD = """
import sys
from leptonkit import audit
log = audit.AuditLog(sys.argv[1])
big = "x" * 200_000
for i in range(100_000):
    record = log.append(actor="writer", action="access", details={"i": i, "purpose": "load", "pad": big})
    print(record.seq, flush=True)
"""


def test_a_writer_killed_mid_stream_loses_no_confirmed_record(tmp_path):
    path = tmp_path / "crash.jsonl"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True)
    confirmed = []
    deadline = time.monotonic() + 60
    while len(confirmed) < 25 and time.monotonic() < deadline:
        confirmed.append(int(child.stdout.readline()))
    child.send_signal(signal.SIGKILL)
    child.wait()
    confirmed += [int(line) for line in child.stdout.read().split()]
    log = audit.AuditLog(path)
    try:
        log.verify()
    except IntegrityError as error:
        assert "torn" in str(error)
        log.repair()
    assert log.verify()
    kept = {r.seq for r in log.records()}
    assert set(confirmed) <= kept and len(confirmed) >= 25


def test_bad_inputs_write_nothing(tmp_path):
    with pytest.raises(TypeError, match="key must be bytes-like"):
        audit.AuditLog(tmp_path / "x.jsonl", key="secret")
    with pytest.raises(ValueError, match="key must be at least 16 bytes"):
        audit.AuditLog(tmp_path / "x.jsonl", key=b"short")
    log = _log(tmp_path, 2)
    before = log.path.read_bytes()
    for kwargs, error in [({"actor": "", "action": "access"}, TypeError),
                          ({"actor": "ana", "action": None}, TypeError),
                          ({"actor": "ana", "action": "access", "details": ["not", "a", "dict"]}, TypeError),
                          ({"actor": "ana", "action": "access", "details": {"x": object()}}, TypeError),
                          ({"actor": "ana", "action": "access", "details": {"x": float("nan")}}, TypeError)]:
        with pytest.raises(error):
            log.append(**kwargs)
    assert log.path.read_bytes() == before


def test_keys_stay_out_of_the_log_and_its_repr(tmp_path):
    key = crypto.generate_key()
    log = _log(tmp_path, 2, key=key)
    assert key.hex() not in repr(log) and key.hex().encode() not in log.path.read_bytes()
    assert key not in log.path.read_bytes()


def test_the_privacy_ledger_writes_its_spends_and_refusals(tmp_path):
    log = audit.AuditLog(tmp_path / "ledger.jsonl")
    budget = accounting.PrivacyAccountant(1.0, 1e-5, audit_log=log, actor="dpo")
    budget.spend(0.6, label="count")
    with pytest.raises(PrivacyBudgetExceeded):
        budget.spend(0.5, label="too much")
    actions = [(r.action, r.details.get("label")) for r in log.records()]
    assert actions == [("privacy_budget", None), ("privacy_spend", "count"),
                       ("privacy_spend_refused", "too much")]
    assert budget.spent == (0.6, 0.0) and len(budget.history) == 1


def test_compliance_report_flags_problems(tmp_path):
    log = audit.AuditLog(tmp_path / "report.jsonl")
    budget = accounting.PrivacyAccountant(1.0, audit_log=log)
    budget.spend(0.25, label="mean balance")
    with pytest.raises(PrivacyBudgetExceeded):
        budget.spend(2.0, label="everything")
    log.append(actor="ana", action="access", details={"dataset": "patients", "purpose": "diabetes study"})
    log.append(actor="bob", action="export", details={"dataset": "patients", "cipher": "AES-256-GCM"})
    report = audit.compliance_report(log)
    assert "intact: 5 records verify" in report
    assert "spent ε = 0.25 (25%); 1 over-budget attempt(s) refused" in report
    assert "over-budget attempt by privacy-accountant (everything)" in report
    assert "export of patients by bob has no stated purpose" in report
    assert "| 4 | export | AES-256-GCM | patients |" in report
    html = audit.compliance_report(log, fmt="html")
    assert html.startswith("<h1>") and "<table>" in html and "AES-256-GCM" in html
    log.path.write_bytes(log.path.read_bytes().replace(b"diabetes", b"diabetez"))
    broken = audit.compliance_report(log)
    assert "BROKEN — record 3 (line 4) was altered" in broken
    assert "the audit chain does not verify" in broken
    with pytest.raises(ValueError, match="fmt must be"):
        audit.compliance_report(log, fmt="pdf")


_APPENDER = """
import sys
from leptonkit import audit
log = audit.AuditLog(sys.argv[1])
for i in range(100):
    log.append(actor=f"writer {sys.argv[2]}", action="access", details={"dataset": "d", "i": i})
"""


def test_concurrent_processes_keep_one_chain(tmp_path):
    """Three processes append 100 records each: the file lock serialises them into one valid chain."""
    path = tmp_path / "audit.jsonl"
    workers = [subprocess.Popen([sys.executable, "-c", _APPENDER, str(path), str(k)]) for k in range(3)]
    assert all(w.wait(timeout=120) == 0 for w in workers)
    records = audit.AuditLog(path).records()
    assert [r.seq for r in records] == list(range(300))
    assert sorted(r.actor for r in records) == sorted(f"writer {k}" for k in range(3) for _ in range(100))
