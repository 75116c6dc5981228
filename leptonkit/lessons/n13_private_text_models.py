"""Lesson for notebooks/13_private_text_models.ipynb: a bank's support chats, a DP classifier, a canary.

Here: the chats (``datasets.support_messages``, de-identified with ``text.redact_identifiers``), the
complaint classifier trained with DP-SGD at each ε, the autocomplete language model trained with a
planted secret repeated 1, 4 or 16 times and its exposure (Carlini et al. 2019), the grid the
explorer reads (ε and repetitions → accuracy and exposure), the model card, and the exercise
checkers 13.1–13.3. The models and the metric are :mod:`leptonkit.text`'s.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from leptonkit import accounting, datasets, dpsgd, models, privacy_audit, text
from leptonkit.exercises import NotYet, close_to, exercise
from leptonkit.i18n import N_, _
from leptonkit.lessons.n02_laplace_vs_gaussian import staged
from leptonkit.plots import (
    GAUSSIAN_COLOUR,
    HIGHLIGHT_COLOUR,
    LAPLACE_COLOUR,
    NEUTRAL_COLOUR,
    finish,
    reference_line,
)
from leptonkit.widgets import Explorer, selection_slider

__all__ = ["AUDIT_CANARIES", "CANARIES", "CANARY_WORDS", "CLASSIFIER", "DELTA", "EPSILONS", "EXPLORERS",
           "LANGUAGE_MODEL", "NOISE", "PREFIX", "REPEATS", "SECRETS", "chats", "classifier_audit",
           "classifier_data", "classifier_run", "composed_epsilon",
           "explorer_grid", "greedy_digits", "language_model_data", "language_model_run", "model_card",
           "text_explorer", "train_classifier", "train_language_model"]

#: The one-time codes four customers pasted into their chats, each into the same number of chats.
SECRETS = ("281945", "730162", "464203", "918357")
PREFIX = "my verification code is"
CANARIES = tuple(f"{PREFIX} {secret}" for secret in SECRETS)
MESSAGES = 1500                         # 1 200 training chats, 300 test chats
LM_MESSAGES = 400                       # the autocomplete model's training chats (a subset of the same)
EPSILONS = (1.0, 4.0, 16.0, math.inf)   # ε per message; ∞: no DP
REPEATS = (1, 4, 16)                    # chats the secret is in
DELTA = 1e-5
#: DP-SGD settings of the classifier: one setting for every ε (not tuned per ε, nor on the test split).
CLASSIFIER = {"epochs": 30, "batch_size": 240, "lr": 3.0, "max_grad_norm": 1.0}
#: DP-SGD settings of the autocomplete model (and, with noise 0, its non-private baseline).
LANGUAGE_MODEL = {"epochs": 8, "batch_size": 80, "lr": 0.02, "max_grad_norm": 1.0}
_PLAIN_LM = {"epochs": 10, "batch_size": 32, "lr": 0.02}
# The noise multiplier σ that reaches each ε of EPSILONS with these settings (q = 0.2; 150 and 40 steps),
# found once with the kit's calibration (RDP bounds the search, PLD decides: dpsgd.train's) so that the
# notebook does not repeat a seconds-long search per run. The ε each run reports is the accountant's, computed
# afresh from σ; tests/lessons/test_n13_private_text_models.py checks each σ reaches its ε to within 0.01.
NOISE = {"classifier": {1.0: 9.2908, 4.0: 2.8309, 16.0: 1.0779},
         "language_model": {1.0: 5.0055, 4.0: 1.6751, 16.0: 0.7338}}
_KEY = b"lesson 13 pseudonymisation key, for the checkers only"
_MAX_LENGTH = 64        # tokens a classifier reads; the LM reads the first 40 (the secret comes early)
_LM_LENGTH = 40


@functools.cache
def _chats(repeats: int) -> pd.DataFrame:
    return datasets.support_messages(MESSAGES, canary=list(CANARIES) if repeats else None,
                                     canary_repeats=repeats, rng=0)


def chats(repeats: int = 0) -> pd.DataFrame:
    """Harbour Bank's support chats (a copy), each of the four secrets in ``repeats`` training chats."""
    return _chats(int(repeats)).copy()


@functools.cache
def _redacted(repeats: int) -> pd.DataFrame:
    return text.redact_identifiers(_chats(repeats), key=_KEY)


