"""Every public function of the library, fed one hostile argument at a time (hypothesis).

For each function a valid call is written down below; hypothesis then replaces one argument
with a wrong type, NaN, ±inf, a huge or an empty value and calls again. The only outcomes
accepted are a normal return, or ``ValueError``/``TypeError`` whose message names the argument
that was replaced, or one of the kit's named errors. AttributeError, OverflowError, KeyError,
RecursionError, MemoryError, ZeroDivisionError and the like are defects. Bounded: a fixed number
of examples per function (50), derandomised, so every run tries the same calls.
"""

# ruff: noqa: E501  (the table of valid calls reads best one call a line)
from __future__ import annotations

import functools
import importlib
import inspect
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from leptonkit import (
    accounting,
    attacks,
    audit,
    compress,
    crypto,
    datasets,
    dp,
    dpsgd,
    errors,
    fl,
    he,
    masking,
    models,
    mpc,
    pipeline,
    privacy_audit,
    psi,
    text,
    zkp,
)

MODULES = ("crypto", "he", "dp", "accounting", "dpsgd", "fl", "mpc", "zkp", "masking", "compress", "audit",
           "attacks", "datasets", "models", "psi", "pipeline", "text", "privacy_audit")
NAMED_ERRORS = (errors.IntegrityError, errors.PrivacyBudgetExceeded, errors.InsufficientShares)

# Public names that are not fuzzed here, and why (each is tested elsewhere).
EXEMPT = {
    "dpsgd.TrainResult": "a result record the kit returns",
    "fl.FedAvgResult": "a result record the kit returns",
    "mpc.SecureAggregation": "a result record the kit returns",
    "mpc.BeaverTriple": "a record the kit's dealer returns",
    "mpc.Share": "a record shamir_share returns",
    "zkp.SchnorrProof": "a record prove returns; verify is fuzzed with malformed proofs",
    "zkp.BitProof": "a record prove_bit returns; verify_bit is fuzzed with malformed proofs",
    "audit.Record": "a record the log returns after verifying it",
    "audit.Checkpoint": "a record sign_head returns; from_json and verify_checkpoint are fuzzed",
    "accounting.Spend": "a ledger line the accountant builds",
    "accounting.PrivacyCost": "built through its class methods, fuzzed below",
    "accounting.charge": "a context manager; fuzzed through every releasing function",
    "fl.run_on_flower": "starts Flower's engine (about 20 s a call); tests/test_fl.py -k flower",
    "fl.flower_client_app": "builds a Flower ClientApp; run by tests/test_deployment.py and -k flower",
    "fl.flower_server_app": "builds a Flower ServerApp; run by tests/test_deployment.py and -k flower",
    "fl.flower_train": "a ClientApp handler taking Flower's Message and Context; tests/test_deployment.py",
    "dpsgd.privacy_utility": "trains one DP-SGD model per ε; its pieces are fuzzed",
    "he.PaillierPrivateKey": "built by generate_paillier_keypair from the primes it finds",
    "psi.PSIResult": "a record intersection_cardinality returns",
    "pipeline.Prepared": "a record preprocess returns",
    "pipeline.PipelineReport": "a record run returns; tests/test_pipeline.py checks it against the ledger",
    "privacy_audit.AuditResult": "a record one_run_audit returns",
    "privacy_audit.StackedModels": "a record train_models returns; its logits and model are tested in "
                                   "tests/test_privacy_audit.py",
    "text.pretrained_embeddings": "needs the optional sentence-transformers and a saved encoder; tests/test_text.py",
}

BAD = [None, float("nan"), float("inf"), -float("inf"), -1, 0, 10**400, 1e308, "x", b"x", [], [[1, [2]]], {},
       object(), np.array([]), np.array([np.nan]), True, 2**64]


@functools.cache
def _world() -> dict:
    """The valid objects the calls need, built once."""
    X, _, y, _ = datasets.digits()
    X, y = X[:40], y[:40]
    model = models.mlp(64, 10)
    key = crypto.generate_key()
    rsa_private, rsa_public = crypto.generate_rsa_keypair()
    signing, verifying = crypto.generate_signing_keypair()
    paillier_private, paillier_public = he.generate_paillier_keypair()
    secret, public = zkp.schnorr_keypair(rng=1)
    register = datasets.town_register(300, rng=0)
    patients = masking.suppress(datasets.hospital_patients(register, 60, rng=1), ["name", "phone"])
    shares = mpc.shamir_share(7, threshold=2, n_parties=3, prime=11, rng=0)
    triple = mpc.beaver_triple(1, 3, rng=0)
    log = audit.AuditLog(Path(tempfile.mkdtemp()) / "audit.jsonl")
    log.append(actor="ana", action="access", details={"dataset": "d", "purpose": "p"})
    grads = dpsgd.per_sample_gradients(model, torch.as_tensor(X[:4]), torch.as_tensor(y[:4]))
    return {
        "X": X, "y": y, "model": model, "key": key, "rsa_public": rsa_public, "rsa_private": rsa_private,
        "signing": signing, "verifying": verifying, "paillier_private": paillier_private,
        "paillier_public": paillier_public, "secret": secret, "public": public, "register": register,
        "patients": patients, "shares": shares, "triple": triple, "log": log, "grads": grads,
        "token": crypto.encrypt(b"record", key), "array_token": crypto.encrypt_array(np.arange(3.0), key),
        "sealed": crypto.seal(b"record", rsa_public), "password_token": crypto.encrypt_with_password(
            b"record", "pw", log2_n=17),
        "proof": zkp.prove(secret, b"m"), "ciphertexts": he.encrypt_vector([1.0, 2.0], paillier_public),
        "clients": [(X[i * 10:(i + 1) * 10], y[i * 10:(i + 1) * 10]) for i in range(4)],
        "updates": np.random.default_rng(0).normal(size=(5, 3)),
        "checkpoint": audit.sign_head(log, signing),
        "credit": datasets.load_credit(600, rng=0).drop(columns=["customer", "bank"]),
        **_text_world(),
    }


