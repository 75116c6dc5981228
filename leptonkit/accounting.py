"""The privacy budget: composition theorems, tight accountants, and a ledger that says no.

:class:`PrivacyAccountant` is the ledger a data owner keeps. Every releasing function in the kit
takes ``accountant=``: it describes what it releases as a :class:`PrivacyCost`, the ledger
refuses it *before* anything is computed when the budget cannot cover it
(``PrivacyBudgetExceeded``), and books it after. With an audit log the ledger persists:
:meth:`PrivacyAccountant.resume` rebuilds it from a verified log after a restart.
The composition functions say what k releases cost together; ``dpsgd_epsilon`` asks Opacus's
RDP and PRV accountants. Neighbours: ``dp``, ``dpsgd`` and ``fl`` (what spends), ``audit``.

How the ledger composes
-----------------------
``composition="pld"`` (the default) composes the spends' privacy-loss distributions with Google's
dp-accounting library: Gaussian and Poisson-subsampled Gaussian spends by their exact PLDs,
discrete-Laplace spends (the kit's Laplace and geometric mechanisms) exactly, any other ε-DP
spend as binary randomized response (the worst ε-DP mechanism, Kairouz, Oh & Viswanath 2015)
and an (ε, δ) spend by its worst-case PLD. It is chosen over Opacus's accountants because it
composes *different* mechanisms in one ledger (Opacus's RDP and PRV accountants know only the
subsampled Gaussian) and is tighter than RDP. The ledger reports whichever of the PLD bound
(at the budget's δ) and basic composition is smaller; both are valid, so the minimum is too.
``composition="basic"`` adds up (ε, δ) and nothing else: the teaching baseline.
Releases over disjoint parts of the data (one per region) compose in parallel inside
``with accountant.parallel(label):``, which charges only the largest of them.

References
----------
C. Dwork and A. Roth, *The Algorithmic Foundations of Differential Privacy*, 2014 (Thm 3.16, 3.20).
C. Dwork, G. Rothblum and S. Vadhan, *Boosting and Differential Privacy*, FOCS 2010.
P. Kairouz, S. Oh and P. Viswanath, *The Composition Theorem for Differential Privacy*, ICML 2015.
I. Mironov, *Rényi Differential Privacy*, CSF 2017.
S. Meiser and E. Mohammadi, *Tight on Budget? Tight Bounds for r-Fold Approximate Differential
Privacy*, CCS 2018 (privacy-loss distributions); Google, *dp-accounting* (the PLD implementation).
S. Gopi, Y. T. Lee and L. Wutschitz, *Numerical Composition of Differential Privacy*, NeurIPS 2021 (PRV).
M. Bun and T. Steinke, *Concentrated Differential Privacy: Simplifications, Extensions, and Lower
Bounds*, TCC 2016 (zCDP); C. Canonne, G. Kamath and T. Steinke, *The Discrete Gaussian for
Differential Privacy*, NeurIPS 2020 (Cor. 13: zCDP to (ε, δ)).
J. Dong, A. Roth and W. Su, *Gaussian Differential Privacy*, JRSS B 84(1), 2022 (GDP: exact
composition of Gaussian releases, Cor. 2.13 and 3.3).
F. McSherry, *Privacy Integrated Queries*, SIGMOD 2009 (parallel composition).
"""

from __future__ import annotations

import contextlib
import functools
import math
import secrets
import threading
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ._checks import check_int, check_real
from .audit import AuditLog
from .errors import PrivacyBudgetExceeded

__all__ = [
    "ACCOUNTANTS",
    "COMPOSITIONS",
    "GAUSSIAN_ACCOUNTANTS",
    "PrivacyAccountant",
    "PrivacyBudgetExceeded",
    "PrivacyCost",
    "Spend",
    "advanced_composition",
    "basic_composition",
    "charge",
    "composition_curves",
    "dpsgd_epsilon",
    "dpsgd_epsilon_curve",
    "gaussian_composition_epsilon",
    "gdp_epsilon",
    "noise_multiplier_for_epsilon",
    "zcdp_epsilon",
]

ACCOUNTANTS = ("rdp", "prv")
#: How :func:`gaussian_composition_epsilon` may compose k Gaussian releases: exactly (GDP), by
#: dp-accounting's PLD, or by Opacus's PRV or RDP accountant.
GAUSSIAN_ACCOUNTANTS = ("exact", "pld", "prv", "rdp")
_MAX_MU = 1000.0      # gdp_epsilon: μ beyond this gives ε in the tens of thousands
COMPOSITIONS = ("pld", "basic")
_TOLERANCE = 1e-9     # relative: ten spends of 0.1 fit a budget of 1.0 despite binary rounding
_PLD_GRID = 1e-4      # dp-accounting's default discretisation of the privacy loss
_MAX_EPSILON = 700.0      # per release in the composition theorems: e^ε stays a finite double
_MAX_RELEASES = 10**12    # releases composed by a theorem
_PLD_MIN_GAIN = 1e-3  # below a 0.1 % saving the ledger keeps basic composition's smaller δ
_MECHANISMS = ("pure", "approximate", "discrete_laplace", "gaussian", "composed")


# --- what a release costs -----------------------------------------------------------------------


