"""Secret sharing and secure aggregation: parties compute a sum that none of them sees.

Additive sharing over the ring Z_2^64 (numpy ``uint64``, whose wrap-around is the modulus),
fixed-point encoding of reals, Shamir's (t, n) threshold sharing over a prime field, Beaver's
multiplication with a trusted dealer, the secure aggregation protocol of Bonawitz et al., and
a meter of the rounds and bytes these protocols send (:func:`protocol_costs`).
Neighbours: ``he`` computes on ciphertexts instead of shares; ``fl`` can aggregate with
:func:`secure_aggregate`; ``crypto`` holds the ciphers these protocols borrow.

The protocols are the lesson, so they are written here, small and vectorised; every cipher,
key agreement and key derivation comes from ``cryptography``. They are **semi-honest**: every
party follows the protocol and only tries to learn from what it sees. None of them defends
against a party that sends wrong shares, a server that lies about who dropped out, or
collusion of ``threshold`` or more parties.

Randomness: shares, masks and seeds come from the OS CSPRNG when ``rng`` is None — an AES-256-CTR
keystream under a fresh ``os.urandom`` key (the construction of NIST SP 800-90A's CTR_DRBG),
because ``os.urandom`` alone is ten times slower than the sharing. An int seed or a
``numpy.random.Generator`` makes a lesson reproducible, and is for lessons only.

References
----------
A. Shamir, *How to Share a Secret*, CACM 1979. D. Beaver, *Efficient Multiparty Protocols
Using Circuit Randomization*, CRYPTO 1991. K. Bonawitz et al., *Practical Secure Aggregation
for Privacy-Preserving Machine Learning*, CCS 2017. J. H. Bell et al., *Secure Single-Server
Aggregation with (Poly)Logarithmic Overhead*, CCS 2020. B. Knott et al., *CrypTen*, NeurIPS 2021.
P. Mohassel and Y. Zhang, *SecureML*, IEEE S&P 2017.
"""

from __future__ import annotations

import functools
import math
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ._checks import RNG, check_int, check_real, lesson_generator
from .errors import InsufficientShares

__all__ = [
    "FRACTIONAL_BITS",
    "MAX_PARTIES",
    "MAX_SHARE_ELEMENTS",
    "PRIME",
    "VECTOR_PRIME",
    "BeaverTriple",
    "InsufficientShares",
    "SecureAggregation",
    "Share",
    "additive_reconstruct",
    "additive_share",
    "beaver_multiply",
    "beaver_triple",
    "consistent_secrets",
    "decode_fixed",
    "encode_fixed",
    "protocol_costs",
    "secure_aggregate",
    "secure_dot",
    "shamir_reconstruct",
    "shamir_share",
]

FRACTIONAL_BITS = 16      # as CrypTen: reals are stored as round(x · 2^16) in Z_2^64
PRIME = 2**127 - 1        # Mersenne prime: the field for Shamir sharing of integers
VECTOR_PRIME = 2**31 - 1  # Mersenne prime small enough that numpy int64 products never overflow
SEED_PRIME = 2**521 - 1   # Mersenne prime above every 256-bit key: the field for secure aggregation's seeds
_KNOWN_PRIMES = frozenset({PRIME, VECTOR_PRIME, SEED_PRIME})
_BLOCK = 1 << 16          # values per block when encoding: a float temporary that stays in cache
_ZEROS = memoryview(bytes(1 << 18))  # keystream plaintext: 256 KiB of zeros, reused, so it stays in cache
_SHARE_BLOCK = 1 << 16    # entries per column block of additive_share: the random rows are still in cache

#: The most parties (or clients) any protocol here takes: the work of Shamir sharing and of
#: secure aggregation's pairwise masks grows with its square.
MAX_PARTIES = 1000
#: The most ring or field elements one call may produce: parties × entries of the secret
#: (additive and Shamir shares, each part of a Beaver triple), 2^27 = 1 GiB of uint64.
MAX_SHARE_ELEMENTS = 2**27
_MAX_SHAMIR_WORK = 2**30   # threshold × parties × entries: the multiply-adds of a vector sharing
_MAX_MASK_ELEMENTS = 2**31  # secure aggregation: pairs × length, the pairwise mask stream (16 GiB of AES)


# --- randomness -------------------------------------------------------------------------------


def _random_bytes(n: int, rng: RNG) -> bytes:
    """n random bytes: a CSPRNG keystream when rng is None, else the lesson's reproducible generator."""
    if rng is None:
        return _keystream(os.urandom(32), n).tobytes()
    return lesson_generator(rng).bytes(n)


def _keystream_encryptor(key: bytes) -> Any:
    """The AES-256 counter-mode stream under ``key``, taken from ``cryptography``'s GCM encryptor.

    GCM's ciphertext is the plaintext XOR AES_K(inc32^i(J0)), i = 1, 2, … (NIST SP 800-38D,
    §6.5 GCTR and §7.1 step 5): with a zero plaintext and a 96-bit zero nonce it is exactly the
    AES-CTR keystream from the counter block 0^96 ‖ 0x00000002; the tag is never computed. GCM is
    used rather than ``modes.CTR`` only because OpenSSL's stitched AES-GCM code (VAES/AVX-512 where
    the CPU has it) runs about twice as fast as its CTR mode on this project's machines
    (``bench/mpc_bench.py``). GCM caps one stream at 2^36 − 32 bytes (64 GiB) and raises beyond.
    """
    return Cipher(algorithms.AES(key), modes.GCM(bytes(12))).encryptor()


def _stream_into(encryptor: Any, out: np.ndarray) -> None:
    """Write the next ``out.nbytes`` bytes of ``encryptor``'s keystream into contiguous ``out``.

    The plaintext is a shared block of zeros that stays in cache: no n-byte buffer is allocated,
    and no fresh pages are touched but the output's own.
    """
    view = out.reshape(-1).view(np.uint8)
    chunk = len(_ZEROS)
    for start in range(0, view.size, chunk):
        stop = min(start + chunk, view.size)
        encryptor.update_into(_ZEROS[:stop - start], view[start:stop])


