"""`qbsync users …` and `qbsync tokens …`: staff logins and the API tokens other tools use."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from webapp.extensions import db
from webapp.models.auth import ApiToken, User
from webapp.models.types import utcnow


@click.group()
def users() -> None:
    """Manage staff logins."""


def create_or_update_user(email: str, password: str) -> User:
    """Create the user, or reset the password (and end the sessions) of an existing one."""
    user = User.by_email(email)
    if user is None:
        user = User(email=email.strip().lower())
        db.session.add(user)
    user.active = True
    user.set_password(password)
    db.session.commit()
    return user


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


def _user_or_fail(email: str) -> User:
    user = User.by_email(email)
    if user is None:
        raise click.ClickException(f"there is no user {email.strip().lower()!r}; "
                                   "`qbsync users list` shows who there is")
    return user


def _password(password: str | None) -> str:
    """The --password given, else one typed twice at a hidden prompt."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@users.command("create")
@click.argument("email")
@click.option("--password", help="Prompted for when omitted.")
@with_appcontext
def users_create(email: str, password: str | None) -> None:
    """Create a staff login. An existing one is left alone: see `users set-password`."""
    if "@" not in email:
        raise click.BadParameter("an email address is needed", param_hint="EMAIL")
    existing = User.by_email(email)
    if existing is not None:
        hint = ("`qbsync users set-password` gives it a new password" if existing.active
                else "it is disabled; `qbsync users enable` lets it in again")
        raise click.ClickException(f"user {existing.email} already exists; {hint}")
    try:
        create_or_update_user(email, _password(password))
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--password") from None
    click.echo(f"user {email.strip().lower()} is ready")


@users.command("set-password")
@click.argument("email")
@click.option("--password", help="Prompted for when omitted.")
@click.option("--revoke-tokens", is_flag=True,
              help="Also revoke every API token of theirs (for a password that leaked).")
@with_appcontext
def users_set_password(email: str, password: str | None, revoke_tokens: bool) -> None:
    """Give EMAIL a new password; every login of theirs ends (API tokens keep working unless
    --revoke-tokens)."""
    user = _user_or_fail(email)
    try:
        user.set_password(_password(password))
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--password") from None
    revoked = user.revoke_tokens() if revoke_tokens else 0
    db.session.commit()
    click.echo(f"new password set for {user.email}; their existing logins have ended")
    if revoke_tokens:
        click.echo(f"{revoked} API token(s) of theirs revoked; `qbsync tokens create "
                   f"{user.email}` issues new ones")
    if not user.active:
        click.echo(f"{user.email} is still disabled; `qbsync users enable {user.email}` lets "
                   "them log in")


@users.command("list")
@with_appcontext
def users_list() -> None:
    """Every staff login: whether it may log in, when it was made and last logged in."""
    rows = db.session.scalars(db.select(User).order_by(User.email)).all()
    if not rows:
        click.echo("no users yet; `qbsync users create EMAIL` makes one")
        return
    width = max(len(u.email) for u in rows)
    click.echo(f"{'EMAIL':<{width}}  {'STATUS':<8}  {'CREATED':<20}  LAST LOGIN")
    for user in rows:
        status = "active" if user.active else "disabled"
        click.echo(f"{user.email:<{width}}  {status:<8}  {_when(user.created_at):<20}  "
                   f"{_when(user.last_login_at)}")


@users.command("disable")
@click.argument("email")
@with_appcontext
def users_disable(email: str) -> None:
    """Stop EMAIL logging in: their logins end and their API tokens are revoked for good."""
    user = _user_or_fail(email)
    user.disable()
    db.session.commit()
    click.echo(f"{user.email} is disabled: logged out everywhere, their API tokens revoked")


@users.command("enable")
@click.argument("email")
@with_appcontext
def users_enable(email: str) -> None:
    """Let a disabled EMAIL log in again. Their API tokens stay revoked: issue new ones."""
    user = _user_or_fail(email)
    user.active = True
    db.session.commit()
    click.echo(f"{user.email} may log in again")
    click.echo(f"their API tokens were revoked when they were disabled; `qbsync tokens create "
               f"{user.email}` issues new ones")


@click.group()
def tokens() -> None:
    """Manage API tokens for other tools."""


@tokens.command("create")
@click.argument("email")
@click.option("--name", default="api", show_default=True, help="What the token is for.")
@with_appcontext
def tokens_create(email: str, name: str) -> None:
    """Issue a token for EMAIL's account; the token alone is printed on the last line."""
    user = _user_or_fail(email)
    if not user.active:
        raise click.ClickException(f"{user.email} is disabled; `qbsync users enable "
                                   f"{user.email}` first")
    row, clear = ApiToken.issue(user, name)
    db.session.commit()
    click.echo(f"token {row.id} {name!r} for {user.email} (shown once; store it now):")
    click.echo(clear)


@tokens.command("list")
@click.argument("email", required=False)
@with_appcontext
def tokens_list(email: str | None) -> None:
    """API tokens (of EMAIL, else everyone's): id, name, owner, last use. Never the token."""
    query = db.select(ApiToken).join(ApiToken.user).order_by(ApiToken.id)
    if email is not None:
        query = query.where(ApiToken.user_id == _user_or_fail(email).id)
    rows = db.session.scalars(query).all()
    if not rows:
        click.echo("no API tokens; `qbsync tokens create EMAIL` issues one")
        return
    width = max(len(t.user.email) for t in rows)
    name_width = max(4, *(len(t.name) for t in rows))
    click.echo(f"{'ID':>4}  {'NAME':<{name_width}}  {'USER':<{width}}  {'STATUS':<8}  "
               f"{'CREATED':<20}  LAST USED")
    for token in rows:
        if token.revoked_at is not None:
            status = "revoked"
        else:
            status = "live" if token.user.active else "disabled"
        click.echo(f"{token.id:>4}  {token.name:<{name_width}}  {token.user.email:<{width}}  "
                   f"{status:<8}  {_when(token.created_at):<20}  {_when(token.last_used_at)}")


@tokens.command("revoke")
@click.argument("token_id", type=click.IntRange(1, 2**31 - 1))
@with_appcontext
def tokens_revoke(token_id: int) -> None:
    """Refuse API token TOKEN_ID (its id in `tokens list`) from now on; this cannot be undone."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.ClickException(f"there is no API token {token_id}; `qbsync tokens list` "
                                   "shows their ids")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.commit()
        click.echo(f"token {token.id} {token.name!r} of {token.user.email} is revoked")
    else:
        click.echo(f"token {token.id} {token.name!r} was already revoked "
                   f"({_when(token.revoked_at)})")
