"""leptonkit.mpc against the defining properties of each protocol.

Uniformity is tested with a χ² test at a fixed seed; its threshold is the 1 − 10⁻⁴ quantile of
the χ² distribution, so a correct sharing fails with probability below 10⁻⁴ per test.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from leptonkit import mpc
from leptonkit.errors import InsufficientShares

ALPHA = 1e-4


def _chi2_uniform(values: np.ndarray, bins: int) -> None:
    counts = np.bincount(values, minlength=bins)
    assert counts.size == bins
    statistic = ((counts - values.size / bins) ** 2 / (values.size / bins)).sum()
    assert statistic < stats.chi2.ppf(1 - ALPHA, bins - 1), statistic


# --- additive sharing ------------------------------------------------------------------------


@pytest.mark.parametrize("n_parties", [2, 3, 7])
def test_additive_shares_reconstruct_signed_integers(n_parties):
    secret = np.array([[0, 1, -1], [2**62, -(2**62), 123456789]])
    shares = mpc.additive_share(secret, n_parties, rng=1)
    assert shares.shape == (n_parties, *secret.shape) and shares.dtype == np.uint64
    assert np.array_equal(mpc.additive_reconstruct(shares).view(np.int64), secret)


def test_additive_shares_from_the_os_csprng_differ_every_time():
    zeros = np.zeros(4, dtype=np.int64)
    a, b = mpc.additive_share(zeros, 3), mpc.additive_share(zeros, 3)
    assert not np.array_equal(a, b)
    assert np.all(mpc.additive_reconstruct(a) == 0) and np.all(mpc.additive_reconstruct(b) == 0)


def test_the_keystream_is_aes_256_ctr_from_counter_two_across_chunks():
    # GCM's encryption of zeros under nonce 0^96 is CTR mode from 0^96 ‖ 00000002 (SP 800-38D §7.1)
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    key = bytes(range(32))
    n = 3 * len(mpc._ZEROS) + 12345                     # several chunks and a ragged end
    ctr = Cipher(algorithms.AES(key), modes.CTR(bytes(12) + (2).to_bytes(4, "big"))).encryptor()
    assert mpc._keystream(key, n).tobytes() == ctr.update(bytes(n))
    out = np.empty((3, 1000), dtype=np.uint64)        # into a caller's array, any dtype
    assert mpc._keystream(key, out.nbytes, out) is out
    assert out.tobytes() == mpc._keystream(key, out.nbytes).tobytes()
    assert mpc._keystream(bytes(32), n).tobytes() != mpc._keystream(key, n).tobytes()


@pytest.mark.parametrize("shape", [(), (0,), (5,), (mpc._SHARE_BLOCK,), (2 * mpc._SHARE_BLOCK + 7,),
                                   (3, 70_001)])
@pytest.mark.parametrize("n_parties", [2, 5])
def test_os_shares_reconstruct_at_every_block_boundary(shape, n_parties):
    secret = np.random.default_rng(8).integers(-(2**63), 2**63 - 1, size=shape, dtype=np.int64)
    shares = mpc.additive_share(secret, n_parties)
    assert shares.shape == (n_parties, *shape) and shares.dtype == np.uint64
    assert np.array_equal(mpc.additive_reconstruct(shares).view(np.int64), secret)


def test_os_shares_are_uniform_with_the_stream_fixed(monkeypatch):
    # the OS key pinned, so the check is reproducible: each share alone, and shares 1 and 2
    # together, are uniform even though the secret is one constant (chi-square, false alarm 1e-4)
    monkeypatch.setattr(mpc.os, "urandom", lambda n: bytes(range(7, 7 + n)))
    secret = np.full(3 * mpc._SHARE_BLOCK + 11, 42, dtype=np.int64)
    shares = mpc.additive_share(secret, 3)
    assert np.array_equal(mpc.additive_reconstruct(shares).view(np.int64), secret)
    for party in range(3):
        _chi2_uniform((shares[party] >> np.uint64(56)).astype(np.int64), 256)
        _chi2_uniform((shares[party] & np.uint64(0xFF)).astype(np.int64), 256)
    low = (shares[1:] & np.uint64(0xFF)).astype(np.int64)
    _chi2_uniform(low[0] * 256 + low[1], 65_536)
    assert len(np.unique(shares[1:])) == 2 * secret.size    # no block of the stream reused


def test_n_minus_one_additive_shares_are_uniform():
    # Share one fixed secret 20 000 times among 3; parties 1 and 2 together see two bytes per
    # sharing (the low byte of each share): under uniformity, 65 536 equally likely pairs.
    secret = np.full(20_000, 42, dtype=np.int64)
    shares = mpc.additive_share(secret, 3, rng=2)
    low = (shares[1:] & np.uint64(0xFF)).astype(np.int64)
    _chi2_uniform(low[0] * 256 + low[1], 65_536)
    for party in range(3):                     # and each share's top byte alone is uniform too
        _chi2_uniform((shares[party] >> np.uint64(56)).astype(np.int64), 256)


def _joint_chi2(shares: np.ndarray, bits: int) -> tuple[float, int]:
    """χ² of the tuples of each row's low ``bits`` bits (shares mod 2^bits, in Z_2^bits) against uniform."""
    low = (shares & np.uint64(2**bits - 1)).astype(np.int64)
    cells = np.zeros(low.shape[1], dtype=np.int64)
    for row in low:                               # the tuple as one number in [0, 2^(bits · rows))
        cells = cells * 2**bits + row
    bins = 2 ** (bits * len(low))
    counts = np.bincount(cells, minlength=bins)
    return float(((counts - cells.size / bins) ** 2 / (cells.size / bins)).sum()), bins


