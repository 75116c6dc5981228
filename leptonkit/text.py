"""Private text models: a vocabulary, a DP bag-of-words classifier, a small language model, exposure.

Text becomes integer token ids here (:func:`tokenize`, :class:`Vocabulary`, built on the training
split only: words for English, characters for Chinese, each digit a token of its own) and stays
integer end to end: :func:`bag_classifier` is an ``nn.EmbeddingBag`` (fastText's model, Joulin et
al. 2017) that ``dpsgd.train`` trains with per-sample clipping that touches only the embedding rows
a message uses. :class:`NextTokenModel` is a small fixed-window language model, trained by
:func:`train_language_model` with DP-SGD where one *message* is the privacy unit; :func:`exposure`
measures how much it memorised a planted canary (Carlini et al. 2019). :func:`redact_identifiers`
de-identifies messages with ``masking`` first. :func:`pretrained_embeddings` runs a frozen
sentence-transformers encoder from a local path (optional dependency), for a DP-trained head.
Neighbours: ``datasets.support_messages`` (the data), ``dpsgd`` and ``accounting`` (the privacy).

References
----------
N. Carlini, C. Liu, Ú. Erlingsson, J. Kos and D. Song, *The Secret Sharer: Evaluating and Testing
Unintended Memorization in Neural Networks*, USENIX Security 2019 (canaries, exposure).
M. Abadi et al., *Deep Learning with Differential Privacy*, CCS 2016 (DP-SGD).
A. Joulin, E. Grave, P. Bojanowski and T. Mikolov, *Bag of Tricks for Efficient Text
Classification*, EACL 2017 (the averaged-embedding classifier).
Y. Bengio, R. Ducharme, P. Vincent and C. Jauvin, *A Neural Probabilistic Language Model*, JMLR 2003
(the fixed-window language model).
X. Li, F. Tramèr, P. Liang and T. Hashimoto, *Large Language Models Can Be Strong Differentially
Private Learners*, ICLR 2022; D. Yu et al., *Differentially Private Fine-tuning of Language Models*,
ICLR 2022 (why a pretrained encoder helps DP training).
"""

from __future__ import annotations

import copy
import functools
import math
import os
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from . import _progress, accounting, dpsgd, masking
from ._checks import RNG, as_generator, check_int, check_real

__all__ = ["BOS", "EOS", "PAD", "SPECIAL_TOKENS", "UNK", "NextTokenModel", "Vocabulary", "bag_classifier",
           "build_vocabulary", "clipped_message_gradients", "exposure", "pretrained_embeddings",
           "redact_identifiers", "sequence_log_perplexity", "tokenize", "train_language_model"]

PAD, UNK, BOS, EOS = 0, 1, 2, 3
#: The ids every :class:`Vocabulary` reserves: padding, unknown token, start and end of a message.
SPECIAL_TOKENS = ("<pad>", "<unk>", "<bos>", "<eos>")
MAX_TEXTS = 2_000_000
MAX_LENGTH = 4096
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A Han character alone, a digit alone, or a run of other letters (lower-cased words).
_TOKEN = re.compile(rf"[{_HAN}]|\d|(?:(?![{_HAN}])[^\W\d_])+")


