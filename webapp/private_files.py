"""Files only this installation's user may read: the SQLite database and the demo's secrets.

They are created with mode 0600 from the start (never written first and narrowed afterwards,
which leaves a moment when anyone on the machine can read them, whatever the umask).
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

OWNER_ONLY = 0o600


def create_private(path: Path, text: str = "") -> bool:
    """Create `path` owner-only holding `text`; False (and nothing written) if it exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, OWNER_ONLY)  # whatever the umask took away, nothing more is allowed
    return True


def private_sqlite_file(database_uri: str) -> None:
    """An SQLite database file that does not exist yet is created empty and owner-only, so
    SQLite (which gives its journal and WAL files the database's mode) never makes it 0644."""
    url = make_url(database_uri)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:" or (
            url.database.startswith("file:")):
        return
    path = Path(url.database)
    if path.parent.is_dir():
        create_private(path)
