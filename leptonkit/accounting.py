"""The privacy budget: composition theorems, Opacus's accountants, and a ledger that says no.

``PrivacyAccountant`` is the ledger a data owner keeps: each release spends (ε, δ) and a spend
that would exceed the budget is refused with ``PrivacyBudgetExceeded``, leaving the ledger as
it was. The composition functions say what k releases cost together; ``dpsgd_epsilon`` and
``gaussian_composition_epsilon`` ask Opacus's RDP and PRV accountants (no RDP is written here).
Neighbours: ``dp`` (the mechanisms that spend), ``dpsgd`` (training that spends).

References
----------
C. Dwork, G. Rothblum and S. Vadhan, *Boosting and Differential Privacy*, FOCS 2010.
I. Mironov, *Rényi Differential Privacy*, CSF 2017.
S. Gopi, Y. T. Lee and L. Wutschitz, *Numerical Composition of Differential Privacy*, NeurIPS 2021 (PRV).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from opacus.accountants import RDPAccountant, create_accountant
from opacus.accountants.analysis import rdp as opacus_rdp
from opacus.accountants.utils import get_noise_multiplier

from ._checks import check_int, check_real
from .audit import AuditLog
from .errors import PrivacyBudgetExceeded

__all__ = [
    "ACCOUNTANTS",
    "PrivacyAccountant",
    "PrivacyBudgetExceeded",
    "Spend",
    "advanced_composition",
    "basic_composition",
    "composition_curves",
    "dpsgd_epsilon",
    "dpsgd_epsilon_curve",
    "gaussian_composition_epsilon",
    "noise_multiplier_for_epsilon",
]

ACCOUNTANTS = ("rdp", "prv")
# Opacus's default RDP orders, extended upwards: many small-ε queries are best bounded at high
# orders, and Opacus warns (and loosens the bound) when the best order is the largest one.
_COMPOSITION_ORDERS = [*RDPAccountant.DEFAULT_ALPHAS, 80, 96, 128, 192, 256, 384, 512, 768, 1024, 2048]
_TOLERANCE = 1e-9  # relative: ten spends of 0.1 fit a budget of 1.0 despite binary rounding


@dataclass(frozen=True)
class Spend:
    """One line of the ledger."""

    label: str
    epsilon: float
    delta: float


class PrivacyAccountant:
    """A privacy budget (ε, δ) and the ledger of what has been spent from it (basic composition).

    With ``audit_log``, the budget, every spend and every refused attempt are also written to
    that :class:`~leptonkit.audit.AuditLog`, before the ledger changes.

    Example
    -------
    >>> budget = PrivacyAccountant(1.0, 1e-5)
    >>> budget.spend(0.4, label="mean balance")
    >>> budget.remaining
    (0.6, 1e-05)
    """

    def __init__(self, epsilon: float, delta: float = 0.0, *, audit_log: AuditLog | None = None,
                 actor: str = "privacy-accountant"):
        self.epsilon = check_real(epsilon, "epsilon", low=0.0, low_open=True)
        self.delta = check_real(delta, "delta", low=0.0, high=1.0, high_open=True)
        self._history: list[Spend] = []
        self._log, self._actor = audit_log, actor
        if audit_log is not None:
            audit_log.append(actor=actor, action="privacy_budget",
                             details={"epsilon": self.epsilon, "delta": self.delta})

    def spend(self, epsilon: float, delta: float = 0.0, *, label: str) -> None:
        """Record a release costing (ε, δ); refuse it, changing nothing, if it exceeds the budget.

        Raises
        ------
        PrivacyBudgetExceeded
            If the total would exceed the budget; the ledger is left exactly as it was.
        ValueError, TypeError
            For ε ≤ 0, δ outside [0, 1), or a label that is not a non-empty string.
        """
        eps = check_real(epsilon, "epsilon", low=0.0, low_open=True)
        dlt = check_real(delta, "delta", low=0.0, high=1.0, high_open=True)
        if not isinstance(label, str) or not label.strip():
            raise TypeError("label must be a non-empty string saying what the spend is for")
        spent_eps, spent_delta = self.spent
        new_eps, new_delta = math.fsum([spent_eps, eps]), math.fsum([spent_delta, dlt])
        details = {"label": label, "epsilon": eps, "delta": dlt}
        if new_eps > self.epsilon * (1 + _TOLERANCE) or new_delta > self.delta * (1 + _TOLERANCE):
            if self._log is not None:  # the refusal is an event worth proving
                self._log.append(actor=self._actor, action="privacy_spend_refused", details=details)
            raise PrivacyBudgetExceeded(
                f"{label!r} needs (ε={eps:g}, δ={dlt:g}) but only (ε={max(self.epsilon - spent_eps, 0):g}, "
                f"δ={max(self.delta - spent_delta, 0):g}) of the budget (ε={self.epsilon:g}, "
                f"δ={self.delta:g}) remains; nothing was spent")
        if self._log is not None:  # logged first: if the log cannot be written, nothing is spent
            self._log.append(actor=self._actor, action="privacy_spend",
                             details={**details, "total_epsilon": new_eps, "total_delta": new_delta})
        self._history.append(Spend(label=label, epsilon=eps, delta=dlt))

    @property
    def spent(self) -> tuple[float, float]:
        """Total (ε, δ) spent so far, by basic composition."""
        return (math.fsum(s.epsilon for s in self._history), math.fsum(s.delta for s in self._history))

    @property
    def remaining(self) -> tuple[float, float]:
        """The (ε, δ) still available."""
        eps, dlt = self.spent
        return (max(self.epsilon - eps, 0.0), max(self.delta - dlt, 0.0))

    @property
    def history(self) -> list[Spend]:
        """Every accepted spend, oldest first (a copy: the ledger cannot be edited through it)."""
        return list(self._history)

    def __repr__(self) -> str:
        eps, dlt = self.spent
        return (f"PrivacyAccountant(budget=(ε={self.epsilon:g}, δ={self.delta:g}), "
                f"spent=(ε={eps:g}, δ={dlt:g}), {len(self._history)} spends)")


# --- composition theorems -----------------------------------------------------------------


def basic_composition(epsilon: float, delta: float, k: int) -> tuple[float, float]:
    """k mechanisms, each (ε, δ)-DP, are together (kε, kδ)-DP (Dwork & Roth 2014, Thm 3.16)."""
    eps = check_real(epsilon, "epsilon", low=0.0, low_open=True)
    dlt = check_real(delta, "delta", low=0.0, high=1.0, high_open=True)
    k = check_int(k, "k", low=1)
    return k * eps, k * dlt


def advanced_composition(epsilon: float, delta: float, k: int, *,
                         delta_prime: float) -> tuple[float, float]:
    """k-fold adaptive composition of (ε, δ)-DP mechanisms (Dwork, Rothblum & Vadhan 2010).

    For any δ' > 0 the composition is (ε', kδ + δ')-DP with
    ε' = √(2k ln(1/δ'))·ε + kε(e^ε − 1)  (Dwork & Roth 2014, Theorem 3.20).
    """
    eps = check_real(epsilon, "epsilon", low=0.0, low_open=True)
    dlt = check_real(delta, "delta", low=0.0, high=1.0, high_open=True)
    k = check_int(k, "k", low=1)
    dp_ = check_real(delta_prime, "delta_prime", low=0.0, high=1.0, low_open=True, high_open=True)
    return (math.sqrt(2 * k * math.log(1 / dp_)) * eps + k * eps * math.expm1(eps),
            k * dlt + dp_)


# --- Opacus accountants ------------------------------------------------------------------------


def _accountant_name(accountant: Any) -> str:
    if accountant not in ACCOUNTANTS:
        raise ValueError(f"accountant must be one of {ACCOUNTANTS}, got {accountant!r}")
    return accountant


def _dpsgd_args(noise_multiplier: Any, sample_rate: Any, steps: Any, delta: Any):
    return (check_real(noise_multiplier, "noise_multiplier", low=0.0, low_open=True),
            check_real(sample_rate, "sample_rate", low=0.0, high=1.0, low_open=True),
            check_int(steps, "steps", low=1),
            check_real(delta, "delta", low=0.0, high=1.0, low_open=True, high_open=True))


def dpsgd_epsilon(*, noise_multiplier: float, sample_rate: float, steps: int, delta: float,
                  accountant: str = "rdp") -> float:
    """ε of DP-SGD (Poisson-subsampled Gaussian) after ``steps`` steps, from Opacus's accountant.

    ``noise_multiplier`` is σ/C (noise over clipping norm), ``sample_rate`` the probability q
    that a record is in a batch. ``accountant`` is ``"rdp"`` (Mironov 2017) or ``"prv"``
    (Gopi et al. 2021, tighter).
    """
    sigma, q, steps, dlt = _dpsgd_args(noise_multiplier, sample_rate, steps, delta)
    acct = create_accountant(mechanism=_accountant_name(accountant))
    acct.history = [(sigma, q, steps)]
    return float(acct.get_epsilon(delta=dlt))


def dpsgd_epsilon_curve(*, noise_multiplier: float, sample_rate: float, steps: Sequence[int],
                        delta: float) -> np.ndarray:
    """:func:`dpsgd_epsilon` (RDP) after each of several step counts, at the cost of one.

    RDP composes linearly, so Opacus's per-step RDP is computed once and scaled; each entry
    equals Opacus's ``RDPAccountant`` after that many steps.
    """
    sigma, q, _, dlt = _dpsgd_args(noise_multiplier, sample_rate, 1, delta)
    counts = [check_int(s, "steps", low=1) for s in steps]
    orders = RDPAccountant.DEFAULT_ALPHAS
    one_step = np.asarray(opacus_rdp.compute_rdp(q=q, noise_multiplier=sigma, steps=1, orders=orders))
    return np.array([opacus_rdp.get_privacy_spent(orders=orders, rdp=one_step * s, delta=dlt)[0]
                     for s in counts])


def noise_multiplier_for_epsilon(*, target_epsilon: float, sample_rate: float, steps: int,
                                 delta: float, accountant: str = "rdp") -> float:
    """The smallest noise multiplier (to Opacus's tolerance 0.01 in ε) whose DP-SGD ε ≤ target."""
    eps = check_real(target_epsilon, "target_epsilon", low=0.0, low_open=True)
    _, q, steps, dlt = _dpsgd_args(1.0, sample_rate, steps, delta)
    with warnings.catch_warnings():  # the search visits tiny σ whose best RDP order is the largest
        warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")
        return float(get_noise_multiplier(target_epsilon=eps, target_delta=dlt, sample_rate=q,
                                          steps=steps, accountant=_accountant_name(accountant)))


def gaussian_composition_epsilon(*, noise_multiplier: float, k: int, delta: float,
                                 accountant: str = "rdp") -> float:
    """ε of k Gaussian queries, each with noise σ = noise_multiplier · Δ₂, composed by Opacus."""
    return dpsgd_epsilon(noise_multiplier=noise_multiplier, sample_rate=1.0, steps=k, delta=delta,
                         accountant=accountant)


def composition_curves(*, epsilon: float, k_max: int, delta_per_query: float = 1e-7,
                       delta_prime: float = 1e-6) -> dict[str, np.ndarray]:
    """Total ε after k = 1 … k_max Gaussian queries, each (ε, δ₀)-DP, by three accountings.

    Each query adds Gaussian noise calibrated (analytic) to be (ε, δ₀)-DP on its own. Then:
    basic composition (kε, kδ₀); advanced composition at δ' (total δ = kδ₀ + δ'); and RDP
    (Opacus's analysis of the same Gaussian noise) reported at that same total δ, so advanced
    and RDP are compared at equal δ. Returns arrays ``k``, ``basic``, ``advanced``, ``rdp``.
    """
    from .dp import gaussian_sigma  # the per-query calibration lives with the mechanisms

    eps = check_real(epsilon, "epsilon", low=0.0, low_open=True)
    k_max = check_int(k_max, "k_max", low=1, high=100_000)
    d0 = check_real(delta_per_query, "delta_per_query", low=0.0, high=1.0, low_open=True, high_open=True)
    dp_ = check_real(delta_prime, "delta_prime", low=0.0, high=1.0, low_open=True, high_open=True)
    k = np.unique(np.geomspace(1, k_max, num=min(k_max, 60)).round().astype(int))
    z = gaussian_sigma(sensitivity=1.0, epsilon=eps, delta=d0)
    orders = _COMPOSITION_ORDERS
    one_step = np.asarray(opacus_rdp.compute_rdp(q=1.0, noise_multiplier=z, steps=1, orders=orders))
    rdp = [opacus_rdp.get_privacy_spent(orders=orders, rdp=one_step * n, delta=min(n * d0 + dp_, 0.5))[0]
           for n in k]
    advanced = [advanced_composition(eps, d0, int(n), delta_prime=dp_)[0] for n in k]
    return {"k": k, "basic": k * eps, "advanced": np.array(advanced), "rdp": np.array(rdp),
            "noise_multiplier": z}
