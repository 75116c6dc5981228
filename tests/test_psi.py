"""Diffie–Hellman PSI cardinality: exact counts, and messages that carry no item and no hash of one."""

from __future__ import annotations

import pickle

import pytest

from leptonkit import psi, zkp


def _sets(shared: int, only_a: int, only_b: int) -> tuple[list[str], list[str]]:
    common = [f"common-{i}" for i in range(shared)]
    return common + [f"a-{i}" for i in range(only_a)], common + [f"b-{i}" for i in range(only_b)]


@pytest.mark.parametrize("shared, only_a, only_b", [(0, 5, 5), (7, 0, 3), (12, 8, 20), (1, 1, 0)])
def test_the_count_is_exact(shared, only_a, only_b):
    a, b = _sets(shared, only_a, only_b)
    assert psi.intersection_cardinality(a, b).cardinality == shared
    assert psi.intersection_cardinality(b, a).cardinality == shared


def test_duplicates_count_once_and_types_are_encoded_consistently():
    assert psi.intersection_cardinality(["x", "x", "y"], ["x"]).cardinality == 1
    assert psi.intersection_cardinality([b"x", 5], ["x", "5"]).cardinality == 2


def test_the_messages_hold_no_item_and_no_unblinded_hash():
    """An eavesdropper or the other side sees only blinded group elements: none is an item's hash H(x),
    every one lies in the order-q subgroup, and the sizes are what the protocol defines (|A|, |A|, |B|)."""
    a, b = _sets(10, 10, 10)
    result = psi.intersection_cardinality(a, b)
    hashes = {psi.hash_to_group(x) for x in a + b}
    messages = result.alice_sent + result.bob_sent_double + result.bob_sent_own
    assert not hashes & set(messages)
    assert all(pow(m, zkp.Q, zkp.P) == 1 for m in messages)
    assert (len(result.alice_sent), len(result.bob_sent_double), len(result.bob_sent_own)) == (20, 20, 20)
    assert not any(x in repr(result) for x in a + b)


def test_fresh_secrets_make_sessions_unlinkable():
    """The same item blinded in two sessions gives unrelated elements (fresh exponents from the CSPRNG)."""
    first, second = psi.PSIParty(["ann"]).blind(), psi.PSIParty(["ann"]).blind()
    assert first != second


def test_bob_reshuffles_so_alice_cannot_tell_which_items_matched():
    """With a dozen items, Bob's reply comes back in Alice's order with probability 1/12! if it is shuffled;
    an unshuffled reply would always come back in order. Seen in order in 3 of 3 runs is a failure."""
    alice_items = [f"i{k}" for k in range(12)]
    in_order = 0
    for _ in range(3):
        alice, bob = psi.PSIParty(alice_items), psi.PSIParty(alice_items)
        sent = alice.blind()
        double, _ = bob.respond(sent)
        in_order += double == [pow(y, bob._exponent, zkp.P) for y in sent]
    assert in_order < 3


@pytest.mark.parametrize("bad", [[0], [1], [zkp.P], [zkp.P - 1], ["4"], [True], "abc"])
def test_elements_outside_the_group_are_refused(bad):
    with pytest.raises((ValueError, TypeError), match="blinded"):
        psi.PSIParty(["a"]).respond(bad)


def test_a_party_keeps_its_secret():
    party = psi.PSIParty(["secret-customer"])
    assert "secret-customer" not in repr(party)
    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(party)
    with pytest.raises(TypeError, match="items"):
        psi.PSIParty("not-a-set")
