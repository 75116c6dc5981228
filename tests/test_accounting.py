"""leptonkit.accounting: the ledger refuses without losing anything; composition matches theory and Opacus."""

from __future__ import annotations

import math
import time

import pytest
from opacus.accountants import PRVAccountant, RDPAccountant

from leptonkit import accounting
from leptonkit.errors import PrivacyBudgetExceeded


def test_ledger_spends_and_reports():
    budget = accounting.PrivacyAccountant(1.0, 1e-5)
    budget.spend(0.3, label="mean balance")
    budget.spend(0.2, 1e-6, label="overdraft count")
    assert budget.spent == pytest.approx((0.5, 1e-6))
    assert budget.remaining == pytest.approx((0.5, 9e-6))
    assert [s.label for s in budget.history] == ["mean balance", "overdraft count"]
    assert "2 spends" in repr(budget)


def test_ledger_refusal_changes_nothing():
    budget = accounting.PrivacyAccountant(1.0, 1e-6)
    budget.spend(0.9, label="first")
    before = (budget.history, budget.spent, budget.remaining)
    with pytest.raises(PrivacyBudgetExceeded, match=r"'second' needs .*nothing was spent"):
        budget.spend(0.2, label="second")
    with pytest.raises(PrivacyBudgetExceeded):
        budget.spend(0.05, 2e-6, label="too much delta")
    assert (budget.history, budget.spent, budget.remaining) == before
    budget.history.append("tampering")  # a copy: the ledger is not editable through it
    assert len(budget.history) == 1


def test_ledger_lets_the_whole_budget_be_spent_despite_rounding():
    budget = accounting.PrivacyAccountant(1.0)
    for i in range(10):
        budget.spend(0.1, label=f"query {i}")
    assert budget.remaining[0] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(PrivacyBudgetExceeded):
        budget.spend(1e-6, label="one more")


@pytest.mark.parametrize("args, error, match", [
    ((0.0,), ValueError, r"epsilon must be in \(0, inf\)"),
    ((float("nan"),), ValueError, "epsilon must be a finite number"),
    ((1.0, 1.0), ValueError, r"delta must be in \[0, 1\)"),
    ((1.0, -0.1), ValueError, "delta"),
])
def test_ledger_bad_budget(args, error, match):
    with pytest.raises(error, match=match):
        accounting.PrivacyAccountant(*args)


def test_ledger_bad_spends():
    budget = accounting.PrivacyAccountant(1.0, 1e-5)
    with pytest.raises(ValueError, match="cost"):
        budget.spend(-0.1, label="x")
    with pytest.raises(ValueError, match="cost"):
        budget.spend(float("inf"), label="x")
    with pytest.raises(TypeError, match="label"):
        budget.spend(0.1, label="")
    with pytest.raises(TypeError):
        budget.spend(0.1)  # label is keyword-only and required
    assert budget.history == []


def test_basic_and_advanced_composition_formulas():
    assert accounting.basic_composition(0.1, 1e-6, 10) == pytest.approx((1.0, 1e-5))
    eps, delta = accounting.advanced_composition(0.1, 1e-7, 100, delta_prime=1e-6)
    assert eps == pytest.approx(math.sqrt(200 * math.log(1e6)) * 0.1 + 100 * 0.1 * math.expm1(0.1))
    assert delta == pytest.approx(1e-5 + 1e-6)
    assert eps < 100 * 0.1  # for many small queries advanced beats basic
    assert accounting.advanced_composition(1.0, 0, 2, delta_prime=1e-6)[0] > 2.0  # ... not for few
    with pytest.raises(ValueError, match="delta_prime"):
        accounting.advanced_composition(0.1, 0, 10, delta_prime=0)
    with pytest.raises(ValueError, match=r"k must be in \[1, 1000000000000\], got 0"):
        accounting.basic_composition(0.1, 0, 0)


@pytest.mark.parametrize("sigma, q, steps", [(1.1, 256 / 60000, 14062), (0.8, 0.01, 500), (4.0, 1.0, 10)])
def test_dpsgd_epsilon_equals_opacus_accountants_built_step_by_step(sigma, q, steps):
    rdp = RDPAccountant()
    for _ in range(steps):
        rdp.step(noise_multiplier=sigma, sample_rate=q)
    assert accounting.dpsgd_epsilon(noise_multiplier=sigma, sample_rate=q, steps=steps,
                                    delta=1e-5) == pytest.approx(rdp.get_epsilon(1e-5), rel=1e-12)
    if q == 1.0:
        return  # Opacus's PRV is built for subsampling (q < 1)
    prv = PRVAccountant()
    prv.history = [(sigma, q, steps)]
    assert accounting.dpsgd_epsilon(noise_multiplier=sigma, sample_rate=q, steps=steps, delta=1e-5,
                                    accountant="prv") == pytest.approx(prv.get_epsilon(1e-5), rel=1e-9)