@pytest.mark.parametrize("n_parties, bits", [(3, 4), (4, 2)])
def test_any_n_minus_one_additive_shares_are_jointly_uniform(n_parties, bits):
    # For a fixed secret, (r_1 … r_{n−1}) ↦ any n − 1 of the shares is a bijection, so those
    # shares are uniform on (Z_2^64)^(n−1); reduced mod 2^bits they are uniform on (Z_2^bits)^(n−1).
    # Tested jointly over every tuple, for every coalition of n − 1, including the share computed
    # from the secret; each test fails with probability ALPHA under the bijection.
    for secret in (0, 5):
        shares = mpc.additive_share(np.full(40_000, secret), n_parties, rng=30 + secret)
        for coalition in itertools.combinations(range(n_parties), n_parties - 1):
            statistic, bins = _joint_chi2(shares[list(coalition)], bits)
            assert statistic < stats.chi2.ppf(1 - ALPHA, bins - 1), (coalition, statistic)


def test_the_joint_test_catches_shares_whose_marginals_are_uniform():
    # A broken dealer draws one r and one coin b: shares (s − 2r − b, r, r + b) add up to s, and
    # each share alone is uniform — but x_0 + 2·x_1 ∈ {s, s − 1}: parties 0 and 1 learn s.
    rng = np.random.default_rng(31)
    r = rng.integers(0, 2**63, size=40_000, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, 40_000,
                                                                                            dtype=np.uint64)
    coin = rng.integers(0, 2, size=40_000, dtype=np.uint64)
    with np.errstate(over="ignore"):
        broken = np.stack([np.uint64(5) - np.uint64(2) * r - coin, r, r + coin])
    assert np.all(mpc.additive_reconstruct(broken) == 5)
    for share in broken:                                   # the marginal test passes …
        _chi2_uniform((share & np.uint64(15)).astype(np.int64), 16)
    statistic, bins = _joint_chi2(broken[:2], 4)            # … the joint one does not
    assert statistic > stats.chi2.ppf(1 - ALPHA, bins - 1), statistic


def test_additive_sharing_is_a_sum_that_adds():
    x, y = np.array([5, -7]), np.array([10, 3])
    total = mpc.additive_share(x, 4, rng=0) + mpc.additive_share(y, 4, rng=1)   # each party adds locally
    assert np.array_equal(mpc.additive_reconstruct(total).view(np.int64), x + y)


