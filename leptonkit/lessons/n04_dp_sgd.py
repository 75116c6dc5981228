"""Lesson for notebooks/04_dp_sgd.ipynb: DP-SGD — clipping, noise, and what they cost.

Here: the clinic's forms, the exercise checkers 04.1–04.3 and the privacy-utility explorer with its figure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import plotly.graph_objects as go
import torch
from torch import nn

from leptonkit import datasets, dpsgd, models
from leptonkit.exercises import NotYet, close_to, exactly, exercise
from leptonkit.plots import GAUSSIAN_COLOUR, LAPLACE_COLOUR, LEGEND_BELOW, TEMPLATE
from leptonkit.widgets import Explorer, selection_slider

__all__ = ["EXPLORERS", "MEMBERS", "dpsgd_explorer", "first_batch", "privacy_utility"]

MEMBERS = slice(0, 200)   # the small clinic: the first 200 training forms are the members


def first_batch(n: int = 32) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """A fresh 64-64-10 network and the first ``n`` training forms as tensors: exercises 04.1–04.2."""
    X, _, y, _ = datasets.digits()
    return models.mlp(64, 10), torch.tensor(X[:n]), torch.tensor(y[:n])


# --- exercises -----------------------------------------------------------------------------


@exercise("04.1", hint="dpsgd.per_sample_gradients(model, X_batch, y_batch), then dpsgd.clip_and_sum"
                       "(grads, 3.0) returns the norms before clipping: count those above 3.0.")
def _clipped_count(answer: Any) -> bool:
    model, X, y = first_batch()
    _, norms = dpsgd.clip_and_sum(dpsgd.per_sample_gradients(model, X, y), 3.0)
    return exactly(answer, int((norms > 3.0).sum()),
                   "{} is not the number of the first 32 gradients longer than C = 3.")


@exercise("04.2", hint="Clip-and-sum the 32 gradients, then the 31 without the first form, both with "
                       "C = 0.5; the L2 norm of the difference over all parameters is the answer.")
def _influence_of_one(answer: Any) -> bool:
    model, X, y = first_batch()
    grads = dpsgd.per_sample_gradients(model, X, y)
    total, _ = dpsgd.clip_and_sum(grads, 0.5)
    without, _ = dpsgd.clip_and_sum({k: g[1:] for k, g in grads.items()}, 0.5)
    change = float(torch.sqrt(sum((total[k] - without[k]).pow(2).sum() for k in total)))
    if float(answer) > 0.5 + 1e-6:
        raise NotYet(f"{float(answer):.4f} is more than C = 0.5: clipping bounds one person's influence.")
    return close_to(answer, change, rel=1e-4)


@exercise("04.3", hint="dpsgd.train(models.mlp(64, 10), X_train, y_train, target_epsilon=2, rng=0) on "
                       "the full training split; answer the TrainResult.")
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