def test_dpsgd_epsilon_grows_with_steps_and_shrinks_with_noise():
    eps = lambda sigma, steps: accounting.dpsgd_epsilon(  # noqa: E731
        noise_multiplier=sigma, sample_rate=0.01, steps=steps, delta=1e-5)
    assert eps(1.0, 100) < eps(1.0, 1000) < eps(1.0, 10000)
    assert eps(2.0, 1000) < eps(1.0, 1000)
    # PRV is the tighter accounting (Gopi et al. 2021)
    assert accounting.dpsgd_epsilon(noise_multiplier=1.0, sample_rate=0.01, steps=1000, delta=1e-5,
                                    accountant="prv") < eps(1.0, 1000)


def test_noise_calibration_reaches_the_target():
    z = accounting.noise_multiplier_for_epsilon(target_epsilon=2.0, sample_rate=0.01, steps=1000,
                                                delta=1e-5)
    eps = accounting.dpsgd_epsilon(noise_multiplier=z, sample_rate=0.01, steps=1000, delta=1e-5)
    assert 2.0 - 0.01 <= eps <= 2.0  # Opacus's search tolerance is 0.01 in ε


def test_dpsgd_bad_inputs():
    base = {"noise_multiplier": 1.0, "sample_rate": 0.01, "steps": 10, "delta": 1e-5}
    for key, value, match in [("noise_multiplier", 0, "noise_multiplier"), ("steps", 2.5, "steps"),
                              ("sample_rate", 1.5, "sample_rate"), ("steps", 0, "steps"),
                              ("delta", 0, "delta")]:
        with pytest.raises((ValueError, TypeError), match=match):
            accounting.dpsgd_epsilon(**{**base, key: value})
    with pytest.raises(ValueError, match=r"accountant must be one of \('rdp', 'prv'\)"):
        accounting.dpsgd_epsilon(**base, accountant="gdp")


def test_composition_curves_order_the_accountings_for_many_queries():
    curves = accounting.composition_curves(epsilon=0.1, k_max=1000)
    assert curves["k"][0] == 1 and curves["k"][-1] == 1000
    assert curves["basic"] == pytest.approx(curves["k"] * 0.1)
    many = curves["k"] >= 100
    assert (curves["rdp"][many] < curves["advanced"][many]).all()
    assert (curves["advanced"][many] < curves["basic"][many]).all()
    assert (curves["exact"] <= curves["rdp"] * (1 + 1e-9)).all()      # no accountant beats the exact one
    assert (curves["exact"] <= curves["basic"] * (1 + 1e-9)).all()


def test_dpsgd_epsilon_curve_equals_the_accountant_at_every_point():
    curve = accounting.dpsgd_epsilon_curve(noise_multiplier=1.2, sample_rate=0.05, steps=[10, 100, 400],
                                           delta=1e-5)
    for steps, eps in zip([10, 100, 400], curve, strict=True):
        assert eps == pytest.approx(accounting.dpsgd_epsilon(noise_multiplier=1.2, sample_rate=0.05,
                                                             steps=steps, delta=1e-5), rel=1e-12)


# --- bounded calibration: every search ends, every grid fits ----------------------------------------


def test_noise_calibration_gives_opacus_answer_within_its_bounds():
    from opacus.accountants.utils import get_noise_multiplier

    for eps, q, steps in ((2.0, 0.01, 1000), (1.0, 1.0, 60), (3.0, 0.01, 2000), (5000.0, 1.0, 1)):
        ours = accounting.noise_multiplier_for_epsilon(target_epsilon=eps, sample_rate=q, steps=steps,
                                                       delta=1e-5)
        assert ours == get_noise_multiplier(target_epsilon=eps, target_delta=1e-5, sample_rate=q, steps=steps)
    prv = accounting.noise_multiplier_for_epsilon(target_epsilon=4.0, sample_rate=0.05, steps=100, delta=1e-5,
                                                  accountant="prv")
    assert prv == get_noise_multiplier(target_epsilon=4.0, target_delta=1e-5, sample_rate=0.05, steps=100,
                                       accountant="prv")


