"""Live explorers: ipywidgets sliders wired to one leptonkit computation and one ``plots`` builder.

The pattern every notebook follows: on each slider move an :class:`Explorer` calls its
``compute`` (one library function), hands the result to its ``build`` (one pure figure builder
from ``plots``) and copies the new figure into its ``FigureWidget`` inside
``fig.batch_update()``, so the browser redraws once. Nothing else lives here: the mathematics
is in the topic modules, the drawing in ``plots``. ``EXPLORERS`` lists every explorer in the kit
for the latency benchmark (``bench/explorer_latency.py``) and the tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as w
import numpy as np
import plotly.graph_objects as go

from . import accounting, attacks, audit, crypto, datasets, dp, he, masking, mpc, plots

__all__ = ["EXPLORERS", "Explorer", "composition_explorer", "compression_explorer",
           "deidentification_explorer", "dpsgd_explorer", "fedavg_explorer", "kdf_cost_explorer",
           "key_search_explorer", "mechanism_explorer", "paillier_cost_explorer",
           "secure_aggregation_explorer", "tampering_explorer", "threshold_explorer"]

_SLIDER_LAYOUT = {"width": "420px"}
_SLIDER_STYLE = {"description_width": "160px"}


class Explorer:
    """Sliders driving one figure: ``build(compute(**values), **values)`` on every move.

    Parameters
    ----------
    controls
        Named value widgets (sliders); their names are the keyword arguments of ``compute``.
    compute
        Calls one leptonkit function with the slider values and returns its result.
    build
        A ``plots`` builder: takes the result and the slider values, returns a ``go.Figure``
        with the same number of traces every time.

    Attributes
    ----------
    figure : plotly.graph_objects.FigureWidget
        The live figure; tests and benchmarks read it after setting a control's ``value``.
    """

    def __init__(self, controls: Mapping[str, w.ValueWidget], compute: Callable[..., Any],
                 build: Callable[..., go.Figure]):
        self.controls = dict(controls)
        self._compute, self._build = compute, build
        self.figure = go.FigureWidget(self._figure_for(self.values()))
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.widget = w.VBox([w.HBox(list(self.controls.values()),
                                     layout={"flex_flow": "row wrap"}), self.figure])

    def values(self) -> dict[str, Any]:
        """The controls' current values, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def update(self) -> None:
        """Recompute and redraw from the current slider values (what a slider move triggers)."""
        new = self._figure_for(self.values())
        if len(new.data) != len(self.figure.data):
            raise RuntimeError("a figure builder must return the same number of traces every time")
        with self.figure.batch_update():
            for trace, fresh in zip(self.figure.data, new.data, strict=True):
                trace.update(fresh.to_plotly_json(), overwrite=True)
            self.figure.layout.update(new.layout.to_plotly_json(), overwrite=True)

    def _figure_for(self, values: dict[str, Any]) -> go.Figure:
        return self._build(self._compute(**values), **values)

    def _on_change(self, _change: dict) -> None:
        self.update()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def _slider(cls: type, description: str, **kwargs) -> w.ValueWidget:
    return cls(description=description, continuous_update=True, layout=_SLIDER_LAYOUT,
               style=_SLIDER_STYLE, **kwargs)


# --- notebook 00: how long does it take to guess a key? ---------------------------------------

KEY_BITS_AXIS = np.arange(8, 257)


def key_search_explorer(bits: int = 56, log10_guesses_per_second: float = 12.0) -> Explorer:
    """Key length and an attacker's speed against the expected time of a brute-force search."""
    controls = {
        "bits": _slider(w.IntSlider, "key length (bits)", value=bits, min=8, max=256),
        "log10_rate": _slider(w.FloatSlider, "log₁₀ guesses / second", value=log10_guesses_per_second,
                              min=0.0, max=20.0, step=0.5),
    }

    def compute(bits: int, log10_rate: float) -> np.ndarray:
        return crypto.expected_crack_seconds(KEY_BITS_AXIS, 10.0 ** log10_rate)

    def build(seconds: np.ndarray, bits: int, log10_rate: float) -> go.Figure:
        return plots.crack_time(KEY_BITS_AXIS, seconds, x_title="key length (bits)", highlight=bits,
                                title=f"{bits}-bit key at 10^{log10_rate:g} guesses/s")

    return Explorer(controls, compute, build)


