"""Shared by the lesson tests: judge an exercise's right and wrong answers through ``check``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from leptonkit.exercises import check


@pytest.fixture
def judge(capsys) -> Callable[[str, Iterable[Any], Iterable[Any]], None]:
    """``judge(exercise_id, right, wrong)``: every right answer passes, every wrong one gets a hint."""
    def run(exercise_id: str, right: Iterable[Any], wrong: Iterable[Any]) -> None:
        for answer in right:
            assert check(exercise_id, answer) is True, f"{exercise_id} refused {answer!r:.200}"
            assert f"✓ Exercise {exercise_id}" in capsys.readouterr().out
        for answer in wrong:
            assert check(exercise_id, answer) is False, f"{exercise_id} accepted {answer!r:.200}"
            out = capsys.readouterr().out
            assert f"✗ Exercise {exercise_id}" in out and "Hint:" in out, out
    return run
