"""The private-training pipeline end to end on small data: in budget, logged, leak-free, strict at input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leptonkit import accounting, audit, datasets, fl, pipeline


@pytest.fixture(scope="module")
def credit() -> pd.DataFrame:
    return datasets.load_credit(3000, rng=0)


@pytest.fixture(scope="module")
def report(credit, tmp_path_factory) -> pipeline.PipelineReport:
    log = tmp_path_factory.mktemp("pipeline") / "audit.jsonl"
    pipe = pipeline.PrivateTrainingPipeline(
        4, target_epsilon=2.0, party="bank", rounds=20, batch_size=256, audit_log=log, rng=0
    )
    return pipe.run(credit.drop(columns="customer"), target="default")


def test_the_run_stays_in_budget_and_its_log_verifies(report):
    assert 0 < report.epsilon_spent <= report.target_epsilon
    assert report.audit_verified and report.audit_path.exists()
    assert len(report.history) == report.rounds


def test_the_reports_figures_are_the_ledgers(report):
    """What the report says was spent is what the ledger in the audit log says, read back independently."""
    resumed = accounting.PrivacyAccountant.resume(audit.AuditLog(report.audit_path), actor="pipeline")
    assert resumed.spent[0] == pytest.approx(report.epsilon_spent, rel=1e-9)
    assert resumed.epsilon == report.target_epsilon and resumed.delta == report.delta
    assert f"spent ε = {report.epsilon_spent:g}" in report.compliance


def test_the_model_learns_and_is_evaluated_per_party(report):
    # Untrained the AUC is 0.5 ± a few hundredths on ~600 test rows; the stated model reaches ~0.75.
    assert report.test_auc > 0.65
    assert set(report.per_party["party"]) == set(datasets.BANKS)
    assert report.per_party["rows"].sum() > 0 and report.brier < 0.25
    assert report.worst_party()[min(report.worst_party())] <= report.test_auc + 0.1


def test_the_report_states_what_the_server_sees_and_what_is_not_covered(report):
    assert "masked" in report.threat_model["transit"]
    assert any("preprocessing" in line for line in report.not_covered)
    assert "ε =" in str(report) and "worst party" in str(report)


def test_test_rows_never_reach_the_preprocessing_fits(credit):
    """Changing only the held-out rows leaves every fitted statistic (fills, scaling, categories) alone."""
    frame = credit.drop(columns="customer")
    pipe = lambda: pipeline.PrivateTrainingPipeline(4, target_epsilon=1.0, party="bank", rng=3)  # noqa: E731
    first = pipe().preprocess(frame, target="default")
    poisoned = frame.copy()
    poisoned.loc[first.test_index, "income"] = 1e12
    poisoned.loc[first.test_index, "region"] = "Atlantis"
    second = pipe().preprocess(poisoned, target="default")
    np.testing.assert_array_equal(first.test_index, second.test_index)
    np.testing.assert_allclose(first.fitted["mean"], second.fitted["mean"])
    np.testing.assert_allclose(first.fitted["std"], second.fitted["std"])
    assert first.fitted["levels"] == second.fitted["levels"] and "region=Atlantis" not in second.features
    np.testing.assert_array_equal(first.X_train, second.X_train)
    # ... and the statistics are the training rows' own
    income = frame.loc[first.train_index, "income"]
    assert first.fitted["mean"][first.fitted["numeric"].index("income")] == pytest.approx(income.mean())


def test_the_split_is_independent_of_a_frame_drawn_with_the_same_seed(credit):
    """load_credit(rng=0) and a pipeline with rng=0 start from the same seed; the held-out rows must still be
    a random fifth of every bank (binomial: ±4 standard errors of the share)."""
    frame = credit.copy()
    pipe = pipeline.PrivateTrainingPipeline(4, target_epsilon=1.0, privacy_unit="person", person="customer",
                                            party="bank", rng=0)
    prepared = pipe.preprocess(frame, target="default")
    held_out = frame.index.isin(prepared.test_index)
    for bank, rows in frame.groupby("bank").groups.items():
        share, n = held_out[frame.index.isin(rows)].mean(), len(rows)
        assert abs(share - 0.2) < 4 * np.sqrt(0.2 * 0.8 / n), bank


def test_the_split_does_not_depend_on_how_pseudonyms_sort(credit):
    """Two random pseudonymisation keys rename every person; the held-out rows stay the same."""
    from leptonkit import crypto, masking

    def split(key):
        frame = credit.assign(customer=masking.pseudonymize(credit["customer"], key=key))
        pipe = pipeline.PrivateTrainingPipeline(4, target_epsilon=1.0, privacy_unit="person",
                                                person="customer", party="bank", rng=0)
        return pipe.preprocess(frame, target="default").test_index

    np.testing.assert_array_equal(split(crypto.generate_key()), split(crypto.generate_key()))


def test_person_level_bounds_rows_and_splits_by_person(credit):
    frame = credit.copy()
    pipe = pipeline.PrivateTrainingPipeline(
        4,
        target_epsilon=1.0,
        privacy_unit="person",
        person="customer",
        party="bank",
        max_rows_per_person=1,
        rng=0,
    )
    prepared = pipe.preprocess(frame, target="default")
    train, test = frame.loc[prepared.train_index, "customer"], frame.loc[prepared.test_index, "customer"]
    assert train.is_unique and not set(train) & set(test)
    assert prepared.dropped_rows > 0  # about 10 % of customers have a second bank
    assert "customer" not in " ".join(prepared.features)


def test_person_level_with_two_rows_books_the_group_cost(credit, tmp_path):
    pipe = pipeline.PrivateTrainingPipeline(
        4,
        target_epsilon=2.0,
        privacy_unit="person",
        person="customer",
        party="bank",
        max_rows_per_person=2,
        rounds=10,
        rng=0,
        audit_log=tmp_path / "a.jsonl",
    )
    plan = pipe.plan(pipe.partition(pipe.preprocess(credit, target="default")))
    # group privacy for two rows: (2ε, 2e^ε δ) with ε the per-row cost (Vadhan 2017, Lemma 2.2)
    assert plan["rows_per_unit"] == 2 and plan["cost"].epsilon <= 2.0
    assert plan["delta_per_row"] == pytest.approx(1e-5 / (2 * np.exp(1.0)))
    report = pipe.run(credit, target="default")
    assert report.epsilon_spent <= 2.0 and report.audit_verified


def test_two_rows_per_person_with_a_dropout_books_the_whole_run_once(credit, tmp_path):
    pipe = pipeline.PrivateTrainingPipeline(4, target_epsilon=2.0, privacy_unit="person", person="customer",
                                            party="bank", max_rows_per_person=2, rounds=10, rng=0,
                                            audit_log=tmp_path / "a.jsonl")
    report = pipe.run(credit, target="default", drop=(1, 5))
    spends = [r for r in audit.AuditLog(tmp_path / "a.jsonl").records() if r.action == "privacy_spend"]
    # one spend: the group-privacy bound (2ε, 2e^ε δ) of both phases' row-level mechanism together
    assert len(spends) == 1 and report.epsilon_spent <= 2.0
    assert [h["parties"] for h in report.history] == [4] * 5 + [3] * 5


def test_a_party_that_leaves_mid_run_books_two_spends_within_budget(credit, tmp_path):
    pipe = pipeline.PrivateTrainingPipeline(
        4, target_epsilon=1.5, party="bank", rounds=12, rng=0, audit_log=tmp_path / "a.jsonl"
    )
    report = pipe.run(credit.drop(columns="customer"), target="default", drop=(1, 6))
    spends = [r for r in audit.AuditLog(tmp_path / "a.jsonl").records() if r.action == "privacy_spend"]
    assert len(spends) == 2 and report.epsilon_spent <= 1.5
    assert [h["parties"] for h in report.history] == [4] * 6 + [3] * 6


def test_without_secure_aggregation_updates_are_sealed_and_the_report_says_the_server_reads_them():
    mean, said = pipeline.PrivateTrainingPipeline(
        3, target_epsilon=1.0, noise="local", secure_aggregation=False
    ).transit()
    updates, weights = np.random.default_rng(0).normal(size=(3, 5)), np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(
        mean(updates, weights, np.arange(3)), fl.weighted_mean(updates, weights, np.arange(3))
    )
    assert not mean.secure and "reads every party's update" in said


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(target="nope"), "target must name a column"),
        (dict(df="customer"), "looks like an identifier"),  # a non-numeric feature with no encoding
        (dict(df="tiny bank"), "fewer than 20 training rows"),
        (dict(df="no label"), "0/1"),
        (dict(df="dates"), "cannot encode"),
    ],
)
def test_bad_input_is_named_before_anything_is_written(credit, tmp_path, change, message):
    frame = credit.drop(columns="customer")
    if change.get("df") == "customer":
        frame = credit
    elif change.get("df") == "tiny bank":
        frame = pd.concat(
            [frame[frame.bank != "Hills Savings"], frame[frame.bank == "Hills Savings"].head(10)]
        )
    elif change.get("df") == "no label":
        frame = frame.assign(default=frame["default"].astype(float).where(frame.index % 7 > 0))
    elif change.get("df") == "dates":
        frame = frame.assign(opened=pd.Timestamp("2020-01-01"))
    log = tmp_path / "audit.jsonl"
    pipe = pipeline.PrivateTrainingPipeline(
        4, target_epsilon=1.0, party="bank", rounds=2, audit_log=log, rng=0
    )
    with pytest.raises(ValueError, match=message):
        pipe.run(frame, target=change.get("target", "default"))
    assert not log.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(target_epsilon=0.0), "target_epsilon"),
        (dict(target_epsilon=-1.0), "target_epsilon"),
        (dict(target_epsilon=1.0, noise="distributed", secure_aggregation=False), "secure_aggregation=True"),
        (dict(target_epsilon=1.0, noise="central"), "privacy_unit='party'"),
        (dict(target_epsilon=1.0, privacy_unit="person"), "person="),
        (dict(target_epsilon=1.0, privacy_unit="bank"), "privacy_unit"),
        (dict(target_epsilon=1.0, local_epochs=3), "local_epochs"),
    ],
)
def test_bad_settings_are_named_at_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pipeline.PrivateTrainingPipeline(kwargs.pop("n_parties", 4), **kwargs)