@dataclass(frozen=True)
class PrivacyCost:
    """What one release costs, described finely enough for a tight accountant.

    ``epsilon`` and ``delta`` are the release's own (ε, δ) guarantee, what basic composition
    adds up; the other fields say which mechanism gave it, so that the PLD accountant can
    compose it exactly. Build one with the class methods, not the constructor.
    """

    mechanism: str
    epsilon: float
    delta: float = 0.0
    noise_multiplier: float | None = None   # gaussian: σ/Δ₂; discrete_laplace: the decay a
    sensitivity: int | None = None          # discrete_laplace: Δ in grid steps
    sample_rate: float = 1.0                # gaussian: Poisson sampling rate q
    steps: int = 1                          # gaussian: how many times it is applied
    parts: tuple[PrivacyCost, ...] = ()     # composed: the pieces

    @classmethod
    def pure(cls, epsilon: float) -> PrivacyCost:
        """Any ε-DP release (exponential mechanism, randomized response, a Laplace vector)."""
        return cls("pure", _cost_epsilon(epsilon))

    @classmethod
    def approximate(cls, epsilon: float, delta: float) -> PrivacyCost:
        """Any (ε, δ)-DP release that is described by nothing finer."""
        if delta == 0:
            return cls.pure(epsilon)
        return cls("approximate", _cost_epsilon(epsilon),
                   check_real(delta, "delta", low=0.0, high=1.0, high_open=True))

    @classmethod
    def discrete_laplace(cls, *, decay: float, sensitivity: int) -> PrivacyCost:
        """Noise with P[k] ∝ exp(−decay·|k|) on a count that one person moves by ≤ ``sensitivity``."""
        a = check_real(decay, "decay", low=0.0, low_open=True)
        steps = check_int(sensitivity, "sensitivity", low=1, high=2**40)
        return cls("discrete_laplace", a * steps, noise_multiplier=a, sensitivity=steps)

    @classmethod
    def gaussian(cls, noise_multiplier: float, *, epsilon: float, delta: float, sample_rate: float = 1.0,
                 steps: int = 1) -> PrivacyCost:
        """N(0, (zΔ₂)²) noise, on a Poisson sample of rate q, ``steps`` times; (ε, δ) as calibrated."""
        z = check_real(noise_multiplier, "noise_multiplier", low=0.0)
        q = check_real(sample_rate, "sample_rate", low=0.0, high=1.0, low_open=True)
        steps = check_int(steps, "steps", low=1)
        eps = math.inf if z == 0 else _cost_epsilon(epsilon)
        return cls("gaussian", eps, check_real(delta, "delta", low=0.0, high=1.0, high_open=True),
                   noise_multiplier=z, sample_rate=q, steps=steps)

    @classmethod
    def compose(cls, *parts: PrivacyCost) -> PrivacyCost:
        """Several releases booked as one (``dp_mean``'s sum and count)."""
        if not parts or not all(isinstance(p, PrivacyCost) for p in parts):
            raise TypeError("parts must be one or more PrivacyCost")
        return cls("composed", math.fsum(p.epsilon for p in parts), math.fsum(p.delta for p in parts),
                   parts=tuple(parts))

    def as_record(self) -> dict:
        """The cost as JSON-ready data (what the audit log stores)."""
        data = asdict(self)
        data["parts"] = [p.as_record() for p in self.parts]
        if math.isinf(data["epsilon"]):
            data["epsilon"] = "inf"
        return data

    @classmethod
    def from_record(cls, data: Any) -> PrivacyCost:
        """The inverse of :meth:`as_record`; anything malformed raises ``ValueError``."""
        try:
            fields = dict(data)
            parts = tuple(cls.from_record(p) for p in fields.pop("parts", ()))
            if fields.get("epsilon") == "inf":
                fields["epsilon"] = math.inf
            cost = cls(**fields, parts=parts)
        except (TypeError, ValueError, RecursionError):
            raise ValueError("data is not a privacy cost record") from None
        numbers = isinstance(cost.epsilon, (int, float)) and isinstance(cost.delta, (int, float))
        if cost.mechanism not in _MECHANISMS or not numbers or not (cost.epsilon > 0 and 0 <= cost.delta < 1):
            raise ValueError("data is not a privacy cost record")
        return cost


def _cost_epsilon(value: Any, name: str = "epsilon") -> float:
    return check_real(value, name, low=0.0, low_open=True)


@functools.lru_cache(maxsize=256)
def _pld(cost: PrivacyCost) -> Any:
    """The privacy-loss distribution of one cost (dp-accounting, pessimistic estimates)."""
    from dp_accounting.pld import privacy_loss_distribution as pld
    from dp_accounting.pld.common import DifferentialPrivacyParameters

    grid = {"value_discretization_interval": _PLD_GRID}
    if cost.mechanism == "pure":   # binary randomized response: the worst ε-DP pair (Kairouz et al.)
        return pld.from_randomized_response(noise_parameter=2 / (1 + math.exp(min(cost.epsilon, 700))),
                                            num_buckets=2, **grid)
    if cost.mechanism == "approximate":
        return pld.from_privacy_parameters(DifferentialPrivacyParameters(cost.epsilon, cost.delta), **grid)
    if cost.mechanism == "discrete_laplace":
        return pld.from_discrete_laplace_mechanism(parameter=cost.noise_multiplier,
                                                   sensitivity=cost.sensitivity, **grid)
    if cost.mechanism == "gaussian":
        one = pld.from_gaussian_mechanism(standard_deviation=cost.noise_multiplier, sensitivity=1.0,
                                          sampling_prob=cost.sample_rate, **grid)
        return one.self_compose(cost.steps) if cost.steps > 1 else one
    composed = _pld(cost.parts[0])
    for part in cost.parts[1:]:
        composed = composed.compose(_pld(part))
    return composed


def _dominant(costs: list[PrivacyCost]) -> PrivacyCost:
    """One cost that is at least as large as each of ``costs`` (parallel composition)."""
    first = costs[0]
    same = all(c.mechanism == first.mechanism and c.sample_rate == first.sample_rate
               and c.steps == first.steps and c.sensitivity == first.sensitivity and not c.parts
               for c in costs)
    if same and first.mechanism == "gaussian":
        return min(costs, key=lambda c: c.noise_multiplier)
    if same and first.mechanism in ("pure", "discrete_laplace"):
        return max(costs, key=lambda c: c.epsilon)
    return PrivacyCost.approximate(max(c.epsilon for c in costs), max(c.delta for c in costs)) \
        if all(math.isfinite(c.epsilon) for c in costs) else max(costs, key=lambda c: c.epsilon)


# --- the ledger -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spend:
    """One line of the ledger: what was released (``label``), what it cost, and its parallel group."""

    label: str
    cost: PrivacyCost
    group: str | None = None

    @property
    def epsilon(self) -> float:
        return self.cost.epsilon

    @property
    def delta(self) -> float:
        return self.cost.delta