def _text_world() -> dict:
    vocabulary = text.build_vocabulary(["my code is 0 1 2 3 4 5 6 7 8 9", "my card"], min_count=1)
    return {"vocabulary": vocabulary, "lm": text.NextTokenModel(len(vocabulary), dim=4, hidden=8),
            "sequences": vocabulary.encode(["my code is 12", "my card", "my code 3"], max_length=6, bos_eos=True)}


@functools.cache
def _all_calls() -> dict:
    return _calls(_world())


def _calls(w: dict) -> dict:
    """``"module.function": (callable, valid keyword arguments)`` for every fuzzed public name."""
    X, y, model = w["X"], w["y"], w["model"]
    nonce_proofs = [zkp.prove_with_nonce_insecure(w["secret"], m, nonce=5) for m in (b"a", b"b")]
    return {
        # crypto
        "crypto.bytes_as_image": (crypto.bytes_as_image, {"data": bytes(64), "shape": (8, 8)}),
        "crypto.agree_key": (crypto.agree_key, {"private": crypto.generate_agreement_keypair()[0],
                                                "peer_public": crypto.generate_agreement_keypair()[1],
                                                "info": b"fuzz", "salt": None}),
        "crypto.generate_agreement_keypair": (crypto.generate_agreement_keypair, {}),
        "crypto.canonical_array_bytes": (crypto.canonical_array_bytes, {"array": np.arange(4.0)}),
        "crypto.sign_array": (crypto.sign_array, {"array": np.arange(4.0), "private": w["signing"]}),
        "crypto.verify_array": (crypto.verify_array, {"array": np.arange(4.0), "signature": bytes(64),
                                                      "public": w["verifying"]}),
        "crypto.encrypt_with_nonce_insecure": (crypto.encrypt_with_nonce_insecure, {
            "plaintext": b"x", "key": w["key"], "nonce": bytes(12)}),
        "crypto.decrypt": (crypto.decrypt, {"token": w["token"], "key": w["key"], "associated_data": None}),
        "crypto.decrypt_array": (crypto.decrypt_array, {"token": w["array_token"], "key": w["key"]}),
        "crypto.decrypt_with_password": (crypto.decrypt_with_password, {"token": w["password_token"],
                                                                        "password": "pw"}),
        "crypto.demo_image": (crypto.demo_image, {"size": 32}),
        "crypto.derive_key_from_password": (crypto.derive_key_from_password, {"password": "pw", "salt": bytes(16),
                                                                              "log2_n": 14}),
        "crypto.ecb_encrypt_insecure": (crypto.ecb_encrypt_insecure, {"data": b"x" * 32, "key": w["key"]}),
        "crypto.encrypt": (crypto.encrypt, {"plaintext": b"x", "key": w["key"], "associated_data": b"id"}),
        "crypto.encrypt_array": (crypto.encrypt_array, {"array": np.arange(4.0), "key": w["key"]}),
        "crypto.encrypt_with_password": (crypto.encrypt_with_password, {"plaintext": b"x", "password": "pw",
                                                                        "log2_n": 17}),
        "crypto.expected_crack_seconds": (crypto.expected_crack_seconds, {"entropy_bits": 40.0,
                                                                          "guesses_per_second": 1e9}),
        "crypto.generate_key": (crypto.generate_key, {}),
        "crypto.generate_rsa_keypair": (crypto.generate_rsa_keypair, {"bits": 3072}),
        "crypto.generate_signing_keypair": (crypto.generate_signing_keypair, {}),
        "crypto.hmac_sha256": (crypto.hmac_sha256, {"key": w["key"], "data": b"x"}),
        "crypto.kdf_cost_table": (crypto.kdf_cost_table, {"measured_up_to": 11, "repeats": 1}),
        "crypto.kdf_seconds": (crypto.kdf_seconds, {"log2_n": 10, "repeats": 1}),
        "crypto.seal": (crypto.seal, {"plaintext": b"x", "public": w["rsa_public"]}),
        "crypto.sha256": (crypto.sha256, {"data": b"x"}),
        "crypto.sign": (crypto.sign, {"message": b"x", "private": w["signing"]}),
        "crypto.unseal": (crypto.unseal, {"sealed": w["sealed"], "private": w["rsa_private"]}),
        "crypto.verify": (crypto.verify, {"message": b"x", "signature": bytes(64), "public": w["verifying"]}),
        "crypto.verify_hmac": (crypto.verify_hmac, {"key": w["key"], "data": b"x", "tag": bytes(32)}),
        # homomorphic encryption
        "he.PaillierCiphertext": (he.PaillierCiphertext, {"public": w["paillier_public"], "value": 5}),
        "he.PaillierPublicKey": (he.PaillierPublicKey, {"n": w["paillier_public"].n}),
        "he.aggregation_seconds": (he.aggregation_seconds, {"table": he.cost_table((2048,), repeats=1),
                                                            "bits": 2048, "values": 10, "clients": 3}),
        "he.cost_table": (he.cost_table, {"bits": (2048,), "repeats": 1}),
        "he.decrypt_vector": (he.decrypt_vector, {"ciphertexts": w["ciphertexts"],
                                                  "private": w["paillier_private"], "scale": 65536}),
        "he.encrypt_vector": (he.encrypt_vector, {"values": [1.0, 2.0], "public": w["paillier_public"],
                                                  "scale": 65536}),
        "he.encrypted_sum": (he.encrypted_sum, {"vectors": [w["ciphertexts"], w["ciphertexts"]]}),
        "he.generate_paillier_keypair": (he.generate_paillier_keypair, {"bits": 2048}),
        "he.encrypt_packed": (he.encrypt_packed, {"values": [0.5, -1.0], "public": w["paillier_public"],
                                                  "bound": 1.0, "summands": 3, "scale": 65536}),
        "he.decrypt_packed": (he.decrypt_packed, {"packed": he.encrypt_packed(
            [0.5], w["paillier_public"], bound=1.0, summands=2), "private": w["paillier_private"]}),
        "he.packing_slots": (he.packing_slots, {"bits": 2048, "bound": 1.0, "summands": 1000, "scale": 65536}),
        "he.Randomizers": (he.Randomizers, {"key": w["paillier_public"], "count": 2}),
        "he.PackedVector": (he.PackedVector, dict(vars(he.encrypt_packed(
            [0.5], w["paillier_public"], bound=1.0, summands=2)))),
        # differential privacy
        "dp.dp_count": (dp.dp_count, {"values": [1, 2, 3], "epsilon": 1.0, "rng": 0}),
        "dp.dp_histogram": (dp.dp_histogram, {"values": [1.0, 2.0], "bins": [0, 1, 2, 3], "epsilon": 1.0,
                                              "rng": 0}),
        "dp.dp_mean": (dp.dp_mean, {"values": [1.0, 2.0], "lower": 0, "upper": 5, "epsilon": 1.0, "rng": 0}),
        "dp.dp_sum": (dp.dp_sum, {"values": [1.0, 2.0], "lower": 0, "upper": 5, "epsilon": 1.0, "rng": 0}),
        "dp.exponential_mechanism": (dp.exponential_mechanism, {"utilities": [1.0, 2.0], "epsilon": 1.0,
                                                                "sensitivity": 1.0, "rng": 0}),
        "dp.exponential_mechanism_probabilities": (dp.exponential_mechanism_probabilities, {
            "utilities": [1.0, 2.0], "epsilon": 1.0, "sensitivity": 1.0}),
        "dp.gaussian_delta": (dp.gaussian_delta, {"epsilon": 1.0, "sigma": 2.0, "sensitivity": 1.0}),
        "dp.gaussian_epsilon": (dp.gaussian_epsilon, {"sigma": 2.0, "sensitivity": 1.0, "delta": 1e-5}),
        "dp.gaussian_mechanism": (dp.gaussian_mechanism, {"value": 1.0, "sensitivity": 1.0, "epsilon": 1.0,
                                                          "delta": 1e-5, "rng": 0}),
        "dp.gaussian_sigma": (dp.gaussian_sigma, {"sensitivity": 1.0, "epsilon": 1.0, "delta": 1e-5,
                                                  "method": "analytic"}),
        "dp.geometric_mechanism": (dp.geometric_mechanism, {"count": 5, "epsilon": 1.0, "sensitivity": 1,
                                                            "rng": 0}),
        "dp.laplace_grid": (dp.laplace_grid, {"sensitivity": 1.0}),
        "dp.laplace_mechanism": (dp.laplace_mechanism, {"value": 1.0, "sensitivity": 1.0, "epsilon": 1.0,
                                                        "rng": 0}),
        "dp.laplace_scale": (dp.laplace_scale, {"sensitivity": 1.0, "epsilon": 1.0}),
        "dp.per_coordinate_noise_std": (dp.per_coordinate_noise_std, {"dimensions": [1, 10], "epsilon": 1.0,
                                                                      "delta": 1e-5}),
        "dp.randomized_response": (dp.randomized_response, {"truth": [True, False], "epsilon": 1.0, "rng": 0}),
        "dp.randomized_response_estimate": (dp.randomized_response_estimate, {"responses": [True, False],
                                                                              "epsilon": 1.0}),
        # accounting
        "accounting.PrivacyAccountant": (accounting.PrivacyAccountant, {"epsilon": 1.0, "delta": 1e-5,
                                                                        "actor": "dpo", "composition": "pld"}),
        "accounting.PrivacyAccountant.spend": (
            lambda **kw: accounting.PrivacyAccountant(1.0, 1e-5).spend(**kw),
            {"cost": 0.5, "delta": 0.0, "label": "a release"}),
        "accounting.PrivacyCost.gaussian": (accounting.PrivacyCost.gaussian, {
            "noise_multiplier": 1.0, "epsilon": 1.0, "delta": 1e-5, "sample_rate": 0.1, "steps": 10}),
        "accounting.PrivacyCost.discrete_laplace": (accounting.PrivacyCost.discrete_laplace, {
            "decay": 0.5, "sensitivity": 1}),
        "accounting.PrivacyCost.from_record": (accounting.PrivacyCost.from_record, {
            "data": accounting.PrivacyCost.pure(1.0).as_record()}),
        "accounting.advanced_composition": (accounting.advanced_composition, {"epsilon": 0.1, "delta": 0.0,
                                                                              "k": 10, "delta_prime": 1e-6}),
        "accounting.basic_composition": (accounting.basic_composition, {"epsilon": 0.1, "delta": 0.0, "k": 10}),
        "accounting.composition_curves": (accounting.composition_curves, {"epsilon": 0.1, "k_max": 50}),
        "accounting.dpsgd_epsilon": (accounting.dpsgd_epsilon, {"noise_multiplier": 1.0, "sample_rate": 0.01,
                                                                "steps": 100, "delta": 1e-5}),
        "accounting.dpsgd_epsilon_curve": (accounting.dpsgd_epsilon_curve, {
            "noise_multiplier": 1.0, "sample_rate": 0.01, "steps": [10, 100], "delta": 1e-5}),
        "accounting.gaussian_composition_epsilon": (accounting.gaussian_composition_epsilon, {
            "noise_multiplier": 2.0, "k": 10, "delta": 1e-5}),
        "accounting.gdp_epsilon": (accounting.gdp_epsilon, {"mu": 1.0, "delta": 1e-5}),
        "accounting.zcdp_epsilon": (accounting.zcdp_epsilon, {"rho": 1.0, "delta": 1e-5}),
        "dp.sparse_vector": (dp.sparse_vector, {"answers": [1.0, 5.0], "threshold": 3.0, "epsilon": 1.0,
                                                "sensitivity": 1.0, "max_above": 1, "monotonic": False,
                                                "rng": 0}),
        "accounting.noise_multiplier_for_epsilon": (accounting.noise_multiplier_for_epsilon, {
            "target_epsilon": 2.0, "sample_rate": 0.01, "steps": 100, "delta": 1e-5}),
        # DP-SGD and models
        "dpsgd.add_noise": (dpsgd.add_noise, {"summed": {k: g.sum(0) for k, g in w["grads"].items()},
                                              "noise_multiplier": 1.0, "max_grad_norm": 1.0}),
        "dpsgd.calibrate_noise": (dpsgd.calibrate_noise, {"target_epsilon": 2.0, "sample_rate": 0.1, "steps": 100,
                                                          "delta": 1e-5, "calibration": "rdp"}),
        "dpsgd.clip_and_sum": (dpsgd.clip_and_sum, {"grads": w["grads"], "max_grad_norm": 1.0}),
        "dpsgd.clipped_gradient_sum": (dpsgd.clipped_gradient_sum, {
            "model": model, "X": torch.as_tensor(X[:4]), "y": torch.as_tensor(y[:4]), "max_grad_norm": 1.0}),
        "dpsgd.per_sample_gradients": (dpsgd.per_sample_gradients, {"model": model, "X": torch.as_tensor(X[:4]),
                                                                    "y": torch.as_tensor(y[:4])}),
        "dpsgd.train": (dpsgd.train, {"model": model, "X": X, "y": y, "noise_multiplier": 1.0, "epochs": 1,
                                      "rng": 0}),
        "models.as_tensors": (models.as_tensors, {"X": X, "y": y}),
        "models.check_model": (models.check_model, {"model": model}),
        "models.evaluate": (models.evaluate, {"model": model, "X": X, "y": y}),
        "models.mlp": (models.mlp, {"n_inputs": 64, "n_classes": 10, "hidden": 8, "seed": 0}),
        "models.train_non_private": (models.train_non_private, {"model": model, "X": X, "y": y, "epochs": 1,
                                                                "batch_size": 16, "lr": 0.5, "rng": 0}),
        # federated learning
        "fl.coordinate_median": (fl.coordinate_median, {"updates": w["updates"], "weights": np.ones(5),
                                                        "clients": np.arange(5)}),
        "fl.fedavg": (fl.fedavg, {"model": model, "clients": w["clients"], "rounds": 1, "clip_norm": 1.0,
                                  "noise_multiplier": 1.0, "rng": 0}),
        "fl.fedavg_on_partition": (fl.fedavg_on_partition, {"model": model, "X": X, "y": y, "n_clients": 4,
                                                            "rounds": 1}),
        "fl.get_weights": (fl.get_weights, {"model": model}),
        "fl.partition": (fl.partition, {"y": y, "n_clients": 4, "alpha": 1.0, "rng": 0, "max_tries": 10}),
        "fl.rounds_to_accuracy": (fl.rounds_to_accuracy, {"history": [{"round": 1, "accuracy": 0.5}],
                                                          "target": 0.4}),
        "fl.secure_mean": (fl.secure_mean, {"updates": w["updates"], "weights": np.ones(5),
                                            "clients": np.arange(5)}),
        "fl.set_weights": (fl.set_weights, {"model": models.mlp(64, 10), "weights": fl.get_weights(model)}),
        "fl.trimmed_mean": (fl.trimmed_mean, {"updates": w["updates"], "weights": np.ones(5),
                                              "clients": np.arange(5), "beta": 0.2}),
        "fl.weighted_mean": (fl.weighted_mean, {"updates": w["updates"], "weights": np.ones(5),
                                                "clients": np.arange(5)}),
        # secure computation
        "mpc.additive_reconstruct": (mpc.additive_reconstruct, {"shares": mpc.additive_share(5, 3, rng=0)}),
        "mpc.additive_share": (mpc.additive_share, {"secret": 5, "n_parties": 3, "rng": 0}),
        "mpc.beaver_multiply": (mpc.beaver_multiply, {"x_shares": mpc.additive_share(np.array([6]), 3, rng=0),
                                                      "y_shares": mpc.additive_share(np.array([7]), 3, rng=1),
                                                      "triple": w["triple"]}),
        "mpc.beaver_triple": (mpc.beaver_triple, {"shape": 2, "n_parties": 3, "rng": 0}),
        "mpc.consistent_secrets": (mpc.consistent_secrets, {"shares": w["shares"][:1], "threshold": 2,
                                                            "prime": 11}),
        "mpc.decode_fixed": (mpc.decode_fixed, {"encoded": mpc.encode_fixed([1.5]), "fractional_bits": 16}),
        "mpc.encode_fixed": (mpc.encode_fixed, {"values": [1.5], "summands": 2, "fractional_bits": 16}),
        "mpc.secure_aggregate": (mpc.secure_aggregate, {"updates": w["updates"], "dropouts": {1},
                                                        "threshold": 3, "rng": 0}),
        "mpc.secure_dot": (mpc.secure_dot, {"x_shares": mpc.additive_share(np.arange(3), 3, rng=0),
                                            "y_shares": mpc.additive_share(np.arange(3), 3, rng=1), "rng": 0}),
        "mpc.shamir_reconstruct": (mpc.shamir_reconstruct, {"shares": w["shares"][:2]}),
        "mpc.shamir_share": (mpc.shamir_share, {"secret": 7, "threshold": 2, "n_parties": 3, "rng": 0}),
        # zero knowledge
        "zkp.SchnorrSecret": (zkp.SchnorrSecret, {"exponent": 12345}),
        "zkp.prove": (zkp.prove, {"secret": w["secret"], "message": b"m"}),
        "zkp.prove_with_nonce_insecure": (zkp.prove_with_nonce_insecure, {"secret": w["secret"], "message": b"m",
                                                                          "nonce": 5}),
        "zkp.recover_secret_from_nonce_reuse": (zkp.recover_secret_from_nonce_reuse, {
            "public": w["public"], "message1": b"a", "proof1": nonce_proofs[0], "message2": b"b",
            "proof2": nonce_proofs[1]}),
        "zkp.schnorr_challenge": (zkp.schnorr_challenge, {"rng": 0}),
        "zkp.schnorr_check": (zkp.schnorr_check, {"public": w["public"], "commitment": 4, "challenge": 3,
                                                  "response": 2}),
        "zkp.schnorr_commit": (zkp.schnorr_commit, {"rng": 0}),
        "zkp.schnorr_keypair": (zkp.schnorr_keypair, {"rng": 0}),
        "zkp.schnorr_respond": (zkp.schnorr_respond, {"secret": w["secret"], "nonce": 5, "challenge": 3}),
        "zkp.simulate_transcript": (zkp.simulate_transcript, {"public": w["public"], "rng": 0}),
        "zkp.verify": (zkp.verify, {"public": w["public"], "message": b"m", "proof": w["proof"]}),
        "mpc.protocol_costs": (mpc.protocol_costs, {"n_parties": 10, "length": 100, "depth": 2, "neighbours": 4,
                                                    "rtt_ms": 50.0, "mbit_per_s": 100.0}),
        "zkp.fiat_shamir_challenge": (zkp.fiat_shamir_challenge, {"public": w["public"], "commitment": 4,
                                                                  "message": b"m"}),
        "zkp.PedersenOpening": (zkp.PedersenOpening, {"value": 1, "blinding": 5}),
        "zkp.pedersen_commit": (zkp.pedersen_commit, {"value": 1, "rng": 0}),
        "zkp.prove_bit": (zkp.prove_bit, {"commitment": zkp.pedersen_commit(1, rng=0)[0],
                                          "opening": zkp.pedersen_commit(1, rng=0)[1], "message": b"m", "rng": 0}),
        "zkp.verify_bit": (zkp.verify_bit, {"commitment": zkp.pedersen_commit(1, rng=0)[0], "message": b"m",
                                            "proof": zkp.prove_bit(*zkp.pedersen_commit(1, rng=0), b"m", rng=0)}),
        # de-identification
        "masking.generalize": (masking.generalize, {"values": w["patients"]["postcode"], "kind": "postcode",
                                                    "width": 3}),
        "masking.k_anonymity": (masking.k_anonymity, {"df": w["patients"], "quasi_identifiers": ["sex"]}),
        "masking.k_anonymity_violations": (masking.k_anonymity_violations, {
            "df": w["patients"], "quasi_identifiers": ["sex"], "k": 2}),
        "masking.l_diversity": (masking.l_diversity, {"df": w["patients"], "quasi_identifiers": ["sex"],
                                                      "sensitive": "diagnosis"}),
        "masking.entropy_l_diversity": (masking.entropy_l_diversity, {"df": w["patients"], "quasi_identifiers": [
            "sex"], "sensitive": "diagnosis"}),
        "masking.t_closeness": (masking.t_closeness, {"df": w["patients"], "quasi_identifiers": ["sex"],
                                                      "sensitive": "diagnosis"}),
        "masking.mondrian": (masking.mondrian, {"df": w["patients"], "quasi_identifiers": ["postcode", "sex"],
                                                "k": 5}),
        "masking.pseudonymize": (masking.pseudonymize, {"values": ["a", "b"], "key": w["key"], "length": 16}),
        "masking.suppress": (masking.suppress, {"df": w["patients"], "columns": ["sex"]}),
        # compression
        "compress.compress_model": (compress.compress_model, {"model": model, "prune": 0.5, "bits": 8}),
        "compress.compression_frontier": (compress.compression_frontier, {
            "model": model, "X_test": X, "y_test": y, "prune": (0.0,), "bits": (8,)}),
        "compress.dense_bytes": (compress.dense_bytes, {"n_values": 10}),
        "compress.quantize_stochastic": (compress.quantize_stochastic, {"updates": w["updates"], "bits": 8,
                                                                        "rng": 0}),
        "compress.sparsify_top_k": (compress.sparsify_top_k, {"updates": w["updates"], "fraction": 0.5}),
        # audit
        "audit.AuditLog": (audit.AuditLog, {"path": "audit.jsonl", "key": None, "forward_secure": False}),
        "audit.AuditLog.append": (lambda **kw: audit.AuditLog(w["log"].path).append(**kw), {
            "actor": "ana", "action": "access", "details": {"dataset": "d", "purpose": "p"}}),
        "audit.compliance_report": (audit.compliance_report, {"log": w["log"], "title": "t", "fmt": "markdown"}),
        "audit.sign_head": (audit.sign_head, {"log": w["log"], "private": w["signing"]}),
        "audit.verify_checkpoint": (audit.verify_checkpoint, {"log": w["log"], "checkpoint": w["checkpoint"],
                                                              "public": w["verifying"]}),
        "audit.Checkpoint.from_json": (audit.Checkpoint.from_json, {"text": w["checkpoint"].to_json()}),
        # attacks
        "attacks.client_gradient": (attacks.client_gradient, {"model": model, "X": X[:1], "y": y[:1]}),
        "attacks.alie_poisoning": (attacks.alie_poisoning, {"aggregator": fl.coordinate_median, "attackers": [0],
                                                            "z": 1.0}),
        "attacks.alie_z_max": (attacks.alie_z_max, {"n_clients": 10, "n_attackers": 3}),
        "attacks.differencing_attack": (attacks.differencing_attack, {"count_all": 10.0,
                                                                      "count_without_target": 9.0}),
        "attacks.differencing_success_rate": (attacks.differencing_success_rate, {
            "bits": np.array([True, False, True]), "epsilon": 1.0, "trials": 5, "rng": 0}),
        "attacks.dp_guess_bound": (attacks.dp_guess_bound, {"epsilon": 1.0}),
        "attacks.floating_point_attack": (attacks.floating_point_attack, {"output": 0.5, "candidates": (0.0, 1.0),
                                                                          "scale": 1.0}),
        "attacks.floating_point_attack_success_rate": (attacks.floating_point_attack_success_rate, {
            "epsilon": 1.0, "trials": 5, "sampler": "naive", "rng": 0}),
        "attacks.gradient_inversion": (attacks.gradient_inversion, {
            "model": model, "gradient": attacks.client_gradient(model, X[:1], y[:1]), "n_features": 64,
            "steps": 2, "rng": 0}),
        "attacks.linkage_attack": (attacks.linkage_attack, {"released": w["patients"], "register": w["register"],
                                                            "quasi_identifiers": ["postcode", "birth_date", "sex"]}),
        "attacks.lira": (attacks.lira, {"target": np.zeros(3), "shadows": np.arange(12.0).reshape(4, 3),
                                        "shadow_in": np.array([[True, False, True]] * 2 + [[False, True, False]] * 2),
                                        "online": True}),
        "attacks.logit_confidence": (attacks.logit_confidence, {"logits": np.zeros((2, 3)), "y": np.array([0, 2])}),
        "attacks.tpr_at_fpr": (attacks.tpr_at_fpr, {"scores": np.arange(4.0), "is_member": np.array(
            [False, True, False, True]), "fpr": 0.5}),
        "privacy_audit.inclusion": (privacy_audit.inclusion, {"n_models": 2, "n_records": 5, "rng": 0}),
        "privacy_audit.train_models": (privacy_audit.train_models, {
            "model": models.mlp(64, 10, hidden=4), "X": X[:6], "y": y[:6], "included": np.ones((2, 6), dtype=bool),
            "epochs": 1, "lr": 0.5, "batch_size": 4, "noise_multiplier": 1.0, "sample_rate": 0.5,
            "max_grad_norm": 1.0, "ema": 0.0, "rng": 0}),
        "privacy_audit.p_value": (privacy_audit.p_value, {"m": 10, "r": 4, "v": 3, "epsilon": 1.0, "delta": 1e-5}),
        "privacy_audit.epsilon_lower_bound": (privacy_audit.epsilon_lower_bound, {
            "m": 10, "r": 4, "v": 4, "delta": 0.0, "confidence": 0.95}),
        "privacy_audit.one_run_audit": (privacy_audit.one_run_audit, {
            "scores": np.arange(6.0), "included": np.array([False, False, False, True, True, True]),
            "delta": 0.0, "confidence": 0.95, "guesses": 2}),
        "attacks.membership_inference_auc": (attacks.membership_inference_auc, {
            "model": model, "X_members": X[:10], "y_members": y[:10], "X_nonmembers": X[10:20],
            "y_nonmembers": y[10:20]}),
        "attacks.model_poisoning": (attacks.model_poisoning, {"aggregator": fl.weighted_mean, "attackers": [0],
                                                              "scale": -10.0}),
        "attacks.naive_laplace_insecure": (attacks.naive_laplace_insecure, {"value": 1.0, "scale": 1.0, "rng": 0}),
        "attacks.reidentification_tradeoff": (attacks.reidentification_tradeoff, {
            "records": w["patients"], "register": w["register"], "quasi_identifiers": ["postcode", "sex"],
            "ks": [2, 5], "sensitive": "diagnosis"}),
        # data
        "datasets.bank_customers": (datasets.bank_customers, {"n": 20, "rng": 0}),
        "datasets.breast_cancer": (datasets.breast_cancer, {"test_size": 0.2, "random_state": 0}),
        "datasets.digits": (datasets.digits, {"test_size": 0.2, "random_state": 0}),
        "datasets.hospital_patients": (datasets.hospital_patients, {"register": w["register"], "n": 10, "rng": 1}),
        "datasets.town_register": (datasets.town_register, {"n": 20, "rng": 0}),
        "datasets.load_credit": (datasets.load_credit, {"n": 200, "shared": 0.1, "missing": 0.03, "rng": 0}),
        "datasets.load_diagnosis": (datasets.load_diagnosis, {"source": "cohort", "n": 200, "rng": 0}),
        "datasets.support_messages": (datasets.support_messages, {
            "n": 30, "language": "en", "canary": "my code is 123456", "canary_repeats": 2, "typo_rate": 0.03,
            "test_fraction": 0.2, "rng": 0}),
        # psi
        "psi.hash_to_group": (psi.hash_to_group, {"item": "K0000001"}),
        "psi.PSIParty": (psi.PSIParty, {"items": ["a", "b"]}),
        "psi.intersection_cardinality": (psi.intersection_cardinality, {"alice_items": ["a", "b"],
                                                                        "bob_items": ["b", "c"]}),
        "psi.PSIParty.count": (psi.PSIParty(["a"]).count, {"double_blinded": [4], "their_blinded": [4]}),
        # text
        "text.tokenize": (text.tokenize, {"text": "my code is 42"}),
        "text.Vocabulary": (text.Vocabulary, {"tokens": [*text.SPECIAL_TOKENS, "card"]}),
        "text.Vocabulary.encode": (w["vocabulary"].encode, {"texts": ["my card 12"], "max_length": 8,
                                                           "bos_eos": True}),
        "text.build_vocabulary": (text.build_vocabulary, {"texts": ["my card", "my code 12"], "min_count": 1,
                                                          "max_size": 100}),
        "text.bag_classifier": (text.bag_classifier, {"vocab_size": 20, "n_classes": 3, "dim": 4, "seed": 0}),
        "text.NextTokenModel": (text.NextTokenModel, {"vocab_size": 20, "context": 3, "dim": 4, "hidden": 8,
                                                      "seed": 0}),
        "text.clipped_message_gradients": (text.clipped_message_gradients, {
            "model": w["lm"], "sequences": w["sequences"], "max_grad_norm": 1.0}),
        "text.sequence_log_perplexity": (text.sequence_log_perplexity, {"model": w["lm"],
                                                                        "sequences": w["sequences"]}),
        "text.train_language_model": (text.train_language_model, {
            "model": w["lm"], "sequences": w["sequences"], "noise_multiplier": 1.0, "target_epsilon": None,
            "delta": 1e-5, "epochs": 1, "batch_size": 2, "max_grad_norm": 1.0, "lr": 0.01, "rng": 0,
            "accountant": accounting.PrivacyAccountant(1e9, 1e-3), "label": "lm"}),
        "text.exposure": (text.exposure, {"model": w["lm"], "vocabulary": w["vocabulary"], "prefix": "my code",
                                          "secret": "12"}),
        "text.redact_identifiers": (text.redact_identifiers, {
            "frame": datasets.support_messages(20, rng=0), "key": w["key"], "text": "text", "person": "customer",
            "identifiers": ["name", "phone"]}),
        # pipeline
        "pipeline.PrivateTrainingPipeline": (pipeline.PrivateTrainingPipeline, {
            "n_parties": 3, "target_epsilon": 1.0, "delta": 1e-5, "privacy_unit": "record", "noise": "distributed",
            "secure_aggregation": True, "non_iid_alpha": None, "party": None, "person": None,
            "max_rows_per_person": 1, "rounds": 5, "batch_size": 32, "lr": 1.0, "local_epochs": 1,
            "clip_norm": 1.0, "hidden": 8, "audit_log": None, "rng": 0}),
        "pipeline.PrivateTrainingPipeline.preprocess": (pipeline.PrivateTrainingPipeline(
            3, target_epsilon=1.0, rng=0).preprocess, {"df": w["credit"], "target": "default", "features": None,
                                                      "test_size": 0.2}),
    }


