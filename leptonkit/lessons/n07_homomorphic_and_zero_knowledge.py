"""Lesson for notebooks/07_homomorphic_and_zero_knowledge.ipynb: Paillier and Schnorr proofs.

Here: the salaries, lesson key and messages, the survey message, the checkers 07.1–07.5 and the
Paillier-cost explorer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as w
import numpy as np
import plotly.graph_objects as go

from leptonkit import he, zkp
from leptonkit.exercises import NotYet, exercise
from leptonkit.i18n import N_, _
from leptonkit.plots import LAPLACE_COLOUR, finish, human_duration
from leptonkit.widgets import Explorer, selection_slider, slider

__all__ = ["EXPLORERS", "MESSAGES", "SALARIES", "SCHNORR_SEED", "SURVEY_MESSAGE",
           "encrypted_aggregation_cost", "paillier_cost_explorer"]

SALARIES = (52_000, 61_500, 48_250, 75_000, 58_900)
SCHNORR_SEED = 2024   # the notebook's lesson key: seeded, so the checker knows its public key
MESSAGES = (b"approve transfer 1", b"approve transfer 2")
SURVEY_MESSAGE = b"pay survey 2026, employer 3"   # what exercise 07.5's bit proof is bound to


def _lesson_public_key() -> int:
    """The public key of the notebook's seeded Schnorr key pair."""
    return zkp.schnorr_keypair(rng=SCHNORR_SEED)[1]


# --- exercises -----------------------------------------------------------------------------


def _decrypt_answer(answer: Any) -> int:
    ciphertext, private = answer
    if not isinstance(ciphertext, he.PaillierCiphertext):
        raise NotYet(_("answer (ciphertext, private_key); the ciphertext is a {kind}.").format(
            kind=type(ciphertext).__name__))
    return private.decrypt(ciphertext)


@exercise("07.1", hint=N_("Encrypt each salary with public.encrypt, add the ciphertexts with +, and answer "
                          "(total_ciphertext, private)."))
def _encrypted_total(answer: Any) -> bool:
    total = _decrypt_answer(answer)
    if total != sum(SALARIES):
        raise NotYet(_("the ciphertext decrypts to {total}, not the sum of the salaries.").format(
            total=total))
    return True


@exercise("07.2", hint=N_("A ciphertext can be multiplied by an int, not by 1.03: multiply the encrypted "
                          "total by 103 (the result is in hundredths) and answer (ciphertext, private)."))
def _encrypted_raise(answer: Any) -> bool:
    total = _decrypt_answer(answer)
    if total != 103 * sum(SALARIES):
        raise NotYet(_("the ciphertext decrypts to {total}, not 103 × the total (the raise in "
                       "hundredths).").format(total=total))
    return True


@exercise("07.3", hint=N_("zkp.prove(secret, b'model v2 is mine') returns a proof; answer it."))
def _schnorr_proof(answer: Any) -> bool:
    if not isinstance(answer, zkp.SchnorrProof):
        raise NotYet(_("answer the SchnorrProof, not {kind}.").format(kind=type(answer).__name__))
    if not zkp.verify(_lesson_public_key(), b"model v2 is mine", answer):
        raise NotYet(_("this proof does not verify for the lesson's public key and b'model v2 is mine'."))
    return True


@exercise("07.4", hint=N_("Write both responses: s₁ = k + c₁·x and s₂ = k + c₂·x (mod q), with the same "
                          "k. Subtracting removes k; solve for x. Each cᵢ is the Fiat–Shamir hash of the "
                          "public key, the shared commitment and its message (zkp.fiat_shamir_challenge); "
                          "dividing mod q is multiplying by pow(c₁ − c₂, -1, zkp.Q)."))
def _recovered_secret(answer: Any) -> bool:
    if isinstance(answer, zkp.SchnorrSecret):
        raise NotYet(_("that is the key object itself, which never shows its number: answer the int "
                       "that the attack recovers from the two proofs."))
    if isinstance(answer, bool) or not isinstance(answer, (int, np.integer)):
        raise NotYet(_("answer the recovered secret as an int, not a {kind}.").format(
            kind=type(answer).__name__))
    if pow(zkp.G, int(answer) % zkp.Q, zkp.P) != _lesson_public_key():
        raise NotYet(_("g to the power of this number is not the public key: it is not the secret."))
    return True