# --- notebook 01: what does a password KDF's cost setting buy? ------------------------------


def kdf_cost_explorer(table: Mapping[str, np.ndarray] | None = None, *, log2_n: int = 17,
                      password_bits: float = 40.0) -> Explorer:
    """scrypt's cost ``log2 N`` and a password's entropy against one core's expected search time.

    ``table`` is :func:`leptonkit.crypto.kdf_cost_table` (measured on this machine); it is
    measured here when not given. The sliders only look it up, so they respond at once.
    """
    table = crypto.kdf_cost_table() if table is None else table
    lo, hi = int(table["log2_n"][0]), int(table["log2_n"][-1])
    controls = {
        "log2_n": _slider(w.IntSlider, "scrypt cost log₂ N", value=log2_n, min=lo, max=hi),
        "password_bits": _slider(w.FloatSlider, "password entropy (bits)", value=password_bits,
                                 min=10.0, max=100.0, step=1.0),
    }

    def compute(log2_n: int, password_bits: float) -> np.ndarray:
        return crypto.expected_crack_seconds(password_bits, 1.0 / table["seconds"])

    def build(seconds: np.ndarray, log2_n: int, password_bits: float) -> go.Figure:
        per_guess = plots.human_duration(float(table["seconds"][log2_n - lo]))
        return plots.crack_time(table["log2_n"], seconds, x_title="scrypt cost log₂ N",
                                highlight=log2_n, measured=table["measured"],
                                title=f"{password_bits:g}-bit password, {per_guess} per guess")

    return Explorer(controls, compute, build)


# --- notebook 02: Laplace against Gaussian ---------------------------------------------------


def mechanism_explorer(epsilon: float = 1.0, delta: float = 1e-5, sensitivity: float = 1.0) -> Explorer:
    """ε, δ and Δ against both mechanisms' noise, error, and an observer's odds of guessing."""
    controls = {
        "epsilon": _slider(w.FloatLogSlider, "ε (privacy loss)", value=epsilon, base=10, min=-2,
                           max=1, step=0.05),
        "delta": _slider(w.FloatLogSlider, "δ (Gaussian only)", value=delta, base=10, min=-10,
                         max=-2, step=0.5, readout_format=".0e"),
        "sensitivity": _slider(w.FloatSlider, "Δ (sensitivity)", value=sensitivity, min=0.5,
                               max=10.0, step=0.5),
    }

    def compute(epsilon: float, delta: float, sensitivity: float) -> dict:
        return dp.compare_mechanisms(sensitivity=sensitivity, epsilon=epsilon, delta=delta)

    return Explorer(controls, compute, plots.mechanism_comparison)


# --- notebook 03: composition -----------------------------------------------------------------

COMPOSITION_K_MAX = 1000


def composition_explorer(epsilon: float = 0.1, k: int = 100) -> Explorer:
    """Per-query ε and the number of queries against the total ε by three accountings."""
    controls = {
        "epsilon": _slider(w.FloatLogSlider, "ε per query", value=epsilon, base=10, min=-2,
                           max=0, step=0.05),
        "k": _slider(w.IntSlider, "number of queries k", value=k, min=1, max=COMPOSITION_K_MAX),
    }

    def compute(epsilon: float, k: int) -> dict:
        return accounting.composition_curves(epsilon=epsilon, k_max=COMPOSITION_K_MAX)

    return Explorer(controls, compute, plots.composition)


# --- notebook 04: DP-SGD -------------------------------------------------------------------------


