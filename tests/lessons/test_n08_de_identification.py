"""Notebook 08's exercises accept right answers and refuse wrong ones; its scenario is built once."""

from __future__ import annotations

import numpy as np
import pytest

from leptonkit import datasets
from leptonkit.lessons import n08_de_identification as lesson

ANSWERS = {
    "08.1": lambda: ([1], [2, 5]),
    "08.2": lambda: ([4], [1, 5, 10]),
    "08.3": lambda: ([4], [3, 5]),
}


@pytest.mark.parametrize("exercise_id", sorted(ANSWERS))
def test_exercise(exercise_id, judge):
    judge(exercise_id, *ANSWERS[exercise_id]())


def test_hospital_release_drops_the_direct_identifiers_and_hands_out_copies():
    register, patients = lesson.hospital()
    assert register.equals(datasets.town_register())
    assert patients.equals(datasets.hospital_patients(register))
    again, released = lesson.hospital_release()
    assert again.equals(register)
    assert not set(lesson.DIRECT_IDENTIFIERS) & set(released.columns)
    assert {*lesson.QUASI_IDENTIFIERS, "diagnosis"} <= set(released.columns)
    assert len(released) == len(patients)
    patients.loc[:, "name"] = "changed"
    assert (lesson.hospital()[1]["name"] != "changed").all()


def test_the_explorer_names_a_bad_argument():
    tradeoff = {"k": np.array([1, 5]), "reidentification": np.array([0.9, 0.1]),
                "information_loss": np.array([0.0, 0.2]), "l_diversity": np.array([1, 2])}
    assert lesson.deidentification_explorer(tradeoff, k=4) is not None
    for k, error in ((None, TypeError), ("5", TypeError), (2.5, TypeError), (0, ValueError)):
        with pytest.raises(error, match="k must be"):                   # was: "unsupported operand"
            lesson.deidentification_explorer(tradeoff, k=k)
    with pytest.raises(TypeError, match="tradeoff must be"):
        lesson.deidentification_explorer([1, 2], k=5)
    with pytest.raises(ValueError, match="tradeoff lacks"):
        lesson.deidentification_explorer({"k": np.array([1])}, k=5)


def test_composition_attack_intersects_the_two_groups_of_each_shared_patient():
    import pandas as pd

    from leptonkit.lessons.n08_de_identification import composition_attack

    # release A groups patients {0,1,2} and {3,4,5}; release B (patients 1–5) groups {1,3} and {2,4,5}
    a = pd.DataFrame({"q": ["x", "x", "x", "y", "y", "y"], "s": ["flu", "HIV", "cold", "flu", "HIV", "HIV"]})
    b = pd.DataFrame({"q": ["u", "v", "u", "v", "v"], "s": ["HIV", "cold", "flu", "HIV", "HIV"]},
                     index=[1, 2, 3, 4, 5])
    out = composition_attack(a, b, quasi_identifiers=["q"], sensitive="s")
    assert list(out.index) == [1, 2, 3, 4, 5]
    assert list(out["in_a"]) == [3, 3, 2, 2, 2]
    assert list(out["in_b"]) == [2, 2, 2, 2, 2]
    # patient 1: {flu, HIV, cold} ∩ {HIV, flu} = 2; patient 2: {flu, HIV, cold} ∩ {cold, HIV} = 2;
    # patient 4: {flu, HIV} ∩ {cold, HIV} = {HIV}: pinned although each release alone gives two
    assert list(out["in_both"]) == [2, 2, 2, 1, 1]
