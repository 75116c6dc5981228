"""Private set intersection cardinality: two parties learn how many items they share, not which.

Diffie–Hellman PSI-CA (Huberman, Franklin & Hogg 1999; De Cristofaro, Gasti & Tsudik 2012) over
the 2048-bit prime-order group of :mod:`leptonkit.zkp` (RFC 3526 group 14, its subgroup of
quadratic residues of prime order q). Each item is hashed into the group, H(x); exponentiation
by a secret key commutes, (H(x)^a)^b = (H(x)^b)^a, so doubly blinded items match exactly when
the items do. The protocol, for Alice with set A and Bob with set B:

1. Alice → Bob: {H(a)^α : a ∈ A}, shuffled.
2. Bob → Alice: {y^β : y received}, shuffled again, and {H(b)^β : b ∈ B}, shuffled.
3. Alice raises Bob's items to α and counts the matches with the doubly blinded list.

Bob's reshuffle is what limits Alice to the *count*: she cannot tell which of her items matched.
What each side learns: Alice |A ∩ B| and |B|; Bob |A|. Security holds against semi-honest
parties under the decisional Diffie–Hellman assumption with H a random oracle; a malicious party
can lie about its set (put in items it wants to test), which no PSI prevents. Neighbours:
``zkp`` (the group), ``crypto`` (the CSPRNG discipline), notebook 11 (banks count shared customers).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .zkp import P, Q

__all__ = ["PSIParty", "PSIResult", "hash_to_group", "intersection_cardinality"]

EXPONENT_BITS = 256  # NIST SP 800-56A Rev. 3 §5.6.1.1.1: for safe-prime groups a private key of
# 2s bits gives s-bit security; 256 bits covers group 14's 112-bit strength
MAX_ITEMS = 1_000_000  # per set: each item costs two 2048-bit exponentiations
_DOMAIN = b"leptonkit/psi/v1 hash-to-group"

try:  # GMP's modular arithmetic is about 10× Python's; same results either way
    from gmpy2 import legendre as _gmp_legendre
    from gmpy2 import mpz as _mpz
    from gmpy2 import powmod as _gmp_powmod

    _P_MPZ = _mpz(P)

    def _powmod(base: int, exponent: int) -> int:
        return int(_gmp_powmod(_mpz(base), _mpz(exponent), _P_MPZ))

    def _in_subgroup(value: int) -> bool:  # p is a safe prime: the order-q subgroup is the residues
        return _gmp_legendre(_mpz(value), _P_MPZ) == 1
except ImportError:  # pragma: no cover - depends on what is installed

    def _powmod(base: int, exponent: int) -> int:
        return pow(base, exponent, P)

    def _in_subgroup(value: int) -> bool:
        return pow(value, Q, P) == 1


def _item_bytes(item: Any, name: str = "item") -> bytes:
    if isinstance(item, str):
        return item.encode("utf-8")
    if isinstance(item, (bytes, bytearray, memoryview)):
        return bytes(item)
    if isinstance(item, int) and not isinstance(item, bool):
        return str(item).encode()
    raise TypeError(f"{name} must hold str, bytes or int items, got an item of type {type(item).__name__}")


def hash_to_group(item: str | bytes | int) -> int:
    """H(item): SHAKE-256 of the item (with a domain tag) reduced mod p and squared, so it lies in
    the subgroup of prime order q. 64 extra bits make the reduction's bias negligible (2⁻⁶⁴)."""
    data = _item_bytes(item)
    digest = hashlib.shake_256(_DOMAIN + len(data).to_bytes(8, "big") + data).digest(256 + 8)
    value = pow(int.from_bytes(digest, "big") % P, 2, P)
    return value if value > 1 else 4  # 0 and 1 occur with probability ~2⁻²⁰⁴⁷; map them to 2²


def _items(items: Any, name: str) -> list[bytes]:
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise TypeError(
            f"{name} must be a collection of items (str, bytes or int), got {type(items).__name__}"
        )
    unique = sorted({_item_bytes(x, name) for x in items})
    if len(unique) > MAX_ITEMS:
        raise ValueError(f"{name} may hold at most {MAX_ITEMS} distinct items, got {len(unique)}")
    return unique


def _elements(values: Any, name: str) -> list[int]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a list of group elements (ints), got {type(values).__name__}")
    values = list(values)
    if len(values) > MAX_ITEMS:
        raise ValueError(f"{name} may hold at most {MAX_ITEMS} elements, got {len(values)}")
    for v in values:
        if not isinstance(v, int) or isinstance(v, bool) or not 1 < v < P or not _in_subgroup(v):
            raise ValueError(f"{name} must hold elements of the order-q subgroup (1 < v < p, v^q = 1 mod p)")
    return values


def _shuffled(values: list[int]) -> list[int]:
    out = list(values)
    secrets.SystemRandom().shuffle(out)  # the OS CSPRNG: the order must not reveal which item is which
    return out


class PSIParty:
    """One side of the protocol: its set and its secret exponent (drawn from the OS CSPRNG, never shown).

    Example
    -------
    >>> alice, bob = PSIParty(["ann", "ben", "cai"]), PSIParty(["ben", "cai", "dev", "eve"])
    >>> double, bobs = bob.respond(alice.blind())
    >>> alice.count(double, bobs)
    2
    """

    def __init__(self, items: Iterable[str | bytes | int], *, _name: str = "items"):
        self._items = _items(items, _name)
        self._exponent = secrets.randbits(EXPONENT_BITS) | 1  # nonzero, below q

    def __repr__(self) -> str:
        return f"PSIParty({len(self._items)} items)"

    def __getstate__(self) -> dict:
        raise TypeError("a PSIParty cannot be pickled: it holds a secret exponent and the party's set")

    def __len__(self) -> int:
        return len(self._items)

    def blind(self) -> list[int]:
        """Step 1: this party's items hashed into the group and raised to its secret, shuffled."""
        return _shuffled([_powmod(hash_to_group(x), self._exponent) for x in self._items])

    def respond(self, blinded: list[int]) -> tuple[list[int], list[int]]:
        """Step 2: the other side's blinded items raised to this secret (reshuffled), and this side's own."""
        received = _elements(blinded, "blinded")
        return _shuffled([_powmod(y, self._exponent) for y in received]), self.blind()

    def count(self, double_blinded: list[int], their_blinded: list[int]) -> int:
        """Step 3: how many of the other side's items, blinded by both, match the doubly blinded list."""
        mine = set(_elements(double_blinded, "double_blinded"))
        theirs = _elements(their_blinded, "their_blinded")
        return sum(_powmod(z, self._exponent) in mine for z in theirs)


@dataclass(frozen=True)
class PSIResult:
    """The count and the messages that crossed the wire (what an eavesdropper or either side saw)."""

    cardinality: int
    alice_sent: tuple[int, ...]
    bob_sent_double: tuple[int, ...]
    bob_sent_own: tuple[int, ...]

    def __repr__(self) -> str:
        return (
            f"PSIResult(cardinality={self.cardinality}, messages={len(self.alice_sent)} + "
            f"{len(self.bob_sent_double)} + {len(self.bob_sent_own)} group elements)"
        )


def intersection_cardinality(alice_items: Iterable[Any], bob_items: Iterable[Any]) -> PSIResult:
    """Run the three steps between two fresh parties; Alice learns the returned count."""
    alice, bob = PSIParty(alice_items, _name="alice_items"), PSIParty(bob_items, _name="bob_items")
    sent = alice.blind()
    double, own = bob.respond(sent)
    return PSIResult(alice.count(double, own), tuple(sent), tuple(double), tuple(own))
