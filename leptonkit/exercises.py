"""Checked exercises: ``check("01.2", answer)`` prints ✓ or a hint and returns whether it is right.

Answers are checked by their property — a token that decrypts, a number within a tolerance,
the right exception class — never by comparing strings, so every correct answer passes.
Each notebook's exercises are registered below under ``"NN.k"`` (notebook NN, exercise k).
In the notebooks the exercise cell ends with ``check(...)``; the next cell, tagged
``solution``, holds a worked answer that the learner's build replaces.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import (
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
    masking,
    models,
    mpc,
    zkp,
)
from .errors import InsufficientShares, IntegrityError

__all__ = ["NotYet", "check", "exercise_ids"]


class NotYet(Exception):
    """Raised by a checker to say why an answer is not right yet (shown to the learner)."""


@dataclass(frozen=True)
class _Exercise:
    hint: str
    is_correct: Callable[[Any], bool]


_EXERCISES: dict[str, _Exercise] = {}


def _exercise(exercise_id: str, *, hint: str) -> Callable:
    def register(is_correct: Callable[[Any], bool]) -> Callable[[Any], bool]:
        _EXERCISES[exercise_id] = _Exercise(hint=hint, is_correct=is_correct)
        return is_correct
    return register


def exercise_ids() -> list[str]:
    """Every registered exercise id, in order."""
    return sorted(_EXERCISES)


def check(exercise_id: str, answer: Any) -> bool:
    """Check ``answer`` to exercise ``exercise_id``; print ✓ or what to try next; return the verdict.

    ``...`` (Ellipsis, the placeholder in the exercise cells) means "not answered yet".

    Raises
    ------
    ValueError
        If ``exercise_id`` is not a known exercise.
    """
    if exercise_id not in _EXERCISES:
        raise ValueError(f"exercise_id must be one of {', '.join(exercise_ids())}; "
                         f"got {exercise_id!r}")
    exercise = _EXERCISES[exercise_id]
    if answer is Ellipsis:
        print(f"Exercise {exercise_id}: replace ... with your answer and run the cell again.")
        return False
    try:
        correct, reason = bool(exercise.is_correct(answer)), ""
    except NotYet as why:
        correct, reason = False, str(why)
    except Exception as error:  # a malformed answer is a learner's mistake, not a crash
        correct, reason = False, f"this answer could not be checked ({type(error).__name__}: {error})"
    if correct:
        print(f"✓ Exercise {exercise_id}: correct.")
    else:
        print(f"✗ Exercise {exercise_id}: not yet. {reason + ' ' if reason else ''}"
              f"Hint: {exercise.hint}")
    return correct


def _close(value: Any, expected: float, *, rel: float) -> bool:
    value = float(value)
    if not math.isclose(value, expected, rel_tol=rel):
        raise NotYet(f"{value:.4g} is not within {rel:.0%} of the expected value.")
    return True


# --- 00 welcome --------------------------------------------------------------------------

SECONDS_PER_THOUSAND_YEARS = 1000 * 365.25 * 24 * 3600


@_exercise("00.1", hint="Move the key-length slider at 10^12 guesses per second until the title "
                        "first says more than a thousand years; give that number of bits.")
def _smallest_key_for_a_thousand_years(bits: Any) -> bool:
    bits = int(bits)
    if crypto.expected_crack_seconds(bits, 1e12) < SECONDS_PER_THOUSAND_YEARS:
        raise NotYet(f"{bits} bits fall in under a thousand years.")
    if crypto.expected_crack_seconds(bits - 1, 1e12) >= SECONDS_PER_THOUSAND_YEARS:
        raise NotYet(f"{bits} bits are enough, but fewer would do: find the smallest.")
    return True


@_exercise("00.2", hint="leptonkit.crypto.sha256(b'leptonkit') returns bytes; call .hex() on them.")
def _sha256_hex(answer: Any) -> bool:
    if not isinstance(answer, str):
        raise NotYet(f"give the digest as a hex string, not {type(answer).__name__}.")
    return answer.lower() == hashlib.sha256(b"leptonkit").hexdigest()


@_exercise("00.3", hint="Read help(leptonkit.crypto.decrypt): its 'Raises' section names the class. "
                        "Give the class itself, not a string.")
def _tamper_exception(answer: Any) -> bool:
    return isinstance(answer, type) and issubclass(answer, IntegrityError)


# --- 01 encryption -----------------------------------------------------------------------

RECORD_01 = b"patient 0042: HbA1c 6.1 %, metformin 500 mg"
RECORD_ID_01 = b"record-0042"


@_exercise("01.1", hint="encrypt(record, key, associated_data=record_id); answer (token, key).")
def _encrypts_with_associated_data(answer: Any) -> bool:
    token, key = answer
    try:
        plaintext = crypto.decrypt(token, key, associated_data=RECORD_ID_01)
    except IntegrityError:
        raise NotYet("the token does not decrypt with this key and associated data "
                     "b'record-0042'.") from None
    if plaintext != RECORD_01:
        raise NotYet("the token decrypts, but not to `record`.")
    return True


@_exercise("01.2", hint="Copy the token into a bytearray, flip one bit with ^= (1 << k), "
                        "and answer (tampered, token, key).")
def _single_bit_flip_caught(answer: Any) -> bool:
    tampered, original, key = (bytes(x) for x in answer)
    if len(tampered) != len(original):
        raise NotYet("the tampered token must have the same length as the original.")
    flipped = np.unpackbits(np.frombuffer(tampered, np.uint8) ^ np.frombuffer(original, np.uint8))
    if flipped.sum() != 1:
        raise NotYet(f"exactly one bit must differ; {int(flipped.sum())} do.")
    crypto.decrypt(original, key)  # the original must be a valid token under this key
    try:
        crypto.decrypt(tampered, key)
    except IntegrityError:
        return True
    raise NotYet("the tampered token decrypted — that should be impossible.")


@_exercise("01.3", hint="Split the ECB ciphertext into 16-byte blocks (ct[i:i+16]) and count the "
                        "distinct ones with a set.")
def _distinct_ecb_blocks(answer: Any) -> bool:
    # ECB maps equal blocks to equal blocks under any key, so the count is the plaintext's.
    image = crypto.demo_image(128).tobytes() + bytes([16]) * 16  # PKCS#7 adds one full block
    distinct = len({image[i:i + 16] for i in range(0, len(image), 16)})
    if int(answer) != distinct:
        raise NotYet(f"{int(answer)} is not the number of distinct blocks.")
    return True


@_exercise("01.4", hint="Average guesses are half the space: 2**(bits - 1) * 0.1 seconds; "
                        "divide by 365.25 * 24 * 3600 for years.")
def _password_crack_years(answer: Any) -> bool:
    bits = 8 * math.log2(26)
    return _close(answer, crypto.expected_crack_seconds(bits, 10.0) / (365.25 * 24 * 3600), rel=0.01)


# --- 02 laplace vs gaussian ----------------------------------------------------------------


@_exercise("02.1", hint="One customer can move a clipped sum by at most the larger of |lower| and "
                        "|upper|, by joining or leaving.")
def _clipped_sum_sensitivity(answer: Any) -> bool:
    return _close(answer, 20_000.0, rel=1e-9)


@_exercise("02.2", hint="Laplace noise with scale b exceeds t in absolute value with probability "
                        "exp(-t / b); here b = Δ/ε.")
def _laplace_tail(answer: Any) -> bool:
    return _close(answer, math.exp(-5 / dp.laplace_scale(1.0, 0.5)), rel=0.01)


@_exercise("02.3", hint="Set the explorer's Δ to 1 and move ε until the Laplace bar reads 60 %; or "
                        "solve 1 - exp(-ε/2)/2 = 0.6 for ε.")
def _largest_epsilon_for_sixty_percent(answer: Any) -> bool:
    return _close(answer, 2 * math.log(1.25), rel=0.01)


@_exercise("02.4", hint="dp.per_coordinate_noise_std([50], epsilon=1, delta=1e-5) gives both "
                        "standard deviations; divide Laplace's by Gaussian's.")
def _laplace_over_gaussian_at_50(answer: Any) -> bool:
    noise = dp.per_coordinate_noise_std([50], epsilon=1.0, delta=1e-5)
    return _close(answer, float(noise["laplace"][0] / noise["gaussian"][0]), rel=0.02)


# --- 03 privacy budget ---------------------------------------------------------------------


@_exercise("03.1", hint="Spend 0.15 at a time on a fresh PrivacyAccountant(1.0) inside a loop, and "
                        "count the spends until PrivacyBudgetExceeded is raised.")
def _spends_that_fit(answer: Any) -> bool:
    if int(answer) != 6:
        raise NotYet(f"{int(answer)} spends of 0.15 do not add up to the most that fits under 1.0.")
    return True


@_exercise("03.2", hint="accounting.advanced_composition(0.05, 0.0, 200, delta_prime=1e-6) returns "
                        "(total ε, total δ); answer the ε.")
def _advanced_total(answer: Any) -> bool:
    return _close(answer, accounting.advanced_composition(0.05, 0.0, 200, delta_prime=1e-6)[0],
                  rel=0.01)


@_exercise("03.3", hint="accounting.noise_multiplier_for_epsilon(target_epsilon=3, sample_rate=0.01, "
                        "steps=2000, delta=1e-5).")
def _calibrated_noise(answer: Any) -> bool:
    eps = accounting.dpsgd_epsilon(noise_multiplier=float(answer), sample_rate=0.01, steps=2000,
                                   delta=1e-5)
    if eps > 3:
        raise NotYet(f"with this noise ε = {eps:.3f}, above the target 3.")
    if eps < 2.9:
        raise NotYet(f"with this noise ε = {eps:.3f}: private enough, but more noise than needed.")
    return True


@_exercise("03.4", hint="One release at ε = 0.1 has standard deviation √2·Δ/ε; the average of k has "
                        "that over √k. Find the smallest k that brings it below 0.8.")
def _repeats_to_average_noise_away(answer: Any) -> bool:
    k = int(answer)
    sd = math.sqrt(2) * dp.laplace_scale(1.0, 0.1)
    if sd / math.sqrt(k) >= 0.8:
        raise NotYet(f"after {k} repeats the average still has standard deviation {sd / math.sqrt(k):.3f}.")
    if sd / math.sqrt(k - 1) < 0.8:
        raise NotYet(f"{k} repeats are enough, but fewer would do: find the smallest.")
    return True


# --- 05 FedAvg ------------------------------------------------------------------------------

LEAKED_RECORD_05 = 7   # the training record whose gradient leaks in notebook 05


@_exercise("05.1", hint="Count the parameters: sum(p.numel() for p in model.parameters()); each is a "
                        "4-byte float32, sent once up per selected client.")
def _bytes_up_per_client(answer: Any) -> bool:
    expected = sum(p.numel() for p in models.mlp(64, 10).parameters()) * fl.BYTES_PER_PARAMETER
    if int(answer) != expected:
        raise NotYet(f"{int(answer)} bytes is not one float32 per parameter of the 64-64-10 network.")
    return True


@_exercise("05.2", hint="parts = fl.partition(y_train, 10, alpha=0.1, rng=0); then "
                        "len(np.unique(y_train[parts[0]])).")
def _labels_of_a_skewed_client(answer: Any) -> bool:
    _, _, y, _ = datasets.digits()
    labels = len(np.unique(y[fl.partition(y, 10, alpha=0.1, rng=0)[0]]))
    if int(answer) != labels:
        raise NotYet(f"client 0 does not hold {int(answer)} distinct digits.")
    return True


@_exercise("05.3", hint="accounting.noise_multiplier_for_epsilon(target_epsilon=5, sample_rate=10 / 100, "
                        "steps=50, delta=1e-5): each round is one step, each client joins with rate C.")
def _dp_fedavg_noise(answer: Any) -> bool:
    eps = accounting.dpsgd_epsilon(noise_multiplier=float(answer), sample_rate=0.1, steps=50, delta=1e-5)
    if eps > 5:
        raise NotYet(f"with this noise ε = {eps:.3f}, above the target 5.")
    if eps < 4.9:
        raise NotYet(f"with this noise ε = {eps:.3f}: private enough, but more noise than needed.")
    return True


@_exercise("05.4", hint="attacks.gradient_inversion(model, leaked, n_features=64) returns a dict; answer "
                        "its 'reconstruction'.")
def _reconstructed_record(answer: Any) -> bool:
    X, _, _, _ = datasets.digits()
    image = np.asarray(answer, dtype=float).reshape(-1)
    if image.shape != (64,):
        raise NotYet(f"answer 64 pixel values, not {image.size}.")
    error = float(np.mean((image - X[LEAKED_RECORD_05]) ** 2))
    if error > 1e-3:
        raise NotYet(f"the mean squared error to the client's record is {error:.3g}: not yet the record.")
    return True


# --- 06 secret sharing -----------------------------------------------------------------------

EXPOSURES_06 = (120, 340, 95)   # the three banks' exposures, in millions


@_exercise("06.1", hint="Share each exposure with mpc.additive_share(x, 3) (share j goes to bank j), stack "
                        "the three sharings into a 3 × 3 array and add down the sharings (axis=0): entry j "
                        "is what bank j publishes. Answer those three partial sums.")
def _partial_sums(answer: Any) -> bool:
    partial = np.asarray(answer, dtype=np.uint64)
    if partial.shape != (3,):
        raise NotYet(f"answer one partial sum per bank: shape (3,), not {partial.shape}.")
    if int(mpc.additive_reconstruct(partial)) != sum(EXPOSURES_06):
        raise NotYet("the partial sums do not add up to the total exposure.")
    if set(partial.tolist()) & {*EXPOSURES_06, sum(EXPOSURES_06), 0}:
        raise NotYet("a partial sum shows a bank's exposure or the total in the clear: use random shares.")
    return True


@_exercise("06.2", hint="A coalition reconstructs when it has at least t members: add math.comb(5, k) "
                        "for k = 3, 4, 5 — or read the green bars of the explorer at t = 3, n = 5.")
def _coalitions_that_reconstruct(answer: Any) -> bool:
    expected = sum(math.comb(5, k) for k in range(3, 6))
    if int(answer) != expected:
        raise NotYet(f"{int(answer)} is not the number of coalitions of at least 3 of the 5 banks.")
    return True


@_exercise("06.3", hint="x_shares = mpc.additive_share(np.array([6]), 3), likewise y = 7; triple = "
                        "mpc.beaver_triple(1, 3); answer beaver_multiply(x_shares, y_shares, triple)['z'].")
def _beaver_product(answer: Any) -> bool:
    z = np.asarray(answer, dtype=np.uint64)
    if z.ndim != 2 or z.shape[0] != 3:
        raise NotYet(f"answer the three parties' shares of the product (shape (3, 1)), not shape {z.shape}.")
    if mpc.additive_reconstruct(z).view(np.int64).tolist() != [42]:
        raise NotYet("these shares do not reconstruct to 6 × 7 = 42.")
    return True


@_exercise("06.4", hint="The default threshold is a majority, n // 2 + 1; the server needs that many "
                        "survivors. Try mpc.secure_aggregate with more and more dropouts.")
def _most_dropouts(answer: Any) -> bool:
    updates = np.ones((10, 2))
    k = int(answer)
    try:
        mpc.secure_aggregate(updates, dropouts=range(k))
    except InsufficientShares:
        raise NotYet(f"with {k} dropouts the server cannot recover the sum.") from None
    try:
        mpc.secure_aggregate(updates, dropouts=range(k + 1))
    except InsufficientShares:
        return True
    raise NotYet(f"the server still recovers the sum with {k + 1} dropouts: find the largest number.")


# --- 07 homomorphic encryption and zero knowledge ---------------------------------------------

SALARIES_07 = (52_000, 61_500, 48_250, 75_000, 58_900)
SCHNORR_SEED_07 = 2024   # the notebook's lesson key: seeded, so the checker knows its public key
MESSAGES_07 = (b"approve transfer 1", b"approve transfer 2")


def _decrypt_answer(answer: Any) -> int:
    ciphertext, private = answer
    if not isinstance(ciphertext, he.PaillierCiphertext):
        raise NotYet(f"answer (ciphertext, private_key); the ciphertext is a {type(ciphertext).__name__}.")
    return private.decrypt(ciphertext)


@_exercise("07.1", hint="Encrypt each salary with public.encrypt, add the ciphertexts with +, and answer "
                        "(total_ciphertext, private).")
def _encrypted_total(answer: Any) -> bool:
    total = _decrypt_answer(answer)
    if total != sum(SALARIES_07):
        raise NotYet(f"the ciphertext decrypts to {total}, not the sum of the salaries.")
    return True


@_exercise("07.2", hint="A ciphertext can be multiplied by an int, not by 1.03: multiply the encrypted "
                        "total by 103 (the result is in hundredths) and answer (ciphertext, private).")
def _encrypted_raise(answer: Any) -> bool:
    total = _decrypt_answer(answer)
    if total != 103 * sum(SALARIES_07):
        raise NotYet(f"the ciphertext decrypts to {total}, not 103 × the total (the raise in hundredths).")
    return True


@_exercise("07.3", hint="zkp.prove(secret, b'model v2 is mine') returns a proof; answer it.")
def _schnorr_proof(answer: Any) -> bool:
    _, public = zkp.schnorr_keypair(rng=SCHNORR_SEED_07)
    if not isinstance(answer, zkp.SchnorrProof):
        raise NotYet(f"answer the SchnorrProof, not {type(answer).__name__}.")
    if not zkp.verify(public, b"model v2 is mine", answer):
        raise NotYet("this proof does not verify for the lesson's public key and b'model v2 is mine'.")
    return True


@_exercise("07.4", hint="zkp.recover_secret_from_nonce_reuse(public, message1, proof1, message2, proof2); "
                        "answer the recovered secret (an int).")
def _recovered_secret(answer: Any) -> bool:
    _, public = zkp.schnorr_keypair(rng=SCHNORR_SEED_07)
    if pow(zkp.G, int(answer) % zkp.Q, zkp.P) != public:
        raise NotYet("g to the power of this number is not the public key: it is not the secret.")
    return True


# --- 08 de-identification ------------------------------------------------------------------

QUASI_IDENTIFIERS_08 = ["postcode", "birth_date", "sex"]


def _patients_08():
    register = datasets.town_register()
    return register, masking.suppress(datasets.hospital_patients(register), ["name", "phone"])


@_exercise("08.1", hint="masking.k_anonymity(released, ['postcode', 'birth_date', 'sex']) on the "
                        "table without names and phone numbers.")
def _k_of_the_raw_release(answer: Any) -> bool:
    _, released = _patients_08()
    k = masking.k_anonymity(released, QUASI_IDENTIFIERS_08)
    if int(answer) != k:
        raise NotYet(f"{int(answer)} is not the size of the smallest group.")
    return True


@_exercise("08.2", hint="Replace birth_date by masking.generalize(..., kind='date') and postcode by "
                        "masking.generalize(..., kind='postcode', width=3), then ask k_anonymity.")
def _k_after_generalising(answer: Any) -> bool:
    _, released = _patients_08()
    coarse = released.assign(birth_date=masking.generalize(released["birth_date"], kind="date"),
                             postcode=masking.generalize(released["postcode"], kind="postcode", width=3))
    k = masking.k_anonymity(coarse, QUASI_IDENTIFIERS_08)
    if int(answer) != k:
        raise NotYet(f"{int(answer)} is not the k of the generalised table.")
    return True


@_exercise("08.3", hint="For each k, run masking.mondrian then attacks.linkage_attack, and average "
                        "1 / candidates; find the smallest k under 5 %.")
def _smallest_k_under_five_percent(answer: Any) -> bool:
    register, released = _patients_08()

    def rate(k: int) -> float:
        anonymised, _ = masking.mondrian(released, QUASI_IDENTIFIERS_08, k)
        linked = attacks.linkage_attack(anonymised, register, quasi_identifiers=QUASI_IDENTIFIERS_08)
        return float((1 / linked["candidates"]).mean())

    k = int(answer)
    if rate(k) >= 0.05:
        raise NotYet(f"at k = {k} the chance to name a patient is {rate(k):.1%}, not under 5 %.")
    if k > 1 and rate(k - 1) < 0.05:
        raise NotYet(f"k = {k} works, but a smaller k does too.")
    return True


# --- 09 compression ---------------------------------------------------------------------------


@_exercise("09.1", hint="compress.sparsify_top_k(np.zeros((1, 4810)), fraction=0.01) returns the bytes per "
                        "client; or count ⌈1 % of 4810⌉ values at 4 + 4 bytes each.")
def _top_k_bytes(answer: Any) -> bool:
    expected = compress.sparsify_top_k(np.zeros((1, 4810)), fraction=0.01)[1]
    if int(answer) != expected:
        raise NotYet(f"{int(answer)} is not the bytes of the kept values and their indices.")
    return True


def _frontier_09() -> dict:
    X, X_test, y, y_test = datasets.digits()
    model = models.train_non_private(models.mlp(64, 10), X, y, epochs=30, rng=0)
    return compress.compression_frontier(model, X_test, y_test)


@_exercise("09.2", hint="In the frontier, look at the 8-bit rows: the largest prune fraction whose accuracy "
                        "is at least the uncompressed (0 %, 32-bit) accuracy minus 0.01.")
def _largest_safe_pruning(answer: Any) -> bool:
    frontier = _frontier_09()
    dense = frontier["accuracy"][(frontier["bits"] == 32) & (frontier["prune"] == 0)][0]
    eight = frontier["bits"] == 8
    ok = frontier["prune"][eight & (frontier["accuracy"] >= dense - 0.01)]
    if not math.isclose(float(answer), float(ok.max())):
        raise NotYet(f"{float(answer):g} is not the largest 8-bit pruning fraction within 1 point.")
    return True


@_exercise("09.3", hint="fl.fedavg(..., compress=lambda u: compress.quantize_stochastic(u, bits=8, rng=0)) "
                        "on the notebook's clients; answer the FedAvgResult.")
def _quantised_fedavg(answer: Any) -> bool:
    if not isinstance(answer, fl.FedAvgResult):
        raise NotYet(f"answer the FedAvgResult, not {type(answer).__name__}.")
    n_params = sum(p.numel() for p in answer.model.parameters())
    last = answer.history[-1]
    if last["bytes_up"] != last["clients"] * (n_params + 8):
        raise NotYet("each client should send one byte per parameter plus 8 (8-bit values, min and max).")
    if last["accuracy"] < 0.85:
        raise NotYet(f"final accuracy {last['accuracy']:.1%}: train until it is at least 85 %.")
    return True


# --- 10 audit and compliance ---------------------------------------------------------------


@_exercise("10.1", hint="Copy the log file, change it (edit a byte, delete or swap lines), and answer "
                        "AuditLog(copy_path, key=key): its verify() must fail.")
def _tampering_caught(answer: Any) -> bool:
    if not isinstance(answer, audit.AuditLog):
        raise NotYet(f"answer an AuditLog, not {type(answer).__name__}.")
    if not answer.path.exists() or answer.path.stat().st_size == 0:
        raise NotYet("that log is empty: tamper with a copy that has records.")
    try:
        answer.verify()
    except IntegrityError:
        return True
    raise NotYet("this log still verifies: it has not been tampered with (or was rewritten with the key).")


@_exercise("10.2", hint="Count len(log.records()) before the crash; after repair(), answer "
                        "(log, that count).")
def _repair_keeps_every_complete_record(answer: Any) -> bool:
    log, before = answer
    log.verify()
    if len(log.records()) != int(before):
        raise NotYet(f"the log holds {len(log.records())} records, not {int(before)}.")
    return True


@_exercise("10.3", hint="Count the lines that start with '- ' under '## Flagged problems' in "
                        "audit.compliance_report(log); answer (log, count).")
def _flagged_problems(answer: Any) -> bool:
    log, count = answer
    report = audit.compliance_report(log)
    flagged = report.split("## Flagged problems", 1)[1].count("\n- ")
    if int(count) != flagged:
        raise NotYet(f"the report flags {flagged} problems, not {int(count)}.")
    return True


# --- 04 DP-SGD -------------------------------------------------------------------------------


def _first_patients_04(n: int = 32):
    import torch

    X, _, y, _ = datasets.digits()
    return models.mlp(64, 10), torch.tensor(X[:n]), torch.tensor(y[:n])


@_exercise("04.1", hint="dpsgd.per_sample_gradients(model, X_batch, y_batch), then dpsgd.clip_and_sum"
                        "(grads, 3.0) returns the norms before clipping: count those above 3.0.")
def _clipped_count(answer: Any) -> bool:
    model, X, y = _first_patients_04()
    _, norms = dpsgd.clip_and_sum(dpsgd.per_sample_gradients(model, X, y), 3.0)
    if int(answer) != int((norms > 3.0).sum()):
        raise NotYet(f"{int(answer)} is not the number of the first 32 gradients longer than C = 3.")
    return True


@_exercise("04.2", hint="Clip-and-sum the 32 gradients, then the 31 without the first form, both with "
                        "C = 0.5; the L2 norm of the difference over all parameters is the answer.")
def _influence_of_one(answer: Any) -> bool:
    import torch

    model, X, y = _first_patients_04()
    grads = dpsgd.per_sample_gradients(model, X, y)
    total, _ = dpsgd.clip_and_sum(grads, 0.5)
    without, _ = dpsgd.clip_and_sum({k: g[1:] for k, g in grads.items()}, 0.5)
    change = float(torch.sqrt(sum((total[k] - without[k]).pow(2).sum() for k in total)))
    if float(answer) > 0.5 + 1e-6:
        raise NotYet(f"{float(answer):.4f} is more than C = 0.5: clipping bounds one person's influence.")
    return _close(answer, change, rel=1e-4)


@_exercise("04.3", hint="dpsgd.train(models.mlp(64, 10), X_train, y_train, target_epsilon=2, rng=0) on "
                        "the full training split; answer the TrainResult.")
def _private_model_that_works(answer: Any) -> bool:
    if not isinstance(answer, dpsgd.TrainResult):
        raise NotYet(f"answer the TrainResult that dpsgd.train returns, not {type(answer).__name__}.")
    _, X_test, _, y_test = datasets.digits()
    accuracy = models.evaluate(answer.model, X_test, y_test)[1]
    if answer.epsilon > 2.0 or answer.delta > 1e-5:
        raise NotYet(f"this run spent (ε = {answer.epsilon:.3f}, δ = {answer.delta:g}), more than (2, 1e-5).")
    if accuracy < 0.85:
        raise NotYet(f"test accuracy {accuracy:.1%}: private, but not yet useful (aim for 85 %).")
    return True