class PrivacyAccountant:
    """A privacy budget (ε, δ) and the ledger of what has been spent from it.

    Parameters
    ----------
    epsilon, delta
        The budget: ε > 0, 0 ≤ δ < 1. Fixed when the accountant is made.
    audit_log
        An :class:`~leptonkit.audit.AuditLog`: the budget, every spend and every refusal are
        written to it *before* the ledger changes, and :meth:`resume` rebuilds the ledger from it.
        A log that already holds this actor's budget is refused: resume it instead.
    actor
        Who keeps the budget (the records' actor).
    composition
        ``"pld"`` (default, tight: see the module docstring) or ``"basic"`` (Σε, Σδ).

    The ledger is safe to share between threads: a check, its log record and the ledger update
    happen under one lock, so concurrent spends never overspend.

    Example
    -------
    >>> budget = PrivacyAccountant(1.0, 1e-5)
    >>> budget.spend(0.4, label="mean balance")
    >>> budget.remaining
    (0.6, 1e-05)
    >>> with budget.parallel("overdrafts per region"):       # disjoint regions: the largest counts
    ...     for region in ("North", "South", "East"):
    ...         budget.spend(0.2, label=f"overdrafts in {region}")
    >>> budget.spent
    (0.6000000000000001, 0.0)
    """

    def __init__(self, epsilon: float, delta: float = 0.0, *, audit_log: AuditLog | None = None,
                 actor: str = "privacy-accountant", composition: str = "pld"):
        budget_epsilon = check_real(epsilon, "epsilon", low=0.0, low_open=True)
        budget_delta = check_real(delta, "delta", low=0.0, high=1.0, high_open=True)
        if not isinstance(composition, str) or composition not in COMPOSITIONS:
            raise ValueError(f"composition must be one of {COMPOSITIONS}, got {composition!r:.40}")
        if audit_log is not None and not isinstance(audit_log, AuditLog):
            raise TypeError(f"audit_log must be a leptonkit.audit.AuditLog or None, "
                            f"got {type(audit_log).__name__}")
        if not isinstance(actor, str) or not actor.strip():
            raise TypeError("actor must be a non-empty string")
        self._setup(budget_epsilon, budget_delta, audit_log, actor, composition)
        if audit_log is not None:
            with audit_log.locked():   # two accountants opening one log at once: one budget wins
                records = audit_log.records()
                if _budget_record(records, actor) is not None:
                    raise ValueError(f"{audit_log.path} already holds a privacy budget kept by {actor!r}: "
                                     f"use PrivacyAccountant.resume(log) to go on with it")
                record = audit_log.append(actor=actor, action="privacy_budget",
                                          details={"epsilon": budget_epsilon, "delta": budget_delta,
                                                   "composition": composition})
            self._seen = record.seq + 1

    def _setup(self, epsilon: float, delta: float, log: AuditLog | None, actor: str,
               composition: str) -> None:
        object.__setattr__(self, "_budget", (epsilon, delta))
        self._history: list[Spend] = []
        self._log, self._actor, self._composition = log, actor, composition
        self._lock = threading.RLock()
        self._local = threading.local()      # the open parallel block, per thread
        self._seen = 0                       # records of the log already folded into the ledger
        self._total_cache: dict[tuple, tuple[float, float]] = {}

    @classmethod
    def resume(cls, audit_log: AuditLog, *, actor: str = "privacy-accountant") -> PrivacyAccountant:
        """The accountant whose budget and spends ``audit_log`` records, as it was when last written.

        The whole chain is verified first, so a tampered log refuses to resume.

        Raises
        ------
        IntegrityError
            If the log does not verify.
        ValueError
            If the log holds no budget kept by ``actor``, or a spend record that cannot be read.
        """
        if not isinstance(audit_log, AuditLog):
            raise TypeError(f"audit_log must be a leptonkit.audit.AuditLog, got {type(audit_log).__name__}")
        records = audit_log.records()
        start = _budget_record(records, actor)
        if start is None:
            raise ValueError(f"{audit_log.path} holds no privacy budget kept by {actor!r}")
        budget = records[start].details
        accountant = cls.__new__(cls)
        try:
            accountant._setup(check_real(budget.get("epsilon"), "epsilon", low=0.0, low_open=True),
                              check_real(budget.get("delta"), "delta", low=0.0, high=1.0, high_open=True),
                              audit_log, actor, budget.get("composition", "basic"))
        except TypeError:
            raise ValueError(f"record {records[start].seq} is not a readable privacy budget") from None
        if accountant._composition not in COMPOSITIONS:
            raise ValueError(f"record {records[start].seq} names an unknown composition")
        accountant._seen = start + 1
        accountant._fold(records)
        return accountant

    def _fold(self, records: Sequence) -> None:
        """Add the spends this actor wrote to the log since the ledger last looked (any process's)."""
        for r in records[self._seen:]:
            if r.actor == self._actor and r.action == "privacy_spend":
                details = r.details
                group = details.get("group")
                if not isinstance(details.get("label"), str) or not (group is None or isinstance(group, str)):
                    raise ValueError(f"record {r.seq} is not a readable privacy spend")
                self._history.append(Spend(details["label"], PrivacyCost.from_record(details.get("cost")),
                                           group))
        self._seen = max(self._seen, len(records))

    @contextmanager
    def _synchronised(self) -> Iterator[None]:
        """The ledger's lock and, with a log, the log's (threads and processes), with the ledger
        brought up to date with what other accountants on the same log have written."""
        with self._lock:
            if self._log is None:
                yield
                return
            with self._log.locked():
                self._fold(self._log.records())
                yield

    # --- the budget is read-only ---------------------------------------------------------------

    @property
    def epsilon(self) -> float:
        """The budget's ε (fixed when the accountant was made)."""
        return self._budget[0]

    @property
    def delta(self) -> float:
        """The budget's δ (fixed when the accountant was made)."""
        return self._budget[1]

    @property
    def composition(self) -> str:
        return self._composition

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("epsilon", "delta", "composition", "_budget"):
            raise AttributeError(f"{name} is fixed when the accountant is made; make a new accountant "
                                 f"(with a new audit log) for a new budget")
        object.__setattr__(self, name, value)

    def __getstate__(self) -> dict:
        raise TypeError("a PrivacyAccountant cannot be pickled: resume it from its audit log instead")

    # --- spending ------------------------------------------------------------------------------

    def check(self, cost: PrivacyCost | float, delta: float = 0.0, *, label: str) -> None:
        """Refuse (``PrivacyBudgetExceeded``, and a refusal record in the log) if ``cost`` does not fit.

        Changes nothing when it fits: :meth:`spend` books it. Releasing functions call this before
        they compute anything.
        """
        spend = self._spend_of(cost, delta, label)
        with self._synchronised():
            self._refuse_unless_fits(spend)

    def spend(self, cost: PrivacyCost | float, delta: float = 0.0, *, label: str) -> None:
        """Book a release; refuse it, changing nothing but the log's refusal record, if it does not fit.

        ``cost`` is a :class:`PrivacyCost` or an ε (with ``delta``) for a release described by
        nothing finer.

        Raises
        ------
        PrivacyBudgetExceeded
            If the total would exceed the budget; the ledger is left exactly as it was.
        ValueError, TypeError
            For ε ≤ 0, δ outside [0, 1), or a label that is not a non-empty string.
        """
        spend = self._spend_of(cost, delta, label)
        with self._synchronised():
            new_eps, new_delta = self._refuse_unless_fits(spend)
            if self._log is None:
                self._history.append(spend)
                return
            try:   # logged first: if the log cannot be written, nothing is spent ...
                self._log.append(actor=self._actor, action="privacy_spend",
                                 details={"label": spend.label, "epsilon": _json_number(spend.epsilon),
                                          "delta": spend.delta, "cost": spend.cost.as_record(),
                                          "group": spend.group, "total_epsilon": new_eps,
                                          "total_delta": new_delta})
            except BaseException:
                # ... but fail closed: a record that reached the file before the error (a failed
                # fsync, say) counts, so the ledger never says less than the log
                with contextlib.suppress(Exception):
                    self._fold(self._log.records())
                raise
            self._seen += 1
            self._history.append(spend)

    @contextmanager
    def parallel(self, label: str) -> Iterator[None]:
        """Spends inside this block are over disjoint parts of the data: only the largest is charged.

        Parallel composition (McSherry 2009): each person is in one part, so a release per part
        costs them only that part's release. The caller vouches that the parts are disjoint.
        """
        if not isinstance(label, str) or not label.strip():
            raise TypeError("label must be a non-empty string saying what the parallel releases are")
        if getattr(self._local, "group", None) is not None:
            raise ValueError("parallel blocks do not nest")
        self._local.group = f"{label} #{secrets.token_hex(6)}"   # unique across processes sharing a log
        try:
            yield
        finally:
            self._local.group = None

    def _spend_of(self, cost: Any, delta: Any, label: Any) -> Spend:
        if not isinstance(label, str) or not label.strip():
            raise TypeError("label must be a non-empty string saying what the spend is for")
        if not isinstance(cost, PrivacyCost):
            cost = PrivacyCost.approximate(_cost_epsilon(cost, "cost"),
                                           check_real(delta, "delta", low=0.0, high=1.0, high_open=True))
        return Spend(label, cost, getattr(self._local, "group", None))

    def _refuse_unless_fits(self, spend: Spend) -> tuple[float, float]:
        eps, dlt = (math.inf, math.inf) if math.isinf(spend.epsilon) else self._total([*self._history, spend])
        if eps <= self.epsilon * (1 + _TOLERANCE) and dlt <= self.delta * (1 + _TOLERANCE):
            return eps, dlt
        if self._log is not None:  # the refusal is an event worth proving
            self._log.append(actor=self._actor, action="privacy_spend_refused",
                             details={"label": spend.label, "epsilon": _json_number(spend.epsilon),
                                      "delta": spend.delta})
            self._seen += 1
        spent_eps, spent_delta = self._total(self._history)
        raise PrivacyBudgetExceeded(
            f"{spend.label!r} needs (ε={spend.epsilon:g}, δ={spend.delta:g}) but the ledger has spent "
            f"(ε={spent_eps:.4g}, δ={spent_delta:g}) of the budget (ε={self.epsilon:g}, δ={self.delta:g}) "
            f"and with it would reach (ε={eps:.4g}, δ={dlt:g}); nothing was spent")

    # --- what has been spent --------------------------------------------------------------------

    def _total(self, spends: Sequence[Spend]) -> tuple[float, float]:
        counts = _charged(spends)
        if not counts:
            return 0.0, 0.0
        if counts not in self._total_cache:
            if len(self._total_cache) > 64:   # the ledger only grows: old states are not asked again
                self._total_cache.clear()
            self._total_cache[counts] = self._compose(counts)
        return self._total_cache[counts]

    def _compose(self, counts: tuple) -> tuple[float, float]:
        basic = _basic(counts)
        if self._composition == "basic" or self.delta == 0 or math.isinf(basic[0]):
            return basic
        composed = None
        for cost, n in counts:
            one = _pld(cost)
            one = one.self_compose(n) if n > 1 else one
            composed = one if composed is None else composed.compose(one)
        tight = float(composed.get_epsilon_for_delta(self.delta))
        fits_basic = basic[1] <= self.delta * (1 + _TOLERANCE)
        if fits_basic and tight >= basic[0] * (1 - _PLD_MIN_GAIN):
            return basic
        return (tight, self.delta)

    @property
    def spent(self) -> tuple[float, float]:
        """The (ε, δ) spent so far — by every accountant of this actor on the same log — the PLD bound
        at the budget's δ or basic composition, whichever is smaller (always basic composition
        with ``composition="basic"``)."""
        with self._synchronised():
            return self._total(self._history)

    @property
    def spent_basic(self) -> tuple[float, float]:
        """What basic composition says has been spent (Σε, Σδ; a parallel block counts its largest)."""
        with self._synchronised():
            return _basic(_charged(self._history))

    @property
    def remaining(self) -> tuple[float, float]:
        """The (ε, δ) still available."""
        eps, dlt = self.spent
        return (max(self.epsilon - eps, 0.0), max(self.delta - dlt, 0.0))

    @property
    def history(self) -> list[Spend]:
        """Every accepted spend, oldest first (a copy: the ledger cannot be edited through it)."""
        with self._synchronised():
            return list(self._history)

    def __repr__(self) -> str:
        eps, dlt = self.spent
        return (f"PrivacyAccountant(budget=(ε={self.epsilon:g}, δ={self.delta:g}), "
                f"spent=(ε={eps:.4g}, δ={dlt:g}), {len(self._history)} spends)")


