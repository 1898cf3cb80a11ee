"""The package installs with pip from pyproject.toml (no network: the system's setuptools)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def has_pip() -> bool:
    """pip and setuptools (the build backend, used offline with --no-build-isolation)."""
    pip = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True).returncode == 0
    return pip and subprocess.run([sys.executable, "-c", "import setuptools"], capture_output=True).returncode == 0


class PackagingTests(unittest.TestCase):
    @unittest.skipUnless(has_pip(), "pip or setuptools is not installed for this python (Debian: python3-pip, python3-setuptools)")
    def test_pip_installs_the_typed_package_and_its_entry_point(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "src")
            # A copy, so the build leaves no egg-info or build/ in the repository.
            shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
            target = os.path.join(d, "site")
            p = subprocess.run(
                [sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-index", "--no-deps", "--quiet", "--target", target, src],
                capture_output=True, text=True, timeout=300,
            )
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertTrue(os.path.exists(os.path.join(target, "ecv_client", "py.typed")))
            self.assertTrue(os.path.exists(os.path.join(target, "bin", "ecv-client")))
            env = {**os.environ, "PYTHONPATH": target}
            out = subprocess.run([sys.executable, "-c", "import ecv_client, sys; print(ecv_client.__file__); print(ecv_client.__version__)"], cwd=d, env=env, capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertTrue(out.stdout.startswith(target), out.stdout)
            self.assertEqual(out.stdout.split()[1], "0.1.0")
            usage = subprocess.run([sys.executable, "-m", "ecv_client", "gate"], cwd=d, env=env, capture_output=True, text=True)
            self.assertEqual(usage.returncode, 2)
            self.assertIn("usage: python -m ecv_client", usage.stderr)


if __name__ == "__main__":
    unittest.main()
