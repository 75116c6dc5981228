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

What is checked: a public key's modulus must be odd, of 1024 to 8192 bits, free of small
factors and not a square; a ciphertext's value must lie in [1, n²) and be coprime to n (the
group Z*_{n²} the scheme lives in) — :class:`PaillierCiphertext` refuses anything else with a
``ValueError`` when it is made, and decryption checks again. A :class:`PaillierPrivateKey`
keeps its primes in private slots: no repr, ``vars``, ``dataclasses.asdict`` or pickle shows them.

Speed: the modular arithmetic goes through ``gmpy2`` (the GMP binding ``phe`` uses) when it is
installed (:data:`BACKEND` says which), else through Python's ints — the same numbers, about
eight times slower. Decryption works modulo p² and q² (CRT, Paillier 1999 §7); so does
:meth:`PaillierPrivateKey.encrypt`, the key holder's encryption. :func:`encrypt_packed` puts
many fixed-point numbers into one plaintext, with headroom so that sums never carry from one
slot into the next. ``bench/he_bench.py`` measures all of it against ``phe`` in one run.

Ciphertexts interoperate with ``phe`` (python-paillier): both use g = n + 1 and the plaintext
m mod n, so ``phe.EncryptedNumber(phe.PaillierPublicKey(n), c.value)`` decrypts under phe and
``PaillierCiphertext(public, phe_number.ciphertext())`` here (``tests/test_he_speed_paths.py``).
``phe`` was not made the implementation: it has had no release since 2021 and searches its
own primes; the scheme is twenty lines and is the lesson itself.

Reference: P. Paillier, *Public-Key Cryptosystems Based on Composite Degree Residuosity
Classes*, EUROCRYPT 1999.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np
from cryptography.hazmat.primitives.asymmetric import rsa

from ._checks import check_int, check_real

try:   # optional: the `fast` extra
    import gmpy2
except ImportError:  # pragma: no cover - exercised by tests that hide gmpy2
    gmpy2 = None

__all__ = ["BACKEND", "PackedVector", "PaillierCiphertext", "PaillierPrivateKey", "PaillierPublicKey",
           "Randomizers", "aggregation_seconds", "cost_table", "decrypt_packed", "decrypt_vector",
           "encrypt_packed", "encrypt_vector", "encrypted_sum", "generate_paillier_keypair", "packing_slots"]

MIN_BITS = 1024  # below this, n can be factored by anyone; 2048 (the default) is today's minimum
MAX_BITS = 8192  # above this, key generation and every operation take too long to be useful here
FIXED_POINT_SCALE = 2**16  # reals are encrypted as round(x · 2^16), as in mpc
MAX_SCALE = 2**64  # a fixed-point scale beyond this buys nothing: a float has a 53-bit mantissa
MAX_REPEATS = 100  # cost_table: timings per operation and key size
MAX_COST_TABLE_SIZES = 8
MAX_SUMMANDS = 2**32  # encrypt_packed: the most vectors one packed sum may hold
MAX_SLOTS = 10**6     # aggregation_seconds: numbers per ciphertext (8192 bits hold at most 8190 slots)
MAX_RANDOMIZERS = 10**5  # Randomizers: 10^5 precomputed r^n are 51 MB at 2048 bits

#: Which arithmetic the module uses: "gmpy2" (GMP) when it is importable, else "python".
BACKEND = "gmpy2" if gmpy2 is not None else "python"

# the odd primes below 1000, multiplied: a modulus sharing a factor with this is no RSA modulus
_SMALL_PRIMES_PRODUCT = math.prod(k for k in range(3, 1000, 2)
                                  if all(k % d for d in range(3, math.isqrt(k) + 1, 2)))


def _big(x: int) -> Any:
    """``x`` in the backend's number type (a gmpy2 ``mpz`` or the int itself)."""
    return gmpy2.mpz(x) if gmpy2 is not None else x


def _powmod(base: Any, exponent: Any, modulus: Any) -> Any:
    return gmpy2.powmod(base, exponent, modulus) if gmpy2 is not None else pow(base, exponent, modulus)


def _gcd(a: Any, b: Any) -> int:
    return int(gmpy2.gcd(a, b)) if gmpy2 is not None else math.gcd(int(a), int(b))


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


