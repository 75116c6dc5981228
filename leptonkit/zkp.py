"""Zero-knowledge proofs: prove you know a secret key without revealing it (Schnorr 1991).

The group is RFC 3526's 2048-bit MODP group 14: the safe prime p = 2q + 1 and g = 2, which
generates the subgroup of prime order q. A secret x in [1, q) has public key y = g^x mod p.

- The **interactive** protocol: the prover commits t = g^k, the verifier challenges with a
  random c, the prover answers s = k + c·x mod q, and the verifier checks g^s = t·y^c. A
  simulator makes transcripts just like real ones without x — that is what "zero knowledge" means.
- **Fiat–Shamir** (1986) replaces the verifier by a hash: c = SHA-256(group, y, t, message),
  giving a non-interactive proof bound to its message (a signature, in effect).
- The **nonce-reuse attack**: two proofs with the same k give x = (s₁ − s₂)/(c₁ − c₂) mod q.

The group's constants are RFC 3526's; SHA-256 comes from ``cryptography``; nonces and keys
from the OS CSPRNG (``secrets``) unless a lesson passes a seed. What it does not defend: it is
an identification scheme and nothing more — it does not hide *that* you hold the key, does not
stop a replayed non-interactive proof for the same message, and this code is not constant-time.
Neighbours: ``crypto`` (Ed25519 signatures, which are Schnorr signatures on a curve), ``he``.

References: C. P. Schnorr, *Efficient Signature Generation by Smart Cards*, J. Cryptology 1991;
A. Fiat and A. Shamir, *How to Prove Yourself*, CRYPTO 1986; RFC 3526 (the group).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

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


class SchnorrSecret(int):
    """The secret exponent x: an int whose repr and str never show its value."""

    def __repr__(self) -> str:
        return "SchnorrSecret(<hidden>)"

    __str__ = __repr__


@dataclass(frozen=True)
class SchnorrProof:
    """A non-interactive proof: the commitment t = g^k and the response s = k + c·x mod q."""

    commitment: int
    response: int


def _below_q(rng: RNG) -> int:
    """A uniform integer in [1, q): OS CSPRNG when rng is None, else the lesson's generator."""
    generator = lesson_generator(rng)
    if generator is None:
        return secrets.randbelow(Q - 1) + 1
    # 64 bits more than q has: the modulo's bias is below 2^-64
    return int.from_bytes(generator.bytes(Q.bit_length() // 8 + 9), "big") % (Q - 1) + 1


def _element(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not 1 < value < P - 1 or pow(value, Q, P) != 1:
        raise ValueError(f"{name} must be an element of the order-q subgroup of RFC 3526 group 14")
    return value


def schnorr_keypair(rng: RNG = None) -> tuple[SchnorrSecret, int]:
    """A secret x, uniform in [1, q), and its public key y = g^x mod p.

    ``rng=None`` draws x from the OS CSPRNG; a seed makes a lesson reproducible (never a real key).
    """
    x = _below_q(rng)
    return SchnorrSecret(x), pow(G, x, P)


# --- the interactive protocol -------------------------------------------------------------------


def schnorr_commit(rng: RNG = None) -> tuple[int, int]:
    """The prover's first move: a fresh nonce k (kept secret) and the commitment t = g^k."""
    k = _below_q(rng)
    return k, pow(G, k, P)


def schnorr_challenge(rng: RNG = None) -> int:
    """The verifier's move: a random challenge c of ``CHALLENGE_BITS`` bits."""
    generator = lesson_generator(rng)
    if generator is None:
        return secrets.randbits(CHALLENGE_BITS)
    return int.from_bytes(generator.bytes(CHALLENGE_BITS // 8), "big")


def schnorr_respond(secret: int, nonce: int, challenge: int) -> int:
    """The prover's answer s = k + c·x mod q. Without x, no one can answer two challenges for one t."""
    return (nonce + challenge * secret) % Q


def schnorr_check(public: int, commitment: int, challenge: int, response: int) -> bool:
    """The verifier's check: g^s = t · y^c (mod p)."""
    public, commitment = _element(public, "public"), _element(commitment, "commitment")
    return pow(G, response % Q, P) == commitment * pow(public, challenge, P) % P


def simulate_transcript(public: int, rng: RNG = None) -> tuple[int, int, int]:
    """A transcript (t, c, s) that passes :func:`schnorr_check`, made without the secret.

    Pick c and s first, then t = g^s · y^(−c). Its distribution is the same as an honest run's,
    so a transcript proves nothing to a third party: only the verifier who chose c *before*
    seeing t is convinced. That is the zero-knowledge property.
    """
    public, generator = _element(public, "public"), lesson_generator(rng)
    c, s = schnorr_challenge(generator), _below_q(generator)
    return pow(G, s, P) * pow(public, -c, P) % P, c, s


# --- Fiat–Shamir ---------------------------------------------------------------------------------


def _fiat_shamir_challenge(public: int, commitment: int, message: bytes) -> int:
    def encode(v: int) -> bytes:
        return v.to_bytes(256, "big")
    digest = crypto.sha256(b"leptonkit-schnorr-v1" + encode(P) + encode(G) + encode(public)
                           + encode(commitment) + bytes(message))
    return int.from_bytes(digest, "big")


def prove(secret: int, message: bytes) -> SchnorrProof:
    """A non-interactive proof of knowledge of ``secret``, bound to ``message`` (fresh nonce)."""
    return prove_with_nonce_insecure(secret, message, nonce=_below_q(None))


def prove_with_nonce_insecure(secret: int, message: bytes, *, nonce: int) -> SchnorrProof:
    """:func:`prove` with a caller-chosen nonce — for the nonce-reuse lesson only.

    A nonce used twice, or a predictable one, gives the secret away
    (:func:`recover_secret_from_nonce_reuse`). Real code calls :func:`prove`.
    """
    if isinstance(secret, bool) or not isinstance(secret, int) or not 1 <= secret < Q:
        raise ValueError("secret must be an int in [1, q): use schnorr_keypair()")
    message = as_bytes(message, "message")
    public = pow(G, secret, P)
    commitment = pow(G, nonce, P)
    challenge = _fiat_shamir_challenge(public, commitment, message)
    return SchnorrProof(commitment, schnorr_respond(secret, nonce, challenge))


def verify(public: int, message: bytes, proof: SchnorrProof) -> bool:
    """True when ``proof`` shows knowledge of log_g(public) and was made for ``message``."""
    message = as_bytes(message, "message")
    if not isinstance(proof, SchnorrProof):
        raise TypeError(f"proof must be a SchnorrProof, got {type(proof).__name__}")
    try:
        challenge = _fiat_shamir_challenge(public, proof.commitment, message)
        return schnorr_check(public, proof.commitment, challenge, proof.response)
    except (TypeError, ValueError):
        return False


def recover_secret_from_nonce_reuse(public: int, message1: bytes, proof1: SchnorrProof,
                                    message2: bytes, proof2: SchnorrProof) -> int:
    """The attack: from two proofs with one commitment (one nonce), x = (s₁ − s₂)/(c₁ − c₂) mod q.

    Raises ``ValueError`` if the proofs do not share a commitment, or their challenges are equal
    (the same message twice gives the same proof and nothing to subtract).
    """
    if proof1.commitment != proof2.commitment:
        raise ValueError("the proofs have different commitments: the nonce was not reused")
    c1 = _fiat_shamir_challenge(public, proof1.commitment, as_bytes(message1, "message1"))
    c2 = _fiat_shamir_challenge(public, proof2.commitment, as_bytes(message2, "message2"))
    if (c1 - c2) % Q == 0:
        raise ValueError("the two challenges are equal: use proofs of two different messages")
    return (proof1.response - proof2.response) * pow(c1 - c2, -1, Q) % Q
