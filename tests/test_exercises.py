"""Every exercise accepts a correct answer, refuses wrong ones with a hint, and is used by a notebook."""

from __future__ import annotations

import math
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from leptonkit import (
    accounting,
    attacks,
    audit,
    compress,
    crypto,
    datasets,
    dp,
    dpsgd,
    fl,
    he,
    models,
    mpc,
    zkp,
)
from leptonkit.errors import IntegrityError
from leptonkit.exercises import (
    EXPOSURES_06,
    LEAKED_RECORD_05,
    RECORD_01,
    RECORD_ID_01,
    SALARIES_07,
    SCHNORR_SEED_07,
    check,
    exercise_ids,
)

NOTEBOOKS = sorted(Path(__file__).resolve().parents[1].glob("notebooks/*.ipynb"))


def _token_and_key():
    key = crypto.generate_key()
    return crypto.encrypt(b"dose: 500 mg", key), key


def _flip(token: bytes, position: int) -> bytes:
    tampered = bytearray(token)
    tampered[position // 8] ^= 1 << (position % 8)
    return bytes(tampered)


def _logs(tmp_path):
    """An intact log, a tampered copy, a repaired log with its count, and its flagged problems."""
    intact = audit.AuditLog(tmp_path / "intact.jsonl")
    budget = accounting.PrivacyAccountant(0.5, audit_log=intact)
    budget.spend(0.5, label="all of it")
    intact.append(actor="bob", action="access", details={"dataset": "x"})   # no purpose: flagged
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_bytes(intact.path.read_bytes().replace(b"bob", b"bib"))
    repaired = audit.AuditLog(tmp_path / "repaired.jsonl")
    for i in range(3):
        repaired.append(actor="me", action="access", details={"purpose": str(i)})
    with repaired.path.open("ab") as f:
        f.write(b'{"se')
    repaired.repair()
    return intact, audit.AuditLog(tampered), repaired


def _answers(tmp_path):
    """For each exercise: answers that must pass and answers that must not."""
    key = crypto.generate_key()
    token, k = _token_and_key()
    ecb_blocks = crypto.ecb_encrypt_insecure(crypto.demo_image(128).tobytes(), crypto.generate_key())
    distinct = len({ecb_blocks[i:i + 16] for i in range(0, len(ecb_blocks), 16)})
    years = 2 ** (8 * math.log2(26) - 1) * 0.1 / (365.25 * 24 * 3600)
    noise_50 = dp.per_coordinate_noise_std([50], epsilon=1, delta=1e-5)
    ratio_50 = float(noise_50["laplace"][0] / noise_50["gaussian"][0])
    advanced = math.sqrt(2 * 200 * math.log(1e6)) * 0.05 + 200 * 0.05 * math.expm1(0.05)
    z = accounting.noise_multiplier_for_epsilon(target_epsilon=3, sample_rate=0.01, steps=2000, delta=1e-5)
    intact, tampered, repaired = _logs(tmp_path)
    X, X_test, y, y_test = datasets.digits()
    grads = dpsgd.per_sample_gradients(models.mlp(64, 10), torch.tensor(X[:32]), torch.tensor(y[:32]))
    clipped = int((dpsgd.clip_and_sum(grads, 3.0)[1] > 3.0).sum())
    total = dpsgd.clip_and_sum(grads, 0.5)[0]
    without = dpsgd.clip_and_sum({k: g[1:] for k, g in grads.items()}, 0.5)[0]
    influence = float(torch.sqrt(sum((total[k] - without[k]).pow(2).sum() for k in total)))
    trained_eps2 = dpsgd.train(models.mlp(64, 10), X, y, target_epsilon=2.0, rng=0, progress=False)
    small_eps8 = dpsgd.train(models.mlp(64, 10), X, y, target_epsilon=8.0, epochs=2, rng=0, progress=False)
    sharings = np.stack([mpc.additive_share(x, 3) for x in EXPOSURES_06])
    partial = sharings.sum(axis=0, dtype=np.uint64)
    x_shares, y_shares = mpc.additive_share(np.array([6]), 3), mpc.additive_share(np.array([7]), 3)
    product = mpc.beaver_multiply(x_shares, y_shares, mpc.beaver_triple(1, 3))["z"]
    private, public = he.generate_paillier_keypair(1024)
    encrypted = sum((public.encrypt(s) for s in SALARIES_07[1:]), public.encrypt(SALARIES_07[0]))
    secret, lesson_public = zkp.schnorr_keypair(rng=SCHNORR_SEED_07)
    other_secret, _ = zkp.schnorr_keypair()
    n_params = sum(p.numel() for p in models.mlp(64, 10).parameters())
    skewed_labels = len(np.unique(y[fl.partition(y, 10, alpha=0.1, rng=0)[0]]))
    sigma_05 = accounting.noise_multiplier_for_epsilon(target_epsilon=5, sample_rate=0.1, steps=50,
                                                       delta=1e-5)
    leak_model = models.mlp(64, 10)
    record = slice(LEAKED_RECORD_05, LEAKED_RECORD_05 + 1)
    leaked = attacks.client_gradient(leak_model, X[record], y[record])
    rebuilt = attacks.gradient_inversion(leak_model, leaked, n_features=64)["reconstruction"]
    fl_clients = [(X[p], y[p]) for p in fl.partition(y, 50, rng=0)]

    def eight_bit_fedavg(rounds, bits=8):
        def quantise(updates):
            return compress.quantize_stochastic(updates, bits=bits, rng=0)
        return fl.fedavg(models.mlp(64, 10), fl_clients, rounds=rounds, clients_per_round=10, local_epochs=5,
                         batch_size=10, lr=0.1, compress=quantise, eval_data=(X_test, y_test), rng=0,
                         progress=False)

    return {
        "05.1": ([4 * n_params], [n_params, 8 * n_params]),
        "05.2": ([skewed_labels], [skewed_labels + 1, 10]),
        "05.3": ([sigma_05], [sigma_05 * 0.9, sigma_05 * 1.2]),
        "05.4": ([rebuilt, X[LEAKED_RECORD_05]], [X[LEAKED_RECORD_05 + 1], rebuilt[:32], np.zeros(64)]),
        "09.1": ([392], [49, 19240]),
        "09.2": ([0.5], [0.0, 0.7, 0.9]),
        "09.3": ([eight_bit_fedavg(20)], [eight_bit_fedavg(1), eight_bit_fedavg(20, bits=4), "result"]),
        "06.1": ([partial], [np.array(EXPOSURES_06), np.array([sum(EXPOSURES_06), 0, 0]), partial[:2],
                             partial + np.uint64(1)]),
        "06.2": ([16], [10, 26, 15]),
        "06.3": ([product], [product[:2], product + np.uint64(1), np.array([42])]),
        "06.4": ([4], [3, 5, 9]),
        "07.1": ([(encrypted, private)], [(encrypted + 1, private), (sum(SALARIES_07), private), encrypted]),
        "07.2": ([(encrypted * 103, private)], [(encrypted, private), (encrypted * 3, private)]),
        "07.3": ([zkp.prove(secret, b"model v2 is mine")],
                 [zkp.prove(secret, b"model v3 is mine"), zkp.prove(other_secret, b"model v2 is mine"),
                  "proof"]),
        "07.4": ([int(secret), int(secret) + zkp.Q], [int(secret) + 1, lesson_public, "secret"]),
        "00.1": ([76, 76.0], [75, 77, 128]),
        "00.2": ([crypto.sha256(b"leptonkit").hex(), crypto.sha256(b"leptonkit").hex().upper()],
                 [crypto.sha256(b"leptonkit"), crypto.sha256(b"Leptonkit").hex()]),
        "00.3": ([IntegrityError], [ValueError, "IntegrityError", IntegrityError("x")]),
        "01.1": ([(crypto.encrypt(RECORD_01, key, associated_data=RECORD_ID_01), key)],
                 [(crypto.encrypt(RECORD_01, key), key),
                  (crypto.encrypt(b"other", key, associated_data=RECORD_ID_01), key),
                  (crypto.encrypt(RECORD_01, key, associated_data=RECORD_ID_01),
                   crypto.generate_key())]),
        "01.2": ([(_flip(token, 0), token, k), (_flip(token, len(token) * 8 - 1), token, k)],
                 [(token, token, k), (_flip(_flip(token, 3), 9), token, k), (token[:-1], token, k)]),
        "01.3": ([distinct], [distinct - 1, 1025]),
        "01.4": ([years, years * 1.005], [years * 1.05, years * 2]),
        "02.1": ([20_000, 20_000.0], [500, 20_500, 19_500]),
        "02.2": ([math.exp(-2.5)], [math.exp(-5), 0.5]),
        "02.3": ([2 * math.log(1.25)], [math.log(1.5), 1.0]),
        "02.4": ([ratio_50], [1.0, 1 / ratio_50]),
        "03.1": ([6], [5, 7]),
        "03.2": ([advanced], [10.0, advanced * 1.05]),
        "03.3": ([z], [z * 0.9, z * 1.2]),
        "03.4": ([313], [312, 400]),
        "04.1": ([clipped], [clipped + 1, 32]),
        "04.2": ([influence], [influence * 1.01, 0.6]),
        "04.3": ([trained_eps2], [small_eps8, "model"]),
        "08.1": ([1], [2, 5]),
        "08.2": ([4], [1, 5, 10]),
        "08.3": ([4], [3, 5]),
        "10.1": ([tampered], [intact, audit.AuditLog(tmp_path / "missing.jsonl"), "log"]),
        "10.2": ([(repaired, 3)], [(repaired, 4), (tampered, 2)]),
        "10.3": ([(intact, 1)], [(intact, 0), (intact, 2)]),
    }


def test_every_exercise_has_passing_and_failing_answers(tmp_path):
    answers = _answers(tmp_path)
    assert sorted(answers) == exercise_ids()
    for exercise_id, (right, wrong) in answers.items():
        for answer in right:
            assert check(exercise_id, answer) is True, (exercise_id, answer)
        for answer in wrong:
            assert check(exercise_id, answer) is False, (exercise_id, answer)


def test_check_prints_a_tick_or_a_hint(capsys):
    assert check("00.1", 76) is True
    assert "✓ Exercise 00.1" in capsys.readouterr().out
    assert check("00.1", 10) is False
    out = capsys.readouterr().out
    assert "✗ Exercise 00.1" in out and "Hint:" in out
    assert check("01.1", "not a pair") is False
    assert "could not be checked" in capsys.readouterr().out
    assert check("00.1", ...) is False
    assert "replace ..." in capsys.readouterr().out


def test_unknown_exercise_names_the_known_ones():
    with pytest.raises(ValueError, match=r"exercise_id must be one of 00\.1.*got '99\.9'"):
        check("99.9", 1)


def test_every_exercise_is_in_a_notebook_with_a_tagged_solution_after_it():
    seen = set()
    for path in NOTEBOOKS:
        cells = nbformat.read(path, as_version=4).cells
        for i, cell in enumerate(cells):
            for exercise_id in exercise_ids():
                if cell.cell_type == "code" and f'check("{exercise_id}", answer)' in cell.source \
                        and "solution" not in cell.metadata.get("tags", []):
                    seen.add(exercise_id)
                    assert "answer = ..." in cell.source, (path.name, exercise_id)
                    after = cells[i + 1]
                    assert "solution" in after.metadata.get("tags", []), (path.name, exercise_id)
                    assert f'check("{exercise_id}"' in after.source
    assert seen == set(exercise_ids())
