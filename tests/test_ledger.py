"""One ledger through every release: checked before computing, booked after, tight, persistent, parallel."""

from __future__ import annotations

import json
import math
import threading

import numpy as np
import pytest
import torch

from leptonkit import accounting, audit, datasets, dp, dpsgd, fl, models
from leptonkit.accounting import PrivacyAccountant, PrivacyCost
from leptonkit.errors import IntegrityError, PrivacyBudgetExceeded

# --- every releasing function refuses before it computes -------------------------------------------

_X, _, _Y, _ = datasets.digits()
_CLIENTS = [(_X[i * 20:(i + 1) * 20], _Y[i * 20:(i + 1) * 20]) for i in range(4)]

# Each call spends far more than the budget of ε 0.5 below allows (or, for Gaussians, δ too small).
RELEASES = {
    "laplace_mechanism": lambda acc, g: dp.laplace_mechanism(3.0, sensitivity=1, epsilon=1.0, rng=g,
                                                             accountant=acc),
    "laplace_mechanism (array)": lambda acc, g: dp.laplace_mechanism(np.ones(3), sensitivity=1, epsilon=1.0,
                                                                     rng=g, accountant=acc),
    "geometric_mechanism": lambda acc, g: dp.geometric_mechanism(7, epsilon=1.0, rng=g, accountant=acc),
    "gaussian_mechanism": lambda acc, g: dp.gaussian_mechanism(0.0, sensitivity=1, epsilon=1.0, delta=1e-5,
                                                               rng=g, accountant=acc),
    "exponential_mechanism": lambda acc, g: dp.exponential_mechanism([1.0, 2.0], epsilon=1.0, sensitivity=1,
                                                                      rng=g, accountant=acc),
    "randomized_response": lambda acc, g: dp.randomized_response([True, False], epsilon=1.0, rng=g,
                                                                 accountant=acc),
    "dp_count": lambda acc, g: dp.dp_count([1, 2, 3], epsilon=1.0, rng=g, accountant=acc),
    "dp_sum": lambda acc, g: dp.dp_sum([1.0, 2.0], lower=0, upper=5, epsilon=1.0, rng=g, accountant=acc),
    "dp_mean": lambda acc, g: dp.dp_mean([1.0, 2.0], lower=0, upper=5, epsilon=1.0, rng=g, accountant=acc),
    "dp_histogram": lambda acc, g: dp.dp_histogram([1.0, 2.0], bins=[0, 1, 2, 3], epsilon=1.0, rng=g,
                                                   accountant=acc),
    "dpsgd.train": lambda acc, g: dpsgd.train(models.mlp(64, 10), _X[:50], _Y[:50], noise_multiplier=0.5,
                                              epochs=2, rng=g, accountant=acc),
    "fl.fedavg": lambda acc, g: fl.fedavg(models.mlp(64, 10), _CLIENTS, rounds=2, noise_multiplier=0.5,
                                          clip_norm=1.0, rng=g, accountant=acc),
}


@pytest.mark.parametrize("name", list(RELEASES))
def test_a_release_over_budget_is_refused_before_it_computes(name, tmp_path):
    log = audit.AuditLog(tmp_path / "audit.jsonl")
    ledger = PrivacyAccountant(0.5, 1e-9, audit_log=log)
    generator = np.random.default_rng(0)
    state, lines = generator.bit_generator.state, log.path.read_bytes()
    torch_state = torch.random.get_rng_state()
    with pytest.raises(PrivacyBudgetExceeded, match="nothing was spent"):
        RELEASES[name](ledger, generator)
    assert generator.bit_generator.state == state          # not one random number was drawn
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert ledger.history == [] and ledger.spent == (0.0, 0.0)
    added = log.path.read_bytes()[len(lines):].splitlines()
    assert lines and [json.loads(line)["action"] for line in added] == ["privacy_spend_refused"]


@pytest.mark.parametrize("name", list(RELEASES))
def test_a_release_within_budget_is_booked_once_under_its_label(name):
    ledger = PrivacyAccountant(1e6, 1e-5)
    RELEASES[name](ledger, np.random.default_rng(0))
    assert len(ledger.history) == 1 and 0 < ledger.spent[0] < math.inf