def test_fixed_point_error_is_at_most_half_a_step():
    values = np.random.default_rng(3).uniform(-1000, 1000, size=10_000)
    decoded = mpc.decode_fixed(mpc.additive_reconstruct(mpc.additive_share(mpc.encode_fixed(values), 3)))
    assert np.max(np.abs(decoded - values)) <= 2.0 ** -(mpc.FRACTIONAL_BITS + 1)


def test_fixed_point_overflow_is_refused_not_wrapped():
    limit = 2.0 ** (63 - mpc.FRACTIONAL_BITS)
    mpc.encode_fixed([limit * 0.99])
    with pytest.raises(ValueError, match="cannot overflow"):
        mpc.encode_fixed([limit])
    with pytest.raises(ValueError, match="sum of 10"):
        mpc.encode_fixed([limit / 5], summands=10)
    with pytest.raises(ValueError, match="finite"):
        mpc.encode_fixed([np.nan])


@pytest.mark.parametrize("bad, error", [(np.array([1.5]), TypeError), ("secret", TypeError)])
def test_additive_share_refuses_non_integers(bad, error):
    with pytest.raises(error, match="secret"):
        mpc.additive_share(bad, 3)


def test_additive_share_refuses_fewer_than_two_parties():
    with pytest.raises(ValueError, match="n_parties"):
        mpc.additive_share(np.array([1]), 1)
    with pytest.raises(TypeError, match="n_parties"):
        mpc.additive_share(np.array([1]), 2.0)


# --- Shamir ------------------------------------------------------------------------------------


@pytest.mark.parametrize("threshold, n_parties", [(1, 2), (2, 3), (3, 5), (4, 4)])
def test_every_threshold_subset_reconstructs(threshold, n_parties):
    secret = 2**126 + 12345
    shares = mpc.shamir_share(secret, threshold=threshold, n_parties=n_parties, rng=4)
    for size in range(threshold, n_parties + 1):
        for subset in itertools.combinations(shares, size):
            assert mpc.shamir_reconstruct(list(subset)) == secret


def test_fewer_than_threshold_shares_raise():
    shares = mpc.shamir_share(7, threshold=3, n_parties=5)
    for subset in itertools.combinations(shares, 2):
        with pytest.raises(InsufficientShares, match="threshold is 3"):
            mpc.shamir_reconstruct(list(subset))
    with pytest.raises(InsufficientShares):
        mpc.shamir_reconstruct([])


def test_a_single_shamir_share_is_uniform_over_the_field():
    # Secret 0 in GF(257), threshold 2: share i is a·i for uniform a, so it must be uniform.
    prime, sharings = 257, 25_700
    rng = np.random.default_rng(5)
    ys = np.array([mpc.shamir_share(0, threshold=2, n_parties=3, prime=prime, rng=rng)[0].y
                   for _ in range(sharings)])
    _chi2_uniform(ys, prime)


def test_t_minus_one_shares_are_uniform_whatever_the_secret():
    # Threshold 3: shares 1 and 2 of a fixed secret are a uniform pair in GF(17)².
    prime, rng = 17, np.random.default_rng(6)
    for secret in (0, 16):
        pairs = np.array([[s.y for s in mpc.shamir_share(secret, threshold=3, n_parties=4, prime=prime,
                                                         rng=rng)[:2]] for _ in range(17 * 17 * 40)])
        _chi2_uniform(pairs[:, 0] * prime + pairs[:, 1], prime * prime)


def test_vectorised_shamir_matches_the_scalar_property():
    secret = np.random.default_rng(7).integers(0, mpc.VECTOR_PRIME, size=(50, 3))
    shares = mpc.shamir_share(secret, threshold=3, n_parties=6)
    assert shares[0].prime == mpc.VECTOR_PRIME
    for subset in itertools.combinations(shares, 3):
        assert np.array_equal(mpc.shamir_reconstruct(list(subset)), secret)
    with pytest.raises(InsufficientShares):
        mpc.shamir_reconstruct(shares[:2])


