"""leptonkit.he (Paillier) and leptonkit.zkp (Schnorr) against their defining properties."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import pickle
import time

import numpy as np
import pytest
from reliability.mutations import mutations

from leptonkit import he, zkp


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


def test_ciphertexts_outside_z_star_n_squared_are_refused(paillier):
    private, public = paillier
    n = public.n
    for value in (0, n, n * n, -1, n * n + 1, private._p, 7 * private._q, n * 12345 + n):
        with pytest.raises(ValueError, match=r"\[1, n²\) and coprime to n"):
            he.PaillierCiphertext(public, value)
    for value in (1.0, None, "5", True):
        with pytest.raises(TypeError, match="value must be an int"):
            he.PaillierCiphertext(public, value)
    with pytest.raises(TypeError, match="public"):
        he.PaillierCiphertext(None, 5)
    assert private.decrypt(he.PaillierCiphertext(public, 1)) == 0       # Enc(0) with r = 1
    forged = public.encrypt(5)
    object.__setattr__(forged, "value", n * n)                          # past the constructor's check
    with pytest.raises(ValueError, match="coprime"):
        private.decrypt(forged)


@pytest.mark.parametrize("n, error", [
    (15, ValueError), (2**2048, ValueError), (2**2048 + 1 - 2**11, ValueError),   # small, even, 3 | n
    ((2**1024 - 105) ** 2, ValueError), (2**9000 + 1, ValueError), (-(2**2047 + 1), ValueError),
    (None, TypeError), (2.0**1023, TypeError), ("15", TypeError),
], ids=["15", "even", "3-divides", "square", "9001-bit", "negative", "None", "float", "str"])
def test_paillier_public_key_validates_its_modulus(n, error):
    with pytest.raises(error, match="n must be"):
        he.PaillierPublicKey(n)


def test_paillier_private_key_checks_its_primes_without_showing_them(paillier):
    private, public = paillier
    p, q = private._p, private._q
    for bad in ((p, p), (p, q + 2), (1, public.n)):
        with pytest.raises(ValueError, match="p and q") as info:
            he.PaillierPrivateKey(public, *bad)
        assert str(p) not in str(info.value) and str(q) not in str(info.value)
    with pytest.raises(TypeError, match="public"):
        he.PaillierPrivateKey(public.n, p, q)
    assert he.PaillierPrivateKey(public, q, p).decrypt(public.encrypt(-42)) == -42


@pytest.mark.parametrize("scale, error", [(0, ValueError), (-1, ValueError), (2**64 + 1, ValueError),
                                          (0.5, TypeError), (2.0, TypeError), (None, TypeError)])
def test_vector_scale_is_validated(paillier, scale, error):
    private, public = paillier
    encrypted = he.encrypt_vector([1.5, -2.0], public)
    with pytest.raises(error, match="scale"):
        he.decrypt_vector(encrypted, private, scale=scale)
    with pytest.raises(error, match="scale"):
        he.encrypt_vector([1.5], public, scale=scale)


def test_vector_values_must_fit_and_decrypt_to_floats(paillier):
    private, public = paillier
    np.testing.assert_array_equal(he.decrypt_vector(he.encrypt_vector([3.25], public, scale=4), private,
                                                    scale=4), [3.25])
    with pytest.raises(ValueError, match="values"):
        he.encrypt_vector([1e300], public, scale=2**64)     # x · scale overflows a float
    with pytest.raises(ValueError, match=r"ciphertexts\[0\].*too large"):
        he.decrypt_vector([public.encrypt(public.n // 2 - 1)], private, scale=1)


def test_private_key_secrets_are_unreachable(paillier):
    private, public = paillier
    p, q = str(private._p), str(private._q)
    for reveal in (dataclasses.asdict, vars, pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(TypeError):
            reveal(private)
    text = repr(private) + str(private) + f"{private}" + repr(public) + repr(public.encrypt(3))
    assert p not in text and q not in text
    # ciphertexts and public keys are dataclasses, but hold no secret
    assert p not in json.dumps(dataclasses.asdict(public.encrypt(3)))


def test_size_and_repeat_limits_fail_before_any_work(monkeypatch):
    def no_work(*args, **kwargs):
        raise AssertionError("the arguments should have been refused first")
    start = time.perf_counter()
    monkeypatch.setattr(he.rsa, "generate_private_key", no_work)
    with pytest.raises(ValueError, match=r"bits must be in \[1024, 8192\], got 100096"):
        he.generate_paillier_keypair(100096)
    monkeypatch.setattr(he, "generate_paillier_keypair", no_work)
    with pytest.raises(ValueError, match=r"repeats must be in \[1, 100\]"):
        he.cost_table(repeats=10**9)
    with pytest.raises(ValueError, match="bits"):
        he.cost_table((1024, 100096))
    with pytest.raises(TypeError, match="bits"):
        he.cost_table(2048)
    assert time.perf_counter() - start < 1.0


def test_paillier_wrong_types_name_the_parameter(paillier):
    private, public = paillier
    encrypted = he.encrypt_vector([1.0], public)
    cases = [
        (lambda: he.encrypt_vector([1.0], None), "public"),
        (lambda: he.encrypt_vector([1.0], private), "public"),
        (lambda: he.encrypt_vector(["dose 500"], public), "values"),
        (lambda: he.encrypt_vector(None, public), "values"),
        (lambda: he.decrypt_vector(encrypted, None), "private"),
        (lambda: he.decrypt_vector(encrypted, public), "private"),
        (lambda: he.decrypt_vector(None, private), "ciphertexts"),
        (lambda: he.decrypt_vector([1, 2], private), "ciphertexts"),
        (lambda: he.encrypted_sum([[1, 2]]), "vectors"),
        (lambda: he.encrypted_sum(5), "vectors"),
        (lambda: private.decrypt(7), "ciphertext"),
        (lambda: he.aggregation_seconds(None, bits=2048, values=1, clients=2), "table"),
    ]
    for call, name in cases:
        with pytest.raises(TypeError, match=name) as info:
            call()
        assert "dose" not in str(info.value)          # a plaintext is never echoed
    table = {"bits": np.array([1024]), "encrypt": np.ones(1), "add": np.ones(1), "decrypt": np.ones(1)}
    with pytest.raises(ValueError, match=r"bits must be one of the table's key sizes \[1024\]"):
        he.aggregation_seconds(table, bits=2048, values=1, clients=2)
    with pytest.raises(ValueError, match="values"):
        he.aggregation_seconds(table, bits=1024, values=10**400, clients=2)


@pytest.fixture(scope="module")
def small_paillier():
    return he.generate_paillier_keypair(1024)


def test_fuzz_paillier_ciphertexts(small_paillier):
    """Mutated ciphertext values: a ValueError when outside Z*_{n²}, else a decryption — never
    another exception. (Paillier has no integrity: an in-group value is a valid ciphertext.)"""
    private, public = small_paillier
    n, n2 = public.n, public.n_squared
    original = public.encrypt(123456789)
    encoded = original.value.to_bytes((n2.bit_length() + 7) // 8, "big")
    refused = 0
    for mutated in mutations(encoded, 300, seed=7):
        value = int.from_bytes(mutated, "big")
        in_group = 1 <= value < n2 and math.gcd(value, n) == 1
        try:
            m = private.decrypt(he.PaillierCiphertext(public, value))
        except ValueError:
            assert not in_group
            refused += 1
            continue
        assert in_group and -n // 2 < m <= n // 2
    assert refused > 50      # every extension at least


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
    assert type(recovered) is int and pow(zkp.G, recovered, zkp.P) == public
    assert recovered == secret.reveal_exponent_insecure()


def test_nonce_reuse_attack_needs_a_reused_nonce():
    secret, public = zkp.schnorr_keypair()
    a, b = zkp.prove(secret, b"x"), zkp.prove(secret, b"y")
    with pytest.raises(ValueError, match="different commitments"):
        zkp.recover_secret_from_nonce_reuse(public, b"x", a, b"y", b)


def test_secret_never_shows_in_repr_or_str():
    secret, _ = zkp.schnorr_keypair()
    x = secret.reveal_exponent_insecure()
    assert str(x) not in repr(secret) + str(secret) + f"{secret!r}" + f"{secret}"


def test_secret_does_not_leak_through_any_conversion():
    secret, public = zkp.schnorr_keypair()
    x = secret.reveal_exponent_insecure()
    leaks = (str(x), hex(x)[2:], format(x, "x"), format(x, "X"), format(x, "o"))
    conversions = {
        "repr": repr, "str": str, "format": format, "f-string": lambda s: f"{s}",
        "format d": lambda s: f"{s:d}", "format x": lambda s: f"{s:x}", "format >9": lambda s: f"{s:>9}",
        "percent d": lambda s: "%d" % s, "percent x": lambda s: "%x" % s,  # noqa: UP031
        "percent s": lambda s: "%s" % s,  # noqa: UP031
        "hex": hex, "oct": oct, "bin": bin, "int": int, "float": float, "index": lambda s: [0][s:],
        "json": json.dumps, "pickle": pickle.dumps, "copy": copy.copy, "deepcopy": copy.deepcopy,
        "vars": vars, "to_bytes": lambda s: s.to_bytes(256, "big"), "pow": lambda s: pow(zkp.G, s, zkp.P),
    }
    for name, convert in conversions.items():
        try:
            shown = convert(secret)
        except (TypeError, AttributeError):   # refused; AttributeError: SchnorrSecret has no to_bytes
            continue
        assert isinstance(shown, str) and not any(leak in shown.lower() for leak in leaks), name
    assert "<hidden>" in repr(secret) and secret.public_key() == public
    assert pow(zkp.G, x, zkp.P) == public                               # the explicit accessor


def test_secret_errors_never_show_the_value():
    for exponent in (0, zkp.Q, zkp.Q + 123456789, -987654321):
        with pytest.raises(ValueError, match="exponent") as info:
            zkp.SchnorrSecret(exponent)
        assert str(abs(exponent)) not in str(info.value)
    secret, _ = zkp.schnorr_keypair()
    with pytest.raises(ValueError, match="nonce") as info:
        zkp.prove_with_nonce_insecure(secret, b"m", nonce=zkp.Q + 424242)
    assert "424242" not in str(info.value)
    with pytest.raises(TypeError, match="secret"):
        zkp.prove(2.5, b"m")


def test_kit_functions_take_the_opaque_secret_and_a_plain_int():
    secret, public = zkp.schnorr_keypair()
    x = secret.reveal_exponent_insecure()
    for s in (secret, x, zkp.SchnorrSecret(x)):
        assert zkp.verify(public, b"m", zkp.prove(s, b"m"))
        nonce, commitment = zkp.schnorr_commit()
        challenge = zkp.schnorr_challenge()
        assert zkp.schnorr_check(public, commitment, challenge, zkp.schnorr_respond(s, nonce, challenge))


def test_verify_refuses_the_response_plus_q():
    secret, public = zkp.schnorr_keypair()
    proof = zkp.prove(secret, b"m")
    assert zkp.verify(public, b"m", proof)
    for response in (proof.response + zkp.Q, proof.response - zkp.Q, proof.response + 5 * zkp.Q):
        assert zkp.verify(public, b"m", zkp.SchnorrProof(proof.commitment, response)) is False
    for commitment in (proof.commitment + zkp.P, proof.commitment - zkp.P):   # and the commitment ± p
        assert zkp.verify(public, b"m", zkp.SchnorrProof(commitment, proof.response)) is False


def _short_id(value) -> str:
    """A readable test id: big ints by their size."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 32:
        return f"{value.bit_length()}-bit"
    return repr(value)


