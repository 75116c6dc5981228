"""A person's view: every notebook run in JupyterLab in a real browser, every explorer moved.

One JupyterLab for the whole module — loopback only, a free port, a temporary root holding a
copy of ``notebooks/`` (with ``notebooks/zh-CN/``), a test-only configuration with
authentication off — and one Debian Chromium driven by Playwright (no browser download; flags
that keep Chromium off the network). For each notebook, found by glob so that a new one is
picked up without editing this file, the test opens it in JupyterLab, runs every cell, waits
until every code cell has executed and fails on any error output, naming the cell. It then finds
each explorer — a code cell whose source calls an ``…explorer(`` — moves the explorer's first
control with the keyboard (a slider: focus its handle, ArrowRight, or ArrowLeft at the end of
its range; a checkbox: Space; a dropdown: ArrowDown), checks that the figure changed (its
SVG paths, title and labels read from the page before and after) and writes a screenshot,
``test-artifacts/browser-<notebook>-<explorer>.png``. An exception the move raises in the kernel
(which reaches no cell: JupyterLab would show the learner a dead explorer) fails it too. The
kernel is shut down after each notebook; the server and the browser are stopped at the end of
the module. While one notebook's explorers are checked the next one already runs in a second
page (``LEPTONKIT_BROWSER_JOBS``, default 2; the kernels' math libraries get the CPUs divided
between them). The seconds each notebook took go to ``test-artifacts/browser-timings.json``; a
failing notebook leaves ``browser-<notebook>-failure.png``.

Every English notebook runs. Of the zh-CN twins, ``make test`` runs 02 (its explorer's labels
must be Chinese, the ε slider reading ``ε（隐私损失）``, and the slider must still move the figure;
the screenshot needs a CJK font, ``fonts-noto-cjk``); the others are skipped unless
``LEPTONKIT_BROWSER_ALL=1`` is set, when each must also show Chinese text in its explorer.

``test_make_present_…`` runs the command ``make present NB=02`` runs (Voilà, loopback, token on) on
a free port, opens the address it prints in Chromium, checks that no code is shown and that the ε
slider moves its figure, writes ``test-artifacts/present-02.png`` and stops the server.

Chromium comes from ``apt-get install chromium`` (``.ci/run`` installs it and the CJK font). With
``CI=true`` a missing browser fails the tests; elsewhere they are skipped with a message saying
how to enable them.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--disable-default-apps", "--disable-extensions"]
ALL_ZH = os.environ.get("LEPTONKIT_BROWSER_ALL") == "1"
ZH_ALWAYS = {"02_laplace_vs_gaussian.ipynb"}   # the zh-CN twin `make test` runs
EXPLORER_CALL = re.compile(r"\b(\w*explorer)\s*\(")
CJK = re.compile(r"[\u3400-\u9fff]")
# The label of the control each of these explorers moves first, per notebook: the English and the zh-CN one.
FIRST_LABEL = {"02_laplace_vs_gaussian.ipynb": {"mechanism_explorer": "ε (privacy loss)"},
               "zh-CN/02_laplace_vs_gaussian.ipynb": {"mechanism_explorer": "ε（隐私损失）"}}
RUN_ALL_TIMEOUT_S = 1200      # one notebook, all cells (notebook 04 trains its models here)
FIGURE_TIMEOUT_S = 240        # one slider move (05, 11 and 12 train a model on a move)
# Notebooks whose kernels run at once (each in its own page): the next one computes while one is
# checked. Their math libraries share the CPUs between them: on two cores, two kernels of two threads
# each ran the whole module in 346 s, of one thread each in 177 s (one kernel at a time: 237 s).
JOBS = int(os.environ.get("LEPTONKIT_BROWSER_JOBS", "2"))
SILENT_LIMIT_S = 30   # the longest a cell may run without showing a progress bar
CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
THREADS = str(max(1, CPUS // max(1, JOBS)))


def _notebook_cases() -> list:
    cases = [pytest.param(p.name, id=p.stem) for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]
    for p in sorted((ROOT / "notebooks" / "zh-CN").glob("[0-9][0-9]_*.ipynb")):
        skip = [] if ALL_ZH or p.name in ZH_ALWAYS else [
            pytest.mark.skip(reason="zh-CN twins other than 02 run with LEPTONKIT_BROWSER_ALL=1")]
        cases.append(pytest.param(f"zh-CN/{p.name}", id=f"zh-CN-{p.stem}", marks=skip))
    return cases


def _browser_unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"the browser test must run in CI: {reason}")
    pytest.skip(f"{reason}; enable with `apt-get install chromium` (Playwright comes with `make test`)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    """Stop a server this module started, with its children (its own process group)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


