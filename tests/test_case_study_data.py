"""The case studies' data: reproducible, shaped as documented, and with the shifts the lessons rely on."""

from __future__ import annotations

import pandas as pd
import pytest

from leptonkit import datasets


def test_load_credit_is_reproducible_and_shaped_as_documented():
    frame = datasets.load_credit(rng=0)
    pd.testing.assert_frame_equal(frame, datasets.load_credit(rng=0))
    assert not frame.equals(datasets.load_credit(rng=1))
    assert len(frame) >= 20_000 and set(frame["bank"]) == set(datasets.BANKS)
    shared = frame["customer"].duplicated().sum() / frame["customer"].nunique()
    assert 0.08 < shared < 0.12  # about 10 % of customers bank twice
    assert frame.groupby("customer")["bank"].nunique().max() == 2
    assert 0.01 < frame["income"].isna().mean() < 0.05
    assert set(frame["default"]) == {0, 1}


def test_the_banks_differ_by_label_and_covariate_shift():
    frame = datasets.load_credit(rng=0)
    rates = frame.groupby("bank")["default"].mean()
    incomes = frame.groupby("bank")["income"].median()
    # 2 000+ customers a bank: a binomial rate has a standard error below 0.01, so gaps of 0.05 are real
    assert rates["Hills Savings"] - rates["Northbank"] > 0.05
    assert incomes["Northbank"] > 1.3 * incomes["Hills Savings"]


def test_load_diagnosis_wisconsin_is_the_real_data_with_a_documented_assignment():
    frame = datasets.load_diagnosis("wisconsin", rng=0)
    assert len(frame) == 569 and frame["malignant"].sum() == 212  # the UCI data: 212 malignant
    pd.testing.assert_series_equal(frame["hospital"], datasets.load_diagnosis("wisconsin", rng=0)["hospital"])
    share = frame.groupby("hospital")["malignant"].mean()
    assert share["St Mary"] > share["Harbour Clinic"] + 0.2  # the referral centre sees more cancers


def test_load_diagnosis_cohort_has_visits_identifiers_and_a_rare_condition():
    frame = datasets.load_diagnosis("cohort", n=5000, rng=0)
    pd.testing.assert_frame_equal(frame, datasets.load_diagnosis("cohort", n=5000, rng=0))
    assert frame["patient"].nunique() == 5000
    assert frame.groupby("patient").size().between(1, 4).all() and len(frame) > 5000
    assert {"name", "phone", "postcode", "birth_date", "sex", "site", "diabetes"} <= set(frame.columns)
    rare = frame.drop_duplicates("patient")["condition"].eq("sarcoidosis").mean()
    assert 0 < rare < 0.01
    prevalence = frame.drop_duplicates("patient").groupby("site")["diabetes"].mean()
    assert prevalence.max() - prevalence.min() > 0.05


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: datasets.load_credit(10), "n must be"),
        (lambda: datasets.load_credit(shared=2.0), "shared"),
        (lambda: datasets.load_diagnosis("mnist"), "source"),
    ],
)
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