def test_shamir_refuses_mixed_and_duplicate_shares():
    a = mpc.shamir_share(1, threshold=2, n_parties=3)
    b = mpc.shamir_share(2, threshold=2, n_parties=3)
    with pytest.raises(ValueError, match="different sharings"):
        mpc.shamir_reconstruct([a[0], b[1]])
    with pytest.raises(ValueError, match="distinct x"):
        mpc.shamir_reconstruct([a[0], a[0]])
    with pytest.raises(TypeError, match="Share"):
        mpc.shamir_reconstruct([a[0], (2, 5)])


@pytest.mark.parametrize("kwargs, error, name", [
    ({"secret": 5, "threshold": 4, "n_parties": 3}, ValueError, "threshold"),
    ({"secret": 5, "threshold": 0, "n_parties": 3}, ValueError, "threshold"),
    ({"secret": 5, "threshold": 1, "n_parties": 1}, ValueError, "n_parties"),
    ({"secret": 5.5, "threshold": 2, "n_parties": 3}, TypeError, "secret"),
    ({"secret": "5", "threshold": 2, "n_parties": 3}, TypeError, "secret"),
    ({"secret": -1, "threshold": 2, "n_parties": 3}, ValueError, "secret"),
    ({"secret": mpc.PRIME, "threshold": 2, "n_parties": 3}, ValueError, "secret"),
    ({"secret": 5, "threshold": 2, "n_parties": 3, "prime": 255}, ValueError, "prime"),
    ({"secret": np.array([1.5, 2.0]), "threshold": 2, "n_parties": 3}, TypeError, "secret"),
    ({"secret": np.array([-1, 2]), "threshold": 2, "n_parties": 3}, ValueError, "secret"),
])
def test_shamir_bad_inputs_name_the_parameter(kwargs, error, name):
    with pytest.raises(error, match=name):
        mpc.shamir_share(**kwargs)


def test_shares_hide_their_value_in_repr():
    share = mpc.shamir_share(123456789, threshold=2, n_parties=3)[0]
    assert str(share.y) not in repr(share) and "hidden" in repr(share)


# --- Beaver multiplication -----------------------------------------------------------------------


def test_beaver_products_are_exact_in_the_ring():
    rng = np.random.default_rng(8)
    x, y = rng.integers(-2**31, 2**31, size=1000), rng.integers(-2**31, 2**31, size=1000)
    triple = mpc.beaver_triple(1000, 3, rng=9)
    out = mpc.beaver_multiply(mpc.additive_share(x, 3, rng=10), mpc.additive_share(y, 3, rng=11), triple)
    assert np.array_equal(mpc.additive_reconstruct(out["z"]).view(np.int64), x * y)


def test_beaver_opened_values_are_masked_by_the_triple():
    # d = x − a: with a uniform, d's top byte is uniform whatever x is (here x = 0); so is e's.
    n = 20_000
    triple = mpc.beaver_triple(n, 2, rng=12)
    zero = mpc.additive_share(np.zeros(n, dtype=np.int64), 2, rng=13)
    out = mpc.beaver_multiply(zero, zero, triple)
    assert set(out) == {"d", "e", "z"}
    for opened in (out["d"], out["e"]):
        _chi2_uniform((opened >> np.uint64(56)).astype(np.int64), 256)
    assert np.all(mpc.additive_reconstruct(out["z"]) == 0)


def test_a_reused_triple_opens_the_difference_of_two_secrets():
    x, x_prime, y = np.array([340]), np.array([395]), np.array([3])
    triple = mpc.beaver_triple(1, 3, rng=40)
    first = mpc.beaver_multiply(mpc.additive_share(x, 3, rng=41), mpc.additive_share(y, 3, rng=42), triple)
    second = mpc.beaver_multiply(mpc.additive_share(x_prime, 3, rng=43), mpc.additive_share(y, 3, rng=44),
                                 triple)
    assert (first["d"] - second["d"]).view(np.int64).tolist() == [-55]    # x − x′, in the clear
    assert (first["e"] - second["e"]).tolist() == [0]                      # y − y′ = 0
    fresh = mpc.beaver_multiply(mpc.additive_share(x_prime, 3, rng=43), mpc.additive_share(y, 3, rng=44),
                                mpc.beaver_triple(1, 3, rng=45))
    assert (first["d"] - fresh["d"]).view(np.int64).tolist() != [-55]      # a fresh triple hides it