def _keystream(key: bytes, n: int, out: np.ndarray | None = None) -> np.ndarray:
    """AES-256-CTR keystream: the PRG that expands a 32-byte seed into n pseudorandom bytes.

    Written into ``out`` (any contiguous array of n bytes) when given, else into a new uint8 array.
    The stream is the one of :func:`_keystream_encryptor` (the same key gives the same bytes).
    """
    out = np.empty(n, dtype=np.uint8) if out is None else out
    _stream_into(_keystream_encryptor(key), out)
    return out


def _random_ring(shape: tuple[int, ...], rng: RNG) -> np.ndarray:
    """Uniform elements of Z_2^64 with the given shape."""
    return _fill_random_ring(np.empty(shape, dtype=np.uint64), rng)


def _fill_random_ring(out: np.ndarray, rng: RNG) -> np.ndarray:
    """Fill a contiguous uint64 array with uniform elements of Z_2^64, in place."""
    if rng is None:
        return _keystream(os.urandom(32), out.nbytes, out)
    out[...] = np.frombuffer(lesson_generator(rng).bytes(out.nbytes), dtype=np.uint64).reshape(out.shape)
    return out


def _random_below(prime: int, rng: RNG) -> int:
    if rng is None:
        return secrets.randbelow(prime)
    # 64 bits more than the prime has: the modulo's bias is below 2^-64 (a lesson's generator only)
    return int.from_bytes(lesson_generator(rng).bytes(prime.bit_length() // 8 + 9), "big") % prime


def _random_field_array(shape: tuple[int, ...], rng: RNG) -> np.ndarray:
    """Uniform elements of Z_p, p = 2^31 − 1, as int64: 31 random bits, rejecting the one value p."""
    count = int(np.prod(shape, dtype=np.int64))
    out = np.empty(0, dtype=np.int64)
    while out.size < count:
        draw = np.frombuffer(_random_bytes(4 * (count - out.size + 8), rng), dtype=np.uint32)
        draw = (draw & np.uint32(VECTOR_PRIME)).astype(np.int64)
        out = np.concatenate([out, draw[draw != VECTOR_PRIME]])
    return out[:count].reshape(shape)


# --- additive sharing over Z_2^64 ---------------------------------------------------------------


def _as_array(values: Any, name: str) -> np.ndarray:
    if values is None or isinstance(values, (str, bytes, bytearray, memoryview, dict, set)):
        raise TypeError(f"{name} must be an integer or an integer array, got {type(values).__name__}")
    try:
        return np.asarray(values)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a rectangular integer array (not ragged or nested lists)") from None


def _ring_array(values: Any, name: str) -> np.ndarray:
    """Integers as elements of Z_2^64 (uint64); a negative value is taken modulo 2^64.

    Error messages name the dtype or a bit length, never a value: the input may be secret.
    """
    arr = _as_array(values, name)
    if arr.dtype == np.uint64:
        return arr
    if arr.dtype == object:   # Python ints that numpy could not fit in int64/uint64
        flat = arr.ravel()
        if flat.size and all(isinstance(x, int) and not isinstance(x, bool) for x in flat):
            if any(not -(2**63) <= x < 2**64 for x in flat):
                raise ValueError(f"{name} must hold integers of at most 64 bits (elements of Z_2^64, "
                                 f"or signed values from -2^63); some entry is wider")
            return np.array([x % 2**64 for x in flat], dtype=np.uint64).reshape(arr.shape)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integers (encode reals with mpc.encode_fixed first), "
                        f"got dtype {arr.dtype}")
    return arr.astype(np.int64).view(np.uint64)  # two's complement: -1 is 2^64 − 1


def _parties(n_parties: Any, name: str = "n_parties", *, low: int = 2) -> int:
    return check_int(n_parties, name, low=low, high=MAX_PARTIES)


def _check_elements(n_parties: int, size: int, what: str) -> None:
    if n_parties * size > MAX_SHARE_ELEMENTS:
        raise ValueError(f"{what} would hold n_parties × entries = {n_parties} × {size} = {n_parties * size} "
                         f"elements, more than MAX_SHARE_ELEMENTS = 2^27: share fewer entries or among "
                         f"fewer parties")


def additive_share(secret: Any, n_parties: int, *, rng: RNG = None) -> np.ndarray:
    """Split integers into ``n_parties`` additive shares over Z_2^64.

    Parameters
    ----------
    secret
        An int or an integer array (negative values are taken modulo 2^64); reals must be
        encoded first with :func:`encode_fixed`.
    n_parties
        How many shares, in [2, MAX_PARTIES]; n_parties × secret.size must be at most
        :data:`MAX_SHARE_ELEMENTS` (2^27).
    rng
        None (OS CSPRNG) or a seed for a reproducible lesson.

    Returns
    -------
    numpy.ndarray
        ``uint64`` array of shape ``(n_parties, *secret.shape)``. Any ``n_parties − 1`` of the
        shares are independent and uniform over Z_2^64: on their own they say nothing.

    Example
    -------
    >>> shares = additive_share(np.array([7, -3]), 3, rng=0)
    >>> additive_reconstruct(shares).astype(np.int64).tolist()
    [7, -3]
    """
    n_parties, rng = _parties(n_parties), lesson_generator(rng)
    if type(secret) is np.ndarray and secret.dtype == np.int64:   # common case: a view, not a copy
        value = secret.view(np.uint64)                              # two's complement, as _ring_array
    else:
        value = _ring_array(secret, "secret")
    _check_elements(n_parties, value.size, "the shares")
    shares = np.empty((n_parties, *value.shape), dtype=np.uint64)
    if rng is not None or value.size < _SHARE_BLOCK:   # a lesson's seed draws as before; small: one call
        _fill_random_ring(shares[1:], rng)
        np.subtract(value, shares[1:].sum(axis=0, dtype=np.uint64), out=shares[0, ...])  # wraps mod 2^64
        return shares
    # OS CSPRNG: column block by column block, so that shares 1 … n−1 of a block are still in cache
    # when share 0 = secret − their sum is formed (one pass over memory instead of two)
    rows, flat = shares.reshape(n_parties, -1), value.reshape(-1)
    encryptor = _keystream_encryptor(os.urandom(32))
    for start in range(0, flat.size, _SHARE_BLOCK):
        stop = min(start + _SHARE_BLOCK, flat.size)
        first = rows[0, start:stop]
        for party in range(1, n_parties):
            _stream_into(encryptor, rows[party, start:stop])
        np.subtract(flat[start:stop], rows[1, start:stop], out=first)   # wraps mod 2^64
        for party in range(2, n_parties):
            np.subtract(first, rows[party, start:stop], out=first)
    return shares


def additive_reconstruct(shares: Any) -> np.ndarray:
    """The secret: the sum of all shares modulo 2^64 (``uint64``; see :func:`decode_fixed`)."""
    arr = _ring_array(shares, "shares")
    if arr.ndim == 0 or arr.shape[0] < 2:
        raise ValueError(f"shares must have a first axis of at least 2 parties, got shape {arr.shape}")
    if arr.size < arr.shape[0] * _SHARE_BLOCK or not arr.flags.c_contiguous:
        return arr.sum(axis=0, dtype=np.uint64)
    # large: block by block, so each block of the sum stays in cache while every party's row is
    # added to it (numpy's axis-0 sum would stream the whole sum through memory once per party)
    rows = arr.reshape(arr.shape[0], -1)
    total = np.empty(rows.shape[1], dtype=np.uint64)
    for start in range(0, rows.shape[1], _SHARE_BLOCK):
        stop = min(start + _SHARE_BLOCK, rows.shape[1])
        block = total[start:stop]
        np.add(rows[0, start:stop], rows[1, start:stop], out=block)   # wraps mod 2^64
        for party in range(2, rows.shape[0]):
            np.add(block, rows[party, start:stop], out=block)
    return total.reshape(arr.shape[1:])


def encode_fixed(values: Any, *, summands: int = 1, fractional_bits: int = FRACTIONAL_BITS) -> np.ndarray:
    """Encode reals as fixed-point elements of Z_2^64: round(x · 2^fractional_bits).

    ``summands`` says how many encoded values will be added together; every value must be
    small enough that such a sum stays inside the signed range (−2^63, 2^63), so overflow is
    refused here with a ``ValueError`` instead of wrapping silently later.
    """
    summands = check_int(summands, "summands", low=1, high=2**62)
    fractional_bits = check_int(fractional_bits, "fractional_bits", low=0, high=32)
    arr = _as_array(values, "values")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"values must be numeric (an array of real numbers), got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    # max and min propagate NaN and infinity, so one pass each checks finiteness and range
    largest = max(float(arr.max()), -float(arr.min())) if arr.size else 0.0
    if not math.isfinite(largest):
        raise ValueError("values must be finite (no NaN or infinity)")
    limit = 2.0 ** (63 - fractional_bits) / summands
    if largest >= limit:  # the values are secret: the message gives only a magnitude in bits
        raise ValueError(f"values must lie in (-{limit:.6g}, {limit:.6g}) so that a sum of {summands} "
                         f"fixed-point values cannot overflow Z_2^64; the largest |x| needs "
                         f"{math.frexp(largest)[1]} integer bits")
    # Block by block, so the float temporary stays small: fresh memory for a full-size temporary
    # (page faults) costs more than the arithmetic itself.
    flat, out = arr.reshape(-1), np.empty(arr.size, dtype=np.int64)
    for start in range(0, flat.size, _BLOCK):
        block = flat[start:start + _BLOCK] * 2.0**fractional_bits
        out[start:start + _BLOCK] = np.rint(block, out=block)
    return out.reshape(arr.shape).view(np.uint64)


def decode_fixed(encoded: Any, *, fractional_bits: int = FRACTIONAL_BITS) -> np.ndarray:
    """Reals from fixed-point ring elements: the signed value divided by 2^fractional_bits.

    A product of two encoded values carries twice the fractional bits: decode it with
    ``fractional_bits=2 * FRACTIONAL_BITS``.
    """
    fractional_bits = check_int(fractional_bits, "fractional_bits", low=0, high=62)
    return _ring_array(encoded, "encoded").view(np.int64) / 2.0**fractional_bits


# --- Shamir (t, n) sharing over a prime field ---------------------------------------------------


@dataclass(frozen=True, repr=False)
class Share:
    """One party's Shamir share: the point (x, y) of a random polynomial of degree threshold − 1.

    ``y`` is an int, or an int64 array for a vector secret. ``sharing`` identifies the sharing
    the share came from, so shares of different secrets are never mixed by mistake. The repr
    hides ``y``: a share is secret material.
    """

    x: int
    y: Any
    threshold: int
    prime: int
    sharing: int = field(default=0)

    def __repr__(self) -> str:
        return (f"Share(x={self.x}, threshold={self.threshold}, prime_bits={self.prime.bit_length()}, "
                "y=<hidden>)")


def _check_prime(prime: Any) -> int:
    prime = check_int(prime, "prime", low=3)
    if prime not in _KNOWN_PRIMES and not _is_prime_below_2_64(prime):
        shown = prime if prime < 2**64 else f"an int of {prime.bit_length()} bits"
        raise ValueError(f"prime must be a prime below 2^64 or one of 2^31-1, 2^127-1, 2^521-1; got {shown}")
    return prime


def _field_name(prime: int) -> str:
    names = {PRIME: "2^127 - 1", VECTOR_PRIME: "2^31 - 1", SEED_PRIME: "2^521 - 1"}
    return names.get(prime, str(prime))


def _is_prime_below_2_64(n: int) -> bool:
    """Deterministic Miller–Rabin for n < 2^64 (these twelve bases suffice, Jaeschke 1993)."""
    if n >= 2**64:
        return False
    bases = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)
    if n in bases:
        return True
    if n < 2 or any(n % b == 0 for b in bases):
        return False
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for a in bases:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def shamir_share(secret: Any, *, threshold: int, n_parties: int, prime: int | None = None,
                 rng: RNG = None) -> list[Share]:
    """Shamir's (t, n) sharing: any ``threshold`` shares reconstruct, fewer reveal nothing.

    Parameters
    ----------
    secret
        An int in [0, prime), or an integer array with entries in [0, VECTOR_PRIME) (the
        vectorised path: one random polynomial per entry, evaluated for all entries at once).
        A 128-bit key exceeds the default prime half of the time: share it with
        ``prime=SEED_PRIME`` (2^521 − 1). Error messages give its bit length, never its value.
    threshold, n_parties
        t and n, with 1 <= t <= n and 2 <= n <= MAX_PARTIES. For an array secret,
        n × size must be at most :data:`MAX_SHARE_ELEMENTS` and t × n × size at most 2^30.
    prime
        The field; defaults to 2^127 − 1 for an int and 2^31 − 1 for an array.
    rng
        None (OS CSPRNG) or a seed for a reproducible lesson.

    Returns
    -------
    list of Share
        Share i is the polynomial evaluated at x = i + 1 (x = 0 is the secret itself).

    Example
    -------
    >>> shares = shamir_share(42, threshold=2, n_parties=3, rng=0)
    >>> shamir_reconstruct(shares[1:])
    42
    """
    n_parties = _parties(n_parties)
    threshold = check_int(threshold, "threshold", low=1, high=n_parties)
    vector, rng = isinstance(secret, np.ndarray) and secret.ndim > 0, lesson_generator(rng)
    prime = _check_prime(prime if prime is not None else (VECTOR_PRIME if vector else PRIME))
    sharing = secrets.randbits(63)
    if vector:
        return _shamir_share_array(secret, threshold, n_parties, prime, sharing, rng)
    if isinstance(secret, (bool, np.bool_)) or not isinstance(secret, (int, np.integer)):
        raise TypeError(f"secret must be an int or an integer array, got {type(secret).__name__}")
    secret = int(secret)
    if not 0 <= secret < prime:   # the secret itself never appears in the message
        got = ("a negative int" if secret < 0 else
               f"an int of {secret.bit_length()} bits, at or above the prime")
        raise ValueError(f"secret must be in [0, prime) for prime = {_field_name(prime)} "
                         f"({prime.bit_length()} bits), got {got}: reduce it modulo the prime, split it, "
                         f"or share it in a larger field (prime=mpc.SEED_PRIME holds up to 520 bits)")
    if n_parties >= prime:
        raise ValueError(f"n_parties must be below prime ({prime}), got {n_parties}")
    coefficients = [secret] + [_random_below(prime, rng) for _ in range(threshold - 1)]
    xs = np.arange(1, n_parties + 1).astype(object)
    ys = np.zeros(n_parties, dtype=object)
    for c in reversed(coefficients):          # Horner, for all n points at once
        ys = (ys * xs + c) % prime
    return [Share(i + 1, int(y), threshold, prime, sharing) for i, y in enumerate(ys)]