def dpsgd_explorer(result: Mapping[str, Any] | None = None, *, epsilon: float = 1.0) -> Explorer:
    """ε of a DP-SGD run against test accuracy and the membership attack's AUC.

    ``result`` is :func:`leptonkit.dpsgd.privacy_utility`; when not given, a small one is
    computed on 200 digits. The slider only looks it up.
    """
    if result is None:
        from . import dpsgd, models
        X, X_test, y, y_test = datasets.digits()
        baseline = models.train_non_private(models.mlp(64, 10), X[:200], y[:200], epochs=100, rng=0)
        result = dpsgd.privacy_utility(models.mlp(64, 10), X[:200], y[:200], X_test, y_test,
                                       epsilons=[1.0, 4.0], baseline=baseline)
    options = [float(e) for e in result["epsilon"]]
    controls = {"epsilon": w.SelectionSlider(description="ε", options=options,
                                             value=min(options, key=lambda o: abs(o - epsilon)),
                                             continuous_update=True, layout=_SLIDER_LAYOUT,
                                             style=_SLIDER_STYLE)}

    def compute(epsilon: float) -> Mapping[str, Any]:
        return result

    return Explorer(controls, compute, plots.privacy_utility)


# --- notebook 08: k-anonymity ----------------------------------------------------------------

DEIDENTIFICATION_KS = (1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50)


def deidentification_explorer(tradeoff: Mapping[str, np.ndarray] | None = None, *, k: int = 5) -> Explorer:
    """Mondrian's k against the linkage attack's success and the information lost.

    ``tradeoff`` is :func:`leptonkit.attacks.reidentification_tradeoff`; when not given it is
    computed for the kit's hospital and town register. The slider only looks it up.
    """
    if tradeoff is None:
        register = datasets.town_register()
        released = masking.suppress(datasets.hospital_patients(register), ["name", "phone"])
        tradeoff = attacks.reidentification_tradeoff(
            released, register, quasi_identifiers=["postcode", "birth_date", "sex"],
            ks=DEIDENTIFICATION_KS, sensitive="diagnosis")
    options = [int(x) for x in tradeoff["k"]]
    controls = {"k": w.SelectionSlider(description="k", options=options,
                                       value=min(options, key=lambda o: abs(o - k)),
                                       continuous_update=True, layout=_SLIDER_LAYOUT, style=_SLIDER_STYLE)}

    def compute(k: int) -> Mapping[str, np.ndarray]:
        return tradeoff

    return Explorer(controls, compute, plots.reidentification_tradeoff)


# --- notebook 10: tampering with an audit log -----------------------------------------------


def tampering_explorer(log: audit.AuditLog | None = None, *, seq: int = 2) -> Explorer:
    """Which record a forger edits, whether they re-hash the chain, whether an anchor is kept.

    Works on the bytes of ``log`` in memory; the file is never changed. Without a log, a small
    unkeyed demonstration log is written to a temporary file.
    """
    if log is None:
        import tempfile
        from pathlib import Path
        log = audit.AuditLog(Path(tempfile.mkdtemp(prefix="leptonkit-")) / "demo.jsonl")
        for i in range(6):
            log.append(actor=f"analyst{i % 2}", action="access",
                       details={"dataset": "demo", "purpose": "demo"})
    last = len(log.records()) - 1
    controls = {
        "seq": _slider(w.IntSlider, "record the forger edits", value=min(seq, last), min=0, max=last),
        "recompute_hashes": w.Checkbox(description="forger recomputes the hashes", value=False, indent=False,
                                       layout={"width": "260px"}),
        "use_anchor": w.Checkbox(description="verify against an anchor", value=False, indent=False,
                                 layout={"width": "220px"}),
    }

    def compute(seq: int, recompute_hashes: bool, use_anchor: bool) -> dict:
        return audit.tampering_outcome(log, seq=seq, recompute_hashes=recompute_hashes, use_anchor=use_anchor)

    return Explorer(controls, compute, plots.audit_chain)


# --- notebook 05: FedAvg ------------------------------------------------------------------------

FEDAVG_ROUNDS = 10


