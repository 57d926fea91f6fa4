"""Staff login (Flask-Login) and bearer-token authentication for other tools."""

from __future__ import annotations

from flask import Flask, request
from sqlalchemy import select

from webapp.extensions import db, login_manager
from webapp.models.auth import User


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_session_user)


def load_session_user(alternative_id: str) -> User | None:
    """The user behind a session cookie; none when the request carries a bearer token.

    A request with an `Authorization` header is judged by its token alone, so an ambient
    cookie can never lend it authority (and so it needs no CSRF token).
    """
    if request.headers.get("Authorization"):
        return None
    user = db.session.scalar(select(User).where(User.alternative_id == alternative_id))
    if user is None or not user.active:
        return None
    return user