@functools.cache
def classifier_data() -> dict[str, Any]:
    """The de-identified chats as token ids: the vocabulary (training split only), X and y for both splits."""
    frame = _redacted(0)
    train, test = frame[frame["split"] == "train"], frame[frame["split"] == "test"]
    vocabulary = text.build_vocabulary(train["text"], min_count=3)
    labels = {name: i for i, name in enumerate(datasets.INTENTS)}
    return {"vocabulary": vocabulary,
            "X_train": vocabulary.encode(train["text"], max_length=_MAX_LENGTH),
            "y_train": train["intent"].map(labels).to_numpy(),
            "X_test": vocabulary.encode(test["text"], max_length=_MAX_LENGTH),
            "y_test": test["intent"].map(labels).to_numpy()}


def train_classifier(epsilon: float, *, accountant: accounting.PrivacyAccountant | None = None) -> Any:
    """The complaint classifier at ``epsilon`` per message (∞: ordinary training): a ``dpsgd.TrainResult``
    for finite ε (booked in ``accountant``), else the trained model."""
    data = classifier_data()
    model = text.bag_classifier(len(data["vocabulary"]), len(datasets.INTENTS), seed=0)
    if math.isinf(epsilon):
        return models.train_non_private(model, data["X_train"], data["y_train"], epochs=30, batch_size=32,
                                        lr=0.5, rng=0)
    return dpsgd.train(model, data["X_train"], data["y_train"], **_noise("classifier", epsilon), delta=DELTA,
                       rng=0, accountant=accountant, label="complaint classifier", **CLASSIFIER)


def _noise(model: str, epsilon: float) -> dict[str, float]:
    """The known σ for ``epsilon`` (:data:`NOISE`), else the target ε itself for the trainer to calibrate."""
    sigma = NOISE[model].get(float(epsilon))
    return {"noise_multiplier": sigma} if sigma is not None else {"target_epsilon": float(epsilon)}


@functools.cache
def classifier_run(epsilon: float) -> dict[str, float]:
    """Test accuracy of the classifier at ``epsilon`` (∞: no DP), with the run's σ, q and steps."""
    run = train_classifier(epsilon)
    data = classifier_data()
    model = run if math.isinf(epsilon) else run.model
    accuracy = models.evaluate(model, data["X_test"], data["y_test"])[1]
    if math.isinf(epsilon):
        return {"accuracy": accuracy, "epsilon": math.inf}
    return {"accuracy": accuracy, "epsilon": run.epsilon, "noise_multiplier": run.noise_multiplier,
            "sample_rate": run.sample_rate, "steps": run.steps}


AUDIT_CANARIES = 100   # the one-run audit's canaries: chats of random words with a random category
CANARY_WORDS = 12


@functools.cache
def classifier_audit(epsilon: float) -> dict[str, Any]:
    """Steinke et al.'s one-run audit of the complaint classifier at ``epsilon`` (∞: ordinary training).

    The canaries are :data:`AUDIT_CANARIES` chats of :data:`CANARY_WORDS` words drawn at random from
    the vocabulary, each with a random category (so a model gets one right only by remembering
    it), each added to the training chats by a fair coin (``privacy_audit.inclusion``, rng=14). One
    run is trained as
    :func:`train_classifier` trains it, with the same σ (so its ε, reported by the accountant,
    shifts a little with the extra chats); the auditor's score is minus the model's loss on each
    canary's category. Returns the run's ε and the :class:`~leptonkit.privacy_audit.AuditResult`.
    """
    data = classifier_data()
    n_classes, vocabulary = len(datasets.INTENTS), data["vocabulary"]
    g = np.random.default_rng(13)
    words = np.arange(len(text.SPECIAL_TOKENS), len(vocabulary))
    canaries = np.zeros((AUDIT_CANARIES, data["X_train"].shape[1]), dtype=np.int64)   # PAD after the words
    canaries[:, :CANARY_WORDS] = g.choice(words, size=(AUDIT_CANARIES, CANARY_WORDS))
    wrong = g.integers(0, n_classes, AUDIT_CANARIES)
    included = privacy_audit.inclusion(1, AUDIT_CANARIES, rng=14)[0]
    X = np.concatenate([data["X_train"], canaries[included]])
    y = np.concatenate([data["y_train"], wrong[included]])
    model = text.bag_classifier(len(data["vocabulary"]), n_classes, seed=0)
    if math.isinf(epsilon):
        trained = models.train_non_private(model, X, y, epochs=30, batch_size=32, lr=0.5, rng=0)
        spent = math.inf
    else:
        run = dpsgd.train(model, X, y, **_noise("classifier", epsilon), delta=DELTA, rng=0, **CLASSIFIER)
        trained, spent = run.model, run.epsilon
    with torch.no_grad():
        losses = torch.nn.functional.cross_entropy(trained(torch.as_tensor(canaries)), torch.as_tensor(wrong),
                                                   reduction="none").numpy()
    return {"epsilon": spent, "audit": privacy_audit.one_run_audit(-losses, included, delta=DELTA)}


