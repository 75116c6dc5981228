"""`make lab` starts JupyterLab on loopback with its token on, opening notebook 00.

The test asks make for the exact command (`make -n lab`), runs it on a free port without
opening a browser, and talks to the server over HTTP; it stops the server itself.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_make_lab_serves_notebook_00_on_loopback_with_a_token(tmp_path):
    dry_run = subprocess.run(["make", "--no-print-directory", "-n", "lab"], cwd=ROOT,
                             capture_output=True, text=True, check=True)
    lines = dry_run.stdout.replace("\\\n", " ").splitlines()
    command = next(line for line in lines if "jupyter lab" in line)
    assert "--ServerApp.ip=127.0.0.1" in command
    assert "token=''" not in command and "IdentityProvider.token" not in command
    port = _free_port()
    args = [*shlex.split(command), f"--ServerApp.port={port}", "--ServerApp.open_browser=False",
            "--ServerApp.port_retries=0"]
    log = tmp_path / "lab.log"
    with log.open("w") as sink:
        server = subprocess.Popen(args, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT,
                                  env={**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path)})
    try:
        url = None
        for _ in range(120):
            match = re.search(rf"http://127\.0\.0\.1:{port}/lab/tree/notebooks/00_welcome\.ipynb"
                              r"\?token=([0-9a-f]+)", log.read_text())
            if match:
                url, token = match.group(0), match.group(1)
                break
            assert server.poll() is None, log.read_text()
            time.sleep(0.5)
        assert url, f"no URL with a token in the log:\n{log.read_text()}"
        assert len(token) >= 32
        assert _status(url) == 200
        assert _status(f"http://127.0.0.1:{port}/api/contents/notebooks") == 403  # no token
        contents = f"http://127.0.0.1:{port}/api/contents/notebooks/00_welcome.ipynb?token={token}"
        assert _status(contents) == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