def _shamir_share_array(secret: np.ndarray, threshold: int, n_parties: int, prime: int, sharing: int,
                        rng: RNG) -> list[Share]:
    if prime != VECTOR_PRIME:
        raise ValueError(f"prime must be VECTOR_PRIME (2^31 - 1) for array secrets, got {prime}")
    if secret.dtype == object or not np.issubdtype(secret.dtype, np.integer):
        raise TypeError(f"secret must hold integers, got dtype {secret.dtype}")
    _check_elements(n_parties, secret.size, "the shares")
    if threshold * n_parties * secret.size > _MAX_SHAMIR_WORK:
        raise ValueError(f"threshold × n_parties × secret.size must be at most 2^30 (the sharing's "
                         f"multiply-adds), got {threshold} × {n_parties} × {secret.size}")
    if secret.min() < 0 or secret.max() >= prime:   # compared before any cast, which could wrap
        raise ValueError(f"secret's entries must be in [0, VECTOR_PRIME) = [0, 2^31 - 1); some of the "
                         f"{secret.size} entries (shape {secret.shape}) are outside it")
    values = secret.astype(np.int64)
    coefficients = _random_field_array((threshold - 1, *values.shape), rng)
    shares = []
    for x in range(1, n_parties + 1):
        y = np.zeros_like(values)
        for c in coefficients[::-1]:
            y = (y * x + c) % prime           # < 2^31 · 2^8 + 2^31: far inside int64
        shares.append(Share(x, (y * x + values) % prime, threshold, prime, sharing))
    return shares