@functools.cache
def language_model_data(repeats: int) -> dict[str, Any]:
    """The autocomplete model's chats: the 4 × ``repeats`` with a secret and the first other training chats,
    :data:`LM_MESSAGES` in all, de-identified; their vocabulary and token ids (BOS … EOS)."""
    frame = _redacted(repeats)
    train = frame[frame["split"] == "train"]
    planted = train[train["canary"]]
    rows = pd.concat([planted, train[~train["canary"]].head(LM_MESSAGES - len(planted))])
    vocabulary = text.build_vocabulary(rows["text"], min_count=2)
    return {"vocabulary": vocabulary, "texts": rows["text"].tolist(),
            "sequences": vocabulary.encode(rows["text"], max_length=_LM_LENGTH, bos_eos=True)}


def train_language_model(epsilon: float, repeats: int, *,
                         accountant: accounting.PrivacyAccountant | None = None) -> dpsgd.TrainResult:
    """The autocomplete model on :func:`language_model_data` (``repeats``) at ``epsilon`` (∞: no DP)."""
    data = language_model_data(repeats)
    model = text.NextTokenModel(len(data["vocabulary"]), hidden=32, seed=0)
    if math.isinf(epsilon):
        return text.train_language_model(model, data["sequences"], noise_multiplier=0, rng=0, **_PLAIN_LM)
    return text.train_language_model(model, data["sequences"], **_noise("language_model", epsilon),
                                      delta=DELTA, rng=0, accountant=accountant, label="autocomplete model",
                                      **LANGUAGE_MODEL)


@functools.cache
def language_model_run(epsilon: float, repeats: int) -> dict[str, Any]:
    """The mean exposure of the four :data:`SECRETS` in the autocomplete model at ``epsilon`` with
    ``repeats`` planted copies each (and each one's), its final training loss, and the run."""
    run = train_language_model(epsilon, repeats)
    vocabulary = language_model_data(repeats)["vocabulary"]
    each = text.exposure(run.model, vocabulary, prefix=PREFIX, secret=list(SECRETS))
    return {"exposure": float(each.mean()), "exposures": each, "loss": run.history[-1]["loss"], "run": run}


@functools.cache
def explorer_grid() -> dict[str, np.ndarray]:
    """Accuracy at each of :data:`EPSILONS` and exposure at each (ε, repeats): every model trained once."""
    accuracy = np.array([classifier_run(e)["accuracy"] for e in EPSILONS])
    exposure = np.array([[language_model_run(e, r)["exposure"] for r in REPEATS] for e in EPSILONS])
    return {"epsilon": np.array(EPSILONS), "repeats": np.array(REPEATS), "accuracy": accuracy,
            "exposure": exposure, "max_exposure": len(SECRETS[0]) * math.log2(10)}


# --- the compliance record ------------------------------------------------------------------------


def model_card(*, name: str, run: dpsgd.TrainResult, accuracy: float, exposure: float,
               privacy_unit: str, data: str, max_grad_norm: float) -> str:
    """A short model card (Mitchell et al. 2019) in Markdown: the model, data, privacy and evaluation."""
    return "\n".join([
        f"# Model card: {name}",
        "",
        "| field | value |", "|---|---|",
        f"| model | {name}: averaged token embeddings and a linear layer (fastText) |",
        f"| data | {data} |",
        f"| privacy unit | {privacy_unit} |",
        f"| guarantee | (ε, δ) = ({run.epsilon:.2f}, {run.delta:g}) DP-SGD, PLD accountant |",
        f"| training | σ = {run.noise_multiplier:.3f}, C = {max_grad_norm:g}, q = {run.sample_rate:.3f}, "
        f"{run.steps} steps |",
        f"| evaluation | test accuracy {accuracy:.3f} on the held-out chats |",
        f"| memorisation | exposure {exposure:.1f} bits of a secret in 16 chats (autocomplete model) |",
        "| not covered by ε | the vocabulary (chosen from the training chats by a count threshold); "
        "a secret in r chats is protected as a group of r (about r·ε) |",
    ])


