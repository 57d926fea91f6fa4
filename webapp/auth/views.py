"""Login and logout pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length

from webapp.extensions import commit_bookkeeping, db
from webapp.models.auth import User
from webapp.models.types import utcnow
from webapp.security import PLAIN_HTTP_NOTE, plain_http_blocks_login

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


def safe_next(target: str | None) -> str:
    """`target` when it is a path on this site, else the dashboard (no open redirects; no
    control characters, which browsers drop or a header cannot carry)."""
    fallback = url_for("dashboard.index")
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    if any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for char in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url)
    form = LoginForm()
    if form.validate_on_submit():
        user = User.by_email(form.email.data)
        # The password is checked whether or not the account exists (or may log in): the
        # answer takes as long either way, so its timing names no account.
        password = form.password.data
        matches = (user.check_password(password) if user is not None
                   else User.check_no_password(password))
        if matches and user.active:
            session.clear()  # a fresh session at login (no fixation)
            login_user(user)
            user.last_login_at = utcnow()
            commit_bookkeeping("login time")  # the login stands even if this is skipped
            return redirect(next_url)
        flash("That email and password do not match an active account.", "danger")
    status = 400 if request.method == "POST" else 200
    note = PLAIN_HTTP_NOTE if plain_http_blocks_login() else ""
    return render_template("auth/login.html", form=form, plain_http_note=note), status


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out everywhere: rotating the alternative id voids every cookie this user holds."""
    if current_user.is_authenticated:
        current_user.rotate_sessions()
        db.session.commit()
    logout_user()
    session.clear()
    flash("You have been logged out.", "info")
    return redirect(url_for("auth.login"))
