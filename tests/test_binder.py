"""Binder builds the kit: a fresh environment made from binder/ the way repo2docker makes it.

repo2docker, given a ``binder/`` folder, installs ``binder/requirements.txt`` with pip, then runs
``binder/postBuild`` from the repository root (the root ``pyproject.toml`` is not installed
automatically). This test does the same in a fresh virtual environment, on a copy of the files
git would check out, then imports leptonkit and executes notebook 00 there.

One thing cannot be exercised here: PyTorch's CPU-only index is not reachable from this
project's machines, so its two lines (the ``--extra-index-url`` and the ``+cpu`` pin) are
asserted to be present and then replaced by the same torch release's CPU build that lies on
this disk. Everything else in ``binder/`` is installed and run for real.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _requirements_reachable_here(requirements: str) -> str:
    """binder/requirements.txt with PyTorch's CPU index swapped for the local CPU build."""
    assert f"--extra-index-url {TORCH_CPU_INDEX}" in requirements, "Binder must take CPU-only torch"
    pin = re.search(r"^torch==(\S+)\+cpu$", requirements, flags=re.M)
    assert pin, "binder/requirements.txt must pin a +cpu torch build"
    lines = []
    for line in requirements.splitlines():
        if line.startswith("--extra-index-url") and TORCH_CPU_INDEX in line:
            continue
        lines.append(f"torch=={pin.group(1)}" if line == pin.group(0) else line)
    return "\n".join(lines) + "\n"


def test_binder_files_follow_repo2docker_rules():
    python = f"python-{sys.version_info[0]}.{sys.version_info[1]}"
    assert (BINDER / "runtime.txt").read_text().strip() == python, "test with Binder's Python"
    post_build = BINDER / "postBuild"
    assert os.access(post_build, os.X_OK) and post_build.read_text().startswith("#!")
    assert "pip install" in post_build.read_text() and " -e ." in post_build.read_text()


def test_readme_badge_opens_notebook_00_in_jupyterlab():
    readme = (ROOT / "README.md").read_text()
    badge = re.search(r"\[!\[Binder\]\(https://mybinder\.org/badge_logo\.svg\)\]\((\S+)\)", readme)
    assert badge, "README needs a Binder badge"
    assert re.fullmatch(r"https://mybinder\.org/v2/gh/[\w.-]+/[\w.-]+/\w+"
                        r"\?urlpath=lab/tree/notebooks/00_welcome\.ipynb", badge.group(1))
    assert (ROOT / "notebooks" / "00_welcome.ipynb").exists()


@pytest.mark.binder
def test_binder_environment_builds_and_runs_notebook_00(tmp_path):
    # The files a fresh checkout has: tracked, plus untracked-but-not-ignored ones.
    listed = _run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT).stdout
    repo = tmp_path / "repo"
    for name in listed.splitlines():
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)

    env = tmp_path / "env"
    _run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(env)])
    python = env / "bin" / "python"
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(_requirements_reachable_here((BINDER / "requirements.txt").read_text()))
    _run([str(python), "-m", "pip", "install", "--quiet", "-r", str(requirements)], cwd=repo)
    path = f"{env / 'bin'}{os.pathsep}{os.environ['PATH']}"
    _run(["bash", str(repo / "binder" / "postBuild")], cwd=repo,
         env={**os.environ, "PATH": path, "VIRTUAL_ENV": str(env)})

    probe = _run([str(python), "-c",
                  "import torch, leptonkit, leptonkit.crypto, leptonkit.widgets, leptonkit.exercises;"
                  "print(leptonkit.__file__); print(torch.version.cuda)"], cwd=tmp_path).stdout
    where, cuda = probe.split()
    assert Path(where).is_relative_to(repo), "postBuild must install the checked-out kit"
    assert cuda == "None", "Binder must run a CPU-only torch"

    executed = tmp_path / "executed.ipynb"
    _run([str(env / "bin" / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
          "--ExecutePreprocessor.timeout=120", "--output", str(executed),
          str(repo / "notebooks" / "00_welcome.ipynb")], cwd=repo, env={**os.environ, "PATH": path})
    assert "✓ Exercise 00.1: correct." in executed.read_text()
