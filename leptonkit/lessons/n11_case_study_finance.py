"""Lesson for notebooks/11_case_study_finance.ipynb: four banks train one default model without pooling.

Here: the case's settings (banks, budget), the baselines (each bank alone, everything pooled),
the regional release under parallel composition, the exercise checkers 11.1–11.3 (a private set
intersection built by hand, the regional release, a yearly retraining plan) and the explorer
(banks and ε → AUC and budget). The flow itself is :mod:`leptonkit.pipeline`'s.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import ipywidgets as w
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from leptonkit import accounting, datasets, dp, fl, models, pipeline
from leptonkit.exercises import NotYet, exactly, exercise
from leptonkit.i18n import N_, _
from leptonkit.plots import GAUSSIAN_COLOUR, LAPLACE_COLOUR, finish
from leptonkit.widgets import Explorer, selection_slider, slider

__all__ = [
    "BUDGET",
    "EXPLORERS",
    "RELEASE_EPSILON",
    "ROUNDS",
    "TRAINING_EPSILON",
    "auc_on_test", "bank_summary",
    "baselines",
    "federation_explorer",
    "non_private",
    "pilot_sets",
    "regional_default_rates",
    "settings",
]

TRAINING_EPSILON = 2.0  # the consortium's ε for one training run, per customer
RELEASE_EPSILON = 0.5  # the regional default-rate release, per customer
BUDGET = TRAINING_EPSILON + RELEASE_EPSILON
DELTA = 1e-5
ROUNDS = 150
PILOT_REGION = "Hills"  # the private set intersection runs on one region's customers (a pilot)
YEARLY_BUDGET, RETRAINS, YEARLY_AUC = 1.0, 12, 0.78  # exercise 11.3


def settings(**changes: Any) -> dict:
    """The pipeline settings the notebook uses, with ``changes`` applied."""
    return {
        "target_epsilon": TRAINING_EPSILON,
        "delta": DELTA,
        "party": "bank",
        "rounds": ROUNDS,
        "batch_size": 1024, "lr": 4.0,
        "rng": 0,
        **changes,
    }


def bank_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows, default rate and median income per bank: the covariate and label shift, at a glance."""
    return (
        frame.groupby("bank")
        .agg(rows=("customer", "size"), default_rate=("default", "mean"), median_income=("income", "median"))
        .reindex(list(datasets.BANKS))
        .round(3)
    )


def pilot_sets(
    frame: pd.DataFrame, a: str = "Riverside Credit", b: str = "Hills Savings"
) -> tuple[list, list]:
    """The customer ids two banks hold in the pilot region (each bank knows only its own list)."""
    region = frame[frame["region"] == PILOT_REGION]
    return (
        sorted(region.loc[region["bank"] == a, "customer"]),
        sorted(region.loc[region["bank"] == b, "customer"]),
    )


def auc_on_test(model: Any, prepared: pipeline.Prepared) -> float:
    """The model's AUC on the held-out customers (the pipeline's own evaluation)."""
    return pipeline.PrivateTrainingPipeline.evaluate(model, prepared)[0]["auc"]


#: The non-private training every baseline gets, so the rows compare like with like: SGD with
#: batch 512, step 0.5, and the epochs of ``BASELINE_ROUNDS`` FedAvg rounds of one epoch each.
BASELINE = {"local_epochs": 1, "batch_size": 512, "lr": 0.5, "rng": 0}
BASELINE_ROUNDS = 15


def non_private(
    parties: list[tuple[np.ndarray, np.ndarray]], *, aggregator: Any = None, rounds: int = BASELINE_ROUNDS
) -> Any:
    """FedAvg without DP over ``parties`` (one party: that bank alone), trained as :data:`BASELINE` says."""
    model = models.mlp(parties[0][0].shape[1], 2, hidden=16)
    return fl.fedavg(model, parties, rounds=rounds, aggregator=aggregator, **BASELINE).model


def baselines(prepared: pipeline.Prepared, parties: list[tuple[np.ndarray, np.ndarray]]) -> pd.DataFrame:
    """Test AUC of each bank training alone, of FedAvg without DP, and of all rows pooled (no privacy:
    the unattainable ceiling), all trained the same way and scored on the same held-out customers."""
    rows = [
        {"model": f"{name} alone", "AUC": auc_on_test(non_private([party]), prepared)}
        for name, party in zip(prepared.parties, parties, strict=True)
    ]
    rows.append(
        {"model": "FedAvg, no DP (server sees each update)",
         "AUC": auc_on_test(non_private(parties), prepared)}
    )
    pooled = non_private([(prepared.X_train, prepared.y_train)])
    rows.append({"model": "all banks pooled (no privacy)", "AUC": auc_on_test(pooled, prepared)})
    return pd.DataFrame(rows)