# --- fixtures: one browser, one JupyterLab, one JupyterLab page for the module -----------------------


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium under Playwright, for the whole module."""
    if not CHROMIUM.exists():
        _browser_unavailable(f"{CHROMIUM} is not installed")
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    playwright = sync_playwright().start()
    try:
        try:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        except PlaywrightError as error:
            _browser_unavailable(f"Chromium did not start: {error}")
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


@pytest.fixture(scope="module")
def lab(browser, tmp_path_factory):
    """A JupyterLab for this module only, on a copy of notebooks/; yields its base URL, stops it after."""
    tmp = tmp_path_factory.mktemp("lab")
    root, config = tmp / "root", tmp / "config"
    shutil.copytree(ROOT / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    # Render every cell (no windowing), so that an explorer can be found and scrolled to.
    tracker = config / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    news = config / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    port = _free_port()
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}",
               "--IdentityProvider.token=", "--ServerApp.password=",   # test-only: no authentication
               f"--LabApp.user_settings_dir={config / 'settings'}",
               f"--LabApp.workspaces_dir={config / 'workspaces'}",
               "--LabApp.expose_app_in_browser=True",
               "--MappingKernelManager.default_kernel_name=python3"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    # LANGUAGE=en: the English notebooks speak English whatever this machine's locale (as in `make test`)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(config), "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
           "LANGUAGE": "en", "OMP_NUM_THREADS": THREADS, "MKL_NUM_THREADS": THREADS,
           "OPENBLAS_NUM_THREADS": THREADS}
    env.pop("LEPTONKIT_PROGRESS", None)   # `make test` turns bars off for nbval; a person sees them
    log_path = tmp / "lab.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                with urllib.request.urlopen(f"{base}/api/status", timeout=2):
                    break
            except OSError:
                assert server.poll() is None, log_path.read_text()
                time.sleep(0.5)
        yield base
    finally:
        _stop(server)


class _Pages:
    """JupyterLab pages on one server, each running one notebook at a time, in the tests' order.

    While a test moves its notebook's explorers, the next ``jobs - 1`` notebooks already run in
    their own pages (their kernels compute while this one is looked at).
    """

    def __init__(self, browser, base: str, order: list[str], jobs: int):
        self.browser, self.base, self.order, self.jobs = browser, base, order, max(1, jobs)
        self.pages: dict[int, object] = {}
        self.started: set[str] = set()

    def page_for(self, notebook: str):
        slot = self.order.index(notebook) % self.jobs
        if slot not in self.pages:
            page = self.browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(f"{self.base}/lab/workspaces/browser-test-{slot}")   # a workspace per page
            _wait_for_lab(page)
            self.pages[slot] = page
        return self.pages[slot]

    def start(self, notebook: str, steps: dict[str, float]) -> None:
        """Start ``notebook`` (when not yet started) and the ``jobs - 1`` after it."""
        at = self.order.index(notebook)
        for other in self.order[at:at + self.jobs]:
            if other not in self.started:
                t0 = time.monotonic()
                _start_run_all(self.page_for(other), f"notebooks/{other}")
                self.started.add(other)
                if other == notebook:
                    steps["open"] = round(time.monotonic() - t0, 1)

    def close(self) -> None:
        for page in self.pages.values():
            page.close()


@pytest.fixture(scope="module")
def lab_pages(browser, lab, request):
    """The module's JupyterLab pages."""
    base = lab
    order = [item.callspec.params["notebook"] for item in request.session.items
             if getattr(item, "originalname", None) == "test_browser_notebook_runs_and_every_explorer_moves"
             and item.get_closest_marker("skip") is None]
    pages = _Pages(browser, base, order, JOBS)
    yield pages
    pages.close()


