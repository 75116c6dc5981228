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
