"""leptonkit.zkp's Pedersen commitments and bit OR-proofs, against their defining properties.

Completeness (both bits prove and verify), soundness (a commitment to 2 has no proof: neither
the prover nor a cheater running the prover's algorithm on either branch produces one that
verifies), binding to the message, the honest-verifier simulation of one branch, and the
public Fiat–Shamir challenge that notebook 07's exercise 07.4 recomputes.
"""

from __future__ import annotations

import dataclasses

import pytest

from leptonkit import zkp


@pytest.mark.parametrize("bit", [0, 1])
def test_both_bits_prove_and_verify(bit):
    commitment, opening = zkp.pedersen_commit(bit, rng=bit)
    assert opening.matches(commitment) and opening.value == bit
    proof = zkp.prove_bit(commitment, opening, b"round 7, client 3", rng=10 + bit)
    assert zkp.verify_bit(commitment, proof, b"round 7, client 3")
    assert not zkp.verify_bit(commitment, proof, b"round 8, client 3")   # bound to its message
    other, _ = zkp.pedersen_commit(bit, rng=20 + bit)
    assert not zkp.verify_bit(other, proof, b"round 7, client 3")         # and to its commitment


def test_a_commitment_hides_the_bit_and_commitments_add():
    c0, o0 = zkp.pedersen_commit(0, rng=1)
    c1, o1 = zkp.pedersen_commit(1, rng=1)          # same blinding: the commitments still differ
    assert c0 != c1 and o0.blinding == o1.blinding
    # the same C opens to 1 with another blinding r' = r − log_h g: nobody can compute r', but it exists
    total = c0 * c1 % zkp.P
    assert zkp.PedersenOpening(1, (o0.blinding + o1.blinding) % zkp.Q).matches(total)


def _cheat(commitment: int, blinding: int, pretend: int) -> zkp.BitProof:
    """The honest prover's algorithm run for branch ``pretend`` with a witness that is not one."""
    y = (commitment, commitment * pow(zkp.G, -1, zkp.P) % zkp.P)
    fake, k = 1 - pretend, 12345
    c_fake, s_fake = 777, 888
    t_fake = pow(zkp.H, s_fake, zkp.P) * pow(y[fake], -c_fake, zkp.P) % zkp.P
    t_real = pow(zkp.H, k, zkp.P)
    t = (t_real, t_fake) if pretend == 0 else (t_fake, t_real)
    c = zkp._bit_challenge(commitment, t[0], t[1], b"")
    c_real = (c - c_fake) % zkp.Q
    s_real = (k + c_real * blinding) % zkp.Q
    if pretend == 0:
        return zkp.BitProof(t[0], t[1], c_real, c_fake, s_real, s_fake)
    return zkp.BitProof(t[0], t[1], c_fake, c_real, s_fake, s_real)


def test_a_commitment_to_two_cannot_be_proved():
    commitment, opening = zkp.pedersen_commit(2, rng=3)
    with pytest.raises(ValueError, match="0 or 1"):
        zkp.prove_bit(commitment, opening)
    for pretend in (0, 1):      # the cheater knows r, but C = g²hʳ is neither hʳ' nor g·hʳ' for a known r'
        assert not zkp.verify_bit(commitment, _cheat(commitment, opening.blinding, pretend))
    # the same cheat on an honest commitment to the bit it pretends is a valid proof: the test can fail
    for bit in (0, 1):
        honest, honest_opening = zkp.pedersen_commit(bit, rng=4)
        assert zkp.verify_bit(honest, _cheat(honest, honest_opening.blinding, bit))


def test_a_proof_for_one_bit_does_not_move_to_the_other_commitment():
    c0, o0 = zkp.pedersen_commit(0, rng=5)
    proof = zkp.prove_bit(c0, o0, rng=6)
    assert zkp.verify_bit(c0, proof) and not zkp.verify_bit(c0 * zkp.G % zkp.P, proof)


def test_malformed_proofs_are_refused_and_bad_arguments_named():
    commitment, opening = zkp.pedersen_commit(1, rng=7)
    proof = zkp.prove_bit(commitment, opening, rng=8)
    for bad in (dataclasses.replace(proof, s0=proof.s0 + zkp.Q), dataclasses.replace(proof, c1=-1),
                dataclasses.replace(proof, t0=1), dataclasses.replace(proof, t1="x"), "proof", None,
                dataclasses.replace(proof, c0=proof.c1, c1=proof.c0)):
        assert zkp.verify_bit(commitment, bad) is False
    with pytest.raises(ValueError, match="commitment"):
        zkp.verify_bit(1, proof)
    with pytest.raises(TypeError, match="message"):
        zkp.verify_bit(commitment, proof, "text")
    with pytest.raises(ValueError, match="opening does not open"):
        zkp.prove_bit(commitment, zkp.PedersenOpening(1, 5))
    with pytest.raises(TypeError, match="opening"):
        zkp.prove_bit(commitment, (1, 5))
    with pytest.raises(ValueError, match="value"):
        zkp.pedersen_commit(zkp.Q)
    with pytest.raises(TypeError, match="value"):
        zkp.pedersen_commit(1.0)


def test_openings_hide_their_numbers():
    _, opening = zkp.pedersen_commit(1, rng=9)
    assert str(opening.blinding) not in repr(opening) and "hidden" in repr(opening)
    assert "hidden" in str(opening) and "hidden" in f"{opening}"


def test_h_is_in_the_subgroup_and_is_not_g():
    assert zkp.H not in (1, zkp.G) and pow(zkp.H, zkp.Q, zkp.P) == 1


def test_the_fiat_shamir_challenge_is_the_one_verify_uses():
    secret, public = zkp.schnorr_keypair(rng=11)
    proof = zkp.prove_with_nonce_insecure(secret, b"m", nonce=99)
    c = zkp.fiat_shamir_challenge(public, proof.commitment, b"m")
    x = secret.reveal_exponent_insecure()
    assert proof.response == (99 + c * x) % zkp.Q
    assert zkp.fiat_shamir_challenge(public, proof.commitment, b"n") != c
    with pytest.raises(ValueError, match="commitment"):
        zkp.fiat_shamir_challenge(public, 1, b"m")
    with pytest.raises(TypeError, match="commitment"):
        zkp.fiat_shamir_challenge(public, "t", b"m")
