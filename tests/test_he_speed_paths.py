"""leptonkit.he's fast paths: gmpy2 or plain ints alike, CRT encryption, packing, and phe interop."""

from __future__ import annotations

import math

import numpy as np
import pytest

from leptonkit import he


@pytest.fixture(scope="module")
def keys():
    return he.generate_paillier_keypair(1024)


def _python_backend_keys(monkeypatch, private):
    """The same key pair rebuilt with gmpy2 hidden: every constant a plain Python int."""
    monkeypatch.setattr(he, "gmpy2", None)
    public = he.PaillierPublicKey(private.public.n)
    return he.PaillierPrivateKey(public, private._p, private._q), public


def test_python_ints_and_gmpy2_give_the_same_numbers(keys, monkeypatch):
    pytest.importorskip("gmpy2")
    private, public = keys
    assert he.BACKEND == "gmpy2" and type(public._n2).__name__ == "mpz"
    a, b = public.encrypt(-123456789), private.encrypt(2**200)
    fixed = iter(range(10**6, 10**6 + 100))    # the same "random" draws for both backends
    monkeypatch.setattr(he.secrets, "randbelow", lambda bound: next(fixed) % bound)
    fast = [public.encrypt(7).value, private.encrypt(-7).value, (a + b).value, (a * 12345).value,
            (a + 99).value, private.decrypt(a + b)]
    fixed = iter(range(10**6, 10**6 + 100))
    slow_private, slow_public = _python_backend_keys(monkeypatch, private)
    assert type(slow_public._n2) is int and type(slow_private._p2) is int
    a, b = he.PaillierCiphertext(slow_public, a.value), he.PaillierCiphertext(slow_public, b.value)
    slow = [slow_public.encrypt(7).value, slow_private.encrypt(-7).value, (a + b).value,
            (a * 12345).value, (a + 99).value, slow_private.decrypt(a + b)]
    assert fast == slow
    assert all(type(v) is int for v in fast)
    assert fast[-1] == 2**200 - 123456789


def test_the_python_fallback_round_trips(keys, monkeypatch):
    private, public = _python_backend_keys(monkeypatch, keys[0])
    for m in (0, 1, -1, 2**300, -(2**300)):
        assert private.decrypt(public.encrypt(m)) == m == private.decrypt(private.encrypt(m))
    packed = he.encrypt_packed([0.5, -1.0], public, bound=1.0, summands=3)
    assert he.decrypt_packed(packed + packed, private).tolist() == [1.0, -2.0]


def test_key_holder_encryption_rests_on_the_crt_identity(keys):
    """r^n mod p² = (r^q mod p)^p mod p² for every r: the identity that makes the key holder's
    draw of u^p mod p² the distribution of r^n, r uniform in Z*_n (see PaillierPrivateKey.encrypt)."""
    private, public = keys
    p, q, n = private._p, private._q, public.n
    rng = np.random.default_rng(3)
    for _ in range(20):
        r = int.from_bytes(rng.bytes(128), "big") % n
        assert pow(r, n, p * p) == pow(pow(r, q, p), p, p * p)
        assert pow(r, n, q * q) == pow(pow(r, p, q), q, q * q)


def test_key_holder_ciphertexts_are_fresh_nth_residues(keys):
    private, public = keys
    p, q, n, n2 = private._p, private._q, public.n, public.n_squared
    phi = (p - 1) * (q - 1)
    values = set()
    for m in (0, 5, -5, 2**500):
        c = private.encrypt(m)
        assert private.decrypt(c) == m
        randomness = c.value * pow(1 + (m % n) * n, -1, n2) % n2
        assert pow(randomness, phi, n2) == 1            # an n-th residue, as r^n is
        values.add(c.value)
    assert len(values) == 4
    assert private.encrypt(5).value != private.encrypt(5).value
    # the check above can fail: a unit with a g-component is no n-th residue
    assert pow((1 + n) * 12345 % n2, phi, n2) != 1


