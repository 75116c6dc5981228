"""leptonkit.text and the message generator: tokens stay integers, the vocabulary never sees the test
split, per-message clipping matches a reference, DP spends what the accountant says, exposure is exact
and falls with DP."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from leptonkit import accounting, datasets, text

CANARY = "my verification code is 281945"


# --- the generator -----------------------------------------------------------------------------


def test_support_messages_are_reproducible_and_labelled():
    frame = datasets.support_messages(300, rng=0)
    pd.testing.assert_frame_equal(frame, datasets.support_messages(300, rng=0))
    assert not frame["text"].equals(datasets.support_messages(300, rng=1)["text"])
    assert set(frame["intent"]) == set(datasets.INTENTS)
    assert set(frame["sentiment"]) == set(datasets.SENTIMENTS)
    assert frame["customer"].is_unique and frame["message"].is_unique
    assert (frame["split"] == "test").sum() == 60 and not frame["canary"].any()
    zh = datasets.support_messages(100, language="zh", rng=0)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in t) for t in zh["text"])
    assert zh["phone"].str.startswith("+86 138 ").all()


def test_identifiers_are_written_verbatim_so_redaction_finds_every_one():
    frame = datasets.support_messages(400, rng=0)
    for column in datasets.MESSAGE_IDENTIFIERS:
        present = [v in t for v, t in zip(frame[column], frame["text"], strict=True)]
        assert 0.1 < np.mean(present) < 0.8, column          # some messages carry it, not all
    clean = text.redact_identifiers(frame, key=b"k" * 16)
    assert not set(datasets.MESSAGE_IDENTIFIERS) & set(clean.columns)
    for column in datasets.MESSAGE_IDENTIFIERS:
        assert not any(v in t for v, t in zip(frame[column], clean["text"], strict=True)), column
    assert not set(clean["customer"]) & set(frame["customer"])     # keyed pseudonyms
    assert clean["text"].str.contains("<phone>").any()


def test_canaries_are_planted_in_training_messages_and_survive_redaction():
    frame = datasets.support_messages(300, canary=[CANARY, "my verification code is 730162"],
                                      canary_repeats=5, rng=0)
    planted = frame[frame["canary"]]
    assert len(planted) == 10 and (planted["split"] == "train").all()
    assert planted["text"].str.contains(CANARY).sum() == 5
    # the other messages are the same whatever the repeats: runs with 1 and 5 copies compare like with like
    one = datasets.support_messages(300, canary=CANARY, canary_repeats=1, rng=0)
    plain = datasets.support_messages(300, rng=0)
    same = ~(frame["canary"] | one["canary"])
    assert frame["text"][same].equals(plain["text"][same]) and one["text"][same].equals(plain["text"][same])
    clean = text.redact_identifiers(frame, key=b"k" * 16)
    assert clean["text"].str.contains(CANARY).sum() == 5          # no column lists it: it stays


@pytest.mark.parametrize("kwargs, error, name", [
    ({"n": 5}, ValueError, "n"), ({"n": 2.5}, TypeError, "n"), ({"language": "fr"}, ValueError, "language"),
    ({"language": 1}, TypeError, "language"), ({"canary_repeats": 3}, ValueError, "canary_repeats"),
    ({"canary": CANARY, "canary_repeats": 10**6}, ValueError, "canary_repeats"),
    ({"canary": 5, "canary_repeats": 1}, TypeError, "canary"), ({"canary": ""}, ValueError, "canary"),
    ({"typo_rate": 0.9}, ValueError, "typo_rate"), ({"test_fraction": -0.1}, ValueError, "test_fraction"),
])
def test_support_messages_refuse_bad_settings_by_name(kwargs, error, name):
    with pytest.raises(error, match=name):
        datasets.support_messages(**{"n": 50, **kwargs})


# --- tokens and the vocabulary -------------------------------------------------------------------


def test_tokens_are_words_digits_and_chinese_characters():
    assert text.tokenize("Card DECLINED at 14:05!") == ["card", "declined", "at", "1", "4", "0", "5"]
    assert text.tokenize("我的APP登录不了") == ["我", "的", "app", "登", "录", "不", "了"]


def test_the_vocabulary_never_sees_the_test_split():
    frame = datasets.support_messages(400, rng=0)
    frame.loc[frame["split"] == "test", "text"] += " zyzzyva zyzzyva"     # a word only the test split has
    train = frame[frame["split"] == "train"]
    vocabulary = text.build_vocabulary(train["text"], min_count=2)
    assert "zyzzyva" not in vocabulary
    test_ids = vocabulary.encode(frame.loc[frame["split"] == "test", "text"], max_length=128)
    assert test_ids.dtype == np.int64 and (test_ids == text.UNK).any()
    train_tokens = {t for s in train["text"] for t in text.tokenize(s)}
    assert set(vocabulary.tokens[len(text.SPECIAL_TOKENS):]) <= train_tokens


def test_min_count_counts_messages_not_repetitions():
    vocabulary = text.build_vocabulary(["secret secret secret", "card", "card"], min_count=2)
    assert "card" in vocabulary and "secret" not in vocabulary
    assert repr(vocabulary) == "Vocabulary(5 tokens)"             # no token from private text in a repr


def test_encode_pads_frames_and_cuts():
    vocabulary = text.build_vocabulary(["a b c"], min_count=1)
    ids = vocabulary.encode(["a b c d", "b"], max_length=4, bos_eos=True)
    assert ids.tolist()[1][:3] == [text.BOS, vocabulary.index["b"], text.EOS] and ids[1, 3] == text.PAD
    assert ids[0].tolist() == [text.BOS, vocabulary.index["a"], vocabulary.index["b"], vocabulary.index["c"]]
    assert vocabulary.decode(ids[1]) == ["<bos>", "b", "<eos>"]


# --- the language model: per-message clipping, accounting, exposure ------------------------------


def _reference_clipped_sum(model, S, C):
    total = {k: torch.zeros_like(p) for k, p in model.named_parameters()}
    norms = []
    for i in range(len(S)):
        model.zero_grad()
        text._message_loss(model, S[i:i + 1]).sum().backward()
        grads = {k: p.grad.clone() for k, p in model.named_parameters()}
        norm = torch.sqrt(sum(g.pow(2).sum() for g in grads.values()))
        norms.append(norm)
        for k in total:
            total[k] += min(1.0, C / (float(norm) + 1e-6)) * grads[k]
    return total, torch.stack(norms)


def test_per_message_clipping_matches_a_per_sample_reference():
    V = 40
    model = text.NextTokenModel(V, dim=4, hidden=8, seed=1)
    S = torch.randint(4, V, (10, 12), generator=torch.Generator().manual_seed(0))
    S[:, 0] = text.BOS
    S[2, 6:] = text.PAD
    S[7, 1:] = text.PAD          # a message with no target at all
    S[4, 3:9] = 11               # one token many times: its embedding row gathers several positions
    for C in (0.05, 100.0):
        fast, norms = text.clipped_message_gradients(model, S, C)
        reference, reference_norms = _reference_clipped_sum(model, S, C)
        torch.testing.assert_close(norms, reference_norms, atol=1e-6, rtol=1e-5)
        for k in reference:
            torch.testing.assert_close(fast[k], reference[k], atol=1e-6, rtol=1e-5)
    assert norms[7] == 0


@pytest.fixture(scope="module")
def planted():
    """300 messages, four secrets each in 16 training chats; the model's chats and their vocabulary."""
    secrets = ["281945", "730162", "464203", "918357"]
    frame = datasets.support_messages(300, canary=[f"my verification code is {s}" for s in secrets],
                                      canary_repeats=16, rng=0)
    frame = text.redact_identifiers(frame[frame["split"] == "train"], key=b"k" * 16)
    vocabulary = text.build_vocabulary(frame["text"], min_count=2)
    return secrets, vocabulary, vocabulary.encode(frame["text"], max_length=40, bos_eos=True)