def fedavg_explorer(data: tuple[np.ndarray, ...] | None = None, *, n_clients: int = 20,
                    clients_per_round: int = 5, local_epochs: int = 2, alpha: float = 100.0) -> Explorer:
    """Clients, clients per round, local epochs and label skew against FedAvg's accuracy and traffic.

    Every move retrains: ``FEDAVG_ROUNDS`` rounds of FedAvg on digits (``data`` is
    ``datasets.digits()``), B = 10, lr = 0.1 — the vectorised simulator makes that well under a
    second. α is the Dirichlet concentration: 100 is close to IID, 0.1 gives each client few digits.
    """
    X, X_test, y, y_test = datasets.digits() if data is None else data
    controls = {
        "n_clients": _slider(w.IntSlider, "clients K", value=n_clients, min=2, max=100),
        "clients_per_round": _slider(w.IntSlider, "clients per round C·K", value=clients_per_round, min=1,
                                     max=100),
        "local_epochs": _slider(w.IntSlider, "local epochs E", value=local_epochs, min=1, max=5),
        "alpha": _slider(w.FloatLogSlider, "label skew α (small: non-IID)", value=alpha, base=10, min=-1,
                         max=2, step=0.1),
    }

    def compute(n_clients: int, clients_per_round: int, local_epochs: int, alpha: float) -> list:
        from . import fl, models
        per_round = min(clients_per_round, n_clients)   # the sliders may cross: C·K ≤ K
        return fl.fedavg_on_partition(models.mlp(64, 10), X, y, n_clients=n_clients, alpha=alpha,
                                      rounds=FEDAVG_ROUNDS, clients_per_round=per_round,
                                      local_epochs=local_epochs, batch_size=10, lr=0.1,
                                      eval_data=(X_test, y_test), rng=0, progress=False).history

    def build(history: list, n_clients: int, clients_per_round: int, local_epochs: int,
              alpha: float) -> go.Figure:
        per_round = min(clients_per_round, n_clients)
        return plots.fedavg_progress(history, title=f"K = {n_clients}, C·K = {per_round}, "
                                                    f"E = {local_epochs}, α = {alpha:.2g}: ")

    return Explorer(controls, compute, build)


# --- notebook 09: compression ----------------------------------------------------------------------


def compression_explorer(frontier: Mapping[str, np.ndarray] | None = None, *, prune: float = 0.5,
                         bits: int = 8) -> Explorer:
    """Pruning fraction and bits per weight against model size and test accuracy.

    ``frontier`` is :func:`leptonkit.compress.compression_frontier`; when not given it is
    computed for a network trained on digits. The sliders only look it up.
    """
    if frontier is None:
        from . import compress, models
        X, X_test, y, y_test = datasets.digits()
        model = models.train_non_private(models.mlp(64, 10), X, y, epochs=30, rng=0)
        frontier = compress.compression_frontier(model, X_test, y_test)
    prunes = sorted({float(f) for f in frontier["prune"]})
    widths = sorted({int(b) for b in frontier["bits"]})
    controls = {
        "prune": w.SelectionSlider(description="weights pruned", options=prunes,
                                   value=min(prunes, key=lambda o: abs(o - prune)), continuous_update=True,
                                   layout=_SLIDER_LAYOUT, style=_SLIDER_STYLE),
        "bits": w.SelectionSlider(description="bits per weight", options=widths,
                                  value=min(widths, key=lambda o: abs(o - bits)), continuous_update=True,
                                  layout=_SLIDER_LAYOUT, style=_SLIDER_STYLE),
    }

    def compute(prune: float, bits: int) -> Mapping[str, np.ndarray]:
        return frontier

    return Explorer(controls, compute, plots.compression_tradeoff)


# --- notebook 06: secret sharing and secure aggregation ----------------------------------------

SHAMIR_PRIME = 11   # a tiny field, so every polynomial can be counted
SHAMIR_SECRET = 7
SHAMIR_MAX_THRESHOLD = 6  # 11^5 polynomials to count: still a few milliseconds