@pytest.fixture(scope="module")
def timings():
    """Seconds per notebook, per step, written to test-artifacts/browser-timings.json at the end."""
    record: dict[str, dict[str, float]] = {}
    yield record
    if record:
        (ARTIFACTS / "browser-timings.json").write_text(json.dumps(record, indent=1, ensure_ascii=False))


# --- the notebooks -------------------------------------------------------------------------------


@pytest.mark.parametrize("notebook", _notebook_cases())
def test_browser_notebook_runs_and_every_explorer_moves(lab_pages, timings, notebook):
    pages, stem = lab_pages, notebook.removesuffix(".ipynb").replace("/", "-")
    steps = timings.setdefault(notebook, {})
    start = time.monotonic()
    page = pages.page_for(notebook)
    try:
        pages.start(notebook, steps)
        cells = _wait_for_run_all(page, steps)
        page.bring_to_front()
        unexecuted = [c["index"] for c in cells if c["type"] == "code" and c["count"] is None]
        errors = [f"cell {c['index']} ({c['source'].splitlines()[0][:60]!r}): {e}"
                  for c in cells for e in c["errors"]]
        assert not errors, f"{notebook}: error output\n" + "\n".join(errors)
        assert not unexecuted, f"{notebook}: cells {unexecuted} did not execute"
        # issue 19: nothing runs longer than 30 s without a progress bar (leptonkit._progress)
        silent = [c for c in steps["cells"] if c["seconds"] > SILENT_LIMIT_S and not c["bar"]]
        assert not silent, f"{notebook}: cells ran over {SILENT_LIMIT_S} s without a progress bar: {silent}"

        explorers = [(c["index"], m.group(1)) for c in cells if c["type"] == "code"
                     for m in [EXPLORER_CALL.search(c["source"])] if m]
        assert explorers, f"{notebook} has no explorer (a code cell calling …explorer(…))"
        seen: dict[str, int] = {}
        for index, name in explorers:
            seen[name] = seen.get(name, 0) + 1
            label = name if seen[name] == 1 else f"{name}-{seen[name]}"
            cell = page.locator(f'[data-browser-test="cell-{index}"]')
            t0 = time.monotonic()
            moved, text = _move_first_control(page, cell, f"{notebook} cell {index} ({name})", kernel=True)
            _assert_figures_fill(page, cell, f"{notebook} cell {index} ({name})")
            cell.locator(".jp-Cell-outputWrapper").screenshot(
                path=str(ARTIFACTS / f"browser-{stem}-{label}.png"))
            steps[label] = round(time.monotonic() - t0, 1)
            expected = FIRST_LABEL.get(notebook, {}).get(name)
            if expected is not None:
                assert moved == expected, f"{notebook} {name}: its control reads {moved!r}, not {expected!r}"
            if notebook.startswith("zh-CN/"):
                assert CJK.search(text), f"{notebook} {name}: no Chinese in the explorer's labels: {text!r}"
    except Exception:
        page.screenshot(path=str(ARTIFACTS / f"browser-{stem}-failure.png"))
        raise
    finally:
        _close(page)
        steps["test"] = round(time.monotonic() - start, 1)