def _charged(spends: Sequence[Spend]) -> tuple[tuple[PrivacyCost, int], ...]:
    """The costs the ledger charges, with how often: each parallel block reduced to its largest."""
    charged = [s.cost for s in spends if s.group is None]
    groups: dict[int, list[PrivacyCost]] = {}
    for s in spends:
        if s.group is not None:
            groups.setdefault(s.group, []).append(s.cost)
    charged += [_dominant(costs) for costs in groups.values()]
    return tuple(sorted(Counter(charged).items(), key=repr))


def _basic(counts: Sequence[tuple[PrivacyCost, int]]) -> tuple[float, float]:
    return (math.fsum(c.epsilon * n for c, n in counts), math.fsum(c.delta * n for c, n in counts))


def _budget_record(records: Sequence, actor: str) -> int | None:
    return next((i for i, r in enumerate(records) if r.action == "privacy_budget" and r.actor == actor), None)


def _json_number(x: float) -> float | str:
    return "inf" if math.isinf(x) else x


@contextmanager
def charge(accountant: PrivacyAccountant | None, cost: PrivacyCost, *, label: str) -> Iterator[None]:
    """Check ``cost`` against ``accountant`` before the block computes; book it when the block succeeds.

    What every releasing function wraps its computation in. With ``accountant=None`` it does
    nothing. If the block raises, nothing is spent; if the budget cannot cover ``cost``,
    ``PrivacyBudgetExceeded`` is raised before the block runs.
    """
    if accountant is None:
        yield
        return
    if not isinstance(accountant, PrivacyAccountant):
        raise TypeError(f"accountant must be a PrivacyAccountant or None, got {type(accountant).__name__}")
    accountant.check(cost, label=label)
    yield
    accountant.spend(cost, label=label)


