"""Staff login and logout: sessions that really end, and no open redirects."""

from tests.conftest import PASSWORD, log_in
from webapp.extensions import db
from webapp.models.auth import User


def test_login_page_is_public_and_styled(client):
    page = client.get("/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="csrf_token"' in html and "bootstrap.min.css" in html


def test_login_then_dashboard_then_logout(client, user):
    # Given a staff member, When they log in, Then the dashboard opens
    response = log_in(client)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "staff@example.com" in client.get("/").get_data(as_text=True)
    # When they log out, Then the dashboard sends them back to the login page
    assert client.post("/logout").status_code == 302
    after = client.get("/")
    assert after.status_code == 302 and after.headers["Location"].startswith("/login")


def test_wrong_password_is_refused_without_saying_which_part(client, user):
    response = log_in(client, password="not the password")
    assert response.status_code == 400
    assert "do not match an active account" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_old_cookie_is_worthless_after_logout(app, client, user):
    log_in(client)
    stolen = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], stolen)
    response = thief.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_disabling_a_user_ends_their_sessions(app, logged_in, user):
    assert logged_in.get("/").status_code == 200
    db.session.get(User, user.id).disable()
    db.session.commit()
    assert logged_in.get("/").status_code == 302
    assert log_in(logged_in).status_code == 400  # and they cannot log in again


def test_a_new_password_ends_every_existing_session(app, logged_in, user):
    # Given staff logged in, whose password is then reset (`qbsync users set-password`)
    assert logged_in.get("/").status_code == 200
    db.session.get(User, user.id).set_password("another long password")
    db.session.commit()
    # Then the old login no longer works, and the new password does
    assert logged_in.get("/").status_code == 302
    response = logged_in.post("/login", data={"email": "staff@example.com",
                                              "password": "another long password"})
    assert response.status_code == 302 and logged_in.get("/").status_code == 200


def test_next_goes_to_our_own_pages_only(client, user):
    ok = client.post("/login?next=/api/v1/objects", data={"email": "staff@example.com",
                                                           "password": PASSWORD})
    assert ok.headers["Location"] == "/api/v1/objects"
    client.post("/logout")
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "http:/x"):
        response = client.post(
            "/login", query_string={"next": evil},
            data={"email": "staff@example.com", "password": PASSWORD},
        )
        assert response.headers["Location"] == "/", evil
        client.post("/logout")


def test_session_cookie_flags_in_production(app, client, user):
    app.config.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_NAME="__Host-qbsync")
    response = client.post(
        "/login", data={"email": "staff@example.com", "password": PASSWORD},
        base_url="https://localhost",
    )
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-qbsync=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in cookie
    assert "Domain" not in cookie


def test_a_busy_database_does_not_fail_a_login(app, client, user, monkeypatch):
    # Given SQLite busy with a long write elsewhere (a sync's page, in the demo)
    import sqlite3

    from webapp import extensions

    monkeypatch.setattr(extensions, "SQLITE_BUSY_TIMEOUT_MS", 100)
    db.engine.dispose()
    holder = sqlite3.connect(db.engine.url.database)
    holder.execute("BEGIN IMMEDIATE")
    try:
        # When staff log in, Then they are in (the time of the login is not recorded)
        assert log_in(client).status_code == 302
        assert client.get("/").status_code == 200
    finally:
        holder.rollback()
        holder.close()
