"""Lesson for notebooks/03_privacy_budget.ipynb: composition and the privacy budget.

Here: the adaptive journalist's questions, ``year_plan`` (one year of releases under each
accounting), the exercise checkers 03.1–03.6 and the composition explorer with its figure.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from typing import Any

import ipywidgets as w
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from scipy import optimize, special

from leptonkit import accounting, datasets, dp
from leptonkit._checks import check_int, check_real
from leptonkit.errors import PrivacyBudgetExceeded
from leptonkit.exercises import NotYet, close_to, exactly, exercise, just_enough
from leptonkit.i18n import N_, _
from leptonkit.lessons.n02_laplace_vs_gaussian import staged
from leptonkit.plots import GAUSSIAN_COLOUR, LAPLACE_COLOUR, NEUTRAL_COLOUR, finish
from leptonkit.widgets import Explorer, slider

__all__ = ["COMPOSITION_K_MAX", "EXPLORERS", "JOURNALIST_AGES", "JOURNALIST_THRESHOLD", "YEAR_TARGET",
           "card_payments", "composition", "composition_explorer", "journalist_questions", "year_plan"]

COMPOSITION_K_MAX = 1000
Z_95 = float(special.ndtri(0.975))      # 1.95996…: a normal value is within ±1.96 sd 95 % of the time


# --- the adaptive journalist (03.3) ---------------------------------------------------------------

JOURNALIST_AGES = range(18, 91)
JOURNALIST_THRESHOLD = 300


def journalist_questions(customers: pd.DataFrame) -> Iterator[float]:
    """Her questions in order: how many overdrawn customers are aged at most a, for a = 18, 19, …, 90.

    Each answer is an exact count on the data (add/remove sensitivity 1); she wants the first age
    at which it reaches :data:`JOURNALIST_THRESHOLD`. A generator, so each question is asked only
    when the previous answer has come back.
    """
    overdrawn_ages = customers.loc[customers["overdraft"], "age"].to_numpy()
    for age in JOURNALIST_AGES:
        yield float((overdrawn_ages <= age).sum())


@functools.cache
def _journalist_truth() -> tuple[int, int]:
    """(questions the ledger answers at ε = 0.1 each under ε = 1, the age SVT reports with rng=16)."""
    customers = datasets.bank_customers(5000)
    ledger, answered = accounting.PrivacyAccountant(1.0), 0
    for count in journalist_questions(customers):
        try:
            dp.geometric_mechanism(int(count), epsilon=0.1, rng=answered, accountant=ledger)
        except PrivacyBudgetExceeded:
            break
        answered += 1
    verdicts = dp.sparse_vector(journalist_questions(customers), threshold=JOURNALIST_THRESHOLD,
                                epsilon=1.0, rng=16)
    return answered, JOURNALIST_AGES[verdicts.index(True)]


# --- contribution bounding ---------------------------------------------------------------------


def card_payments(customers: pd.DataFrame, *, rng: Any = 0) -> pd.DataFrame:
    """A synthetic table of card payments: one row per payment, a few customers with very many.

    The number of payments per customer is geometric with mean 4, and one customer in a hundred
    pays 20 to 60 times as often; ``rng`` seeds it (the lesson's default 0). Columns ``customer``,
    ``region``, ``amount`` (EUR).
    """
    g = np.random.default_rng(rng)
    n = len(customers)
    counts = g.geometric(0.25, size=n) - 1
    heavy = g.random(n) < 0.01
    counts[heavy] *= g.integers(20, 61, size=int(heavy.sum()))
    rows = np.repeat(np.arange(n), counts)
    return pd.DataFrame({"customer": customers["customer"].to_numpy()[rows],
                         "region": customers["region"].to_numpy()[rows],
                         "amount": np.round(g.lognormal(3.0, 1.0, size=rows.size), 2)})


# --- a year of releases under each accounting ----------------------------------------------------


def _solve(excess: Callable[[float], float], low: float, high: float) -> float:
    """The x in [low, high] where the increasing ``excess`` (ε spent minus the target) crosses 0,
    taken on the private side: excess(x) ≤ 0."""
    root = optimize.brentq(excess, low, high, xtol=1e-12, rtol=1e-8)
    for _step in range(100):               # brentq lands within rtol of the root: a step or two
        if excess(root) <= 0:
            return root
        root -= 1e-8 * abs(root) + 1e-12
    raise ArithmeticError("the year plan's calibration did not converge")


def year_plan(*, k: int = 60, epsilon: float = 1.0, delta: float = 1e-5) -> list[dict[str, Any]]:
    """k releases of one count (Δ = 1) under a total (ε, δ): the noise each accounting needs.

    One row per (noise, accounting): the standard deviation of the noise on every release for
    the k releases together to be (ε, δ)-DP, as that accounting proves it. Gaussian: exact
    (GDP: k releases with noise multiplier z are one with z/√k, Dong, Roth & Su 2022, so
    z = √k times the analytic σ of one (ε, δ) release), RDP (Opacus, calibrated to its tolerance
    of 0.01 in ε), and basic composition of k analytic (ε/k, δ/k) releases. Laplace (ε-DP each):
    the PLD of the kit's discrete Laplace (the ledger's own composition, dp-accounting), advanced
    composition with δ' = δ (Dwork & Roth 2014, Thm 3.20), and basic (b = k/ε). ``k`` in
    [1, 1000], ε in [0.01, 10], δ in [1e-12, 1e-2].
    """
    k = check_int(k, "k", low=1, high=1000)
    eps = check_real(epsilon, "epsilon", low=0.01, high=10.0)
    dlt = check_real(delta, "delta", low=1e-12, high=1e-2)
    from dp_accounting.pld import privacy_loss_distribution as pld

    def laplace_advanced() -> float:
        eps0 = _solve(lambda e: accounting.advanced_composition(e, 0.0, k, delta_prime=dlt)[0] - eps,
                      1e-9, eps)
        return math.sqrt(2) / eps0

    def laplace_pld() -> float:
        def excess(decay: float) -> float:
            one = pld.from_discrete_laplace_mechanism(parameter=decay, sensitivity=1,
                                                      value_discretization_interval=1e-4)
            return float(one.self_compose(k).get_epsilon_for_delta(dlt)) - eps
        decay = _solve(excess, eps / k, eps)
        return math.sqrt(2 * math.exp(-decay)) / -math.expm1(-decay)   # the discrete Laplace's sd

    rdp = accounting.noise_multiplier_for_epsilon(target_epsilon=eps, sample_rate=1.0, steps=k, delta=dlt)
    return [
        {"noise": "Gaussian", "accounting": "exact (GDP)",
         "std": dp.gaussian_sigma(sensitivity=1, epsilon=eps, delta=dlt) * math.sqrt(k)},
        {"noise": "Gaussian", "accounting": "RDP (Opacus, ±0.01 in ε)", "std": rdp},
        {"noise": "Gaussian", "accounting": "basic, (ε/k, δ/k) each",
         "std": dp.gaussian_sigma(sensitivity=1, epsilon=eps / k, delta=dlt / k)},
        {"noise": "Laplace", "accounting": "PLD (the ledger's)", "std": laplace_pld()},
        {"noise": "Laplace", "accounting": "advanced, δ′ = δ", "std": laplace_advanced()},
        {"noise": "Laplace", "accounting": "basic, ε/k each", "std": math.sqrt(2) * k / eps},
    ]


# --- exercises -----------------------------------------------------------------------------


@exercise("03.1", hint=N_("The average of k answers is close to normal with standard deviation "
                          "(√2·Δ/ε)/√k, and it rounds to the true count when it lands within ±0.5."))
@staged("03.1", N_("A normal value lies within ±1.96 standard deviations 95 % of the time: you need "
                   "1.96·(√2/ε)/√k ≤ 0.5. Find the smallest whole k."))
def _repeats_to_round_to_the_truth(answer: Any) -> bool:
    k = int(answer)
    if k < 1:
        raise NotYet(_("{k} is not a number of answers.").format(k=k))
    sd = math.sqrt(2) * dp.laplace_scale(1.0, 0.1)
    if Z_95 * sd / math.sqrt(k) > 0.5:
        raise NotYet(_("after {k} answers the average still rounds to the truth only {p:.1%} of the "
                       "time.").format(k=k, p=2 * special.ndtr(0.5 * math.sqrt(k) / sd) - 1))
    if k > 1 and Z_95 * sd / math.sqrt(k - 1) <= 0.5:
        raise NotYet(_("{k} answers are enough, but fewer would do: find the smallest.").format(k=k))
    return True


@exercise("03.2", hint=N_("Let the ledger tell you: spend on a fresh budget in a loop until it refuses."))
@staged("03.2", N_("PrivacyAccountant(1.0).spend(0.15, label=...) raises PrivacyBudgetExceeded when a spend "
                   "does not fit; count the spends before that."))
def _spends_that_fit(answer: Any) -> bool:
    return exactly(answer, 6, _("{} spends of 0.15 do not add up to the most that fits under 1.0."))


@exercise("03.3", hint=N_("Two steps: a loop of dp_count calls on one ledger until it refuses; then one "
                          "sparse-vector call over all her questions."))
@staged("03.3", N_("Step 1: a PrivacyAccountant(1.0) passed as accountant= to dp.dp_count at ε = 0.1 per "
                   "question, counting the answers until PrivacyBudgetExceeded. Step 2: dp.sparse_vector "
                   "over lesson.journalist_questions(customers) with threshold 300, ε = 1 and rng=16; the "
                   "index of its True is the position in JOURNALIST_AGES."))
def _journalist_stopped(answer: Any) -> bool:
    try:
        answered, age = answer
    except (TypeError, ValueError):
        raise NotYet(_("answer a pair: (questions the ledger answered, the age the SVT reports).")) from None
    expected_answered, expected_age = _journalist_truth()
    exactly(answered, expected_answered, _("the ledger answers a different number of questions than {}."))
    if int(age) != expected_age:
        raise NotYet(_("the sparse vector technique with rng=16 reports another age than {age}.").format(
            age=int(age)))
    return True


@exercise("03.4", hint=N_("Advanced composition (Dwork, Rothblum & Vadhan 2010) is in the accounting "
                          "module."))
@staged("03.4", N_("ε′ = √(2k ln(1/δ′))·ε + kε(e^ε − 1), here with k = 200, ε = 0.05, δ′ = 10⁻⁶."))
def _advanced_total(answer: Any) -> bool:
    return close_to(answer, accounting.advanced_composition(0.05, 0.0, 200, delta_prime=1e-6)[0],
                    rel=0.01)


@exercise("03.5", hint=N_("You need the inverse of dpsgd_epsilon: the kit's accounting module can search "
                          "the noise multiplier for a target ε."))
@staged("03.5", N_("accounting.noise_multiplier_for_epsilon takes target_epsilon, sample_rate, steps and "
                   "delta."))
def _calibrated_noise(answer: Any) -> bool:
    eps = accounting.dpsgd_epsilon(noise_multiplier=float(answer), sample_rate=0.01, steps=2000,
                                   delta=1e-5)
    return just_enough(eps, 3.0)


YEAR_TARGET = {"k": 60, "error": 25.0, "delta": 1e-6}   # 03.6: 60 counts, ±25 at 95 %, δ ≤ 10⁻⁶


def _year_epsilon(sigma: float, delta: float) -> float:
    return accounting.gaussian_composition_epsilon(noise_multiplier=sigma, k=YEAR_TARGET["k"], delta=delta,
                                                   accountant="exact")


@exercise("03.6", hint=N_("The utility target fixes the most noise each release can carry; the year's "
                          "privacy follows from that noise, composed exactly."))
@staged("03.6", N_("σ = 25/1.96. Sixty Gaussian releases with noise σ are one with σ/√60: (√60/σ)-GDP. "
                   "Convert that μ to ε at the largest δ the policy allows."),
        N_("accounting.gdp_epsilon converts μ; gaussian_composition_epsilon(…, accountant='exact') "
           "composes."))
def _year_defended(answer: Any) -> bool:
    if not isinstance(answer, dict) or not {"epsilon", "delta", "sigma"} <= set(answer):
        raise NotYet(_("answer a dict with keys 'epsilon', 'delta' and 'sigma'."))
    eps, dlt, sigma = (float(answer[key]) for key in ("epsilon", "delta", "sigma"))
    if not 0 < dlt <= YEAR_TARGET["delta"]:
        raise NotYet(_("δ = {delta:g} breaks the policy: at most {most:g}.").format(delta=dlt,
                                                                                   most=YEAR_TARGET["delta"]))
    if not 0 < sigma or Z_95 * sigma > YEAR_TARGET["error"] * (1 + 1e-9):
        within = 2 * special.ndtr(YEAR_TARGET["error"] / sigma) - 1 if sigma > 0 else 0
        raise NotYet(_("with σ = {sigma:g} a count is within ±25 only {p:.1%} of the time, not "
                       "95 %.").format(sigma=sigma, p=within))
    spent = _year_epsilon(sigma, dlt)
    if eps < spent * (1 - 1e-6):
        raise NotYet(_("you claim ε = {eps:.4g}, but sixty releases with σ = {sigma:.4g} at δ = {delta:g} "
                       "spend ε = {spent:.4g}: a claim you cannot defend.").format(eps=eps, sigma=sigma,
                                                                                  delta=dlt, spent=spent))
    best = _year_epsilon(YEAR_TARGET["error"] / Z_95, YEAR_TARGET["delta"])
    if eps > best * 1.02:
        raise NotYet(_("ε = {eps:.4g} is true but more than the target needs: the plan can promise "
                       "less.").format(eps=eps))
    return True


# --- explorer: composition ---------------------------------------------------------------------


_ACCOUNTINGS = {"basic": N_("basic"), "advanced": N_("advanced"), "rdp": N_("rdp"), "exact": N_("exact")}


def composition(curves: dict, *, k: int, epsilon: float) -> go.Figure:
    """Total ε against the number of queries k: basic, advanced, RDP and exact accounting, k marked.

    ``curves`` is :func:`leptonkit.accounting.composition_curves`.
    """
    fig = go.Figure()
    styles = {"basic": (_("basic: kε"), NEUTRAL_COLOUR),
              "advanced": (_("advanced (DRV 2010)"), LAPLACE_COLOUR),
              "rdp": (_("RDP (Opacus)"), GAUSSIAN_COLOUR), "exact": (_("exact (GDP)"), "black")}
    i = int(np.argmin(np.abs(curves["k"] - k)))
    for key, (name, colour) in styles.items():
        fig.add_trace(go.Scatter(x=curves["k"], y=curves[key], name=name,
                                 line={"color": colour, "width": 2.5,
                                       "dash": "dot" if key == "exact" else None}))
    fig.add_trace(go.Scatter(x=[curves["k"][i]] * len(styles), y=[curves[key][i] for key in styles],
                             mode="markers", marker={"size": 11, "color": [c for _n, c in styles.values()]},
                             showlegend=False))
    totals = ", ".join(f"{_(_ACCOUNTINGS[key])} {curves[key][i]:.3g}" for key in styles)
    fig.update_layout(xaxis={"type": "log", "title": _("number of queries k")},
                      yaxis={"type": "log", "title": _("total ε")})
    return finish(fig, height=420, legend=True, margin={"t": 50},
                  title=_("{k} queries at ε = {epsilon:.3g} each → total ε: {totals}").format(
                      k=curves["k"][i], epsilon=epsilon, totals=totals))


def composition_explorer(epsilon: float = 0.1, k: int = 100) -> Explorer:
    """Per-query ε and the number of queries against the total ε by four accountings."""
    controls = {
        "epsilon": slider(w.FloatLogSlider, _("ε per query"), value=epsilon, base=10, min=-2,
                          max=0, step=0.05),
        "k": slider(w.IntSlider, _("number of queries k"), value=k, min=1, max=COMPOSITION_K_MAX),
    }

    def compute(epsilon: float, k: int) -> dict:
        return accounting.composition_curves(epsilon=epsilon, k_max=COMPOSITION_K_MAX)

    return Explorer(controls, compute, composition)


EXPLORERS: dict[str, Callable[..., Explorer]] = {"composition": composition_explorer}
