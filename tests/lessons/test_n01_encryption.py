"""Notebook 01's exercises accept right answers and refuse wrong ones."""

from __future__ import annotations

import math

import pytest

from leptonkit import crypto
from leptonkit.lessons.n01_encryption import IMAGE_SIZE, RECORD, RECORD_ID


def _flip(token: bytes, position: int) -> bytes:
    tampered = bytearray(token)
    tampered[position // 8] ^= 1 << (position % 8)
    return bytes(tampered)


def _associated_data():
    key = crypto.generate_key()
    return ([(crypto.encrypt(RECORD, key, associated_data=RECORD_ID), key)],
            [(crypto.encrypt(RECORD, key), key),
             (crypto.encrypt(b"other", key, associated_data=RECORD_ID), key),
             (crypto.encrypt(RECORD, key, associated_data=RECORD_ID), crypto.generate_key())])


def _bit_flip():
    key = crypto.generate_key()
    token = crypto.encrypt(b"dose: 500 mg", key)
    return ([(_flip(token, 0), token, key), (_flip(token, len(token) * 8 - 1), token, key)],
            [(token, token, key), (_flip(_flip(token, 3), 9), token, key), (token[:-1], token, key)])


def _ecb_blocks():
    ecb = crypto.ecb_encrypt_insecure(crypto.demo_image(IMAGE_SIZE).tobytes(), crypto.generate_key())
    distinct = len({ecb[i:i + 16] for i in range(0, len(ecb), 16)})
    return [distinct], [distinct - 1, 1025]


def _password_years():
    years = 2 ** (8 * math.log2(26) - 1) * 0.1 / (365.25 * 24 * 3600)
    return [years, years * 1.005], [years * 1.05, years * 2]


ANSWERS = {"01.1": _associated_data, "01.2": _bit_flip, "01.3": _ecb_blocks, "01.4": _password_years}


@pytest.mark.parametrize("exercise_id", sorted(ANSWERS))
def test_exercise(exercise_id, judge):
    judge(exercise_id, *ANSWERS[exercise_id]())
