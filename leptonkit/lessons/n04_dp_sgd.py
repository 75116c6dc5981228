"""Lesson for notebooks/04_dp_sgd.ipynb: DP-SGD — clipping, noise, and what they cost.

Here: the clinic's forms, the exercise checkers 04.1–04.5 (04.4: the loss attack at a low false-positive
rate, beside the bound ε allows; 04.5: how many canaries an audit needs), the measured-privacy experiment
(16 models trained at once on random halves of 500 forms and 100 canaries, without DP and at five ε:
LiRA, the loss attack and the one-run audit on each) and its explorer.
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

from leptonkit import attacks, datasets, dpsgd, models, privacy_audit
from leptonkit._progress import bar
from leptonkit.exercises import NotYet, close_to, exactly, exercise
from leptonkit.i18n import N_, _
from leptonkit.lessons.n02_laplace_vs_gaussian import staged
from leptonkit.plots import GAUSSIAN_COLOUR, LAPLACE_COLOUR, PALETTE, finish, number, reference_line
from leptonkit.widgets import Explorer, selection_slider

__all__ = ["ATTACK_FPR", "AUDIT_EPSILONS", "EXPLORERS", "FPRS", "MEMBERS", "N_CANARIES", "N_MODELS", "POOL",
           "audit_explorer", "canaries", "dp_tpr_bound", "first_batch", "lira_all", "measure",
           "measured_privacy", "ordinary_model", "pool", "roc_figure", "trained"]

MEMBERS = slice(0, 200)   # the small clinic: the first 200 training forms are the members


def first_batch(n: int = 32) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """A fresh 64-64-10 network and the first ``n`` training forms as tensors: exercises 04.1–04.2."""
    X, y = datasets.digits()[::2]
    return models.mlp(64, 10), torch.tensor(X[:n]), torch.tensor(y[:n])


# --- exercises -----------------------------------------------------------------------------


@exercise("04.1", hint=N_("Compute the 32 per-sample gradients, then clip-and-sum them with C = 3: the kit "
                          "returns the lengths before clipping too."))
@staged("04.1", N_("dpsgd.clip_and_sum(grads, 3.0) returns (sum, norms); count the norms above 3.0."))
def _clipped_count(answer: Any) -> bool:
    model, X, y = first_batch()
    norms = dpsgd.clip_and_sum(dpsgd.per_sample_gradients(model, X, y), 3.0)[1]
    return exactly(answer, int((norms > 3.0).sum()),
                   _("{} is not the number of the first 32 gradients longer than C = 3."))


@exercise("04.2", hint=N_("Clip-and-sum twice, with and without the first form, and measure how far apart "
                          "the two sums are."))
@staged("04.2", N_("Drop the first row of every per-sample gradient ({k: g[1:]}), clip-and-sum both with "
                   "C = 0.5, and take √(Σ over all parameters of the squared differences)."))
def _influence_of_one(answer: Any) -> bool:
    model, X, y = first_batch()
    grads = dpsgd.per_sample_gradients(model, X, y)
    total = dpsgd.clip_and_sum(grads, 0.5)[0]
    without = dpsgd.clip_and_sum({k: g[1:] for k, g in grads.items()}, 0.5)[0]
    change = float(torch.sqrt(sum((total[k] - without[k]).pow(2).sum() for k in total)))
    if float(answer) > 0.5 + 1e-6:
        raise NotYet(_("{value:.4f} is more than C = 0.5: clipping bounds one person's influence.")
                     .format(value=float(answer)))
    return close_to(answer, change, rel=1e-4)


@exercise("04.3", hint=N_("Train on all 1 437 training forms with the kit's DP-SGD and a target ε of 2; "
                          "the defaults do the rest."))
@staged("04.3", N_("dpsgd.train takes the model, X_train, y_train, target_epsilon and rng, and returns a "
                   "TrainResult."))
def _private_model_that_works(answer: Any) -> bool:
    if not isinstance(answer, dpsgd.TrainResult):
        raise NotYet(_("answer the TrainResult that dpsgd.train returns, not {kind}.")
                     .format(kind=type(answer).__name__))
    X_test, y_test = datasets.digits()[1::2]
    accuracy = models.evaluate(answer.model, X_test, y_test)[1]
    if answer.epsilon > 2.0 or answer.delta > 1e-5:
        raise NotYet(_("this run spent (ε = {epsilon:.3f}, δ = {delta:g}), more than (2, 1e-5).")
                     .format(epsilon=answer.epsilon, delta=answer.delta))
    if accuracy < 0.85:
        raise NotYet(_("test accuracy {accuracy:.1%}: private, but not yet useful (aim for 85 %).")
                     .format(accuracy=accuracy))
    return True


ATTACK_FPR = 0.05   # 04.4: 5 % of the 360 non-members, 18 records (1 % would be 3.6: too few to read)


@functools.cache
def ordinary_model() -> nn.Module:
    """The notebook's non-private model: 100 epochs on the clinic's 200 forms, seeded (rng=0)."""
    X, y = datasets.digits()[::2]
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


@exercise("04.4", hint=N_("Score every record by how small the ordinary model's loss on it is; set the "
                          "threshold so that 5 % of the non-members (the test forms) score above it."))
@staged("04.4", N_("Per-record losses: torch.nn.functional.cross_entropy(model(X), y, reduction='none'). "
                   "Threshold: the 95th percentile of the non-members' scores −loss (np.quantile); TPR: the "
                   "share of the 200 members above it."))
def _loss_attack_at_low_fpr(answer: Any) -> bool:
    expected = _tpr_at_fpr(ordinary_model(), ATTACK_FPR)
    value = float(answer)
    if abs(value - ATTACK_FPR) < 1e-3 and abs(expected - ATTACK_FPR) > 0.0075:
        raise NotYet(_("{value:.3f} is the false-positive rate; answer the true-positive rate at it.")
                     .format(value=value))
    if abs(value - expected) > 0.0075:   # 1.5 members of 200: threshold conventions agree to within one
        raise NotYet(_("{value:.3f} is not the share of members the attack finds at 5 % false positives.")
                     .format(value=value))
    return True




# --- privacy measured: LiRA and the one-run audit beside the accountant ----------------------------

POOL = 500          # the forms the experiment draws members from: the first 500 training forms
N_CANARIES = 100    # the audit's canaries: random-pixel images with random labels, appended to the pool
N_MODELS = 16       # trained at once; each is the target once, the other 15 its shadows (Carlini et al.: 256)
AUDIT_EPSILONS = (0.5, 1.0, 2.0, 4.0, 8.0)
FPRS = (0.001, 0.01)
DELTA = 1e-5
_ATTACK_NAMES = (N_("LiRA (online)"), N_("LiRA (offline)"), N_("loss threshold"))   # measure()'s keys


def canaries(m: int = N_CANARIES, *, rng: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``m`` canaries: images of uniform random pixels in [0, 1], each with a random label.

    Nothing in the forms looks like them, so a model gets one right only by remembering it —
    the easiest kind of record to detect, which makes the audit's lower bound as large as it can be.
    """
    generator = np.random.default_rng(rng)
    return generator.random((m, 64)).astype(np.float32), generator.integers(0, 10, m)