@dataclass(frozen=True)
class PaillierPublicKey:
    """n = p·q; encryption uses g = n + 1, so g^m = 1 + m·n (mod n²) needs no exponentiation.

    Parameters
    ----------
    n : int
        The modulus: odd, of ``MIN_BITS`` to ``MAX_BITS`` bits (1024 to 8192), with no prime
        factor below 1000 and not a perfect square. Normally made by :func:`generate_paillier_keypair`.

    Raises
    ------
    TypeError
        If ``n`` is not an int.
    ValueError
        If ``n`` fails any of the checks above.
    """

    n: int

    def __post_init__(self) -> None:
        n = self.n
        if not _is_int(n):
            raise TypeError(f"n must be an int (a Paillier modulus), got {type(n).__name__}")
        n = int(n)
        object.__setattr__(self, "n", n)
        if n <= 0 or not MIN_BITS <= n.bit_length() <= MAX_BITS:
            raise ValueError(f"n must be a positive modulus of {MIN_BITS} to {MAX_BITS} bits, "
                             f"got a {n.bit_length()}-bit value" + (" (not positive)" if n <= 0 else ""))
        if n % 2 == 0 or math.gcd(n, _SMALL_PRIMES_PRODUCT) != 1 or math.isqrt(n) ** 2 == n:
            raise ValueError("n must be a product of two distinct large primes: it is even, "
                             "has a factor below 1000, or is a square")
        # the backend's copies, made once: not fields, so equality, asdict and the repr ignore them
        object.__setattr__(self, "_n", _big(n))
        object.__setattr__(self, "_n2", _big(n * n))

    @property
    def n_squared(self) -> int:
        return self.n * self.n

    @property
    def bits(self) -> int:
        return self.n.bit_length()

    def encrypt(self, plaintext: int, *, randomizers: Randomizers | None = None) -> PaillierCiphertext:
        """Enc(m) = (1 + m·n) · r^n mod n² for a fresh random r; m may be negative (|m| < n/2).

        One exponentiation modulo n² (``phe`` does the same). The key holder encrypts faster with
        :meth:`PaillierPrivateKey.encrypt`, which draws from the same distribution. With
        ``randomizers`` (a :class:`Randomizers` for this key) the r^n is taken, once, from those
        computed beforehand, and encryption is one multiplication.

        Raises
        ------
        TypeError, ValueError
            If ``plaintext`` is not an int with |m| < n/2, or ``randomizers`` is not a
            :class:`Randomizers` for this key or has none left.
        """
        m = _plaintext(plaintext, self.n, "plaintext")
        r_n = self._random_nth_residue() if randomizers is None else _take(randomizers, self)
        return _ciphertext(self, int((1 + m * self._n) * r_n % self._n2))

    def _random_nth_residue(self) -> Any:
        """r^n mod n² for r uniform in Z*_n: the randomness every encryption multiplies in."""
        r = _big(secrets.randbelow(self.n - 1) + 1)
        while _gcd(r, self._n) != 1:   # happens only if r reveals a factor: probability ~2^-1023
            r = _big(secrets.randbelow(self.n - 1) + 1)
        return _powmod(r, self._n, self._n2)

    def __repr__(self) -> str:
        return f"PaillierPublicKey({self.bits} bits)"


def _not_picklable(kind: str) -> NoReturn:
    raise TypeError(f"{kind} cannot be pickled or copied: private keys are not serialised")