def test_a_failed_release_spends_nothing_and_writes_nothing(tmp_path):
    log = audit.AuditLog(tmp_path / "audit.jsonl")
    ledger = PrivacyAccountant(10.0, 1e-5, audit_log=log)
    before = log.path.read_bytes()

    class Broken(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(64, 10)

        def forward(self, x):
            if torch.is_grad_enabled():   # the data fit; training is what fails
                raise RuntimeError("the GPU caught fire")
            return self.layer(x)

    with pytest.raises(RuntimeError, match="caught fire"):
        dpsgd.train(Broken(), _X[:50], _Y[:50], noise_multiplier=1.0, epochs=1, rng=0, accountant=ledger)
    assert ledger.history == [] and log.path.read_bytes() == before


def test_a_refused_gaussian_release_is_the_issues_example():
    acc = PrivacyAccountant(epsilon=0.05, delta=1e-5)
    with pytest.raises(PrivacyBudgetExceeded):
        dp.gaussian_mechanism(np.zeros(3), sensitivity=1, epsilon=0.1, delta=1e-7, accountant=acc)
    assert acc.history == []


# --- tight composition ------------------------------------------------------------------------------


def test_sixty_gaussians_compose_as_one_with_sigma_over_root_sixty():
    ledger = PrivacyAccountant(epsilon=10, delta=1e-5)
    for i in range(60):
        dp.gaussian_mechanism(0.0, sensitivity=1, epsilon=0.1, delta=1e-7, rng=i, accountant=ledger)
    sigma = dp.gaussian_sigma(sensitivity=1, epsilon=0.1, delta=1e-7)
    exact = dp.gaussian_epsilon(sigma=sigma / math.sqrt(60), sensitivity=1, delta=1e-5)
    eps, delta = ledger.spent
    assert delta == 1e-5 and exact <= eps <= 1.05 * exact    # a valid bound, within 5 % of the truth
    assert ledger.spent_basic == pytest.approx((6.0, 6e-6))   # basic composition: nine times too much
    basic = PrivacyAccountant(epsilon=10, delta=1e-5, composition="basic")
    for i in range(60):
        dp.gaussian_mechanism(0.0, sensitivity=1, epsilon=0.1, delta=1e-7, rng=i, accountant=basic)
    assert basic.spent == pytest.approx((6.0, 6e-6))


def test_laplace_spends_compose_exactly_and_pure_budgets_stay_pure():
    ledger = PrivacyAccountant(1.0)
    for i in range(10):
        dp.dp_count([1] * 30, epsilon=0.1, rng=i, accountant=ledger)
    assert ledger.spent == pytest.approx((1.0, 0.0))
    with pytest.raises(PrivacyBudgetExceeded):
        dp.dp_count([1] * 30, epsilon=0.01, accountant=ledger)


def test_many_laplace_spends_cost_less_than_basic_composition_when_delta_is_allowed():
    ledger = PrivacyAccountant(20.0, 1e-6)
    for i in range(100):
        dp.laplace_mechanism(0.0, sensitivity=1, epsilon=0.1, rng=i, accountant=ledger)
    # tighter than the advanced composition theorem at the same δ, which beats basic composition here
    assert ledger.spent[0] < accounting.advanced_composition(0.1, 0, 100, delta_prime=1e-6)[0] < 10.0


def test_dpsgd_spend_agrees_with_opacus_prv():
    result = dpsgd.train(models.mlp(64, 10), _X[:200], _Y[:200], noise_multiplier=1.0, epochs=3, rng=0,
                         accountant=(ledger := PrivacyAccountant(50.0, 1e-5)))
    prv = accounting.dpsgd_epsilon(noise_multiplier=1.0, sample_rate=result.sample_rate, steps=result.steps,
                                   delta=1e-5, accountant="prv")
    assert ledger.spent[0] == pytest.approx(prv, rel=0.02)
    assert ledger.spent[0] <= result.epsilon + 1e-9           # PLD is at least as tight as RDP


def test_mixed_mechanisms_compose_between_their_parts_and_their_sum():
    gaussian = PrivacyCost.gaussian(5.0, epsilon=dp.gaussian_epsilon(sigma=5.0, sensitivity=1, delta=1e-6),
                                    delta=1e-6)
    laplace = PrivacyCost.discrete_laplace(decay=0.3, sensitivity=1)
    both = PrivacyAccountant(100.0, 1e-5)
    both.spend(gaussian, label="g")
    both.spend(laplace, label="l")
    alone = PrivacyAccountant(100.0, 1e-5)
    alone.spend(gaussian, label="g")
    assert alone.spent[0] < both.spent[0] <= gaussian.epsilon + laplace.epsilon


# --- parallel composition ---------------------------------------------------------------------------


def test_a_per_region_table_costs_one_epsilon_not_one_per_region():
    customers = datasets.bank_customers(800)
    ledger = PrivacyAccountant(1.0)
    with ledger.parallel("mean balance per region"):
        for region, rows in customers.groupby("region"):
            dp.dp_sum(rows["balance"], lower=0, upper=5000, epsilon=0.5, rng=0, accountant=ledger,
                      label=f"balance in {region}")
    assert len(ledger.history) == customers["region"].nunique()
    assert ledger.spent == pytest.approx((0.5, 0.0))
    with ledger.parallel("counts per region"):
        ledger.spend(0.3, label="North")
        ledger.spend(0.45, label="South")       # the largest of a parallel block is what it costs
    assert ledger.spent == pytest.approx((0.95, 0.0))
    with pytest.raises(PrivacyBudgetExceeded), ledger.parallel("too much"):
        ledger.spend(0.2, label="East")
    with pytest.raises(ValueError, match="nest"), ledger.parallel("a"), ledger.parallel("b"):
        pass


# --- persistence --------------------------------------------------------------------------------------


def test_resume_restores_the_spent_budget_after_a_restart(tmp_path):
    path = tmp_path / "audit.jsonl"
    ledger = PrivacyAccountant(2.0, 1e-5, audit_log=audit.AuditLog(path), actor="dpo")
    dp.gaussian_mechanism(0.0, sensitivity=1, epsilon=0.3, delta=1e-7, rng=0, accountant=ledger)
    with ledger.parallel("regions"):
        ledger.spend(0.2, label="a")
        ledger.spend(0.4, label="b")
    dp.dp_count([1, 2], epsilon=0.25, rng=0, accountant=ledger)
    spent, history = ledger.spent, ledger.history
    del ledger                                                   # the kernel restarts
    log = audit.AuditLog(path)
    with pytest.raises(ValueError, match="resume"):
        PrivacyAccountant(2.0, 1e-5, audit_log=log, actor="dpo")  # a second, fresh budget is refused
    resumed = PrivacyAccountant.resume(log, actor="dpo")
    assert (resumed.epsilon, resumed.delta) == (2.0, 1e-5)
    assert resumed.spent == spent and resumed.history == history
    with resumed.parallel("more regions"):                      # a new block, not the old one
        resumed.spend(0.1, label="c")
    assert resumed.spent[0] > spent[0]
    with pytest.raises(ValueError, match="no privacy budget"):
        PrivacyAccountant.resume(log, actor="someone else")


def test_a_tampered_log_refuses_to_resume(tmp_path):
    path = tmp_path / "audit.jsonl"
    ledger = PrivacyAccountant(1.0, audit_log=audit.AuditLog(path))
    ledger.spend(0.9, label="almost everything")
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(lines[0])                                    # the forger deletes the spend
    assert PrivacyAccountant.resume(audit.AuditLog(path)).spent == (0.0, 0.0)  # unkeyed: a cut is invisible
    forged = json.loads(lines[1])
    forged["details"]["epsilon"] = 0.01                          # editing a record is not
    path.write_bytes(lines[0] + json.dumps(forged).encode() + b"\n")
    with pytest.raises(IntegrityError):
        PrivacyAccountant.resume(audit.AuditLog(path))


def test_the_budget_is_read_only():
    ledger = PrivacyAccountant(1.0)
    for name in ("epsilon", "delta", "composition"):
        with pytest.raises(AttributeError, match="fixed"):
            setattr(ledger, name, float("nan"))
    assert ledger.epsilon == 1.0


def test_concurrent_spends_never_overspend():
    ledger = PrivacyAccountant(1.0)
    barrier, refused = threading.Barrier(8), []

    def spend(i):
        barrier.wait()
        try:
            ledger.spend(0.6, label=f"thread {i}")
        except PrivacyBudgetExceeded:
            refused.append(i)

    threads = [threading.Thread(target=spend, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(ledger.history) == 1 and len(refused) == 7 and ledger.spent == (0.6, 0.0)


@pytest.mark.parametrize("call, error, match", [
    (lambda: PrivacyAccountant(1.0, composition="rdp"), ValueError, "composition"),
    (lambda: PrivacyAccountant(1.0, audit_log="x.jsonl"), TypeError, "audit_log"),
    (lambda: PrivacyAccountant(1.0).spend(PrivacyCost.pure(0.1), label=""), TypeError, "label"),
    (lambda: PrivacyCost.gaussian(-1, epsilon=1, delta=0), ValueError, "noise_multiplier"),
    (lambda: PrivacyCost.discrete_laplace(decay=0.1, sensitivity=0), ValueError, "sensitivity"),
    (lambda: dp.dp_count([1], epsilon=1.0, accountant="budget"), TypeError, "accountant"),
    (lambda: PrivacyCost.from_record({"mechanism": "magic", "epsilon": 1}), ValueError, "record"),
])
def test_bad_ledger_inputs_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


_SPENDER = """
import sys
from leptonkit import accounting, audit
from leptonkit.errors import PrivacyBudgetExceeded
ledger = accounting.PrivacyAccountant.resume(audit.AuditLog(sys.argv[1]))
accepted = 0
for i in range(5):
    try:
        ledger.spend(0.3, label=f"process {sys.argv[2]} spend {i}")
        accepted += 1
    except PrivacyBudgetExceeded:
        pass
print(accepted)
"""


def test_processes_sharing_one_log_never_overspend(tmp_path):
    """Four processes resume one budget and race to spend: the log's file lock lets exactly three
    spends of 0.3 into a budget of 1.0, and the chain stays whole."""
    import subprocess
    import sys

    path = tmp_path / "audit.jsonl"
    PrivacyAccountant(1.0, audit_log=audit.AuditLog(path))
    workers = [subprocess.Popen([sys.executable, "-c", _SPENDER, str(path), str(k)], stdout=subprocess.PIPE,
                                text=True) for k in range(4)]
    accepted = sum(int(w.communicate(timeout=120)[0]) for w in workers)
    resumed = PrivacyAccountant.resume(audit.AuditLog(path))
    assert accepted == len(resumed.history) == 3
    assert resumed.spent == pytest.approx((0.9, 0.0))
    assert audit.AuditLog(path).verify()