def pool() -> tuple[np.ndarray, np.ndarray]:
    """The experiment's records: the first :data:`POOL` training forms, then the canaries."""
    X, y = datasets.digits()[::2]
    cx, cy = canaries()
    return np.r_[X[:POOL], cx], np.r_[y[:POOL], cy]


@functools.cache
def trained(epsilon: float | None) -> privacy_audit.StackedModels:
    """:data:`N_MODELS` models, each on its own coin-flip half of :func:`pool` (inclusion rng=1, init rng=2).

    ``epsilon=None``: plain SGD, the recipe of :func:`ordinary_model` (100 epochs, batches of 64,
    lr 0.5). Otherwise DP-SGD with ``dpsgd.DEFAULTS`` (sample rate, epochs 60·√ε, C, lr, EMA) and
    the σ ``dpsgd.train`` would calibrate for (ε, δ = 1e-5): PLD, bounded above by RDP.
    """
    X, y = pool()
    included = privacy_audit.inclusion(N_MODELS, len(X), rng=1)
    if epsilon is None:
        return privacy_audit.train_models(models.mlp(64, 10), X, y, included, epochs=100, batch_size=64,
                                          lr=0.5, rng=2)
    q = dpsgd.DEFAULTS["batch_fraction"]
    epochs = max(1, round(dpsgd.DEFAULTS["epochs"] * min(epsilon, dpsgd.EPOCHS_GROWTH_CAP)
                          ** dpsgd.DEFAULTS["epochs_growth"]))
    steps = epochs * round(1 / q)
    sigma = _noise_multiplier(epsilon, q, steps)
    settings = dpsgd.DEFAULTS
    return privacy_audit.train_models(models.mlp(64, 10), X, y, included, epochs=epochs, lr=settings["lr"],
                                      noise_multiplier=sigma, sample_rate=q,
                                      max_grad_norm=settings["max_grad_norm"], ema=settings["ema"], rng=2)


