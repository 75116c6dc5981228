"""Notebook 07's exercises accept right answers and refuse wrong ones."""

from __future__ import annotations

import functools

import pytest

from leptonkit import he, zkp
from leptonkit.exercises import check
from leptonkit.lessons.n07_homomorphic_and_zero_knowledge import (
    MESSAGES,
    SALARIES,
    SCHNORR_SEED,
    SURVEY_MESSAGE,
)


@functools.cache
def _paillier():
    private, public = he.generate_paillier_keypair(1024)
    encrypted = sum((public.encrypt(s) for s in SALARIES[1:]), public.encrypt(SALARIES[0]))
    return private, encrypted


def _total():
    private, encrypted = _paillier()
    return [(encrypted, private)], [(encrypted + 1, private), (sum(SALARIES), private), encrypted]


def _raise():
    private, encrypted = _paillier()
    return [(encrypted * 103, private)], [(encrypted, private), (encrypted * 3, private)]


def _proof():
    secret, _ = zkp.schnorr_keypair(rng=SCHNORR_SEED)
    other_secret, _ = zkp.schnorr_keypair()
    return ([zkp.prove(secret, b"model v2 is mine")],
            [zkp.prove(secret, b"model v3 is mine"), zkp.prove(other_secret, b"model v2 is mine"), "proof"])


def _secret():
    secret, public = zkp.schnorr_keypair(rng=SCHNORR_SEED)
    x = secret.reveal_exponent_insecure()
    nonce_reuse = [zkp.prove_with_nonce_insecure(secret, m, nonce=424242) for m in MESSAGES]
    recovered = zkp.recover_secret_from_nonce_reuse(public, MESSAGES[0], nonce_reuse[0],
                                                    MESSAGES[1], nonce_reuse[1])
    c1, c2 = (zkp.fiat_shamir_challenge(public, p.commitment, m) for m, p in zip(MESSAGES, nonce_reuse,
                                                                                 strict=True))
    derived = (nonce_reuse[0].response - nonce_reuse[1].response) * pow(c1 - c2, -1, zkp.Q) % zkp.Q
    assert derived == recovered                   # the derivation the hint leads to is the attack
    return ([recovered, x, x + zkp.Q],
            [x + 1, public, "secret", 2.5, True, secret])   # the key object is not an answer


def _bit():
    commitment, opening = zkp.pedersen_commit(1, rng=70)
    proof = zkp.prove_bit(commitment, opening, SURVEY_MESSAGE, rng=71)
    zero, zero_opening = zkp.pedersen_commit(0, rng=72)
    two, _ = zkp.pedersen_commit(2, rng=73)
    return ([(commitment, proof), (zero, zkp.prove_bit(zero, zero_opening, SURVEY_MESSAGE, rng=74))],
            [(commitment, zkp.prove_bit(commitment, opening, b"another survey", rng=75)), (two, proof),
             (opening, proof), (commitment, "proof"), commitment, (1, proof)])


ANSWERS = {"07.1": _total, "07.2": _raise, "07.3": _proof, "07.4": _secret, "07.5": _bit}


def test_the_hint_of_07_4_lets_the_learner_derive_the_attack(capsys):
    assert check("07.4", 12345) is False
    hint = capsys.readouterr().out.split("Hint:")[1]
    assert "recover_secret_from_nonce_reuse" not in hint and "s₁ = k + c₁·x" in hint


@pytest.mark.parametrize("exercise_id", sorted(ANSWERS))
def test_exercise(exercise_id, judge):
    judge(exercise_id, *ANSWERS[exercise_id]())
