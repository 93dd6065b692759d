"""Reading a file that someone else chose: only a regular file, never blocking, never unbounded.

A FIFO named as the budget or the event payload would block a plain `open()` for ever, and
`/dev/zero` would never end; a file from an untrusted job (an artifact) may be of any size.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class NotRegularFile(OSError):
    """The path is a FIFO, a device, a socket or a folder: not read."""


class TooLarge(OSError):
    """The file is over the size the caller allows."""


def read_regular(path: Path, max_bytes: int) -> bytes:
    """The bytes of the regular file at `path`, at most `max_bytes` of them. Raises OSError (and its
    subclasses above) otherwise; a FIFO is opened without blocking and refused before it is read."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(f"{path} is not a regular file")
        if info.st_size > max_bytes:
            raise TooLarge(f"{path} is {info.st_size} bytes, over the {max_bytes} allowed")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:  # it grew while being read
                raise TooLarge(f"{path} is over the {max_bytes} bytes allowed")
        return b"".join(chunks)
    finally:
        os.close(fd)


def why_unreadable(exc: OSError) -> str:
    """What to tell a user about a file that could not be read."""
    if isinstance(exc, (NotRegularFile, TooLarge)):
        return str(exc.args[0]) if exc.args else type(exc).__name__
    return exc.strerror or str(exc)