def tokenize(text: str) -> list[str]:
    """``text`` as tokens: lower-cased words, each digit alone, each Chinese character alone.

    Punctuation and spaces are dropped. Splitting numbers into digits keeps the vocabulary small
    and lets a language model spell any number (and a canary) from ten tokens.

    Example
    -------
    >>> tokenize("My code is 4931, 谢谢!")
    ['my', 'code', 'is', '4', '9', '3', '1', '谢', '谢']
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    return _TOKEN.findall(text.lower())


def _texts(texts: Any, name: str = "texts") -> list[str]:
    if isinstance(texts, (str, bytes)) or not isinstance(texts, Iterable):
        raise TypeError(f"{name} must be a collection of strings (a list or a Series), "
                        f"got {type(texts).__name__}")
    out = list(texts)
    if len(out) > MAX_TEXTS:
        raise ValueError(f"{name} must hold at most {MAX_TEXTS} texts, got {len(out)}")
    if not all(isinstance(t, str) for t in out):
        raise TypeError(f"{name} must hold strings only")
    return out


class Vocabulary:
    """Tokens and their integer ids; ids 0–3 are :data:`SPECIAL_TOKENS`, unknown tokens map to ``UNK``.

    Build one with :func:`build_vocabulary` from the *training* texts only: a token that occurs
    only in the test split then becomes ``UNK``, so the evaluation measures what the model does on
    words it never saw.
    """

    def __init__(self, tokens: Sequence[str]):
        if isinstance(tokens, (str, bytes)) or not isinstance(tokens, Iterable):
            raise TypeError(f"tokens must be a list of strings, got {type(tokens).__name__}")
        tokens = list(tokens)
        if not all(isinstance(t, str) for t in tokens):
            raise TypeError("tokens must be strings")
        if tokens[:len(SPECIAL_TOKENS)] != list(SPECIAL_TOKENS) or len(set(tokens)) != len(tokens):
            raise ValueError(f"tokens must start with {SPECIAL_TOKENS} and hold no token twice")
        self.tokens = tuple(tokens)
        self.index = {t: i for i, t in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: object) -> bool:
        return token in self.index

    def __repr__(self) -> str:   # the tokens may come from private text: only the size is shown
        return f"Vocabulary({len(self)} tokens)"

    def ids(self, text: str) -> list[int]:
        """The token ids of one text (no padding, no BOS/EOS)."""
        return [self.index.get(t, UNK) for t in tokenize(text)]

    def encode(self, texts: Iterable[str], *, max_length: int = 64, bos_eos: bool = False) -> np.ndarray:
        """Texts as an int64 array (texts, max_length) of token ids, cut at ``max_length`` and padded with
        ``PAD``; with ``bos_eos`` each text is framed by ``BOS`` … ``EOS`` (for a language model)."""
        texts = _texts(texts)
        max_length = check_int(max_length, "max_length", low=1, high=MAX_LENGTH)
        if not isinstance(bos_eos, bool):
            raise TypeError(f"bos_eos must be True or False, got {type(bos_eos).__name__}")
        out = np.full((len(texts), max_length), PAD, dtype=np.int64)
        for i, text in enumerate(texts):
            ids = [BOS, *self.ids(text), EOS] if bos_eos else self.ids(text)
            ids = ids[:max_length]
            out[i, :len(ids)] = ids
        return out

    def decode(self, ids: Iterable[int]) -> list[str]:
        """The tokens of a sequence of ids, padding left out."""
        return [self.tokens[int(i)] for i in ids if int(i) != PAD]


def build_vocabulary(texts: Iterable[str], *, min_count: int = 2, max_size: int = 20_000) -> Vocabulary:
    """A vocabulary of the tokens that occur in at least ``min_count`` of ``texts`` (the training split).

    Counting *texts* that contain a token (not occurrences) bounds each message's say: one
    message that repeats a rare word 50 times still counts once. ``min_count`` ≥ 2 keeps a word
    that one customer alone wrote (a name, a typo) out of the vocabulary. This is a threshold,
    not differential privacy: the vocabulary is computed from the data and is not covered by a
    DP-SGD ε (a DP vocabulary would select tokens with noisy counts, or take a public one). The
    most frequent ``max_size`` tokens are kept, ties broken alphabetically, after the four
    :data:`SPECIAL_TOKENS`.
    """
    texts = _texts(texts)
    min_count = check_int(min_count, "min_count", low=1, high=MAX_TEXTS)
    max_size = check_int(max_size, "max_size", low=1, high=10_000_000)
    counts = Counter(token for text in texts for token in set(tokenize(text)))
    kept = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
    return Vocabulary([*SPECIAL_TOKENS, *kept[:max_size]])


# --- the classifier ------------------------------------------------------------------------------


def bag_classifier(vocab_size: int, n_classes: int, *, dim: int = 32, seed: int = 0) -> nn.Sequential:
    """Averaged token embeddings → one linear layer (fastText, Joulin et al. 2017), initialised from ``seed``.

    ``nn.EmbeddingBag(mode="mean", padding_idx=PAD)``: padding is left out of the average. Its
    input is the int64 array :meth:`Vocabulary.encode` returns; ``dpsgd.train`` trains it with
    per-sample gradients of the embedding that live only on the rows a message uses.
    torch's global random state is left as it was.
    """
    vocab_size = check_int(vocab_size, "vocab_size", low=len(SPECIAL_TOKENS) + 1, high=10_000_000)
    n_classes = check_int(n_classes, "n_classes", low=2, high=100_000)
    dim = check_int(dim, "dim", low=1, high=4096)
    seed = check_int(seed, "seed", low=0, high=2**63 - 1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        bag = nn.EmbeddingBag(vocab_size, dim, mode="mean", padding_idx=PAD)
        nn.init.normal_(bag.weight, std=0.1)
        with torch.no_grad():
            bag.weight[PAD] = 0
        return nn.Sequential(bag, nn.Linear(dim, n_classes))


# --- the language model --------------------------------------------------------------------------


class NextTokenModel(nn.Module):
    """A fixed-window neural language model (Bengio et al. 2003): the last ``context`` tokens → the next.

    ``forward(tokens)`` takes int64 ids (batch, length) and returns logits (batch, length, vocab):
    position t predicts token t + 1 from tokens t − context + 1 … t (``PAD`` before the start).
    Small on purpose, so a notebook trains it in a second, and so that :func:`exposure` can score
    every candidate secret exactly. Initialised from ``seed``; torch's global state is untouched.
    """

    def __init__(self, vocab_size: int, *, context: int = 3, dim: int = 16, hidden: int = 64, seed: int = 0):
        super().__init__()
        self.vocab_size = check_int(vocab_size, "vocab_size", low=len(SPECIAL_TOKENS) + 1, high=1_000_000)
        self.context = check_int(context, "context", low=1, high=16)
        dim = check_int(dim, "dim", low=1, high=1024)
        hidden = check_int(hidden, "hidden", low=1, high=4096)
        seed = check_int(seed, "seed", low=0, high=2**63 - 1)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.embedding = nn.Embedding(self.vocab_size, dim, padding_idx=PAD)
            self.hidden = nn.Linear(self.context * dim, hidden)
            self.output = nn.Linear(hidden, self.vocab_size)

    def windows(self, tokens: torch.Tensor) -> torch.Tensor:
        """The ``context`` ids before each next-token prediction: (batch, length, context)."""
        padded = nn.functional.pad(tokens, (self.context - 1, 0), value=PAD)
        return padded.unfold(-1, self.context, 1)

    def next_token_logits(self, windows: torch.Tensor) -> torch.Tensor:
        """Logits of the next token after each window of ids (…, context) → (…, vocab)."""
        e = self.embedding(windows)
        return self.output(torch.tanh(self.hidden(e.flatten(-2))))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.next_token_logits(self.windows(tokens))


def _sequences(sequences: Any, model: NextTokenModel, name: str = "sequences") -> torch.Tensor:
    if not isinstance(model, NextTokenModel):
        raise TypeError(f"model must be a leptonkit.text.NextTokenModel, got {type(model).__name__}")
    if isinstance(sequences, torch.Tensor):
        s = sequences.detach()
    else:
        try:
            array = np.asarray(sequences)
        except (TypeError, ValueError, OverflowError):
            raise TypeError(f"{name} must be an integer array of token ids (texts, length)") from None
        if array.dtype == object or not np.issubdtype(array.dtype, np.integer):
            raise TypeError(f"{name} must be an integer array of token ids (texts, length), got dtype "
                            f"{array.dtype}")
        s = torch.as_tensor(array)
    if s.is_floating_point() or s.is_complex() or s.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer token ids, got {s.dtype}")
    if s.ndim != 2 or s.shape[0] == 0 or s.shape[1] < 2:
        raise ValueError(f"{name} must be shaped (texts >= 1, length >= 2), got {tuple(s.shape)}")
    if s.min() < 0 or s.max() >= model.vocab_size:
        raise ValueError(f"{name} must hold token ids in [0, {model.vocab_size - 1}] (the model's "
                         f"vocabulary)")
    return s.to(torch.int64)


def _message_loss(model: nn.Module, tokens: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy of each message over its real (non-padding) targets: (batch,)."""
    return _mean_of_real(model(tokens[:, :-1]), tokens[:, 1:])