@functools.cache
def _noise_multiplier(epsilon: float, q: float, steps: int) -> float:
    """dpsgd.train's calibration: RDP's σ for ε, then the smallest σ below it whose PLD ε ≤ ε."""
    return dpsgd.calibrate_noise(epsilon, sample_rate=q, steps=steps, delta=DELTA, calibration="pld")[0]


def lira_all(confidence: np.ndarray, included: np.ndarray, *, online: bool = True) -> np.ndarray:
    """LiRA with each model the target once, the others its shadows: scores of shape (models, records)."""
    M = len(confidence)
    return np.stack([attacks.lira(confidence[j], confidence[np.arange(M) != j], included[np.arange(M) != j],
                                  online=online) for j in range(M)])


@functools.cache
def measure(epsilon: float | None) -> dict:
    """Everything the notebook reports for one setting (``None``: no DP), from :func:`trained`.

    Test accuracy (mean over the models); the true-positive rate at each of :data:`FPRS` of LiRA
    online, offline and the loss attack over the 500 forms (each model the target once: 16 × 500
    guesses); their ROC curves; and the one-run audit of model 0 on the canaries (score: minus
    its loss), at 95 % confidence with δ = 1e-5.
    """
    stacked = trained(epsilon)
    X, y = pool()
    X_test, y_test = datasets.digits()[1::2]
    logits = stacked.logits(X)
    confidence = attacks.logit_confidence(logits, y)
    losses = nn.functional.cross_entropy(logits.transpose(1, 2), torch.as_tensor(y).expand(len(stacked), -1),
                                         reduction="none").numpy()
    forms, inside = slice(0, POOL), stacked.included
    member = inside[:, forms].ravel()
    scores = {"LiRA (online)": lira_all(confidence[:, forms], inside[:, forms]),
              "LiRA (offline)": lira_all(confidence[:, forms], inside[:, forms], online=False),
              "loss threshold": -losses[:, forms]}
    from sklearn.metrics import roc_curve

    curves = {}
    for name, s in scores.items():
        fpr, tpr = roc_curve(member, s.ravel())[:2]
        curves[name] = (fpr, tpr)
    accuracy = float((stacked.logits(X_test).argmax(2).numpy() == y_test).mean())
    audit = privacy_audit.one_run_audit(-losses[0, POOL:], inside[0, POOL:], delta=DELTA)
    eps = math.inf if epsilon is None else float(epsilon)
    return {"epsilon": eps, "accuracy": accuracy, "audit": audit, "roc": curves,
            "tpr": {name: {f: attacks.tpr_at_fpr(s.ravel(), member, f) for f in FPRS}
                    for name, s in scores.items()},
            "bound": {f: (1.0 if eps == math.inf else dp_tpr_bound(eps, DELTA, f)) for f in FPRS}}


def measured_privacy(epsilons: tuple[float, ...] = AUDIT_EPSILONS) -> dict:
    """:func:`measure` without DP and at each ε: the explorer's table (a bar over the settings)."""
    settings = [None, *(float(e) for e in epsilons)]
    return {"no DP" if e is None else e: measure(e) for e in bar(settings, desc="settings")}


# Titles the notebook passes in: the builder shows them through _(), so they are catalogued here.
_NOTEBOOK_TITLES = (N_("Who finds members at low false-positive rates"),)


def roc_figure(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], *, title: str = "") -> go.Figure:
    """ROC curves on log–log axes (Carlini et al. 2022, Fig. 1): the low false-positive corner, visible."""
    colours = {"LiRA (online)": GAUSSIAN_COLOUR, "LiRA (offline)": PALETTE[3],
               "loss threshold": LAPLACE_COLOUR}
    fig = go.Figure()
    for name, (fpr, tpr) in curves.items():
        keep = fpr > 0
        fig.add_trace(go.Scatter(x=fpr[keep], y=np.maximum(tpr[keep], 1e-4), name=_(name), mode="lines",
                                 line={"color": colours.get(name, "grey"), "width": 2.5}))
    fig.add_trace(go.Scatter(x=[1e-4, 1], y=[1e-4, 1], name=_("guessing"), mode="lines",
                             line={"color": "black", "dash": "dot"}))
    rates = {"type": "log", "range": [-3.5, 0], "tickvals": [1e-3, 1e-2, 1e-1, 1],
             "ticktext": ["0.1 %", "1 %", "10 %", "100 %"]}
    fig.update_layout(xaxis={**rates, "title": _("false-positive rate")},
                      yaxis={**rates, "title": _("true-positive rate")})
    return finish(fig, height=420, title=_(title) if title else "", legend=True, margin={"t": 50})


