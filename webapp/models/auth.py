"""Staff users and the API tokens other tools use."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.extensions import db
from webapp.models.types import UTCDateTime, utcnow
from webapp.passwords import password_problem

PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 - memory-hard and slow, as ASVS 11.4.2 asks
TOKEN_BYTES = 32  # 256 bits from the CSPRNG
TOKEN_PREFIX = "qbs_"  # noqa: S105 - a marker, not a secret


_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    """A hash made as real ones are (same method and cost) of a password no one has."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(generate_password_hash(secrets.token_urlsafe(16),
                                                  method=PASSWORD_HASH_METHOD))
    return _DUMMY_HASH[0]


def _new_alternative_id() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    """A member of staff who logs in to the dashboard.

    The session stores `alternative_id`, never the primary key: rotating it (logout, disabling
    the account, a password change) makes every cookie issued before worthless.
    """

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    alternative_id: Mapped[str] = mapped_column(
        String(64), unique=True, default=_new_alternative_id
    )
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        return self.alternative_id

    def set_password(self, password: str) -> None:
        problem = password_problem(password)
        if problem is not None:
            raise ValueError(problem)
        self.password_hash = generate_password_hash(password, method=PASSWORD_HASH_METHOD)
        self.rotate_sessions()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @staticmethod
    def check_no_password(password: str) -> bool:
        """As long as `check_password` takes, for an email with no account (or a disabled one):
        the answer's timing says nothing of which emails have one. Always False."""
        check_password_hash(_dummy_hash(), password)
        return False

    def rotate_sessions(self) -> None:
        """End every existing login of this user."""
        self.alternative_id = _new_alternative_id()

    def disable(self) -> None:
        """No more logins, and no more API calls: every token is revoked for good (enabling
        the user again does not bring them back)."""
        self.active = False
        self.rotate_sessions()
        self.revoke_tokens()

    def revoke_tokens(self) -> int:
        """Revoke every live API token of this user; returns how many."""
        now = utcnow()
        live = [token for token in self.tokens if token.revoked_at is None]
        for token in live:
            token.revoked_at = now
        return len(live)

    @classmethod
    def by_email(cls, email: str) -> User | None:
        return db.session.scalar(select(cls).where(func.lower(cls.email) == email.strip().lower()))


def hash_token(token: str) -> str:
    """SHA-256 is enough for a random 256-bit token: there is nothing to brute-force."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(db.Model):
    """A bearer token for another tool; only its hash is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="tokens")

    @classmethod
    def issue(cls, user: User, name: str) -> tuple[ApiToken, str]:
        """Create a token for `user`; returns the row and the clear token, shown only once."""
        clear = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
        row = cls(user=user, name=name, token_hash=hash_token(clear))
        db.session.add(row)
        return row, clear

    @classmethod
    def authenticate(cls, clear: str) -> ApiToken | None:
        """The live token matching `clear`, or None; the hashes are compared in constant time."""
        digest = hash_token(clear)
        row = db.session.scalar(select(cls).where(cls.token_hash == digest))
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        if row.revoked_at is not None or not row.user.active:
            return None
        return row
