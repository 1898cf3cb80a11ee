"""ecv_client against a real `ecv serve` (embedded PGlite, auth on), over loopback HTTP."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request
from typing import Any, Dict, List, Optional

import ecv_client
from ecv_client import Client, ProblemError, UnreachableError
from ecv_service import ADMIN_TOKEN, Service

SVC: Optional[Service] = None
HEADER = b"commit\tval_bpb\tmemory_gb\tstatus\tdescription\n"


def setUpModule() -> None:
    global SVC
    SVC = Service()


def tearDownModule() -> None:
    if SVC:
        SVC.stop()


def admin(project: Optional[str] = None) -> Client:
    assert SVC
    return Client(SVC.url, token=ADMIN_TOKEN, project=project)


def make_project(name: str, **extra: Any) -> Client:
    c = admin(name)
    c.create_project({"name": name, "metric": {"name": "val_bpb", "direction": "minimize"}, **extra})
    return c


def run_cli(*args: str, env: Optional[Dict[str, str]] = None) -> "subprocess.CompletedProcess[str]":
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    full = {**os.environ, "PYTHONPATH": src, "ECV_URL": "", "ECV_TOKEN": "", "ECV_PROJECT": "", **(env or {})}
    return subprocess.run([sys.executable, "-m", "ecv_client", *args], env=full, capture_output=True, text=True, timeout=120)


class GateTests(unittest.TestCase):
    def test_gate_accepts_and_rejects_with_typed_answers(self) -> None:
        c = make_project("py-gate", sigma0=0.01, nu0=50)
        res = c.post_experiment([
            {"key": "r0", "status": "keep", "value": 1.0, "replicates": [1.005, 0.995, 1.0]},
            {"key": "r1", "status": "keep", "value": 0.9, "premises": ["r0"]},
            {"key": "r2", "status": "crash", "value": None, "premises": ["r1"]},
        ])
        self.assertEqual(res["created"], 3)
        self.assertEqual([i["key"] for i in res["items"]], ["r0", "r1", "r2"])
        ok = c.gate("r1", threshold=0)
        self.assertEqual(ok["decision"], "accept", ok["reasons"])
        self.assertEqual(ok["experiment"], "r1")
        self.assertIsInstance(ok["compounded"], float)
        crash = ecv_client.gate("r2", "py-gate", url=c.url, token=ADMIN_TOKEN)  # the module-level shortcut
        self.assertEqual(crash["decision"], "reject")
        self.assertEqual(crash["reasons"][0]["code"], "hard_gate_crash")
        self.assertEqual(c.post_experiment({"key": "r0", "status": "keep", "value": 1.0, "replicates": [1.005, 0.995, 1.0]})["unchanged"], 1)

    def test_wait_for_returns_once_a_runner_has_reproduced(self) -> None:
        c = make_project("py-wait")
        c.ingest(HEADER + b"base\t1.000\t40\tkeep\tbaseline\nA\t0.950\t40\tkeep\tlower lr\n")
        first = c.gate("A")
        self.assertEqual(first["decision"], "reanchor")  # no sigma0: the baseline runs again first
        out: List[Any] = []
        waiter = threading.Thread(target=lambda: out.append(c.wait_for("A", timeout=150)))
        waiter.start()
        # A runner over the same HTTP API: lease, reproduce (A really is ~0.05 better), complete.
        rng = random.Random(7)
        done = 0
        deadline = time.monotonic() + 140
        while waiter.is_alive() and time.monotonic() < deadline:
            jobs = c.request("POST", "/v1/runners/lease", {"runner": "py-test", "maxJobs": 1, "wait": 1})["jobs"]
            for j in jobs:
                value = (1.0 if j["experiment"] == "base" else 0.95) + rng.gauss(0, 0.003)
                c.request("POST", "/v1/jobs/%s/complete" % j["id"], {"runner": "py-test", "seed": j["seed"], "value": value, "durationS": 1})
                done += 1
        waiter.join(30)
        self.assertEqual(len(out), 1, "wait_for did not return")
        self.assertGreater(done, 0)
        self.assertIn(out[0]["decision"], ("accept", "reject"), out[0]["reasons"])
        self.assertEqual(out[0]["decision"], "accept", out[0]["reasons"])


class ErrorTests(unittest.TestCase):
    def test_problem_json_is_carried_whole(self) -> None:
        c = make_project("py-err", sigma0=0.01, nu0=50)
        with self.assertRaises(ProblemError) as nf:
            c.gate("nope")
        self.assertEqual((nf.exception.status, nf.exception.code), (404, "not_found"))
        self.assertEqual(nf.exception.problem["status"], 404)
        self.assertIn("type", nf.exception.problem)
        self.assertIn("POST /v1/projects/py-err/gate: 404 not_found", str(nf.exception))
        with self.assertRaises(ProblemError) as bad:
            c.gate("x", threshold=2)
        self.assertEqual((bad.exception.status, bad.exception.code), (400, "validation_failed"))
        self.assertTrue(any(e.get("pointer") == "/threshold" for e in bad.exception.errors), bad.exception.problem)
        with self.assertRaises(ProblemError) as tsv:
            c.ingest(bytes((i * 131) % 256 for i in range(2048)))
        self.assertEqual(tsv.exception.status, 400)
        self.assertTrue(any("line" in e for e in tsv.exception.errors), tsv.exception.problem)
        assert SVC
        with self.assertRaises(ProblemError) as anon:
            Client(SVC.url, token="", project="py-err").gate("x")
        self.assertEqual((anon.exception.status, anon.exception.code), (401, "unauthorized"))
        with self.assertRaises(UnreachableError):
            Client("http://127.0.0.1:9", project="p").gate("x")
        # No project from the argument, ECV_PROJECT or ./ecv.json: a clear error before any request.
        cwd, saved = os.getcwd(), os.environ.pop("ECV_PROJECT", None)
        with tempfile.TemporaryDirectory() as empty:
            os.chdir(empty)
            try:
                with self.assertRaisesRegex(ecv_client.EcvError, "no project"):
                    Client(SVC.url, token=ADMIN_TOKEN).gate("x")
            finally:
                os.chdir(cwd)
                if saved is not None:
                    os.environ["ECV_PROJECT"] = saved


class IngestTests(unittest.TestCase):
    def test_ingest_a_path_then_the_same_file_changes_nothing(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "results.tsv")
            with open(path, "wb") as f:
                f.write(HEADER + b"a1\t1.000\t40\tkeep\tbaseline\na2\t0.990\t40\tkeep\tlower lr\na3\t0.000\t0\tcrash\toom\n")
            c = admin("py-ingest")
            with self.assertRaises(ProblemError) as missing:
                c.ingest(path)
            self.assertEqual(missing.exception.code, "not_found")
            first = c.ingest(path, create=True, direction="minimize")
            self.assertEqual(first["created"], 3)
            self.assertEqual(c.ingest(path)["unchanged"], 3)
            self.assertEqual(c.experiment("a2")["premises"], ["a1"])
            # ecv.json in the working directory names the project, as for the `ecv` CLI.
            with open(os.path.join(d, "ecv.json"), "w") as f:
                json.dump({"name": "py-ingest"}, f)
            cwd = os.getcwd()
            os.chdir(d)
            try:
                self.assertEqual(Client(c.url, token=ADMIN_TOKEN).project, "py-ingest")
            finally:
                os.chdir(cwd)


class CliTests(unittest.TestCase):
    def test_gate_exit_codes_match_the_ecv_cli(self) -> None:
        c = make_project("py-cli", sigma0=0.01, nu0=50)
        c.post_experiment([
            {"key": "c0", "status": "keep", "value": 1.0, "replicates": [1.005, 0.995, 1.0]},
            {"key": "c1", "status": "keep", "value": 0.9, "premises": ["c0"]},
            {"key": "c2", "status": "crash", "value": None, "premises": ["c1"]},
        ])
        env = {"ECV_URL": c.url, "ECV_TOKEN": ADMIN_TOKEN}
        ok = run_cli("gate", "c1", "--project", "py-cli", "--threshold", "0", env=env)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertTrue(ok.stdout.startswith("ACCEPT  c1  K="), ok.stdout)
        rej = run_cli("gate", "c2", "-p", "py-cli", "--json", env=env)
        self.assertEqual(rej.returncode, 1, rej.stderr)
        self.assertEqual(json.loads(rej.stdout)["reasons"][0]["code"], "hard_gate_crash")
        p = make_project("py-cli-pending")
        p.ingest(HEADER + b"b0\t1.000\t40\tkeep\tbaseline\nb1\t0.950\t40\tkeep\tlower lr\n")
        pend = run_cli("gate", "b1", "--url", c.url, "--token", ADMIN_TOKEN, "-p", "py-cli-pending")
        self.assertEqual(pend.returncode, 3, pend.stderr)
        self.assertIn("[sigma_unknown]", pend.stdout)
        missing = run_cli("gate", "nope", "-p", "py-cli", env=env)
        self.assertEqual(missing.returncode, 2)
        self.assertIn("404 not_found", missing.stderr)
        self.assertEqual(run_cli("gate", "c1", "-p", "py-cli", env={"ECV_URL": c.url}).returncode, 2)  # no token: 401
        self.assertEqual(run_cli("gate", "c1", "-p", "py-cli", "--url", "http://127.0.0.1:9").returncode, 2)
        self.assertEqual(run_cli("gate").returncode, 2)  # usage
        self.assertEqual(run_cli("bogus").returncode, 2)

    def test_ingest_and_bar_commands(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "results.tsv")
            with open(path, "wb") as f:
                f.write(HEADER + b"d0\t1.000\t40\tkeep\tbaseline\n")
            assert SVC
            env = {"ECV_URL": SVC.url, "ECV_TOKEN": ADMIN_TOKEN, "ECV_PROJECT": "py-cli-ingest"}
            first = run_cli("ingest", path, "--create", "--direction", "minimize", env=env)
            self.assertEqual(first.returncode, 0, first.stderr)
            self.assertEqual(first.stdout.strip(), "1 new, 0 changed, 0 unchanged")
            self.assertEqual(run_cli("ingest", path, env=env).stdout.strip(), "0 new, 0 changed, 1 unchanged")
            bar = run_cli("bar", env=env)
            self.assertEqual(bar.returncode, 0, bar.stderr)
            with urllib.request.urlopen(urllib.request.Request(SVC.url + "/v1/projects/py-cli-ingest/bar", headers={"authorization": "Bearer " + ADMIN_TOKEN})) as r:
                expected = json.loads(r.read())["bar"]
            self.assertEqual(bar.stdout.strip(), "" if expected is None else repr(expected))


if __name__ == "__main__":
    unittest.main()