def test_decryption_refuses_a_forged_value_through_the_prime_check(keys):
    private, public = keys
    forged = he.PaillierCiphertext(public, 5)
    object.__setattr__(forged, "value", private._p * 3)   # shares the factor p with n
    with pytest.raises(ValueError, match="coprime to n"):
        private.decrypt(forged)
    object.__setattr__(forged, "value", public.n_squared)
    with pytest.raises(ValueError, match=r"\[1, n²\)"):
        private.decrypt(forged)


def test_ciphertexts_interoperate_with_phe_both_ways(keys):
    paillier = pytest.importorskip("phe.paillier")
    private, public = keys
    phe_public = paillier.PaillierPublicKey(public.n)
    phe_private = paillier.PaillierPrivateKey(phe_public, private._p, private._q)
    for m in (0, 42, -42, 2**200, -(2**200)):
        for ours in (public.encrypt(m), private.encrypt(m)):     # kit → phe
            assert phe_private.decrypt(paillier.EncryptedNumber(phe_public, ours.value, 0)) == m
        theirs = phe_public.encrypt(m)                          # phe → kit
        assert private.decrypt(he.PaillierCiphertext(public, theirs.ciphertext())) == m
    mixed = he.PaillierCiphertext(public, phe_public.encrypt(40).ciphertext()) + public.encrypt(2)
    assert phe_private.decrypt(paillier.EncryptedNumber(phe_public, mixed.value, 0)) == 42


def test_packing_slots_follow_the_headroom_formula():
    assert he.packing_slots(2048, bound=1.0, summands=1000) == 75            # 27-bit slots
    slot_bits = (2 * 2**16 * 1000).bit_length()
    assert slot_bits == 27 and (2048 - 2) // slot_bits == 75
    assert he.packing_slots(2048, bound=1.0, summands=1) == 2046 // 18
    assert he.packing_slots(1024, bound=0.5, summands=2, scale=2**8) == 1022 // 10   # 2·128·2 = 2^9: 10 bits
    with pytest.raises(ValueError, match="summands"):
        he.packing_slots(1024, bound=2.0**1000, summands=2**32)
    with pytest.raises(ValueError, match="bound"):
        he.packing_slots(2048, bound=0.0, summands=2)


def test_packed_sums_are_exact_up_to_the_headroom(keys):
    private, public = keys
    rng = np.random.default_rng(5)
    summands = 7
    vectors = rng.uniform(-1.0, 1.0, size=(summands, 100))
    vectors[0, :5] = [1.0, -1.0, 1.0, -1.0, 0.0]
    vectors[:, 10] = 1.0       # every slot at its largest, then its smallest: no carry either way
    vectors[:, 11] = -1.0
    packed = [he.encrypt_packed(v, public, bound=1.0, summands=summands) for v in vectors]
    slots = he.packing_slots(1024, bound=1.0, summands=summands)
    assert packed[0].slots == slots and len(packed[0].ciphertexts) == math.ceil(100 / slots) < 100
    total = he.encrypted_sum(packed)
    assert total.summands == summands
    exact = np.round(vectors * he.FIXED_POINT_SCALE).sum(axis=0) / he.FIXED_POINT_SCALE
    np.testing.assert_array_equal(he.decrypt_packed(total, private), exact)
    assert he.decrypt_packed(total, private)[10] == summands
    np.testing.assert_array_equal(he.decrypt_packed(packed[3], private),
                                  np.round(vectors[3] * he.FIXED_POINT_SCALE) / he.FIXED_POINT_SCALE)
    with pytest.raises(ValueError, match="headroom"):
        total + packed[0]
    assert "numbers in" in repr(total) and str(vectors[0, 0])[:6] not in repr(total)