@pytest.mark.parametrize("commitment, response", [
    (2**2048 + 12345, 1), (2**2049, 1), (1.5, 1), (None, 1), ("7", 1), (True, 1), (b"\x02", 1),
    (0, 1), (1, 1), (-4, 1), (zkp.P - 1, 1), (zkp.P, 1), (11, 1),   # 11 is not in the subgroup
    (4, None), (4, 1.0), (4, -1), (4, zkp.Q), (4, "1"), (4, 2**4096),
], ids=_short_id)
def test_verify_returns_false_for_every_malformed_proof(commitment, response):
    _, public = zkp.schnorr_keypair(rng=0)
    assert zkp.verify(public, b"m", zkp.SchnorrProof(commitment, response)) is False


@pytest.mark.parametrize("proof", [None, (1, 2), "proof", 42, {"commitment": 4, "response": 1}])
def test_verify_returns_false_for_something_that_is_not_a_proof(proof):
    _, public = zkp.schnorr_keypair(rng=0)
    assert zkp.verify(public, b"m", proof) is False


def test_schnorr_check_refuses_challenge_zero_and_non_canonical_transcripts():
    secret, public = zkp.schnorr_keypair(rng=3)
    s = 123456789
    # with c = 0 the equation g^s = t · y^0 holds for t = g^s: anyone could "prove" anything
    assert zkp.schnorr_check(public, pow(zkp.G, s, zkp.P), 0, s) is False
    assert zkp.schnorr_check(public, pow(zkp.G, s, zkp.P), zkp.Q, s) is False       # c ≡ 0 (mod q)
    nonce, commitment = zkp.schnorr_commit(rng=4)
    c = zkp.schnorr_challenge(rng=5)
    response = zkp.schnorr_respond(secret, nonce, c)
    assert zkp.schnorr_check(public, commitment, c, response)
    for t, challenge, answer in [(commitment, c, response + zkp.Q), (commitment, c + zkp.Q, response),
                                 (commitment, -c, response), (commitment, float(c), response),
                                 (commitment, None, response), (commitment, c, None),
                                 (zkp.P + 5, c, response), (None, c, response), (1, c, response)]:
        assert zkp.schnorr_check(public, t, challenge, answer) is False
    with pytest.raises(ValueError, match="challenge"):
        zkp.schnorr_respond(secret, nonce, 0)