@functools.lru_cache(maxsize=64)
def _lagrange_at_zero(xs: tuple[int, ...], prime: int) -> list[int]:
    """λ_i with f(0) = Σ λ_i f(x_i) for any polynomial of degree < len(xs) over Z_prime."""
    lambdas = []
    for i, xi in enumerate(xs):
        num = den = 1
        for j, xj in enumerate(xs):
            if j != i:
                num, den = num * -xj % prime, den * (xi - xj) % prime
        lambdas.append(num * pow(den, -1, prime) % prime)
    return lambdas


def shamir_reconstruct(shares: list[Share]) -> Any:
    """The secret, by Lagrange interpolation at 0 from at least ``threshold`` shares.

    Raises
    ------
    InsufficientShares
        With fewer shares than the threshold: the secret is then undetermined.
    ValueError
        For shares from different sharings, or two shares with the same x.
    TypeError
        If an element is not a :class:`Share`.
    """
    if isinstance(shares, (str, bytes, Share)) or not isinstance(shares, Iterable):
        raise TypeError(f"shares must be a list of Share objects, got {type(shares).__name__}")
    shares = list(shares)
    if not shares:
        raise InsufficientShares("shares is empty: at least threshold shares are needed")
    if not all(isinstance(s, Share) for s in shares):
        raise TypeError("shares must be Share objects from shamir_share")
    first = shares[0]
    origin = (first.sharing, first.threshold, first.prime)
    if any((s.sharing, s.threshold, s.prime) != origin for s in shares):
        raise ValueError("shares come from different sharings (their sharing id, threshold or prime differ)")
    xs = [s.x for s in shares]
    if len(set(xs)) != len(xs):
        raise ValueError(f"shares must have distinct x; got x = {sorted(xs)}")
    if len(shares) < first.threshold:
        raise InsufficientShares(f"{len(shares)} shares given, the threshold is {first.threshold}")
    used = shares[:first.threshold]   # any t points fix a polynomial of degree t − 1
    lambdas = _lagrange_at_zero(tuple(s.x for s in used), first.prime)
    if isinstance(first.y, np.ndarray):
        total = np.zeros_like(first.y)
        for lam, s in zip(lambdas, used, strict=True):
            total = (total + s.y * lam % first.prime) % first.prime
        return total
    return sum(lam * s.y for lam, s in zip(lambdas, used, strict=True)) % first.prime