# --- composition theorems -----------------------------------------------------------------


def basic_composition(epsilon: float, delta: float, k: int) -> tuple[float, float]:
    """k mechanisms, each (ε, δ)-DP, are together (kε, kδ)-DP (Dwork & Roth 2014, Thm 3.16)."""
    eps = check_real(epsilon, "epsilon", low=0.0, low_open=True, high=_MAX_EPSILON)
    dlt = check_real(delta, "delta", low=0.0, high=1.0, high_open=True)
    k = check_int(k, "k", low=1, high=_MAX_RELEASES)
    return k * eps, k * dlt


def advanced_composition(epsilon: float, delta: float, k: int, *,
                         delta_prime: float) -> tuple[float, float]:
    """k-fold adaptive composition of (ε, δ)-DP mechanisms (Dwork, Rothblum & Vadhan 2010).

    For any δ' > 0 the composition is (ε', kδ + δ')-DP with
    ε' = √(2k ln(1/δ'))·ε + kε(e^ε − 1)  (Dwork & Roth 2014, Theorem 3.20).
    """
    eps = check_real(epsilon, "epsilon", low=0.0, low_open=True, high=_MAX_EPSILON)
    dlt = check_real(delta, "delta", low=0.0, high=1.0, high_open=True)
    k = check_int(k, "k", low=1, high=_MAX_RELEASES)
    dp_ = check_real(delta_prime, "delta_prime", low=0.0, high=1.0, low_open=True, high_open=True)
    return (math.sqrt(2 * k * math.log(1 / dp_)) * eps + k * eps * math.expm1(eps),
            k * dlt + dp_)


# --- Opacus accountants ------------------------------------------------------------------------

#: The noise multipliers σ/C the Opacus functions below accept: [0.01, 1e6]. Below 0.01 ε is in
#: the thousands and Opacus's RDP analysis runs out of floating point; 1e6 is Opacus's own
#: ceiling when it calibrates.
MIN_NOISE_MULTIPLIER = 0.01
MAX_NOISE_MULTIPLIER = 1e6
_MAX_STEPS = 10**12          # RDP scales linearly in steps: far beyond any training run
_MAX_CURVE_POINTS = 100_000  # dpsgd_epsilon_curve: step counts in one call
_MAX_PRV_POINTS = 2**20      # PRV grid points: about 0.3 GB of working memory in Opacus, 1 s
_EPSILON_TOLERANCE = 0.01    # Opacus's tolerance when it calibrates σ to a target ε


def _accountant_name(accountant: Any) -> str:
    if not isinstance(accountant, str):
        raise TypeError(f"accountant must be one of {ACCOUNTANTS}, got {type(accountant).__name__}")
    if accountant not in ACCOUNTANTS:
        raise ValueError(f"accountant must be one of {ACCOUNTANTS}, got {accountant!r}")
    return accountant


def _noise_multiplier(value: Any) -> float:
    return check_real(value, "noise_multiplier", low=MIN_NOISE_MULTIPLIER, high=MAX_NOISE_MULTIPLIER)


def _dpsgd_args(noise_multiplier: Any, sample_rate: Any, steps: Any, delta: Any):
    return (_noise_multiplier(noise_multiplier),
            check_real(sample_rate, "sample_rate", low=0.0, high=1.0, low_open=True),
            check_int(steps, "steps", low=1, high=_MAX_STEPS),
            check_real(delta, "delta", low=0.0, high=1.0, low_open=True, high_open=True))