def _public_names() -> list[str]:
    names = []
    for module in MODULES:
        mod = importlib.import_module(f"leptonkit.{module}")
        for name in mod.__all__:
            obj = getattr(mod, name)
            if callable(obj) and not (inspect.isclass(obj) and issubclass(obj, BaseException)):
                names.append(f"{module}.{name}")
    return names


FUZZED = [name for name in _public_names() if name not in EXEMPT] + [
    "accounting.PrivacyAccountant.spend", "accounting.PrivacyCost.gaussian",
    "accounting.PrivacyCost.discrete_laplace", "accounting.PrivacyCost.from_record", "audit.AuditLog.append",
    "audit.Checkpoint.from_json", "psi.PSIParty.count", "pipeline.PrivateTrainingPipeline.preprocess",
    "text.Vocabulary.encode"]


def test_every_public_function_is_fuzzed_or_exempt_with_a_reason():
    calls = _all_calls()
    missing = [name for name in FUZZED if name not in calls]
    assert not missing, f"add a valid call for {missing} (or an EXEMPT reason)"


def test_every_valid_call_is_valid():
    """The baseline: each call as written succeeds, so a failure below is the bad argument's."""
    for name, (function, kwargs) in _all_calls().items():
        try:
            function(**kwargs)
        except Exception as error:
            pytest.fail(f"the valid call of {name} fails: {type(error).__name__}: {error}")