@pytest.mark.parametrize("target, accountant, match", [
    (1e16, "rdp", "target_epsilon=1e\\+16 is too large"),     # Opacus's search never ends
    (1e308, "rdp", "target_epsilon=1e\\+308 is too large"),
    (1e-9, "rdp", "target_epsilon=1e-09 is too small"),
    (5000.0, "prv", "target_epsilon=5000 is too large.*accountant='rdp'"),
])
def test_an_unreachable_target_epsilon_is_refused_at_once(target, accountant, match):
    start = time.perf_counter()
    with pytest.raises(ValueError, match=match):
        accounting.noise_multiplier_for_epsilon(target_epsilon=target, sample_rate=0.5 if accountant == "prv"
                                                else 0.01, steps=10 if accountant == "prv" else 100,
                                                delta=1e-5, accountant=accountant)
    assert time.perf_counter() - start < 20


def test_prv_refuses_a_grid_it_cannot_hold_before_taking_any_memory():
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"noise_multiplier=0.01 .* too small for accountant='prv'"):
        accounting.dpsgd_epsilon(noise_multiplier=0.01, sample_rate=0.5, steps=10, delta=1e-5,
                                 accountant="prv")                  # was: past 6 GB of memory
    assert time.perf_counter() - start < 2
    with pytest.raises(ValueError, match="delta must be at least 1e-300 for accountant='prv'"):
        accounting.dpsgd_epsilon(noise_multiplier=1.0, sample_rate=0.01, steps=10, delta=1e-320,
                                 accountant="prv")


def test_opacus_inputs_are_bounded_and_epsilon_is_never_negative():
    with pytest.raises(ValueError, match=r"noise_multiplier must be in \[0.01, 1e\+06\]"):
        accounting.dpsgd_epsilon(noise_multiplier=1e200, sample_rate=0.01, steps=10, delta=1e-5)  # Overflow
    with pytest.raises(ValueError, match="noise_multiplier must be in"):
        accounting.dpsgd_epsilon(noise_multiplier=1e-300, sample_rate=0.01, steps=10, delta=1e-5)
    with pytest.raises(ValueError, match="steps must be in"):
        accounting.dpsgd_epsilon(noise_multiplier=1.0, sample_rate=0.01, steps=10**13, delta=1e-5)
    assert accounting.dpsgd_epsilon(noise_multiplier=1.0, sample_rate=0.01, steps=10, delta=0.9) == 0.0
    curve = accounting.dpsgd_epsilon_curve(noise_multiplier=1.0, sample_rate=0.01, steps=[10], delta=0.9)
    assert curve[0] == 0.0
    with pytest.raises(ValueError, match="k must be in"):
        accounting.gaussian_composition_epsilon(noise_multiplier=1.0, k=10**13, delta=1e-5)
    with pytest.raises(ValueError, match="epsilon must be in"):
        accounting.composition_curves(epsilon=1e-300, k_max=10)


@pytest.mark.parametrize("steps, error", [(None, TypeError), (5, TypeError), ("10", TypeError),
                                          ([10, 2.5], TypeError), ([0], ValueError),
                                          (range(1, 100_002), ValueError)])
def test_dpsgd_epsilon_curve_names_bad_steps(steps, error):
    with pytest.raises(error, match="steps"):
        accounting.dpsgd_epsilon_curve(noise_multiplier=1.0, sample_rate=0.01, steps=steps, delta=1e-5)


def test_accountant_names_are_strings():
    with pytest.raises(TypeError, match="accountant must be one of"):
        accounting.dpsgd_epsilon(noise_multiplier=1.0, sample_rate=0.01, steps=10, delta=1e-5,
                                 accountant=None)
    with pytest.raises(TypeError, match="accountant must be one of"):
        accounting.noise_multiplier_for_epsilon(target_epsilon=1.0, sample_rate=0.01, steps=10, delta=1e-5,
                                                accountant=["rdp"])


# --- exact composition of Gaussian releases (GDP) ------------------------------------------------


def _gdp_delta(eps: float, mu: float) -> float:
    """Dong, Roth & Su 2022, Cor. 2.13, written out independently of the kit."""
    from scipy.stats import norm
    return float(norm.cdf(-eps / mu + mu / 2) - math.exp(eps) * norm.cdf(-eps / mu - mu / 2))