# --- exercises -----------------------------------------------------------------------------------


@exercise("13.1", hint=N_("Exposure is log₂ of the number of candidates minus log₂ of the secret's rank."))
@staged("13.1", N_("Six digits give 10⁶ candidates: math.log2(10**6) − math.log2(rank)."))
def _exposure_from_rank(answer: Any) -> bool:
    return close_to(answer, math.log2(10**6) - math.log2(37), rel=1e-3)


@exercise("13.2", hint=N_("Ask the model for the most likely next token after the prefix, six times, keeping "
                          "only digits; answer the six digits as a string."))
@staged("13.2", N_("Window: the last model.context token ids (vocabulary.ids(PREFIX) to start). "
                   "model.next_token_logits(torch.tensor([window])) gives the scores; take the best of "
                   "the ten digit ids, append it to the window, repeat."))
def _extract_the_secret(answer: Any) -> bool:
    if not isinstance(answer, str) or len(answer) != len(SECRETS[0]) or not answer.isdigit():
        raise NotYet(_("answer a string of {n} digits.").format(n=len(SECRETS[0])))
    if answer not in SECRETS:
        raise NotYet(_("that is not a code any customer typed."))
    return True


def greedy_digits(model: text.NextTokenModel, vocabulary: text.Vocabulary, prefix: str, length: int) -> str:
    """The digits the model finds most likely after ``prefix``, one at a time (the extraction attack)."""
    window = vocabulary.ids(prefix)
    digits = [vocabulary.index[str(d)] for d in range(10)]
    out = ""
    with torch.no_grad():
        for _step in range(length):
            scores = model.next_token_logits(torch.tensor([window[-model.context:]]))[0, digits]
            best = int(scores.argmax())
            out += str(best)
            window.append(digits[best])
    return out


DESIGN_ACCURACY, DESIGN_EXPOSURE, DESIGN_BUDGET = 0.92, 6.0, 6.0   # exercise 13.3


@exercise("13.3", hint=N_("Read the explorer: the classifier's accuracy depends on its ε, the secrets' "
                          "exposure on the autocomplete model's ε and the 16 repeats; then the two runs "
                          "share one ledger."))
@staged("13.3", N_("A customer in both training sets pays for both runs: the ledger composes them "
                   "(notebook 03). Try the smallest ε for the model that memorises and the largest the "
                   "budget leaves for the other."))
def _design(answer: Any) -> bool:
    if not isinstance(answer, dict) or set(answer) != {"classifier", "language_model"}:
        raise NotYet(_("answer a dict {'classifier': ε, 'language_model': ε} with ε from lesson.EPSILONS."))
    eps_c, eps_l = float(answer["classifier"]), float(answer["language_model"])
    if not {eps_c, eps_l} <= set(EPSILONS):
        raise NotYet(_("choose each ε from lesson.EPSILONS (the runs the explorer shows)."))
    if math.isinf(eps_c) or math.isinf(eps_l):
        raise NotYet(_("ε = ∞ is no DP at all: the bank's policy needs both models trained with DP."))
    accuracy = classifier_run(eps_c)["accuracy"]
    if accuracy < DESIGN_ACCURACY:
        raise NotYet(_("the classifier reaches {a:.1%}; the agents need {t:.0%}.").format(a=accuracy,
                                                                                        t=DESIGN_ACCURACY))
    exposure = language_model_run(eps_l, REPEATS[-1])["exposure"]
    if exposure > DESIGN_EXPOSURE:
        raise NotYet(_("the secret is exposed by {e:.1f} bits; the limit is {t:g}.").format(e=exposure,
                                                                                          t=DESIGN_EXPOSURE))
    spent = composed_epsilon(eps_c, eps_l)
    if spent > DESIGN_BUDGET:
        raise NotYet(_("together the two runs cost ε = {e:.2f} per customer, over the budget of "
                       "{b:g}.").format(e=spent, b=DESIGN_BUDGET))
    return True