def threshold_explorer(threshold: int = 3, n_parties: int = 5, holders: int = 2) -> Explorer:
    """t and n of a Shamir sharing against which coalitions reconstruct, and what fewer shares reveal."""
    controls = {
        "threshold": _slider(w.IntSlider, "threshold t", value=threshold, min=1, max=SHAMIR_MAX_THRESHOLD),
        "n_parties": _slider(w.IntSlider, "parties n", value=n_parties, min=2, max=SHAMIR_PRIME - 1),
        "holders": _slider(w.IntSlider, "shares the coalition holds", value=holders, min=0,
                           max=SHAMIR_PRIME - 1),
    }

    def compute(threshold: int, n_parties: int, holders: int) -> dict:
        # Sliders may cross (t > n, more holders than parties): show the nearest valid sharing.
        n = max(n_parties, threshold, 2)
        return mpc.coalition_knowledge(threshold=threshold, n_parties=n, holders=min(holders, n),
                                       secret=SHAMIR_SECRET, prime=SHAMIR_PRIME, rng=0)

    def build(view: dict, threshold: int, n_parties: int, holders: int) -> go.Figure:
        n = len(view["sizes"])
        return plots.coalitions(view, threshold=threshold, n_parties=n, holders=min(holders, n))

    return Explorer(controls, compute, build)


def secure_aggregation_explorer(updates: np.ndarray | None = None, *, dropouts: int = 0) -> Explorer:
    """How many clients drop out against what the server receives and the sum it still recovers.

    ``updates`` is an (n_clients, length) array; by default 10 clients with 12 numbers each.
    """
    if updates is None:
        updates = np.random.default_rng(6).normal(size=(10, 12))
    n = len(updates)
    most = n - (n // 2 + 1)      # the default threshold is a majority
    controls = {"dropouts": _slider(w.IntSlider, "clients that drop out", value=min(dropouts, most), min=0,
                                    max=most)}

    def compute(dropouts: int) -> dict:
        return {"aggregation": mpc.secure_aggregate(updates, dropouts=range(dropouts), rng=0),
                "plain_sum": updates[dropouts:].sum(axis=0)}

    return Explorer(controls, compute, plots.secure_aggregation)


# --- notebook 07: what homomorphic encryption costs --------------------------------------------


def paillier_cost_explorer(table: Mapping[str, np.ndarray] | None = None, *, bits: int = 2048,
                           log10_values: float = 3.0, clients: int = 10) -> Explorer:
    """Key size, update size and client count against the time of Paillier aggregation.

    ``table`` is :func:`leptonkit.he.cost_table` (measured on this machine); it is measured
    here when not given. The sliders only look it up.
    """
    table = he.cost_table() if table is None else table
    options = [int(b) for b in table["bits"]]
    controls = {
        "bits": w.SelectionSlider(description="key size (bits)", options=options,
                                  value=min(options, key=lambda o: abs(o - bits)), continuous_update=True,
                                  layout=_SLIDER_LAYOUT, style=_SLIDER_STYLE),
        "log10_values": _slider(w.FloatSlider, "log₁₀ numbers per update", value=log10_values, min=0.0,
                                max=7.0, step=0.5),
        "clients": _slider(w.IntSlider, "clients", value=clients, min=2, max=1000),
    }

    def compute(bits: int, log10_values: float, clients: int) -> dict:
        return he.aggregation_seconds(table, bits=bits, values=round(10 ** log10_values), clients=clients)

    return Explorer(controls, compute, plots.encrypted_aggregation_cost)


EXPLORERS: dict[str, Callable[..., Explorer]] = {
    "key_search": key_search_explorer,
    "kdf_cost": kdf_cost_explorer,
    "mechanism": mechanism_explorer,
    "composition": composition_explorer,
    "dpsgd": dpsgd_explorer,
    "deidentification": deidentification_explorer,
    "tampering": tampering_explorer,
    "fedavg": fedavg_explorer,
    "compression": compression_explorer,
    "threshold": threshold_explorer,
    "secure_aggregation": secure_aggregation_explorer,
    "paillier_cost": paillier_cost_explorer,
}
