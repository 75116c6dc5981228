"""Lesson for notebooks/02_laplace_vs_gaussian.ipynb: the Laplace and Gaussian mechanisms.

Here: ``compare_mechanisms``, ``gaussian_privacy_loss`` (δ as the tail of the privacy loss), the
exercise checkers 02.1–02.5, the mechanism explorer and its figures, and ``staged``, the hints
that reveal one more step per wrong try (notebooks 03 and 04 use it too).
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Callable
from typing import Any

import ipywidgets as w
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy import special

from leptonkit import dp
from leptonkit._checks import check_int, check_real
from leptonkit.exercises import NotYet, close_to, exercise, unchecked
from leptonkit.i18n import N_, _
from leptonkit.plots import GAUSSIAN_COLOUR, LAPLACE_COLOUR, NEUTRAL_COLOUR, finish, number, reference_line
from leptonkit.widgets import Explorer, slider

__all__ = ["EXPLORERS", "MAX_POINTS", "attack_success", "compare_mechanisms", "gaussian_privacy_loss",
           "mechanism_comparison", "mechanism_explorer", "noise_per_coordinate", "privacy_loss_figure",
           "samples_against_density", "staged"]

MAX_POINTS = 100_001   # compare_mechanisms: grid points of the density curves (a figure, not a table)


def compare_mechanisms(*, sensitivity: float, epsilon: float, delta: float,
                       points: int = 401) -> dict[str, Any]:
    """Laplace (ε-DP) and Gaussian ((ε, δ)-DP, analytic σ) side by side, for one query.

    Returns the two noise scales, their densities on a common grid, the expected absolute
    error and 95 % error bound of a published value, and the probability that an observer who
    sees one output guesses right which of two neighbouring datasets produced it (the best
    test's success, (1 + total variation)/2, with even prior odds). ``points`` is the number of
    grid points of the densities, an int in [11, 100 001]; Δ, ε and δ as in :mod:`leptonkit.dp`.
    """
    delta_f = check_real(sensitivity, "sensitivity", low=0.0, low_open=True)
    eps = check_real(epsilon, "epsilon", low=0.0, low_open=True)
    points = check_int(points, "points", low=11, high=MAX_POINTS)
    b = dp.laplace_scale(delta_f, eps)
    sigma = dp.gaussian_sigma(sensitivity=delta_f, epsilon=eps, delta=delta)
    x = np.linspace(-1, 1, points) * 4 * max(b * 1.5, sigma)
    return {
        "x": x,
        "laplace_scale": b,
        "gaussian_sigma": sigma,
        "laplace_density": np.exp(-np.abs(x) / b) / (2 * b),
        "gaussian_density": np.exp(-0.5 * (x / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi)),
        "laplace_mean_abs_error": b,
        "gaussian_mean_abs_error": sigma * math.sqrt(2 / math.pi),
        "laplace_error_95": b * math.log(20),
        "gaussian_error_95": 1.959963984540054 * sigma,
        "laplace_guess_probability": (2 - math.exp(-delta_f / (2 * b))) / 2,
        "gaussian_guess_probability": float(special.ndtr(delta_f / (2 * sigma))),
    }


# --- hints that reveal a little at a time -------------------------------------------------------

_WRONG_TRIES: Counter = Counter()
_ORDINALS = (N_("Second hint: {hint}"), N_("Third hint: {hint}"), N_("Fourth hint: {hint}"),
             N_("Fifth hint: {hint}"))


def staged(exercise_id: str, *later_hints: str) -> Callable[[Callable[[Any], bool]], Callable[[Any], bool]]:
    """Give ``later_hints`` one at a time: the second wrong try shows the first of them, and so on.

    The hint registered with :func:`leptonkit.exercises.exercise` points the way and is shown
    every time; the later ones come only to a learner still stuck (a formula, never the whole
    call). Wrap the checker below ``@exercise``; at most four later hints, each marked with
    ``leptonkit.i18n.N_`` (they are translated when shown).
    """
    if len(later_hints) > len(_ORDINALS):
        raise ValueError(f"later_hints must be at most {len(_ORDINALS)}, got {len(later_hints)}")

    def wrap(is_correct: Callable[[Any], bool]) -> Callable[[Any], bool]:
        @functools.wraps(is_correct)
        def checker(answer: Any) -> bool:
            try:
                if is_correct(answer):
                    return True
                reason = ""
            except NotYet as why:
                reason = str(why)
            except Exception as error:   # an answer that cannot be checked is a wrong try too
                reason = unchecked(error)
            _WRONG_TRIES[exercise_id] += 1
            shown = later_hints[:_WRONG_TRIES[exercise_id] - 1]
            more = " ".join(_(_ORDINALS[i]).format(hint=_(hint)) for i, hint in enumerate(shown))
            raise NotYet(" ".join(part for part in (reason, more) if part))
        return checker
    return wrap


# --- exercises -----------------------------------------------------------------------------


@exercise("02.1", hint=N_("One customer can join or leave (add/remove, the kit's relation): how far can "
                          "that move a sum of values clipped to [lower, upper]?"))
@staged("02.1", N_("Adding one value v from [lower, upper] moves the sum by |v|; the worst v is at a bound."))
def _clipped_sum_sensitivity(answer: Any) -> bool:
    return close_to(answer, 20_000.0, rel=1e-9)


@exercise("02.2", hint=N_("Write down P[|X| > t] for Laplace noise X of scale b, and what b is here."))
@staged("02.2", N_("P[|X| > t] = exp(−t/b) with b = Δ/ε."))
def _laplace_tail(answer: Any) -> bool:
    return close_to(answer, math.exp(-5 / dp.laplace_scale(1.0, 0.5)), rel=0.01)


@exercise("02.3", hint=N_("Set the explorer's Δ to 1 and move ε until the Laplace bar reads 60 %."))
@staged("02.3", N_("The Laplace observer is right with probability 1 − exp(−ε/2)/2 at Δ = 1: solve it "
                   "for 0.6."))
def _largest_epsilon_for_sixty_percent(answer: Any) -> bool:
    return close_to(answer, 2 * math.log(1.25), rel=0.01)


@exercise("02.4", hint=N_("The kit's dp module has a function that returns both mechanisms' standard "
                          "deviation per count for a list of d."))
@staged("02.4", N_("Laplace: √2·d/ε per count (L1 sensitivity d); Gaussian: the analytic σ for Δ₂ = √d. "
                   "Divide the first by the second."))
def _laplace_over_gaussian_at_50(answer: Any) -> bool:
    noise = dp.per_coordinate_noise_std([50], epsilon=1.0, delta=1e-5)
    return close_to(answer, float(noise["laplace"][0] / noise["gaussian"][0]), rel=0.02)


HISTOGRAM_EDGES = (18, 30, 40, 50, 60, 70, 80, 91)   # 02.5: seven age bins covering 18–90
_HISTOGRAM_TRIALS = 2000


def _discrete_laplace_variance(epsilon: float) -> float:
    """Variance of P[k] ∝ exp(−ε|k|): 2e^−ε/(1 − e^−ε)²."""
    r = math.exp(-epsilon)
    return 2 * r / (1 - r) ** 2


@exercise("02.5", hint=N_("Each customer has one age, so falls in exactly one bin: what is the L1 "
                          "sensitivity of the whole vector of counts under add/remove?"))
@staged("02.5", N_("Count with np.histogram(values, bins=edges), then add integer noise to every count "
                   "at once with the geometric mechanism and Δ = 1 (ε-DP for the whole vector, by "
                   "parallel composition)."),
        N_("dp.geometric_mechanism takes an array of counts, epsilon, sensitivity and rng."))
def _private_histogram(answer: Any) -> bool:
    if not callable(answer):
        raise NotYet(_("answer a function private_histogram(values, edges, epsilon, rng), not "
                       "{kind}.").format(kind=type(answer).__name__))
    ages = np.arange(18, 91).repeat(10)                 # ten people of every age: true counts known
    truth, _edges = np.histogram(ages, bins=HISTOGRAM_EDGES)
    rng = np.random.default_rng(2025)
    noise = np.array([np.asarray(answer(ages, HISTOGRAM_EDGES, 1.0, rng), dtype=float) - truth
                      for _trial in range(_HISTOGRAM_TRIALS)])
    if noise.shape != (_HISTOGRAM_TRIALS, truth.size):
        raise NotYet(_("the function must return one count per bin ({bins} bins), got shape "
                       "{shape}.").format(bins=truth.size, shape=noise.shape[1:]))
    # at ε = 1 and Δ = 1 the noise variance is 1.84 (integer, geometric) or 2 (Laplace, 2Δ²/ε²)
    expected, continuous = _discrete_laplace_variance(1.0), 2.0
    measured = float(noise.var())
    # the variance of 14 000 Laplace-tailed draws (kurtosis 6) has relative standard error
    # √(5/14 000) = 1.9 %: ±8 % is more than four standard errors
    if measured < expected * 0.92:
        raise NotYet(_("the noise has variance {measured:.3g}, less than ε = 1 with Δ = 1 needs "
                       "({expected:.3g}): not private enough.").format(measured=measured, expected=expected))
    if measured > continuous * 1.08:
        raise NotYet(_("the noise has variance {measured:.3g}, more than ε = 1 with Δ = 1 needs "
                       "({expected:.3g}): each person is in one bin, so Δ₁ = 1, not the number of "
                       "bins.").format(measured=measured, expected=expected))
    if abs(float(noise.mean())) > 4 * math.sqrt(expected / noise.size):
        raise NotYet(_("the counts are off by {offset:+.3g} on average: add noise, do not shift or clip "
                       "the counts.").format(offset=float(noise.mean())))
    return True


# --- δ as the tail of the privacy loss --------------------------------------------------------


def gaussian_privacy_loss(*, noise_multiplier: float, epsilon: float, points: int = 801) -> dict[str, Any]:
    """The privacy-loss distribution of the Gaussian mechanism, and δ(ε) read off it.

    For N(0, (zΔ)²) noise and neighbours one sensitivity apart, the privacy loss
    L = ln(p(o)/p′(o)) at an output o drawn from p is N(μ²/2, μ²) with μ = 1/z (Balle & Wang
    2018, Lemma 3; Dong, Roth & Su 2022, §2.3). The mechanism is (ε, δ)-DP exactly for
    δ(ε) = E[(1 − e^(ε − L))₊] (Balle & Wang 2018, Thm 5): the mass of the loss beyond ε,
    each bit weighted by how far beyond it is. P[L > ε] is larger; requiring it to be at most
    δ is *probabilistic* DP, a stronger notion. ``noise_multiplier`` in [0.05, 100], ε in
    [0, 50], ``points`` an int in [11, 100 001].
    """
    z = check_real(noise_multiplier, "noise_multiplier", low=0.05, high=100.0)
    eps = check_real(epsilon, "epsilon", low=0.0, high=50.0)
    points = check_int(points, "points", low=11, high=MAX_POINTS)
    mu = 1.0 / z
    mean, sd = mu * mu / 2, mu
    loss = np.linspace(mean - 6 * sd, mean + 6 * sd, points)
    density = np.exp(-0.5 * ((loss - mean) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))
    weight = np.where(loss > eps, -np.expm1(np.minimum(eps - loss, 0.0)), 0.0)
    return {
        "loss": loss, "density": density, "weighted_density": density * weight, "epsilon": eps,
        "noise_multiplier": z,
        "delta": dp.gaussian_delta(epsilon=eps, sigma=z, sensitivity=1.0),
        "tail_probability": float(special.ndtr((mean - eps) / sd)),
    }


# --- figures -------------------------------------------------------------------------------


_MECHANISM_NAMES = {"laplace": N_("Laplace"), "gaussian": N_("Gaussian")}


def mechanism_comparison(result: dict, *, epsilon: float, delta: float, sensitivity: float) -> go.Figure:
    """Laplace against Gaussian for one query: noise densities, errors, and an observer's odds.

    ``result`` is :func:`compare_mechanisms`. Three panels, six traces, always.
    """
    fig = make_subplots(rows=1, cols=3, column_widths=[0.5, 0.25, 0.25], horizontal_spacing=0.08,
                        subplot_titles=(_("noise added to a published value"), _("typical error"),
                                        _("an observer's best guess")))
    names = {"laplace": _("Laplace, b = {b:.3g}").format(b=result["laplace_scale"]),
             "gaussian": _("Gaussian, σ = {sigma:.3g}").format(sigma=result["gaussian_sigma"])}
    for key, colour in (("laplace", LAPLACE_COLOUR), ("gaussian", GAUSSIAN_COLOUR)):
        fig.add_trace(go.Scatter(x=result["x"], y=result[f"{key}_density"], name=names[key],
                                 line={"color": colour, "width": 2.5}, legendgroup=key), row=1, col=1)
    for key, colour in (("laplace", LAPLACE_COLOUR), ("gaussian", GAUSSIAN_COLOUR)):
        fig.add_trace(go.Bar(x=[_("mean"), _("95 % below")],
                             y=[result[f"{key}_mean_abs_error"], result[f"{key}_error_95"]],
                             marker_color=colour, showlegend=False, legendgroup=key,
                             texttemplate="%{y:.3g}", textposition="outside"), row=1, col=2)
    for key, colour in (("laplace", LAPLACE_COLOUR), ("gaussian", GAUSSIAN_COLOUR)):
        p = result[f"{key}_guess_probability"]
        fig.add_trace(go.Bar(x=[_(_MECHANISM_NAMES[key])], y=[p], marker_color=colour, showlegend=False,
                             texttemplate="%{y:.1%}", textposition="outside"), row=1, col=3)
    reference_line(fig, 0.5, _("coin flip"), position="middle outside", row=1, col=3)
    fig.update_yaxes(range=[0.45, 1.05], tickformat=".0%", row=1, col=3)
    fig.update_xaxes(title_text=_("noise"), row=1, col=1)
    fig.update_yaxes(rangemode="tozero", row=1, col=2)
    fig.update_layout(barmode="group")
    return finish(fig, height=430, legend=True, margin={"t": 90, "r": 80},
                  title=f"ε = {number(epsilon)}, δ = {number(delta)}, Δ = {number(sensitivity)}")


# Titles the notebook passes in: the builder shows them through _(), so they are catalogued here.
_NOTEBOOK_TITLES = (N_("20 000 draws of dp.laplace_mechanism at ε = 0.5, Δ = 1"),
                    N_("the differencing attack against noisy counts"))


def samples_against_density(samples: np.ndarray, x: np.ndarray, density: np.ndarray, *,
                            title: str = "") -> go.Figure:
    """A histogram of samples (as a density) under the curve they should follow."""
    fig = go.Figure()
    fig.add_trace(go.Histogram(x=samples, histnorm="probability density", name=_("samples"),
                               marker_color=NEUTRAL_COLOUR, xbins={"size": (x[-1] - x[0]) / 80}))
    fig.add_trace(go.Scatter(x=x, y=density, name=_("the distribution promised"),
                             line={"color": LAPLACE_COLOUR, "width": 2.5}))
    fig.update_layout(xaxis_title=_("noise"))
    return finish(fig, height=360, title=_(title) if title else "", legend=True, margin={"t": 50})


def noise_per_coordinate(result: dict) -> go.Figure:
    """Per-coordinate noise of Laplace and Gaussian as the number of released counts grows.

    ``result`` is :func:`leptonkit.dp.per_coordinate_noise_std`.
    """
    fig = go.Figure()
    for key, colour in (("laplace", LAPLACE_COLOUR), ("gaussian", GAUSSIAN_COLOUR)):
        fig.add_trace(go.Scatter(x=result["dimensions"], y=result[key], name=_(_MECHANISM_NAMES[key]),
                                 line={"color": colour, "width": 2.5}))
    fig.update_layout(xaxis={"type": "log", "title": _("d, counts released together")},
                      yaxis={"type": "log", "title": _("noise standard deviation")})
    return finish(fig, height=420, legend=True, margin={"t": 50},
                  title=_("one person changes each of d counts by one: noise per count"))


def attack_success(labels: list[str], rates: list[float], bounds: list[float], *,
                   title: str = "") -> go.Figure:
    """An attack's measured success rate per setting, beside what differential privacy allows."""
    fig = go.Figure()
    fig.add_trace(go.Bar(x=labels, y=rates, name=_("attacker's success (measured)"),
                         marker_color=GAUSSIAN_COLOUR, texttemplate="%{y:.1%}", textposition="outside"))
    fig.add_trace(go.Scatter(x=labels, y=bounds, name=_("most that ε allows"), mode="markers+lines",
                             line={"color": "black", "dash": "dot"}))
    reference_line(fig, 0.5, _("coin flip"), position="middle outside")
    fig.update_layout(yaxis={"range": [0.4, 1.08], "tickformat": ".0%"})
    return finish(fig, height=380, title=_(title) if title else "", legend=True, margin={"t": 50, "r": 80})


def privacy_loss_figure(result: dict) -> go.Figure:
    """The privacy-loss density, its part beyond ε, and the part δ counts (:func:`gaussian_privacy_loss`)."""
    eps = result["epsilon"]
    beyond = result["loss"] > eps
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=result["loss"], y=result["density"], name=_("density of the privacy loss L"),
                             line={"color": "#777777", "width": 2}))
    fig.add_trace(go.Scatter(x=result["loss"][beyond], y=result["density"][beyond], fill="tozeroy",
                             name=_("P[L > ε] = {p:.2e} (probabilistic DP)").format(
                                 p=result["tail_probability"]),
                             line={"color": LAPLACE_COLOUR, "width": 0}, fillcolor="rgba(0,114,178,0.3)"))
    fig.add_trace(go.Scatter(x=result["loss"][beyond], y=result["weighted_density"][beyond], fill="tozeroy",
                             name=f"δ(ε) = E[(1 − e^(ε−L))₊] = {result['delta']:.2e}",
                             line={"color": GAUSSIAN_COLOUR, "width": 0}, fillcolor="rgba(213,94,0,0.6)"))
    reference_line(fig, eps, f"ε = {number(eps)}", axis="x", position="top right", colour="black")
    fig.update_layout(xaxis_title=_("privacy loss L = ln(p(o) / p′(o))"), yaxis={"type": "log",
                                                                                "range": [-8, 0.5]})
    return finish(fig, height=380, legend=True, margin={"t": 50},
                  title=_("Gaussian mechanism, noise multiplier z = {z:.3g}").format(
                      z=result["noise_multiplier"]))


