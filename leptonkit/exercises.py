"""Checked exercises: ``check("01.2", answer)`` prints ✓ or a hint and returns whether it is right.

Answers are checked by their property — a token that decrypts, a number within a tolerance,
the right exception class — never by comparing strings, so every correct answer passes.
This module is only the registry: each notebook's checkers live in its lesson module
(``leptonkit.lessons.nNN_*``), registered with :func:`exercise` under ``"NN.k"`` (notebook NN,
exercise k). :func:`check` imports a notebook's lesson the first time one of its exercises is
checked, so checking notebook 00 never loads torch. In the notebooks the exercise cell ends
with ``check(...)``; the next cell, tagged ``solution``, holds a worked answer that the
learner's build replaces.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .i18n import _

__all__ = ["NotYet", "check", "close_to", "exactly", "exercise", "exercise_ids", "just_enough", "unchecked"]

_LESSONS_PACKAGE = f"{__package__}.lessons"
_LESSONS_PATH = Path(__file__).resolve().parent / "lessons"
_EXERCISE_ID = re.compile(r"(\d\d)\.\d+")


class NotYet(Exception):
    """Raised by a checker to say why an answer is not right yet (shown to the learner)."""


@dataclass(frozen=True)
class _Exercise:
    hint: str
    is_correct: Callable[[Any], bool]


_EXERCISES: dict[str, _Exercise] = {}


def exercise(exercise_id: str, *, hint: str) -> Callable[[Callable[[Any], bool]], Callable[[Any], bool]]:
    """Register the decorated checker as exercise ``exercise_id`` (``"NN.k"``), with its hint.

    Mark the hint with ``leptonkit.i18n.N_``: it is translated when :func:`check` shows it. The checker
    takes the learner's answer and returns True, or raises :class:`NotYet` with
    what is wrong; any other exception counts as an answer that could not be checked.

    Raises
    ------
    ValueError
        If ``exercise_id`` is not of the form ``"NN.k"``, or another checker already has it.
    """
    if not _EXERCISE_ID.fullmatch(exercise_id):
        raise ValueError(f"exercise_id must look like '06.2' (notebook, exercise), got {exercise_id!r}")

    def register(is_correct: Callable[[Any], bool]) -> Callable[[Any], bool]:
        known = _EXERCISES.get(exercise_id)
        if known is not None and _qualified_name(known.is_correct) != _qualified_name(is_correct):
            raise ValueError(f"exercise {exercise_id} is already registered by "
                             f"{_qualified_name(known.is_correct)}")
        _EXERCISES[exercise_id] = _Exercise(hint=hint, is_correct=is_correct)
        return is_correct
    return register


def _qualified_name(function: Callable) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def _lesson_modules() -> dict[str, str]:
    """The lesson module of each notebook, by its two-digit number: ``{"06": "n06_secret_sharing"}``."""
    return {info.name[1:3]: info.name for info in pkgutil.iter_modules([str(_LESSONS_PATH)])
            if re.fullmatch(r"n\d\d_\w+", info.name)}


def _load_lesson(notebook: str) -> None:
    """Import notebook ``notebook``'s lesson (which registers its exercises), if there is one."""
    name = _lesson_modules().get(notebook)
    if name is not None:
        importlib.import_module(f"{_LESSONS_PACKAGE}.{name}")


def exercise_ids() -> list[str]:
    """Every exercise id of every notebook, in order (imports every lesson to find them)."""
    for notebook in _lesson_modules():
        _load_lesson(notebook)
    return sorted(_EXERCISES)


def check(exercise_id: str, answer: Any) -> bool:
    """Check ``answer`` to exercise ``exercise_id``; print ✓ or what to try next; return the verdict.

    ``...`` (Ellipsis, the placeholder in the exercise cells) means "not answered yet".

    Raises
    ------
    ValueError
        If ``exercise_id`` is not a known exercise.
    """
    if exercise_id not in _EXERCISES and isinstance(exercise_id, str) and _EXERCISE_ID.fullmatch(exercise_id):
        _load_lesson(exercise_id[:2])
    if exercise_id not in _EXERCISES:
        raise ValueError(f"exercise_id must be one of {', '.join(exercise_ids())}; "
                         f"got {exercise_id!r}")
    entry = _EXERCISES[exercise_id]
    if answer is Ellipsis:
        print(_("Exercise {id}: replace ... with your answer and run the cell again.").format(id=exercise_id))
        return False
    try:
        correct, reason = bool(entry.is_correct(answer)), ""
    except NotYet as why:
        correct, reason = False, str(why)
    except Exception as error:  # a malformed answer is a learner's mistake, not a crash
        correct, reason = False, unchecked(error)
    if correct:
        print(_("✓ Exercise {id}: correct.").format(id=exercise_id))
    else:
        print(_("✗ Exercise {id}: not yet. {reason}Hint: {hint}").format(
            id=exercise_id, reason=reason + " " if reason else "", hint=_(entry.hint)))
    return correct


def unchecked(error: Exception) -> str:
    """What the learner reads when checking their answer raised ``error`` (its message stays English)."""
    return _("this answer could not be checked ({kind}: {error})").format(kind=type(error).__name__,
                                                                          error=error)


def close_to(value: Any, expected: float, *, rel: float) -> bool:
    """True if ``value`` is within ``rel`` (relative) of ``expected``; else :class:`NotYet` says how far.

    For checkers of numeric answers: ``return close_to(answer, expected, rel=0.01)``.
    """
    value = float(value)
    if not math.isclose(value, expected, rel_tol=rel):
        raise NotYet(_("{value:.4g} is not within {rel:.0%} of the expected value.").format(value=value,
                                                                                             rel=rel))
    return True


def exactly(answer: Any, expected: int, why: str) -> bool:
    """True if ``answer`` is the whole number ``expected``; else :class:`NotYet` with ``why``
    (a message whose ``{}`` stands for the answer; translate it with ``_()`` where you call this).

    For checkers of counts: ``return exactly(answer, k, "{} is not the size of the smallest group.")``.
    """
    if int(answer) != expected:
        raise NotYet(why.format(int(answer)))
    return True


def just_enough(epsilon: float, target: float, *, slack: float = 0.1) -> bool:
    """True if a calibration reaches ε ≤ ``target`` without overshooting by more than ``slack``.

    For checkers of noise multipliers: too little noise misses the target, too much wastes utility.
    """
    if epsilon > target:
        raise NotYet(_("with this noise ε = {epsilon:.3f}, above the target {target:g}.").format(
            epsilon=epsilon, target=target))
    if epsilon < target - slack:
        raise NotYet(_("with this noise ε = {epsilon:.3f}: private enough, but more noise than "
                       "needed.").format(epsilon=epsilon))
    return True
