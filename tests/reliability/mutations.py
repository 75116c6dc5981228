"""Seeded byte mutations for the format fuzz tests (tokens, envelopes, proofs, ciphertexts, log lines)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def mutations(data: bytes, count: int, seed: int) -> Iterator[bytes]:
    """``count`` seeded random mutations of ``data``: bit flips, truncation, extension, insertion.

    Each differs from ``data`` (a mutation that happens to restore it is skipped).
    """
    rng = np.random.default_rng(seed)
    made = 0
    while made < count:
        b = bytearray(data)
        kind = int(rng.integers(4))
        if kind == 0:
            for _ in range(int(rng.integers(1, 4))):
                position = int(rng.integers(len(b) * 8))
                b[position // 8] ^= 1 << (position % 8)
        elif kind == 1:
            b = b[: int(rng.integers(len(b)))]
        elif kind == 2:
            b += rng.bytes(int(rng.integers(1, 17)))
        else:
            position = int(rng.integers(len(b) + 1))
            b[position:position] = rng.bytes(int(rng.integers(1, 5)))
        if bytes(b) != data:
            made += 1
            yield bytes(b)
