"""Lesson for notebooks/08_de_identification.ipynb: pseudonyms, linkage attacks, k-anonymity.

Here: the hospital's release and the town register, the checkers 08.1–08.3 and the k-anonymity explorer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from leptonkit import attacks, datasets, masking
from leptonkit._checks import check_int
from leptonkit.exercises import NotYet, exactly, exercise
from leptonkit.i18n import N_, _
from leptonkit.plots import GAUSSIAN_COLOUR, LAPLACE_COLOUR, finish
from leptonkit.widgets import Explorer, selection_slider

__all__ = ["DEIDENTIFICATION_KS", "DIRECT_IDENTIFIERS", "EXPLORERS", "QUASI_IDENTIFIERS",
           "composition_attack", "deidentification_explorer", "hospital", "hospital_release",
           "reidentification_tradeoff", "release_tradeoff"]

QUASI_IDENTIFIERS = ["postcode", "birth_date", "sex"]   # in both the release and the register
DIRECT_IDENTIFIERS = ["name", "phone"]                  # what the data team removes
DEIDENTIFICATION_KS = (1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50)


@functools.lru_cache(maxsize=1)
def _tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    register = datasets.town_register()
    return register, datasets.hospital_patients(register)


def hospital() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The town register (public) and St. Lumen's patients (private, names and phones included).

    Both synthetic and seeded; each call returns fresh copies, so changing them changes nothing else.
    """
    register, patients = _tables()
    return register.copy(), patients.copy()


def hospital_release() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The town register and the hospital's release: the patients without ``DIRECT_IDENTIFIERS``."""
    register, patients = hospital()
    return register, masking.suppress(patients, DIRECT_IDENTIFIERS)


def composition_attack(release_a: pd.DataFrame, release_b: pd.DataFrame, *, quasi_identifiers: list[str],
                       sensitive: str) -> pd.DataFrame:
    """Intersect two k-anonymous releases that share patients (Ganta, Kasiviswanathan & Smith, KDD 2008).

    An attacker who knows a patient's quasi-identifiers finds the patient's group in each
    release; the patient's sensitive value is among those both groups hold. Each release must
    keep its rows' original index (``masking.mondrian`` does), which here stands for the
    attacker's lookup of the group whose published ranges contain the patient. Returns, for
    every patient in both, the number of candidate values in release A, in B and in both.
    """
    def candidates(release: pd.DataFrame) -> pd.Series:
        groups = masking._groups(release, list(quasi_identifiers)).ngroup()
        values = release.groupby(groups.to_numpy())[sensitive].agg(lambda v: frozenset(v.dropna()))
        return pd.Series(values.loc[groups.to_numpy()].to_numpy(), index=release.index)

    a, b = candidates(release_a), candidates(release_b)
    common = a.index.intersection(b.index)
    return pd.DataFrame({"in_a": a[common].map(len), "in_b": b[common].map(len),
                         "in_both": [len(x & y) for x, y in zip(a[common], b[common], strict=True)]},
                        index=common)


@functools.lru_cache(maxsize=1)
def _tradeoff() -> dict[str, np.ndarray]:
    register, released = hospital_release()
    return attacks.reidentification_tradeoff(released, register, quasi_identifiers=QUASI_IDENTIFIERS,
                                             ks=DEIDENTIFICATION_KS, sensitive="diagnosis")


def release_tradeoff() -> dict[str, np.ndarray]:
    """The release's :func:`leptonkit.attacks.reidentification_tradeoff` at each k of ``DEIDENTIFICATION_KS``.

    Computed once (a few seconds), then copied on every call.
    """
    return {name: np.array(values, copy=True) for name, values in _tradeoff().items()}


# --- exercises -----------------------------------------------------------------------------


@exercise("08.1", hint=N_("masking.k_anonymity(released, ['postcode', 'birth_date', 'sex']) on the "
                          "table without names and phone numbers."))
def _k_of_the_raw_release(answer: Any) -> bool:
    released = hospital_release()[1]
    k = masking.k_anonymity(released, QUASI_IDENTIFIERS)
    return exactly(answer, k, _("{} is not the size of the smallest group."))


@exercise("08.2", hint=N_("Replace birth_date by masking.generalize(..., kind='date') and postcode by "
                          "masking.generalize(..., kind='postcode', width=3), then ask k_anonymity."))