# --- explorer: Laplace against Gaussian -------------------------------------------------------


def mechanism_explorer(epsilon: float = 1.0, delta: float = 1e-5, sensitivity: float = 1.0) -> Explorer:
    """ε, δ and Δ against both mechanisms' noise, error, and an observer's odds of guessing.

    The starting values must lie on the sliders: ε in [0.01, 10], δ in [1e-10, 0.01], Δ in [0.5, 10].
    """
    epsilon = check_real(epsilon, "epsilon", low=0.01, high=10.0)
    delta = check_real(delta, "delta", low=1e-10, high=1e-2)
    sensitivity = check_real(sensitivity, "sensitivity", low=0.5, high=10.0)
    controls = {
        "epsilon": slider(w.FloatLogSlider, _("ε (privacy loss)"), value=epsilon, base=10, min=-2,
                          max=1, step=0.05),
        "delta": slider(w.FloatLogSlider, _("δ (Gaussian only)"), value=delta, base=10, min=-10,
                        max=-2, step=0.5, readout_format=".0e"),
        "sensitivity": slider(w.FloatSlider, _("Δ (sensitivity)"), value=sensitivity, min=0.5,
                              max=10.0, step=0.5),
    }

    def compute(epsilon: float, delta: float, sensitivity: float) -> dict:
        return compare_mechanisms(sensitivity=sensitivity, epsilon=epsilon, delta=delta)

    return Explorer(controls, compute, mechanism_comparison)


EXPLORERS: dict[str, Callable[..., Explorer]] = {"mechanism": mechanism_explorer}
