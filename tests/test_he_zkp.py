"""leptonkit.he (Paillier) and leptonkit.zkp (Schnorr) against their defining properties."""

from __future__ import annotations

import numpy as np
import pytest

from leptonkit import he, zkp

# --- Paillier ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def paillier():
    return he.generate_paillier_keypair(2048)


def test_paillier_modulus_has_the_requested_size_and_primes_from_rsa(paillier):
    private, public = paillier
    assert public.n.bit_length() == 2048
    assert private._p * private._q == public.n and private._p != private._q


@pytest.mark.parametrize("m", [0, 1, -1, 2**100, -(2**100), 123456789])
def test_paillier_round_trip(paillier, m):
    private, public = paillier
    assert private.decrypt(public.encrypt(m)) == m


def test_paillier_is_randomised(paillier):
    _, public = paillier
    assert public.encrypt(5).value != public.encrypt(5).value


def test_paillier_homomorphisms_are_exact(paillier):
    private, public = paillier
    rng = np.random.default_rng(0)
    for a, b, k in rng.integers(-10**12, 10**12, size=(5, 3)).tolist():
        ea, eb = public.encrypt(a), public.encrypt(b)
        assert private.decrypt(ea + eb) == a + b
        assert private.decrypt(ea + b) == a + b
        assert private.decrypt(b + ea) == a + b
        assert private.decrypt(ea * k) == a * k
        assert private.decrypt(k * ea) == a * k


def test_encrypted_sum_of_vectors(paillier):
    private, public = paillier
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(3, 4))
    total = he.decrypt_vector(he.encrypted_sum([he.encrypt_vector(v, public) for v in vectors]), private)
    exact = np.round(vectors * he.FIXED_POINT_SCALE).sum(axis=0) / he.FIXED_POINT_SCALE
    assert np.array_equal(total, exact)


def test_paillier_keys_and_ciphertexts_hide_secrets_in_repr(paillier):
    private, public = paillier
    text = repr(private) + repr(public) + repr(public.encrypt(7))
    assert str(private._p) not in text and str(private._q) not in text and "hidden" in repr(private)


def test_paillier_refuses_mixing_keys(paillier):
    private, public = paillier
    _, other_public = he.generate_paillier_keypair(1024)
    with pytest.raises(ValueError, match="different public keys"):
        public.encrypt(1) + other_public.encrypt(1)
    with pytest.raises(ValueError, match="different public key"):
        private.decrypt(other_public.encrypt(1))


@pytest.mark.parametrize("call, error, name", [
    (lambda pub: pub.encrypt(1.5), TypeError, "plaintext"),
    (lambda pub: pub.encrypt("1"), TypeError, "plaintext"),
    (lambda pub: pub.encrypt(True), TypeError, "plaintext"),
    (lambda pub: pub.encrypt(pub.n), ValueError, "plaintext"),
    (lambda pub: pub.encrypt(1) * 0.5, TypeError, "k"),
    (lambda pub: he.encrypt_vector([np.nan], pub), ValueError, "finite"),
    (lambda pub: he.encrypted_sum([]), ValueError, "vectors"),
])
def test_paillier_bad_inputs(paillier, call, error, name):
    with pytest.raises(error, match=name):
        call(paillier[1])


@pytest.mark.parametrize("bits, error", [(512, ValueError), (1000, ValueError), (2048.0, TypeError)])
def test_paillier_key_size_is_checked(bits, error):
    with pytest.raises(error, match="bits"):
        he.generate_paillier_keypair(bits)


# --- Schnorr -----------------------------------------------------------------------------------


def test_the_group_is_rfc_3526_group_14():
    assert zkp.P.bit_length() == 2048 and zkp.P % 8 == 7        # so 2 is a quadratic residue
    assert pow(zkp.G, zkp.Q, zkp.P) == 1                      # g generates the order-q subgroup
    for a in (2, 3, 5, 7, 11):                                # p and q pass Fermat's test
        assert pow(a, zkp.P - 1, zkp.P) == 1 and pow(a, zkp.Q - 1, zkp.Q) == 1
    assert hex(zkp.P).endswith("15728e5a8aacaa68ffffffffffffffff")