class PaillierPrivateKey:
    """The primes p and q, with the constants of CRT decryption; nothing shows them.

    Not a dataclass: the primes live in private slots, so ``repr``, ``vars``,
    ``dataclasses.asdict`` and ``pickle``/``copy`` (which raise ``TypeError``) reveal none of them.

    Parameters
    ----------
    public : PaillierPublicKey
        The key pair's public half.
    p, q : int
        The two distinct primes with p·q = n and gcd(n, (p − 1)(q − 1)) = 1 (equal lengths
        ensure it). Normally made by :func:`generate_paillier_keypair`.

    Raises
    ------
    TypeError, ValueError
        If the arguments are of the wrong type or do not fit together (never showing p or q).
    """

    __slots__ = ("_big_p", "_big_q", "_hp", "_hq", "_p", "_p2", "_p_minus_1", "_public", "_q", "_q2",
                 "_q2_inverse", "_q_inverse", "_q_minus_1")

    def __init__(self, public: PaillierPublicKey, p: int, q: int) -> None:
        if not isinstance(public, PaillierPublicKey):
            raise TypeError(f"public must be a PaillierPublicKey, got {type(public).__name__}")
        if not (_is_int(p) and _is_int(q)):
            raise TypeError("p and q must be ints")
        p, q, n = int(p), int(q), public.n
        if not (1 < p < n and 1 < q < n and p != q and p * q == n
                and math.gcd(n, (p - 1) * (q - 1)) == 1):
            raise ValueError("p and q must be two distinct primes with p·q = n and "
                             "gcd(n, (p − 1)(q − 1)) = 1")
        self._public, self._p, self._q = public, p, q
        self._big_p, self._big_q = _big(p), _big(q)
        self._p2, self._q2 = _big(p * p), _big(q * q)
        self._p_minus_1, self._q_minus_1 = _big(p - 1), _big(q - 1)
        self._hp, self._hq = _big(_h(p, n)), _big(_h(q, n))
        self._q_inverse = _big(pow(q, -1, p))
        self._q2_inverse = _big(pow(q * q, -1, p * p))

    @property
    def public(self) -> PaillierPublicKey:
        return self._public

    def encrypt(self, plaintext: int) -> PaillierCiphertext:
        """Enc(m) as the key holder computes it: the same ciphertext distribution, about 3× faster.

        r^n mod n² for r uniform in Z*_n is computed from its two CRT halves: modulo p² it
        depends only on t = r mod p, and equals u^p mod p² for u = t^q mod p, which is uniform
        in Z*_p when t is (gcd(q, p − 1) = 1). So u and its q-side twin are drawn uniformly and
        raised to p and q (1024-bit exponents modulo 2048-bit p² and q², for a 2048-bit key)
        instead of raising r to n modulo n²: a uniform n-th residue either way, the
        distribution of :meth:`PaillierPublicKey.encrypt` exactly. Only the key holder can do
        this: it needs p and q. A key holder encrypts its own contributions, test vectors, or
        the zero it adds to re-randomise a ciphertext.

        Raises
        ------
        TypeError, ValueError
            As :meth:`PaillierPublicKey.encrypt`: ``plaintext`` must be an int with |m| < n/2.
        """
        public = self._public
        m = _plaintext(plaintext, public.n, "plaintext")
        return _ciphertext(public, int((1 + m * public._n) * self._random_nth_residue() % public._n2))

    def _random_nth_residue(self) -> Any:
        p, q = self._p, self._q
        xp = _powmod(_big(secrets.randbelow(p - 1) + 1), self._big_p, self._p2)   # u^p mod p²
        xq = _powmod(_big(secrets.randbelow(q - 1) + 1), self._big_q, self._q2)   # v^q mod q²
        return xq + self._q2 * ((xp - xq) * self._q2_inverse % self._p2)          # CRT: mod n²

    def decrypt(self, ciphertext: PaillierCiphertext) -> int:
        """m = L(c^λ mod n²) · μ mod n, computed modulo p² and q² and recombined (Paillier 1999, §7).

        The result is read as signed: |m| < n/2.

        Raises
        ------
        TypeError
            If ``ciphertext`` is not a :class:`PaillierCiphertext`.
        ValueError
            If it was made under another public key, or its value is outside [1, n²) or not
            coprime to n.
        """
        if not isinstance(ciphertext, PaillierCiphertext):
            raise TypeError(f"ciphertext must be a PaillierCiphertext, got {type(ciphertext).__name__}")
        if ciphertext.public != self._public:
            raise ValueError("ciphertext was encrypted under a different public key")
        p, q, n = self._big_p, self._big_q, self._public.n
        c = self._unit(ciphertext.value)
        # c reduced modulo p² and q² first: GMP's exponentiation then starts from a half-size base
        mp = _l(_powmod(c % self._p2, self._p_minus_1, self._p2), p) * self._hp % p
        mq = _l(_powmod(c % self._q2, self._q_minus_1, self._q2), q) * self._hq % q
        m = int((mq + q * ((mp - mq) * self._q_inverse % p)) % n)  # CRT: m ≡ mp (mod p), m ≡ mq (mod q)
        return m - n if m > n // 2 else m

    def _unit(self, value: Any) -> Any:
        """The ciphertext's value checked again (it may be forged) as :func:`_ciphertext_value`
        does, but with the primes: coprime to n means divisible by neither p nor q, two
        reductions instead of a gcd that would cost a quarter of the decryption."""
        if not _is_int(value):
            raise TypeError(f"ciphertext value must be an int, got {type(value).__name__}")
        c = _big(int(value))
        if not 1 <= c < self._public._n2 or c % self._big_p == 0 or c % self._big_q == 0:
            raise ValueError(f"ciphertext value must be in [1, n²) and coprime to n for this "
                             f"{self._public.bits}-bit key: it is no Paillier ciphertext")
        return c

    def __repr__(self) -> str:
        return f"PaillierPrivateKey({self._public.bits} bits, <hidden>)"

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        _not_picklable("PaillierPrivateKey")

    def __getstate__(self) -> NoReturn:
        _not_picklable("PaillierPrivateKey")


class Randomizers:
    """r^n mod n² computed ahead of time: the offline half of Paillier encryption.

    ``Randomizers(key, count)`` computes ``count`` values r^n mod n², r uniform in Z*_n (with a
    :class:`PaillierPrivateKey`, by its faster CRT route, the same distribution); each
    ``public.encrypt(m, randomizers=pool)`` or ``encrypt_vector(..., randomizers=pool)`` then
    takes one and costs a single multiplication. A client that has idle time before a round
    (the setting of notebook 07) moves the exponentiations there; the total work is the same.

    What it changes for security: the ciphertexts have exactly the distribution of ordinary
    encryption as long as each r^n is used once and stays secret. So a value is removed when it
    is taken (under a lock, safe across threads), an empty pool refuses instead of reusing, and
    the pool cannot be pickled or copied. But the pool is secret material for as long as it
    waits: whoever reads an r^n and its ciphertext c reads m (c · r^(−n) = 1 + m·n mod n²), and
    one r^n used twice gives away the difference of the two plaintexts (c₁/c₂ = g^(m₁ − m₂)).
    Keep it in the encrypting process only, and precompute no more than the next round needs.

    Parameters
    ----------
    key : PaillierPublicKey or PaillierPrivateKey
        The key the encryptions will use.
    count : int
        How many r^n to compute, in [1, 10**5].

    Raises
    ------
    TypeError, ValueError
        If ``key`` is neither key type, or ``count`` is not an int in [1, 10**5].

    Examples
    --------
    >>> private, public = generate_paillier_keypair(1024)
    >>> pool = Randomizers(public, 2)
    >>> private.decrypt(public.encrypt(7, randomizers=pool)), len(pool)
    (7, 1)
    """

    __slots__ = ("_lock", "_public", "_values")

    def __init__(self, key: PaillierPublicKey | PaillierPrivateKey, count: int) -> None:
        if not isinstance(key, (PaillierPublicKey, PaillierPrivateKey)):
            raise TypeError(f"key must be a PaillierPublicKey or PaillierPrivateKey, "
                            f"got {type(key).__name__}")
        count = check_int(count, "count", low=1, high=MAX_RANDOMIZERS)
        self._public = key if isinstance(key, PaillierPublicKey) else key.public
        self._values = [key._random_nth_residue() for _ in range(count)]
        self._lock = threading.Lock()

    @property
    def public(self) -> PaillierPublicKey:
        return self._public

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Randomizers({len(self._values)} left, {self._public.bits}-bit key)"

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError("Randomizers cannot be pickled or copied: a copied r^n would be used twice")