def test_secure_dot_product_of_fixed_point_vectors():
    rng = np.random.default_rng(14)
    x, y = rng.normal(size=200), rng.normal(size=200)
    shares = [mpc.additive_share(mpc.encode_fixed(v), 3) for v in (x, y)]
    dot = mpc.decode_fixed(mpc.additive_reconstruct(mpc.secure_dot(*shares)),
                           fractional_bits=2 * mpc.FRACTIONAL_BITS)
    half_step = 2.0 ** -(mpc.FRACTIONAL_BITS + 1)       # each input is rounded by at most this
    assert abs(dot - x @ y) <= (np.abs(x) + np.abs(y)).sum() * half_step + x.size * half_step**2


def test_beaver_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="one shape"):
        mpc.beaver_multiply(np.zeros((3, 4), np.uint64), np.zeros((3, 5), np.uint64), mpc.beaver_triple(4, 3))


# --- secure aggregation -------------------------------------------------------------------------


@pytest.mark.parametrize("n, dropouts", [(3, []), (6, [2]), (9, [0, 4, 8]), (12, [1, 2, 3, 10])])
def test_secure_aggregation_returns_exactly_the_survivors_sum(n, dropouts):
    updates = np.random.default_rng(n).normal(scale=3.0, size=(n, 257))
    result = mpc.secure_aggregate(updates, dropouts=dropouts)
    survivors = [u for u in range(n) if u not in dropouts]
    assert result.survivors == survivors and result.dropped == sorted(dropouts)
    exact = mpc.decode_fixed(mpc.encode_fixed(updates[survivors], summands=n).sum(axis=0, dtype=np.uint64))
    assert np.array_equal(result.total, exact)                      # bit for bit, in fixed point
    assert np.max(np.abs(result.total - updates[survivors].sum(axis=0))) <= n * 2.0 ** -17


def test_what_the_server_sees_looks_uniform():
    updates = np.zeros((5, 4000))                # all-zero updates: anything non-uniform would show
    masked = mpc.secure_aggregate(updates, dropouts=[3], rng=15).masked
    for row in masked:
        _chi2_uniform((row >> np.uint64(56)).astype(np.int64), 256)


def test_secure_aggregation_is_reproducible_with_a_seed_and_fresh_without():
    updates = np.ones((4, 8))
    a, b = (mpc.secure_aggregate(updates, rng=16).masked for _ in range(2))
    assert np.array_equal(a, b)
    assert not np.array_equal(mpc.secure_aggregate(updates).masked, mpc.secure_aggregate(updates).masked)


def test_too_many_dropouts_raise_insufficient_shares():
    with pytest.raises(InsufficientShares, match="threshold is 4"):
        mpc.secure_aggregate(np.ones((6, 3)), dropouts=[0, 1, 2])


@pytest.mark.parametrize("kwargs, error, name", [
    ({"updates": np.ones((2, 3))}, ValueError, "updates"),
    ({"updates": np.ones(5)}, ValueError, "updates"),
    ({"updates": [["a"]]}, TypeError, "updates"),
    ({"updates": np.ones((4, 3)), "dropouts": [7]}, ValueError, "dropouts"),
    ({"updates": np.ones((4, 3)), "dropouts": [1.5]}, TypeError, "dropouts"),
    ({"updates": np.ones((4, 3)), "threshold": 5}, ValueError, "threshold"),
    ({"updates": np.full((4, 3), 1e20)}, ValueError, "overflow"),
])
def test_secure_aggregation_bad_inputs(kwargs, error, name):
    with pytest.raises(error, match=name):
        mpc.secure_aggregate(**kwargs)


