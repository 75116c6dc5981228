"""Zero-knowledge proofs: prove you know a secret key, or that a committed value is a bit, and nothing more.

The group is RFC 3526's 2048-bit MODP group 14: the safe prime p = 2q + 1 and g = 2, which
generates the subgroup of prime order q. A secret x in [1, q) has public key y = g^x mod p.

- The **interactive** protocol: the prover commits t = g^k, the verifier challenges with a
  random c, the prover answers s = k + c·x mod q, and the verifier checks g^s = t·y^c. A
  simulator makes transcripts just like real ones without x, for a verifier that draws c at
  random whatever t is: Schnorr's protocol is *honest-verifier* zero knowledge (Boneh & Shoup,
  *A Graduate Course in Applied Cryptography*, ch. 19). A cheating prover succeeds with
  probability 2^-256 (guessing c); the key itself is as strong as the discrete logarithm in a
  2048-bit group, about 112 bits of security (NIST SP 800-57 Part 1 Rev. 5, Table 2).
- **Fiat–Shamir** (1986) replaces the verifier by a hash: c = SHA-256(group, y, t, message),
  giving a non-interactive proof bound to its message (a signature, in effect).
- The **nonce-reuse attack**: two proofs with the same k give x = (s₁ − s₂)/(c₁ − c₂) mod q.
  EdDSA (RFC 8032, §5.1.6) derives k by hashing the secret key with the message, so one key
  never signs two messages with one nonce; :func:`prove` draws k from the OS CSPRNG instead.
- **Bit proofs** (input validity, as in Prio — Corrigan-Gibbs & Boneh, NSDI 2017): a Pedersen
  commitment C = g^m · h^r hides m, and the Σ-protocol OR-proof of Cramer, Damgård and
  Schoenmakers (CRYPTO 1994), made non-interactive by Fiat–Shamir, shows m ∈ {0, 1} and
  nothing else. h is derived from a public seed (FIPS 186-4, A.2.3), so nobody knows log_g h.

The verifier accepts only canonical proofs: the public key and the commitment must be elements
of the order-q subgroup (1 < v < p and v^q ≡ 1 mod p), the response must lie in [0, q) and the
challenge in [1, q), so no proof has a second, re-encoded form (s + q, say). A malformed proof
— wrong types included — makes :func:`verify` and :func:`schnorr_check` return False; they raise
only for the verifier's own arguments (the public key, the message).

The secret x is a :class:`SchnorrSecret`, an opaque object: it does not print, format, convert
to an int, serialise to JSON or pickle. The kit's functions take it as it is;
:meth:`SchnorrSecret.reveal_exponent_insecure` hands out the number for a lesson that needs it.

The group's constants are RFC 3526's; SHA-256 comes from ``cryptography``; nonces and keys
from the OS CSPRNG (``secrets``) unless a lesson passes a seed. What it does not defend: Schnorr
is an identification scheme and nothing more — it does not hide *that* you hold the key; neither
kind of proof stops a replay of a non-interactive proof for the same message (bind it to a round
or an identity); a bit proof says nothing about *which* bit, so a party may still lie within
{0, 1}; and this code is not constant-time.
Neighbours: ``crypto`` (Ed25519 signatures, which are Schnorr signatures on a curve), ``he``.

References: C. P. Schnorr, *Efficient Signature Generation by Smart Cards*, J. Cryptology 1991;
A. Fiat and A. Shamir, *How to Prove Yourself*, CRYPTO 1986; RFC 3526 (the group); T. P.
Pedersen, *Non-Interactive and Information-Theoretic Secure Verifiable Secret Sharing*, CRYPTO
1991; R. Cramer, I. Damgård and B. Schoenmakers, *Proofs of Partial Knowledge and Simplified
Design of Witness Hiding Protocols*, CRYPTO 1994.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np

from . import crypto
from ._checks import RNG, as_bytes, lesson_generator

__all__ = [
    "BitProof",
    "G",
    "H",
    "P",
    "PedersenOpening",
    "Q",
    "SchnorrProof",
    "SchnorrSecret",
    "fiat_shamir_challenge",
    "pedersen_commit",
    "prove",
    "prove_bit",
    "prove_with_nonce_insecure",
    "recover_secret_from_nonce_reuse",
    "schnorr_challenge",
    "schnorr_check",
    "schnorr_commit",
    "schnorr_keypair",
    "schnorr_respond",
    "simulate_transcript",
    "verify",
    "verify_bit",
]

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


def fiat_shamir_challenge(public: int, commitment: int, message: bytes) -> int:
    """The challenge c of a non-interactive proof: what :func:`prove` and :func:`verify` hash.

    c = SHA-256("leptonkit-schnorr-v1" ‖ p ‖ g ‖ y ‖ t ‖ message), each group element as 256
    big-endian bytes. Anyone can compute it: it is public, like the verifier's challenge it replaces.

    Raises
    ------
    TypeError, ValueError
        If ``public`` is not an element of the order-q subgroup, ``commitment`` is not an int in
        (1, p), or ``message`` is not bytes-like.
    """
    public = _public_element(public, "public")
    as_int = _as_int(commitment)
    if as_int is None:
        raise TypeError(f"commitment must be an int, got {type(commitment).__name__}")
    if not 1 < as_int < P:
        raise ValueError("commitment must be in (1, p)")
    return _fiat_shamir_challenge(public, as_int, as_bytes(message, "message"))


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


# --- Pedersen commitments and the OR-proof that a committed value is a bit ----------------------


def _pedersen_generator() -> int:
    """h: FIPS 186-4 A.2.3's verifiable generation, W = SHA-256(seed ‖ "ggen" ‖ index ‖ count), h = W² mod p.

    Squaring (e = (p − 1)/q = 2) lands in the order-q subgroup; since W comes from a hash, nobody
    knows log_g h — which is what makes the commitment binding.
    """
    for count in range(1, 2**16):
        w = int.from_bytes(crypto.sha256(b"leptonkit-pedersen-h" + b"ggen" + bytes([1])
                                         + count.to_bytes(2, "big")), "big")
        h = pow(w, (P - 1) // Q, P)
        if h >= 2:
            return h
    raise AssertionError("unreachable: a hash output squares to 0 or 1 with probability 2^-255")


H = _pedersen_generator()   # the second generator of Pedersen commitments


class PedersenOpening:
    """What opens a Pedersen commitment: the value m and the blinding r with C = g^m · h^r mod p.

    The repr hides both: anyone who holds the opening knows the committed value. Normally made
    by :func:`pedersen_commit`.

    Parameters
    ----------
    value, blinding : int
        In [0, q) and [1, q).
    """

    __slots__ = ("_blinding", "_value")

    def __init__(self, value: int, blinding: int) -> None:
        for name, v, low in (("value", value, 0), ("blinding", blinding, 1)):
            if _as_int(v) is None:
                raise TypeError(f"{name} must be an int, got {type(v).__name__}")
            if not low <= int(v) < Q:
                raise ValueError(f"{name} must be in [{low}, q)")
        self._value, self._blinding = int(value), int(blinding)

    @property
    def value(self) -> int:
        """The committed value m."""
        return self._value

    @property
    def blinding(self) -> int:
        """The blinding exponent r."""
        return self._blinding

    def commitment(self) -> int:
        """C = g^m · h^r mod p."""
        return pow(G, self._value, P) * pow(H, self._blinding, P) % P

    def matches(self, commitment: Any) -> bool:
        """Whether this opening opens ``commitment``."""
        return _as_int(commitment) == self.commitment()

    def __repr__(self) -> str:
        return "PedersenOpening(<hidden>)"

    __str__ = __repr__


def pedersen_commit(value: int, rng: RNG = None) -> tuple[int, PedersenOpening]:
    """Commit to ``value``: C = g^value · h^r mod p with r uniform in [1, q) (Pedersen 1991).

    C hides the value perfectly (for every m there is an r giving the same C) and binds it
    computationally (a second opening gives log_g h). Commitments multiply to a commitment of
    the sum: C₁·C₂ opens to (m₁ + m₂, r₁ + r₂).

    Parameters
    ----------
    value
        An int in [0, q).
    rng
        None (OS CSPRNG) or a seed for a reproducible lesson.

    Returns
    -------
    tuple
        ``(commitment, opening)``: publish the first, keep the second.
    """
    if _as_int(value) is None:
        raise TypeError(f"value must be an int in [0, q), got {type(value).__name__}")
    if not 0 <= int(value) < Q:
        raise ValueError("value must be in [0, q)")
    opening = PedersenOpening(int(value), _below_q(rng))
    return opening.commitment(), opening


@dataclass(frozen=True)
class BitProof:
    """A non-interactive OR-proof that a commitment opens to 0 or 1.

    Branch i proves knowledge of log_h(Y_i), where Y₀ = C and Y₁ = C / g: commitments t_i,
    challenges c_i with c₀ + c₁ = the Fiat–Shamir challenge, responses s_i. A plain container:
    :func:`verify_bit` decides whether the values form a valid proof.
    """

    t0: int
    t1: int
    c0: int
    c1: int
    s0: int
    s1: int


def _bit_challenge(commitment: int, t0: int, t1: int, message: bytes | memoryview) -> int:
    def encode(v: int) -> bytes:
        return v.to_bytes(_ELEMENT_BYTES, "big")
    digest = crypto.sha256(b"leptonkit-bit-or-proof-v1" + encode(P) + encode(G) + encode(H)
                           + encode(commitment) + encode(t0) + encode(t1) + bytes(message))
    return int.from_bytes(digest, "big") % Q


def _statements(commitment: int) -> tuple[int, int]:
    """Y₀ = C (a commitment to 0 is h^r) and Y₁ = C · g^−1 (a commitment to 1 is g · h^r)."""
    return commitment, commitment * pow(G, -1, P) % P


def prove_bit(commitment: int, opening: PedersenOpening, message: bytes = b"", *,
              rng: RNG = None) -> BitProof:
    """Prove that ``commitment`` opens to 0 or 1 and nothing else (Cramer, Damgård & Schoenmakers 1994).

    The prover knows log_h(Y_b) for its bit b. It runs Schnorr's protocol honestly for branch
    b and *simulates* branch 1 − b (choosing its challenge and response first, as
    :func:`simulate_transcript` does); the Fiat–Shamir challenge c fixes c_b = c − c_{1−b}.
    Both branches look alike, so the proof does not say which one was real.

    Parameters
    ----------
    commitment
        The published commitment, an element of the order-q subgroup.
    opening
        Its :class:`PedersenOpening`, which must open it to 0 or 1.
    message
        Bytes the proof is bound to (a round number, the client's identity), so it cannot be
        replayed elsewhere.
    rng
        None (OS CSPRNG) or a seed for a reproducible lesson.

    Raises
    ------
    TypeError, ValueError
        If ``commitment`` is not a subgroup element, ``opening`` is not a PedersenOpening that
        opens it, its value is not a bit (no proof exists for 2), or ``message`` is not bytes-like.
    """
    commitment = _public_element(commitment, "commitment")
    if not isinstance(opening, PedersenOpening):
        raise TypeError(f"opening must be a PedersenOpening, got {type(opening).__name__}")
    if not opening.matches(commitment):
        raise ValueError("opening does not open the commitment")
    if opening.value not in (0, 1):
        raise ValueError("opening must open the commitment to 0 or 1: an OR-proof of a bit exists "
                         "for no other value")
    message = as_bytes(message, "message")
    generator = lesson_generator(rng)
    bit, statements = opening.value, _statements(commitment)
    fake = 1 - bit
    c_fake, s_fake = _below_q(generator), _below_q(generator)
    t_fake = pow(H, s_fake, P) * pow(statements[fake], -c_fake, P) % P
    k = _below_q(generator)
    t_real = pow(H, k, P)
    t = (t_real, t_fake) if bit == 0 else (t_fake, t_real)
    c_real = (_bit_challenge(commitment, t[0], t[1], message) - c_fake) % Q
    s_real = (k + c_real * opening.blinding) % Q
    c, s = ((c_real, c_fake), (s_real, s_fake)) if bit == 0 else ((c_fake, c_real), (s_fake, s_real))
    return BitProof(t[0], t[1], c[0], c[1], s[0], s[1])


def verify_bit(commitment: int, proof: Any, message: bytes = b"") -> bool:
    """True when ``proof`` shows that ``commitment`` opens to 0 or 1, for ``message``.

    Checks c₀ + c₁ ≡ the Fiat–Shamir challenge (mod q) and h^(s_i) = t_i · Y_i^(c_i) for both
    branches. A malformed proof — not a :class:`BitProof`, fields that are not ints, t_i outside
    the order-q subgroup, c_i or s_i outside [0, q) — returns False.

    Raises
    ------
    TypeError, ValueError
        If ``commitment`` is not an element of the order-q subgroup, or ``message`` is not bytes-like.
    """
    commitment = _public_element(commitment, "commitment")
    message = as_bytes(message, "message")
    if not isinstance(proof, BitProof):
        return False
    values = [_as_int(v) for v in (proof.t0, proof.t1, proof.c0, proof.c1, proof.s0, proof.s1)]
    if any(v is None for v in values):
        return False
    t0, t1, c0, c1, s0, s1 = values
    if not (_in_subgroup(t0) and _in_subgroup(t1) and all(0 <= v < Q for v in (c0, c1, s0, s1))):
        return False
    if (c0 + c1) % Q != _bit_challenge(commitment, t0, t1, message):
        return False
    y0, y1 = _statements(commitment)
    return (pow(H, s0, P) == t0 * pow(y0, c0, P) % P) and (pow(H, s1, P) == t1 * pow(y1, c1, P) % P)