class _Unaccountable(ValueError):
    """The accountant cannot give a finite ε here (PRV's grid too large, or ε infinite)."""


def _prv_accountant(sigma: float, q: float, steps: int) -> Any:
    """Opacus's PRVAccountant, refusing a grid above 2^20 points before it builds any array.

    The grid's size comes from Opacus's own ``_get_domain`` (an RDP bound on the privacy loss,
    over a mesh that shrinks with √steps); only discretising and convolving on it takes memory.
    """
    from opacus.accountants import PRVAccountant

    class Bounded(PRVAccountant):
        def _get_domain(self, *args: Any, **kwargs: Any) -> Any:
            domain = super()._get_domain(*args, **kwargs)
            if domain.size > _MAX_PRV_POINTS:
                raise _Unaccountable(
                    f"noise_multiplier={sigma:g} with sample_rate={q:g} over steps={steps} is too small for "
                    f"accountant='prv': its grid would need {domain.size:.3g} points, more than "
                    f"{_MAX_PRV_POINTS} (gigabytes of memory); raise noise_multiplier, or use "
                    f"accountant='rdp'")
            return domain

    return Bounded()


def _epsilon(sigma: float, q: float, steps: int, dlt: float, name: str) -> float:
    """ε from Opacus's accountant ``name``; PRV only when its grid is affordable."""
    from opacus.accountants import create_accountant

    if name == "prv" and dlt < 1e-300:
        raise ValueError(f"delta must be at least 1e-300 for accountant='prv' (its error budget is "
                         f"delta / 1000), got {dlt:g}")
    acct = _prv_accountant(sigma, q, steps) if name == "prv" else create_accountant(mechanism=name)
    acct.history = [(sigma, q, steps)]
    eps = float(acct.get_epsilon(delta=dlt))
    if math.isnan(eps) or eps == math.inf:
        raise _Unaccountable(f"noise_multiplier={sigma:g} with sample_rate={q:g} over steps={steps} gives no "
                             f"finite ε at delta={dlt:g} from accountant={name!r}: raise noise_multiplier")
    return max(eps, 0.0)   # a conversion below 0 (δ near 1) still certifies ε = 0


def dpsgd_epsilon(*, noise_multiplier: float, sample_rate: float, steps: int, delta: float,
                  accountant: str = "rdp") -> float:
    """ε of DP-SGD (Poisson-subsampled Gaussian) after ``steps`` steps, from Opacus's accountant.

    ``noise_multiplier`` is σ/C (noise over clipping norm), in [0.01, 1e6]; ``sample_rate`` the
    probability q in (0, 1] that a record is in a batch; ``steps`` an int in [1, 10^12].
    ``accountant`` is ``"rdp"`` (Mironov 2017) or ``"prv"`` (Gopi et al. 2021, tighter). PRV
    discretises the privacy loss on a grid whose size grows as σ shrinks and steps grow: a
    grid above 2^20 points (small σ at a large q) is refused with a ``ValueError`` naming the
    noise multiplier, before any memory is taken. ε is never negative (δ near 1 gives 0).
    """
    sigma, q, steps, dlt = _dpsgd_args(noise_multiplier, sample_rate, steps, delta)
    return _epsilon(sigma, q, steps, dlt, _accountant_name(accountant))


def dpsgd_epsilon_curve(*, noise_multiplier: float, sample_rate: float, steps: Sequence[int],
                        delta: float) -> np.ndarray:
    """:func:`dpsgd_epsilon` (RDP) after each of several step counts, at the cost of one.

    RDP composes linearly, so Opacus's per-step RDP is computed once and scaled; each entry
    equals Opacus's ``RDPAccountant`` after that many steps. ``steps`` is a sequence of at
    most 100 000 step counts, each in [1, 10^12].
    """
    sigma, q, _, dlt = _dpsgd_args(noise_multiplier, sample_rate, 1, delta)
    if isinstance(steps, (str, bytes, dict)) or not isinstance(steps, (Sequence, np.ndarray, range)):
        raise TypeError(f"steps must be a sequence of step counts (a list of ints), "
                        f"got {type(steps).__name__}")
    if len(steps) > _MAX_CURVE_POINTS:
        raise ValueError(f"steps must hold at most {_MAX_CURVE_POINTS} step counts, got {len(steps)}")
    counts = [check_int(s, "steps", low=1, high=_MAX_STEPS) for s in steps]
    from opacus.accountants import RDPAccountant
    from opacus.accountants.analysis import rdp as opacus_rdp

    orders = RDPAccountant.DEFAULT_ALPHAS
    one_step = np.asarray(opacus_rdp.compute_rdp(q=q, noise_multiplier=sigma, steps=1, orders=orders))
    return np.array([max(opacus_rdp.get_privacy_spent(orders=orders, rdp=one_step * s, delta=dlt)[0], 0.0)
                     for s in counts], dtype=float)


def noise_multiplier_for_epsilon(*, target_epsilon: float, sample_rate: float, steps: int,
                                 delta: float, accountant: str = "rdp") -> float:
    """The smallest noise multiplier (to Opacus's tolerance 0.01 in ε) whose DP-SGD ε ≤ target.

    The same search as Opacus's ``get_noise_multiplier`` (double σ from 20 until ε ≤ target,
    then bisect), so it returns Opacus's answer, but bounded: σ stays in [0.01, 1e6], and a
    target outside what those noise multipliers give is refused at once with a ``ValueError``
    naming ``target_epsilon`` (Opacus's own search never ends for a target such as 1e16).
    With ``accountant="prv"``, a noise multiplier too small for PRV's grid counts as too little
    noise; if the target needs one, the ``ValueError`` says so (after a few PRV evaluations).
    """
    eps = check_real(target_epsilon, "target_epsilon", low=0.0, low_open=True)
    _, q, steps, dlt = _dpsgd_args(1.0, sample_rate, steps, delta)
    name = _accountant_name(accountant)
    with warnings.catch_warnings():  # the search visits σ whose best RDP order is the largest or smallest
        warnings.filterwarnings("ignore", message="Optimal order is the (largest|smallest) alpha")
        return _calibrate(eps, q, steps, dlt, name)