def consistent_secrets(shares: list[Share], *, threshold: int, prime: int) -> np.ndarray:
    """For each candidate secret, how many polynomials agree with ``shares`` — counted, not assumed.

    Brute force over every polynomial of degree < ``threshold`` in a tiny field: with fewer than
    ``threshold`` shares every candidate is consistent with equally many polynomials (the shares
    say nothing), with ``threshold`` or more exactly one candidate remains.

    Returns
    -------
    numpy.ndarray
        ``counts[s]`` for s in [0, prime).
    """
    threshold = check_int(threshold, "threshold", low=1, high=64)   # 3^13 > 1e6 already
    prime = _check_prime(prime)
    if prime > 10**6:
        raise ValueError(f"prime must be at most 1e6 to count every candidate secret, got {prime}")
    # compared in logarithms first, so that a huge threshold never computes prime ** threshold
    if (threshold - 1) * math.log(prime) > math.log(10**6) + 1e-9 or prime ** (threshold - 1) > 10**6:
        raise ValueError(f"threshold must make prime ** (threshold - 1) at most 1e6 to enumerate, got "
                         f"threshold={threshold} with prime={prime}")
    if isinstance(shares, (str, bytes, Share)) or not isinstance(shares, Iterable):
        raise TypeError(f"shares must be a list of Share objects, got {type(shares).__name__}")
    shares = list(shares)
    if not all(isinstance(s, Share) and isinstance(s.y, int) for s in shares):
        raise TypeError("shares must be scalar Share objects from shamir_share")
    if any(s.prime != prime or s.threshold != threshold for s in shares):
        raise ValueError("shares must come from a sharing with this threshold and prime")
    # Every (a_1, ..., a_{t-1}); the first share then fixes the secret a_0, the others must agree.
    grid = (np.indices((prime,) * (threshold - 1)).reshape(threshold - 1, -1).T if threshold > 1
            else np.zeros((1, 0), dtype=np.int64))
    if not shares:
        return np.full(prime, len(grid), dtype=np.int64)
    powers = {s.x: np.array([pow(s.x, j, prime) for j in range(1, threshold)], dtype=np.int64)
              for s in shares}
    first = shares[0]
    secret = (first.y - grid @ powers[first.x]) % prime
    agrees = np.ones(len(grid), dtype=bool)
    for share in shares[1:]:
        agrees &= (secret + grid @ powers[share.x]) % prime == share.y
    return np.bincount(secret[agrees], minlength=prime)


# --- Beaver multiplication -------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class BeaverTriple:
    """Additive shares of random a, b and c = a·b in Z_2^64, dealt by a trusted dealer.

    **Single-use.** The openings of a multiplication are d = x − a and e = y − b; a second
    multiplication with the same triple opens d′ = x′ − a, and d − d′ = x − x′ (likewise for
    y): everyone learns the difference of two secrets. (Triples and their one-time use: Evans,
    Kolesnikov & Rosulek, *A Pragmatic Introduction to Secure MPC*, 2018, §3.4.) The kit's
    protocols draw a fresh triple for every product; code that calls :func:`beaver_multiply`
    itself must do the same.
    """

    a: np.ndarray
    b: np.ndarray
    c: np.ndarray

    def __repr__(self) -> str:
        return f"BeaverTriple(parties={self.a.shape[0]}, shape={self.a.shape[1:]}, shares=<hidden>)"


def _shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, (bool, np.bool_)):
        shape = (shape,)
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Iterable):
        raise TypeError(f"shape must be an int or a tuple of ints, got {type(shape).__name__}")
    return tuple(check_int(n, "shape", low=0, high=MAX_SHARE_ELEMENTS) for n in shape)


def beaver_triple(shape: tuple[int, ...] | int, n_parties: int, *, rng: RNG = None) -> BeaverTriple:
    """A trusted dealer's triple: shares of uniform a, b and of c = a·b (elementwise, mod 2^64).

    ``shape`` is an int or a tuple of ints; n_parties × its size is bounded as in
    :func:`additive_share`. One triple serves one multiplication (see :class:`BeaverTriple`).
    """
    shape, n_parties, rng = _shape(shape), _parties(n_parties), lesson_generator(rng)
    _check_elements(n_parties, math.prod(shape), "each part of the triple")
    a, b = _random_ring(shape, rng), _random_ring(shape, rng)
    return BeaverTriple(additive_share(a, n_parties, rng=rng), additive_share(b, n_parties, rng=rng),
                        additive_share(a * b, n_parties, rng=rng))