def test_dp_training_of_the_language_model_spends_what_the_accountant_says(planted):
    _, vocabulary, S = planted
    ledger = accounting.PrivacyAccountant(2.0, 1e-5)
    run = text.train_language_model(text.NextTokenModel(len(vocabulary), hidden=16), S, target_epsilon=2.0,
                                    epochs=2, batch_size=60, rng=0, accountant=ledger)
    assert run.epsilon <= 2.0 and ledger.spent[0] == pytest.approx(run.epsilon, abs=1e-9)
    assert run.steps == 2 * round(len(S) / 60) and len(run.history) == 2
    again = text.train_language_model(text.NextTokenModel(len(vocabulary), hidden=16), S,
                                      noise_multiplier=run.noise_multiplier, epochs=2, batch_size=60, rng=0)
    assert again.epsilon == pytest.approx(run.epsilon, abs=1e-6)          # σ → ε is the same analysis
    for p, q in zip(run.model.parameters(), again.model.parameters(), strict=True):
        assert torch.equal(p, q)                                           # and seeded: the same model
    with pytest.raises(Exception, match=r"budget|exceed"):
        text.train_language_model(text.NextTokenModel(len(vocabulary)), S, target_epsilon=1.0, epochs=1,
                                  accountant=ledger)
    assert ledger.spent[0] == pytest.approx(run.epsilon, abs=1e-9)        # the refused run spent nothing