def regional_default_rates(
    frame: pd.DataFrame, *, epsilon: float, accountant: accounting.PrivacyAccountant | None, rng: Any = 0
) -> pd.DataFrame:
    """The default rate of each region, ε-DP per customer, booked as parallel releases.

    Contribution bounding first: one row per customer (their first bank's), so each customer is in
    exactly one region and the regions are disjoint — parallel composition (McSherry 2009) then
    charges the whole table ε once.
    """
    people = frame.drop_duplicates("customer")
    generator = np.random.default_rng(rng)
    out = []
    block = accountant.parallel("default rate by region") if accountant is not None else nullcontext()
    with block:
        for region in datasets.REGIONS:
            defaults = people.loc[people["region"] == region, "default"].to_numpy(dtype=float)
            noisy = dp.dp_mean(
                defaults,
                lower=0.0,
                upper=1.0,
                epsilon=epsilon,
                rng=generator,
                accountant=accountant,
                label=f"default rate, {region}",
            )
            out.append(
                {"region": region, "customers": len(defaults), "true rate": defaults.mean(), "DP rate": noisy}
            )
    return pd.DataFrame(out)


# --- exercises -----------------------------------------------------------------------------------


def _pilot() -> tuple[list, list]:
    return pilot_sets(datasets.load_credit(rng=0))


@exercise(
    "11.1",
    hint=N_(
        "Three messages: Riverside blinds its list, Hills answers with Riverside's items blinded "
        "again and its own blinded once, Riverside counts. Look at psi.PSIParty's three "
        "methods: blind, respond, count — each side calls them on its own object."
    ),
)
def _psi_by_hand(answer: Any) -> bool:
    a, b = _pilot()
    return exactly(
        answer,
        len(set(a) & set(b)),
        _("{} is not the number of customers the two banks share in the pilot region."),
    )


@exercise(
    "11.2",
    hint=N_(
        "Call lesson.regional_default_rates(frame, epsilon=..., accountant=...) with a fresh "
        "PrivacyAccountant whose budget is 0.5: inside its parallel block the eight regions "
        "cost 0.5 together, not 8 × 0.5. Answer the accountant."
    ),
)
def _regional_release(answer: Any) -> bool:
    if not isinstance(answer, accounting.PrivacyAccountant):
        raise NotYet(
            _("answer the PrivacyAccountant that booked the release, not {kind}.").format(
                kind=type(answer).__name__
            )
        )
    labels = [s.label for s in answer.history]
    if sorted(labels) != sorted(f"default rate, {r}" for r in datasets.REGIONS):
        raise NotYet(
            _("the ledger should hold one spend per region ({regions}), it holds {n}: {first}…").format(
                regions=len(datasets.REGIONS), n=len(labels), first=labels[:3]
            )
        )
    if answer.epsilon > RELEASE_EPSILON + 1e-9:
        raise NotYet(
            _("give the accountant a budget of {budget}: the whole table must fit in it.").format(
                budget=RELEASE_EPSILON
            )
        )
    spent = answer.spent[0]
    if spent > RELEASE_EPSILON + 1e-6:
        raise NotYet(
            _("the ledger charged ε = {spent:.3g}: book the releases as parallel (disjoint regions).").format(
                spent=spent
            )
        )
    return True


@exercise(
    "11.3",
    hint=N_(
        "Twelve runs compose: with one pipeline at ε per run, the year costs about what one run "
        "with 12× the rounds costs. Try lesson.plan_year(epsilon_per_run, rounds) for a few "
        "choices; fewer rounds per run leave more ε for each step."
    ),
)
def _yearly_plan(answer: Any) -> bool:
    if not isinstance(answer, dict) or not {"epsilon_per_run", "rounds"} <= set(answer):
        raise NotYet(_("answer a dict {'epsilon_per_run': ..., 'rounds': ...}."))
    year = plan_year(answer["epsilon_per_run"], answer["rounds"])
    if year["yearly_epsilon"] > YEARLY_BUDGET + 1e-6:
        raise NotYet(
            _("twelve runs compose to ε = {epsilon:.2f}, over the yearly budget {budget}.").format(
                epsilon=year["yearly_epsilon"], budget=YEARLY_BUDGET
            )
        )
    if year["auc"] < YEARLY_AUC:
        raise NotYet(
            _("one run reaches AUC {auc:.3f}, below the {target} the risk team needs.").format(
                auc=year["auc"], target=YEARLY_AUC
            )
        )
    return True


