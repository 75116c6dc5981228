"""A person's view: JupyterLab in a real browser runs notebook 02 and a slider moves the figure.

The test starts its own JupyterLab — loopback only, a free port, a temporary root holding a
copy of the notebook, a test-only configuration with authentication off — drives Debian's
Chromium with Playwright (no browser download; flags that keep Chromium off the network),
runs every cell, moves the ε slider of the Laplace-vs-Gaussian explorer with the keyboard, and
reads the plotted line from the page before and after. It stops the server itself. A
screenshot is written to ``test-artifacts/``.

Chromium comes from ``apt-get install chromium`` (``.ci/run`` installs it). With ``CI=true``
a missing browser fails the test; elsewhere it is skipped with a message saying how to enable it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "02_laplace_vs_gaussian.ipynb"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--disable-default-apps", "--disable-extensions"]


def _browser_unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"the browser test must run in CI: {reason}")
    pytest.skip(f"{reason}; enable with `apt-get install chromium` (Playwright comes with `make test`)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab for this test only; yields its base URL and stops it afterwards."""
    root, config = tmp_path / "root", tmp_path / "config"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, root / "notebooks" / NOTEBOOK)
    # Render every cell (no windowing), so the explorer can be found after scrolling to it.
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
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(config), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{base}/api/status", timeout=2):
                    break
            except OSError:
                assert server.poll() is None, (tmp_path / "lab.log").read_text()
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_browser_slider_moves_the_figure(lab):
    if not CHROMIUM.exists():
        _browser_unavailable(f"{CHROMIUM} is not installed")
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        except PlaywrightError as error:
            _browser_unavailable(f"Chromium did not start: {error}")
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{lab}/lab/tree/notebooks/{NOTEBOOK}")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            _accept_kernel_dialog(page)
            page.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext"
                                   "   .session?.kernel", timeout=60_000)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")

            cell = page.locator(".jp-CodeCell", has_text="lesson.mechanism_explorer(")
            slider = cell.locator(".widget-slider", has_text="ε (privacy loss)")
            slider.wait_for(state="attached", timeout=120_000)
            slider.scroll_into_view_if_needed()
            line = cell.locator(".js-plotly-plot .scatterlayer path.js-line").first
            line.wait_for(state="attached", timeout=60_000)
            title = cell.locator(".js-plotly-plot .gtitle").first
            before, title_before = line.get_attribute("d"), title.text_content()

            handle = slider.locator(".noUi-handle")
            handle.focus()
            for _ in range(6):
                handle.press("ArrowRight")
            page.wait_for_function(
                "([el, old]) => el.getAttribute('d') !== old", arg=[line.element_handle(), before],
                timeout=30_000)
            after, title_after = line.get_attribute("d"), title.text_content()
            for _ in range(20):  # let the last key's update arrive before the screenshot
                page.wait_for_timeout(250)
                if title.text_content() == title_after:
                    break
                title_after = title.text_content()
            page.screenshot(path=str(ARTIFACTS / "browser-02-explorer.png"), full_page=False)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "browser-02-failure.png"))
            raise
        finally:
            browser.close()

    assert before and after and after != before, "the Laplace density did not change"
    assert title_before != title_after and "ε = 1 " not in title_after


def _accept_kernel_dialog(page) -> None:
    """JupyterLab may ask which kernel to start on first opening; accept the proposed one."""
    dialog = page.locator(".jp-Dialog")
    try:
        dialog.wait_for(state="visible", timeout=5_000)
    except Exception:
        return
    dialog.locator("button.jp-mod-accept").click()
