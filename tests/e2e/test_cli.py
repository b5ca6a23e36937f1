"""The command line: `python -m bot` as a process (a missing token, --help, the calendar command)."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("token", [None, "nonsense"])
def test_missing_or_bad_token_is_one_line_and_exit_2(tmp_path, token):
    env = {"PATH": "/usr/bin:/bin"}
    if token:
        env["BOT_TOKEN"] = token
    proc = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "BOT_TOKEN" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_help_lists_options(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and "calendar" in proc.stdout and "migrate" in proc.stdout


def test_calendar_command_prints_the_year(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "calendar", "2026"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert "2026-06-19  festival  端午" in lines and "2026-06-12  festival  端午  -7d" in lines
    assert lines == sorted(lines, key=lambda line: line[:10])
