"""The learner's language: what ``check`` says, the hints, explorer labels and figure titles.

English is the source text. Translations live in a gettext catalogue,
``leptonkit/locale/zh_CN/LC_MESSAGES/leptonkit.po``, compiled to the ``.mo`` beside it by
``tools/compile_catalogues.py``. The language is the one :func:`set_language` chose, else the
environment's (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``, read as gettext reads them:
``zh_CN.UTF-8`` means ``"zh-CN"``), else English. Error messages are never translated.

Marking a string a learner reads:

- ``_("...")`` where the text is shown (a figure title, a slider label, a ``NotYet`` reason):
  translated at once, into the current language. Placeholders go through ``.format`` after
  translation, ``_("{k} queries").format(k=k)``, never an f-string (the catalogue keys are literals).
- ``N_("...")`` where the text is registered at import time (a hint given to ``@exercise``, a
  staged hint, a label in a module constant): it only marks the string for the catalogue and
  returns it unchanged; the code that shows it calls ``_()`` on it then.
"""

from __future__ import annotations

import functools
import gettext
import os
from pathlib import Path

__all__ = ["LANGUAGES", "N_", "_", "get_language", "set_language"]

LANGUAGES = ("en", "zh-CN")
_LOCALE_DIR = Path(__file__).resolve().parent / "locale"
_DOMAIN = "leptonkit"
_GETTEXT_NAMES = {"zh-CN": "zh_CN"}   # the catalogue's folder under locale/
_SIMPLIFIED_CHINESE = {"zh", "zh_cn", "zh_sg", "zh_hans", "zh_hans_cn"}
_chosen: str | None = None


def set_language(language: str) -> None:
    """Speak ``language`` from now on: ``"en"`` or ``"zh-CN"`` (Simplified Chinese).

    Raises
    ------
    ValueError
        If ``language`` is not one of :data:`LANGUAGES`.
    """
    global _chosen
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(map(repr, LANGUAGES))}, got {language!r}")
    _chosen = language


def get_language() -> str:
    """The language in use: the one :func:`set_language` chose, else the environment's, else ``"en"``."""
    return _chosen or _environment_language()


def _environment_language() -> str:
    """The first of LANGUAGE, LC_ALL, LC_MESSAGES and LANG that is set decides, as in gettext;
    within LANGUAGE's list (``fr:zh_CN``) the first language the kit speaks wins."""
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if not value:
            continue
        for code in value.split(":"):
            name = code.split(".")[0].split("@")[0].replace("-", "_").lower()
            if name in _SIMPLIFIED_CHINESE:
                return "zh-CN"
            if name in ("c", "posix") or name == "en" or name.startswith("en_"):
                return "en"
        return "en"
    return "en"


@functools.cache
def _catalogue(language: str) -> gettext.NullTranslations:
    if language == "en":
        return gettext.NullTranslations()
    return gettext.translation(_DOMAIN, _LOCALE_DIR, languages=[_GETTEXT_NAMES[language]])


def _(message: str) -> str:
    """``message`` in the current language (the English itself when the catalogue lacks it)."""
    return _catalogue(get_language()).gettext(message)


def N_(message: str) -> str:  # noqa: N802 (gettext's name for the marker)
    """Mark ``message`` for the catalogue without translating it: it is translated where shown."""
    return message