def test_an_int_seed_gives_one_stream_not_repeated_draws():
    triple = mpc.beaver_triple(4, 3, rng=6)
    assert not np.array_equal(mpc.additive_reconstruct(triple.a), mpc.additive_reconstruct(triple.b))
    # secret 0, t = 3: f(x) = a1·x + a2·x²; equal coefficients would make f(2) = 3·f(1)
    f1, f2 = (s.y for s in mpc.shamir_share(0, threshold=3, n_parties=3, rng=7)[:2])
    assert f2 != 3 * f1 % mpc.PRIME


def test_a_scalar_secret_is_shared_too():
    shares = mpc.additive_share(-42, 4)
    assert shares.shape == (4,) and int(mpc.additive_reconstruct(shares).view(np.int64)) == -42


# --- no secret in any message, and bounded work ---------------------------------------------------


def _digits_of(value: int) -> list[str]:
    """Every 6-digit window of a secret's decimal and hex forms: none may appear in a message."""
    texts = [str(value), f"{value:x}", f"{value:X}"]
    return [t[i:i + 6] for t in texts for i in range(len(t) - 5)]


def test_a_secret_beyond_the_field_is_refused_without_quoting_it():
    secret = 2**127 + 12345                 # half of all random 128-bit keys exceed 2^127 - 1
    with pytest.raises(ValueError, match="128 bits") as error:
        mpc.shamir_share(secret, threshold=2, n_parties=3)
    message = str(error.value)
    assert not any(chunk in message for chunk in _digits_of(secret)), message
    assert "SEED_PRIME" in message          # and says what to do instead
    key = int.from_bytes(bytes(range(200, 216)), "big")     # a 128-bit key above the prime
    assert key >= mpc.PRIME
    with pytest.raises(ValueError) as error:
        mpc.shamir_share(key, threshold=2, n_parties=3)
    assert not any(chunk in str(error.value) for chunk in _digits_of(key))
    wide = mpc.shamir_share(key, threshold=2, n_parties=3, prime=mpc.SEED_PRIME)
    assert mpc.shamir_reconstruct(wide) == key
    with pytest.raises(ValueError, match="a negative int") as error:
        mpc.shamir_share(-987654321, threshold=2, n_parties=3)
    assert "987654" not in str(error.value)


def test_a_vector_secret_out_of_range_is_refused_without_quoting_its_entries():
    secret = np.array([5, 2**31 + 777777, 123456789, -424242])
    with pytest.raises(ValueError, match=r"\[0, VECTOR_PRIME\)") as error:
        mpc.shamir_share(secret, threshold=2, n_parties=3)
    message = str(error.value)
    for entry in secret[1:]:
        assert not any(chunk in message for chunk in _digits_of(abs(int(entry))))
    for big in (np.array([2**64 - 1], dtype=np.uint64), np.array([2**63 + 5], dtype=np.uint64)):
        with pytest.raises(ValueError, match="outside it"):   # compared before a cast that could wrap
            mpc.shamir_share(big, threshold=2, n_parties=3)


def test_fixed_point_overflow_is_reported_by_magnitude_not_value():
    with pytest.raises(ValueError, match="cannot overflow") as error:
        mpc.encode_fixed([340.125, 123456789012345.67], summands=3)
    message = str(error.value)
    assert "123456789" not in message and "1.23457e+14" not in message and "47 integer bits" in message


def test_ring_secrets_wider_than_64_bits_are_refused_without_quoting_them():
    secret = 2**70 + 13579
    with pytest.raises(ValueError, match="at most 64 bits") as error:
        mpc.additive_share(secret, 3)
    assert not any(chunk in str(error.value) for chunk in _digits_of(secret))
    for edge in (2**64 - 1, -(2**63)):
        assert int(mpc.additive_reconstruct(mpc.additive_share(edge, 3))) == edge % 2**64
    for bad in (None, "5", b"5", [[1, [2]]], 1.5, [True, False]):
        with pytest.raises(TypeError, match="secret"):
            mpc.additive_share(bad, 3)