def _start_run_all(page, path: str) -> None:
    """Open ``path`` with a python3 kernel and start running all its cells (without waiting for them)."""
    page.evaluate("""async (path) => {
        const app = window.jupyterapp;
        window.__ran = null;
        const nb = await app.commands.execute('docmanager:open',
                                              {path, factory: 'Notebook', kernel: {name: 'python3'}});
        await nb.context.ready;
        await nb.sessionContext.ready;
        app.shell.activateById(nb.id);
        window.__nb = nb;
    }""", path)
    _accept_kernel_dialog(page)
    page.wait_for_function("window.__nb.sessionContext.session?.kernel?.connectionStatus === 'connected'"
                           " && window.jupyterapp.shell.currentWidget === window.__nb", timeout=120_000)
    page.evaluate(r"""() => {
        // What a widget callback raises reaches no cell: the kernel sends it on IOPub, as the child of
        // the comm message that moved the control. Keep it, so that a move that raised fails.
        window.__callbackErrors = [];
        // Each cell's run, from its execute_input to the kernel going idle, and whether a progress
        // bar (a tqdm widget: its text/plain reads "… | 3/20 [00:02<…") was displayed meanwhile.
        window.__runs = {};
        window.__nb.sessionContext.session.kernel.iopubMessage.connect((_, msg) => {
            const parent = msg.parent_header?.msg_id, kind = msg.header.msg_type;
            if (msg.parent_header?.msg_type === 'execute_request') {
                const run = window.__runs[parent] ??= {start: performance.now(), end: null, bar: false,
                                                       code: ''};
                if (kind === 'execute_input') run.code = msg.content.code.slice(0, 80);
                if (kind === 'status' && msg.content.execution_state === 'idle') run.end = performance.now();
                const text = msg.content?.data?.['text/plain'] ?? '';
                if (kind === 'display_data' && /\|\s*\d+\/\d+ \[/.test(text)) run.bar = true;
            }
            if (msg.parent_header?.msg_type !== 'comm_msg') return;
            const c = msg.content;
            if (msg.header.msg_type === 'error') window.__callbackErrors.push(`${c.ename}: ${c.evalue}`);
            if (msg.header.msg_type === 'stream' && c.name === 'stderr' && /Traceback|Error/.test(c.text))
                window.__callbackErrors.push(c.text);
        });
        const t0 = performance.now();
        const done = result => { window.__ran = {...result, seconds: (performance.now() - t0) / 1000}; };
        window.jupyterapp.commands.execute('notebook:run-all-cells').then(
            ok => done({ok}), error => done({ok: false, error: String(error)}));
    }""")


def _wait_for_run_all(page, steps: dict[str, float]) -> list[dict]:
    """Wait until the page's notebook has run all its cells; every cell's state."""
    t0 = time.monotonic()
    page.wait_for_function("window.__ran !== null", timeout=RUN_ALL_TIMEOUT_S * 1000, polling=500)
    steps["waited"] = round(time.monotonic() - t0, 1)
    steps["run all"] = round(page.evaluate("window.__ran.seconds"), 1)
    steps["cells"] = page.evaluate("""() => Object.values(window.__runs).filter(r => r.end !== null)
        .map(r => ({seconds: Math.round((r.end - r.start) / 100) / 10, bar: r.bar, code: r.code}))
        .filter(r => r.seconds >= 2)""")
    return page.evaluate("""() => window.__nb.content.widgets.map((cell, index) => {
        const code = cell.model.type === 'code';
        cell.node.setAttribute('data-browser-test', `cell-${index}`);
        return {index, type: cell.model.type, source: cell.model.sharedModel.getSource(),
                count: code ? cell.model.executionCount : null,
                errors: code ? cell.model.outputs.toJSON().filter(o => o.output_type === 'error')
                                   .map(o => `${o.ename}: ${o.evalue}`) : []};
    })""")


def _close(page) -> None:
    """Shut the notebook's kernel down and close it without saving."""
    try:
        page.evaluate("""async () => {
            const nb = window.__nb;
            window.__nb = null;
            if (!nb) return;
            try { await nb.sessionContext.shutdown(); } catch (e) {}
            nb.context.model.dirty = false;
            nb.dispose();
        }""")
    except Exception:   # a page in a bad state: start the next notebook from a fresh one
        page.reload()
        _wait_for_lab(page)


def _wait_for_lab(page) -> None:
    page.wait_for_function("window.jupyterapp && window.jupyterapp.commands.hasCommand('docmanager:open')"
                           " && document.querySelector('#jp-main-dock-panel')", timeout=120_000)


def _accept_kernel_dialog(page) -> None:
    """JupyterLab may ask which kernel to start on first opening; accept the proposed one."""
    dialog = page.locator(".jp-Dialog")
    if dialog.count() and dialog.first.is_visible():
        dialog.locator("button.jp-mod-accept").first.click()


# --- one explorer: move its first control, see the figure change -----------------------------------

