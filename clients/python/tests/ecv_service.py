"""Starts a real `ecv serve` (embedded PGlite in a temp data dir, auth on) for the tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from typing import Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ECV_BIN = os.environ.get("ECV_BIN") or os.path.join(HERE, "..", "..", "..", "bin", "ecv.js")
ADMIN_TOKEN = "ecv_python_client_test_admin_0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Service:
    def __init__(self) -> None:
        node = os.environ.get("ECV_NODE") or shutil.which("node")
        if not node:
            raise RuntimeError("no node to run `ecv serve` (set ECV_NODE)")
        self.data_dir = tempfile.mkdtemp(prefix="ecv-py-svc-")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        env = dict(os.environ, ECV_URL="", ECV_DATA_DIR=self.data_dir, ECV_AUTH="on", ECV_ADMIN_TOKEN=ADMIN_TOKEN, HOST="127.0.0.1", PORT=str(self.port), LOG_LEVEL="warn", OPENAI_API_KEY="")
        self.log = open(os.path.join(self.data_dir, "service.log"), "wb")
        self.proc: Optional[subprocess.Popen[bytes]] = subprocess.Popen([node, ECV_BIN, "serve"], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("ecv serve exited %s: %s" % (self.proc.returncode, self.output()))
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass  # not listening yet
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("ecv serve did not become ready: " + self.output())
            time.sleep(0.2)

    def output(self) -> str:
        self.log.flush()
        with open(os.path.join(self.data_dir, "service.log"), encoding="utf-8", errors="replace") as f:
            return f.read()[-4000:]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)
