"""Notebook 01's exercises accept right answers and refuse wrong ones."""

from __future__ import annotations

import math

import numpy as np
import pytest

from leptonkit import crypto
from leptonkit.lessons.n01_encryption import IMAGE_SIZE, RECORD, RECORD_ID, reused_nonce_tokens


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


def _nonce_reuse():
    first, second = reused_nonce_tokens()
    c1, c2 = first[12:-16], second[12:-16]
    recovered = bytes(a ^ b ^ p for a, b, p in zip(c1, c2, RECORD, strict=False))
    without_stripping = bytes(a ^ b ^ p for a, b, p in zip(first, second, RECORD, strict=False))
    return [recovered, bytearray(recovered)], [RECORD, without_stripping, c2, recovered[:-1] + b"?",
                                               recovered.decode()]


def _reinterpreted():
    weights = np.random.default_rng(0).normal(size=(10, 64)).astype(np.float32)
    return ([(weights.reshape(64, 10), weights), (weights.view(np.int32), weights),
             (weights.view(np.float16), weights)],
            [(weights.copy(), weights), (weights.T, weights), (weights.astype(np.float64), weights),
             (weights.tobytes(), weights)])


def test_reused_nonce_tokens_share_a_nonce_and_decrypt_to_nothing_known():
    first, second = reused_nonce_tokens()
    assert first[:12] == second[:12]
    again, _ = reused_nonce_tokens()
    assert again[12:-16] != first[12:-16]   # a fresh key every call


ANSWERS = {"01.1": _associated_data, "01.2": _bit_flip, "01.3": _ecb_blocks, "01.4": _nonce_reuse,
           "01.5": _reinterpreted, "01.6": _password_years}


@pytest.mark.parametrize("exercise_id", sorted(ANSWERS))
def test_exercise(exercise_id, judge):
    judge(exercise_id, *ANSWERS[exercise_id]())