def test_exposure_is_exact_against_scoring_every_candidate():
    vocabulary = text.build_vocabulary(["my code is 0 1 2 3 4 5 6 7 8 9"], min_count=1)
    model = text.NextTokenModel(len(vocabulary), context=2, seed=3)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(4)                 # a peaked distribution, so ranks differ clearly
    candidates = [f"{i:03d}" for i in range(1000)]
    S = torch.as_tensor(vocabulary.encode([f"my code is {c}" for c in candidates], max_length=6))
    with torch.no_grad():
        log_p = torch.log_softmax(model(S), -1)
    scores = np.array([sum(float(log_p[c, 2 + t, S[c, 3 + t]]) for t in range(3)) for c in range(1000)])
    for secret in ("042", "999", "000", candidates[int(np.argmax(scores))]):
        rank = 1 + int(np.sum(scores > scores[int(secret)] + 1e-9))
        assert text.exposure(model, vocabulary, prefix="my code is", secret=secret) == pytest.approx(
            math.log2(1000) - math.log2(rank))
    best = candidates[int(np.argmax(scores))]
    top = text.exposure(model, vocabulary, prefix="my code is", secret=best)
    assert top == pytest.approx(math.log2(1000))


def test_a_secret_the_model_never_saw_has_about_one_and_a_half_bits(planted):
    """A uniformly random secret has a uniform rank whatever the model, so exposure ≈ Exp(ln 2): mean
    1/ln 2 = 1.443 bits, standard deviation 1.44; the mean of 400 has a standard error of 0.072, and
    0.36 is 5 of them."""
    _, vocabulary, S = planted
    run = text.train_language_model(text.NextTokenModel(len(vocabulary), hidden=16), S, noise_multiplier=0,
                                    epochs=2, rng=0)
    secrets = [f"{x:06d}" for x in np.random.default_rng(7).integers(10**6, size=400)]
    values = text.exposure(run.model, vocabulary, prefix="my verification code is", secret=secrets)
    assert abs(values.mean() - 1 / math.log(2)) < 0.36


def test_a_repeated_secret_is_exposed_without_dp_and_much_less_with_it(planted):
    """Without DP the four secrets, 16 chats each, rank among the top few of 10⁶ candidates (≥ 17 bits of a
    possible 18.8 for four; a model that learnt nothing reaches 17 bits with probability 2^−17). At ε = 1 per
    message their mean exposure stays under 6 bits. DP's bound for 16 copies is only a group bound (16ε), so
    this threshold is an observation for these fixed seeds, not a guarantee."""
    secrets, vocabulary, S = planted
    plain = text.train_language_model(text.NextTokenModel(len(vocabulary), hidden=32), S, noise_multiplier=0,
                                      epochs=10, batch_size=32, lr=0.02, rng=0)
    private = text.train_language_model(text.NextTokenModel(len(vocabulary), hidden=32), S,
                                        target_epsilon=1.0, epochs=8, batch_size=48, lr=0.02, rng=0)
    exposed = text.exposure(plain.model, vocabulary, prefix="my verification code is", secret=secrets)
    protected = text.exposure(private.model, vocabulary, prefix="my verification code is", secret=secrets)
    assert exposed.min() >= 17 and protected.mean() < 6


# --- bad input -----------------------------------------------------------------------------------


