"""Notebook 13's exercises accept right answers and refuse wrong ones; its runs show what it says."""

from __future__ import annotations

import math

import pytest

from leptonkit import text
from leptonkit.lessons import n13_private_text_models as lesson


def test_each_noise_multiplier_reaches_its_epsilon():
    """NOISE is a cache of the kit's own calibration: each σ gives ε at most its target, within 0.01."""
    settings = {"classifier": (lesson.CLASSIFIER["batch_size"] / 1200, 150),
                "language_model": (lesson.LANGUAGE_MODEL["batch_size"] / lesson.LM_MESSAGES, 40)}
    for model, table in lesson.NOISE.items():
        q, steps = settings[model]
        for target, sigma in table.items():
            epsilon = text._epsilon(sigma, q, steps, lesson.DELTA)
            assert target - 0.01 <= epsilon <= target, (model, target, epsilon)


def test_the_vocabulary_is_built_on_the_training_chats_only():
    data = lesson.classifier_data()
    frame = lesson.chats()
    train_tokens = {t for s in frame.loc[frame["split"] == "train", "text"] for t in text.tokenize(s)}
    assert set(data["vocabulary"].tokens[len(text.SPECIAL_TOKENS):]) <= train_tokens
    assert len(data["X_train"]) == 1200 and len(data["X_test"]) == 300


def test_the_grid_shows_what_the_notebook_says():
    grid = lesson.explorer_grid()
    accuracy = dict(zip(grid["epsilon"], grid["accuracy"], strict=True))
    assert accuracy[math.inf] > accuracy[4.0] > accuracy[1.0]
    exposure = grid["exposure"]
    assert exposure[-1, 1] > 18 and exposure[-1, 2] > 18          # no DP: the four secrets ranked 1-4
    assert (exposure[:-1, 0] < 1.44).all()                          # DP, one chat: no more than never seen
    assert (exposure[:-1, 2] > exposure[:-1, 0]).all()              # repetitions raise exposure at every ε
    assert lesson.language_model_run(1.0, 16)["exposures"].max() > 10   # one secret stands out at ε = 1


ANSWERS = {
    "13.1": lambda: ([math.log2(10**6) - math.log2(37), 14.72], [math.log2(37), 19.93, 0]),
    "13.2": lambda: ([lesson.greedy_digits(lesson.language_model_run(math.inf, 16)["run"].model,
                                           lesson.language_model_data(16)["vocabulary"], lesson.PREFIX, 6),
                      *lesson.SECRETS],
                     [lesson.greedy_digits(lesson.language_model_run(1.0, 16)["run"].model,
                                           lesson.language_model_data(16)["vocabulary"], lesson.PREFIX, 6),
                      "123456", 281945, "28194"]),
    "13.3": lambda: ([{"classifier": 4.0, "language_model": 1.0}],
                     [{"classifier": 1.0, "language_model": 1.0}, {"classifier": 4.0, "language_model": 4.0},
                      {"classifier": 16.0, "language_model": 1.0},
                      {"classifier": math.inf, "language_model": 1.0},
                      {"classifier": 4.0}, {"classifier": 3.0, "language_model": 1.0}]),
}


@pytest.mark.parametrize("exercise_id", sorted(ANSWERS))
def test_exercise(exercise_id, judge):
    judge(exercise_id, *ANSWERS[exercise_id]())


def test_the_model_card_states_the_guarantee():
    run = lesson.train_classifier(4.0)
    card = lesson.model_card(name="c", run=run, accuracy=0.9, exposure=1.0, privacy_unit="one chat",
                             data="d", max_grad_norm=1.0)
    assert f"(ε, δ) = ({run.epsilon:.2f}, 1e-05)" in card and "privacy unit | one chat" in card


def test_the_one_run_audit_of_the_classifier_brackets_its_epsilon():
    """Without DP the canaries are remembered (a bound clearly above 0: 43 of 50 guesses right gives
    0.88 at 95 %); with DP-SGD the lower bound never exceeds the accountant's ε."""
    assert lesson.classifier_audit(math.inf)["audit"].epsilon > 0.5
    for eps in (1.0, 4.0, 16.0):
        run = lesson.classifier_audit(eps)
        assert run["audit"].epsilon <= run["epsilon"] <= eps