@functools.lru_cache(maxsize=32)
def plan_year(epsilon_per_run: float, rounds: int) -> dict[str, float]:
    """One retrain at (ε per run, rounds) on the first eleven months' data, its AUC, and the ε of twelve
    such retrains composed in one ledger (each a fresh spend: the ledger composes them tightly)."""
    frame = datasets.load_credit(rng=0).drop(columns="customer")
    pipe = pipeline.PrivateTrainingPipeline(
        4, **settings(target_epsilon=float(epsilon_per_run), rounds=int(rounds))
    )
    prepared = pipe.preprocess(frame, target="default")
    parties = pipe.partition(prepared)
    plan = pipe.plan(parties)
    ledger = accounting.PrivacyAccountant(1e3, DELTA)  # a wide budget: we only read what the year costs
    ledger.spend(accounting.PrivacyCost.compose(*[plan["cost"]] * RETRAINS), label=f"{RETRAINS} retrains")
    result = pipe.train(parties, accounting.PrivacyAccountant(float(epsilon_per_run), DELTA))
    return {
        "yearly_epsilon": ledger.spent[0],
        "auc": auc_on_test(result.model, prepared),
        "noise_multiplier": plan["noise_multiplier"],
    }


# --- the explorer --------------------------------------------------------------------------------


def federation_explorer(
    frame: pd.DataFrame | None = None, *, banks: int = 4, epsilon: float = 2.0
) -> Explorer:
    """Banks in the federation and ε → test AUC of DP-FedAvg over secure aggregation, beside the best
    bank alone; each setting trains once (then it is remembered)."""
    frame = datasets.load_credit(rng=0).drop(columns="customer") if frame is None else frame
    order = list(datasets.BANKS)

    @functools.lru_cache(maxsize=64)
    def run(k: int, eps: float) -> dict:
        members = frame[frame["bank"].isin(order[:k])]
        pipe = pipeline.PrivateTrainingPipeline(k, **settings(target_epsilon=eps))
        prepared = pipe.preprocess(members, target="default")
        parties = pipe.partition(prepared)
        result = pipe.train(parties, accounting.PrivacyAccountant(eps, DELTA))
        return {
            "auc": auc_on_test(result.model, prepared),
            "epsilon": result.epsilon,
            "sigma": result.noise_multiplier,
            "rows": len(prepared.y_train),
        }

    controls = {
        "banks": slider(w.IntSlider, _("banks in the federation"), value=banks, min=3, max=4),
        "epsilon": selection_slider(_("ε per customer"), (0.5, 1.0, 2.0, 4.0, 8.0), near=epsilon),
    }
    return Explorer(controls, lambda banks, epsilon: run(banks, epsilon), _federation_figure)


def _federation_figure(result: dict, *, banks: int, epsilon: float) -> go.Figure:
    fig = go.Figure(
        go.Bar(
            x=[_("DP-FedAvg AUC")],
            y=[result["auc"]],
            marker_color=GAUSSIAN_COLOUR,
            text=[f"{result['auc']:.3f}"],
            textposition="outside",
        )
    )
    fig.add_bar(
        x=[_("ε spent / budget")],
        y=[result["epsilon"] / epsilon],
        marker_color=LAPLACE_COLOUR,
        text=[_("{spent:.2f} of {budget:g}").format(spent=result["epsilon"], budget=epsilon)],
        textposition="outside",
    )
    fig.update_layout(showlegend=False, yaxis={"range": [0, 1.15], "title": _("fraction")})
    return finish(
        fig,
        height=360,
        title=_("{banks} banks, {rows:,} training rows, ε = {epsilon:g}: noise multiplier {sigma:.2f}")
        .format(banks=banks, rows=result["rows"], epsilon=epsilon, sigma=result["sigma"]),
    )


EXPLORERS: dict[str, Callable[..., Explorer]] = {"federation": federation_explorer}
