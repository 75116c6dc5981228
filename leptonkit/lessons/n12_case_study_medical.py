"""Lesson for notebooks/12_case_study_medical.ipynb: hospitals train a diagnosis model across sites.

Here: the cohort and its de-identification (with the linkage attack run against it), the DP
feasibility table of per-site condition counts, FedAvg against FedProx reported by the worst
site, patient-level DP with bounded visits, membership inference on the small real data with and
without DP, the exercise checkers 12.1–12.3 and the explorer (hospitals, α and ε → accuracy and
attack success). The training flow is :mod:`leptonkit.pipeline`'s.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import ipywidgets as w
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from leptonkit import accounting, attacks, datasets, dp, fl, masking, models, pipeline
from leptonkit.exercises import NotYet, exactly, exercise
from leptonkit.i18n import N_, _
from leptonkit.plots import GAUSSIAN_COLOUR, LAPLACE_COLOUR, finish, number, reference_line
from leptonkit.widgets import Explorer, selection_slider, slider

__all__ = ["COUNT_EPSILON", "EXPLORERS", "FEATURES", "QUASI_IDENTIFIERS", "condition_counts", "deidentify",
           "feasible_count", "generalise", "hospital_explorer", "linkage_rate", "membership_attack",
           "per_site_auc",
           "register", "small_data_runs"]

QUASI_IDENTIFIERS = ["postcode", "birth_date", "sex"]
DIRECT_IDENTIFIERS = ["name", "phone"]
FEATURES = ["sex", "bmi", "systolic_bp", "glucose", "hba1c", "visit"]
COUNT_EPSILON = 0.5          # each site's condition counts, per patient
RELATIVE_ERROR, CONFIDENCE = 0.10, 0.95   # exercise 12.2's feasibility target
DELTA = 1e-5
WORST_SITE_AUC, DESIGN_EPSILON = 0.87, 1.0   # exercise 12.3


@functools.cache
def _cohort() -> pd.DataFrame:
    return datasets.load_diagnosis("cohort", rng=0)


def cohort() -> pd.DataFrame:
    """The synthetic multi-site cohort (a copy): one row per visit, identifiers included."""
    return _cohort().copy()


def register(frame: pd.DataFrame) -> pd.DataFrame:
    """The attacker's public register: name and the quasi-identifiers of every patient (the worst
    case for the hospitals: everyone in the release is in the register, as in notebook 08)."""
    return frame.drop_duplicates("patient")[["name", *QUASI_IDENTIFIERS]].reset_index(drop=True)


def deidentify(frame: pd.DataFrame, *, key: bytes, postcode_digits: int = 3, birth: str = "year",
               keep_sex: bool = True) -> pd.DataFrame:
    """What a hospital releases: direct identifiers removed, the patient id pseudonymised with a keyed
    HMAC (only the hospital can link visits back), quasi-identifiers generalised.

    ``postcode_digits`` keeps that many leading characters (0–5); ``birth`` is ``"date"``, ``"year"``
    or ``"decade"``; ``keep_sex=False`` suppresses sex.
    """
    out = masking.suppress(frame, [c for c in DIRECT_IDENTIFIERS if c in frame.columns])
    if "patient" in out.columns:
        out["patient"] = masking.pseudonymize(out["patient"], key=key)
    return generalise(out, postcode_digits=postcode_digits, birth=birth, keep_sex=keep_sex)


def generalise(frame: pd.DataFrame, *, postcode_digits: int = 3, birth: str = "year",
               keep_sex: bool = True) -> pd.DataFrame:
    """The quasi-identifiers coarsened as :func:`deidentify` does (a copy; other columns untouched)."""
    if birth not in ("date", "year", "decade"):
        raise ValueError(f"birth must be 'date', 'year' or 'decade', got {birth!r}")
    out = frame.copy()
    out["postcode"] = masking.generalize(out["postcode"], kind="postcode", width=int(postcode_digits))
    if birth == "date":
        out["birth_date"] = out["birth_date"].astype(str)
    else:
        years = masking.generalize(out["birth_date"], kind="date")
        out["birth_date"] = years.astype(str) if birth == "year" else (years // 10 * 10).astype(str) + "s"
    out["sex"] = out["sex"] if keep_sex else "*"
    return out


def linkage_rate(release: pd.DataFrame, people: pd.DataFrame, **scheme: Any) -> tuple[float, int]:
    """The expected share of released patients the linkage attack names, and the release's k.

    The attacker knows the generalisation ``scheme`` (Kerckhoffs: the method is public) and applies it
    to the register, then links on the quasi-identifiers; a record with c candidates is named with
    probability 1/c.
    """
    released = release.drop_duplicates("patient")[QUASI_IDENTIFIERS]
    coarse_register = generalise(people, **scheme)
    result = attacks.linkage_attack(released, coarse_register, quasi_identifiers=QUASI_IDENTIFIERS)
    return float((1.0 / result["candidates"]).mean()), masking.k_anonymity(released, QUASI_IDENTIFIERS)


def condition_counts(frame: pd.DataFrame, *, epsilon: float, rng: Any = 0,
                     accountant: accounting.PrivacyAccountant | None = None) -> pd.DataFrame:
    """Patients per (site, condition), true and ε-DP (a geometric count per cell).

    One row per patient first (contribution bounding: a patient with four visits counts once), so
    every patient is in exactly one cell: the cells are disjoint, the table is a histogram with
    Δ₁ = 1, and the whole table costs ε by parallel composition.
    """
    people = frame.drop_duplicates("patient")
    table = people.groupby(["site", "condition"]).size().unstack(fill_value=0)
    generator = np.random.default_rng(rng)
    noisy = dp.geometric_mechanism(table.to_numpy(), epsilon=epsilon, rng=generator, accountant=accountant,
                                   label="condition counts by site")
    long = table.stack().rename("true").to_frame()
    long["DP"] = noisy.reshape(-1)
    long["relative error"] = (long["DP"] - long["true"]).abs() / long["true"].clip(lower=1)
    return long.reset_index()


def feasible_count(epsilon: float, *, relative_error: float = RELATIVE_ERROR,
                   confidence: float = CONFIDENCE) -> int:
    """The smallest true count whose Laplace(1/ε) noise stays within ``relative_error`` of it with
    probability ``confidence``: P(|noise| > t) = e^(−εt) (Dwork & Roth, Fact 3.7), so
    n ≥ ln(1/(1 − confidence)) / (ε · relative_error)."""
    return math.ceil(math.log(1 / (1 - confidence)) / (epsilon * relative_error))


def training_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns the diagnosis model uses, with the site and the (pseudonymised) patient."""
    return frame[["patient", "site", *FEATURES, "diabetes"]]


