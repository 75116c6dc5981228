"""Keep the translation catalogues in step with the code, and compile them.

The strings a learner reads are marked in ``leptonkit/`` with ``_()`` and ``N_()`` (see
``leptonkit/i18n.py``). This script:

1. extracts them with Babel (the extractor ``pybabel extract`` runs);
2. merges them into each ``leptonkit/locale/<lang>/LC_MESSAGES/leptonkit.po``: a new string gets an
   empty translation for the translator to fill in, a string gone from the code is dropped, every
   translation already there is kept;
3. compiles each ``.po`` into the ``.mo`` that the kit reads at run time with the standard library.

``--check`` writes nothing and exits 1, naming what is wrong, when a ``.po`` lacks a string of the code
or a translation, or its ``.mo`` is not its compilation. Babel is needed here only (the dev extra).

Usage: python tools/compile_catalogues.py [--check]
"""

from __future__ import annotations

import copy
import io
import sys
from pathlib import Path

from babel.messages import mofile, pofile
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "leptonkit"
DOMAIN = "leptonkit"
KEYWORDS = {"_": None, "N_": None}


def extract() -> Catalog:
    """Every marked string of the package, in code order, with the files it is in."""
    template = Catalog(domain=DOMAIN, project=DOMAIN, fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
            PACKAGE, method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=("TRANSLATORS:",),
            strip_comment_tags=True):
        template.add(message, locations=[(f"leptonkit/{filename}", lineno)], auto_comments=comments,
                     context=context)
    return template


def catalogues() -> list[Path]:
    """The ``.po`` file of every language the kit speaks besides English."""
    return sorted(PACKAGE.glob(f"locale/*/LC_MESSAGES/{DOMAIN}.po"))


def read(path: Path) -> Catalog:
    with path.open("rb") as f:
        return pofile.read_po(f, locale=path.parents[1].name, domain=DOMAIN)


def merge(catalog: Catalog, template: Catalog) -> Catalog:
    """``catalog`` with the template's strings, in its order, keeping the translations it has."""
    merged = copy.deepcopy(catalog)
    for message in [m for m in merged if m.id]:
        del merged[message.id]
    for message in (m for m in template if m.id):
        known = catalog.get(message.id)
        merged[message.id] = Message(message.id, known.string if known is not None else "",
                                     locations=message.locations, auto_comments=message.auto_comments,
                                     context=message.context)
    return merged


def compiled(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    mofile.write_mo(out, catalog)
    return out.getvalue()


def _untranslated(message: Message) -> bool:
    return message.fuzzy or not message.string


def problems(path: Path, template: Catalog) -> list[str]:
    """What is not in step in one language's catalogue (empty when all is well)."""
    catalog, found = read(path), []
    ids, wanted = {m.id for m in catalog if m.id}, {m.id for m in template if m.id}
    found += [f"{path.name} lacks the code's string {s!r}" for s in sorted(wanted - ids)]
    found += [f"{path.name} has a string the code no longer marks: {s!r}" for s in sorted(ids - wanted)]
    found += [f"{path.name} has no translation of {m.id!r}" for m in catalog if m.id and _untranslated(m)]
    mo = path.with_suffix(".mo")
    if not mo.exists() or mo.read_bytes() != compiled(catalog):
        found.append(f"{mo.name} is not the compilation of {path.name}: run tools/compile_catalogues.py")
    return found


def main(argv: list[str]) -> int:
    if argv not in ([], ["--check"]):
        sys.exit(__doc__)
    template = extract()
    if argv == ["--check"]:
        found = [f"{path.relative_to(ROOT)}: {p}" for path in catalogues() for p in problems(path, template)]
        print("\n".join(found) or f"{len(catalogues())} catalogue(s) in step with the code")
        return 1 if found else 0
    for path in catalogues():
        catalog = merge(read(path), template)
        with path.open("wb") as f:
            pofile.write_po(f, catalog, width=0, include_lineno=False, ignore_obsolete=True)
        path.with_suffix(".mo").write_bytes(compiled(read(path)))
        missing = sum(1 for m in catalog if m.id and _untranslated(m))
        print(f"{path.relative_to(ROOT)}: {len(catalog)} strings, {missing} without a translation")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