def _take(randomizers: Any, public: PaillierPublicKey) -> Any:
    """One r^n from the pool, removed from it; refused when the pool is empty or for another key."""
    if not isinstance(randomizers, Randomizers):
        raise TypeError(f"randomizers must be a Randomizers or None, got {type(randomizers).__name__}")
    if randomizers._public != public:
        raise ValueError("randomizers were computed for a different public key")
    with randomizers._lock:
        if not randomizers._values:
            raise ValueError("randomizers has none left: an r^n is never reused; compute more")
        return randomizers._values.pop()


def _l(u: Any, p: Any) -> Any:
    """Paillier's L function: (u − 1)/p, an exact division for u ≡ 1 (mod p)."""
    return (u - 1) // p


def _h(p: int, n: int) -> int:
    """h_p = L_p(g^(p−1) mod p²)⁻¹ mod p for g = n + 1."""
    return pow(_l(pow(n + 1, p - 1, p * p), p), -1, p)


def _ciphertext_value(value: Any, public: PaillierPublicKey, name: str) -> int:
    """``value`` as an int in Z*_{n²}: in [1, n²) and coprime to n; else TypeError/ValueError."""
    if not _is_int(value):
        raise TypeError(f"{name} value must be an int, got {type(value).__name__}")
    value = int(value)
    if not 1 <= value < public._n2 or _gcd(value, public._n) != 1:
        raise ValueError(f"{name} value must be in [1, n²) and coprime to n for this "
                         f"{public.bits}-bit key: it is no Paillier ciphertext")
    return value


@dataclass(frozen=True, repr=False)
class PaillierCiphertext:
    """A ciphertext: add another ciphertext or an int with ``+``, scale by an int with ``*``.

    Parameters
    ----------
    public : PaillierPublicKey
        The key it was encrypted under.
    value : int
        The ciphertext, an element of Z*_{n²}: in [1, n²) and coprime to n.

    Raises
    ------
    TypeError
        If ``public`` is not a :class:`PaillierPublicKey` or ``value`` not an int.
    ValueError
        If ``value`` is outside [1, n²) or shares a factor with n (0, n and n² are refused).
    """

    public: PaillierPublicKey
    value: int

    def __post_init__(self) -> None:
        if not isinstance(self.public, PaillierPublicKey):
            raise TypeError(f"public must be a PaillierPublicKey, got {type(self.public).__name__}")
        object.__setattr__(self, "value", _ciphertext_value(self.value, self.public, "ciphertext"))

    def __add__(self, other: Any) -> PaillierCiphertext:
        public = self.public
        if isinstance(other, PaillierCiphertext):
            if other.public != public:
                raise ValueError("cannot add ciphertexts under different public keys")
            return _ciphertext(public, int(_big(self.value) * other.value % public._n2))
        m = _plaintext(other, public.n, "other")     # Enc(a) · g^m = Enc(a + m)
        return _ciphertext(public, int(_big(self.value) * (1 + m * public._n) % public._n2))

    __radd__ = __add__

    def __mul__(self, k: Any) -> PaillierCiphertext:
        k = _plaintext(k, self.public.n, "k")            # Enc(a)^k = Enc(k · a)
        return _ciphertext(self.public, int(_powmod(_big(self.value), _big(k), self.public._n2)))

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"PaillierCiphertext({self.public.bits}-bit key)"


def _ciphertext(public: PaillierPublicKey, value: int) -> PaillierCiphertext:
    """A ciphertext the kit computed itself (a product or power of units is a unit): skips the
    checks, which would cost as much as the homomorphic addition."""
    ciphertext = object.__new__(PaillierCiphertext)
    object.__setattr__(ciphertext, "public", public)
    object.__setattr__(ciphertext, "value", value)
    return ciphertext


def _plaintext(value: Any, n: int, name: str) -> int:
    if not _is_int(value):
        raise TypeError(f"{name} must be an int (encode reals in fixed point first), "
                        f"got {type(value).__name__}")
    value = int(value)
    if abs(value) >= n // 2:
        raise ValueError(f"{name} must be in (-n/2, n/2) for this key, got a {value.bit_length()}-bit value")
    return value % n


def _check_bits(bits: Any, name: str = "bits") -> int:
    bits = check_int(bits, name, low=MIN_BITS, high=MAX_BITS)
    if bits % 256:
        raise ValueError(f"{name} must be a multiple of 256 in [{MIN_BITS}, {MAX_BITS}] "
                         f"(1024, 2048, 3072 ...), got {bits}")
    return bits