def test_packing_refuses_what_would_carry_or_mismatch(keys):
    private, public = keys
    with pytest.raises(ValueError, match="bound"):
        he.encrypt_packed([0.5, 1.5], public, bound=1.0, summands=2)
    a = he.encrypt_packed([0.5], public, bound=1.0, summands=2)
    for other in (he.encrypt_packed([0.5], public, bound=2.0, summands=2),
                  he.encrypt_packed([0.5, 0.5], public, bound=1.0, summands=2),
                  he.encrypt_packed([0.5], he.generate_paillier_keypair(1024)[1], bound=1.0, summands=2)):
        with pytest.raises(ValueError, match="layouts"):
            a + other
    with pytest.raises(TypeError, match="packed"):
        he.decrypt_packed([a], private)
    altered = he.PackedVector(public, (public.encrypt(-1),), 1, a.scale, a.offset, a.slot_bits, 1, 2)
    with pytest.raises(ValueError, match="altered"):
        he.decrypt_packed(altered, private)
    with pytest.raises(ValueError, match="carry"):
        he.PackedVector(public, a.ciphertexts, 1, a.scale, a.offset, 2, 1, 2)
    empty = he.encrypt_packed([], public, bound=1.0, summands=2)
    assert empty.ciphertexts == () and he.decrypt_packed(empty, private).size == 0


def test_aggregation_seconds_counts_ciphertexts_not_numbers():
    table = {"bits": np.array([2048]), "encrypt": np.array([0.01]), "add": np.array([1e-5]),
             "decrypt": np.array([0.004])}
    plain = he.aggregation_seconds(table, bits=2048, values=7501, clients=11)
    packed = he.aggregation_seconds(table, bits=2048, values=7501, clients=11, slots=75)
    assert plain["each client encrypts"] == pytest.approx(75.01)
    assert packed["each client encrypts"] == pytest.approx(1.01)        # ⌈7501 / 75⌉ = 101
    assert packed["server adds"] == pytest.approx(10 * 101 * 1e-5)
    assert packed["key holder decrypts"] == pytest.approx(101 * 0.004)
    with pytest.raises(ValueError, match="slots"):
        he.aggregation_seconds(table, bits=2048, values=1, clients=2, slots=0)


def test_precomputed_randomizers_are_used_once_each_and_never_shown(keys):
    import copy
    import pickle
    import threading
    private, public = keys
    for key in (public, private):                       # the key holder's pool takes the CRT route
        pool = he.Randomizers(key, 3)
        first, second = public.encrypt(5, randomizers=pool), public.encrypt(5, randomizers=pool)
        assert len(pool) == 1 and first.value != second.value
        assert private.decrypt(first) == private.decrypt(second) == 5
        n2 = public.n_squared
        r_n = first.value * pow(1 + 5 * public.n, -1, n2) % n2
        assert pow(r_n, (private._p - 1) * (private._q - 1), n2) == 1      # an n-th residue
    assert he.decrypt_vector(he.encrypt_vector([0.5, -2.0], public, randomizers=he.Randomizers(public, 2)),
                             private).tolist() == [0.5, -2.0]
    empty = he.Randomizers(public, 1)
    public.encrypt(1, randomizers=empty)
    with pytest.raises(ValueError, match="none left"):
        public.encrypt(1, randomizers=empty)
    with pytest.raises(ValueError, match="randomizers holds 1"):
        he.encrypt_vector([1.0, 2.0], public, randomizers=he.Randomizers(public, 1))
    with pytest.raises(ValueError, match="different public key"):
        he.generate_paillier_keypair(1024)[1].encrypt(1, randomizers=he.Randomizers(public, 1))
    with pytest.raises(TypeError, match="randomizers"):
        public.encrypt(1, randomizers=[123])
    secret_pool = he.Randomizers(public, 2)
    values = [str(int(v)) for v in secret_pool._values]
    assert repr(secret_pool) == "Randomizers(2 left, 1024-bit key)"
    assert not any(v in repr(secret_pool) for v in values)
    for leak in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(TypeError, match="used twice"):
            leak(secret_pool)
    pool = he.Randomizers(public, 40)                   # threads never share an r^n
    taken: list[int] = []
    workers = [threading.Thread(target=lambda: taken.extend(public.encrypt(0, randomizers=pool).value
                                                          for _ in range(10))) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(set(taken)) == 40 and len(pool) == 0