def _calibrate(target: float, q: float, steps: int, dlt: float, name: str) -> float:
    def epsilon_at(sigma: float) -> float:
        return _epsilon(sigma, q, steps, dlt, name)

    low, high, eps_high = 0.0, 10.0, math.inf
    while eps_high > target:       # Opacus: double σ until it is enough
        high *= 2
        if high > MAX_NOISE_MULTIPLIER:
            raise ValueError(f"target_epsilon={target:g} is too small: even noise_multiplier "
                             f"{MAX_NOISE_MULTIPLIER:g} gives ε = {epsilon_at(MAX_NOISE_MULTIPLIER):.4g} at "
                             f"sample_rate={q:g}, steps={steps}, delta={dlt:g}")
        try:
            eps_high = epsilon_at(high)
        except _Unaccountable as error:
            raise ValueError(f"steps={steps} at sample_rate={q:g} are too many for accountant='prv' even "
                             f"with noise_multiplier {high:g} ({error}); use accountant='rdp'") from None
    if name == "rdp":              # cheap: refuse at once a target that not even σ = 0.01 reaches
        eps_floor = epsilon_at(MIN_NOISE_MULTIPLIER)
        if eps_floor < target - _EPSILON_TOLERANCE:
            raise ValueError(f"target_epsilon={target:g} is too large: even noise_multiplier "
                             f"{MIN_NOISE_MULTIPLIER:g} gives only ε = {eps_floor:.6g} at sample_rate={q:g}, "
                             f"steps={steps}, delta={dlt:g}; a larger ε means (almost) no noise at all")
    unaccountable = 0.0            # the largest σ whose ε the accountant could not give (PRV's grid)
    for _ in range(200):           # Opacus's bisection; each step halves [low, high]
        if target - eps_high <= _EPSILON_TOLERANCE:
            return high
        if high - low <= (0.01 if low == unaccountable > 0 else 1e-12) * high:
            break
        sigma = (low + high) / 2
        if sigma < MIN_NOISE_MULTIPLIER:
            low = sigma             # ε(σ) ≥ ε(0.01) ≥ target: Opacus's step, decided without evaluating
            continue
        try:
            eps = epsilon_at(sigma)
        except _Unaccountable:      # less noise than PRV can account: it counts as too little noise
            low = unaccountable = sigma
            continue
        if eps < target:
            high, eps_high = sigma, eps
        else:
            low = sigma
    where = ("PRV's grid grows too large; use accountant='rdp'" if unaccountable
             else "ε cannot be resolved")
    raise ValueError(f"target_epsilon={target:g} is too large for accountant={name!r} at sample_rate={q:g}, "
                     f"steps={steps}, delta={dlt:g}: it needs a noise multiplier below {high:.6g} (ε = "
                     f"{eps_high:.6g} there), where {where}")


def gdp_epsilon(*, mu: float, delta: float) -> float:
    """The smallest ε at which a μ-GDP mechanism is (ε, δ)-DP (Dong, Roth & Su 2022, Cor. 2.13).

    μ-GDP is (ε, δ(ε))-DP for every ε ≥ 0 with δ(ε) = Φ(−ε/μ + μ/2) − e^ε·Φ(−ε/μ − μ/2), and
    for no smaller δ: this is the exact conversion, solved for ε. The Gaussian mechanism with
    noise σ at L2 sensitivity Δ is (Δ/σ)-GDP (their Thm 2.7), so the answer equals
    ``dp.gaussian_epsilon(sigma=1/μ, sensitivity=1, delta=δ)``. ``mu`` in (0, 1000], ``delta``
    in (0, 1).
    """
    m = check_real(mu, "mu", low=0.0, high=_MAX_MU, low_open=True)
    dlt = check_real(delta, "delta", low=0.0, high=1.0, low_open=True, high_open=True)
    from .dp import gaussian_epsilon  # the Gaussian's exact δ(ε) lives with the mechanisms

    return gaussian_epsilon(sigma=1.0 / m, sensitivity=1.0, delta=dlt)


def zcdp_epsilon(*, rho: float, delta: float) -> float:
    """The ε at which a ρ-zCDP mechanism is (ε, δ)-DP (Canonne, Kamath & Steinke 2020, Cor. 13).

    ρ-zCDP (Bun & Steinke 2016) bounds every Rényi divergence of order α > 1 by ρα; it is what
    the 2020 US Census and Gboard's language models state. The conversion is
    ε = min over α > 1 of αρ + (ln(1/δ) + (α − 1)·ln(1 − 1/α) − ln α)/(α − 1), never larger
    than Bun & Steinke's ρ + 2√(ρ ln(1/δ)) (their Prop. 1.3), valid for any ρ-zCDP mechanism.
    A Gaussian mechanism alone is exactly √(2ρ)-GDP, for which :func:`gdp_epsilon` is smaller
    still. ``rho`` in (0, 10^4], ``delta`` in (0, 1).
    """
    r = check_real(rho, "rho", low=0.0, high=1e4, low_open=True)
    dlt = check_real(delta, "delta", low=0.0, high=1.0, low_open=True, high_open=True)
    log_inv = -math.log(dlt)
    from scipy import optimize

    def eps_at(alpha: float) -> float:
        return alpha * r + (log_inv + (alpha - 1) * math.log1p(-1 / alpha) - math.log(alpha)) / (alpha - 1)

    guess = 1 + math.sqrt(log_inv / r)            # where Bun & Steinke's bound is tight
    best = optimize.minimize_scalar(eps_at, bounds=(1 + 1e-9, max(4 * guess, 2.0)), method="bounded",
                                    options={"xatol": 1e-10})
    return max(float(min(best.fun, r + 2 * math.sqrt(r * log_inv))), 0.0)


