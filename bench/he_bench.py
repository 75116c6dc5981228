"""leptonkit.he (Paillier) against python-paillier (``phe``) with gmpy2, measured in the same run.

Both libraries get the same 2048-bit key (phe's objects are built from the kit's n, p, q) and the
same plaintexts. The contenders, interleaved round by round:

- encryption with the public key (what a client does): the kit's ``PaillierPublicKey.encrypt``
  against phe's ``PaillierPublicKey.encrypt`` — the same algorithm, one r^n mod n² each;
- decryption: ``PaillierPrivateKey.decrypt`` against phe's ``decrypt`` — both CRT (mod p², q²);
- the key holder's encryption (``PaillierPrivateKey.encrypt``, CRT; phe has none);
- packed encryption (``encrypt_packed``, bound 1, 1000 summands: 75 numbers a ciphertext), in
  numbers per second against phe's numbers per second;
- the online half of encryption with r^n precomputed (``Randomizers``, made untimed before each
  round): what a client with idle time before a round pays during it. Shown, not a figure: the
  total work is that of ordinary encryption.

Each figure is the kit's throughput divided by phe's (higher is better), the median over rounds
of the ratio within a round; the head-to-head pairs are timed call by call in alternation.
Prints a table, then ``FIGURE <name> <value>`` lines. Without ``phe`` installed (it is in the
dev extra) it says so and prints the kit's rates alone.

Usage: python bench/he_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from leptonkit import he

try:
    from phe import paillier
except ImportError:  # benchmark-only anchor
    paillier = None


def _rate(fn, items) -> float:
    """Operations per second of ``fn`` over ``items``."""
    start = time.perf_counter()
    for item in items:
        fn(item)
    return len(items) / (time.perf_counter() - start)


def _paired(kit, anchor, kit_items, anchor_items) -> tuple[float, float]:
    """Operations per second of ``kit`` and of ``anchor``, timed call by call in alternation (the
    order swapped every call), so that whatever else the machine does hits both alike."""
    spent = [0.0, 0.0]
    for i, (a, b) in enumerate(zip(kit_items, anchor_items, strict=True)):
        order = ((0, kit, a), (1, anchor, b)) if i % 2 == 0 else ((1, anchor, b), (0, kit, a))
        for slot, fn, item in order:
            start = time.perf_counter()
            fn(item)
            spent[slot] += time.perf_counter() - start
    return len(kit_items) / spent[0], len(anchor_items) / spent[1]


def measure(rounds: int, batch: int) -> dict[str, list[float]]:
    private, public = he.generate_paillier_keypair(2048)
    plaintexts = [int(m) for m in np.random.default_rng(0).integers(-2**40, 2**40, size=batch)]
    ours = [public.encrypt(m) for m in plaintexts]
    vector = np.random.default_rng(1).uniform(-1, 1, size=75 * max(1, batch // 5))
    solo = {
        "kit key-holder encrypt": lambda: _rate(private.encrypt, plaintexts),
        "kit packed encrypt (numbers/s)": lambda: vector.size / _seconds(
            lambda: he.encrypt_packed(vector, public, bound=1.0, summands=1000)),
        "kit online encrypt, r^n precomputed": lambda: _online_rate(private, public, plaintexts),
    }
    samples: dict[str, list[float]] = {name: [] for name in
                                       ("kit encrypt", "kit decrypt", *solo, "phe encrypt", "phe decrypt")}
    if paillier is not None:
        phe_public = paillier.PaillierPublicKey(public.n)
        phe_private = paillier.PaillierPrivateKey(phe_public, private._p, private._q)
        theirs = [phe_public.encrypt(m) for m in plaintexts]
    for _ in range(rounds):
        if paillier is not None:
            for op, kit, anchor, kit_items, anchor_items in (
                    ("encrypt", public.encrypt, phe_public.encrypt, plaintexts, plaintexts),
                    ("decrypt", private.decrypt, phe_private.decrypt, ours, theirs)):
                kit_rate, anchor_rate = _paired(kit, anchor, kit_items, anchor_items)
                samples[f"kit {op}"].append(kit_rate)
                samples[f"phe {op}"].append(anchor_rate)
        else:
            samples["kit encrypt"].append(_rate(public.encrypt, plaintexts))
            samples["kit decrypt"].append(_rate(private.decrypt, ours))
        for name, fn in solo.items():
            samples[name].append(fn())
    return {name: values for name, values in samples.items() if values}


def _online_rate(private: he.PaillierPrivateKey, public: he.PaillierPublicKey,
                 plaintexts: list[int]) -> float:
    pool = he.Randomizers(private, len(plaintexts))     # offline: not timed
    return _rate(lambda m: public.encrypt(m, randomizers=pool), plaintexts)


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (well under 60 s)")
    args = parser.parse_args()
    rounds, batch = (5, 20) if args.quick else (15, 40)
    samples = measure(rounds, batch)
    print(f"Paillier, 2048-bit key, backend {he.BACKEND}; median of {rounds} rounds of {batch} operations")
    print(f"{'operation':<34} {'per second':>11}")
    for name, values in samples.items():
        print(f"{name:<34} {statistics.median(values):>11.1f}")
    if paillier is None:
        print("\nphe is not installed (pip install phe gmpy2, or the dev extra): no anchor, no FIGURE lines")
        return

    def ratio(kit: str, anchor: str) -> float:
        return statistics.median(k / a for k, a in zip(samples[kit], samples[anchor], strict=True))

    figures = {
        "paillier_encrypt_vs_phe": ratio("kit encrypt", "phe encrypt"),
        "paillier_decrypt_vs_phe": ratio("kit decrypt", "phe decrypt"),
        "paillier_keyholder_encrypt_vs_phe": ratio("kit key-holder encrypt", "phe encrypt"),
        "paillier_packed_numbers_vs_phe": ratio("kit packed encrypt (numbers/s)", "phe encrypt"),
    }
    print()
    for name, value in figures.items():
        print(f"FIGURE {name} {value:.2f}")


if __name__ == "__main__":
    main()
