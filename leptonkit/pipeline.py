"""One private-training flow for the case studies: preprocess → partition → protect in transit →
train federated with DP → evaluate → report, every step a library call.

Articles on enterprise AI privacy describe a client that "preprocesses the data, encrypts it,
adds differential-privacy noise, trains federated, fetches and decrypts the parameters, and
predicts". :class:`PrivateTrainingPipeline` makes that recipe exact: it says what is encrypted
(the model updates in transit: masked by secure aggregation, or sealed per party with AES-GCM),
where the noise goes (``noise=``, as in :func:`leptonkit.fl.fedavg`), whom each step protects
against (:attr:`PipelineReport.threat_model`), and books every spend in one
:class:`~leptonkit.accounting.PrivacyAccountant` wired to an :class:`~leptonkit.audit.AuditLog`.
It composes ``fl``, ``accounting``, ``audit``, ``crypto`` and ``models``; it re-implements none.

Outside the DP guarantee, and said so in the report: the preprocessing statistics (feature
means and deviations, category lists, computed by secure aggregation of per-party sums, not by
pooling rows) and the number of rows each party holds.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import accounting, crypto, fl, models, mpc
from ._checks import RNG, as_generator, check_int, check_real
from .audit import AuditLog, compliance_report

__all__ = ["PipelineReport", "Prepared", "PrivateTrainingPipeline"]

PRIVACY_UNITS = ("record", "person", "party")
MAX_LEVELS = 50  # a text column with more distinct values is an identifier, not a category
MIN_PARTY_ROWS = 20  # a party with fewer training rows cannot train or be evaluated meaningfully


@dataclass
class Prepared:
    """The preprocessed split: numeric matrices, the party of every row, and what was fitted."""

    X_train: np.ndarray
    y_train: np.ndarray
    party_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    party_test: np.ndarray
    features: list[str]
    parties: list[str]
    fitted: dict = field(repr=False)
    train_index: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=int))
    test_index: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=int))
    dropped_rows: int = 0  # training rows removed by contribution bounding


@dataclass
class PipelineReport:
    """What a pipeline run did and achieved; renders as a summary in a notebook."""

    test_auc: float
    test_accuracy: float
    brier: float
    calibration_error: float
    per_party: pd.DataFrame
    epsilon_spent: float
    target_epsilon: float
    delta: float
    privacy_unit: str
    noise: str
    secure_aggregation: bool
    noise_multiplier: float
    rounds: int
    history: list[dict]
    audit_path: Path
    audit_verified: bool
    threat_model: dict[str, str]
    not_covered: list[str]
    compliance: str = field(repr=False)

    def summary(self) -> str:
        lines = [
            f"test AUC {self.test_auc:.3f} · accuracy {self.test_accuracy:.3f} · Brier {self.brier:.3f} · "
            f"calibration error {self.calibration_error:.3f}",
            f"privacy: ε = {self.epsilon_spent:.3f} spent of {self.target_epsilon:g} at δ = {self.delta:g}, "
            f"per {self.privacy_unit}; noise {self.noise}, σ multiplier {self.noise_multiplier:.3f}, "
            f"{self.rounds} rounds",
            f"transit: {self.threat_model['transit']}",
            f"audit log {self.audit_path.name}: {'verifies' if self.audit_verified else 'DOES NOT VERIFY'}",
            "worst party: " + ", ".join(f"{k} {v:.3f}" for k, v in self.worst_party().items()),
            "outside the guarantee: " + "; ".join(self.not_covered),
        ]
        return "\n".join(lines)

    def worst_party(self) -> dict[str, Any]:
        row = self.per_party.sort_values("auc").iloc[0]
        return {str(row["party"]): float(row["auc"])}

    def __str__(self) -> str:
        return self.summary()

    def _repr_markdown_(self) -> str:
        return "\n\n".join(
            [
                "**Pipeline report**",
                *self.summary().split("\n"),
                self.per_party.to_markdown(index=False, floatfmt=".3f")
                if _has_tabulate()
                else self.per_party.to_string(index=False),
            ]
        )


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


class PrivateTrainingPipeline:
    """Train one model across ``n_parties`` with DP at ``target_epsilon`` and protected updates.

    Parameters
    ----------
    n_parties
        K, the banks or hospitals (≥ 2). With ``party=`` a column, it must equal the number of
        parties in that column.
    target_epsilon, delta
        The budget of the whole run for one ``privacy_unit``; the noise is calibrated so that the
        run spends at most ``target_epsilon`` (a spend above it is refused by the accountant).
    privacy_unit
        ``"record"`` (one row), ``"person"`` (everyone's rows together: rows per person are bounded
        to ``max_rows_per_person`` first, and the cost is the group-privacy cost of that many
        rows; needs ``person=``) or ``"party"`` (a whole bank: client-level DP).
    noise
        ``"distributed"`` (each party adds its share of the noise under secure aggregation, so
        nobody sees an un-noised update or sum), ``"local"`` (each party's update is DP on its
        own) or ``"central"`` (the server adds it; client level only).
    secure_aggregation
        Updates summed by secure aggregation (the server sees masked vectors only); without it each
        party seals its update with AES-GCM under a key it shares with the server, which protects
        the wire but lets the server read every update — the report says so.
    non_iid_alpha
        Without a ``party`` column, rows are split IID (``None``) or with Dirichlet(α) label skew.
    party, person
        Column names: the party that holds each row, the person each row belongs to.
    rounds, batch_size, lr, local_epochs, clip_norm, hidden
        Training: FedAvg rounds; B (the expected batch of the whole federation for record-level
        distributed noise, each party's batch otherwise); step size; E; the clip norm S; the
        width of the model's hidden layer (:func:`leptonkit.models.mlp`).
    audit_log
        A path or :class:`~leptonkit.audit.AuditLog`; default a new file in a fresh temporary
        directory. Nothing is written before every input has been checked.
    rng
        Seeds the split, the partition, the bounding, the training and the noise. Keys for sealing
        and the masks of secure aggregation always come from the OS CSPRNG.

    Example
    -------
    >>> from leptonkit import datasets
    >>> frame = datasets.load_credit(2000, rng=0)
    >>> pipe = PrivateTrainingPipeline(4, target_epsilon=4.0, party="bank", rounds=30, rng=0)
    >>> report = pipe.run(frame.drop(columns="customer"), target="default")
    >>> report.epsilon_spent <= 4.0, report.audit_verified
    (True, True)
    """

    def __init__(
        self,
        n_parties: int,
        *,
        target_epsilon: float,
        delta: float = 1e-5,
        privacy_unit: str = "record",
        noise: str = "distributed",
        secure_aggregation: bool = True,
        non_iid_alpha: float | None = None,
        party: str | None = None,
        person: str | None = None,
        max_rows_per_person: int = 1,
        rounds: int = 60,
        batch_size: int = 512,
        lr: float = 1.0,
        local_epochs: int = 1,
        clip_norm: float = 1.0,
        hidden: int = 16,
        audit_log: str | Path | AuditLog | None = None,
        rng: RNG = None,
    ):
        self.n_parties = check_int(n_parties, "n_parties", low=2, high=10_000)
        self.target_epsilon = check_real(target_epsilon, "target_epsilon", low=0.0, high=100.0, low_open=True)
        self.delta = check_real(delta, "delta", low=0.0, high=0.1, low_open=True)
        if not isinstance(privacy_unit, str) or privacy_unit not in PRIVACY_UNITS:
            raise ValueError(f"privacy_unit must be one of {PRIVACY_UNITS}, got {privacy_unit!r:.80}")
        if not isinstance(noise, str) or noise not in fl.NOISE_PLACEMENTS:
            raise ValueError(f"noise must be one of {fl.NOISE_PLACEMENTS}, got {noise!r:.80}")
        if not isinstance(secure_aggregation, bool):
            raise TypeError(
                f"secure_aggregation must be True or False, got {type(secure_aggregation).__name__}"
            )
        if secure_aggregation and self.n_parties < 3:
            raise ValueError(f"secure_aggregation needs at least 3 parties, got n_parties={self.n_parties}: "
                             f"with two, each learns the other's update by subtracting its own from the sum")
        if noise == "distributed" and not secure_aggregation:
            raise ValueError(
                "noise='distributed' needs secure_aggregation=True: each party adds only its share "
                "of the noise, so the server must not see the individual updates"
            )
        if noise == "central" and privacy_unit != "party":
            raise ValueError(
                f"noise='central' protects a whole party only (privacy_unit='party'); for "
                f"privacy_unit={privacy_unit!r} only a party can clip each row's gradient: use "
                f"noise='distributed' or 'local'"
            )
        if privacy_unit == "person" and person is None:
            raise ValueError("privacy_unit='person' needs person=, the column that says whose row it is")
        self.non_iid_alpha = (
            None
            if non_iid_alpha is None
            else check_real(non_iid_alpha, "non_iid_alpha", low=0.0, low_open=True)
        )
        for name, value in (("party", party), ("person", person)):
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{name} must be a column name (str) or None, got {type(value).__name__}")
        self.privacy_unit, self.noise, self.secure_aggregation = privacy_unit, noise, secure_aggregation
        self.party, self.person = party, person
        self.max_rows_per_person = check_int(max_rows_per_person, "max_rows_per_person", low=1, high=100)
        self.rounds = check_int(rounds, "rounds", low=1, high=100_000)
        self.batch_size = check_int(batch_size, "batch_size", low=1, high=10_000_000)
        self.lr = check_real(lr, "lr", low=0.0, low_open=True, high=1000.0)
        self.local_epochs = check_int(local_epochs, "local_epochs", low=1, high=1000)
        if privacy_unit != "party" and noise == "distributed" and self.local_epochs != 1:
            raise ValueError(
                f"local_epochs must be 1 for privacy_unit={privacy_unit!r} with distributed noise "
                f"(one DP-SGD step across the parties per round), got {self.local_epochs}"
            )
        self.clip_norm = check_real(clip_norm, "clip_norm", low=0.0, low_open=True, high=1e6)
        self.hidden = check_int(hidden, "hidden", low=1, high=4096)
        if audit_log is not None and not isinstance(audit_log, (str, Path, AuditLog)):
            raise TypeError(f"audit_log must be a path, an AuditLog or None, got {type(audit_log).__name__}")
        self._audit_log = audit_log
        self._generator = as_generator(rng)
        self._plans: dict[tuple, dict] = {}

    # --- 1. validate and preprocess --------------------------------------------------------------

    def preprocess(
        self, df: pd.DataFrame, *, target: str, features: Sequence[str] | None = None, test_size: float = 0.2
    ) -> Prepared:
        """Check the frame, split off test rows (by person when there is one), and fit missing-value
        fills, one-hot encodings and scaling on the training rows only.

        The fits use per-party sums combined by secure aggregation (:func:`leptonkit.mpc.secure_aggregate`),
        so no party's rows leave it; the fitted means and deviations themselves are not DP. With
        ``privacy_unit="person"`` each person keeps at most ``max_rows_per_person`` training rows.
        """
        if not isinstance(df, pd.DataFrame) or df.empty:
            raise TypeError(
                f"df must be a non-empty pandas DataFrame, got {type(df).__name__}"
                if not isinstance(df, pd.DataFrame)
                else "df must have at least one row"
            )
        if not isinstance(target, str) or target not in df.columns:
            raise ValueError(
                f"target must name a column of df, got {target!r}; columns: {list(df.columns)[:20]}"
            )
        test_size = check_real(test_size, "test_size", low=0.05, high=0.5)
        for name in (self.party, self.person):
            if name is not None and name not in df.columns:
                raise ValueError(
                    f"column {name!r} (party/person) is not in df; columns: {list(df.columns)[:20]}"
                )
        reserved = {target, self.party, self.person} - {None}
        if features is None:
            features = [c for c in df.columns if c not in reserved]
        elif (isinstance(features, str) or not isinstance(features, (list, tuple, pd.Index, np.ndarray))
              or not all(isinstance(c, str) for c in features)):
            raise TypeError(f"features must be a list of column names or None, got {type(features).__name__}")
        features = list(features)
        missing = [c for c in features if c not in df.columns]
        if missing or not features:
            raise ValueError(
                f"features must be columns of df, not the target/party/person; missing: {missing}"
            )
        if reserved & set(features):
            raise ValueError(
                f"features must not include the target, party or person columns: {reserved & set(features)}"
            )
        labels = df[target]
        if labels.isna().any() or not set(pd.unique(labels)) <= {0, 1}:
            raise ValueError(f"target column {target!r} must hold 0/1 (or booleans) with no missing values")
        y = labels.astype(int).to_numpy()
        if y.min() == y.max():
            raise ValueError(f"target column {target!r} has one class only; a classifier needs both")
        kinds = self._kinds(df, features)

        # A child stream, never the caller's seed itself: a frame generated with the same seed would
        # otherwise line its first columns up with the split (seed 0 for both put one bank in the test set).
        g = self._generator.spawn(1)[0]
        rows = np.arange(len(df))
        groups = df[self.person].to_numpy() if self.person is not None else rows
        # groups numbered by first appearance, not by sorting: random pseudonyms must not change the split
        group_index, unique = pd.factorize(pd.Series(groups).astype(str))
        test_groups = g.random(len(unique)) < test_size
        is_test = test_groups[group_index]
        train_rows, test_rows = rows[~is_test], rows[is_test]
        dropped = 0
        if self.privacy_unit == "person":
            keep = _bound_rows(group_index[train_rows], self.max_rows_per_person, g)
            dropped = int(len(train_rows) - keep.sum())
            train_rows = train_rows[keep]

        party_of = self._parties(df, y, train_rows, test_rows)
        train, test = df.iloc[train_rows], df.iloc[test_rows]
        parties = sorted(set(party_of[0]))
        counts = pd.Series(party_of[0]).value_counts()
        small = counts[counts < MIN_PARTY_ROWS]
        if len(small) or len(parties) != self.n_parties:
            why = (
                f"parties with fewer than {MIN_PARTY_ROWS} training rows: {dict(small)}"
                if len(small)
                else f"{len(parties)} parties in the data, n_parties={self.n_parties}"
            )
            raise ValueError(f"the parties do not fit the pipeline: {why}")
        fitted = _fit(train, features, kinds, party_of[0])
        return Prepared(
            _transform(train, fitted),
            y[train_rows],
            party_of[0],
            _transform(test, fitted),
            y[test_rows],
            party_of[1],
            fitted["columns"],
            parties,
            fitted,
            train_rows,
            test_rows,
            dropped,
        )

    def _kinds(self, df: pd.DataFrame, features: list[str]) -> dict[str, str]:
        kinds = {}
        for c in features:
            column = df[c]
            if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
                kinds[c] = "numeric"
            elif (
                isinstance(column.dtype, pd.CategoricalDtype)
                or pd.api.types.is_object_dtype(column)
                or pd.api.types.is_string_dtype(column)
            ):
                levels = column.dropna().nunique()
                if levels > MAX_LEVELS:
                    raise ValueError(
                        f"feature {c!r} is not numeric and has {levels} distinct values (more than "
                        f"{MAX_LEVELS}): it looks like an identifier; drop it or encode it yourself"
                    )
                kinds[c] = "categorical"
            else:
                raise ValueError(
                    f"feature {c!r} has dtype {column.dtype}, which the pipeline cannot encode "
                    f"(numbers, booleans and categories of at most {MAX_LEVELS} values can be)"
                )
        return kinds

    def _parties(
        self, df: pd.DataFrame, y: np.ndarray, train_rows: np.ndarray, test_rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        if self.party is not None:
            names = df[self.party].astype(str).to_numpy()
            return names[train_rows], names[test_rows]
        # --- 2. partition: no party column, so split the rows IID or by Dirichlet label skew
        train = np.empty(len(train_rows), dtype=object)
        for k, part in enumerate(
            fl.partition(y[train_rows], self.n_parties, alpha=self.non_iid_alpha, rng=self._generator)
        ):
            train[part] = f"party {k + 1}"
        test = np.array(
            [f"party {k + 1}" for k in self._generator.integers(self.n_parties, size=len(test_rows))],
            dtype=object,
        )
        return train, test

    # --- 2. partition ------------------------------------------------------------------------------

    def partition(self, prepared: Prepared) -> list[tuple[np.ndarray, np.ndarray]]:
        """The training rows of each party, as (X_k, y_k) in the order of ``prepared.parties``."""
        return [
            (prepared.X_train[prepared.party_train == p], prepared.y_train[prepared.party_train == p])
            for p in prepared.parties
        ]

    # --- 3. protect in transit ----------------------------------------------------------------------

    def transit(self) -> tuple[Any, str]:
        """The aggregator that carries the updates, and what the server can see of them."""
        if self.secure_aggregation:
            return fl.secure_mean, (
                "secure aggregation (pairwise masks, Bonawitz et al. 2017): the server "
                "sees masked updates and their sum only"
            )
        return _sealed_mean(), (
            "each party seals its update with AES-256-GCM under a key it shares with the "
            "server: an eavesdropper sees ciphertext, but the server decrypts and reads "
            "every party's update"
        )

    # --- 4. train federated with DP -----------------------------------------------------------------

    def plan(
        self,
        parties: list[tuple[np.ndarray, np.ndarray]],
        *,
        rounds: int | None = None,
        survivors: list[tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> dict:
        """The noise multiplier that makes the run cost at most ``target_epsilon``, and that cost.

        With ``survivors`` (the parties left after one drops out) the noise is calibrated for the
        least favourable of the two federations, so every phase of the run stays in budget.
        """
        rounds = self.rounds if rounds is None else rounds
        everyone = np.array([len(X) for X, _ in parties])
        remaining = everyone if survivors is None else np.array([len(X) for X, _ in survivors])
        key = (tuple(everyone), tuple(remaining), rounds)
        if key not in self._plans:   # calibrating σ takes seconds: each federation is planned once
            self._plans[key] = self._plan(everyone, remaining, rounds)
        return dict(self._plans[key])

    def _plan(self, everyone: np.ndarray, remaining: np.ndarray, rounds: int) -> dict:
        k = self.max_rows_per_person if self.privacy_unit == "person" else 1
        eps_unit, delta_unit = self.target_epsilon / k, self.delta
        if k > 1:  # group privacy for k rows (Vadhan 2017, Lemma 2.2): (kε, k e^{(k−1)ε} δ)
            delta_unit = self.delta / (k * math.exp((k - 1) * eps_unit))
        sensitivity = 2.0 if self.privacy_unit == "party" and self.noise == "local" else 1.0
        if self.privacy_unit == "party":
            q, steps = 1.0, rounds
        elif self.noise == "distributed":  # one DP-SGD step a round at q = B / Σ n_k: fewest rows is worst
            q, steps = min(1.0, self.batch_size / min(everyone.sum(), remaining.sum())), rounds
        else:  # local DP-SGD on every party: the smallest party's records are the least protected
            q = min(1.0, self.batch_size / everyone.min())
            steps = rounds * self.local_epochs * max(1, round(1 / q))
        unit_z = accounting.noise_multiplier_for_epsilon(
            target_epsilon=eps_unit, sample_rate=q, steps=steps, delta=delta_unit
        )
        return {
            "noise_multiplier": unit_z * sensitivity,
            "sample_rate": q,
            "steps": steps,
            "rows_per_unit": k,
            "delta_per_row": delta_unit,
            "cost": _unit_cost(unit_z, q, steps, k, delta_unit),
        }

    def open_audit_log(self) -> AuditLog:
        """The run's audit log: ``audit_log`` as given, or a new file in a fresh temporary directory."""
        log = self._audit_log
        if log is None:
            log = Path(tempfile.mkdtemp(prefix="leptonkit-pipeline-")) / "audit.jsonl"
        return log if isinstance(log, AuditLog) else AuditLog(log)

    def accountant(self, log: AuditLog) -> accounting.PrivacyAccountant:
        """A fresh accountant for ``target_epsilon`` and ``delta`` that writes its ledger to ``log``."""
        return accounting.PrivacyAccountant(self.target_epsilon, self.delta, audit_log=log, actor="pipeline")

    def train(
        self,
        parties: list[tuple[np.ndarray, np.ndarray]],
        accountant: accounting.PrivacyAccountant,
        *,
        drop: tuple[int, int] | None = None,
        eval_data: tuple[np.ndarray, np.ndarray] | None = None,
        label: str = "pipeline.train",
    ) -> fl.FedAvgResult:
        """FedAvg with DP, every spend checked and booked by ``accountant``.

        ``drop=(k, r)``: party k leaves after round r and the others finish the run — two spends
        in the ledger, which composes them, with the noise calibrated so both stay in budget (with
        several rows per person, one spend: the group-privacy bound of the whole run). The
        returned result's ``epsilon`` is the ledger's total.
        """
        if not isinstance(accountant, accounting.PrivacyAccountant):
            raise TypeError(f"accountant must be a PrivacyAccountant, got {type(accountant).__name__}")
        phases = [(parties, self.rounds)]
        if drop is not None:
            if not isinstance(drop, tuple) or len(drop) != 2:
                raise TypeError("drop must be a pair (party index, round after which it leaves)")
            k = check_int(drop[0], "drop[0] (party index)", low=0, high=len(parties) - 1)
            r = check_int(drop[1], "drop[1] (round)", low=1, high=self.rounds - 1)
            phases = [(parties, r), ([p for i, p in enumerate(parties) if i != k], self.rounds - r)]
            if self.secure_aggregation and len(phases[-1][0]) < 3:
                raise ValueError(f"drop would leave {len(phases[-1][0])} parties; secure aggregation "
                                 f"needs at least 3 (with two, each learns the other's update from the sum)")
        plan = self.plan(parties, survivors=phases[-1][0])
        aggregator, _ = self.transit()
        options = dict(
            local_epochs=self.local_epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            aggregator=aggregator,
            clip_norm=self.clip_norm,
            noise_multiplier=plan["noise_multiplier"],
            delta=plan["delta_per_row"],
            noise=self.noise,
            eval_data=eval_data,
            privacy_unit="client" if self.privacy_unit == "party" else "record",
        )
        model = models.mlp(
            parties[0][0].shape[1], 2, hidden=self.hidden, seed=int(self._generator.integers(2**31))
        )
        history: list[dict] = []
        # k rows per person: the group-privacy bound holds for the whole run's row-level mechanism, so the
        # run is booked once (two phases booked apart would each spend the δ the bound needs)
        group = plan["rows_per_unit"] > 1
        whole = accounting.charge(accountant, plan["cost"], label=label) if group else nullcontext()
        with whole:
            for i, (members, rounds) in enumerate(phases):
                name = label if len(phases) == 1 else f"{label}, phase {i + 1} ({len(members)} parties)"
                booked = {} if group else {"accountant": accountant, "label": name}
                result = fl.fedavg(model, members, rounds=rounds, rng=self._generator, **booked, **options)
                model = result.model
                history += [{**h, "round": len(history) + 1, "parties": len(members)} for h in result.history]
        result.history, result.epsilon = history, accountant.spent[0]
        result.noise_multiplier = plan["noise_multiplier"]
        return result

    # --- 5. evaluate --------------------------------------------------------------------------------

    @staticmethod
    def evaluate(model: Any, prepared: Prepared) -> tuple[dict[str, float], pd.DataFrame]:
        """AUC, accuracy, Brier score and expected calibration error on the held-out rows, overall
        and per party."""
        p = _probabilities(model, prepared.X_test)
        overall = _scores(prepared.y_test, p)
        rows = [
            {
                "party": name,
                "rows": int((prepared.party_test == name).sum()),
                **_scores(prepared.y_test[prepared.party_test == name], p[prepared.party_test == name]),
            }
            for name in prepared.parties
        ]
        return overall, pd.DataFrame(rows)

    # --- 6. the whole flow --------------------------------------------------------------------------

    def run(
        self,
        df: pd.DataFrame,
        *,
        target: str,
        features: Sequence[str] | None = None,
        test_size: float = 0.2,
        drop: tuple[int, int] | None = None,
    ) -> PipelineReport:
        """Every step in order; returns the :class:`PipelineReport`. Nothing is written before the
        inputs have been checked and the noise has been calibrated."""
        prepared = self.preprocess(df, target=target, features=features, test_size=test_size)
        parties = self.partition(prepared)
        self.plan(parties)  # an unreachable target fails here, before the log exists
        log = self.open_audit_log()
        accountant = self.accountant(log)
        log.append(
            actor="pipeline",
            action="train",
            details={
                "dataset": f"{len(prepared.y_train)} training rows across {len(parties)} parties",
                "purpose": f"federated training of a classifier of {target!r} under DP",
                "cipher": "secure aggregation (X25519 + AES-CTR masks)"
                if self.secure_aggregation
                else "AES-256-GCM",
            },
        )
        result = self.train(parties, accountant, drop=drop, eval_data=(prepared.X_test, prepared.y_test))
        overall, per_party = self.evaluate(result.model, prepared)
        _, transit = self.transit()
        return PipelineReport(
            test_auc=overall["auc"],
            test_accuracy=overall["accuracy"],
            brier=overall["brier"],
            calibration_error=overall["calibration_error"],
            per_party=per_party,
            epsilon_spent=accountant.spent[0],
            target_epsilon=self.target_epsilon,
            delta=self.delta,
            privacy_unit=self.privacy_unit,
            noise=self.noise,
            secure_aggregation=self.secure_aggregation,
            noise_multiplier=result.noise_multiplier,
            rounds=self.rounds,
            history=result.history,
            audit_path=log.path,
            audit_verified=log.verify(),
            threat_model=self.threat_model(transit),
            not_covered=NOT_COVERED,
            compliance=compliance_report(log, title="Private training pipeline"),
        )

    def threat_model(self, transit: str | None = None) -> dict[str, str]:
        """Who each step protects against, in words."""
        unit = {
            "record": "one row",
            "person": f"one person (≤ {self.max_rows_per_person} rows)",
            "party": "a whole party",
        }[self.privacy_unit]
        where = {
            "distributed": "each party adds its share before secure aggregation: nobody sees an un-noised "
            "update or sum",
            "local": "each party noises its own update: DP even against a server that reads it",
            "central": "the server adds the noise: it is trusted with the un-noised sum",
        }[self.noise]
        return {
            "transit": transit or self.transit()[1],
            "noise": where,
            "released model": f"(ε, δ)-DP for {unit}: anyone holding the final model or the per-round models "
            f"learns at most what the guarantee allows about {unit}",
            "not protected": "a party that lies (poisoning) or a server that sends different models to "
            "different parties; the preprocessing statistics (see not_covered)",
        }


def _unit_cost(z: float, q: float, steps: int, k: int, delta_row: float) -> accounting.PrivacyCost:
    """What ``steps`` DP-SGD steps at noise multiplier z and rate q cost one privacy unit of k rows:
    the subsampled Gaussian itself for k = 1, its group-privacy bound (kε, k e^{(k−1)ε} δ) otherwise
    (Vadhan 2017, Lemma 2.2), with ε from Opacus's accountant at the per-row δ."""
    eps = accounting.dpsgd_epsilon(noise_multiplier=z, sample_rate=q, steps=steps, delta=delta_row)
    if k == 1:
        return accounting.PrivacyCost.gaussian(z, sample_rate=q, steps=steps, epsilon=eps, delta=delta_row)
    return accounting.PrivacyCost.approximate(k * eps, min(1.0, k * math.exp((k - 1) * eps) * delta_row))


NOT_COVERED = [
    "feature means, deviations and category lists used for preprocessing (computed by secure "
    "aggregation of per-party sums, released without noise)",
    "how many rows each party holds",
    "which parties took part in each round",
]


def _bound_rows(group: np.ndarray, k: int, g: np.random.Generator) -> np.ndarray:
    """A mask keeping at most k rows of each group, chosen at random (contribution bounding)."""
    order = g.permutation(len(group))
    seen: dict[int, int] = {}
    keep = np.zeros(len(group), dtype=bool)
    for i in order:
        if seen.get(group[i], 0) < k:
            seen[group[i]] = seen.get(group[i], 0) + 1
            keep[i] = True
    return keep


def _fit(train: pd.DataFrame, features: list[str], kinds: dict[str, str], party: np.ndarray) -> dict:
    """Fit the fills, encodings and scaling on the training rows, from per-party sums only."""
    levels = {
        c: sorted(train[c].dropna().astype(str).unique()) for c in features if kinds[c] == "categorical"
    }
    numeric = [c for c in features if kinds[c] == "numeric"]
    missing_flags = [c for c in numeric if train[c].isna().any()]
    # Per party: [rows present, Σx, Σx²] for each numeric column; secure aggregation adds them up.
    names = sorted(set(party))
    stats = []
    for name in names:
        block = train.loc[party == name, numeric].astype(float)
        stats.append(
            np.concatenate(
                [block.notna().sum().to_numpy(), block.sum().to_numpy(), (block**2).sum().to_numpy()]
            )
        )
    totals = mpc.secure_aggregate(np.array(stats)).total if len(names) >= 3 else np.sum(stats, axis=0)
    count, total, squares = np.split(np.asarray(totals, dtype=float), 3)
    mean = total / np.maximum(count, 1)
    std = np.sqrt(np.maximum(squares / np.maximum(count, 1) - mean**2, 0.0))
    columns = (
        numeric
        + [f"{c} missing" for c in missing_flags]
        + [f"{c}={v}" for c, vs in levels.items() for v in vs]
    )
    return {
        "numeric": numeric,
        "mean": mean,
        "std": np.where(std > 1e-12, std, 1.0),
        "missing": missing_flags,
        "levels": levels,
        "columns": columns,
    }


def _transform(frame: pd.DataFrame, fitted: dict) -> np.ndarray:
    numeric = frame[fitted["numeric"]].astype(float).to_numpy()
    numeric = np.where(np.isnan(numeric), fitted["mean"], numeric)
    parts = [
        (numeric - fitted["mean"]) / fitted["std"],
        frame[fitted["missing"]].isna().to_numpy(dtype=float),
    ]
    for c, values in fitted["levels"].items():
        text = frame[c].astype(str).to_numpy()
        parts.append(np.stack([text == v for v in values], axis=1).astype(float))
    return np.concatenate(parts, axis=1).astype(np.float32)


def _sealed_mean() -> fl.MeanOfSum:
    """The weighted mean with every update sealed by its party (AES-256-GCM) and opened by the server."""
    keys: dict[int, bytes] = {}

    def sealed_sum(updates: np.ndarray, weights: np.ndarray) -> np.ndarray:
        opened = []
        for k, row in enumerate(np.asarray(updates, dtype=np.float64)):
            key = keys.setdefault(k, crypto.generate_key())  # agreed once per party (e.g. over TLS)
            token = crypto.encrypt(row.tobytes(), key)  # what crosses the wire
            opened.append(np.frombuffer(crypto.decrypt(token, key), dtype=np.float64))  # the server reads it
        return fl.plain_sum(np.array(opened), weights)

    return fl.MeanOfSum(sealed_sum, "sealed_mean")


def _probabilities(model: Any, X: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return torch.softmax(model(torch.as_tensor(X, dtype=torch.float32)), dim=1)[:, 1].numpy()


def _scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else math.nan
    bins = np.minimum((p * 10).astype(int), 9)
    ece = sum(
        abs(float(p[bins == b].mean() - y[bins == b].mean())) * (bins == b).mean()
        for b in range(10)
        if (bins == b).any()
    )
    return {
        "auc": auc,
        "accuracy": float(((p >= 0.5) == y).mean()),
        "brier": float(((p - y) ** 2).mean()),
        "calibration_error": float(ece),
    }
