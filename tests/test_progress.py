"""leptonkit._progress: a bar for every long loop, shown after 2 s by default, off on request."""

from __future__ import annotations

import io

import numpy as np
import pytest

from leptonkit import _progress, datasets, dpsgd, fl, models, privacy_audit


@pytest.fixture
def made(monkeypatch):
    """Record the keyword arguments of every bar the kit makes (the real tqdm still runs)."""
    made: list[dict] = []
    real = _progress.tqdm

    def recording(iterable=None, **kwargs):
        made.append(kwargs)
        return real(iterable, file=io.StringIO(), **kwargs)

    monkeypatch.setattr(_progress, "tqdm", recording)
    monkeypatch.delenv("LEPTONKIT_PROGRESS", raising=False)
    return made


def test_the_default_bar_waits_two_seconds_then_shows(made):
    assert list(_progress.bar(range(3), desc="x")) == [0, 1, 2]
    assert made[-1]["delay"] == _progress.DELAY_S == 2.0
    assert made[-1]["disable"] is False and made[-1]["leave"] is False


def test_true_shows_at_once_false_never(made):
    list(_progress.bar(range(2), desc="x", progress=True))
    assert made[-1]["delay"] == 0.0 and made[-1]["disable"] is False
    list(_progress.bar(range(2), desc="x", progress=False))
    assert made[-1]["disable"] is True


@pytest.mark.parametrize("value", ["0", "off", "False", " no "])
def test_the_environment_turns_the_default_off_but_not_an_explicit_true(made, monkeypatch, value):
    monkeypatch.setenv("LEPTONKIT_PROGRESS", value)
    list(_progress.bar(range(2), desc="x"))
    assert made[-1]["disable"] is True
    list(_progress.bar(range(2), desc="x", progress=True))
    assert made[-1]["disable"] is False


@pytest.mark.parametrize("bad", ["yes", 1, 0.0, [True]])
def test_progress_must_be_a_bool_or_none(bad):
    with pytest.raises(TypeError, match="progress must be True, False or None"):
        _progress.check_progress(bad)


def test_a_shown_bar_writes_and_a_quick_one_does_not():
    shown, quiet = io.StringIO(), io.StringIO()
    for _ in _progress.tqdm(range(3), file=shown, delay=0.0):
        pass
    for _ in _progress.tqdm(range(3), file=quiet, delay=_progress.DELAY_S):
        pass
    assert "3/3" in shown.getvalue() and quiet.getvalue() == ""


def _digits(n=120):
    X, _, y, _ = datasets.digits()
    return X[:n], y[:n]


def test_training_and_federated_rounds_have_a_default_bar(made):
    X, y = _digits()
    dpsgd.train(models.mlp(64, 10), X, y, noise_multiplier=1.0, epochs=1, batch_size=32, rng=0)
    fl.fedavg(models.mlp(64, 10), [(X[k::3], y[k::3]) for k in range(3)], rounds=1, rng=0)
    included = np.random.default_rng(0).random((2, len(y))) < 0.5
    privacy_audit.train_models(models.mlp(64, 10), X, y, included, epochs=1, lr=0.1, rng=0)
    descriptions = [m["desc"] for m in made if m["delay"] == _progress.DELAY_S and not m["disable"]]
    assert {"DP-SGD", "FedAvg", "2 models"} <= set(descriptions)


def test_a_bad_progress_is_refused_before_any_training():
    X, y = _digits()
    with pytest.raises(TypeError, match="progress"):
        dpsgd.train(models.mlp(64, 10), X, y, noise_multiplier=1.0, epochs=1, progress="yes")
    with pytest.raises(TypeError, match="progress"):
        fl.fedavg(models.mlp(64, 10), [(X[k::3], y[k::3]) for k in range(3)], rounds=1, progress=1)


def test_a_quick_training_run_shows_no_bar(capsys, monkeypatch):
    """The loss beside DP-SGD's bar must not draw it early (tqdm's set_postfix refreshes by default)."""
    monkeypatch.delenv("LEPTONKIT_PROGRESS", raising=False)
    X, y = _digits()
    dpsgd.train(models.mlp(64, 10), X, y, noise_multiplier=1.0, epochs=3, batch_size=32, rng=0)
    assert capsys.readouterr().err == ""