def test_sizes_are_bounded_before_any_memory_or_time_is_spent():
    with pytest.raises(ValueError, match=r"n_parties must be in \[2, 1000\]"):   # was: hours
        mpc.shamir_share(42, threshold=10**5, n_parties=10**5)
    with pytest.raises(ValueError, match=r"n_parties must be in \[2, 1000\]"):   # was: MemoryError
        mpc.additive_share(np.zeros(10**6, dtype=np.int64), 10**4)
    with pytest.raises(ValueError, match="MAX_SHARE_ELEMENTS"):
        mpc.additive_share(np.zeros(10**6, dtype=np.int64), 1000)
    with pytest.raises(ValueError, match="MAX_SHARE_ELEMENTS"):
        mpc.beaver_triple((1000, 1000), 200)
    with pytest.raises(ValueError, match=r"threshold × n_parties × secret.size must be at most 2\^30"):
        mpc.shamir_share(np.zeros(10**6, dtype=np.int64), threshold=100, n_parties=100)
    with pytest.raises(ValueError, match="threshold must"):                     # was: 11^(2^64)
        mpc.consistent_secrets([], threshold=2**64, prime=11)
    with pytest.raises(ValueError, match="threshold must make prime"):
        mpc.consistent_secrets([], threshold=7, prime=11)
    with pytest.raises(ValueError, match="prime must be at most 1e6"):
        mpc.consistent_secrets([], threshold=1, prime=2**61 - 1)
    with pytest.raises(ValueError, match="at most MAX_PARTIES"):
        mpc.secure_aggregate(np.zeros((1001, 1)))
    with pytest.raises(ValueError, match="pairwise mask elements"):
        mpc.secure_aggregate(np.zeros((1000, 5000)))
    assert mpc.consistent_secrets([], threshold=6, prime=11).sum() == 11**5 * 11


def test_secure_dot_returns_shares_never_the_product():
    x, y = mpc.additive_share(np.int64(6), 3), mpc.additive_share(np.int64(7), 3)
    with pytest.raises(ValueError, match=r"x_shares must have shape \(n_parties, \.\.\., length\)"):
        mpc.secure_dot(x, y)                     # was: the opened product 42
    with pytest.raises(ValueError, match="one shape"):
        mpc.secure_dot(mpc.additive_share(np.arange(3), 3), mpc.additive_share(np.arange(4), 3))
    batch = mpc.secure_dot(mpc.additive_share(np.ones((2, 4), dtype=np.int64), 3),
                           mpc.additive_share(np.full((2, 4), 2), 3))
    assert batch.shape == (3, 2) and mpc.additive_reconstruct(batch).tolist() == [8, 8]


@pytest.mark.parametrize("call, name", [
    (lambda: mpc.beaver_multiply(np.zeros((3, 1), np.uint64), np.zeros((3, 1), np.uint64), None), "triple"),
    (lambda: mpc.beaver_multiply(np.zeros((3, 1), np.uint64), np.zeros((3, 1), np.uint64), "t"), "triple"),
    (lambda: mpc.beaver_triple(None, 3), "shape"),
    (lambda: mpc.beaver_triple(2.0, 3), "shape"),
    (lambda: mpc.beaver_triple("2", 3), "shape"),
    (lambda: mpc.beaver_triple(2, 3.0), "n_parties"),
    (lambda: mpc.shamir_reconstruct(None), "shares"),
    (lambda: mpc.shamir_reconstruct(5), "shares"),
    (lambda: mpc.consistent_secrets(None, threshold=2, prime=11), "shares"),
    (lambda: mpc.consistent_secrets([(1, 2)], threshold=2, prime=11), "shares"),
    (lambda: mpc.encode_fixed("1.5"), "values"),
    (lambda: mpc.encode_fixed(None), "values"),
    (lambda: mpc.encode_fixed([[1.0, [2.0]]]), "values"),
    (lambda: mpc.decode_fixed(None), "encoded"),
    (lambda: mpc.additive_reconstruct("12"), "shares"),
    (lambda: mpc.secure_aggregate("updates"), "updates"),
    (lambda: mpc.secure_aggregate(None), "updates"),
    (lambda: mpc.secure_dot(None, None), "x_shares"),
])
def test_wrong_types_raise_type_errors_naming_the_parameter(call, name):
    with pytest.raises(TypeError, match=name):
        call()