def beaver_multiply(x_shares: np.ndarray, y_shares: np.ndarray,
                    triple: BeaverTriple) -> dict[str, np.ndarray]:
    """Shares of x·y from shares of x and y, using one triple (Beaver 1991), step by step.

    The parties open the masked inputs d = x − a and e = y − b (uniform, because a and b are:
    they reveal nothing about x and y); then party i holds z_i = c_i + d·b_i + e·a_i, and party
    0 adds d·e. Σ z_i = ab + (x − a)b + (y − b)a + (x − a)(y − b) = xy. (The letters d and e,
    not the ε and δ of some texts, so as not to clash with differential privacy's.)

    The triple must be fresh: reusing it for x′ opens d′ with d − d′ = x − x′ (see
    :class:`BeaverTriple`). One call is one round of communication: every party sends its
    shares of d and e to every other.

    Fixed point: no truncation. The product of two values encoded with f fractional bits has
    2f (decode it with ``fractional_bits=2 * FRACTIONAL_BITS``); the kit's products are of
    depth one (a dot product, then sums), so the 64-bit ring has room for |x·y| < 2^31. A
    deeper circuit must divide by 2^f after each product, as CrypTen does (Knott et al. 2021):
    a local division of the shares for two parties (Mohassel & Zhang, SecureML, 2017, §IV-A),
    a correction for the shares' wrap-arounds for more.

    Returns
    -------
    dict
        ``"d"`` and ``"e"`` (the opened, masked inputs everyone saw) and ``"z"`` (the shares of x·y).
    """
    if not isinstance(triple, BeaverTriple):
        raise TypeError(f"triple must be a BeaverTriple from mpc.beaver_triple, got {type(triple).__name__}")
    x_shares, y_shares = _ring_array(x_shares, "x_shares"), _ring_array(y_shares, "y_shares")
    if x_shares.ndim == 0 or x_shares.shape[0] < 2:
        raise ValueError(f"x_shares must have a first axis of at least 2 parties, got shape {x_shares.shape}")
    if not x_shares.shape == y_shares.shape == triple.a.shape:
        raise ValueError(f"x_shares, y_shares and the triple must have one shape; got {x_shares.shape}, "
                         f"{y_shares.shape} and {triple.a.shape}")
    with np.errstate(over="ignore"):                      # arithmetic mod 2^64: wrapping is the point
        d = additive_reconstruct(x_shares - triple.a)   # opened: every party learns d = x − a
        e = additive_reconstruct(y_shares - triple.b)   # and e = y − b
        z = triple.c + d * triple.b + e * triple.a
        z[0] += d * e
    return {"d": d, "e": e, "z": z}


def secure_dot(x_shares: np.ndarray, y_shares: np.ndarray, *, rng: RNG = None) -> np.ndarray:
    """Shares of the dot product of two shared vectors (last axis): elementwise Beaver, then local sums.

    ``x_shares`` and ``y_shares`` have one shape ``(n_parties, ..., length)``: axis 0 is the
    parties, the last axis the vectors. The result is one share per party, shape
    ``(n_parties, ...)``. For fixed-point inputs it carries 2·FRACTIONAL_BITS fractional bits.
    """
    x_shares, y_shares = _ring_array(x_shares, "x_shares"), _ring_array(y_shares, "y_shares")
    if x_shares.ndim < 2:   # a 1-d array is one shared scalar: summing it would open the product
        raise ValueError(f"x_shares must have shape (n_parties, ..., length): a vector axis after the "
                         f"parties' axis, got shape {x_shares.shape} (share a vector, not a scalar)")
    if x_shares.shape != y_shares.shape:
        raise ValueError(f"x_shares and y_shares must have one shape, got {x_shares.shape} and "
                         f"{y_shares.shape}")
    triple = beaver_triple(x_shares.shape[1:], x_shares.shape[0], rng=rng)
    return beaver_multiply(x_shares, y_shares, triple)["z"].sum(axis=-1, dtype=np.uint64)


# --- secure aggregation (Bonawitz et al. 2017) ------------------------------------------------


@dataclass(frozen=True)
class SecureAggregation:
    """What :func:`secure_aggregate` computed, and what the server saw on the way.

    Attributes
    ----------
    total
        The sum of the survivors' updates (decoded reals).
    masked
        The masked vectors the server received from the survivors, as fixed-point ring
        elements: ``masked[i]`` came from client ``survivors[i]``; each looks uniformly random.
    survivors, dropped
        Client indices.
    threshold
        Shares needed to recover a client's seeds.
    """

    total: np.ndarray
    masked: np.ndarray
    survivors: list[int]
    dropped: list[int]
    threshold: int


def _private_int(key: x25519.X25519PrivateKey) -> int:
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    return int.from_bytes(raw, "big")


def _pair_mask(private: x25519.X25519PrivateKey, peer: x25519.X25519PublicKey, out: np.ndarray) -> np.ndarray:
    """PRG(KA(s_u, s_v)) into ``out``: X25519 agreement, HKDF-SHA256 to a 32-byte seed, AES-CTR expansion."""
    shared = private.exchange(peer)
    seed = HKDF(hashes.SHA256(), 32, salt=None, info=b"leptonkit secure aggregation").derive(shared)
    return _keystream(seed, out.nbytes, out)


def _self_mask(seed: int, out: np.ndarray) -> np.ndarray:
    """PRG(b_u) into ``out``."""
    return _keystream(seed.to_bytes(32, "big"), out.nbytes, out)


def _client_indices(dropouts: Any, n: int) -> list[int]:
    """``dropouts`` — one index or any collection of them (set, list, range, array) — sorted, unique."""
    if isinstance(dropouts, (int, np.integer)) and not isinstance(dropouts, bool):
        dropouts = [dropouts]
    elif isinstance(dropouts, np.ndarray):
        dropouts = dropouts.ravel().tolist()
    elif isinstance(dropouts, (str, bytes)) or not isinstance(dropouts, Iterable):
        raise TypeError(f"dropouts must be a client index or a collection of them, "
                        f"got {type(dropouts).__name__}")
    return sorted({check_int(d, "dropouts", low=0, high=n - 1) for d in dropouts})


