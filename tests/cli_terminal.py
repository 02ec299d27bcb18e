"""`fission …` in a child process whose stderr is a pseudo-terminal or a pipe: what a person
at a terminal sees, and what a script reading stderr gets."""

from __future__ import annotations

import contextlib
import os
import pty
import subprocess
import sys
from pathlib import Path


def run_fission(
    args: list[str], env: dict[str, str], cwd: Path, *, terminal: bool, prelude: str = ""
) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of `fission ARGS…`; `prelude` is Python run in the child
    before the command (e.g. shortening a delay the test cannot wait for)."""
    program = f"{prelude}\nfrom bot.cli import main\nmain()"
    command = [sys.executable, "-c", program, *args]
    if not terminal:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, timeout=120)
        return done.returncode, done.stdout.decode(), done.stderr.decode()
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=follower)
        os.close(follower)
        out, _ = proc.communicate(timeout=120)
        said = b""
        with contextlib.suppress(OSError):  # EIO once the child has closed the terminal
            while chunk := os.read(leader, 4096):
                said += chunk
    finally:
        os.close(leader)
    return proc.returncode, out.decode(), said.decode()
