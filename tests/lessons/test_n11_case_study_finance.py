"""Notebook 11's exercises accept right answers and refuse wrong ones; the regional release is parallel."""

from __future__ import annotations

import pytest

from leptonkit import accounting, datasets, psi
from leptonkit.lessons import n11_case_study_finance as lesson


@pytest.fixture(scope="module")
def frame():
    return datasets.load_credit(rng=0)


def _pilot_count(frame):
    riverside, hills = (psi.PSIParty(ids) for ids in lesson.pilot_sets(frame))
    double, own = hills.respond(riverside.blind())
    return riverside.count(double, own)


def _release(frame, *, budget, parallel=True):
    accountant = accounting.PrivacyAccountant(budget, 0.0)
    if parallel:
        lesson.regional_default_rates(frame, epsilon=lesson.RELEASE_EPSILON, accountant=accountant)
    else:   # the same releases booked one by one: sequential composition, 8 × 0.5
        for region in datasets.REGIONS[:2]:
            lesson.dp.dp_mean([0.0, 1.0], lower=0.0, upper=1.0, epsilon=lesson.RELEASE_EPSILON, rng=0,
                              accountant=accountant, label=f"default rate, {region}")
    return accountant


def test_the_regional_release_costs_epsilon_once(frame):
    accountant = _release(frame, budget=0.5)
    assert accountant.spent[0] == pytest.approx(lesson.RELEASE_EPSILON)
    assert len(accountant.history) == len(datasets.REGIONS)


def _psi_answers():
    frame = datasets.load_credit(rng=0)
    right = _pilot_count(frame)
    a, b = lesson.pilot_sets(frame)
    assert right == len(set(a) & set(b))
    return [right], [right + 1, len(a), None]


def _release_answers():
    frame = datasets.load_credit(rng=0)
    wrong = [_release(frame, budget=5.0), _release(frame, budget=1.0, parallel=False), 0.5]
    return [_release(frame, budget=0.5)], wrong


ANSWERS = {
    "11.1": _psi_answers,
    "11.2": _release_answers,
    # 0.3 per run over 20 rounds composes to about 0.94 < 1 over twelve runs and reaches AUC ≈ 0.79;
    # 0.4 per run composes to about 1.23, over the yearly budget; 2 rounds do not train the model.
    "11.3": lambda: ([{"epsilon_per_run": 0.3, "rounds": 20}],
                     [{"epsilon_per_run": 0.4, "rounds": 20}, {"epsilon_per_run": 0.3, "rounds": 2},
                      {"rounds": 20}]),
}


@pytest.mark.parametrize("exercise_id", sorted(ANSWERS))
def test_exercise(exercise_id, judge):
    judge(exercise_id, *ANSWERS[exercise_id]())


def test_the_federation_explorer_trains_each_setting_once(frame):
    explorer = lesson.federation_explorer(frame.drop(columns="customer"), banks=3, epsilon=4.0)
    auc, budget = explorer.figure.data
    assert 0.6 < auc.y[0] <= 1 and 0 < budget.y[0] <= 1          # ε spent never above the target
    assert "3 banks" in explorer.figure.layout.title.text