def per_site_auc(model: Any, prepared: pipeline.Prepared) -> pd.DataFrame:
    """AUC per site on the held-out patients, the worst site first."""
    table = pipeline.PrivateTrainingPipeline.evaluate(model, prepared)[1]
    return table[["party", "rows", "auc"]].rename(columns={"party": "site"}).sort_values("auc")


def fedavg_vs_fedprox(prepared: pipeline.Prepared, parties: list, *, mu: float, rounds: int = 10) -> Any:
    """FedAvg (μ = 0) or FedProx (μ > 0) without DP: 5 local epochs, so the sites' models drift apart."""
    model = models.mlp(parties[0][0].shape[1], 2, hidden=16)
    return fl.fedavg(model, parties, rounds=rounds, local_epochs=5, batch_size=256, lr=0.2, mu=mu,
                     rng=0).model


# --- the small real data: where DP is not yet useful ---------------------------------------------


@functools.cache
def small_data_runs(epsilon: float | None, *, hospitals: int = 4, alpha: float | None = None,
                    rounds: int = 30) -> dict[str, float]:
    """The Wisconsin data (569 patients) across ``hospitals``: test accuracy of a model trained with
    DP at ``epsilon`` (None: without DP, trained long enough to overfit), and the loss-threshold
    membership-inference AUC against it (members: training patients; non-members: held-out)."""
    frame = datasets.load_diagnosis("wisconsin", rng=0).drop(columns="hospital")
    settings = {"rounds": rounds, "batch_size": 64, "lr": 1.0, "rng": 0, "non_iid_alpha": alpha}
    pipe = pipeline.PrivateTrainingPipeline(hospitals, target_epsilon=epsilon or 1.0, **settings)
    prepared = pipe.preprocess(frame, target="malignant")
    parties = pipe.partition(prepared)
    if epsilon is None:
        model = fl.fedavg(models.mlp(prepared.X_train.shape[1], 2, hidden=16), parties, rounds=rounds,
                          local_epochs=20, batch_size=16, lr=0.1, rng=0).model
    else:
        model = pipe.train(parties, accounting.PrivacyAccountant(epsilon, DELTA)).model
    overall = pipe.evaluate(model, prepared)[0]
    return {"accuracy": overall["accuracy"], "auc": overall["auc"],
            "attack_auc": membership_attack(model, prepared)}


def membership_attack(model: Any, prepared: pipeline.Prepared) -> float:
    """The loss-threshold attack's AUC (Yeom et al. 2018) on as many members as non-members."""
    n = min(len(prepared.y_train), len(prepared.y_test))
    return attacks.membership_inference_auc(model, prepared.X_train[:n], prepared.y_train[:n],
                                            prepared.X_test[:n], prepared.y_test[:n])


# --- exercises -----------------------------------------------------------------------------------


@exercise("12.1", hint=N_("Start from lesson.linkage_rate(lesson.deidentify(visits, key=key, **scheme), "
                          "people, **scheme) for scheme = dict(postcode_digits=3, birth='year'); coarsen one "
                          "quasi-identifier at a time until k ≥ 5 and the rate is below 1 %."))