_FIGURE = """el => {
    const plot = el.querySelector('.js-plotly-plot');
    if (!plot || !plot.querySelector('.main-svg')) return null;
    const paths = [...plot.querySelectorAll('path')].map(p => p.getAttribute('d') || '');
    const texts = [...plot.querySelectorAll('text')].map(t => t.textContent);
    const images = [...plot.querySelectorAll('image')].map(i => i.getAttribute('href') || '');
    return JSON.stringify([paths, texts, images]);
}"""
_CONTROLS = ".widget-slider, .widget-checkbox, .widget-dropdown, .widget-toggle-buttons"


def _move_first_control(page, area, what: str, *, kernel: bool = False) -> tuple[str, str]:
    """Move the first control under ``area`` with the keyboard and wait until its figure changes.

    Returns the control's label and the text of every label and of the figure (for language checks).
    With ``kernel`` (a JupyterLab page from ``_start_run_all``) an exception the move raised in the
    kernel fails the check, at once rather than after the timeout.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    area.locator(".js-plotly-plot .main-svg").first.wait_for(state="attached", timeout=120_000)
    control = area.locator(_CONTROLS).first
    control.wait_for(state="attached")
    control.scroll_into_view_if_needed()
    before = _settled_figure(area)
    assert before, f"{what}: no figure drawn"
    label = control.locator(".widget-label").first.text_content() if control.locator(
        ".widget-label").count() else control.text_content()
    kind = control.evaluate("el => [...el.classList].filter(c => c.startsWith('widget-')).join(' ')")
    if kernel:
        page.evaluate("window.__callbackErrors.splice(0)")
    if control.locator(".noUi-handle").count():
        handle = control.locator(".noUi-handle").first
        now, top = (float(handle.get_attribute(a)) for a in ("aria-valuenow", "aria-valuemax"))
        handle.focus()
        handle.press("ArrowLeft" if now >= top else "ArrowRight")
    elif control.locator("input[type=checkbox]").count():
        control.locator("input[type=checkbox]").focus()
        page.keyboard.press("Space")
    elif control.locator("select").count():
        control.locator("select").focus()
        page.keyboard.press("ArrowDown")
    else:
        button = control.locator("button:not(.mod-active)").first
        button.focus()
        page.keyboard.press("Enter")
    deadline, changed, raised = time.monotonic() + FIGURE_TIMEOUT_S, False, []
    while not changed and not raised and time.monotonic() < deadline:
        try:
            page.wait_for_function(f"([el, old]) => ({_FIGURE})(el) !== old",
                                   arg=[area.element_handle(), before], timeout=5_000, polling=250)
            changed = True
        except PlaywrightTimeout:
            pass
        raised = page.evaluate("window.__callbackErrors.splice(0)") if kernel else []
    assert not raised, f"{what}: moving {label!r} raised in the kernel:\n" + "\n".join(raised)
    assert changed, f"{what}: moving {label!r} ({kind}) did not change the figure"
    _settled_figure(area)
    text = " ".join(area.locator(".widget-label").all_text_contents()) + " " + \
        " ".join(area.locator(".js-plotly-plot text").all_text_contents())
    return (label or "").strip(), text


# Every plotly figure under an element, against the output area it is drawn in: [figure px, area px].
_FIGURE_WIDTHS = """el => [...el.querySelectorAll('.js-plotly-plot')].map(plot => {
    const svg = plot.querySelector('.main-svg');
    const area = plot.closest('.jp-OutputArea-output') || plot.parentElement;
    return [svg ? svg.getBoundingClientRect().width : 0, area.getBoundingClientRect().width];
})"""
_FILLS = (f"el => {{ const w = ({_FIGURE_WIDTHS})(el); "
          "return w.length > 0 && w.every(([f, a]) => f >= 0.95 * a && f <= a + 1); }")


def _assert_figures_fill(page, area, what: str, timeout_ms: int = 10_000) -> None:
    """Every figure under ``area`` is as wide as its output area, within 5 % and no wider (issue 19:
    plotly's anywidget front end drew them at 700 px; ``widgets.FigureWidget`` resizes them).

    Waits: plotly resizes 100 ms after it is asked to, then redraws."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(_FILLS, arg=area.element_handle(), timeout=timeout_ms, polling=250)
    except PlaywrightTimeout:
        widths = [[round(f), round(a)] for f, a in area.evaluate(_FIGURE_WIDTHS)]
        raise AssertionError(f"{what}: figures do not fill their output areas, [figure, area] px: "
                             f"{widths}") from None


def _settled_figure(area, quiet_ms: int = 500, limit_s: float = 60) -> str | None:
    """The figure's state once it has not changed for ``quiet_ms`` (plotly draws in steps)."""
    handle, deadline = area.element_handle(), time.monotonic() + limit_s
    last = handle.evaluate(_FIGURE)
    while time.monotonic() < deadline:
        area.page.wait_for_timeout(quiet_ms)
        now = handle.evaluate(_FIGURE)
        if now == last and now is not None:
            return now
        last = now
    return last


# --- the presenter's mode: `make present NB=02` -----------------------------------------------------


def test_make_present_serves_explorers_without_code(browser, tmp_path):
    dry_run = subprocess.run(["make", "--no-print-directory", "-n", "present", "NB=02"], cwd=ROOT,
                             capture_output=True, text=True, check=True)
    command = next(line for line in dry_run.stdout.replace("\\\n", " ").splitlines() if "voila " in line)
    for setting in ("--Voila.ip=127.0.0.1", "--token", "--strip_sources=True", "--no-browser"):
        assert setting in shlex.split(command), f"`make present` lacks {setting}: {command}"
    notebook = ROOT / "notebooks" / "02_laplace_vs_gaussian.ipynb"
    assert str(notebook.relative_to(ROOT)) in command, command
    port = _free_port()
    args = [*(a for a in shlex.split(command) if not a.startswith("--port=")), f"--port={port}",
            "--Voila.port_retries=0"]
    log_path = tmp_path / "voila.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                  env={**os.environ, "LANGUAGE": "en", "JUPYTER_RUNTIME_DIR": str(tmp_path)},
                                  start_new_session=True)
    page = browser.new_page(viewport={"width": 1920, "height": 1080})   # a projector
    page.set_default_timeout(60_000)
    try:
        match = None
        for _ in range(240):
            match = re.search(rf"http://127\.0\.0\.1:{port}/\?token=([0-9a-f]+)", log_path.read_text())
            if match:
                break
            assert server.poll() is None, log_path.read_text()
            time.sleep(0.5)
        assert match, f"no address with a token in Voilà's log:\n{log_path.read_text()}"
        assert len(match.group(1)) >= 32
        try:   # without the token: sent to the login page
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
                assert "/login" in response.url, response.url
        except urllib.error.HTTPError as error:
            assert error.code in (401, 403), error

        page.goto(match.group(0), timeout=300_000)
        slider = page.locator(".widget-slider", has_text="ε (privacy loss)")
        slider.wait_for(state="attached", timeout=300_000)
        area = page.locator(".jp-OutputArea-output", has=slider).last
        moved, _ = _move_first_control(page, area, "make present NB=02")
        assert moved == "ε (privacy loss)"
        _assert_figures_fill(page, area, "make present NB=02 at 1920 px")
        page.set_viewport_size({"width": 1100, "height": 1000})   # a smaller window: the figure follows
        _assert_figures_fill(page, area, "make present NB=02 at 1100 px")
        page.set_viewport_size({"width": 1920, "height": 1080})
        area.evaluate("el => el.scrollIntoView({block: 'center'})")   # the room sees the explorer
        page.screenshot(path=str(ARTIFACTS / "present-02.png"))

        code = [line.strip() for cell in json.loads(notebook.read_text())["cells"]
                if cell["cell_type"] == "code" for line in "".join(cell["source"]).splitlines()
                if len(line.strip()) > 15 and not line.strip().startswith("#")]
        prose = "".join("".join(c["source"]) for c in json.loads(notebook.read_text())["cells"]
                        if c["cell_type"] == "markdown")
        shown = page.locator("body").inner_text()
        leaked = [line for line in code if line not in prose and line in shown]
        assert not leaked, f"Voilà shows code: {leaked[:3]}"
        assert page.locator(".jp-CodeMirrorEditor, .cm-editor, .jp-InputPrompt").count() == 0
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "present-02-failure.png"))
        raise
    finally:
        page.close()
        _stop(server)
