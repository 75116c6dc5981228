"""Lesson for notebooks/05_fedavg.ipynb: federated averaging, its traffic, what updates leak, where the
DP noise goes, and poisoning that a coordinate median does not stop.

Here: the leaked record, ``centered_clipping`` (the defence the notebook shows against ALIE), the
exercise checkers 05.1–05.5 (in notebook order: bytes, skew, inversion, σ, the ALIE lie) and the
FedAvg explorer with its figure.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import ipywidgets as w
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from leptonkit import accounting, datasets, fl, models
from leptonkit.exercises import NotYet, exactly, exercise, just_enough
from leptonkit.i18n import N_, _
from leptonkit.plots import GAUSSIAN_COLOUR, LAPLACE_COLOUR, finish, number
from leptonkit.widgets import Explorer, slider

__all__ = ["EXPLORERS", "FEDAVG_ROUNDS", "LEAKED_RECORD", "centered_clipping", "fedavg_explorer",
           "fedavg_progress"]

LEAKED_RECORD = 7   # the training record whose gradient leaks in notebook 05
FEDAVG_ROUNDS = 10  # rounds the explorer trains on every move


# --- exercises -----------------------------------------------------------------------------


@exercise("05.1", hint=N_("Count the parameters: sum(p.numel() for p in model.parameters()); each is a "
                          "4-byte float32, sent once up per selected client."))
def _bytes_up_per_client(answer: Any) -> bool:
    expected = sum(p.numel() for p in models.mlp(64, 10).parameters()) * fl.BYTES_PER_PARAMETER
    return exactly(answer, expected, _("{} bytes is not one float32 per parameter of the 64-64-10 network."))


@exercise("05.2", hint=N_("parts = fl.partition(y_train, 10, alpha=0.1, rng=0); then "
                          "len(np.unique(y_train[parts[0]]))."))
def _labels_of_a_skewed_client(answer: Any) -> bool:
    y = datasets.digits()[2]
    labels = len(np.unique(y[fl.partition(y, 10, alpha=0.1, rng=0)[0]]))
    return exactly(answer, labels, _("client 0 does not hold {} distinct digits."))


@exercise("05.4", hint=N_("accounting.noise_multiplier_for_epsilon(target_epsilon=5, sample_rate=10 / 100, "
                          "steps=50, delta=1e-5): each round is one step, each client joins with rate C."))
def _dp_fedavg_noise(answer: Any) -> bool:
    eps = accounting.dpsgd_epsilon(noise_multiplier=float(answer), sample_rate=0.1, steps=50, delta=1e-5)
    return just_enough(eps, 5.0)


@exercise("05.3", hint=N_("attacks.gradient_inversion(model, leaked, n_features=64) returns a dict; answer "
                          "its 'reconstruction'."))
def _reconstructed_record(answer: Any) -> bool:
    X = datasets.digits()[0]
    image = np.asarray(answer, dtype=float).reshape(-1)
    if image.shape != (64,):
        raise NotYet(_("answer 64 pixel values, not {n}.").format(n=image.size))
    error = float(np.mean((image - X[LEAKED_RECORD]) ** 2))
    if error > 1e-3:
        raise NotYet(_("the mean squared error to the client's record is {error:.3g}: not yet the "
                       "record.").format(error=error))
    return True


_ALIE_HONEST, _ALIE_ATTACKERS = 20, 6   # the synthetic round exercise 05.5 is judged on


@exercise("05.5", hint=N_("Stay inside the honest spread, but push every coordinate the same way: per "
                          "coordinate, the mean of the updates minus z times their standard deviation "
                          "(updates.mean(axis=0) - z * updates.std(axis=0)), with z between 0.5 and 1.5."))
def _alie_lie(answer: Any) -> bool:
    if not callable(answer):
        raise NotYet(_("answer a function lie(updates) -> one update, not {kind}.").format(
            kind=type(answer).__name__))
    rng = np.random.default_rng(2019)
    n, m, P = _ALIE_HONEST, _ALIE_ATTACKERS, 400
    mu, sigma = rng.normal(0.0, 1.0, P), rng.uniform(0.5, 2.0, P)
    honest = mu + sigma * rng.standard_normal((n, P))
    lie = np.asarray(answer(honest.copy()), dtype=float)
    if lie.shape != (P,):
        raise NotYet(_("lie(updates) must return one update of {P} values for updates of shape "
                       "{shape}, not shape {got}.").format(P=P, shape=honest.shape, got=lie.shape))
    inside = float(np.mean((lie >= honest.min(axis=0)) & (lie <= honest.max(axis=0))))
    if inside < 0.8:
        raise NotYet(_("only {inside:.0%} of the lie's coordinates lie within the honest values' range: an "
                       "outlier filter would see it. Keep at least 80 % inside.").format(inside=inside))
    poisoned = honest.copy()
    poisoned[:m] = lie
    shift = (np.median(poisoned, axis=0) - np.median(honest, axis=0)) / sigma
    if abs(float(shift.mean())) < 0.25:
        raise NotYet(_("the coordinate median moves by {shift:.2f} standard deviations on average; the {m} "
                       "colluders must push it at least 0.25, all in the same direction.").format(
                           shift=abs(float(shift.mean())), m=m))
    return True


def centered_clipping(tau: float, *, iterations: int = 3) -> Callable[..., np.ndarray]:
    """Centered clipping (Karimireddy, He & Jaggi 2021), an ``fl`` aggregator with a memory.

    Starting from the previous round's aggregate v, it repeats ``iterations`` times
    v ← v + mean_k clip_τ(Δ_k − v), where clip_τ scales a vector to L2 norm at most ``tau``:
    each client moves the aggregate by at most τ/K per iteration, however far away its update
    is, and a lie that sits a little off the honest updates in every coordinate is pulled back
    with them. Each call of this function makes a fresh aggregator (its memory starts at 0).
    """
    tau = float(tau)
    if not (math.isfinite(tau) and tau > 0):
        raise ValueError(f"tau must be a finite number > 0, got {tau!r}")
    memory: dict[str, np.ndarray] = {}

    def aggregate(updates: np.ndarray, weights: np.ndarray, clients: np.ndarray) -> np.ndarray:
        v = memory.get("v", np.zeros(updates.shape[1]))
        for _step in range(iterations):
            gaps = updates - v
            norms = np.linalg.norm(gaps, axis=1, keepdims=True)
            v = v + (gaps * np.minimum(1.0, tau / np.maximum(norms, 1e-12))).mean(axis=0)
        memory["v"] = v
        return v

    aggregate.__name__ = "centered_clipping"
    return aggregate


# --- explorer: FedAvg ------------------------------------------------------------------------


# Titles the notebook passes in: the builder shows them through _(), so they are catalogued here.
_NOTEBOOK_TITLES = (N_("100 clients, 10 per round, E = 5, B = 10: "),)


def fedavg_progress(history: list, *, title: str = "", **_settings: object) -> go.Figure:
    """Accuracy of the global model by round, and the same accuracy against the megabytes sent so far.

    ``history`` is a ``FedAvgResult.history``: one dict per round. The second panel answers what
    the traffic buys: how far each megabyte (up + down) takes the accuracy.
    """
    rounds = [h["round"] for h in history]
    accuracy = [h["accuracy"] for h in history]
    sent = np.cumsum([h["bytes_up"] + h["bytes_down"] for h in history]) / 1e6
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=(_("test accuracy of the global model"),
                                        _("accuracy against the traffic")))
    fig.add_trace(go.Scatter(x=rounds, y=accuracy, mode="lines+markers",
                             line={"color": LAPLACE_COLOUR, "width": 2.5}, showlegend=False), row=1, col=1)
    fig.add_trace(go.Scatter(x=sent, y=accuracy, mode="lines+markers", showlegend=False,
                             line={"color": GAUSSIAN_COLOUR, "width": 2.5},
                             hovertemplate="%{x:.2f} MB: %{y:.1%}<extra></extra>"), row=1, col=2)
    fig.update_xaxes(title_text=_("round"), row=1, col=1)
    fig.update_xaxes(title_text=_("megabytes sent (up + down)"), rangemode="tozero", row=1, col=2)
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", row=1, col=1)
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", row=1, col=2)
    prefix = _(title) if title else ""
    return finish(fig, height=380, margin={"t": 80},
                  title=prefix + _("final accuracy {accuracy:.1%} after {rounds} rounds, {mb:.2f} MB "
                                   "sent").format(accuracy=history[-1]["accuracy"], rounds=len(history),
                                                  mb=sent[-1]))


def fedavg_explorer(data: tuple[np.ndarray, ...] | None = None, *, n_clients: int = 20,
                    clients_per_round: int = 5, local_epochs: int = 2, alpha: float = 100.0) -> Explorer:
    """Clients, clients per round, local epochs and label skew against FedAvg's accuracy and traffic.

    Every move retrains: ``FEDAVG_ROUNDS`` rounds of FedAvg on digits (``data`` is
    ``datasets.digits()``), B = 10, lr = 0.1 — the vectorised simulator makes that well under a
    second. α is the Dirichlet concentration: 100 is close to IID, 0.1 gives each client few digits.
    """
    X, X_test, y, y_test = datasets.digits() if data is None else data
    controls = {
        "n_clients": slider(w.IntSlider, _("clients K"), value=n_clients, min=2, max=100),
        "clients_per_round": slider(w.IntSlider, _("clients per round C·K"), value=clients_per_round, min=1,
                                    max=100),
        "local_epochs": slider(w.IntSlider, _("local epochs E"), value=local_epochs, min=1, max=5),
        "alpha": slider(w.FloatLogSlider, _("label skew α"), value=alpha, base=10, min=-1,
                        max=2, step=0.1, tooltip=_("small α: each client holds few of the labels (non-IID)")),
    }

    def compute(n_clients: int, clients_per_round: int, local_epochs: int, alpha: float) -> list:
        per_round = min(clients_per_round, n_clients)   # the sliders may cross: C·K ≤ K
        return fl.fedavg_on_partition(models.mlp(64, 10), X, y, n_clients=n_clients, alpha=alpha,
                                      rounds=FEDAVG_ROUNDS, clients_per_round=per_round,
                                      local_epochs=local_epochs, batch_size=10, lr=0.1,
                                      eval_data=(X_test, y_test), rng=0, progress=False).history

    def build(history: list, n_clients: int, clients_per_round: int, local_epochs: int,
              alpha: float) -> go.Figure:
        per_round = min(clients_per_round, n_clients)
        return fedavg_progress(history, title=f"K = {n_clients}, C·K = {per_round}, "
                                              f"E = {local_epochs}, α = {number(alpha, 2)}: ")

    return Explorer(controls, compute, build)


EXPLORERS: dict[str, Callable[..., Explorer]] = {"fedavg": fedavg_explorer}
