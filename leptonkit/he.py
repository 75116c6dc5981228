"""Paillier encryption: add numbers while they stay encrypted (Paillier 1999).

Enc(a) · Enc(b) = Enc(a + b) and Enc(a)^k = Enc(k · a) modulo n²: whoever holds only the public
key can add ciphertexts and scale them by known integers, and only the private key's holder
reads the result. Neighbours: ``mpc`` computes a sum with shares instead; ``crypto`` encrypts
data at rest; ``fl`` can sum client updates with :func:`encrypted_sum`.

The primes p and q come from ``cryptography``'s RSA key generation (OpenSSL), not from a
prime search written here; the randomness r of each encryption from the OS CSPRNG
(``secrets``). What it does not defend: Paillier is malleable by design (anyone can add to a
ciphertext), so it gives no integrity — sign or MAC ciphertexts that must not change; it is
semi-honest only (the key holder decrypts whatever it is sent, sums or single values); and
this implementation is written for clarity, not against timing side channels.

No maintained Paillier library was chosen: ``phe`` (python-paillier) has had no release since
2021 and searches its own primes; the scheme is twenty lines and is the lesson itself.

Reference: P. Paillier, *Public-Key Cryptosystems Based on Composite Degree Residuosity
Classes*, EUROCRYPT 1999.
"""

from __future__ import annotations

import functools
import math
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.asymmetric import rsa

from ._checks import check_int

__all__ = ["PaillierCiphertext", "PaillierPrivateKey", "PaillierPublicKey", "aggregation_seconds",
           "cost_table", "decrypt_vector", "encrypt_vector", "encrypted_sum", "generate_paillier_keypair"]

MIN_BITS = 1024  # below this, n can be factored by anyone; 2048 (the default) is today's minimum
FIXED_POINT_SCALE = 2**16  # reals are encrypted as round(x · 2^16), as in mpc


@dataclass(frozen=True)
class PaillierPublicKey:
    """n = p·q; encryption uses g = n + 1, so g^m = 1 + m·n (mod n²) needs no exponentiation."""

    n: int

    @property
    def n_squared(self) -> int:
        return self.n * self.n

    @property
    def bits(self) -> int:
        return self.n.bit_length()

    def encrypt(self, plaintext: int) -> PaillierCiphertext:
        """Enc(m) = (1 + m·n) · r^n mod n² for a fresh random r; m may be negative (|m| < n/2)."""
        m = _plaintext(plaintext, self.n, "plaintext")
        r = secrets.randbelow(self.n - 1) + 1
        while math.gcd(r, self.n) != 1:   # happens only if r reveals a factor: probability ~2^-1023
            r = secrets.randbelow(self.n - 1) + 1
        return PaillierCiphertext(self, (1 + m * self.n) * pow(r, self.n, self.n_squared) % self.n_squared)

    def __repr__(self) -> str:
        return f"PaillierPublicKey({self.bits} bits)"


@dataclass(frozen=True, repr=False)
class PaillierPrivateKey:
    """The primes p and q, with the constants of CRT decryption; its repr shows none of them."""

    public: PaillierPublicKey
    _p: int
    _q: int

    def decrypt(self, ciphertext: PaillierCiphertext) -> int:
        """m = L(c^λ mod n²) · μ mod n, computed modulo p² and q² and recombined (Paillier 1999, §7).

        The result is read as signed: |m| < n/2.
        """
        if not isinstance(ciphertext, PaillierCiphertext):
            raise TypeError(f"ciphertext must be a PaillierCiphertext, got {type(ciphertext).__name__}")
        if ciphertext.public != self.public:
            raise ValueError("ciphertext was encrypted under a different public key")
        p, q, n = self._p, self._q, self.public.n
        mp = _l(pow(ciphertext.value, p - 1, p * p), p) * _h(p, n) % p
        mq = _l(pow(ciphertext.value, q - 1, q * q), q) * _h(q, n) % q
        m = (mq + q * ((mp - mq) * pow(q, -1, p) % p)) % n   # CRT: m ≡ mp (mod p), m ≡ mq (mod q)
        return m - n if m > n // 2 else m

    def __repr__(self) -> str:
        return f"PaillierPrivateKey({self.public.bits} bits, <hidden>)"


def _l(u: int, p: int) -> int:
    """Paillier's L function: (u − 1)/p, an exact division for u ≡ 1 (mod p)."""
    return (u - 1) // p


@functools.lru_cache(maxsize=16)
def _h(p: int, n: int) -> int:
    """h_p = L_p(g^(p−1) mod p²)⁻¹ mod p for g = n + 1."""
    return pow(_l(pow(n + 1, p - 1, p * p), p), -1, p)