@pytest.mark.parametrize("mu, delta", [(0.3, 1e-5), (1.0, 1e-5), (2.5, 1e-8), (0.05, 1e-3)])
def test_gdp_epsilon_is_the_exact_conversion_of_dong_roth_su(mu, delta):
    eps = accounting.gdp_epsilon(mu=mu, delta=delta)
    assert _gdp_delta(eps, mu) <= delta * (1 + 1e-9)
    assert _gdp_delta(eps * (1 - 1e-6), mu) > delta     # and not a larger ε than needed


def test_sixty_gaussians_compose_exactly_into_one_and_every_accountant_is_above_that():
    from leptonkit import dp

    z = dp.gaussian_sigma(sensitivity=1, epsilon=1.0, delta=1e-5) * math.sqrt(60)   # one Gaussian, split
    eps = {name: accounting.gaussian_composition_epsilon(noise_multiplier=z, k=60, delta=1e-5,
                                                         accountant=name)
           for name in accounting.GAUSSIAN_ACCOUNTANTS}
    assert eps["exact"] == pytest.approx(1.0, abs=1e-9)
    assert eps["exact"] == pytest.approx(dp.gaussian_epsilon(sigma=z / math.sqrt(60), sensitivity=1,
                                                             delta=1e-5), rel=1e-12)
    assert eps["exact"] <= eps["pld"] < eps["exact"] * 1.001     # pessimistic discretisation, tiny
    assert eps["exact"] <= eps["prv"] * (1 + 1e-3)               # PRV's own error bound is ~1e-3 of ε
    assert eps["rdp"] > eps["prv"] > eps["exact"] * 0.999         # RDP's conversion is loose


def test_gaussian_composition_names_bad_arguments():
    with pytest.raises(ValueError, match="accountant must be one of"):
        accounting.gaussian_composition_epsilon(noise_multiplier=1.0, k=10, delta=1e-5, accountant="gdp")
    with pytest.raises(TypeError, match="accountant must be one of"):
        accounting.gaussian_composition_epsilon(noise_multiplier=1.0, k=10, delta=1e-5, accountant=None)
    with pytest.raises(ValueError, match="noise_multiplier"):
        accounting.gaussian_composition_epsilon(noise_multiplier=0.01, k=10**12, delta=1e-5,
                                                accountant="exact")
    with pytest.raises(ValueError, match="k must be at most 10\\^6"):
        accounting.gaussian_composition_epsilon(noise_multiplier=1.0, k=10**7, delta=1e-5, accountant="pld")
    for bad, error in ((0.0, ValueError), (1001.0, ValueError), ("1", TypeError), (None, TypeError)):
        with pytest.raises(error, match="mu"):
            accounting.gdp_epsilon(mu=bad, delta=1e-5)
    with pytest.raises(ValueError, match="delta"):
        accounting.gdp_epsilon(mu=1.0, delta=0.0)


@pytest.mark.parametrize("rho, delta", [(2.56, 1e-10), (0.07, 1e-10), (0.2, 1e-10), (2.0, 1e-5),
                                        (1e-4, 1e-6)])
def test_zcdp_epsilon_is_below_bun_steinke_and_above_the_gaussian_it_contains(rho, delta):
    eps = accounting.zcdp_epsilon(rho=rho, delta=delta)
    assert eps <= rho + 2 * math.sqrt(rho * math.log(1 / delta)) + 1e-12
    # a ρ-zCDP Gaussian is √(2ρ)-GDP, whose exact ε no conversion valid for every ρ-zCDP beats
    assert eps >= accounting.gdp_epsilon(mu=math.sqrt(2 * rho), delta=delta)
    # and it is the minimum over α of the conversion of Canonne, Kamath & Steinke (2020, Cor. 13)
    grid = [1 + 10**x for x in [i / 200 for i in range(-800, 800)]]
    conversion = min(a * rho + (math.log(1 / delta) + (a - 1) * math.log1p(-1 / a) - math.log(a)) / (a - 1)
                     for a in grid)
    assert eps == pytest.approx(conversion, rel=1e-4)


def test_zcdp_epsilon_names_bad_arguments():
    for bad, error in ((0.0, ValueError), (-1.0, ValueError), (1e5, ValueError), ("1", TypeError)):
        with pytest.raises(error, match="rho"):
            accounting.zcdp_epsilon(rho=bad, delta=1e-5)
    with pytest.raises(ValueError, match="delta"):
        accounting.zcdp_epsilon(rho=1.0, delta=1.0)
