"""Notebook 03's exercises accept right answers and refuse wrong ones; the year plan is consistent."""

from __future__ import annotations

import math

import pytest

from leptonkit import accounting, datasets, dp
from leptonkit.errors import PrivacyBudgetExceeded
from leptonkit.lessons import n03_privacy_budget as lesson


def _repeats():
    one = math.sqrt(2) / 0.1
    k = math.ceil((1.959963984540054 * one / 0.5) ** 2)       # 95 % within ±0.5 of the truth
    return [k], [k - 1, 313, 2 * k]


def _journalist():
    customers = datasets.bank_customers(5000)
    ledger, answered = accounting.PrivacyAccountant(1.0), 0
    overdrawn = customers[customers["overdraft"]]
    for age in lesson.JOURNALIST_AGES:             # a learner's loop: one dp_count per question
        try:
            dp.dp_count(overdrawn[overdrawn["age"] <= age], epsilon=0.1, rng=age, accountant=ledger)
        except PrivacyBudgetExceeded:
            break
        answered += 1
    verdicts = dp.sparse_vector(lesson.journalist_questions(customers), threshold=300, epsilon=1.0, rng=16)
    age = lesson.JOURNALIST_AGES[verdicts.index(True)]
    return [(answered, age)], [(answered + 1, age), (answered, age + 1), 42, "(10, 42)"]


def _advanced():
    advanced = math.sqrt(2 * 200 * math.log(1e6)) * 0.05 + 200 * 0.05 * math.expm1(0.05)
    return [advanced], [10.0, advanced * 1.05]


def _calibrated():
    z = accounting.noise_multiplier_for_epsilon(target_epsilon=3, sample_rate=0.01, steps=2000, delta=1e-5)
    return [z], [z * 0.9, z * 1.2]


def _year():
    sigma = 25 / 1.959963984540054
    mu = math.sqrt(60) / sigma
    best = accounting.gdp_epsilon(mu=mu, delta=1e-6)
    plan = {"epsilon": best, "delta": 1e-6, "sigma": sigma}
    return ([plan, {**plan, "epsilon": best * 1.01}],
            [{**plan, "epsilon": best * 0.98},                      # a claim the noise does not support
             {**plan, "sigma": 30.0},                               # misses the utility target
             {**plan, "delta": 1e-5},                               # breaks the δ policy
             {**plan, "epsilon": 2 * best},                         # true, but more than needed
             {"epsilon": best, "sigma": sigma}, (best, 1e-6, sigma)])


ANSWERS = {
    "03.1": _repeats,
    "03.2": lambda: ([6], [5, 7]),
    "03.3": _journalist,
    "03.4": _advanced,
    "03.5": _calibrated,
    "03.6": _year,
}


@pytest.mark.parametrize("exercise_id", sorted(ANSWERS))
def test_exercise(exercise_id, judge):
    judge(exercise_id, *ANSWERS[exercise_id]())


def test_year_plan_orders_the_accountings_and_meets_the_budget():
    rows = {(r["noise"], r["accounting"].split(" ")[0]): r["std"] for r in lesson.year_plan()}
    exact = rows["Gaussian", "exact"]
    # the exact plan spends exactly ε = 1 at δ = 1e-5: one Gaussian with noise exact/√60
    assert accounting.gaussian_composition_epsilon(noise_multiplier=exact, k=60, delta=1e-5,
                                                   accountant="exact") == pytest.approx(1.0, abs=1e-9)
    assert exact < rows["Gaussian", "RDP"] < rows["Gaussian", "basic,"]
    assert rows["Laplace", "PLD"] < rows["Laplace", "advanced,"] < rows["Laplace", "basic,"]
    assert rows["Laplace", "basic,"] == pytest.approx(math.sqrt(2) * 60)
    # the Laplace plan by PLD really is (1, 1e-5) for the ledger
    ledger = accounting.PrivacyAccountant(1.0, 1e-5)
    decay = None
    for a in (x / 10_000 for x in range(100, 1000)):     # the decay whose sd is the plan's
        if math.sqrt(2 * math.exp(-a)) / -math.expm1(-a) <= rows["Laplace", "PLD"]:
            decay = a
            break
    assert decay is not None
    for i in range(60):
        month = accounting.PrivacyCost.discrete_laplace(decay=decay * 0.999, sensitivity=1)
        ledger.spend(month, label=f"month {i}")
    with pytest.raises(PrivacyBudgetExceeded):
        ledger.spend(accounting.PrivacyCost.discrete_laplace(decay=decay, sensitivity=1), label="one more")


def test_card_payments_has_heavy_contributors_and_is_seeded():
    customers = datasets.bank_customers(500)
    a, b = lesson.card_payments(customers), lesson.card_payments(customers)
    assert a.equals(b)
    per_person = a.groupby("customer").size()
    assert per_person.max() >= 20 and per_person.median() <= 5


def test_journalist_questions_are_cumulative_counts():
    customers = datasets.bank_customers(5000)
    answers = list(lesson.journalist_questions(customers))
    assert len(answers) == len(lesson.JOURNALIST_AGES)
    assert answers == sorted(answers) and answers[-1] == customers["overdraft"].sum()