def _release_scheme(answer: Any) -> bool:
    if not isinstance(answer, dict) or not set(answer) <= {"postcode_digits", "birth", "keep_sex"}:
        raise NotYet(_("answer a dict with some of postcode_digits, birth and keep_sex."))
    people = register(_cohort())
    release = deidentify(_cohort(), key=b"hospital key for the check", **answer)
    rate, k = linkage_rate(release, people, **answer)
    if k < 5:
        raise NotYet(_("the release is only {k}-anonymous; the network's rule is k ≥ 5.").format(k=k))
    if rate >= 0.01:
        raise NotYet(_("the linkage attack still names {rate:.1%} of the patients; the target is below "
                       "1 %.").format(rate=rate))
    if answer.get("postcode_digits", 3) < 3 and answer.get("birth", "year") == "decade":
        raise NotYet(_("that works, but coarsens more than needed: keep at least three postcode digits or "
                       "the birth year — the epidemiologists need one of them."))
    return True


@exercise("12.2", hint=N_("The Laplace tail is P(|noise| > t) = exp(−εt). Set it to 1 − 0.95 and solve for "
                          "t, then ask for t ≤ 0.10 · n."))
def _feasible_count(answer: Any) -> bool:
    return exactly(answer, feasible_count(COUNT_EPSILON), _("{} is not the smallest count that meets it."))


@exercise("12.3", hint=N_("lesson.design_run(epsilon, rounds) trains the patient-level pipeline and returns "
                          "the worst site's AUC; with ε ≤ 1 fixed, more rounds mean more noise per step."))
def _design(answer: Any) -> bool:
    if not isinstance(answer, dict) or not {"epsilon", "rounds"} <= set(answer):
        raise NotYet(_("answer a dict {'epsilon': ..., 'rounds': ...}."))
    eps, rounds = float(answer["epsilon"]), int(answer["rounds"])
    if eps > DESIGN_EPSILON:
        raise NotYet(_("ε = {eps:g} is over the network's budget of {budget:g} per patient.").format(
            eps=eps, budget=DESIGN_EPSILON))
    worst = design_run(eps, rounds)["worst_site_auc"]
    if worst < WORST_SITE_AUC:
        raise NotYet(_("the worst site reaches AUC {worst:.3f}; it must reach {target}.").format(
            worst=worst, target=WORST_SITE_AUC))
    return True


@functools.cache
def design_run(epsilon: float, rounds: int) -> dict[str, float]:
    """Patient-level DP-FedAvg on the de-identified cohort (one visit per patient): worst site's AUC."""
    frame = training_frame(deidentify(_cohort(), key=b"network training key"))
    pipe = pipeline.PrivateTrainingPipeline(5, target_epsilon=epsilon, privacy_unit="person",
                                            person="patient",
                                            party="site", rounds=rounds, batch_size=512, lr=1.0, rng=0)
    prepared = pipe.preprocess(frame, target="diabetes")
    result = pipe.train(pipe.partition(prepared), accounting.PrivacyAccountant(epsilon, DELTA))
    return {"worst_site_auc": float(per_site_auc(result.model, prepared)["auc"].iloc[0]),
            "epsilon_spent": result.epsilon}


# --- the explorer --------------------------------------------------------------------------------


def hospital_explorer(*, hospitals: int = 4, alpha: float = 1.0, epsilon: float = 1.0) -> Explorer:
    """Hospitals, label skew α and ε → test accuracy and membership-attack AUC on the 569 real patients
    (each setting trains once, then it is remembered; ε = ∞ means no DP)."""
    controls = {"hospitals": slider(w.IntSlider, _("hospitals"), value=hospitals, min=3, max=4),
                "alpha": selection_slider(_("label skew α"), (1.0, 3.0, 10.0), near=alpha),
                "epsilon": selection_slider(_("ε per patient"), (0.5, 1.0, 4.0, math.inf), near=epsilon)}

    def compute(hospitals: int, alpha: float, epsilon: float) -> dict:
        return small_data_runs(None if math.isinf(epsilon) else epsilon, hospitals=hospitals, alpha=alpha)

    return Explorer(controls, compute, _hospital_figure)


def _hospital_figure(result: dict, *, hospitals: int, alpha: float, epsilon: float) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, subplot_titles=(_("test accuracy"), _("membership attack AUC")))
    fig.add_bar(x=[_("model")], y=[result["accuracy"]], marker_color=GAUSSIAN_COLOUR,
                text=[f"{result['accuracy']:.3f}"], textposition="outside", row=1, col=1)
    fig.add_bar(x=[_("attack")], y=[result["attack_auc"]], marker_color=LAPLACE_COLOUR,
                text=[f"{result['attack_auc']:.3f}"], textposition="outside", row=1, col=2)
    reference_line(fig, 0.5, _("coin flip"), position="middle outside", row=1, col=2, dash="dash")
    label = _("no DP") if math.isinf(epsilon) else f"ε = {number(epsilon)}"
    fig.update_layout(showlegend=False)
    fig.update_yaxes(range=[0, 1.15])
    return finish(fig, height=360, margin={"t": 80, "r": 80},
                  title=_("{hospitals} hospitals, α = {alpha:g}, {label}").format(
                      hospitals=hospitals, alpha=alpha, label=label))


EXPLORERS: dict[str, Callable[..., Explorer]] = {"hospitals": hospital_explorer}