def _token_losses(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of each position (batch, length), 0 at padding (flattened: faster than (B, V, L))."""
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                       ignore_index=PAD, reduction="none").reshape(targets.shape)


def _mean_of_real(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    real = (targets != PAD).to(logits.dtype)
    return _token_losses(logits, targets).sum(1) / real.sum(1).clamp(min=1)


def sequence_log_perplexity(model: NextTokenModel, sequences: Any) -> np.ndarray:
    """−log₂ P(message) under ``model`` for each row of ``sequences`` (bits; padding left out)."""
    s = _sequences(sequences, model)
    with torch.no_grad():
        nats = _token_losses(model(s[:, :-1]), s[:, 1:])
    return (nats.sum(1) / math.log(2)).numpy()


def train_language_model(model: NextTokenModel, sequences: Any, *, noise_multiplier: float | None = None,
                         target_epsilon: float | None = None, delta: float = 1e-5, epochs: int = 20,
                         batch_size: int = 64, max_grad_norm: float = 1.0, lr: float = 0.01, rng: RNG = 0,
                         progress: bool | None = None, accountant: accounting.PrivacyAccountant | None = None,
                         label: str = "text.train_language_model") -> dpsgd.TrainResult:
    """Train a copy of ``model`` on ``sequences`` (ids from ``Vocabulary.encode(..., bos_eos=True)``).

    Give ``noise_multiplier`` or ``target_epsilon``. ``noise_multiplier=0`` is ordinary training
    (shuffled minibatches, no clipping, ε = ∞): the baseline that memorises. Otherwise it is DP-SGD
    with one *message* as the privacy unit: Poisson batches of expected size ``batch_size``, each
    message's gradient (of its mean next-token loss) clipped to ``max_grad_norm`` and the sum
    noised by ``dpsgd.add_noise``; σ is calibrated and ε reported as ``dpsgd.train`` does (PLD,
    δ = ``delta``), and ``accountant`` is checked before and charged after. The noisy mean gradient
    is applied with Adam at ``lr`` (post-processing: no privacy cost; Li et al. 2022 fine-tune so).
    A secret in r messages is protected only as a group of r: about r·ε. ``progress``: ``None``
    (the default) shows a bar over the epochs once training has run 2 s, ``True`` at once,
    ``False`` never.
    """
    s = _sequences(sequences, model)
    if (target_epsilon is None) == (noise_multiplier is None):
        raise ValueError("give exactly one of target_epsilon (ε to reach) or noise_multiplier "
                         "(σ/C; 0: no DP)")
    n = len(s)
    epochs = check_int(epochs, "epochs", low=1, high=100_000)
    batch_size = check_int(batch_size, "batch_size", low=1, high=n)
    C = check_real(max_grad_norm, "max_grad_norm", low=0.0, low_open=True, high=1e6)
    lr = check_real(lr, "lr", low=0.0, low_open=True, high=1e3)
    delta = check_real(delta, "delta", low=0.0, high=1.0, low_open=True, high_open=True)
    if not isinstance(label, str):
        raise TypeError(f"label must be a string, got {type(label).__name__}")
    progress = _progress.check_progress(progress)
    q = batch_size / n
    steps = epochs * max(1, round(1 / q))
    if target_epsilon is not None:
        eps_target = check_real(target_epsilon, "target_epsilon", low=0.0, low_open=True)
        sigma, epsilon = _calibrated(eps_target, q, steps, delta)
    else:
        sigma = check_real(noise_multiplier, "noise_multiplier", low=0.0)
        if sigma != 0:
            sigma = check_real(sigma, "noise_multiplier", low=accounting.MIN_NOISE_MULTIPLIER,
                               high=accounting.MAX_NOISE_MULTIPLIER)
        epsilon = math.inf if sigma == 0 else _epsilon(sigma, q, steps, delta)
    generator = as_generator(rng)
    torch_rng = torch.Generator().manual_seed(int(generator.integers(2**63)))
    trained = copy.deepcopy(model)
    optimiser = torch.optim.Adam(trained.parameters(), lr=lr)
    history: list[dict] = []
    if sigma == 0:
        _train_plain(trained, s, optimiser, epochs=epochs, batch_size=batch_size, generator=generator,
                     history=history, progress=progress)
        return dpsgd.TrainResult(model=trained, epsilon=math.inf, delta=delta, noise_multiplier=0.0,
                                 sample_rate=q, steps=epochs * math.ceil(n / batch_size), history=history)
    cost = accounting.PrivacyCost.gaussian(sigma, sample_rate=q, steps=steps, epsilon=epsilon, delta=delta)
    with accounting.charge(accountant, cost, label=label):
        params = dict(trained.named_parameters())
        for epoch in _progress.bar(range(epochs), desc="language model", progress=progress):
            for _ in range(steps // epochs):
                batch = torch.from_numpy(np.flatnonzero(generator.random(n) < q))
                if len(batch):
                    summed, _ = clipped_message_gradients(trained, s[batch], C)
                else:
                    summed = {k: torch.zeros_like(p) for k, p in params.items()}
                noisy = dpsgd.add_noise(summed, noise_multiplier=sigma, max_grad_norm=C, generator=torch_rng)
                for k, p in params.items():
                    p.grad = noisy[k] / batch_size
                optimiser.step()
            history.append({"epoch": epoch + 1, "loss": _mean_loss(trained, s)})
    return dpsgd.TrainResult(model=trained, epsilon=epsilon, delta=delta, noise_multiplier=sigma,
                             sample_rate=q, steps=steps, history=history)


@functools.lru_cache(maxsize=256)
def _calibrated(target: float, q: float, steps: int, delta: float) -> tuple[float, float]:
    """σ and ε for a target ε, as ``dpsgd.train`` calibrates (RDP bounds the search, PLD decides);
    remembered, since several runs of a lesson share their sampling rate and steps."""
    sigma, epsilon = dpsgd.calibrate_noise(target, sample_rate=q, steps=steps, delta=delta, calibration="pld")
    if math.isinf(epsilon):
        epsilon = accounting.dpsgd_epsilon(noise_multiplier=sigma, sample_rate=q, steps=steps, delta=delta)
    return sigma, epsilon


def _epsilon(sigma: float, q: float, steps: int, delta: float) -> float:
    """ε of a run with noise σ by the PLD analysis ``dpsgd.train`` reports (RDP where PLD cannot say)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")
        rdp = accounting.dpsgd_epsilon(noise_multiplier=sigma, sample_rate=q, steps=steps, delta=delta)
    if rdp > dpsgd._MAX_TIGHT_EPSILON:
        return rdp
    return min(rdp, dpsgd._tight_epsilon(sigma, q, steps, delta, "pld"))


def clipped_message_gradients(model: NextTokenModel, sequences: Any,
                              max_grad_norm: float) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Each message's gradient (of its mean next-token loss) clipped to ``max_grad_norm``, summed.

    Returns the sum and the per-message norms before clipping, as ``dpsgd.clip_and_sum`` would
    from per-message gradients, but from one forward and one backward pass: for each linear layer
    a message's gradient is Σ_t g_t a_tᵀ over its positions (one batched matrix product), and
    the embedding's lives only on the rows of the tokens in the message's windows (as in
    ``dpsgd.clipped_gradient_sum``).
    """
    s = _sequences(sequences, model)
    C = check_real(max_grad_norm, "max_grad_norm", low=0.0, low_open=True)
    inputs, targets = s[:, :-1], s[:, 1:]
    windows = model.windows(inputs)                                   # (B, L, k)
    e = model.embedding(windows).flatten(-2)                          # (B, L, k·d)
    z = model.hidden(e)
    a = torch.tanh(z)
    logits = model.output(a)
    loss = _mean_of_real(logits, targets).sum()
    g_e, g_z, g_logits = torch.autograd.grad(loss, (e, z, logits))
    B = len(s)
    per = {"output.weight": torch.bmm(g_logits.transpose(1, 2), a.detach()), "output.bias": g_logits.sum(1),
           "hidden.weight": torch.bmm(g_z.transpose(1, 2), e.detach()), "hidden.bias": g_z.sum(1)}
    squared = sum(v.reshape(B, -1).pow(2).sum(1) for v in per.values())
    ids = windows.reshape(B, -1)
    contributions = (g_e.reshape(B, ids.shape[1], -1) * (ids != PAD)[..., None])
    V = model.vocab_size
    keys = (torch.arange(B)[:, None] * V + ids).reshape(-1)
    unique, inverse = torch.unique(keys, return_inverse=True)
    rows = torch.zeros(len(unique), contributions.shape[-1]).index_add_(
        0, inverse, contributions.reshape(-1, contributions.shape[-1]))
    sample, token = unique // V, unique % V
    squared = squared + torch.zeros(B).index_add_(0, sample, rows.pow(2).sum(1))
    norms = squared.sqrt()
    factor = (C / (norms + 1e-6)).clamp(max=1.0)
    summed = {k: torch.einsum("b,b...->...", factor, v) for k, v in per.items()}
    summed["embedding.weight"] = torch.zeros_like(model.embedding.weight).index_add_(
        0, token, rows * factor[sample, None])
    return summed, norms.detach()


def _train_plain(model: nn.Module, s: torch.Tensor, optimiser: torch.optim.Optimizer, *, epochs: int,
                 batch_size: int, generator: np.random.Generator, history: list,
                 progress: bool | None) -> None:
    for epoch in _progress.bar(range(epochs), desc="language model", progress=progress):
        order = torch.from_numpy(generator.permutation(len(s)))
        for start in range(0, len(order), batch_size):
            optimiser.zero_grad()
            _message_loss(model, s[order[start:start + batch_size]]).mean().backward()
            optimiser.step()
        history.append({"epoch": epoch + 1, "loss": _mean_loss(model, s)})


def _mean_loss(model: nn.Module, s: torch.Tensor) -> float:
    with torch.no_grad():
        return float(_message_loss(model, s).mean())


# --- memorisation: exposure ---------------------------------------------------------------------

MAX_SECRET_DIGITS = 7   # 10^7 candidates: scored exactly in about a second


def exposure(model: NextTokenModel, vocabulary: Vocabulary, *, prefix: str,
             secret: str | Sequence[str]) -> float | np.ndarray:
    """The exposure of ``secret`` (a string of digits) after ``prefix``: log₂|R| − log₂ rank (bits).

    Carlini et al. (2019, Definition 5): R is every digit string of the secret's length (|R| =
    10^len), ranked by the model's log-perplexity after ``prefix``; rank 1 is the model's most
    likely candidate. Exposure is then log₂|R| when the model ranks the planted secret first, and
    about 1.44 bits on average (1/ln 2) for a secret it never saw, since that secret's rank is then
    uniform: P(exposure ≥ t) = 2^−t for such a secret. Ties count in the secret's favour (rank = 1 +
    the candidates strictly more likely). Every candidate is scored exactly: the model sees only its
    last ``context`` tokens, so each position has at most 10^context distinct windows.
    ``secret`` has 1 to 7 digits; a list of secrets of one length gives an array, one exposure each
    (scored in one pass). The ten digits must be in ``vocabulary``.
    """
    if not isinstance(model, NextTokenModel):
        raise TypeError(f"model must be a leptonkit.text.NextTokenModel, got {type(model).__name__}")
    if not isinstance(vocabulary, Vocabulary):
        raise TypeError(f"vocabulary must be a leptonkit.text.Vocabulary, got {type(vocabulary).__name__}")
    if len(vocabulary) != model.vocab_size:
        raise ValueError(f"vocabulary has {len(vocabulary)} tokens but the model {model.vocab_size}")
    if not isinstance(prefix, str):
        raise TypeError(f"prefix must be a string, got {type(prefix).__name__}")
    single = isinstance(secret, str)
    secrets = [secret] if single else secret
    if isinstance(secrets, (bytes, dict)) or not isinstance(secrets, (list, tuple)) or not secrets:
        raise TypeError(f"secret must be a string of digits or a non-empty list of them, got "
                        f"{type(secret).__name__}")
    if not all(isinstance(s, str) for s in secrets):
        raise TypeError("secret must hold strings of digits")
    m = len(secrets[0])
    digits_only = all(s.isascii() and s.isdigit() and len(s) == m for s in secrets)
    if not (digits_only and 1 <= m <= MAX_SECRET_DIGITS):
        raise ValueError(f"secret must be strings of 1 to {MAX_SECRET_DIGITS} ASCII digits, of one length")
    digits = [vocabulary.index.get(str(d)) for d in range(10)]
    if None in digits:
        raise ValueError("vocabulary must hold the ten digits (build it from texts that contain numbers)")
    context_ids = [vocabulary.index.get(t, UNK) for t in tokenize(prefix)]
    total = np.zeros((10,) * m)                     # log P of every candidate, one axis per digit
    for i, lp in enumerate(_digit_log_probs(model, context_ids, digits, m)):
        j = min(i, model.context)                  # position i sees digits i − j … i − 1
        shape = [1] * m
        shape[i - j:i + 1] = [10] * (j + 1)
        total += lp.reshape(shape)
    flat = total.reshape(-1)
    out = []
    for s in secrets:   # candidates enumerate in lexicographic order: a secret's index is its value
        rank = 1 + int(np.count_nonzero(flat > flat[int(s)] + 1e-9))
        out.append(m * math.log2(10) - math.log2(rank))
    return float(out[0]) if single else np.array(out)


def _digit_log_probs(model: NextTokenModel, prefix_ids: list[int], digit_ids: list[int], m: int) -> list:
    """For each position i, log P(d_i | window) over (d_{i−j}, …, d_{i−1}, d_i), j = min(i, k)."""
    k = model.context
    out = []
    with torch.no_grad():
        for i in range(m):
            j = min(i, k)
            combos = np.indices((10,) * j).reshape(j, -1).T if j else np.zeros((1, 0), dtype=np.int64)
            head = ([PAD] * k + prefix_ids)[len(prefix_ids) + j:] if k - j else []
            windows = np.array([head + [digit_ids[d] for d in row] for row in combos], dtype=np.int64)
            logits = model.next_token_logits(torch.from_numpy(windows))
            out.append(torch.log_softmax(logits, -1)[:, digit_ids].numpy().astype(np.float64))
    return out


# --- de-identification first ---------------------------------------------------------------------

_PLACEHOLDERS = {"name": "<name>", "phone": "<phone>", "email": "<email>", "account": "<account>"}


def redact_identifiers(frame: pd.DataFrame, *, key: bytes, text: str = "text", person: str = "customer",
                       identifiers: Sequence[str] = ("name", "phone", "email", "account")) -> pd.DataFrame:
    """Messages de-identified as notebook 08 does it: identifiers out of the text and the table.

    In each row's ``text``, every occurrence of that row's own identifier values (the CRM record:
    ``identifiers`` columns) is replaced by a placeholder such as ``<phone>``; then the identifier
    columns are dropped (``masking.suppress``) and ``person`` is replaced by its keyed HMAC
    pseudonym (``masking.pseudonymize``), so one customer's messages still link for whoever
    holds ``key``. What it cannot remove is what no column lists: a secret typed into the chat.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    for name, value in (("text", text), ("person", person)):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a column name (a string), got {type(value).__name__}")
        if value not in frame.columns:
            raise ValueError(f"{name} must be a column of frame, got {value!r:.40}")
    if isinstance(identifiers, (str, bytes)) or not isinstance(identifiers, Iterable):
        raise TypeError(f"identifiers must be a list of column names, got {type(identifiers).__name__}")
    columns = list(identifiers)
    if not all(isinstance(c, str) for c in columns):
        raise TypeError("identifiers must be column names (strings)")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"identifiers names columns {missing} that frame does not have")
    if not all(isinstance(t, str) for t in frame[text]):
        raise TypeError(f"text column {text!r} must hold strings")
    out = frame.copy()
    cleaned = []
    for i, message in enumerate(out[text]):
        for c in columns:
            value = str(out[c].iloc[i])
            if value:
                message = message.replace(value, _PLACEHOLDERS.get(c, f"<{c}>"))
        cleaned.append(message)
    out[text] = cleaned
    out[person] = masking.pseudonymize(out[person], key=key)
    return masking.suppress(out, columns) if columns else out


