"""leptonkit.masking on hand-computed tables, and the linkage attack it is measured against."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from leptonkit import attacks, datasets, masking

KEY_A, KEY_B = b"a" * 32, b"b" * 32


@pytest.fixture
def table() -> pd.DataFrame:
    # Groups on (zip, age): (1,30)x3 {flu, flu, flu}; (1,40)x2 {flu, hiv}; (2,30)x1 {cold}
    return pd.DataFrame({"zip": [1, 1, 1, 1, 1, 2], "age": [30, 30, 30, 40, 40, 30],
                         "disease": ["flu", "flu", "flu", "flu", "hiv", "cold"]})


def test_k_anonymity_and_violations_by_hand(table):
    assert masking.k_anonymity(table, ["zip", "age"]) == 1
    assert masking.k_anonymity(table, ["zip"]) == 1
    assert masking.k_anonymity(table.iloc[:5], ["zip", "age"]) == 2
    bad = masking.k_anonymity_violations(table, ["zip", "age"], k=3)
    assert sorted(map(tuple, bad[["zip", "age", "records"]].to_numpy())) == [(1, 40, 2), (2, 30, 1)]


def test_l_diversity_by_hand(table):
    assert masking.l_diversity(table, ["zip", "age"], "disease") == 1   # (1,30) is all flu
    assert masking.l_diversity(table.iloc[3:5], ["zip"], "disease") == 2


def test_pseudonyms_are_stable_per_key_and_differ_across_keys():
    values = ["+44 7700 000001", "+44 7700 000002", "+44 7700 000001"]
    a, b = masking.pseudonymize(values, key=KEY_A), masking.pseudonymize(values, key=KEY_B)
    assert a[0] == a[2] != a[1] and len(a[0]) == 16
    assert masking.pseudonymize(values, key=KEY_A) == a
    assert not set(a) & set(b)
    with pytest.raises(TypeError, match="key must be bytes-like"):
        masking.pseudonymize(values, key="secret")
    with pytest.raises(ValueError, match="key must be at least 16 bytes"):
        masking.pseudonymize(values, key=b"short")


def test_generalize_and_suppress():
    assert list(masking.generalize(pd.Series([34, 40, 49]), kind="age")) == ["30-39", "40-49", "40-49"]
    assert list(masking.generalize(pd.Series(["47123"]), kind="postcode", width=3)) == ["471**"]
    assert list(masking.generalize(pd.Series(["1970-05-01"]), kind="date")) == [1970]
    with pytest.raises(ValueError, match="kind must be"):
        masking.generalize(pd.Series([1]), kind="zip")
    df = pd.DataFrame({"name": ["x"], "zip": [1]})
    assert list(masking.suppress(df, ["name"]).columns) == ["zip"]


def test_bad_frames_and_columns_are_named():
    df = pd.DataFrame({"zip": [1, 2]})
    with pytest.raises(ValueError, match=r"unknown columns \['age'\]"):
        masking.k_anonymity(df, ["age"])
    with pytest.raises(ValueError, match="df must not be empty"):
        masking.k_anonymity(df.iloc[:0], ["zip"])
    with pytest.raises(TypeError, match="df must be a pandas DataFrame"):
        masking.k_anonymity([1, 2], ["zip"])
    with pytest.raises(ValueError, match=r"k must be in \[1, inf\)"):
        masking.k_anonymity_violations(df, ["zip"], k=0)
    with pytest.raises(ValueError, match=r"k must be in \[1, 2\]"):
        masking.mondrian(df, ["zip"], k=3)
    with pytest.raises(TypeError, match="a list of column names"):
        masking.k_anonymity(df, "zip")


@pytest.mark.parametrize("k", [1, 2, 5, 20])
def test_mondrian_output_is_k_anonymous_and_covers_the_truth(k):
    register = datasets.town_register(3000)
    patients = datasets.hospital_patients(register, 400)
    qi = ["postcode", "birth_date", "sex"]
    released, loss = masking.mondrian(patients, qi, k)
    assert masking.k_anonymity(released, qi) >= k
    assert 0.0 <= loss <= 1.0 and (loss == 0.0) == (k == 1)
    for original, general in zip(patients[qi].itertuples(index=False), released[qi].itertuples(index=False),
                                 strict=True):
        for value, cover in zip(original, general, strict=True):
            assert value in cover if isinstance(cover, pd.Interval) else str(value) in str(cover).split("|")


def test_mondrian_information_loss_grows_with_k():
    register = datasets.town_register(3000)
    patients = datasets.hospital_patients(register, 400)
    losses = [masking.mondrian(patients, ["postcode", "birth_date", "sex"], k)[1] for k in (1, 5, 25, 100)]
    assert losses == sorted(losses) and losses[0] == 0


def test_linkage_attack_names_most_exact_records_and_at_most_one_in_k_after_mondrian():
    register = datasets.town_register(5000)
    patients = datasets.hospital_patients(register, 500)
    qi = ["postcode", "birth_date", "sex"]
    linked = attacks.linkage_attack(masking.suppress(patients, ["name", "phone"]), register,
                                    quasi_identifiers=qi)
    assert (linked["candidates"] >= 1).all()   # every patient is in the register
    named = linked["candidates"] == 1
    assert named.mean() > 0.95
    assert (linked.loc[named, "guess"] == patients.loc[named, "name"]).all()
    for k in (2, 10):
        released, _ = masking.mondrian(masking.suppress(patients, ["name", "phone"]), qi, k)
        linked = attacks.linkage_attack(released, register, quasi_identifiers=qi)
        assert (linked["candidates"] >= k).all() and (1 / linked["candidates"]).mean() <= 1 / k


def test_reidentification_tradeoff_is_monotone():
    register = datasets.town_register(3000)
    patients = masking.suppress(datasets.hospital_patients(register, 300), ["name", "phone"])
    qi = ["postcode", "birth_date", "sex"]
    t = attacks.reidentification_tradeoff(patients, register, quasi_identifiers=qi, ks=[1, 3, 10],
                                          sensitive="diagnosis")
    assert np.all(np.diff(t["reidentification"]) < 0) and np.all(np.diff(t["information_loss"]) > 0)
    assert t["reidentification"][0] > 0.9 and t["l_diversity"][0] == 1


# --- categorical quasi-identifiers, missing values, and refusals that never quote the data ------
# Checked on pandas 2.1.4, 2.2.3, 2.3.3 and 3.1: on 2.x groupby counts every combination of
# categories as a group (observed=False) unless told otherwise.


@pytest.fixture
def categorical() -> pd.DataFrame:
    # groups on (zip, sex): (A, f)x2 {flu, hiv}; (B, m)x2 {flu, cold}; unused category "C" and the
    # unused combinations (A, m), (B, f) must not count as empty groups
    return pd.DataFrame({"zip": pd.Categorical(["A", "A", "B", "B"], categories=["A", "B", "C"]),
                         "sex": pd.Categorical(["f", "f", "m", "m"]),
                         "disease": pd.Categorical(["flu", "hiv", "flu", "cold"])})


def test_categorical_quasi_identifiers_count_only_the_groups_that_occur(categorical):
    assert masking.k_anonymity(categorical, ["zip", "sex"]) == 2          # was 0 on pandas 2.x
    assert masking.k_anonymity(categorical, ["zip"]) == 2
    assert masking.l_diversity(categorical, ["zip", "sex"], "disease") == 2  # was 0 on pandas 2.x
    assert masking.k_anonymity_violations(categorical, ["zip", "sex"], k=3)["records"].tolist() == [2, 2]
    assert masking.k_anonymity_violations(categorical, ["zip", "sex"], k=2).empty
    with_missing = categorical.assign(zip=pd.Categorical(["A", None, "B", None], categories=["A", "B", "C"]))
    assert masking.k_anonymity(with_missing, ["zip"]) == 1                 # a missing value is a group
    assert masking.k_anonymity(with_missing, ["zip", "sex"]) == 1


def test_a_group_whose_sensitive_values_are_all_missing_has_l_of_one():
    df = pd.DataFrame({"zip": [1, 1, 2, 2], "disease": ["flu", "hiv", np.nan, None]})
    assert masking.l_diversity(df, ["zip"], "disease") == 1                # was 0
    df["disease"] = pd.Categorical(df["disease"])
    assert masking.l_diversity(df, ["zip"], "disease") == 1
    mixed = pd.DataFrame({"zip": [1, 1, 2, 2], "disease": ["flu", "hiv", "flu", np.nan]})
    assert masking.l_diversity(mixed, ["zip"], "disease") == 1             # a missing value adds nothing


def test_generalize_refuses_ages_beyond_exact_integers_and_keeps_missing_ages_missing():
    with pytest.raises(ValueError, match="at most 2\\^53"):                 # was "-9223372036854775808-..."
        masking.generalize(pd.Series([34, 1e300]), kind="age")
    with pytest.raises(ValueError, match="finite ages"):
        masking.generalize(pd.Series([34, np.inf]), kind="age")
    assert masking.generalize(pd.Series([34.5, np.nan, -3]), kind="age").tolist() == ["30-39", None, "-10--1"]
    assert list(masking.generalize(pd.Series([2**53 - 1]), kind="age", width=2)) == [
        f"{2**53 - 2}-{2**53 - 1}"]
    with pytest.raises(ValueError, match="width"):
        masking.generalize(pd.Series([1]), kind="age", width=2**60)


def test_generalize_never_quotes_the_data_it_refuses():
    with pytest.raises(TypeError, match="values must be numbers") as error:
        masking.generalize(pd.Series(["41", "Jane Doe 1962-04-01"]), kind="age")
    assert "Jane" not in str(error.value)
    with pytest.raises(ValueError, match="values must be dates") as error:
        masking.generalize(pd.Series(["1970-05-01", "patient 4711"]), kind="date")
    assert "4711" not in str(error.value)
    with pytest.raises(TypeError, match="values must be dates"):
        masking.generalize(pd.Series([1970, 1980]), kind="date")           # not nanoseconds since 1970
    assert masking.generalize(pd.Series(["47123", None]), kind="postcode", width=3).tolist()[0] == "471**"
    assert pd.isna(masking.generalize(pd.Series(["47123", None]), kind="postcode", width=3).tolist()[1])


@pytest.mark.parametrize("call, error, name", [
    (lambda df: masking.k_anonymity(df, None), TypeError, "quasi_identifiers"),
    (lambda df: masking.k_anonymity(df, 5), TypeError, "quasi_identifiers"),
    (lambda df: masking.k_anonymity(df, [["zip"]]), TypeError, "quasi_identifiers"),
    (lambda df: masking.k_anonymity(df, []), ValueError, "quasi_identifiers"),
    (lambda df: masking.l_diversity(df, ["zip"], ["disease"]), TypeError, "sensitive"),
    (lambda df: masking.l_diversity(df, ["zip"], None), TypeError, "sensitive"),
    (lambda df: masking.l_diversity(df, ["zip"], "nope"), ValueError, "sensitive"),
    (lambda df: masking.suppress(df, None), TypeError, "columns"),
    (lambda df: masking.mondrian(df, ["zip"], 2.0), TypeError, "k"),
    (lambda df: masking.mondrian(df.assign(age=[30.0, np.nan, 30, 40, 40, 30]), ["age"], 2), ValueError,
     "quasi_identifiers"),
    (lambda df: masking.generalize(None, kind="age"), TypeError, "values"),
    (lambda df: masking.generalize(5, kind="age"), TypeError, "values"),
    (lambda df: masking.generalize(df["age"], kind=None), TypeError, "kind"),
    (lambda df: masking.generalize(df["age"], kind="age", width=2.5), TypeError, "width"),
    (lambda df: masking.pseudonymize(None, key=KEY_A), TypeError, "values"),
    (lambda df: masking.pseudonymize("+44 7700 000001", key=KEY_A), TypeError, "values"),
    (lambda df: masking.pseudonymize(["a"], key=KEY_A, length=16.0), TypeError, "length"),
])
def test_wrong_types_and_shapes_name_the_parameter(table, call, error, name):
    with pytest.raises(error, match=name):
        call(table)


# --- entropy l-diversity and t-closeness ---------------------------------------------------------


def _skewed_groups():
    # group a: nine flu, one HIV; group b: five flu, five cold
    return pd.DataFrame({"g": ["a"] * 10 + ["b"] * 10,
                         "s": ["flu"] * 9 + ["HIV"] + ["flu"] * 5 + ["cold"] * 5})


def test_entropy_l_diversity_is_exp_of_the_smallest_group_entropy():
    df = _skewed_groups()
    assert masking.l_diversity(df, ["g"], "s") == 2              # distinct: two values in each group
    expected = math.exp(-(0.9 * math.log(0.9) + 0.1 * math.log(0.1)))
    assert math.isclose(masking.entropy_l_diversity(df, ["g"], "s"), expected)   # ≈ 1.38: far from 2
    even = pd.DataFrame({"g": ["a"] * 4, "s": ["w", "x", "y", "z"]})
    assert math.isclose(masking.entropy_l_diversity(even, ["g"], "s"), 4.0)       # uniform: l = count
    one = pd.DataFrame({"g": ["a", "a", "b"], "s": ["x", "x", None]})
    assert masking.entropy_l_diversity(one, ["g"], "s") == 1.0                    # all missing: l = 1


def test_t_closeness_is_the_largest_total_variation_distance_to_the_table():
    df = _skewed_groups()
    # table: flu 0.7, HIV 0.05, cold 0.25; a: (0.9, 0.1, 0) → ½(0.2 + 0.05 + 0.25); b likewise 0.25
    assert math.isclose(masking.t_closeness(df, ["g"], "s"), 0.25)
    same = pd.DataFrame({"g": ["a", "a", "b", "b"], "s": ["x", "y", "x", "y"]})
    assert masking.t_closeness(same, ["g"], "s") == 0.0
    apart = pd.DataFrame({"g": ["a", "b"], "s": ["x", "y"]})
    assert math.isclose(masking.t_closeness(apart, ["g"], "s"), 0.5)


def test_diversity_measures_check_their_arguments():
    df = _skewed_groups()
    for function in (masking.entropy_l_diversity, masking.t_closeness):
        with pytest.raises(TypeError, match="df"):
            function("table", ["g"], "s")
        with pytest.raises(ValueError, match="quasi_identifiers"):
            function(df, ["nope"], "s")
        with pytest.raises(TypeError, match="sensitive"):
            function(df, ["g"], ["s"])
        with pytest.raises(ValueError, match="sensitive"):
            function(df, ["g"], "nope")
