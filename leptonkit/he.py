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

No maintained Paillier library was chosen: ``phe`` (python-paillier) has had no release since
2021 and searches its own primes; the scheme is twenty lines and is the lesson itself.

Reference: P. Paillier, *Public-Key Cryptosystems Based on Composite Degree Residuosity
Classes*, EUROCRYPT 1999.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np
from cryptography.hazmat.primitives.asymmetric import rsa

from ._checks import check_int

__all__ = ["PaillierCiphertext", "PaillierPrivateKey", "PaillierPublicKey", "aggregation_seconds",
           "cost_table", "decrypt_vector", "encrypt_vector", "encrypted_sum", "generate_paillier_keypair"]

MIN_BITS = 1024  # below this, n can be factored by anyone; 2048 (the default) is today's minimum
MAX_BITS = 8192  # above this, key generation and every operation take too long to be useful here
FIXED_POINT_SCALE = 2**16  # reals are encrypted as round(x · 2^16), as in mpc
MAX_SCALE = 2**64  # a fixed-point scale beyond this buys nothing: a float has a 53-bit mantissa
MAX_REPEATS = 100  # cost_table: timings per operation and key size
MAX_COST_TABLE_SIZES = 8

# the odd primes below 1000, multiplied: a modulus sharing a factor with this is no RSA modulus
_SMALL_PRIMES_PRODUCT = math.prod(k for k in range(3, 1000, 2)
                                  if all(k % d for d in range(3, math.isqrt(k) + 1, 2)))


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
        return _ciphertext(self, (1 + m * self.n) * pow(r, self.n, self.n_squared) % self.n_squared)

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

    __slots__ = ("_hp", "_hq", "_p", "_public", "_q", "_q_inverse")

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
        self._hp, self._hq = _h(p, n), _h(q, n)
        self._q_inverse = pow(q, -1, p)

    @property
    def public(self) -> PaillierPublicKey:
        return self._public

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
        c = _ciphertext_value(ciphertext.value, self._public, "ciphertext")  # again: it may be forged
        p, q, n = self._p, self._q, self._public.n
        mp = _l(pow(c, p - 1, p * p), p) * self._hp % p
        mq = _l(pow(c, q - 1, q * q), q) * self._hq % q
        m = (mq + q * ((mp - mq) * self._q_inverse % p)) % n   # CRT: m ≡ mp (mod p), m ≡ mq (mod q)
        return m - n if m > n // 2 else m

    def __repr__(self) -> str:
        return f"PaillierPrivateKey({self._public.bits} bits, <hidden>)"

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        _not_picklable("PaillierPrivateKey")

    def __getstate__(self) -> NoReturn:
        _not_picklable("PaillierPrivateKey")


def _l(u: int, p: int) -> int:
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
    if not 1 <= value < public.n_squared or math.gcd(value, public.n) != 1:
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
        if isinstance(other, PaillierCiphertext):
            if other.public != self.public:
                raise ValueError("cannot add ciphertexts under different public keys")
            return _ciphertext(self.public, self.value * other.value % self.public.n_squared)
        m = _plaintext(other, self.public.n, "other")     # Enc(a) · g^m = Enc(a + m)
        return _ciphertext(self.public, self.value * (1 + m * self.public.n) % self.public.n_squared)

    __radd__ = __add__

    def __mul__(self, k: Any) -> PaillierCiphertext:
        k = _plaintext(k, self.public.n, "k")            # Enc(a)^k = Enc(k · a)
        return _ciphertext(self.public, pow(self.value, k, self.public.n_squared))

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


def encrypt_vector(values: Sequence[float] | np.ndarray, public: PaillierPublicKey, *,
                   scale: int = FIXED_POINT_SCALE) -> list[PaillierCiphertext]:
    """Encrypt each real of a vector as round(x · scale): one ciphertext (and one r^n) per number.

    Raises
    ------
    TypeError
        If ``values`` are not real numbers, ``public`` is not a :class:`PaillierPublicKey` or
        ``scale`` is not an int.
    ValueError
        If a value is not finite, ``scale`` is outside [1, 2**64], or round(x · scale) does not
        fit the key (|x · scale| < n/2).
    """
    if not isinstance(public, PaillierPublicKey):
        raise TypeError(f"public must be a PaillierPublicKey, got {type(public).__name__}")
    scale = _check_scale(scale)
    arr = _real_vector(values)
    with np.errstate(over="ignore"):   # an overflow to infinity is refused just below
        scaled = arr * float(scale)
    encoded = [round(float(x)) for x in scaled] if np.all(np.isfinite(scaled)) else None
    if encoded is None or any(abs(m) >= public.n // 2 for m in encoded):
        raise ValueError("values must satisfy |x · scale| < n/2 to fit this key")
    return [public.encrypt(m) for m in encoded]


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


def encrypted_sum(vectors: Sequence[Sequence[PaillierCiphertext]]) -> list[PaillierCiphertext]:
    """Elementwise sum of several encrypted vectors, computed without the private key.

    Raises
    ------
    TypeError
        If ``vectors`` is not a sequence of sequences of :class:`PaillierCiphertext`.
    ValueError
        If it is empty, the vectors differ in length, or they mix public keys.
    """
    if isinstance(vectors, (str, bytes)) or not isinstance(vectors, Iterable):
        raise TypeError(f"vectors must be a sequence of encrypted vectors, got {type(vectors).__name__}")
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
    if not isinstance(private, PaillierPrivateKey):
        raise TypeError(f"private must be a PaillierPrivateKey, got {type(private).__name__}")
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


def cost_table(bits: Sequence[int] = (1024, 2048, 3072), *, repeats: int = 3) -> dict[str, np.ndarray]:
    """Seconds per encryption, per homomorphic addition and per decryption, measured here per key size.

    The median of ``repeats`` timings of each operation, on one core of this machine.

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
                        clients: int) -> dict[str, float]:
    """What encrypted aggregation of ``clients`` updates of ``values`` numbers costs, from a cost table.

    Each client encrypts its update (in parallel with the others), the server adds
    ``clients − 1`` ciphertexts per number, the key holder decrypts one ciphertext per number.

    Raises
    ------
    TypeError, ValueError
        If ``table`` is not a :func:`cost_table`, ``bits`` is not one of its key sizes, or
        ``values``/``clients`` are not ints in [1, 10**12].
    """
    if not isinstance(table, Mapping) or not {"bits", "encrypt", "add", "decrypt"} <= set(table):
        raise TypeError("table must be a cost_table() result (keys bits, encrypt, add, decrypt)")
    values = check_int(values, "values", low=1, high=10**12)
    clients = check_int(clients, "clients", low=1, high=10**12)
    sizes = [int(b) for b in np.asarray(table["bits"]).ravel()]
    if not _is_int(bits) or int(bits) not in sizes:
        raise ValueError(f"bits must be one of the table's key sizes {sizes}, got {bits!r}")
    i = sizes.index(int(bits))
    return {"each client encrypts": values * float(table["encrypt"][i]),
            "server adds": (clients - 1) * values * float(table["add"][i]),
            "key holder decrypts": values * float(table["decrypt"][i])}