@dataclass(frozen=True, repr=False)
class PaillierCiphertext:
    """A ciphertext: add another ciphertext or an int with ``+``, scale by an int with ``*``."""

    public: PaillierPublicKey
    value: int

    def __add__(self, other: Any) -> PaillierCiphertext:
        if isinstance(other, PaillierCiphertext):
            if other.public != self.public:
                raise ValueError("cannot add ciphertexts under different public keys")
            return PaillierCiphertext(self.public, self.value * other.value % self.public.n_squared)
        m = _plaintext(other, self.public.n, "other")     # Enc(a) · g^m = Enc(a + m)
        return PaillierCiphertext(self.public, self.value * (1 + m * self.public.n) % self.public.n_squared)

    __radd__ = __add__

    def __mul__(self, k: Any) -> PaillierCiphertext:
        k = _plaintext(k, self.public.n, "k")            # Enc(a)^k = Enc(k · a)
        return PaillierCiphertext(self.public, pow(self.value, k, self.public.n_squared))

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"PaillierCiphertext({self.public.bits}-bit key)"


def _plaintext(value: Any, n: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int (encode reals in fixed point first), "
                        f"got {type(value).__name__}")
    value = int(value)
    if abs(value) >= n // 2:
        raise ValueError(f"{name} must be in (-n/2, n/2) for this key, got a {value.bit_length()}-bit value")
    return value % n


def generate_paillier_keypair(bits: int = 2048) -> tuple[PaillierPrivateKey, PaillierPublicKey]:
    """A Paillier key pair whose modulus n = p·q has ``bits`` bits (>= 1024; 2048 by default).

    p and q are the primes of a fresh RSA key from ``cryptography``: equal length, so
    gcd(pq, (p − 1)(q − 1)) = 1, as Paillier's simple variant with g = n + 1 requires.
    """
    bits = check_int(bits, "bits", low=MIN_BITS)
    if bits % 256:
        raise ValueError(f"bits must be a multiple of 256 (1024, 2048, 3072 ...), got {bits}")
    numbers = rsa.generate_private_key(public_exponent=65537, key_size=bits).private_numbers()
    public = PaillierPublicKey(numbers.p * numbers.q)
    return PaillierPrivateKey(public, numbers.p, numbers.q), public


def encrypt_vector(values: Sequence[float] | np.ndarray, public: PaillierPublicKey, *,
                   scale: int = FIXED_POINT_SCALE) -> list[PaillierCiphertext]:
    """Encrypt each real of a vector as round(x · scale): one ciphertext (and one r^n) per number."""
    arr = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(arr)):
        raise ValueError("values must be finite (no NaN or infinity)")
    return [public.encrypt(round(float(x) * scale)) for x in arr]


def encrypted_sum(vectors: Sequence[Sequence[PaillierCiphertext]]) -> list[PaillierCiphertext]:
    """Elementwise sum of several encrypted vectors, computed without the private key."""
    if not vectors:
        raise ValueError("vectors must not be empty")
    lengths = {len(v) for v in vectors}
    if len(lengths) != 1:
        raise ValueError(f"vectors must all have one length, got lengths {sorted(lengths)}")
    return [sum(column[1:], column[0]) for column in zip(*vectors, strict=True)]


def decrypt_vector(ciphertexts: Sequence[PaillierCiphertext], private: PaillierPrivateKey, *,
                   scale: int = FIXED_POINT_SCALE) -> np.ndarray:
    """Decrypt a vector encrypted with :func:`encrypt_vector` (or a sum of such) back to reals."""
    return np.array([private.decrypt(c) / scale for c in ciphertexts])


def cost_table(bits: Sequence[int] = (1024, 2048, 3072), *, repeats: int = 3) -> dict[str, np.ndarray]:
    """Seconds per encryption, per homomorphic addition and per decryption, measured here per key size.

    The median of ``repeats`` timings of each operation, on one core of this machine.
    """
    repeats = check_int(repeats, "repeats", low=1)
    table: dict[str, list[float]] = {"bits": [], "encrypt": [], "add": [], "decrypt": []}
    for size in bits:
        private, public = generate_paillier_keypair(size)
        timings: dict[str, list[float]] = {"encrypt": [], "add": [], "decrypt": []}
        for i in range(repeats):
            start = time.perf_counter()
            c = public.encrypt(i + 1)
            timings["encrypt"].append(time.perf_counter() - start)
            start = time.perf_counter()
            total = c + c
            timings["add"].append(time.perf_counter() - start)
            start = time.perf_counter()
            private.decrypt(total)
            timings["decrypt"].append(time.perf_counter() - start)
        table["bits"].append(size)
        for op, values in timings.items():
            table[op].append(float(np.median(values)))
    return {k: np.array(v) for k, v in table.items()}


def aggregation_seconds(table: dict[str, np.ndarray], *, bits: int, values: int,
                        clients: int) -> dict[str, float]:
    """What encrypted aggregation of ``clients`` updates of ``values`` numbers costs, from a cost table.

    Each client encrypts its update (in parallel with the others), the server adds
    ``clients − 1`` ciphertexts per number, the key holder decrypts one ciphertext per number.
    """
    i = int(np.flatnonzero(table["bits"] == bits)[0])
    return {"each client encrypts": values * float(table["encrypt"][i]),
            "server adds": (clients - 1) * values * float(table["add"][i]),
            "key holder decrypts": values * float(table["decrypt"][i])}