def test_interactive_protocol_is_complete():
    secret, public = zkp.schnorr_keypair()
    for _ in range(5):
        nonce, commitment = zkp.schnorr_commit()
        challenge = zkp.schnorr_challenge()
        assert zkp.schnorr_check(public, commitment, challenge, zkp.schnorr_respond(secret, nonce, challenge))


def test_a_prover_without_the_secret_fails():
    _, public = zkp.schnorr_keypair()
    wrong, _ = zkp.schnorr_keypair()
    nonce, commitment = zkp.schnorr_commit()
    challenge = zkp.schnorr_challenge()
    assert not zkp.schnorr_check(public, commitment, challenge, zkp.schnorr_respond(wrong, nonce, challenge))


def test_simulated_transcripts_verify_without_the_secret():
    _, public = zkp.schnorr_keypair(rng=1)
    for seed in range(5):
        assert zkp.schnorr_check(public, *zkp.simulate_transcript(public, rng=seed))


def test_fiat_shamir_proof_is_complete_and_bound_to_its_message():
    secret, public = zkp.schnorr_keypair()
    proof = zkp.prove(secret, b"release v1.2 of the model")
    assert zkp.verify(public, b"release v1.2 of the model", proof)
    assert not zkp.verify(public, b"release v1.3 of the model", proof)
    assert not zkp.verify(zkp.schnorr_keypair()[1], b"release v1.2 of the model", proof)
    forged = zkp.SchnorrProof(proof.commitment, (proof.response + 1) % zkp.Q)
    assert not zkp.verify(public, b"release v1.2 of the model", forged)
    assert not zkp.verify(public, b"release v1.2 of the model", zkp.SchnorrProof(0, proof.response))


def test_proofs_use_fresh_nonces():
    secret, _ = zkp.schnorr_keypair()
    assert zkp.prove(secret, b"m").commitment != zkp.prove(secret, b"m").commitment


def test_nonce_reuse_gives_the_secret_away():
    secret, public = zkp.schnorr_keypair()
    first = zkp.prove_with_nonce_insecure(secret, b"pay 10", nonce=123456789)
    second = zkp.prove_with_nonce_insecure(secret, b"pay 20", nonce=123456789)
    assert zkp.verify(public, b"pay 10", first) and zkp.verify(public, b"pay 20", second)
    recovered = zkp.recover_secret_from_nonce_reuse(public, b"pay 10", first, b"pay 20", second)
    assert recovered == secret and pow(zkp.G, recovered, zkp.P) == public


def test_nonce_reuse_attack_needs_a_reused_nonce():
    secret, public = zkp.schnorr_keypair()
    a, b = zkp.prove(secret, b"x"), zkp.prove(secret, b"y")
    with pytest.raises(ValueError, match="different commitments"):
        zkp.recover_secret_from_nonce_reuse(public, b"x", a, b"y", b)


def test_secret_never_shows_in_repr_or_str():
    secret, _ = zkp.schnorr_keypair()
    assert str(int(secret)) not in repr(secret) + str(secret) + f"{secret!r}"


@pytest.mark.parametrize("call, error, name", [
    (lambda s, p: zkp.prove(s, "text"), TypeError, "message"),
    (lambda s, p: zkp.prove(0, b"m"), ValueError, "secret"),
    (lambda s, p: zkp.schnorr_check(1, 4, 1, 1), ValueError, "public"),
    (lambda s, p: zkp.schnorr_check(p, zkp.P + 5, 1, 1), ValueError, "commitment"),
    (lambda s, p: zkp.verify(p, b"m", (1, 2)), TypeError, "proof"),
    (lambda s, p: zkp.schnorr_keypair(rng="seed"), TypeError, "rng"),
])
def test_schnorr_bad_inputs(call, error, name):
    secret, public = zkp.schnorr_keypair(rng=0)
    with pytest.raises(error, match=name):
        call(secret, public)