@exercise("07.5", hint=N_("commitment, opening = zkp.pedersen_commit(1) commits to your answer; "
                          "zkp.prove_bit(commitment, opening, lesson.SURVEY_MESSAGE) proves it is a bit. "
                          "Answer (commitment, proof)."))
def _bit_proof(answer: Any) -> bool:
    try:
        commitment, proof = answer
    except (TypeError, ValueError):
        raise NotYet(_("answer the pair (commitment, proof).")) from None
    if isinstance(commitment, zkp.PedersenOpening):
        raise NotYet(_("that is the opening, which you keep: answer the commitment (an int) and the proof."))
    if not isinstance(proof, zkp.BitProof):
        raise NotYet(_("the proof should be a zkp.BitProof from zkp.prove_bit, not a {kind}.").format(
            kind=type(proof).__name__))
    try:
        valid = zkp.verify_bit(commitment, proof, SURVEY_MESSAGE)
    except (TypeError, ValueError):
        raise NotYet(_("the commitment is not an element of the group: use zkp.pedersen_commit.")) from None
    if not valid:
        raise NotYet(_("the proof does not verify for this commitment and lesson.SURVEY_MESSAGE."))
    return True


# --- explorer: what homomorphic encryption costs ------------------------------------------------


# the keys of he.aggregation_seconds, marked for the catalogue (the figure translates them)
_STAGES = (N_("each client encrypts"), N_("server adds"), N_("key holder decrypts"))


def encrypted_aggregation_cost(seconds: dict, *, bits: int, log10_values: float, clients: int) -> go.Figure:
    """The time each stage of Paillier aggregation takes, from ``he.aggregation_seconds``."""
    stages = list(seconds)
    times = [seconds[s] for s in stages]
    fig = go.Figure(go.Bar(x=times, y=[_(s) for s in stages], orientation="h", marker_color=LAPLACE_COLOUR,
                           text=[human_duration(t) for t in times], textposition="outside"))
    # in log units, with room on the right for the longest bar's label (it would be cut off)
    span = [float(np.log10(min(times))) - 0.5, float(np.log10(max(times))) + 0.8]
    fig.update_layout(xaxis={"type": "log", "range": span,
                             "title": _("seconds (log scale, measured on this machine)")})
    return finish(fig, height=300, margin={"t": 60, "l": 160},
                  title=_("{clients} clients, {values:,.0f} numbers each, {bits}-bit key: {total} in "
                          "all").format(clients=clients, values=10 ** log10_values, bits=bits,
                                        total=human_duration(sum(times))))


def paillier_cost_explorer(table: Mapping[str, np.ndarray] | None = None, *, bits: int = 2048,
                           log10_values: float = 3.0, clients: int = 10) -> Explorer:
    """Key size, update size and client count against the time of Paillier aggregation.

    ``table`` is :func:`leptonkit.he.cost_table` (measured on this machine); it is measured
    here when not given. The sliders only look it up.
    """
    table = he.cost_table() if table is None else table
    controls = {
        "bits": selection_slider(_("key size (bits)"), [int(b) for b in table["bits"]], near=bits),
        "log10_values": slider(w.FloatSlider, _("log₁₀ numbers per update"), value=log10_values, min=0.0,
                               max=7.0, step=0.5),
        "clients": slider(w.IntSlider, _("clients"), value=clients, min=2, max=1000),
    }

    def compute(bits: int, log10_values: float, clients: int) -> dict:
        return he.aggregation_seconds(table, bits=bits, values=round(10 ** log10_values), clients=clients)

    return Explorer(controls, compute, encrypted_aggregation_cost)


EXPLORERS: dict[str, Callable[..., Explorer]] = {"paillier_cost": paillier_cost_explorer}
