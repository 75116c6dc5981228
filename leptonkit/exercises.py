"""Checked exercises: ``check("01.2", answer)`` prints ✓ or a hint and returns whether it is right.

Answers are checked by their property — a token that decrypts, a number within a tolerance,
the right exception class — never by comparing strings, so every correct answer passes.
Each notebook's exercises are registered below under ``"NN.k"`` (notebook NN, exercise k).
In the notebooks the exercise cell ends with ``check(...)``; the next cell, tagged
``solution``, holds a worked answer that the learner's build replaces.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import crypto
from .errors import IntegrityError

__all__ = ["NotYet", "check", "exercise_ids"]


class NotYet(Exception):
    """Raised by a checker to say why an answer is not right yet (shown to the learner)."""


@dataclass(frozen=True)
class _Exercise:
    hint: str
    is_correct: Callable[[Any], bool]


_EXERCISES: dict[str, _Exercise] = {}


def _exercise(exercise_id: str, *, hint: str) -> Callable:
    def register(is_correct: Callable[[Any], bool]) -> Callable[[Any], bool]:
        _EXERCISES[exercise_id] = _Exercise(hint=hint, is_correct=is_correct)
        return is_correct
    return register


def exercise_ids() -> list[str]:
    """Every registered exercise id, in order."""
    return sorted(_EXERCISES)


def check(exercise_id: str, answer: Any) -> bool:
    """Check ``answer`` to exercise ``exercise_id``; print ✓ or what to try next; return the verdict.

    ``...`` (Ellipsis, the placeholder in the exercise cells) means "not answered yet".

    Raises
    ------
    ValueError
        If ``exercise_id`` is not a known exercise.
    """
    if exercise_id not in _EXERCISES:
        raise ValueError(f"exercise_id must be one of {', '.join(exercise_ids())}; "
                         f"got {exercise_id!r}")
    exercise = _EXERCISES[exercise_id]
    if answer is Ellipsis:
        print(f"Exercise {exercise_id}: replace ... with your answer and run the cell again.")
        return False
    try:
        correct, reason = bool(exercise.is_correct(answer)), ""
    except NotYet as why:
        correct, reason = False, str(why)
    except Exception as error:  # a malformed answer is a learner's mistake, not a crash
        correct, reason = False, f"this answer could not be checked ({type(error).__name__}: {error})"
    if correct:
        print(f"✓ Exercise {exercise_id}: correct.")
    else:
        print(f"✗ Exercise {exercise_id}: not yet. {reason + ' ' if reason else ''}"
              f"Hint: {exercise.hint}")
    return correct


def _close(value: Any, expected: float, *, rel: float) -> bool:
    value = float(value)
    if not math.isclose(value, expected, rel_tol=rel):
        raise NotYet(f"{value:.4g} is not within {rel:.0%} of the expected value.")
    return True


# --- 00 welcome --------------------------------------------------------------------------

SECONDS_PER_THOUSAND_YEARS = 1000 * 365.25 * 24 * 3600


@_exercise("00.1", hint="Move the key-length slider at 10^12 guesses per second until the title "
                        "first says more than a thousand years; give that number of bits.")
def _smallest_key_for_a_thousand_years(bits: Any) -> bool:
    bits = int(bits)
    if crypto.expected_crack_seconds(bits, 1e12) < SECONDS_PER_THOUSAND_YEARS:
        raise NotYet(f"{bits} bits fall in under a thousand years.")
    if crypto.expected_crack_seconds(bits - 1, 1e12) >= SECONDS_PER_THOUSAND_YEARS:
        raise NotYet(f"{bits} bits are enough, but fewer would do: find the smallest.")
    return True


@_exercise("00.2", hint="leptonkit.crypto.sha256(b'leptonkit') returns bytes; call .hex() on them.")
def _sha256_hex(answer: Any) -> bool:
    if not isinstance(answer, str):
        raise NotYet(f"give the digest as a hex string, not {type(answer).__name__}.")
    return answer.lower() == hashlib.sha256(b"leptonkit").hexdigest()


@_exercise("00.3", hint="Read help(leptonkit.crypto.decrypt): its 'Raises' section names the class. "
                        "Give the class itself, not a string.")
def _tamper_exception(answer: Any) -> bool:
    return isinstance(answer, type) and issubclass(answer, IntegrityError)


# --- 01 encryption -----------------------------------------------------------------------

RECORD_01 = b"patient 0042: HbA1c 6.1 %, metformin 500 mg"
RECORD_ID_01 = b"record-0042"


@_exercise("01.1", hint="encrypt(record, key, associated_data=record_id); answer (token, key).")
def _encrypts_with_associated_data(answer: Any) -> bool:
    token, key = answer
    try:
        plaintext = crypto.decrypt(token, key, associated_data=RECORD_ID_01)
    except IntegrityError:
        raise NotYet("the token does not decrypt with this key and associated data "
                     "b'record-0042'.") from None
    if plaintext != RECORD_01:
        raise NotYet("the token decrypts, but not to `record`.")
    return True


@_exercise("01.2", hint="Copy the token into a bytearray, flip one bit with ^= (1 << k), "
                        "and answer (tampered, token, key).")
def _single_bit_flip_caught(answer: Any) -> bool:
    tampered, original, key = (bytes(x) for x in answer)
    if len(tampered) != len(original):
        raise NotYet("the tampered token must have the same length as the original.")
    flipped = np.unpackbits(np.frombuffer(tampered, np.uint8) ^ np.frombuffer(original, np.uint8))
    if flipped.sum() != 1:
        raise NotYet(f"exactly one bit must differ; {int(flipped.sum())} do.")
    crypto.decrypt(original, key)  # the original must be a valid token under this key
    try:
        crypto.decrypt(tampered, key)
    except IntegrityError:
        return True
    raise NotYet("the tampered token decrypted — that should be impossible.")


@_exercise("01.3", hint="Split the ECB ciphertext into 16-byte blocks (ct[i:i+16]) and count the "
                        "distinct ones with a set.")
def _distinct_ecb_blocks(answer: Any) -> bool:
    # ECB maps equal blocks to equal blocks under any key, so the count is the plaintext's.
    image = crypto.demo_image(128).tobytes() + bytes([16]) * 16  # PKCS#7 adds one full block
    distinct = len({image[i:i + 16] for i in range(0, len(image), 16)})
    if int(answer) != distinct:
        raise NotYet(f"{int(answer)} is not the number of distinct blocks.")
    return True


@_exercise("01.4", hint="Average guesses are half the space: 2**(bits - 1) * 0.1 seconds; "
                        "divide by 365.25 * 24 * 3600 for years.")
def _password_crack_years(answer: Any) -> bool:
    bits = 8 * math.log2(26)
    return _close(answer, crypto.expected_crack_seconds(bits, 10.0) / (365.25 * 24 * 3600), rel=0.01)
