"""Flask extensions, created unbound; `create_app` binds them (STYLE principle 1)."""

import logging

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from webapp.jsonutil import json_dumps

# Deterministic constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(
    metadata=MetaData(naming_convention=NAMING_CONVENTION),
    engine_options={"json_serializer": json_dumps},
)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
SQLITE_BUSY_TIMEOUT_MS = 30_000  # how long a write waits for another one to commit


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """SQLite: enforce foreign keys, let readers and the writer overlap, wait for locks."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_MS)}")
    cursor.close()


def commit_bookkeeping(what: str) -> bool:
    """Commit a stamp that is bookkeeping, not the request (a token's last use, a login's
    time): SQLite busy with a sync's page (the demo) skips it rather than failing the
    request; the next one stamps it. False when skipped."""
    try:
        db.session.commit()
    except OperationalError as error:
        db.session.rollback()
        logging.getLogger(__name__).warning("%s not recorded: %s", what,
                                            type(error.orig).__name__)
        return False
    return True
