"""What the kit says to a learner comes in the learner's language; the catalogues are complete and
compiled; the library's errors stay English.

The catalogue is ``leptonkit/locale/zh_CN/LC_MESSAGES/leptonkit.po`` (its ``.mo`` beside it);
``tools/compile_catalogues.py`` merges newly marked strings into it and compiles it.
"""

from __future__ import annotations

import ast
import fnmatch
import gettext
import re
import symtable
from pathlib import Path

import pytest
from babel.messages import pofile
from babel.messages.extract import extract_from_dir

from leptonkit import exercises, i18n, set_language
from leptonkit.exercises import check
from leptonkit.lessons import n00_welcome, n02_laplace_vs_gaussian, n10_audit_and_compliance

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "leptonkit"
PO = PACKAGE / "locale" / "zh_CN" / "LC_MESSAGES" / "leptonkit.po"
MO = PO.with_suffix(".mo")
CJK = re.compile(r"[\u4e00-\u9fff]")
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


@pytest.fixture(autouse=True)
def _restore_language():
    chosen = i18n._chosen
    yield
    i18n._chosen = chosen


@pytest.fixture
def no_locale(monkeypatch):
    """No language chosen and none in the environment: each test sets what it needs."""
    monkeypatch.setattr(i18n, "_chosen", None)
    for variable in LOCALE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


def _marked() -> set[str]:
    """Every string the package marks with ``_()`` or ``N_()``, as Babel extracts them."""
    found = extract_from_dir(PACKAGE, method_map=[("**.py", "python")], keywords={"_": None, "N_": None})
    return {message for _file, _line, message, _comments, _context in found}


def _catalogue() -> dict[str, str]:
    with PO.open("rb") as f:
        catalog = pofile.read_po(f)
    assert not [m.id for m in catalog if m.id and m.fuzzy], "fuzzy entries are not shown: review them"
    return {m.id: m.string for m in catalog if m.id}


def test_every_marked_string_has_a_chinese_translation():
    marked, catalogue = _marked(), _catalogue()
    assert len(marked) > 300   # the extraction really found the lessons' strings
    missing = sorted(marked - set(catalogue))
    assert not missing, f"not in the .po (run tools/compile_catalogues.py): {missing[:5]}"
    empty = sorted(s for s in marked if not catalogue[s].strip())
    assert not empty, f"no translation yet: {empty[:5]}"
    english = sorted(s for s in marked if not CJK.search(catalogue[s]) and CJK.search(s) is None
                     and re.search(r"[a-z]{4}", re.sub(r"\{[^{}]*\}|%\{[^{}]*\}", "", s))
                     and s not in _SAME_IN_CHINESE)
    assert not english, f"translated as English: {english[:5]}"
    stale = sorted(set(catalogue) - marked)
    assert not stale, f"the .po translates strings the code no longer marks: {stale[:5]}"


_SAME_IN_CHINESE = {"SecAgg+"}   # names that stay as they are


def test_translations_keep_every_placeholder():
    """``{k}``, ``{p:.1%}``, plotly's ``%{y}``: a translation may move them, never drop or change one."""
    fields = re.compile(r"%?\{[^{}]*\}")
    wrong = [(msgid, msgstr) for msgid, msgstr in _catalogue().items()
             if msgstr and sorted(fields.findall(msgid)) != sorted(fields.findall(msgstr))]
    assert not wrong, wrong[:3]


def test_the_mo_is_the_compilation_of_the_po():
    with MO.open("rb") as f:
        compiled = gettext.GNUTranslations(f)._catalog
    compiled = {key: value for key, value in compiled.items() if key}   # drop the header
    translated = {msgid: msgstr for msgid, msgstr in _catalogue().items() if msgstr}
    assert compiled == translated, "leptonkit.mo is stale: run tools/compile_catalogues.py"


def test_the_catalogue_ships_in_the_package():
    """pyproject's package-data names the catalogue (read as text: tomllib is Python ≥ 3.11)."""
    table = (ROOT / "pyproject.toml").read_text().split("[tool.setuptools.package-data]", 1)[1]
    patterns = ast.literal_eval(re.search(r"^leptonkit = (\[.*\])$", table, re.MULTILINE).group(1))
    for path in (PO, MO):
        relative = path.relative_to(PACKAGE).as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative


def test_set_language_switches_what_check_says(capsys):
    set_language("zh-CN")
    assert check("00.1", 10) is False
    out = capsys.readouterr().out
    assert out.startswith("✗ 练习 00.1：还不对。10 比特不到一千年就会被猜中。"), out
    assert "提示：在每秒 10^12 次猜测下移动密钥长度滑块" in out
    assert check("00.1", 76) is True
    assert capsys.readouterr().out == "✓ 练习 00.1：正确。\n"
    assert check("00.1", ...) is False
    assert "把 ... 换成你的答案" in capsys.readouterr().out
    assert exercises._EXERCISES["00.1"].hint.startswith("Move the key-length slider")  # stored English
    set_language("en")
    assert check("00.1", 76) is True
    assert capsys.readouterr().out == "✓ Exercise 00.1: correct.\n"