def generate_paillier_keypair(bits: int = 2048) -> tuple[PaillierPrivateKey, PaillierPublicKey]:
    """A Paillier key pair whose modulus n = p·q has ``bits`` bits (1024 to 8192; 2048 by default).

    p and q are the primes of a fresh RSA key from ``cryptography``: equal length, so
    gcd(pq, (p − 1)(q − 1)) = 1, as Paillier's simple variant with g = n + 1 requires.

    Raises
    ------
    TypeError, ValueError
        If ``bits`` is not an int multiple of 256 in [1024, 8192].

    Examples
    --------
    >>> private, public = generate_paillier_keypair(1024)
    >>> private.decrypt(public.encrypt(20) + public.encrypt(22))
    42
    >>> private
    PaillierPrivateKey(1024 bits, <hidden>)
    """
    bits = _check_bits(bits)
    numbers = rsa.generate_private_key(public_exponent=65537, key_size=bits).private_numbers()
    public = PaillierPublicKey(numbers.p * numbers.q)
    return PaillierPrivateKey(public, numbers.p, numbers.q), public


def _check_scale(scale: Any) -> int:
    if not _is_int(scale):
        raise TypeError(f"scale must be an int (the fixed-point factor, 2**16 by default), "
                        f"got {type(scale).__name__}")
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be an int in [1, 2**64] (the fixed-point factor), got {int(scale)}")
    return int(scale)


def _check_public(public: Any) -> PaillierPublicKey:
    if not isinstance(public, PaillierPublicKey):
        raise TypeError(f"public must be a PaillierPublicKey, got {type(public).__name__}")
    return public


def _check_private(private: Any) -> PaillierPrivateKey:
    if not isinstance(private, PaillierPrivateKey):
        raise TypeError(f"private must be a PaillierPrivateKey, got {type(private).__name__}")
    return private


def _fixed_point(values: Any, scale: int) -> list[int] | None:
    """round(x · scale) for each real, or None when some product overflows a float."""
    arr = _real_vector(values)
    with np.errstate(over="ignore"):   # an overflow to infinity is refused by the caller
        scaled = arr * float(scale)
    return [round(float(x)) for x in scaled] if np.all(np.isfinite(scaled)) else None