def secure_aggregate(updates: Any, *, dropouts: Any = (), threshold: int | None = None,
                     rng: RNG = None) -> SecureAggregation:
    """Sum the clients' vectors so that the server learns the sum and nothing else (Bonawitz et al. 2017).

    Each client u encodes its update in fixed point and adds two kinds of mask:

    - a **pairwise** mask for every other client v, PRG(s_uv), added when u < v and subtracted
      when u > v, where s_uv comes from an X25519 key agreement — all pairwise masks cancel in
      the sum;
    - a **self** mask PRG(b_u) from a random seed b_u.

    Before masking, each client Shamir-shares its X25519 private key and b_u among all clients
    (threshold t). A client in ``dropouts`` vanishes after sharing but before sending its masked
    vector, so its pairwise masks no longer cancel. The server then asks the survivors for
    shares: for a dropped client, of its private key (to recompute and remove its pairwise masks
    with every survivor); for a survivor, of b_u (to remove the self mask). It never asks for
    both of one client, which is what keeps a late client's update hidden.

    Parameters
    ----------
    updates
        Array of shape (n_clients, length): one real vector per client, n_clients >= 3.
    dropouts
        The clients that drop out after sharing their seeds: one index or any collection of
        them (a set, list, range or array).
    threshold
        Shares needed to recover a seed; default a majority, ⌊n/2⌋ + 1.
    rng
        None (OS CSPRNG) or a seed for a reproducible lesson.

    Returns
    -------
    SecureAggregation
        ``.total`` is exactly the fixed-point sum of the survivors' updates.

    Raises
    ------
    InsufficientShares
        If fewer than ``threshold`` clients survive: no seed can be recovered.

    Notes
    -----
    Simplified relative to the paper: the clients run in one process, so there is no network,
    no authenticated encryption of the shares between clients (the paper encrypts them under
    a second key agreement and signs the keys in the malicious model), no consistency check
    round, and the pairwise masks of each pair are expanded once and used by both clients (in a
    deployment each expands the same seed itself). Semi-honest server and clients only.
    """
    values = _as_array(updates, "updates")
    if values.dtype.kind not in "biuf":
        raise TypeError(f"updates must be a numeric array of shape (n_clients, length), "
                        f"got dtype {values.dtype}")
    values = values.astype(np.float64, copy=False)
    if values.ndim != 2 or values.shape[0] < 3 or values.shape[1] < 1:
        raise ValueError(f"updates must have shape (n_clients >= 3, length >= 1), got {values.shape}")
    n, length = values.shape
    if n > MAX_PARTIES:
        raise ValueError(f"updates must come from at most MAX_PARTIES = {MAX_PARTIES} clients, got {n}")
    mask_elements = n * (n - 1) // 2 * length
    if mask_elements > _MAX_MASK_ELEMENTS:
        raise ValueError(f"updates of shape {values.shape} need n(n-1)/2 × length = {mask_elements} pairwise "
                         f"mask elements, more than 2^31: aggregate fewer clients or shorter vectors")
    threshold = check_int(n // 2 + 1 if threshold is None else threshold, "threshold", low=2, high=n)
    dropped = _client_indices(dropouts, n)
    survivors = [u for u in range(n) if u not in set(dropped)]
    if len(survivors) < threshold:
        raise InsufficientShares(f"{len(survivors)} clients survive, the threshold is {threshold}")
    encoded = encode_fixed(values, summands=n)
    rand = lesson_generator(rng)

    # Round 0-1: keys, seeds, and their Shamir shares (share j of client u goes to client j).
    keys = [x25519.X25519PrivateKey.from_private_bytes(_random_bytes(32, rand)) for _ in range(n)]
    publics = [k.public_key() for k in keys]
    self_seeds = [int.from_bytes(_random_bytes(32, rand), "big") for _ in range(n)]
    key_shares = [shamir_share(_private_int(k), threshold=threshold, n_parties=n, prime=SEED_PRIME, rng=rand)
                  for k in keys]
    seed_shares = [shamir_share(b, threshold=threshold, n_parties=n, prime=SEED_PRIME, rng=rand)
                   for b in self_seeds]

    # Round 2: the survivors mask and send (dropped clients never send).
    row = {u: i for i, u in enumerate(survivors)}             # survivor u's row in `masked`
    masked = encoded[survivors]
    mask = np.empty(length, dtype=np.uint64)                  # one buffer, reused for every mask
    for u in survivors:
        masked[row[u]] += _self_mask(self_seeds[u], mask)
    for u in range(n):
        for v in range(u + 1, n):
            if u in row or v in row:
                _pair_mask(keys[u], publics[v], mask)
                if u in row:
                    masked[row[u]] += mask
                if v in row:
                    masked[row[v]] -= mask

    # Round 3: the server sums what arrived and removes the masks that did not cancel.
    total = masked.sum(axis=0, dtype=np.uint64)
    for u in survivors:
        b_u = shamir_reconstruct([seed_shares[u][j] for j in survivors])
        total -= _self_mask(b_u, mask)
    for u in dropped:
        raw = shamir_reconstruct([key_shares[u][j] for j in survivors]).to_bytes(32, "big")
        recovered = x25519.X25519PrivateKey.from_private_bytes(raw)
        for v in survivors:     # the smaller index added PRG(s_uv), the larger subtracted it: undo v's part
            _pair_mask(recovered, publics[v], mask)
            if v < u:
                total -= mask
            else:
                total += mask
    return SecureAggregation(total=decode_fixed(total), masked=masked, survivors=survivors, dropped=dropped,
                             threshold=threshold)


# --- what the protocols cost on a network ------------------------------------------------------

_RING_BYTES = 8                                   # one element of Z_2^64
_PUBLIC_KEY_BYTES = 32                            # a raw X25519 public key (RFC 7748)
_SEED_SHARE_BYTES = (SEED_PRIME.bit_length() + 7) // 8   # 66: one Shamir share of a 256-bit seed


def _secagg_cost(n: int, peers: int, length: int) -> dict[str, int]:
    """One client of secure aggregation that shares its seeds with ``peers`` others (Bonawitz: n − 1)."""
    sent = (_PUBLIC_KEY_BYTES                     # round 0, AdvertiseKeys: its X25519 public key
            + 2 * peers * _SEED_SHARE_BYTES       # round 1, ShareKeys: a share of its key and of b_u per peer
            + length * _RING_BYTES                # round 2, MaskedInputCollection: the masked vector
            + peers * _SEED_SHARE_BYTES)          # round 3, Unmasking: one share per peer
    received = peers * _PUBLIC_KEY_BYTES + 2 * peers * _SEED_SHARE_BYTES
    return {"rounds": 4, "bytes_per_party": sent + received, "total_bytes": n * (sent + received),
            "key_agreements": n * peers // 2}


def protocol_costs(*, n_parties: int, length: int, depth: int = 1, neighbours: int | None = None,
                   rtt_ms: float = 50.0, mbit_per_s: float = 100.0) -> dict[str, dict[str, float]]:
    """Rounds, bytes and wall time of the kit's protocols on a network: the meter of notebook 06.

    Counted from the messages each protocol sends, with the sizes the kit uses: 8 bytes per
    element of Z_2^64, 32 per X25519 public key, 66 per Shamir share of a seed (the field
    2^521 − 1). No dropouts; headers and authenticated encryption are left out.

    - ``"additive sum"`` (exercise 06.1): each party sends a share of its vector to every
      other (round 1), then its partial sum to the collector (round 2).
    - ``"Beaver products"``: ``depth`` layers of ``length`` products on shared inputs (a dot
      product is depth 1), each layer one round in which every party sends its shares of the
      openings d and e to every other, and a last round that opens the result to one party.
      The dealer's triples (``offline_bytes``) travel before the inputs exist.
    - ``"secure aggregation"`` (Bonawitz et al. 2017, as :func:`secure_aggregate` runs it):
      four rounds — AdvertiseKeys, ShareKeys, MaskedInputCollection, Unmasking — through the
      server; each client shares its seeds with all n − 1 others: n(n − 1)/2 key agreements
      in all, O(n + length) bytes per client (the paper's Table 1).
    - ``"SecAgg+"`` (Bell et al. 2020): the same four rounds, but each client pairs with only
      ``neighbours`` = k others in a sparse random graph, k of order log n (the paper's
      polylogarithmic cost); by default k = min(n − 1, 2⌈log₂ n⌉), an illustration — the paper
      sets k from the tolerated fractions of dropped and corrupt clients.

    Parameters
    ----------
    n_parties
        Parties (or clients), in [3, MAX_PARTIES].
    length
        Entries of each party's vector, in [1, 10^9].
    depth
        Multiplicative depth of the Beaver circuit, in [1, 1000].
    neighbours
        SecAgg+'s k, in [1, n_parties − 1], or None for the default above.
    rtt_ms
        Round-trip time of the network in milliseconds, in [0, 10^5] (a LAN is below 1, a WAN
        between continents 100–300).
    mbit_per_s
        Each party's bandwidth in megabits per second, in (0, 10^6].

    Returns
    -------
    dict
        For each protocol: ``rounds``, ``bytes_per_party`` (sent plus received by one party),
        ``total_bytes`` (every message once), ``key_agreements`` (for the sums and products:
        the pairwise secure channels the shares travel on), ``offline_bytes`` and
        ``seconds`` = rounds × rtt + bytes_per_party × 8 / bandwidth: latency grows with the
        rounds, transfer time with the bytes.

    Example
    -------
    >>> costs = protocol_costs(n_parties=100, length=1000)
    >>> costs["secure aggregation"]["rounds"], costs["secure aggregation"]["key_agreements"]
    (4, 4950)
    """
    n = check_int(n_parties, "n_parties", low=3, high=MAX_PARTIES)
    length = check_int(length, "length", low=1, high=10**9)
    depth = check_int(depth, "depth", low=1, high=1000)
    default_k = min(n - 1, 2 * math.ceil(math.log2(n)))
    k = default_k if neighbours is None else check_int(neighbours, "neighbours", low=1, high=n - 1)
    rtt = check_real(rtt_ms, "rtt_ms", low=0.0, high=1e5) / 1000.0
    bandwidth = check_real(mbit_per_s, "mbit_per_s", low=0.0, high=1e6, low_open=True) * 1e6 / 8

    vector = length * _RING_BYTES
    additive_sent = (n - 1) * vector + vector
    layer = 2 * vector * (n - 1)                  # one party's shares of d and e, to every other party
    costs = {
        "additive sum": {"rounds": 2, "bytes_per_party": additive_sent + (n - 1) * vector,
                         "total_bytes": n * additive_sent, "key_agreements": n * (n - 1) // 2,
                         "offline_bytes": 0},
        "Beaver products": {"rounds": depth + 1, "bytes_per_party": 2 * depth * layer + vector,
                            "total_bytes": n * (depth * layer + vector),
                            "key_agreements": n * (n - 1) // 2,
                            "offline_bytes": n * depth * 3 * vector},
        "secure aggregation": {**_secagg_cost(n, n - 1, length), "offline_bytes": 0},
        "SecAgg+": {**_secagg_cost(n, k, length), "offline_bytes": 0},
    }
    for cost in costs.values():
        cost["seconds"] = cost["rounds"] * rtt + cost["bytes_per_party"] / bandwidth
    return costs
