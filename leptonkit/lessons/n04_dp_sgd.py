"""Lesson for notebooks/04_dp_sgd.ipynb: DP-SGD — clipping, noise, and what they cost.

Here: the clinic's forms, the exercise checkers 04.1–04.4 (04.4: the loss attack at a low false-positive
rate, beside the bound ε allows) and the privacy-utility explorer with its figure.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import plotly.graph_objects as go
import torch
from torch import nn

from leptonkit import datasets, dpsgd, models
from leptonkit.exercises import NotYet, close_to, exactly, exercise
from leptonkit.lessons.n02_laplace_vs_gaussian import staged
from leptonkit.plots import GAUSSIAN_COLOUR, LAPLACE_COLOUR, LEGEND_BELOW, TEMPLATE
from leptonkit.widgets import Explorer, selection_slider

__all__ = ["ATTACK_FPR", "EXPLORERS", "MEMBERS", "dp_tpr_bound", "dpsgd_explorer", "first_batch",
           "ordinary_model", "privacy_utility"]

MEMBERS = slice(0, 200)   # the small clinic: the first 200 training forms are the members


def first_batch(n: int = 32) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """A fresh 64-64-10 network and the first ``n`` training forms as tensors: exercises 04.1–04.2."""
    X, _, y, _ = datasets.digits()
    return models.mlp(64, 10), torch.tensor(X[:n]), torch.tensor(y[:n])


# --- exercises -----------------------------------------------------------------------------


@exercise("04.1", hint="Compute the 32 per-sample gradients, then clip-and-sum them with C = 3: the kit "
                       "returns the lengths before clipping too.")
@staged("04.1", "dpsgd.clip_and_sum(grads, 3.0) returns (sum, norms); count the norms above 3.0.")
def _clipped_count(answer: Any) -> bool:
    model, X, y = first_batch()
    _, norms = dpsgd.clip_and_sum(dpsgd.per_sample_gradients(model, X, y), 3.0)
    return exactly(answer, int((norms > 3.0).sum()),
                   "{} is not the number of the first 32 gradients longer than C = 3.")


@exercise("04.2", hint="Clip-and-sum twice, with and without the first form, and measure how far apart "
                       "the two sums are.")
@staged("04.2", "Drop the first row of every per-sample gradient ({k: g[1:]}), clip-and-sum both with "
                "C = 0.5, and take √(Σ over all parameters of the squared differences).")
def _influence_of_one(answer: Any) -> bool:
    model, X, y = first_batch()
    grads = dpsgd.per_sample_gradients(model, X, y)
    total, _ = dpsgd.clip_and_sum(grads, 0.5)
    without, _ = dpsgd.clip_and_sum({k: g[1:] for k, g in grads.items()}, 0.5)
    change = float(torch.sqrt(sum((total[k] - without[k]).pow(2).sum() for k in total)))
    if float(answer) > 0.5 + 1e-6:
        raise NotYet(f"{float(answer):.4f} is more than C = 0.5: clipping bounds one person's influence.")
    return close_to(answer, change, rel=1e-4)


@exercise("04.3", hint="Train on all 1 437 training forms with the kit's DP-SGD and a target ε of 2; "
                       "the defaults do the rest.")
@staged("04.3", "dpsgd.train takes the model, X_train, y_train, target_epsilon and rng, and returns a "
                "TrainResult.")
def _private_model_that_works(answer: Any) -> bool:
    if not isinstance(answer, dpsgd.TrainResult):
        raise NotYet(f"answer the TrainResult that dpsgd.train returns, not {type(answer).__name__}.")
    _, X_test, _, y_test = datasets.digits()
    accuracy = models.evaluate(answer.model, X_test, y_test)[1]
    if answer.epsilon > 2.0 or answer.delta > 1e-5:
        raise NotYet(f"this run spent (ε = {answer.epsilon:.3f}, δ = {answer.delta:g}), more than (2, 1e-5).")
    if accuracy < 0.85:
        raise NotYet(f"test accuracy {accuracy:.1%}: private, but not yet useful (aim for 85 %).")
    return True


ATTACK_FPR = 0.05   # 04.4: 5 % of the 360 non-members, 18 records (1 % would be 3.6: too few to read)


@functools.cache
def ordinary_model() -> nn.Module:
    """The notebook's non-private model: 100 epochs on the clinic's 200 forms, seeded (rng=0)."""
    X, _, y, _ = datasets.digits()
    return models.train_non_private(models.mlp(64, 10), X[MEMBERS], y[MEMBERS], epochs=100, batch_size=64,
                                    lr=0.5, rng=0)


def _losses(model: nn.Module, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return nn.functional.cross_entropy(model(torch.as_tensor(X)), torch.as_tensor(y),
                                           reduction="none").numpy()


def _tpr_at_fpr(model: nn.Module, fpr: float) -> float:
    X, X_test, y, y_test = datasets.digits()
    member, outside = -_losses(model, X[MEMBERS], y[MEMBERS]), -_losses(model, X_test, y_test)
    threshold = np.quantile(outside, 1 - fpr)
    return float(np.mean(member > threshold))


def dp_tpr_bound(epsilon: float, delta: float, fpr: float) -> float:
    """The most true-positive rate any membership test can have at false-positive rate ``fpr``
    against an (ε, δ)-DP training run: min(1, e^ε·fpr + δ, 1 − e^−ε·(1 − δ − fpr)) (Kairouz, Oh &
    Viswanath 2015, Thm 2.1). ε ≥ 0, δ and fpr in [0, 1].
    """
    from leptonkit._checks import check_real

    eps = check_real(epsilon, "epsilon", low=0.0, high=700.0)
    d = check_real(delta, "delta", low=0.0, high=1.0)
    a = check_real(fpr, "fpr", low=0.0, high=1.0)
    return float(min(1.0, math.exp(eps) * a + d, max(0.0, 1 - math.exp(-eps) * (1 - d - a))))


@exercise("04.4", hint="Score every record by how small the ordinary model's loss on it is; set the "
                       "threshold so that 5 % of the non-members (the test forms) score above it.")
@staged("04.4", "Per-record losses: torch.nn.functional.cross_entropy(model(X), y, reduction='none'). "
                "Threshold: the 95th percentile of the non-members' scores −loss (np.quantile); TPR: the "
                "share of the 200 members above it.")
def _loss_attack_at_low_fpr(answer: Any) -> bool:
    expected = _tpr_at_fpr(ordinary_model(), ATTACK_FPR)
    value = float(answer)
    if abs(value - ATTACK_FPR) < 1e-3 and abs(expected - ATTACK_FPR) > 0.0075:
        raise NotYet(f"{value:.3f} is the false-positive rate; answer the true-positive rate at it.")
    if abs(value - expected) > 0.0075:   # 1.5 members of 200: threshold conventions agree to within one
        raise NotYet(f"{value:.3f} is not the share of members the attack finds at 5 % false positives.")
    return True


# --- explorer: privacy against utility ------------------------------------------------------------


def privacy_utility(result: dict, *, epsilon: float) -> go.Figure:
    """DP-SGD's test accuracy and the membership attack's AUC against ε, the non-private model as lines.

    ``result`` is ``dpsgd.privacy_utility(...)``; the dotted curve is the most AUC any attack
    can reach against an ε-DP training run, e^ε/(1 + e^ε).
    """
    eps = result["epsilon"]
    i = int(np.argmin(np.abs(eps - epsilon)))
    bound = np.exp(eps) / (1 + np.exp(eps))
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=eps, y=result["accuracy"], name="test accuracy (DP-SGD)", mode="lines+markers",
                             line={"color": LAPLACE_COLOUR, "width": 2.5}))
    fig.add_trace(go.Scatter(x=eps, y=result["auc"], name="attack AUC (DP-SGD)", mode="lines+markers",
                             line={"color": GAUSSIAN_COLOUR, "width": 2.5}))
    fig.add_trace(go.Scatter(x=eps, y=bound, name="most AUC ε allows", mode="lines",
                             line={"color": "black", "dash": "dot"}))
    fig.add_trace(go.Scatter(x=[eps[i], eps[i]], y=[result["accuracy"][i], result["auc"][i]],
                             mode="markers", showlegend=False,
                             marker={"size": 13, "color": [LAPLACE_COLOUR, GAUSSIAN_COLOUR]}))
    for value, colour, label in ((result["baseline_accuracy"], LAPLACE_COLOUR, "accuracy without DP"),
                                 (result["baseline_auc"], GAUSSIAN_COLOUR, "attack AUC without DP")):
        fig.add_hline(y=value, line={"dash": "dash", "color": colour, "width": 1},
                      annotation_text=label, annotation_position="bottom right")
    fig.update_layout(template=TEMPLATE, height=420, margin={"t": 50, "b": 110},
                      title=(f"ε = {eps[i]:g}: accuracy {result['accuracy'][i]:.1%}, "
                             f"attack AUC {result['auc'][i]:.3f} (0.5 = guessing)"),
                      xaxis={"type": "log", "title": "ε of the whole training run (δ = 1e-5)",
                             "tickvals": list(eps)},
                      yaxis={"range": [0, 1.02]}, legend=LEGEND_BELOW)
    return fig


def dpsgd_explorer(result: Mapping[str, Any] | None = None, *, epsilon: float = 1.0) -> Explorer:
    """ε of a DP-SGD run against test accuracy and the membership attack's AUC.

    ``result`` is :func:`leptonkit.dpsgd.privacy_utility`; when not given, a small one is
    computed on the clinic's 200 forms (``MEMBERS``). The slider only looks it up.
    """
    if result is None:
        X, X_test, y, y_test = datasets.digits()
        baseline = models.train_non_private(models.mlp(64, 10), X[MEMBERS], y[MEMBERS], epochs=100, rng=0)
        result = dpsgd.privacy_utility(models.mlp(64, 10), X[MEMBERS], y[MEMBERS], X_test, y_test,
                                       epsilons=[1.0, 4.0], baseline=baseline)
    controls = {"epsilon": selection_slider("ε", [float(e) for e in result["epsilon"]], near=epsilon)}

    def compute(epsilon: float) -> Mapping[str, Any]:
        return result

    return Explorer(controls, compute, privacy_utility)


EXPLORERS: dict[str, Callable[..., Explorer]] = {"dpsgd": dpsgd_explorer}
