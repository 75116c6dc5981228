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


def test_n_minus_one_additive_shares_are_uniform():
    # Share one fixed secret 20 000 times among 3; parties 1 and 2 together see two bytes per
    # sharing (the low byte of each share): under uniformity, 65 536 equally likely pairs.
    secret = np.full(20_000, 42, dtype=np.int64)
    shares = mpc.additive_share(secret, 3, rng=2)
    low = (shares[1:] & np.uint64(0xFF)).astype(np.int64)
    _chi2_uniform(low[0] * 256 + low[1], 65_536)
    for party in range(3):                     # and each share's top byte alone is uniform too
        _chi2_uniform((shares[party] >> np.uint64(56)).astype(np.int64), 256)


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
    # ε = x − a: with a uniform, ε's top byte is uniform whatever x is (here x = 0).
    n = 20_000
    triple = mpc.beaver_triple(n, 2, rng=12)
    zero = mpc.additive_share(np.zeros(n, dtype=np.int64), 2, rng=13)
    out = mpc.beaver_multiply(zero, zero, triple)
    _chi2_uniform((out["epsilon"] >> np.uint64(56)).astype(np.int64), 256)
    assert np.all(mpc.additive_reconstruct(out["z"]) == 0)


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