# --- the meter: rounds and bytes ----------------------------------------------------------------


def test_the_meter_counts_the_sizes_the_kit_sends():
    n, length = 10, 12
    costs = mpc.protocol_costs(n_parties=n, length=length, rtt_ms=0.0, mbit_per_s=8.0)
    result = mpc.secure_aggregate(np.ones((n, length)), rng=50)
    assert result.masked[0].nbytes == length * mpc._RING_BYTES
    key = mpc.x25519.X25519PrivateKey.generate().public_key()
    assert len(key.public_bytes(mpc.serialization.Encoding.Raw, mpc.serialization.PublicFormat.Raw)) == 32
    share = mpc.shamir_share(2**256 - 1, threshold=6, n_parties=n, prime=mpc.SEED_PRIME, rng=51)[0]
    assert share.y.bit_length() <= 8 * mpc._SEED_SHARE_BYTES
    secagg = costs["secure aggregation"]
    sent = 32 + 2 * (n - 1) * 66 + length * 8 + (n - 1) * 66
    assert secagg["bytes_per_party"] == sent + (n - 1) * 32 + 2 * (n - 1) * 66
    assert secagg["rounds"] == 4 and secagg["key_agreements"] == n * (n - 1) // 2
    assert secagg["seconds"] == pytest.approx(secagg["bytes_per_party"] / 1e6)    # 8 Mbit/s = 1 MB/s
    x = mpc.additive_share(np.ones(length, dtype=np.int64), n, rng=52)
    opened = mpc.beaver_multiply(x, x, mpc.beaver_triple(length, n, rng=53))
    beaver = costs["Beaver products"]
    layer = (opened["d"].nbytes + opened["e"].nbytes) * (n - 1)     # shares of d and e, to each other party
    assert beaver["bytes_per_party"] == 2 * layer + length * 8 and beaver["rounds"] == 2


def test_rounds_grow_with_depth_and_latency_with_rounds():
    shallow = mpc.protocol_costs(n_parties=5, length=1, depth=1, rtt_ms=100.0, mbit_per_s=1e6)
    deep = mpc.protocol_costs(n_parties=5, length=1, depth=20, rtt_ms=100.0, mbit_per_s=1e6)
    assert deep["Beaver products"]["rounds"] == 21 and shallow["Beaver products"]["rounds"] == 2
    assert deep["Beaver products"]["seconds"] == pytest.approx(2.1, rel=1e-3)
    assert deep["secure aggregation"] == shallow["secure aggregation"]           # no multiplications


def test_secagg_plus_needs_far_fewer_key_agreements_than_bonawitz():
    for n in (100, 1000):
        costs = mpc.protocol_costs(n_parties=n, length=1000)
        k = 2 * int(np.ceil(np.log2(n)))
        assert costs["secure aggregation"]["key_agreements"] == n * (n - 1) // 2
        assert costs["SecAgg+"]["key_agreements"] == n * k // 2
        assert costs["SecAgg+"]["bytes_per_party"] < costs["secure aggregation"]["bytes_per_party"]
    small = mpc.protocol_costs(n_parties=4, length=10)
    assert small["SecAgg+"] == small["secure aggregation"]        # k = min(n − 1, 2⌈log₂ n⌉) = n − 1


@pytest.mark.parametrize("kwargs, error, name", [
    ({"n_parties": 2}, ValueError, "n_parties"), ({"length": 0}, ValueError, "length"),
    ({"depth": 1.5}, TypeError, "depth"), ({"neighbours": 10}, ValueError, "neighbours"),
    ({"rtt_ms": -1.0}, ValueError, "rtt_ms"), ({"mbit_per_s": 0.0}, ValueError, "mbit_per_s"),
    ({"rtt_ms": "50"}, TypeError, "rtt_ms"),
])
def test_the_meter_names_a_bad_argument(kwargs, error, name):
    with pytest.raises(error, match=name):
        mpc.protocol_costs(**{"n_parties": 10, "length": 5, **kwargs})