def encrypt_vector(values: Sequence[float] | np.ndarray, public: PaillierPublicKey, *,
                   scale: int = FIXED_POINT_SCALE, randomizers: Randomizers | None = None
                   ) -> list[PaillierCiphertext]:
    """Encrypt each real of a vector as round(x · scale): one ciphertext (and one r^n) per number.

    :func:`encrypt_packed` puts many numbers into each ciphertext instead. With ``randomizers``
    each r^n comes from that precomputed pool (see :class:`Randomizers` for what that changes);
    the pool must hold one per number, checked before any is taken.

    Raises
    ------
    TypeError
        If ``values`` are not real numbers, ``public`` is not a :class:`PaillierPublicKey` or
        ``scale`` is not an int.
    ValueError
        If a value is not finite, ``scale`` is outside [1, 2**64], round(x · scale) does not
        fit the key (|x · scale| < n/2), or ``randomizers`` is for another key or too small.
    """
    public = _check_public(public)
    scale = _check_scale(scale)
    encoded = _fixed_point(values, scale)
    if encoded is None or any(abs(m) >= public.n // 2 for m in encoded):
        raise ValueError("values must satisfy |x · scale| < n/2 to fit this key")
    if randomizers is not None:
        if not isinstance(randomizers, Randomizers):
            raise TypeError(f"randomizers must be a Randomizers or None, got {type(randomizers).__name__}")
        if len(randomizers) < len(encoded):
            raise ValueError(f"randomizers holds {len(randomizers)} r^n, fewer than the "
                             f"{len(encoded)} numbers to encrypt")
    return [public.encrypt(m, randomizers=randomizers) for m in encoded]


def _real_vector(values: Any) -> np.ndarray:
    try:
        arr = np.asarray(values)
        if arr.dtype.kind not in "biuf":
            raise TypeError
        arr = arr.astype(np.float64).ravel()
    except (TypeError, ValueError):  # the message never echoes the values: they are plaintext
        raise TypeError("values must be a sequence or array of real numbers") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError("values must be finite (no NaN or infinity)")
    return arr


def _ciphertext_list(values: Any, name: str) -> list[PaillierCiphertext]:
    if isinstance(values, (str, bytes, PaillierCiphertext)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a sequence of PaillierCiphertext, got {type(values).__name__}")
    items = list(values)
    for item in items:
        if not isinstance(item, PaillierCiphertext):
            raise TypeError(f"{name} must hold only PaillierCiphertext, got {type(item).__name__}")
    return items


def encrypted_sum(vectors: Sequence[Sequence[PaillierCiphertext]] | Sequence[PackedVector]
                  ) -> list[PaillierCiphertext] | PackedVector:
    """Elementwise sum of several encrypted vectors, computed without the private key.

    The vectors are lists from :func:`encrypt_vector` (the sum is such a list) or
    :class:`PackedVector` from :func:`encrypt_packed` (the sum is a PackedVector; it refuses
    more summands than the packing left headroom for).

    Raises
    ------
    TypeError
        If ``vectors`` is not a sequence of sequences of :class:`PaillierCiphertext` or of
        :class:`PackedVector`.
    ValueError
        If it is empty, the vectors differ in length or layout, they mix public keys, or packed
        vectors hold more summands than their headroom.
    """
    if isinstance(vectors, (str, bytes, PackedVector)) or not isinstance(vectors, Iterable):
        raise TypeError(f"vectors must be a sequence of encrypted vectors, got {type(vectors).__name__}")
    vectors = list(vectors)
    if vectors and all(isinstance(v, PackedVector) for v in vectors):
        total = vectors[0]
        for v in vectors[1:]:
            total = total + v
        return total
    columns = [_ciphertext_list(v, "vectors") for v in vectors]
    if not columns:
        raise ValueError("vectors must not be empty")
    lengths = {len(v) for v in columns}
    if len(lengths) != 1:
        raise ValueError(f"vectors must all have one length, got lengths {sorted(lengths)}")
    return [sum(column[1:], column[0]) for column in zip(*columns, strict=True)]


def decrypt_vector(ciphertexts: Sequence[PaillierCiphertext], private: PaillierPrivateKey, *,
                   scale: int = FIXED_POINT_SCALE) -> np.ndarray:
    """Decrypt a vector encrypted with :func:`encrypt_vector` (or a sum of such) back to reals.

    ``scale`` must be the one the vector was encrypted with.

    Raises
    ------
    TypeError
        If ``ciphertexts`` is not a sequence of :class:`PaillierCiphertext`, ``private`` not a
        :class:`PaillierPrivateKey` or ``scale`` not an int.
    ValueError
        If ``scale`` is outside [1, 2**64], a ciphertext is not under ``private``'s key, or a
        decrypted number divided by ``scale`` is too large for a float.
    """
    private = _check_private(private)
    scale = _check_scale(scale)
    items = _ciphertext_list(ciphertexts, "ciphertexts")
    out = np.empty(len(items))
    for i, c in enumerate(items):
        try:
            out[i] = private.decrypt(c) / scale
        except OverflowError:
            raise ValueError(f"ciphertexts[{i}] decrypts to a number too large for a float at "
                             "this scale: it was not made by encrypt_vector") from None
    return out


# --- packing: many fixed-point numbers in one plaintext ----------------------------------------


def _packing_layout(bits: int, bound: Any, summands: Any, scale: Any) -> tuple[int, int, int]:
    """(offset B, slot bits w, slots k) for numbers |x| ≤ bound summed ``summands`` times.

    A number becomes u = round(x · scale) + B ∈ [0, 2B] with B = ⌈bound · scale⌉; a sum of s ≤
    ``summands`` such u is at most 2B·s < 2^w, so it never carries into the next slot; k slots of
    w bits make a plaintext below 2^(bits − 2) ≤ n/2, a positive plaintext for every key of ``bits`` bits.
    """
    bound = check_real(bound, "bound", low=0.0, low_open=True)
    summands = check_int(summands, "summands", low=1, high=MAX_SUMMANDS)
    scale = _check_scale(scale)
    scaled = bound * scale
    if not math.isfinite(scaled):
        raise ValueError(f"bound × scale must be finite, got bound {bound:g} with scale {scale}")
    offset = math.ceil(scaled)
    slot_bits = (2 * offset * summands).bit_length()
    slots = (bits - 2) // slot_bits
    if slots < 1:
        raise ValueError(f"bound, scale and summands need {slot_bits}-bit slots, wider than one "
                         f"{bits}-bit plaintext holds: lower the bound, the scale or the summands")
    return offset, slot_bits, slots


def packing_slots(bits: int, *, bound: float, summands: int, scale: int = FIXED_POINT_SCALE) -> int:
    """How many numbers |x| ≤ ``bound`` one ciphertext of a ``bits``-bit key holds when packed.

    The count :func:`encrypt_packed` uses, with headroom for a sum of ``summands`` vectors; pass
    it as ``slots`` to :func:`aggregation_seconds`. For a 2048-bit key, bound 1, the default
    scale 2^16 and 1000 clients, a slot needs 27 bits and a ciphertext holds 75 numbers.

    Raises
    ------
    TypeError, ValueError
        If ``bits`` is not as for :func:`generate_paillier_keypair`, ``bound`` not a positive
        real, ``summands`` not an int in [1, 2**32], ``scale`` not an int in [1, 2**64], or one
        slot would not fit a plaintext.

    Examples
    --------
    >>> packing_slots(2048, bound=1.0, summands=1000)
    75
    """
    return _packing_layout(_check_bits(bits), bound, summands, scale)[2]


@dataclass(frozen=True, repr=False)
class PackedVector:
    """A real vector packed into few ciphertexts by :func:`encrypt_packed`; add them with ``+``.

    Fields: the key, the ciphertexts, the vector's ``length``, the fixed-point ``scale``, the
    ``offset`` B added to every number, the ``slot_bits`` of a slot, how many vectors it is the
    sum of (``summands``) and the most it may hold (``capacity``). A sum beyond ``capacity``
    could carry into the neighbouring slot, so ``+`` refuses it. The repr shows the layout only.

    Raises
    ------
    TypeError, ValueError
        If the fields do not describe a packing of ``length`` numbers under ``public``.
    """

    public: PaillierPublicKey
    ciphertexts: tuple[PaillierCiphertext, ...]
    length: int
    scale: int
    offset: int
    slot_bits: int
    summands: int
    capacity: int

    def __post_init__(self) -> None:
        public = _check_public(self.public)
        object.__setattr__(self, "ciphertexts", tuple(_ciphertext_list(self.ciphertexts, "ciphertexts")))
        length = check_int(self.length, "length", low=0, high=MAX_SLOTS * 10**6)
        _check_scale(self.scale)
        check_int(self.offset, "offset", low=1, high=public.n)
        slot_bits = check_int(self.slot_bits, "slot_bits", low=1, high=public.bits - 2)
        capacity = check_int(self.capacity, "capacity", low=1, high=MAX_SUMMANDS)
        check_int(self.summands, "summands", low=1, high=capacity)
        if (2 * self.offset * capacity).bit_length() > slot_bits:
            raise ValueError("slot_bits must leave room for capacity × 2·offset: a sum would carry")
        if len(self.ciphertexts) != -(-length // self.slots):
            raise ValueError(f"ciphertexts must number ⌈length / slots⌉ = {-(-length // self.slots)}, "
                             f"got {len(self.ciphertexts)}")
        if any(c.public != public for c in self.ciphertexts):
            raise ValueError("ciphertexts must all be under public")

    @property
    def slots(self) -> int:
        """Numbers per ciphertext."""
        return (self.public.bits - 2) // self.slot_bits

    def __add__(self, other: Any) -> PackedVector:
        if not isinstance(other, PackedVector):
            return NotImplemented
        layout = ("length", "scale", "offset", "slot_bits", "capacity")
        if other.public != self.public or any(getattr(self, f) != getattr(other, f) for f in layout):
            raise ValueError("cannot add packed vectors of different keys or layouts "
                             "(length, scale, bound or summands differ)")
        summands = self.summands + other.summands
        if summands > self.capacity:
            raise ValueError(f"the sum would hold {summands} summands, more than the {self.capacity} "
                             f"the packing left headroom for: a slot could carry into its neighbour")
        cts = tuple(a + b for a, b in zip(self.ciphertexts, other.ciphertexts, strict=True))
        return _packed(self, cts, summands)

    def __repr__(self) -> str:
        return (f"PackedVector({self.length} numbers in {len(self.ciphertexts)} ciphertexts, "
                f"{self.slots} slots of {self.slot_bits} bits, {self.summands}/{self.capacity} summands)")


def _packed(like: PackedVector, ciphertexts: tuple[PaillierCiphertext, ...], summands: int) -> PackedVector:
    """A packed vector the kit computed itself: ``like``'s layout, no re-checks."""
    packed = object.__new__(PackedVector)
    for name, value in {**{f: getattr(like, f) for f in ("public", "length", "scale", "offset",
                                                        "slot_bits", "capacity")},
                        "ciphertexts": ciphertexts, "summands": summands}.items():
        object.__setattr__(packed, name, value)
    return packed


def encrypt_packed(values: Sequence[float] | np.ndarray, public: PaillierPublicKey, *, bound: float,
                   summands: int, scale: int = FIXED_POINT_SCALE) -> PackedVector:
    """Encrypt a real vector many numbers to a ciphertext, with headroom for ``summands`` sums.

    Each number x with |x| ≤ ``bound`` becomes round(x · scale) + B, B = ⌈bound · scale⌉, in a
    slot of w = bitlen(2B · summands) bits; ⌊(bits − 2) / w⌋ slots fill one plaintext
    (:func:`packing_slots`). Adding at most ``summands`` such vectors (``+`` or
    :func:`encrypted_sum`) cannot carry from one slot into the next, and ``+`` refuses more.
    One encryption then serves a whole slot row: 75 numbers per 2048-bit ciphertext for bound 1,
    scale 2^16 and 1000 clients, so 75× fewer encryptions and decryptions than
    :func:`encrypt_vector`. Semantic security is unchanged (it is one Paillier plaintext); the
    key holder reads every slot of a sum, as it reads every ciphertext of an unpacked one. What
    it gives up: scaling by a constant (``*``) would break the headroom, so a PackedVector has none.

    Raises
    ------
    TypeError
        If ``values`` are not reals, ``public`` is no :class:`PaillierPublicKey`, or ``bound``,
        ``summands`` or ``scale`` has the wrong type.
    ValueError
        If a value is not finite or exceeds ``bound`` (never echoed), or the layout does not fit
        (see :func:`packing_slots`).

    Examples
    --------
    >>> private, public = generate_paillier_keypair(1024)
    >>> a = encrypt_packed([0.5, -0.25, 1.0], public, bound=1.0, summands=2)
    >>> b = encrypt_packed([0.25, 0.25, -1.0], public, bound=1.0, summands=2)
    >>> decrypt_packed(encrypted_sum([a, b]), private).tolist()
    [0.75, 0.0, 0.0]
    """
    public = _check_public(public)
    offset, slot_bits, slots = _packing_layout(public.bits, bound, summands, scale)
    encoded = _fixed_point(values, int(scale))
    if encoded is None or any(abs(v) > offset for v in encoded):
        raise ValueError("values must lie in [-bound, bound]: the packing's headroom assumes it")
    ciphertexts = []
    for start in range(0, len(encoded), slots):
        plaintext = 0
        for v in reversed(encoded[start:start + slots]):
            plaintext = (plaintext << slot_bits) | (v + offset)
        ciphertexts.append(public.encrypt(plaintext))
    packed = object.__new__(PackedVector)
    for name, value in {"public": public, "ciphertexts": tuple(ciphertexts), "length": len(encoded),
                        "scale": int(scale), "offset": offset, "slot_bits": slot_bits, "summands": 1,
                        "capacity": int(summands)}.items():
        object.__setattr__(packed, name, value)
    return packed


def decrypt_packed(packed: PackedVector, private: PaillierPrivateKey) -> np.ndarray:
    """The reals of a :class:`PackedVector` (a sum: the elementwise sum), as float64.

    Raises
    ------
    TypeError
        If ``packed`` is no :class:`PackedVector` or ``private`` no :class:`PaillierPrivateKey`.
    ValueError
        If the ciphertexts are under another key, or one decrypts to no packed plaintext (it
        was altered: Paillier has no integrity).
    """
    if not isinstance(packed, PackedVector):
        raise TypeError(f"packed must be a PackedVector (from encrypt_packed), got {type(packed).__name__}")
    private = _check_private(private)
    if packed.public != private.public:
        raise ValueError("packed was encrypted under a different public key than private's")
    w, slots, mask = packed.slot_bits, packed.slots, (1 << packed.slot_bits) - 1
    shift = packed.offset * packed.summands
    out = np.empty(packed.length)
    for i, c in enumerate(packed.ciphertexts):
        m = private.decrypt(c)
        if not 0 <= m < 1 << (w * slots):
            raise ValueError(f"packed.ciphertexts[{i}] decrypts to no packed plaintext: it was altered")
        for j in range(i * slots, min((i + 1) * slots, packed.length)):
            out[j] = ((m & mask) - shift) / packed.scale
            m >>= w
    return out


# --- what it costs --------------------------------------------------------------------------------


def cost_table(bits: Sequence[int] = (1024, 2048, 3072), *, repeats: int = 3) -> dict[str, np.ndarray]:
    """Seconds per encryption, per homomorphic addition and per decryption, measured here per key size.

    The median of ``repeats`` timings of each operation, on one core of this machine, with the
    public key's encryption (what a client does) and the :data:`BACKEND` in use.

    Raises
    ------
    TypeError, ValueError
        If ``bits`` is not a sequence of 1 to 8 key sizes (each as for
        :func:`generate_paillier_keypair`) or ``repeats`` is not an int in [1, 100]; checked
        before anything is measured.
    """
    repeats = check_int(repeats, "repeats", low=1, high=MAX_REPEATS)
    if isinstance(bits, (str, bytes)) or not isinstance(bits, Iterable):
        raise TypeError(f"bits must be a sequence of key sizes, got {type(bits).__name__}")
    sizes = [_check_bits(b) for b in bits]
    if not 1 <= len(sizes) <= MAX_COST_TABLE_SIZES:
        raise ValueError(f"bits must hold 1 to {MAX_COST_TABLE_SIZES} key sizes, got {len(sizes)}")
    table: dict[str, list[float]] = {"bits": [], "encrypt": [], "add": [], "decrypt": []}
    for size in sizes:
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


def aggregation_seconds(table: Mapping[str, np.ndarray], *, bits: int, values: int,
                        clients: int, slots: int = 1) -> dict[str, float]:
    """What encrypted aggregation of ``clients`` updates of ``values`` numbers costs, from a cost table.

    Each client encrypts its update (in parallel with the others), the server adds
    ``clients − 1`` ciphertexts per ciphertext of an update, the key holder decrypts one
    ciphertext per ciphertext of the sum. ``slots`` is how many numbers one ciphertext holds:
    1 for :func:`encrypt_vector`, :func:`packing_slots` for :func:`encrypt_packed` (packing
    and unpacking cost microseconds beside a modular exponentiation, so they are left out).

    Raises
    ------
    TypeError, ValueError
        If ``table`` is not a :func:`cost_table`, ``bits`` is not one of its key sizes, or
        ``values``/``clients`` are not ints in [1, 10**12], or ``slots`` not an int in [1, 10**6].

    Examples
    --------
    >>> table = {"bits": np.array([2048]), "encrypt": np.array([0.01]), "add": np.array([1e-5]),
    ...          "decrypt": np.array([0.003])}
    >>> aggregation_seconds(table, bits=2048, values=7500, clients=10, slots=75)["each client encrypts"]
    1.0
    """
    if not isinstance(table, Mapping) or not {"bits", "encrypt", "add", "decrypt"} <= set(table):
        raise TypeError("table must be a cost_table() result (keys bits, encrypt, add, decrypt)")
    values = check_int(values, "values", low=1, high=10**12)
    clients = check_int(clients, "clients", low=1, high=10**12)
    slots = check_int(slots, "slots", low=1, high=MAX_SLOTS)
    sizes = [int(b) for b in np.asarray(table["bits"]).ravel()]
    if not _is_int(bits) or int(bits) not in sizes:
        raise ValueError(f"bits must be one of the table's key sizes {sizes}, got {bits!r}")
    i = sizes.index(int(bits))
    ciphertexts = -(-values // slots)
    return {"each client encrypts": ciphertexts * float(table["encrypt"][i]),
            "server adds": (clients - 1) * ciphertexts * float(table["add"][i]),
            "key holder decrypts": ciphertexts * float(table["decrypt"][i])}
