"""Lesson for notebooks/01_encryption.ipynb: authenticated encryption, ECB, nonces, key agreement,
signatures over a canonical encoding, password KDFs.

Here: the patient records of the story, the two tokens a nonce-reusing job leaked, the exercise
checkers 01.1–01.6 (in notebook order: associated data, a flipped bit, ECB blocks, the
nonce-reuse attack, the reinterpreted array, password cracking) and the KDF-cost explorer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as w
import numpy as np
import plotly.graph_objects as go

from leptonkit import crypto, plots
from leptonkit.errors import IntegrityError
from leptonkit.exercises import NotYet, close_to, exactly, exercise
from leptonkit.i18n import N_, _
from leptonkit.widgets import Explorer, slider

__all__ = ["EXPLORERS", "IMAGE_SIZE", "KEY_PURPOSE", "RECORD", "RECORD_ID", "kdf_cost_explorer",
           "reused_nonce_tokens"]

RECORD = b"patient 0042: HbA1c 6.1 %, metformin 500 mg"   # what the clinic sends
RECORD_ID = b"record-0042"                                # bound to it as associated data
IMAGE_SIZE = 128   # the side of crypto.demo_image, the picture encrypted with ECB and GCM
KEY_PURPOSE = b"St. Lumen -> university: nightly lab results, v1"   # HKDF's info for the agreed key
_SECOND_RECORD = b"patient 0043: HIV positive, viral load <50"   # what exercise 01.4 recovers


def reused_nonce_tokens() -> tuple[bytes, bytes]:
    """Two tokens a buggy backup job made under one key and one nonce: ``RECORD``'s, then another's.

    The key is fresh and thrown away: exercise 01.4 recovers the second record without it.
    """
    key, nonce = crypto.generate_key(), bytes(crypto.NONCE_BYTES)   # the bug: a constant nonce
    return (crypto.encrypt_with_nonce_insecure(RECORD, key, nonce),
            crypto.encrypt_with_nonce_insecure(_SECOND_RECORD, key, nonce))


# --- exercises -----------------------------------------------------------------------------


@exercise("01.1", hint=N_("encrypt(record, key, associated_data=record_id); answer (token, key)."))
def _encrypts_with_associated_data(answer: Any) -> bool:
    token, key = answer
    try:
        plaintext = crypto.decrypt(token, key, associated_data=RECORD_ID)
    except IntegrityError:
        raise NotYet(_("the token does not decrypt with this key and associated data "
                       "b'record-0042'.")) from None
    if plaintext != RECORD:
        raise NotYet(_("the token decrypts, but not to `record`."))
    return True


@exercise("01.2", hint=N_("Copy the token into a bytearray, flip one bit with ^= (1 << k), "
                          "and answer (tampered, token, key)."))
def _single_bit_flip_caught(answer: Any) -> bool:
    tampered, original, key = (bytes(x) for x in answer)
    if len(tampered) != len(original):
        raise NotYet(_("the tampered token must have the same length as the original."))
    flipped = np.unpackbits(np.frombuffer(tampered, np.uint8) ^ np.frombuffer(original, np.uint8))
    if flipped.sum() != 1:
        raise NotYet(_("exactly one bit must differ; {n} do.").format(n=int(flipped.sum())))
    crypto.decrypt(original, key)  # the original must be a valid token under this key
    try:
        crypto.decrypt(tampered, key)
    except IntegrityError:
        return True
    raise NotYet(_("the tampered token decrypted — that should be impossible."))


@exercise("01.3", hint=N_("Split the ECB ciphertext into 16-byte blocks (ct[i:i+16]) and count the "
                          "distinct ones with a set."))
def _distinct_ecb_blocks(answer: Any) -> bool:
    # ECB maps equal blocks to equal blocks under any key, so the count is the plaintext's.
    image = crypto.demo_image(IMAGE_SIZE).tobytes() + bytes([16]) * 16  # PKCS#7 adds one full block
    distinct = len({image[i:i + 16] for i in range(0, len(image), 16)})
    return exactly(answer, distinct, _("{} is not the number of distinct blocks."))


@exercise("01.6", hint=N_("Average guesses are half the space: 2**(bits - 1) * 0.1 seconds; "
                          "divide by 365.25 * 24 * 3600 for years."))
def _password_crack_years(answer: Any) -> bool:
    bits = 8 * math.log2(26)
    return close_to(answer, crypto.expected_crack_seconds(bits, 10.0) / (365.25 * 24 * 3600), rel=0.01)


@exercise("01.4", hint=N_("GCM encrypts by XOR with a keystream that depends only on key and nonce: "
                          "c = p XOR keystream. Two ciphertexts under one nonce share the keystream, so "
                          "c1 XOR c2 = p1 XOR p2 — and you know p1. The ciphertext is token[12:-16]."))
def _nonce_reuse_read(answer: Any) -> bool:
    if not isinstance(answer, (bytes, bytearray)):
        raise NotYet(_("answer the second record as bytes, not {kind}.").format(kind=type(answer).__name__))
    answer = bytes(answer)
    if answer == RECORD:
        raise NotYet(_("that is the record you already knew; XOR it with both ciphertexts."))
    if len(answer) != len(_SECOND_RECORD):
        raise NotYet(_("the second record is {expected} bytes long, your answer {got}: strip the 12-byte "
                       "nonce and the 16-byte tag first.").format(expected=len(_SECOND_RECORD),
                                                                  got=len(answer)))
    if answer != _SECOND_RECORD:
        right = sum(a == b for a, b in zip(answer, _SECOND_RECORD, strict=True))
        raise NotYet(_("{right} of {n} bytes are right: XOR byte by byte, c1 ^ c2 ^ record.").format(
            right=right, n=len(answer)))
    return True


@exercise("01.5", hint=N_("A raw-bytes signature covers weights.tobytes() only. Find another array with "
                          "exactly those bytes — weights.view(another dtype), or weights.reshape(another "
                          "shape) — and answer (that array, weights)."))
def _reinterpreted_array(answer: Any) -> bool:
    forged, original = answer
    if not isinstance(forged, np.ndarray) or not isinstance(original, np.ndarray):
        raise NotYet(_("answer a pair of numpy arrays: (your reinterpreted array, weights)."))
    if forged.tobytes() != original.tobytes():
        raise NotYet(_("its bytes differ from the original's, so a raw-bytes signature would fail too: "
                       "keep the bytes, change how they are read."))
    if forged.dtype == original.dtype and forged.shape == original.shape:
        raise NotYet(_("same bytes, same dtype, same shape: that is the same array. Change the dtype "
                       "(.view) or the shape (.reshape)."))
    private, public = crypto.generate_signing_keypair()
    raw = crypto.sign(original.tobytes(), private)
    if not crypto.verify(forged.tobytes(), raw, public):   # cannot happen: the bytes are equal
        raise NotYet(_("a raw-bytes signature does not verify it."))
    if crypto.verify_array(forged, crypto.sign_array(original, private), public):
        raise NotYet(_("crypto.sign_array still accepts it: that should be impossible."))
    return True


# --- explorer: what does a password KDF's cost setting buy? ---------------------------------


def kdf_cost_explorer(table: Mapping[str, np.ndarray] | None = None, *, log2_n: int = 17,
                      password_bits: float = 40.0) -> Explorer:
    """scrypt's cost ``log2 N`` and a password's entropy against one core's expected search time.

    ``table`` is :func:`leptonkit.crypto.kdf_cost_table` (measured on this machine); it is
    measured here when not given. The sliders only look it up, so they respond at once.
    """
    table = crypto.kdf_cost_table() if table is None else table
    lo, hi = int(table["log2_n"][0]), int(table["log2_n"][-1])
    controls = {
        "log2_n": slider(w.IntSlider, _("scrypt cost log₂ N"), value=log2_n, min=lo, max=hi),
        "password_bits": slider(w.FloatSlider, _("password entropy (bits)"), value=password_bits,
                                min=10.0, max=100.0, step=1.0),
    }

    def compute(log2_n: int, password_bits: float) -> np.ndarray:
        return crypto.expected_crack_seconds(password_bits, 1.0 / table["seconds"])

    def build(seconds: np.ndarray, log2_n: int, password_bits: float) -> go.Figure:
        per_guess = plots.human_duration(float(table["seconds"][log2_n - lo]))
        return plots.crack_time(table["log2_n"], seconds, x_title=_("scrypt cost log₂ N"),
                                highlight=log2_n, measured=table["measured"],
                                title=_("{bits:g}-bit password, {per_guess} per guess").format(
                                    bits=password_bits, per_guess=per_guess))

    return Explorer(controls, compute, build)


EXPLORERS: dict[str, Callable[..., Explorer]] = {"kdf_cost": kdf_cost_explorer}
