"""Lesson for notebooks/01_encryption.ipynb: authenticated encryption, ECB, password KDFs.

Here: the patient record of the story, the exercise checkers 01.1–01.4 and the KDF-cost explorer.
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
from leptonkit.widgets import Explorer, slider

__all__ = ["EXPLORERS", "IMAGE_SIZE", "RECORD", "RECORD_ID", "kdf_cost_explorer"]

RECORD = b"patient 0042: HbA1c 6.1 %, metformin 500 mg"   # what the clinic sends
RECORD_ID = b"record-0042"                                # bound to it as associated data
IMAGE_SIZE = 128   # the side of crypto.demo_image, the picture encrypted with ECB and GCM


# --- exercises -----------------------------------------------------------------------------


@exercise("01.1", hint="encrypt(record, key, associated_data=record_id); answer (token, key).")
def _encrypts_with_associated_data(answer: Any) -> bool:
    token, key = answer
    try:
        plaintext = crypto.decrypt(token, key, associated_data=RECORD_ID)
    except IntegrityError:
        raise NotYet("the token does not decrypt with this key and associated data "
                     "b'record-0042'.") from None
    if plaintext != RECORD:
        raise NotYet("the token decrypts, but not to `record`.")
    return True


@exercise("01.2", hint="Copy the token into a bytearray, flip one bit with ^= (1 << k), "
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


@exercise("01.3", hint="Split the ECB ciphertext into 16-byte blocks (ct[i:i+16]) and count the "
                       "distinct ones with a set.")
def _distinct_ecb_blocks(answer: Any) -> bool:
    # ECB maps equal blocks to equal blocks under any key, so the count is the plaintext's.
    image = crypto.demo_image(IMAGE_SIZE).tobytes() + bytes([16]) * 16  # PKCS#7 adds one full block
    distinct = len({image[i:i + 16] for i in range(0, len(image), 16)})
    return exactly(answer, distinct, "{} is not the number of distinct blocks.")


@exercise("01.4", hint="Average guesses are half the space: 2**(bits - 1) * 0.1 seconds; "
                       "divide by 365.25 * 24 * 3600 for years.")
def _password_crack_years(answer: Any) -> bool:
    bits = 8 * math.log2(26)
    return close_to(answer, crypto.expected_crack_seconds(bits, 10.0) / (365.25 * 24 * 3600), rel=0.01)


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
        "log2_n": slider(w.IntSlider, "scrypt cost log₂ N", value=log2_n, min=lo, max=hi),
        "password_bits": slider(w.FloatSlider, "password entropy (bits)", value=password_bits,
                                min=10.0, max=100.0, step=1.0),
    }

    def compute(log2_n: int, password_bits: float) -> np.ndarray:
        return crypto.expected_crack_seconds(password_bits, 1.0 / table["seconds"])

    def build(seconds: np.ndarray, log2_n: int, password_bits: float) -> go.Figure:
        per_guess = plots.human_duration(float(table["seconds"][log2_n - lo]))
        return plots.crack_time(table["log2_n"], seconds, x_title="scrypt cost log₂ N",
                                highlight=log2_n, measured=table["measured"],
                                title=f"{password_bits:g}-bit password, {per_guess} per guess")

    return Explorer(controls, compute, build)


EXPLORERS: dict[str, Callable[..., Explorer]] = {"kdf_cost": kdf_cost_explorer}
