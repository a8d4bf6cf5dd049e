"""Shared fixtures of kelvin's Python tests: the CLI next to the module (for round trips against
the C++ program on the same seeds) and a scratch directory."""

import json
import os
import pathlib
import subprocess

import pytest

import kelvin


def _build_dir():
    # <build>/python/kelvin/__init__.py -> <build>
    return pathlib.Path(kelvin.__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def kelvin_cli_path():
    """The kelvin CLI of the same build (KELVIN_CLI overrides), as a string."""
    path = pathlib.Path(os.environ.get("KELVIN_CLI", _build_dir() / "tools" / "cli" / "kelvin"))
    if not path.exists():
        pytest.fail(f"the kelvin CLI is not built at {path} (set KELVIN_CLI)")
    return str(path)


@pytest.fixture(scope="session")
def kelvin_cli(kelvin_cli_path):
    """Runs `kelvin ARGS --json` and returns the parsed JSON (the CLI of the same build)."""
    path = kelvin_cli_path

    def run(*args):
        out = subprocess.run([str(path), *map(str, args), "--json"], check=True,
                             capture_output=True, text=True, timeout=300)
        return json.loads(out.stdout)

    return run