@pytest.mark.parametrize("name", FUZZED)
@settings(max_examples=50, derandomize=True, deadline=None, database=None,
          phases=(Phase.explicit, Phase.generate),   # no shrinking: the report names the call already
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_hostile_argument_gets_a_named_error(name, data, tmp_path):
    function, kwargs = _all_calls()[name]
    if not kwargs:
        return
    parameter = data.draw(st.sampled_from(sorted(kwargs)), label="parameter")
    bad = data.draw(st.sampled_from(BAD), label="value")
    if name == "audit.AuditLog" and parameter != "path":
        kwargs = {**kwargs, "path": tmp_path / "fuzz.jsonl"}
    try:
        function(**{**kwargs, parameter: bad})
    except (ValueError, TypeError) as error:
        assert parameter.lower() in str(error).lower(), (
            f"{name}({parameter}={bad!r:.40}) raised {type(error).__name__} without naming {parameter!r}: {error}")
    except NAMED_ERRORS:
        pass
    except Exception as error:  # any other type is a defect
        pytest.fail(f"{name}({parameter}={bad!r:.40}) raised {type(error).__name__}: {error}"[:400])



def test_every_argument_against_every_hostile_value():
    """The exhaustive sweep behind the property test: every argument of every call × every value
    in BAD (about 7 000 calls, some seconds), each bounded by an alarm so a hang fails, not stalls."""
    import signal

    def hang(*_):
        raise TimeoutError

    defects = []
    previous = signal.signal(signal.SIGALRM, hang)
    try:
        for name, (function, kwargs) in _all_calls().items():
            for parameter in sorted(kwargs):
                for bad in BAD:
                    signal.alarm(20)
                    try:
                        function(**{**kwargs, parameter: bad})
                    except (ValueError, TypeError) as error:
                        if parameter.lower() not in str(error).lower():
                            defects.append(f"{name}({parameter}={bad!r:.30}): {type(error).__name__} "
                                           f"without the name: {str(error)[:100]}")
                    except NAMED_ERRORS:
                        pass
                    except TimeoutError:
                        defects.append(f"{name}({parameter}={bad!r:.30}): still running after 20 s")
                    except Exception as error:
                        defects.append(f"{name}({parameter}={bad!r:.30}): {type(error).__name__}: "
                                       f"{str(error)[:100]}")
                    finally:
                        signal.alarm(0)
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert not defects, f"{len(defects)} defects:\n" + "\n".join(defects[:40])