def gaussian_composition_epsilon(*, noise_multiplier: float, k: int, delta: float,
                                 accountant: str = "rdp") -> float:
    """ε of k Gaussian queries, each with noise σ = noise_multiplier · Δ₂, composed by ``accountant``.

    ``accountant`` is one of :data:`GAUSSIAN_ACCOUNTANTS`:

    - ``"exact"``: k Gaussian releases with noise multiplier z are together exactly one Gaussian
      with noise multiplier z/√k, that is (√k/z)-GDP (Dong, Roth & Su 2022, Cor. 3.3), converted
      to ε exactly by :func:`gdp_epsilon`. No accountant can give a smaller ε.
    - ``"pld"``: dp-accounting's privacy-loss distribution, discretised pessimistically (a
      slightly larger ε than the exact one).
    - ``"prv"``, ``"rdp"``: Opacus's accountants, as :func:`dpsgd_epsilon` with sample rate 1.

    ``noise_multiplier`` in [0.01, 1e6], ``k`` an int in [1, 10^12], ``delta`` in (0, 1).
    """
    z = _noise_multiplier(noise_multiplier)
    k = check_int(k, "k", low=1, high=_MAX_STEPS)
    dlt = check_real(delta, "delta", low=0.0, high=1.0, low_open=True, high_open=True)
    if not isinstance(accountant, str):
        raise TypeError(f"accountant must be one of {GAUSSIAN_ACCOUNTANTS}, got {type(accountant).__name__}")
    if accountant not in GAUSSIAN_ACCOUNTANTS:
        raise ValueError(f"accountant must be one of {GAUSSIAN_ACCOUNTANTS}, got {accountant!r:.40}")
    if accountant == "exact":
        mu = math.sqrt(k) / z
        if mu > _MAX_MU:
            raise ValueError(f"noise_multiplier={z:g} over k={k} releases is {mu:.3g}-GDP, beyond the "
                             f"{_MAX_MU:g} the kit converts (ε would be in the tens of thousands): "
                             f"raise noise_multiplier")
        return gdp_epsilon(mu=mu, delta=dlt)
    if accountant == "pld":
        if k > 10**6:
            raise ValueError(f"k must be at most 10^6 for accountant='pld' (its distribution is composed "
                             f"numerically), got {k}; use accountant='exact'")
        from dp_accounting.pld import privacy_loss_distribution as pld

        one = pld.from_gaussian_mechanism(standard_deviation=z, sensitivity=1.0,
                                          value_discretization_interval=_PLD_GRID)
        eps = float((one.self_compose(k) if k > 1 else one).get_epsilon_for_delta(dlt))
        if not math.isfinite(eps):
            raise ValueError(f"noise_multiplier={z:g} over k={k} releases gives no finite ε at delta={dlt:g} "
                             f"from accountant='pld': raise noise_multiplier")
        return max(eps, 0.0)
    return dpsgd_epsilon(noise_multiplier=z, sample_rate=1.0, steps=k, delta=dlt, accountant=accountant)


def composition_curves(*, epsilon: float, k_max: int, delta_per_query: float = 1e-7,
                       delta_prime: float = 1e-6) -> dict[str, np.ndarray]:
    """Total ε after k = 1 … k_max Gaussian queries, each (ε, δ₀)-DP, by three accountings.

    Each query adds Gaussian noise calibrated (analytic) to be (ε, δ₀)-DP on its own. Then:
    basic composition (kε, kδ₀); advanced composition at δ' (total δ = kδ₀ + δ'); RDP
    (Opacus's analysis of the same Gaussian noise) and the exact composition of the k Gaussians
    (GDP, :func:`gdp_epsilon`), both reported at that same total δ, so advanced, RDP and exact
    are compared at equal δ. Returns arrays ``k``, ``basic``, ``advanced``, ``rdp``, ``exact``.
    ``epsilon`` is a per-query ε in [2^-30, 2^40] (``dp.gaussian_sigma``'s range), ``k_max`` an
    int in [1, 100 000].
    """
    from .dp import gaussian_sigma  # the per-query calibration lives with the mechanisms

    eps = check_real(epsilon, "epsilon", low=0.0, low_open=True)
    k_max = check_int(k_max, "k_max", low=1, high=100_000)
    d0 = check_real(delta_per_query, "delta_per_query", low=0.0, high=1.0, low_open=True, high_open=True)
    dp_ = check_real(delta_prime, "delta_prime", low=0.0, high=1.0, low_open=True, high_open=True)
    k = np.unique(np.geomspace(1, k_max, num=min(k_max, 60)).round().astype(int))
    z = gaussian_sigma(sensitivity=1.0, epsilon=eps, delta=d0)
    from opacus.accountants import RDPAccountant
    from opacus.accountants.analysis import rdp as opacus_rdp

    # Opacus's default orders, extended upwards: many small-ε queries are best bounded at high
    # orders, and Opacus warns (and loosens the bound) when the best order is the largest one.
    orders = [*RDPAccountant.DEFAULT_ALPHAS, 80, 96, 128, 192, 256, 384, 512, 768, 1024, 2048]
    one_step = np.asarray(opacus_rdp.compute_rdp(q=1.0, noise_multiplier=z, steps=1, orders=orders))
    rdp = [opacus_rdp.get_privacy_spent(orders=orders, rdp=one_step * n, delta=min(n * d0 + dp_, 0.5))[0]
           for n in k]
    advanced = [advanced_composition(eps, d0, int(n), delta_prime=dp_)[0] for n in k]
    # k Gaussians with noise multiplier z are exactly one with z/√k: (√k/z)-GDP (Dong, Roth & Su 2022)
    exact = [gdp_epsilon(mu=min(math.sqrt(n) / z, _MAX_MU), delta=min(n * d0 + dp_, 0.5)) for n in k]
    return {"k": k, "basic": k * eps, "advanced": np.array(advanced), "rdp": np.array(rdp),
            "exact": np.array(exact), "noise_multiplier": z}
