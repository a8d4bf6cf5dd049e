"""KELVIN_LOG_LEVEL is read when the module is imported: it sets the level of every kelvin
logger (kelvin.set_log_level() still wins later), and an invalid value is warned about."""

import os
import subprocess
import sys

OPEN = "import kelvin\nwith kelvin.open('sim:resonator?cells=2'):\n    pass\n"


def run(code, level=None):
    env = dict(os.environ)
    env.pop("KELVIN_LOG_LEVEL", None)
    if level is not None:
        env["KELVIN_LOG_LEVEL"] = level
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120, check=True)


def test_info_level_from_the_environment_shows_the_open_message():
    # The driver logs "opened <address> ..." at info when a board is opened.
    assert "opened sim:resonator" in run(OPEN, "info").stderr
    assert run(OPEN).stderr == ""  # default: warn


def test_set_log_level_wins_over_the_environment():
    code = "import kelvin\nkelvin.set_log_level('warn')\n" + OPEN.split("\n", 1)[1]
    assert run(code, "info").stderr == ""


def test_an_invalid_level_is_warned_about():
    err = run("import kelvin", "loud").stderr
    assert "KELVIN_LOG_LEVEL='loud' is not a log level" in err
