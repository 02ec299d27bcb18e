"""Running `fission …` in a child process whose stderr is a pseudo-terminal, as a person at a
terminal sees it (progress bars and status lines appear only there)."""

from __future__ import annotations

import contextlib
import os
import pty
import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-c", "from bot.cli import main; main()"]


def run_cli(
    args: list[str], *, cwd: Path, env: dict[str, str], stderr: int | None = None
) -> tuple[str, str]:
    """`fission ARGS` with stderr on a pseudo-terminal (None) or a pipe; (stdout, stderr)."""
    command = [*CLI, *args]
    env = {**os.environ, **env}
    if stderr is not None:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, timeout=120)
        return done.stdout.decode(), done.stderr.decode()
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
    return out.decode(), said.decode()