def test_staged_hints_are_translated_when_shown(capsys):
    set_language("zh-CN")
    for _try in range(3):
        check("02.2", 0.5)
    out = capsys.readouterr().out.splitlines()[-1]
    assert "第二条提示：P[|X| > t] = exp(−t/b)，其中 b = Δ/ε。" in out, out
    assert "Second hint" not in out


def test_set_language_switches_an_explorers_labels_and_figure():
    set_language("zh-CN")
    explorer = n00_welcome.key_search_explorer(bits=56)
    assert [c.description for c in explorer.controls.values()] == ["密钥长度（比特）", "log₁₀ 每秒猜测次数"]
    assert explorer.figure.layout.xaxis.title.text == "密钥长度（比特）"
    explorer.controls["bits"].value = 80          # the slider still moves the figure, in Chinese
    assert explorer.figure.layout.title.text == "80 比特密钥，每秒 10^12 次猜测：平均 19.2 千年"
    assert [t.name for t in explorer.figure.data] == ["猜中的期望时间", "你的选择"]
    checkboxes = n10_audit_and_compliance.tampering_explorer().controls
    assert checkboxes["use_anchor"].description == "对照锚点验证"
    set_language("en")
    explorer = n00_welcome.key_search_explorer(bits=80)
    assert explorer.controls["bits"].description == "key length (bits)"
    assert explorer.figure.layout.title.text == ("80-bit key at 10^12 guesses/s: 19.2 thousand years "
                                                 "on average")


@pytest.mark.parametrize(("environment", "language"), [
    ({"LANG": "zh_CN.UTF-8"}, "zh-CN"),
    ({"LANG": "zh_CN"}, "zh-CN"),
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": "zh_TW.UTF-8"}, "en"),                     # Traditional Chinese: not this catalogue
    ({"LANG": "C.UTF-8"}, "en"),
    ({"LANG": "zh_CN.UTF-8", "LC_ALL": "en_GB.UTF-8"}, "en"),   # LC_ALL comes first, as in gettext
    ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "zh-CN"),
    ({"LANGUAGE": "fr:zh_CN", "LANG": "fr_FR.UTF-8"}, "zh-CN"),  # the first language the kit speaks
    ({}, "en"),
])
def test_the_environment_chooses_the_language(no_locale, environment, language):
    for variable, value in environment.items():
        no_locale.setenv(variable, value)
    assert i18n.get_language() == language
    assert i18n._("coin flip") == {"en": "coin flip", "zh-CN": "抛硬币"}[language]


def test_set_language_wins_over_the_environment(no_locale):
    no_locale.setenv("LANG", "zh_CN.UTF-8")
    set_language("en")
    assert i18n.get_language() == "en" and i18n._("coin flip") == "coin flip"


@pytest.mark.parametrize("language", ["zh", "zh_CN", "ZH-CN", "fr", "", None, 1])
def test_an_unknown_language_is_refused_by_name(language):
    with pytest.raises(ValueError, match=r"language must be one of 'en', 'zh-CN', got"):
        set_language(language)


def test_errors_stay_english():
    set_language("zh-CN")
    with pytest.raises(ValueError, match=r"^exercise_id must be one of 00\.1, "):
        check("99.9", 1)
    with pytest.raises(ValueError, match="epsilon"):
        n02_laplace_vs_gaussian.mechanism_explorer(epsilon=100)
    with pytest.raises(ValueError, match="later_hints must be at most 4"):
        n02_laplace_vs_gaussian.staged("02.9", *"abcde")


def _raised_class(node: ast.Raise) -> str:
    exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    return getattr(exc, "id", getattr(exc, "attr", ""))


def test_no_error_message_is_marked_for_translation():
    """Only ``NotYet`` (a learner's verdict, shown by ``check``) carries translated text."""
    marked = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and node.exc is not None and _raised_class(node) != "NotYet":
                calls = [n for n in ast.walk(node.exc) if isinstance(n, ast.Call)]
                if any(getattr(c.func, "id", None) in ("_", "N_") for c in calls):
                    marked.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not marked, marked


def test_no_function_that_translates_binds_the_underscore():
    """``truth, _ = ...`` in a function that also calls ``_()`` would make ``_`` local there."""
    def scopes(table):
        yield table
        for child in table.get_children():
            yield from scopes(child)

    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for scope in scopes(symtable.symtable(path.read_text(), str(path), "exec")):
            if scope.get_type() == "function" and "_" in scope.get_identifiers():
                symbol = scope.lookup("_")
                if symbol.is_local() and symbol.is_referenced():
                    wrong.append(f"{path.relative_to(ROOT)}: {scope.get_name()}")
    assert not wrong, wrong