def _k_after_generalising(answer: Any) -> bool:
    released = hospital_release()[1]
    coarse = released.assign(birth_date=masking.generalize(released["birth_date"], kind="date"),
                             postcode=masking.generalize(released["postcode"], kind="postcode", width=3))
    k = masking.k_anonymity(coarse, QUASI_IDENTIFIERS)
    return exactly(answer, k, _("{} is not the k of the generalised table."))


@exercise("08.3", hint=N_("For each k, run masking.mondrian then attacks.linkage_attack, and average "
                          "1 / candidates; find the smallest k under 5 %."))
def _smallest_k_under_five_percent(answer: Any) -> bool:
    register, released = hospital_release()

    def rate(k: int) -> float:
        anonymised = masking.mondrian(released, QUASI_IDENTIFIERS, k)[0]
        linked = attacks.linkage_attack(anonymised, register, quasi_identifiers=QUASI_IDENTIFIERS)
        return float((1 / linked["candidates"]).mean())

    k = int(answer)
    if rate(k) >= 0.05:
        raise NotYet(_("at k = {k} the chance to name a patient is {rate:.1%}, not under 5 %.").format(
            k=k, rate=rate(k)))
    if k > 1 and rate(k - 1) < 0.05:
        raise NotYet(_("k = {k} works, but a smaller k does too.").format(k=k))
    return True


# --- explorer: k-anonymity -----------------------------------------------------------------------


def reidentification_tradeoff(tradeoff: dict, *, k: int) -> go.Figure:
    """Re-identification risk and information loss against Mondrian's k, the chosen k marked.

    ``tradeoff`` is ``attacks.reidentification_tradeoff(...)``.
    """
    ks = tradeoff["k"]
    i = int(np.argmin(np.abs(ks - k)))
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=ks, y=tradeoff["reidentification"], name=_("chance to name a patient"),
                             mode="lines+markers", line={"color": GAUSSIAN_COLOUR, "width": 2.5}))
    fig.add_trace(go.Scatter(x=ks, y=tradeoff["information_loss"], name=_("information lost (NCP)"),
                             mode="lines+markers", line={"color": LAPLACE_COLOUR, "width": 2.5}))
    chosen = [tradeoff["reidentification"][i], tradeoff["information_loss"][i]]
    fig.add_trace(go.Scatter(x=[ks[i], ks[i]], y=chosen,
                             mode="markers", marker={"size": 13, "color": [GAUSSIAN_COLOUR, LAPLACE_COLOUR]},
                             showlegend=False))
    fig.update_layout(title=_("k = {k}: {risk:.1%} chance to name a patient, {loss:.1%} information lost, "
                              "l = {l:g}").format(k=ks[i], risk=tradeoff["reidentification"][i],
                                                  loss=tradeoff["information_loss"][i],
                                                  l=tradeoff["l_diversity"][i]),
                      xaxis={"type": "log", "title": _("k (every record looks like at least k − 1 others)"),
                             "tickvals": list(ks)},
                      yaxis={"tickformat": ".0%", "rangemode": "tozero"})
    return finish(fig, height=400, legend=True, margin={"t": 50})


def deidentification_explorer(tradeoff: Mapping[str, np.ndarray] | None = None, *, k: int = 5) -> Explorer:
    """Mondrian's k against the linkage attack's success and the information lost.

    ``tradeoff`` is :func:`leptonkit.attacks.reidentification_tradeoff`; when not given it is
    :func:`release_tradeoff` (the hospital's release against the town register). The slider
    only looks it up.
    """
    k = check_int(k, "k", low=1)
    if tradeoff is None:
        tradeoff = release_tradeoff()
    if not isinstance(tradeoff, Mapping):
        raise TypeError(f"tradeoff must be the mapping attacks.reidentification_tradeoff returns, "
                        f"got {type(tradeoff).__name__}")
    missing = {"k", "reidentification", "information_loss", "l_diversity"} - set(tradeoff)
    if missing:
        raise ValueError(f"tradeoff lacks {sorted(missing)}: pass what attacks.reidentification_tradeoff "
                         f"returns")
    controls = {"k": selection_slider("k", [int(x) for x in tradeoff["k"]], near=k)}

    def compute(k: int) -> Mapping[str, np.ndarray]:
        return tradeoff

    return Explorer(controls, compute, reidentification_tradeoff)


EXPLORERS: dict[str, Callable[..., Explorer]] = {"deidentification": deidentification_explorer}
