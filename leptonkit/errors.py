"""The kit's own exception types, one per thing that can go wrong in a way a caller must handle.

Bad arguments raise the built-in ``ValueError``/``TypeError``; these are for domain failures:
tampering (``IntegrityError``), over-spending a privacy budget (``PrivacyBudgetExceeded``) and
too few shares to reconstruct a secret (``InsufficientShares``).
"""

from __future__ import annotations

__all__ = ["InsufficientShares", "IntegrityError", "PrivacyBudgetExceeded"]


class IntegrityError(Exception):
    """Data failed authentication: a wrong key, wrong associated data, or tampered bytes.

    Every cause raises this one type with one message, so the error itself tells an attacker
    nothing about which check failed (the same choice as ``cryptography``'s ``InvalidToken``).
    """


class PrivacyBudgetExceeded(Exception):
    """A privacy spend was refused because it would take the total over the budget."""


class InsufficientShares(Exception):
    """Fewer shares than the threshold were given, so the secret cannot be reconstructed."""