# --- a frozen pretrained encoder ------------------------------------------------------------------


def pretrained_embeddings(path: str | os.PathLike, texts: Iterable[str], *,
                          batch_size: int = 64) -> np.ndarray:
    """Sentence embeddings (texts, dim) from a sentence-transformers model saved at a local ``path``.

    The encoder is frozen: only a head trained on these features (``dpsgd.train`` on
    ``models.mlp``, float inputs) sees the private labels, so DP covers the head, and the encoder
    must have been trained on *public* data — a pretrained encoder helps DP training a great deal
    (Li et al. 2022; Yu et al. 2022). Nothing is downloaded: ``path`` must be a directory made by
    ``SentenceTransformer.save``. Needs the optional package ``sentence-transformers``.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a directory path, got {type(path).__name__}")
    texts = _texts(texts)
    batch_size = check_int(batch_size, "batch_size", low=1, high=100_000)
    if not os.path.isdir(path):
        raise ValueError("path must be a local directory holding a saved sentence-transformers model")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise ImportError("pretrained_embeddings needs the optional package sentence-transformers "
                          "(pip install sentence-transformers); the from-scratch models need "
                          "nothing") from None
    encoder = SentenceTransformer(os.fspath(path), device="cpu", local_files_only=True)
    with torch.no_grad():
        return np.asarray(encoder.encode(texts, batch_size=batch_size, convert_to_numpy=True,
                                         show_progress_bar=False), dtype=np.float32)
