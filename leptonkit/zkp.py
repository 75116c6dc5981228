"""Zero-knowledge proofs: prove you know a secret key without revealing it (Schnorr 1991).

The group is RFC 3526's 2048-bit MODP group 14: the safe prime p = 2q + 1 and g = 2, which
generates the subgroup of prime order q. A secret x in [1, q) has public key y = g^x mod p.

- The **interactive** protocol: the prover commits t = g^k, the verifier challenges with a
  random c, the prover answers s = k + c·x mod q, and the verifier checks g^s = t·y^c. A
  simulator makes transcripts just like real ones without x — that is what "zero knowledge" means.
- **Fiat–Shamir** (1986) replaces the verifier by a hash: c = SHA-256(group, y, t, message),
  giving a non-interactive proof bound to its message (a signature, in effect).
- The **nonce-reuse attack**: two proofs with the same k give x = (s₁ − s₂)/(c₁ − c₂) mod q.

The verifier accepts only canonical proofs: the public key and the commitment must be elements
of the order-q subgroup (1 < v < p and v^q ≡ 1 mod p), the response must lie in [0, q) and the
challenge in [1, q), so no proof has a second, re-encoded form (s + q, say). A malformed proof
— wrong types included — makes :func:`verify` and :func:`schnorr_check` return False; they raise
only for the verifier's own arguments (the public key, the message).

The secret x is a :class:`SchnorrSecret`, an opaque object: it does not print, format, convert
to an int, serialise to JSON or pickle. The kit's functions take it as it is;
:meth:`SchnorrSecret.reveal_exponent_insecure` hands out the number for a lesson that needs it.

The group's constants are RFC 3526's; SHA-256 comes from ``cryptography``; nonces and keys
from the OS CSPRNG (``secrets``) unless a lesson passes a seed. What it does not defend: it is
an identification scheme and nothing more — it does not hide *that* you hold the key, does not
stop a replayed non-interactive proof for the same message, and this code is not constant-time.
Neighbours: ``crypto`` (Ed25519 signatures, which are Schnorr signatures on a curve), ``he``.

References: C. P. Schnorr, *Efficient Signature Generation by Smart Cards*, J. Cryptology 1991;
A. Fiat and A. Shamir, *How to Prove Yourself*, CRYPTO 1986; RFC 3526 (the group).
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np

from . import crypto
from ._checks import RNG, as_bytes, lesson_generator

__all__ = ["G", "P", "Q", "SchnorrProof", "SchnorrSecret", "prove", "prove_with_nonce_insecure",
           "recover_secret_from_nonce_reuse", "schnorr_challenge", "schnorr_check", "schnorr_commit",
           "schnorr_keypair", "schnorr_respond", "simulate_transcript", "verify"]

P = int(  # RFC 3526, section 3: 2048-bit MODP Group (group 14)
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AACAA68FFFFFFFFFFFFFFFF", 16)
Q = (P - 1) // 2   # the prime order of the subgroup that G generates
G = 2
CHALLENGE_BITS = 256
_ELEMENT_BYTES = (P.bit_length() + 7) // 8   # 256: how group elements enter the Fiat–Shamir hash


class SchnorrSecret:
    """The secret exponent x, kept opaque: it never prints, formats, converts or serialises.

    ``repr``, ``str`` and ``format(x, "")`` show ``SchnorrSecret(<hidden>)``; a numeric format
    (``f"{x:d}"``), ``int(x)``, ``hex(x)``, ``json.dumps(x)``, ``pickle`` and ``copy`` raise
    ``TypeError``. Pass it to :func:`prove`, :func:`schnorr_respond` and friends as it is.

    Parameters
    ----------
    exponent : int
        The secret, in [1, q). Normally made by :func:`schnorr_keypair`.

    Raises
    ------
    TypeError, ValueError
        If ``exponent`` is not an int in [1, q) (the message never shows the value).

    Examples
    --------
    >>> secret, public = schnorr_keypair()
    >>> print(secret, f"{secret}")
    SchnorrSecret(<hidden>) SchnorrSecret(<hidden>)
    >>> verify(public, b"model v2", prove(secret, b"model v2"))
    True
    >>> pow(G, secret.reveal_exponent_insecure(), P) == public
    True
    """

    __slots__ = ("__exponent",)

    def __init__(self, exponent: int) -> None:
        self.__exponent = _secret_exponent(exponent, "exponent")

    def reveal_exponent_insecure(self) -> int:
        """The secret exponent x as a plain int — which prints like any int.

        For lessons and tests only: once revealed, nothing stops the number from being logged.
        """
        return self.__exponent

    def public_key(self) -> int:
        """The public key y = g^x mod p that belongs to this secret."""
        return pow(G, self.__exponent, P)

    def __repr__(self) -> str:
        return "SchnorrSecret(<hidden>)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        if spec:
            raise TypeError(f"SchnorrSecret does not format as a number (format spec {spec!r}): "
                            "its value is hidden")
        return repr(self)

    def __int__(self) -> NoReturn:
        raise TypeError("SchnorrSecret does not convert to an int: its value is hidden "
                        "(reveal_exponent_insecure() returns it, for lessons only)")

    __index__ = __int__

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError("SchnorrSecret cannot be pickled or copied: a secret key is not serialised")

    def __getstate__(self) -> NoReturn:
        raise TypeError("SchnorrSecret cannot be pickled or copied: a secret key is not serialised")


@dataclass(frozen=True)
class SchnorrProof:
    """A non-interactive proof: the commitment t = g^k and the response s = k + c·x mod q.

    A plain container: any values may be stored (a proof read from the network, say), and
    :func:`verify` decides whether they form a valid proof.
    """

    commitment: int
    response: int


def _below_q(rng: RNG) -> int:
    """A uniform integer in [1, q): OS CSPRNG when rng is None, else the lesson's generator."""
    generator = lesson_generator(rng)
    if generator is None:
        return secrets.randbelow(Q - 1) + 1
    # 64 bits more than q has: the modulo's bias is below 2^-64
    return int.from_bytes(generator.bytes(Q.bit_length() // 8 + 9), "big") % (Q - 1) + 1


def _as_int(value: Any) -> int | None:
    """``value`` as an int if it is a Python or numpy integer (not a bool); else None."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    return None


def _in_subgroup(value: int) -> bool:
    """Whether the int ``value`` is in the order-q subgroup: 1 < value < p and value^q ≡ 1 (mod p).

    The identity 1 is excluded (g^0 is no key and no commitment); p − 1 has order 2.
    """
    return 1 < value < P and _has_order_q(value)


@functools.lru_cache(maxsize=256)
def _has_order_q(value: int) -> bool:
    # Cached (values in (1, p) only): keys and commitments are public, and one public key is
    # checked again and again.
    return pow(value, Q, P) == 1


def _public_element(value: Any, name: str) -> int:
    """The verifier's own argument: raise, naming ``name``, unless it is a subgroup element."""
    as_int = _as_int(value)
    if as_int is None:
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    value = as_int
    if not _in_subgroup(value):
        raise ValueError(f"{name} must be an element of the order-q subgroup of RFC 3526 group 14 "
                         "(1 < y < p and y^q ≡ 1 mod p)")
    return value


def _secret_exponent(value: Any, name: str) -> int:
    """A secret exponent or nonce as an int in [1, q); errors never show the value."""
    if isinstance(value, SchnorrSecret):
        return value.reveal_exponent_insecure()
    as_int = _as_int(value)
    if as_int is None:
        raise TypeError(f"{name} must be a SchnorrSecret or an int in [1, q), got {type(value).__name__}")
    value = as_int
    if not 1 <= value < Q:
        raise ValueError(f"{name} must be in [1, q) (use schnorr_keypair() / schnorr_commit())")
    return value


def schnorr_keypair(rng: RNG = None) -> tuple[SchnorrSecret, int]:
    """A secret x, uniform in [1, q), and its public key y = g^x mod p.

    ``rng=None`` draws x from the OS CSPRNG; a seed makes a lesson reproducible (never a real key).
    """
    secret = SchnorrSecret(_below_q(rng))
    return secret, secret.public_key()


# --- the interactive protocol -------------------------------------------------------------------


def schnorr_commit(rng: RNG = None) -> tuple[int, int]:
    """The prover's first move: a fresh nonce k (kept secret) and the commitment t = g^k."""
    k = _below_q(rng)
    return k, pow(G, k, P)


def schnorr_challenge(rng: RNG = None) -> int:
    """The verifier's move: a random nonzero challenge c of ``CHALLENGE_BITS`` bits."""
    generator = lesson_generator(rng)
    while True:
        if generator is None:
            c = secrets.randbits(CHALLENGE_BITS)
        else:
            c = int.from_bytes(generator.bytes(CHALLENGE_BITS // 8), "big")
        if c:   # c = 0 would let anyone answer (g^s = t); drawn with probability 2^-256
            return c


def schnorr_respond(secret: SchnorrSecret | int, nonce: int, challenge: int) -> int:
    """The prover's answer s = k + c·x mod q. Without x, no one can answer two challenges for one t.

    Raises
    ------
    TypeError, ValueError
        If ``secret`` or ``nonce`` is not in [1, q), or ``challenge`` is not an int in [1, q).
    """
    x, k = _secret_exponent(secret, "secret"), _secret_exponent(nonce, "nonce")
    c = _as_int(challenge)
    if c is None:
        raise TypeError(f"challenge must be an int, got {type(challenge).__name__}")
    if not 1 <= c < Q:
        raise ValueError("challenge must be in [1, q)")
    return (k + c * x) % Q


def schnorr_check(public: int, commitment: Any, challenge: Any, response: Any) -> bool:
    """The verifier's check: g^s = t · y^c (mod p), for a canonical transcript only.

    Returns False unless ``commitment`` is a subgroup element, ``challenge`` is in [1, q) and
    ``response`` in [0, q) — whatever their types — and the equation holds.

    Raises
    ------
    TypeError, ValueError
        If ``public`` (the verifier's own input) is not an element of the order-q subgroup.
    """
    public = _public_element(public, "public")
    return _check(public, commitment, challenge, response)


def _check(public: int, commitment: Any, challenge: Any, response: Any) -> bool:
    t, c, s = _as_int(commitment), _as_int(challenge), _as_int(response)
    if t is None or c is None or s is None:
        return False
    if not (1 <= c < Q and 0 <= s < Q and _in_subgroup(t)):
        return False
    return pow(G, s, P) == t * pow(public, c, P) % P


def simulate_transcript(public: int, rng: RNG = None) -> tuple[int, int, int]:
    """A transcript (t, c, s) that passes :func:`schnorr_check`, made without the secret.

    Pick c and s first, then t = g^s · y^(−c). Its distribution is the same as an honest run's,
    so a transcript proves nothing to a third party: only the verifier who chose c *before*
    seeing t is convinced. That is the zero-knowledge property.
    """
    public, generator = _public_element(public, "public"), lesson_generator(rng)
    c, s = schnorr_challenge(generator), _below_q(generator)
    return pow(G, s, P) * pow(public, -c, P) % P, c, s


# --- Fiat–Shamir ---------------------------------------------------------------------------------


def _fiat_shamir_challenge(public: int, commitment: int, message: bytes | memoryview) -> int:
    """c = SHA-256(domain, p, g, y, t, message); ``public`` and ``commitment`` are in [0, p)."""
    def encode(v: int) -> bytes:
        return v.to_bytes(_ELEMENT_BYTES, "big")
    digest = crypto.sha256(b"leptonkit-schnorr-v1" + encode(P) + encode(G) + encode(public)
                           + encode(commitment) + bytes(message))
    return int.from_bytes(digest, "big")


def prove(secret: SchnorrSecret | int, message: bytes) -> SchnorrProof:
    """A non-interactive proof of knowledge of ``secret``, bound to ``message`` (fresh nonce)."""
    return prove_with_nonce_insecure(secret, message, nonce=_below_q(None))


def prove_with_nonce_insecure(secret: SchnorrSecret | int, message: bytes, *, nonce: int) -> SchnorrProof:
    """:func:`prove` with a caller-chosen nonce — for the nonce-reuse lesson only.

    A nonce used twice, or a predictable one, gives the secret away
    (:func:`recover_secret_from_nonce_reuse`). Real code calls :func:`prove`.

    Raises
    ------
    TypeError, ValueError
        If ``secret`` or ``nonce`` is not in [1, q) (use :func:`schnorr_keypair`), or
        ``message`` is not bytes-like.
    """
    x = _secret_exponent(secret, "secret")
    message = as_bytes(message, "message")
    k = _secret_exponent(nonce, "nonce")
    public = pow(G, x, P)
    commitment = pow(G, k, P)
    challenge = _fiat_shamir_challenge(public, commitment, message)
    return SchnorrProof(commitment, (k + challenge * x) % Q)


def verify(public: int, message: bytes, proof: Any) -> bool:
    """True when ``proof`` shows knowledge of log_g(public) and was made for ``message``.

    Every malformed proof returns False: not a :class:`SchnorrProof`, fields that are not ints,
    a commitment outside the order-q subgroup, a response outside [0, q) (so s + q is refused).

    Raises
    ------
    TypeError, ValueError
        If ``public`` is not an element of the order-q subgroup, or ``message`` is not bytes-like.
    """
    public = _public_element(public, "public")
    message = as_bytes(message, "message")
    if not isinstance(proof, SchnorrProof):
        return False
    commitment = _as_int(proof.commitment)
    if commitment is None or not 1 < commitment < P:
        return False
    challenge = _fiat_shamir_challenge(public, commitment, message)
    return _check(public, commitment, challenge, proof.response)


def recover_secret_from_nonce_reuse(public: int, message1: bytes, proof1: SchnorrProof,
                                    message2: bytes, proof2: SchnorrProof) -> int:
    """The attack: from two proofs with one commitment (one nonce), x = (s₁ − s₂)/(c₁ − c₂) mod q.

    Returns the recovered exponent as a plain int (the lesson checks it against ``public``).

    Raises
    ------
    TypeError
        If a proof is not a :class:`SchnorrProof` of ints, or a message is not bytes-like.
    ValueError
        If ``public`` is not a subgroup element, the proofs do not share a commitment, or their
        challenges are equal (the same message twice gives the same proof and nothing to subtract).
    """
    public = _public_element(public, "public")
    for name, proof in (("proof1", proof1), ("proof2", proof2)):
        if not isinstance(proof, SchnorrProof):
            raise TypeError(f"{name} must be a SchnorrProof, got {type(proof).__name__}")
        if _as_int(proof.commitment) is None or _as_int(proof.response) is None:
            raise TypeError(f"{name} must hold an int commitment and response")
        if not 1 < proof.commitment < P:
            raise ValueError(f"{name}.commitment must be in (1, p)")
    commitment = int(proof1.commitment)
    if commitment != int(proof2.commitment):
        raise ValueError("the proofs have different commitments: the nonce was not reused")
    c1 = _fiat_shamir_challenge(public, commitment, as_bytes(message1, "message1"))
    c2 = _fiat_shamir_challenge(public, commitment, as_bytes(message2, "message2"))
    if (c1 - c2) % Q == 0:
        raise ValueError("the two challenges are equal: use proofs of two different messages")
    return (int(proof1.response) - int(proof2.response)) * pow(c1 - c2, -1, Q) % Q
