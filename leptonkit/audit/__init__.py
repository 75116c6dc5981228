"""A tamper-evident audit log (a hash chain in JSON lines) and the compliance report built on it.

``log`` holds :class:`AuditLog`: who did what, when and why, each record carrying the hash of
the one before it (SHA-256, or HMAC-SHA256 with a key), appended under a lock across threads
and processes, verified end to end, repaired after a crash. ``checkpoints`` holds what a keyed
chain cannot do alone — forward-secure keys against a host compromised later, and Ed25519-signed
heads an auditor checks with a public key. ``report`` turns a verified log into a compliance
report. This is the honest core of the "blockchain for integrity" idea, without the consensus a
single organisation does not need. Neighbours: ``accounting.PrivacyAccountant`` writes its
spends here; ``crypto`` does the hashing and signing.
"""

from ..errors import IntegrityError
from .checkpoints import Checkpoint, sign_head, verify_checkpoint

# _FIELDS and _canonical: the record format, which notebook 10's lesson forges on purpose
from .log import _FIELDS, GENESIS, MAX_LINE_BYTES, AuditLog, Record, _canonical  # noqa: F401
from .report import compliance_report

__all__ = ["GENESIS", "MAX_LINE_BYTES", "AuditLog", "Checkpoint", "IntegrityError", "Record",
           "compliance_report", "sign_head", "verify_checkpoint"]