def test_bad_input_is_named():
    vocabulary = text.build_vocabulary(["a 1 2 3 4 5 6 7 8 9 0"], min_count=1)
    model = text.NextTokenModel(len(vocabulary))
    S = vocabulary.encode(["a 1 2"], max_length=5, bos_eos=True)
    cases = [
        (lambda: text.tokenize(3), TypeError, "text"),
        (lambda: text.build_vocabulary("abc"), TypeError, "texts"),
        (lambda: text.build_vocabulary(["a"], min_count=0), ValueError, "min_count"),
        (lambda: vocabulary.encode(["a"], max_length=0), ValueError, "max_length"),
        (lambda: text.bag_classifier(2, 3), ValueError, "vocab_size"),
        (lambda: text.NextTokenModel(10, context=0), ValueError, "context"),
        (lambda: text.exposure(model, vocabulary, prefix="a", secret="12a"), ValueError, "secret"),
        (lambda: text.exposure(model, vocabulary, prefix=None, secret="12"), TypeError, "prefix"),
        (lambda: text.exposure(model, vocabulary, prefix="a", secret="1" * 8), ValueError, "secret"),
        (lambda: text.train_language_model(model, S.astype(float), noise_multiplier=0), TypeError,
         "sequences"),
        (lambda: text.train_language_model(model, S + 1000, noise_multiplier=0), ValueError, "sequences"),
        (lambda: text.train_language_model(model, S), ValueError, "target_epsilon"),
        (lambda: text.train_language_model(model, S, noise_multiplier=0, epochs=0), ValueError, "epochs"),
        (lambda: text.clipped_message_gradients(model, S, 0.0), ValueError, "max_grad_norm"),
        (lambda: text.redact_identifiers(pd.DataFrame({"text": ["a"], "customer": ["c"]}), key=b"k" * 16),
         ValueError, "identifiers"),
        (lambda: text.redact_identifiers(pd.DataFrame({"text": ["a"], "customer": ["c"]}), key=b"k",
                                         identifiers=[]), ValueError, "key"),
        (lambda: text.pretrained_embeddings("/nonexistent/encoder", ["a"]), ValueError, "path"),
    ]
    for call, error, name in cases:
        with pytest.raises(error, match=name):
            call()


# --- a frozen pretrained encoder ----------------------------------------------------------------


def test_pretrained_embeddings_without_the_package_say_what_to_install(tmp_path):
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="sentence-transformers"):
            text.pretrained_embeddings(tmp_path, ["a message"])
    else:
        pytest.skip("sentence-transformers is installed: the loading test below runs instead")


def test_pretrained_embeddings_load_a_tiny_saved_encoder_and_a_dp_head_trains_on_them(tmp_path):
    st = pytest.importorskip("sentence_transformers")
    transformers = pytest.importorskip("transformers")
    from leptonkit import dpsgd, models

    config = transformers.BertConfig(vocab_size=120, hidden_size=16, num_hidden_layers=1,
                                     num_attention_heads=2, intermediate_size=32, max_position_embeddings=64)
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *[f"w{i}" for i in range(115)]]
    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "vocab.txt").write_text("\n".join(words))
    torch.manual_seed(0)
    transformers.BertModel(config).save_pretrained(tmp_path / "hf")
    transformers.BertTokenizer(str(tmp_path / "hf" / "vocab.txt")).save_pretrained(tmp_path / "hf")
    try:   # sentence-transformers ≥ 6 (the older sentence_transformers.models is deprecated there)
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    except ImportError:
        from sentence_transformers.models import Pooling, Transformer
    encoder = st.SentenceTransformer(modules=[Transformer(str(tmp_path / "hf")),
                                              Pooling(16, pooling_mode="mean")], device="cpu")
    encoder.save(str(tmp_path / "encoder"))
    features = text.pretrained_embeddings(tmp_path / "encoder", ["w1 w2 w3", "w4 w5", "w1 w2 w3"] * 20)
    assert features.shape == (60, 16) and features.dtype == np.float32
    np.testing.assert_allclose(features[0], features[2], atol=1e-6)          # deterministic, frozen
    y = np.tile([0, 1, 0], 20)
    run = dpsgd.train(models.mlp(16, 2, hidden=8), features, y, target_epsilon=4.0, epochs=3, rng=0)
    assert run.epsilon <= 4.0
