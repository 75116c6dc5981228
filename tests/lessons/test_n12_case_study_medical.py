"""Notebook 12's exercises accept right answers and refuse wrong ones; de-identification stops the linkage."""

from __future__ import annotations

import math

import pytest

from leptonkit.lessons import n12_case_study_medical as lesson


def test_the_full_quasi_identifiers_name_almost_everyone_and_the_scheme_stops_it():
    visits = lesson.cohort()
    people = lesson.register(visits)
    raw = dict(postcode_digits=5, birth="date")
    rate, k = lesson.linkage_rate(lesson.deidentify(visits, key=b"k" * 16, **raw), people, **raw)
    assert rate > 0.9 and k == 1
    release = lesson.deidentify(visits, key=b"k" * 16)
    assert not {"name", "phone"} & set(release.columns)
    assert not set(release["patient"]) & set(visits["patient"])     # pseudonyms, not ids


def test_condition_counts_are_per_patient_and_cost_epsilon_once():
    from leptonkit import accounting

    visits = lesson.cohort()
    accountant = accounting.PrivacyAccountant(lesson.COUNT_EPSILON, 0.0)
    table = lesson.condition_counts(visits, epsilon=lesson.COUNT_EPSILON, accountant=accountant)
    assert table["true"].sum() == visits["patient"].nunique()
    assert accountant.spent[0] == pytest.approx(lesson.COUNT_EPSILON)


def test_the_feasibility_threshold_has_its_defining_property():
    n = lesson.feasible_count(lesson.COUNT_EPSILON)
    # at n the Laplace tail e^(−ε·0.1n) is at most 5 %, at n − 1 above
    assert math.exp(-lesson.COUNT_EPSILON * 0.1 * n) <= 0.05 < math.exp(-lesson.COUNT_EPSILON * 0.1 * (n - 1))


ANSWERS = {
    "12.1": lambda: ([dict(postcode_digits=3, birth="year")],
                     [dict(postcode_digits=5, birth="date"), dict(postcode_digits=4, birth="year"),
                      dict(postcode_digits=2, birth="decade"), "k=5"]),
    "12.2": lambda: ([lesson.feasible_count(lesson.COUNT_EPSILON)],
                     [lesson.feasible_count(lesson.COUNT_EPSILON) + d for d in (-1, 1, -54)]),
    "12.3": lambda: ([{"epsilon": 1.0, "rounds": 20}],
                     [{"epsilon": 2.0, "rounds": 20}, {"epsilon": 1.0, "rounds": 1}, {"epsilon": 1.0}]),
}


@pytest.mark.parametrize("exercise_id", sorted(ANSWERS))
def test_exercise(exercise_id, judge):
    judge(exercise_id, *ANSWERS[exercise_id]())
