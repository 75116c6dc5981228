"""A whole federation on one machine: a SuperLink and K SuperNodes as processes on 127.0.0.1.

Flower's deployment engine exactly as it runs across machines, with every address on loopback::

    with LoopbackFederation(workdir, nodes=3) as federation:
        weights, history = federation.run("first", **{"num-server-rounds": 2})

It runs the commands README "Across machines" gives (``flower-superlink``, one ``flower-supernode
--node-config 'partition-id=k num-partitions=K'`` per party, ``flwr run``), on free ports, with
``--insecure`` or with TLS certificates from ``tools/make_certs.py``. :meth:`LoopbackFederation.stop`
ends every process it started and every process those started (SuperExec and the per-message app
processes run in sessions of their own, so ending the parents is not enough).
The tests (``tests/test_deployment.py``), the benchmark and notebook 05 use it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from leptonkit import _progress

APP = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STARTUP_S = 60.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoopbackFederation:
    """A SuperLink and ``nodes`` SuperNodes on loopback, each SuperNode with its own partition.

    Parameters
    ----------
    workdir
        Where the logs, the Flower configuration (``FLWR_HOME``), a copy of the app and the runs'
        results go.
    nodes
        K, the SuperNodes: SuperNode k loads ``partition-id`` k.
    partitions
        ``num-partitions`` N ≥ K the training split is cut into (default K: every part has its
        SuperNode). With N > K, SuperNodes 0 … K−1 hold parts 0 … K−1 of N, each the size a client
        of an N-client federation holds (the benchmark's 10 of 100).
    tls
        ``None`` for ``--insecure``, or ``{"ca": …, "cert": …, "key": …}``: the paths
        ``tools/make_certs.py`` writes (``ca.crt``, ``server.pem``, ``server.key``).
    """

    def __init__(self, workdir: str | os.PathLike, *, nodes: int = 3, partitions: int | None = None,
                 tls: dict | None = None):
        if not isinstance(nodes, int) or isinstance(nodes, bool) or not 1 <= nodes <= 1000:
            raise ValueError(f"nodes must be an int in [1, 1000], got {nodes!r}")
        partitions = nodes if partitions is None else partitions
        whole = isinstance(partitions, int) and not isinstance(partitions, bool)
        if not whole or not nodes <= partitions <= 10**6:
            raise ValueError(f"partitions must be None or an int in [nodes = {nodes}, 10**6], "
                             f"got {partitions!r}")
        if tls is not None and set(tls) != {"ca", "cert", "key"}:
            raise ValueError("tls must be None or a dict with exactly the paths 'ca', 'cert' and 'key'")
        self.workdir, self.nodes, self.partitions, self.tls = Path(workdir), nodes, partitions, tls
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.processes: list[subprocess.Popen] = []
        self.supernodes: list[subprocess.Popen] = []
        self.descendants: dict[int, psutil.Process] = {}   # pid → process, every child ever seen
        self.env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                    "FLWR_HOME": str(self.workdir / "flwr-home"), "PYTHONUNBUFFERED": "1"}

    def __enter__(self) -> LoopbackFederation:
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return (f"LoopbackFederation(127.0.0.1:{self.port}, {self.nodes} SuperNodes, "
                f"{'TLS' if self.tls else 'insecure'})")

    # --- the commands -----------------------------------------------------------------------

    def superlink_command(self) -> list[str]:
        security = ["--insecure"] if self.tls is None else [
            "--ssl-ca-certfile", str(self.tls["ca"]), "--ssl-certfile", str(self.tls["cert"]),
            "--ssl-keyfile", str(self.tls["key"])]
        # nothing is installed at run time: the app's dependencies (leptonkit) are already here
        return [str(BIN / "flower-superlink"), *security, "--host", "127.0.0.1", "--port", str(self.port),
                "--disable-runtime-dependency-installation"]

    def supernode_command(self, k: int) -> list[str]:
        security = ["--insecure"] if self.tls is None else ["--root-certificates", str(self.tls["ca"])]
        # --port: this SuperNode's own API for its app processes; one machine needs one port each
        return [str(BIN / "flower-supernode"), *security, "--superlink", f"127.0.0.1:{self.port}",
                "--port", str(free_port()),
                "--node-config", f"partition-id={k} num-partitions={self.partitions}"]

    def flower_config(self) -> str:
        """``$FLWR_HOME/config.toml``: where ``flwr run`` finds the SuperLink (Flower ≥ 1.26)."""
        security = "insecure = true" if self.tls is None else f'root-certificates = "{self.tls["ca"]}"'
        return (f'[superlink]\ndefault = "loopback"\n\n[superlink.loopback]\n'
                f'address = "127.0.0.1:{self.port}"\n{security}\n')

    # --- processes --------------------------------------------------------------------------

    def _start(self, name: str, command: list[str]) -> subprocess.Popen:
        with (self.workdir / f"{name}.log").open("w") as log:   # the child keeps its own descriptor
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                       cwd=self.workdir, start_new_session=True)
        self.processes.append(process)
        return process

    def start(self) -> LoopbackFederation:
        """Start the SuperLink, wait until it listens, start the SuperNodes; stop all on failure."""
        try:
            superlink = self._start("superlink", self.superlink_command())
            self._wait_for_superlink(superlink)
            for k in range(self.nodes):
                self.supernodes.append(self._start(f"supernode-{k}", self.supernode_command(k)))
            home = self.workdir / "flwr-home"
            home.mkdir(exist_ok=True)
            (home / "config.toml").write_text(self.flower_config())
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_for_superlink(self, process: subprocess.Popen) -> None:
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"flower-superlink exited with {process.returncode}:\n{self.logs()}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.2)
        raise TimeoutError(f"the SuperLink does not listen on 127.0.0.1:{self.port} after {STARTUP_S} s")

    def run(self, name: str, *, timeout: float = 300.0, progress: bool | None = None,
            **config: Any) -> tuple[list[np.ndarray], list[dict]]:
        """``flwr run`` the app with ``config`` (run-config keys, e.g. ``**{"num-server-rounds": 2}``);
        wait until its ServerApp has saved every round; return the global weights and the history.
        ``progress``: a bar over the rounds saved, as ``leptonkit``'s training shows (after 2 s)."""
        save = self.workdir / name
        for old in (save.with_suffix(".json"), save.with_suffix(".npz")):
            old.unlink(missing_ok=True)
        overrides = {"min-available-nodes": self.nodes, **config, "save-path": str(save)}
        rounds = int(overrides.get("num-server-rounds", 3))
        app = self.workdir / "app"
        if not app.exists():   # a copy: a run never writes into the repository
            shutil.copytree(APP, app, ignore=shutil.ignore_patterns("__pycache__", "*.fab"))
        text = " ".join(f"{key}={json.dumps(value)}" for key, value in overrides.items())
        started = subprocess.run([str(BIN / "flwr"), "run", str(app), "loopback", "--run-config", text],
                                 env=self.env, cwd=self.workdir, capture_output=True, text=True, timeout=120)
        if started.returncode != 0:
            raise RuntimeError(f"flwr run failed:\n{started.stdout}{started.stderr}")
        deadline = time.monotonic() + timeout
        history: list[dict] = []
        with _progress.bar(total=rounds, desc="Flower rounds", progress=progress) as bar:
            while time.monotonic() < deadline:
                self._remember_descendants()
                if save.with_suffix(".json").exists():
                    history = json.loads(save.with_suffix(".json").read_text())
                    bar.update(min(len(history), rounds) - bar.n)
                    if len(history) >= rounds:
                        break
                time.sleep(0.5)
            else:
                raise TimeoutError(f"the run did not save {rounds} rounds in {timeout} s (it saved "
                                   f"{len(history)}):\n{self.logs()}")
        with np.load(save.with_suffix(".npz")) as arrays:
            weights = [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
        return weights, history

    def logs(self, tail: int = 2000) -> str:
        """The last ``tail`` characters of every process's log."""
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-tail:]}"
                         for path in sorted(self.workdir.glob("*.log")))

    def _remember_descendants(self) -> None:
        for process in self.processes:
            try:
                for child in psutil.Process(process.pid).children(recursive=True):
                    self.descendants.setdefault(child.pid, child)
            except psutil.NoSuchProcess:
                pass

    def kill_supernode(self, k: int) -> None:
        """SIGKILL SuperNode ``k`` and the processes it started: a machine that drops off the network."""
        node = self.supernodes[k]
        try:
            doomed = [psutil.Process(node.pid), *psutil.Process(node.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            doomed = []
        for process in doomed:
            try:
                process.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                pass
        node.wait(timeout=10)

    def stop(self) -> None:
        """End every process this federation started, and their children (idempotent)."""
        self._remember_descendants()
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        children = list(self.descendants.values())
        for child in children:
            try:
                child.kill()     # psutil checks that the pid still names the process it saw
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs([c for c in children if c.is_running()], timeout=10)

    def alive(self) -> list[str]:
        """The command lines of this federation's processes that still run (empty after :meth:`stop`)."""
        alive = [" ".join(map(str, p.args[:3])) for p in self.processes if p.poll() is None]
        for process in self.descendants.values():
            try:
                if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                    alive.append(" ".join(process.cmdline()[:3]))
            except psutil.NoSuchProcess:
                pass
        return alive