def _audit_figure(table: dict, *, epsilon: float) -> go.Figure:
    from plotly.subplots import make_subplots

    eps = [e for e in table if e != "no DP"]
    row = table[min(eps, key=lambda e: abs(e - epsilon))]
    plain = table["no DP"]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.14,
                        subplot_titles=(_("accuracy and what LiRA finds at 1 % false positives"),
                                        _("ε: the accountant's upper bound, the audit's lower bound")))
    fig.add_trace(go.Scatter(x=eps, y=[table[e]["accuracy"] for e in eps], name=_("test accuracy"),
                             mode="lines+markers", line={"color": LAPLACE_COLOUR, "width": 2.5}), 1, 1)
    fig.add_trace(go.Scatter(x=eps, y=[table[e]["tpr"]["LiRA (online)"][0.01] for e in eps],
                             name=_("LiRA: members found at 1 % FPR"), mode="lines+markers",
                             line={"color": GAUSSIAN_COLOUR, "width": 2.5}), 1, 1)
    fig.add_trace(go.Scatter(x=eps, y=[table[e]["bound"][0.01] for e in eps],
                             name=_("most any attack can find"),
                             mode="lines", line={"color": "black", "dash": "dot"}), 1, 1)
    fig.add_trace(go.Scatter(x=eps, y=eps, name=_("accountant's ε (upper bound)"), mode="lines+markers",
                             line={"color": "black"}), 1, 2)
    fig.add_trace(go.Scatter(x=eps, y=[table[e]["audit"].epsilon for e in eps],
                             name=_("audit's ε (lower bound)"), mode="lines+markers",
                             line={"color": PALETTE[2], "width": 2.5}), 1, 2)
    fig.add_trace(go.Scatter(x=[row["epsilon"]] * 2, y=[row["accuracy"], row["tpr"]["LiRA (online)"][0.01]],
                             mode="markers", showlegend=False,
                             marker={"size": 13, "color": [LAPLACE_COLOUR, GAUSSIAN_COLOUR]}), 1, 1)
    reference_line(fig, plain["accuracy"], _("accuracy without DP"), position="top left", row=1, col=1,
                   colour=LAPLACE_COLOUR, dash="dash")
    reference_line(fig, plain["audit"].epsilon, _("audit without DP"), position="top left", row=1, col=2,
                   colour=PALETTE[2], dash="dash")
    ticks = {"type": "log", "tickvals": eps, "ticktext": [number(e) for e in eps],
             "title": _("ε (δ = 1e-5)")}
    fig.update_xaxes(**ticks)
    fig.update_yaxes(range=[0, 1.05], row=1, col=1)
    fig.update_yaxes(title="ε", row=1, col=2)
    return finish(fig, height=440, legend=True, margin={"t": 80},
                  title=_("ε = {epsilon:g}: accuracy {accuracy:.1%}; LiRA finds {found:.1%} of members "
                          "at 1 % FPR (at most {most:.1%}); audit: ε ≥ {bound:.2f}").format(
                      epsilon=row["epsilon"], accuracy=row["accuracy"],
                      found=row["tpr"]["LiRA (online)"][0.01], most=row["bound"][0.01],
                      bound=row["audit"].epsilon))


def audit_explorer(table: Mapping[Any, Any] | None = None, *, epsilon: float = 4.0) -> Explorer:
    """ε of DP-SGD against accuracy, LiRA's true-positive rate at 1 % FPR and the audit's ε lower bound.

    ``table`` is :func:`measured_privacy` (computed when not given); the slider only looks it up.
    """
    table = measured_privacy() if table is None else dict(table)
    options = [float(e) for e in table if e != "no DP"]
    controls = {"epsilon": selection_slider("ε", options, near=epsilon)}

    def compute(epsilon: float) -> Mapping[str, Any]:
        return table

    return Explorer(controls, compute, _audit_figure)


@exercise("04.5", hint=N_("A non-private run can get every guess right. How many right guesses in a row "
                          "does it take before ε-DP randomized response, right with probability "
                          "e^ε/(1 + e^ε) each time, would be that lucky less than 5 % of the time?"))
@staged("04.5", N_("With δ = 0, r right guesses out of r have p-value (e^ε/(1 + e^ε))^r; "
                   "privacy_audit.epsilon_lower_bound(m, r, r) is the ε it proves. Find the smallest r "
                   "with a bound ≥ 4 (take m = r)."))
def _canaries_needed(answer: Any) -> bool:
    return exactly(answer, _fewest_guesses(4.0),
                   _("{} guesses, all right, do not prove ε ≥ 4 at 95 % confidence — or fewer would."))


@functools.cache
def _fewest_guesses(target: float) -> int:
    r = 1
    while privacy_audit.epsilon_lower_bound(r, r, r) < target:
        r += 1
    return r


EXPLORERS: dict[str, Callable[..., Explorer]] = {"audit": audit_explorer}
