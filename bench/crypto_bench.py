"""leptonkit.crypto.encrypt/decrypt against raw ``cryptography`` AESGCM, measured in the same run.

The anchor is the library call the wrapper stands on: ``AESGCM(key).encrypt(nonce, data, None)``
with a fresh ``os.urandom(12)`` nonce. The wrapper adds argument checks, the nonce in front
of the ciphertext and the mapping of failures to ``IntegrityError``. Calls of the two are
interleaved, and each figure is the median over repetitions, so drift in the machine's speed
hits both alike. Prints a table, then ``FIGURE <name> <value>`` lines.

Usage: python bench/crypto_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from leptonkit import crypto

SIZES = {"1KiB": 2**10, "1MiB": 2**20, "16MiB": 2**24}


def _median_seconds(fn, data, repeats: int) -> float:
    # The loop a caller writes: `token = encrypt(chunk, key); f.write(token)`. The previous
    # result stays alive until the next call returns, as it does in such a loop.
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn(data)
        times.append(time.perf_counter() - start)
    del result
    return statistics.median(times)


def measure(size: int, *, rounds: int, repeats: int) -> dict[str, float]:
    key = crypto.generate_key()
    data = os.urandom(size)
    aead = AESGCM(key)
    token = crypto.encrypt(data, key)
    raw_token = (token[:12], token[12:])
    contenders = {
        "raw_encrypt": lambda d: aead.encrypt(os.urandom(12), d, None),
        "kit_encrypt": lambda d: crypto.encrypt(d, key),
        "raw_decrypt": lambda _: aead.decrypt(raw_token[0], raw_token[1], None),
        "kit_decrypt": lambda _: crypto.decrypt(token, key),
    }
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):  # interleave the contenders round by round
        for name, fn in contenders.items():
            samples[name].append(_median_seconds(fn, data, repeats))
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (well under 60 s)")
    args = parser.parse_args()
    rounds = 5 if args.quick else 15
    print(f"AES-256-GCM, median of {rounds} rounds; times in milliseconds")
    columns = ("raw enc", "kit enc", "ratio", "raw dec", "kit dec", "ratio")
    print(f"{'size':>6} " + " ".join(f"{c:>9}" if "raw" in c or "kit" in c else f"{c:>6}" for c in columns))
    figures = {}
    for label, size in SIZES.items():
        repeats = max(3, min(2000, 2**24 // size // 4))
        m = measure(size, rounds=rounds, repeats=repeats)
        enc, dec = m["kit_encrypt"] / m["raw_encrypt"], m["kit_decrypt"] / m["raw_decrypt"]
        print(f"{label:>6} {m['raw_encrypt'] * 1e3:9.3f} {m['kit_encrypt'] * 1e3:9.3f} {enc:6.2f} "
              f"{m['raw_decrypt'] * 1e3:9.3f} {m['kit_decrypt'] * 1e3:9.3f} {dec:6.2f}")
        figures[f"aesgcm_overhead_{label}"] = enc
        figures[f"aesgcm_decrypt_overhead_{label}"] = dec
    print()
    for name, value in figures.items():
        print(f"FIGURE {name} {value:.3f}")


if __name__ == "__main__":
    main()
