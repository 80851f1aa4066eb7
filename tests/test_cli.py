"""The ``circlebot`` command as a person runs it: bad options, odd bytes, Ctrl-C and the up arrow."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from circlebot.cli import main as cli_main
from kits.loader import BUILTIN_DIR

ROOT = Path(__file__).parent.parent
START = "2026-12-01T09:00:00+00:00"


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--start", "garbage"], "--start garbage: not an ISO 8601 time, e.g. 2026-12-01T09:00:00+00:00"),
        (["--start", "9999-12-31T23:00:00+00:00"], "--start 9999-12-31T23:00:00+00:00: give a time from 2000 to 2099"),
        (["--start", "2026-12-01T09:00:00"], "--start 2026-12-01T09:00:00: add a time zone, e.g. 2026-12-01T09:00:00+00:00"),
        (["--db", "nonsense://x"], "--db nonsense://x: not a database URL Circlebot can use"),
        (["--db", "postgresql://me:secret@127.0.0.1:1/x"], "--db postgresql://me:***@127.0.0.1:1/x: cannot open the database"),
        (["--files", "/proc/nope"], "--files /proc/nope: cannot write files there"),
        (["--pictures", "/dev/null/pictures"], "--pictures /dev/null/pictures: cannot write files there (Not a directory)"),
    ],
)
def test_a_bad_console_option_is_one_clear_line_and_exit_code_2(options, says, capsys):
    assert cli_main(["console", *options]) == 2
    out, err = capsys.readouterr()
    assert err.startswith(f"circlebot console: {says}") and err.count("\n") <= 2
    assert "secret" not in err and "Traceback" not in out + err


def test_stats_with_a_bad_database_url_is_a_clear_error(capsys):
    assert cli_main(["stats", "--db", "nonsense://x"]) == 2
    assert capsys.readouterr().err.startswith("circlebot stats: --db nonsense://x: not a database URL")


def test_files_go_to_a_folder_the_console_creates(tmp_path):
    folder = tmp_path / "new" / "exports"
    result = run_piped(b'/circle new "Crew" starter UTC tue 17:00\n/circle export\n', "--files", str(folder))
    assert f"saved to {folder}/alice/" in result.stdout.decode()


def run_piped(script: bytes, *options: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "circlebot.cli", "console", "--start", START, *options],
        input=script, capture_output=True, timeout=120, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert b"Traceback" not in result.stdout + result.stderr
    return result


def test_bytes_that_are_not_utf8_piped_in_do_not_end_the_session():
    result = run_piped(b'/circle new "Cr\xff\xfeew" starter UTC tue 17:00\n\xc3\x28\n/circle info\n')
    out = result.stdout.decode()
    assert "You moderate \u201cCr\ufffd\ufffdew\u201d (#cr-ew)." in out
    assert "State: forming" in out.split("/circle info")[-1]


class Terminal:
    """The console on a pseudo-terminal, as a person at a keyboard sees it."""

    def __init__(self, *options: str):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become the console
            os.chdir(ROOT)
            env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm"}
            os.execve(sys.executable, [sys.executable, "-m", "circlebot.cli", "console", "--start", START, *options], env)
        self.output = b""

    def read_until(self, text: bytes, times: int = 1, timeout: float = 60) -> bytes:
        """Read until ``text`` has been printed ``times`` times in all."""
        deadline = time.monotonic() + timeout
        while self.output.count(text) < times:
            if not self._read(deadline - time.monotonic()):
                raise AssertionError(f"no {text!r} in {self.output!r}")
        return self.output

    def _read(self, timeout: float) -> bool:
        if timeout <= 0 or not select.select([self.fd], [], [], timeout)[0]:
            return False
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:  # the child has gone and closed the terminal
            return False
        self.output += chunk
        return bool(chunk)

    def type(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def exit_code(self, timeout: float = 60) -> int:
        """How the console ended, reading what it printed on the way; fails if it is still running."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                while self._read(0.2):
                    pass
                return os.waitstatus_to_exitcode(status)
            self._read(0.2)
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
        raise AssertionError(f"the console did not exit: {self.output!r}")


@pytest.mark.parametrize("options", [[], ["--live"]], ids=["simulated clock", "live"])
def test_ctrl_c_leaves_the_interactive_console_at_once_without_a_traceback(options):
    terminal = Terminal(*options)
    terminal.read_until(b"alice> ")
    # As a person would, not within a millisecond of the prompt: CPython's readline notices a signal only
    # while it waits on the terminal, and one in the instant before (on a busy machine) waits for the next key.
    time.sleep(0.5)
    terminal.type(b"\x03")  # Ctrl-C, and no Enter after it
    assert terminal.exit_code() == 130, terminal.output
    assert b"Traceback" not in terminal.output and b"KeyboardInterrupt" not in terminal.output, terminal.output


def test_the_up_arrow_brings_back_the_last_line():
    terminal = Terminal()
    terminal.read_until(b"alice> ")
    terminal.type(b"/now\r")
    terminal.read_until(b"It is Tue 1 Dec 2026 09:00 (UTC).\r\nalice> ")  # typed before the prompt, the tty would echo it
    terminal.type(b"\x1b[A\r")  # up arrow, Enter: /now again
    output = terminal.read_until(b"It is Tue 1 Dec 2026 09:00 (UTC).\r\nalice> ", times=2, timeout=30)
    assert b"alice> /now\r\n" in output.split(b"(UTC).")[1] and b"^[[A" not in output
    terminal.type(b"\x04")  # Ctrl-D ends the session as /quit does
    assert terminal.exit_code() == 0


# ---------------------------------------------------------------- kits validate


def kit_text(**changes) -> str:
    data = yaml.safe_load((BUILTIN_DIR / "starter.yaml").read_text(encoding="utf-8"))
    return yaml.safe_dump({**data, **changes}, allow_unicode=True, sort_keys=False)


def test_kits_validate_checks_every_kit_file_in_a_folder(tmp_path, capsys):
    (tmp_path / "a.yaml").write_text(kit_text(), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(kit_text(id="other", summary=""), encoding="utf-8")
    (tmp_path / "c.yaml").write_text(kit_text(name="Same id as a.yaml"), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a kit", encoding="utf-8")
    assert cli_main(["kits", "validate", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert out == f"{tmp_path}/a.yaml: ok \u2014 starter, 4 meetings, weekly\n"
    assert err.splitlines() == [
        f"{tmp_path}/b.yaml: summary: String should have at least 1 character",
        f"{tmp_path}/c.yaml: id: kit id 'starter' is used by another kit ({tmp_path}/a.yaml)",
    ]


def test_kits_validate_an_empty_folder_says_so(tmp_path, capsys):
    assert cli_main(["kits", "validate", str(tmp_path)]) == 1
    assert capsys.readouterr().err == f"{tmp_path}: no kit files (*.yaml) in this folder\n"


def test_kits_validate_the_builtin_folder(capsys):
    assert cli_main(["kits", "validate", str(BUILTIN_DIR)]) == 0
    assert capsys.readouterr().out.count(": ok \u2014 ") == 3
