"""Files the hub keeps (accounts, the audit trail, diagnostics, layouts, the demo's state): owner-only,
whatever the umask.

Pure file-system helpers, run by whoever writes (the event loop at start, the command line). A file is
created with mode 0600 from its first byte (never created readable and narrowed afterwards), and its
folder with 0700 when the hub makes it. SQLite gives a database's `-wal` and `-shm` files the mode of
the database file itself, so a database created 0600 keeps its side files 0600 too.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE, DIR_MODE = 0o600, 0o700


def private_dir(path: Path) -> Path:
    """Make the folder (and missing parents) if needed; one the hub made is the owner's only."""
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(DIR_MODE)
    return path


def owner_only(path: Path) -> Path:
    """Create `path` empty with mode 0600 if it is missing, and narrow it to 0600 if it is there."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return path


def write_private(path: Path, text: str, mode: int = FILE_MODE) -> None:
    """Write `text` to `path` atomically through a temporary file that is never readable by others
    (`mode`, 0600 unless the file it replaces had another, is set before the rename)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
