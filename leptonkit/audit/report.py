"""The compliance report: what a verified audit log proves was done, as Markdown or HTML.

Nothing in the log is trusted beyond what the chain proves: the privacy section counts only the
records of the accountant that opened the first budget, numbers that are not numbers are flagged
rather than used, and every cell is escaped, so a dataset named ``"x\\n## Flagged problems\\nnone"``
stays a dataset name.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

from ..errors import IntegrityError
from .log import AuditLog

__all__ = ["compliance_report"]

_DATA_ACTIONS = {"access", "export", "train", "release", "share", "process", "encrypt", "decrypt"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def _text(value: Any, limit: int = 200) -> str:
    """A log value as one short line of text: control characters and line breaks become spaces."""
    text = _CONTROL.sub(" ", str(value)).strip()
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _number(value: Any, *, low: float, high: float = math.inf, low_open: bool = False) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    x = float(value)
    if not math.isfinite(x) or x > high or (x <= low if low_open else x < low):
        return None
    return x


def compliance_report(log: AuditLog, *, title: str = "Compliance report", fmt: str = "markdown") -> str:
    """A report of what the log proves was done (GDPR Art. 30-style records of processing).

    Sections: the chain's integrity; data processed and its purposes; privacy spent against
    the budget (the first budget in the log and the running total its own accountant wrote,
    which composes as that accountant does: tightly, not by adding up); encryption used; access
    events; and flagged problems — a broken chain, over-budget attempts, data actions with no
    stated purpose, and privacy records that cannot be trusted (a second budget, spends by
    someone else, malformed numbers). ``fmt`` is ``"markdown"`` or ``"html"``.
    """
    if not isinstance(log, AuditLog):
        raise TypeError(f"log must be a leptonkit.audit.AuditLog, got {type(log).__name__}")
    if not isinstance(fmt, str) or fmt not in ("markdown", "html"):
        raise ValueError(f"fmt must be 'markdown' or 'html', got {fmt!r}")
    if not isinstance(title, str):
        raise TypeError(f"title must be a string, got {type(title).__name__}")
    problems: list[str] = []
    try:
        records = log.records()
        integrity = f"intact: {len(records)} records verify"
        if records:
            integrity += f"; head {records[-1].seq}:{records[-1].hash[:16]}…"
    except IntegrityError as error:
        records, integrity = [], f"BROKEN — {_text(error)}"
        problems.append(f"the audit chain does not verify: {_text(error)}")

    data_rows, access_rows, crypto_rows = [], [], []
    budget, keeper, spent, refused = None, None, 0.0, []
    for r in records:
        d = r.details
        if r.action == "privacy_budget":
            eps, dlt = _number(d.get("epsilon"), low=0, low_open=True), _number(d.get("delta"), low=0, high=1)
            if budget is not None:
                problems.append(f"record {r.seq}: a second privacy budget by {_text(r.actor)} (ignored)")
            elif eps is None or dlt is None:
                problems.append(f"record {r.seq}: a privacy budget whose ε or δ is not a valid number "
                                f"(ignored)")
            else:
                budget, keeper = (eps, dlt), r.actor
        elif r.action == "privacy_spend":
            total = _number(d.get("total_epsilon"), low=0)
            if r.actor != keeper:
                problems.append(f"record {r.seq}: a privacy spend by {_text(r.actor)}, who keeps no budget "
                                f"(ignored)")
            elif total is None or total < spent:
                problems.append(f"record {r.seq}: a privacy spend whose running total is not a valid number "
                                f"or goes down (ignored)")
            else:
                spent = total   # the ledger's own running total, as its accountant composes
        elif r.action == "privacy_spend_refused":
            refused.append(r)
            problems.append(f"record {r.seq}: over-budget attempt by {_text(r.actor)} "
                            f"({_text(d.get('label', '?'))})")
        if r.action in _DATA_ACTIONS:
            data_rows.append([str(r.seq), r.time[:19], r.actor, r.action, d.get("dataset", "—"),
                              d.get("purpose", "—")])
            if not _text(d.get("purpose", "")):
                problems.append(f"record {r.seq}: {_text(r.action)} of {_text(d.get('dataset', 'data'))} by "
                                f"{_text(r.actor)} has no stated purpose")
        if r.action == "access":
            access_rows.append([str(r.seq), r.time[:19], r.actor, d.get("dataset", "—")])
        if "cipher" in d:
            crypto_rows.append([str(r.seq), r.action, d["cipher"], d.get("dataset", "—")])

    privacy = ("no privacy budget recorded" if budget is None else
               f"budget ε = {budget[0]:g}, δ = {budget[1]:g}; spent ε = {spent:g} ({spent / budget[0]:.0%}); "
               f"{len(refused)} over-budget attempt(s) refused")
    sections = [("Integrity of the audit log", [integrity]),
                ("Data processed and purposes", _table(["record", "time (UTC)", "actor", "action", "dataset",
                                                        "purpose"], data_rows)),
                ("Privacy spent against budget", [privacy]),
                ("Encryption used", _table(["record", "action", "cipher", "dataset"], crypto_rows)),
                ("Access events", _table(["record", "time (UTC)", "actor", "dataset"], access_rows)),
                ("Flagged problems", [f"- {p}" for p in problems] or ["none"])]
    if fmt == "html":
        return _html(_text(title), sections)
    out = [f"# {_text(title)}", ""]
    for heading, lines in sections:
        out += [f"## {heading}", "", *lines, ""]
    return "\n".join(out)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    if not rows:
        return ["none recorded"]
    clean = [[_text(cell).replace("|", "\\|") for cell in row] for row in rows]
    return [f"| {' | '.join(header)} |", f"|{'---|' * len(header)}", *[f"| {' | '.join(r)} |" for r in clean]]


def _html(title: str, sections: list[tuple[str, list[str]]]) -> str:
    parts = [f"<h1>{html.escape(title)}</h1>"]
    for heading, lines in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        if lines and lines[0].startswith("| "):
            rows = [re.split(r"(?<!\\) \| ", line.strip("|").strip())
                    for line in lines if not line.startswith("|-")]
            cells = lambda row, tag: "".join(  # noqa: E731
                f"<{tag}>{html.escape(c.strip().replace(chr(92) + '|', '|'))}</{tag}>" for c in row)
            parts.append("<table><tr>" + cells(rows[0], "th") + "</tr>"
                         + "".join(f"<tr>{cells(r, 'td')}</tr>" for r in rows[1:]) + "</table>")
        else:
            parts += [f"<p>{html.escape(line.removeprefix('- '))}</p>" for line in lines]
    return "\n".join(parts)
