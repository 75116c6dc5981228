"""Notebook 00's exercises accept right answers and refuse wrong ones; its lesson needs no torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

from leptonkit import crypto
from leptonkit.errors import IntegrityError

ANSWERS = {
    "00.1": lambda: ([76, 76.0], [75, 77, 128]),
    "00.2": lambda: ([crypto.sha256(b"leptonkit").hex(), crypto.sha256(b"leptonkit").hex().upper()],
                     [crypto.sha256(b"leptonkit"), crypto.sha256(b"Leptonkit").hex()]),
    "00.3": lambda: ([IntegrityError], [ValueError, "IntegrityError", IntegrityError("x")]),
}


@pytest.mark.parametrize("exercise_id", sorted(ANSWERS))
def test_exercise(exercise_id, judge):
    judge(exercise_id, *ANSWERS[exercise_id]())


def test_checking_notebook_00_loads_no_torch():
    probe = ("import sys; from leptonkit.exercises import check; check('00.2', 'x'); "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'opacus')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