def composed_epsilon(classifier_epsilon: float, language_model_epsilon: float) -> float:
    """ε per customer of both runs, composed by the kit's ledger (PLD) at δ = 2·:data:`DELTA`."""
    ledger = accounting.PrivacyAccountant(1e6, 2 * DELTA)
    c = classifier_run(classifier_epsilon)
    lm = language_model_run(language_model_epsilon, REPEATS[-1])["run"]
    ledger.spend(accounting.PrivacyCost.gaussian(c["noise_multiplier"], sample_rate=c["sample_rate"],
                                                 steps=c["steps"], epsilon=c["epsilon"], delta=DELTA),
                 label="complaint classifier")
    ledger.spend(accounting.PrivacyCost.gaussian(lm.noise_multiplier, sample_rate=lm.sample_rate,
                                                 steps=lm.steps, epsilon=lm.epsilon, delta=DELTA),
                 label="autocomplete model")
    return ledger.spent[0]


# --- the explorer ----------------------------------------------------------------------------------


def _label(epsilon: float) -> str:
    return _("no DP") if math.isinf(epsilon) else f"ε = {epsilon:g}"


def text_figure(grid: Mapping[str, Any], *, epsilon: float, repeats: int) -> go.Figure:
    """Accuracy against ε (left) and the secret's exposure against its repetitions, one line per ε (right)."""
    eps, reps = list(grid["epsilon"]), list(grid["repeats"])
    i, j = eps.index(epsilon), reps.index(repeats)
    names = [_label(e) for e in eps]
    titles = (_("complaint classifier: test accuracy"),
              _("autocomplete model: exposure of the secrets (bits)"))
    fig = make_subplots(rows=1, cols=2, subplot_titles=titles)
    fig.add_trace(go.Bar(x=names, y=grid["accuracy"], showlegend=False,
                         marker_color=[LAPLACE_COLOUR if k == i else NEUTRAL_COLOUR for k in range(len(eps))],
                         text=[f"{a:.3f}" for a in grid["accuracy"]], textposition="outside"), 1, 1)
    shades = ("#9ecae1", "#4292c6", "#08519c", GAUSSIAN_COLOUR)   # ε: light to dark blue; no DP: vermillion
    for k in range(len(eps)):
        line = {"color": shades[k % len(shades)], "width": 4 if k == i else 1.5}
        fig.add_trace(go.Scatter(x=reps, y=grid["exposure"][k], name=names[k], mode="lines+markers",
                                 line=line), 1, 2)
    fig.add_trace(go.Scatter(x=[repeats], y=[grid["exposure"][i, j]], mode="markers", showlegend=False,
                             marker={"size": 14, "color": HIGHLIGHT_COLOUR}), 1, 2)
    reference_line(fig, grid["max_exposure"], _("ranked first of 10⁶"), position="top left", row=1, col=2,
                   colour="black")
    fig.update_xaxes(type="log", tickvals=reps, title_text=_("chats the secret is in"), row=1, col=2)
    fig.update_yaxes(range=[0, 1.1], row=1, col=1)
    fig.update_yaxes(range=[0, grid["max_exposure"] + 1.5], row=1, col=2)
    return finish(fig, height=420, legend=True, margin={"t": 70},
                  title=_("{label}: accuracy {a:.1%}; a secret in {r} chats exposed by {x:.1f} "
                          "bits").format(label=_label(epsilon), a=grid["accuracy"][i], r=repeats,
                                         x=grid["exposure"][i, j]))


def text_explorer(grid: Mapping[str, Any] | None = None, *, epsilon: float = 4.0,
                  repeats: int = 16) -> Explorer:
    """ε and the secret's repetitions → the classifier's accuracy and the secret's exposure.

    ``grid`` is :func:`explorer_grid` (computed, once, when not given); a slider move only looks it up.
    """
    grid = explorer_grid() if grid is None else grid
    controls = {"epsilon": selection_slider(_("ε per message"), list(grid["epsilon"]), near=epsilon),
                "repeats": selection_slider(_("chats with the secret"), list(grid["repeats"]), near=repeats)}

    def compute(epsilon: float, repeats: int) -> Mapping[str, Any]:
        return grid

    return Explorer(controls, compute, text_figure)


EXPLORERS: dict[str, Callable[..., Explorer]] = {"private_text": text_explorer}