def test_public_keys_outside_the_subgroup_are_the_verifiers_error():
    secret, _ = zkp.schnorr_keypair(rng=0)
    proof = zkp.prove(secret, b"m")
    for public in (0, 1, 11, zkp.P - 1, zkp.P, zkp.P + 4, 2**2049):     # 11 is not in the subgroup
        with pytest.raises(ValueError, match="public"):
            zkp.verify(public, b"m", proof)
        with pytest.raises(ValueError, match="public"):
            zkp.schnorr_check(public, 4, 1, 1)
    for public in (None, 4.0, "4"):
        with pytest.raises(TypeError, match="public"):
            zkp.verify(public, b"m", proof)


FUZZ_PROOFS_PER_FIELD = 150  # 300 proofs; each verification costs two 2048-bit exponentiations


def test_fuzz_schnorr_proofs():
    """Mutated commitments and responses: verify says False, never raises, never accepts."""
    secret, public = zkp.schnorr_keypair(rng=11)
    proof = zkp.prove(secret, b"release v2")
    assert zkp.verify(public, b"release v2", proof)
    original = [proof.commitment, proof.response]
    checked = 0
    for which, seed in ((0, 13), (1, 14)):
        for mutated in mutations(original[which].to_bytes(256, "big"), FUZZ_PROOFS_PER_FIELD, seed):
            candidate = list(original)
            candidate[which] = int.from_bytes(mutated, "big")
            if candidate == original:
                continue            # a leading zero byte inserted: the same numbers
            assert zkp.verify(public, b"release v2", zkp.SchnorrProof(*candidate)) is False, candidate
            checked += 1
    assert checked > 1.8 * FUZZ_PROOFS_PER_FIELD


@pytest.mark.parametrize("call, error, name", [
    (lambda s, p: zkp.prove(s, "text"), TypeError, "message"),
    (lambda s, p: zkp.prove(0, b"m"), ValueError, "secret"),
    (lambda s, p: zkp.schnorr_check(1, 4, 1, 1), ValueError, "public"),
    (lambda s, p: zkp.verify(p, "text", zkp.prove(s, b"m")), TypeError, "message"),
    (lambda s, p: zkp.schnorr_keypair(rng="seed"), TypeError, "rng"),
    (lambda s, p: zkp.recover_secret_from_nonce_reuse(p, b"a", None, b"b", None), TypeError, "proof1"),
    (lambda s, p: zkp.recover_secret_from_nonce_reuse(p, b"a", zkp.SchnorrProof(4, None), b"b",
                                                      zkp.SchnorrProof(4, 1)), TypeError, "proof1"),
    (lambda s, p: zkp.simulate_transcript(11), ValueError, "public"),
])
def test_schnorr_bad_inputs(call, error, name):
    secret, public = zkp.schnorr_keypair(rng=0)
    with pytest.raises(error, match=name):
        call(secret, public)
