"""Signing in and out, roles, agency registration and password reset."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Agency, AuditLog, Role, User, UserStatus

from ..conftest import PASSWORD, csrf_token, write_lock_is_free

HOMES = {Role.ORGANISER: "/admin/", Role.AGENCY: "/agency/", Role.EXPERT: "/review/"}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_lands_on_its_own_home(client, make_user, login, role):
    user = make_user(role)
    response = login(user)
    assert response.headers["Location"] == "/auth/home"
    home = client.get("/auth/home")
    assert home.status_code == 302 and home.headers["Location"] == HOMES[role]
    assert client.get(HOMES[role]).status_code == 200


@pytest.mark.parametrize("role, forbidden", [
    (Role.AGENCY, "/admin/"), (Role.EXPERT, "/admin/"), (Role.ORGANISER, "/agency/"),
    (Role.AGENCY, "/review/"), (Role.EXPERT, "/agency/"), (Role.ORGANISER, "/review/"),
])
def test_a_wrong_role_gets_403(client, make_user, login, role, forbidden):
    login(make_user(role))
    assert client.get(forbidden).status_code == 403


def test_wrong_password_and_unknown_email_get_the_same_answer(client, make_user, post):
    user = make_user(Role.AGENCY)
    wrong = post("/auth/login", {"email": user.email, "password": "not the password"})
    unknown = post("/auth/login", {"email": "nobody@example.test", "password": "whatever123"})
    assert wrong.status_code == unknown.status_code == 200
    assert "电子邮箱或密码不正确" in wrong.get_data(as_text=True)
    assert "电子邮箱或密码不正确" in unknown.get_data(as_text=True)


def test_a_password_is_checked_while_the_sites_other_writes_go_on(app, client, make_user, post,
                                                                   monkeypatch):
    """A password's hash takes tens of milliseconds of CPU, and anyone may try to sign in, from
    many addresses: meanwhile another writer gets the site's write lock at once, for a known
    account, a wrong password and an unknown email alike (before, each try held the lock, and
    a few dozen tries a second would have held every write of the site). The sign-in's time is
    still recorded."""
    from app.auth import services
    from app.models import accounts

    free = []

    def watched(real):
        def check(stored, password):
            free.append(write_lock_is_free())
            return real(stored, password)
        return check

    monkeypatch.setattr(accounts, "check_password_hash", watched(accounts.check_password_hash))
    monkeypatch.setattr(services, "check_password_hash", watched(services.check_password_hash))
    user = make_user(Role.AGENCY)
    post("/auth/login", {"email": user.email, "password": "not the password"})
    post("/auth/login", {"email": "nobody@example.test", "password": "whatever123"})
    assert user.last_login_at is None
    assert post("/auth/login", {"email": user.email, "password": PASSWORD}).status_code == 302
    assert free == [True, True, True]
    db.session.refresh(user)
    assert user.last_login_at is not None


def test_email_is_matched_case_insensitively(client, make_user, login, post):
    make_user(Role.EXPERT, email="expert@example.test")
    response = post("/auth/login", {"email": "  Expert@Example.TEST ", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/review/").status_code == 200


def test_sign_in_starts_a_fresh_session(app, client, make_user, login):
    """Anything planted in the session before sign-in is gone after it (ASVS 3.2.1)."""
    user = make_user(Role.ORGANISER)
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login(user)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == f"{user.id}:{user.session_token}"


def test_a_cookie_copied_before_sign_out_is_refused_after_it(app, client, make_user, login, post):
    user = make_user(Role.ORGANISER)
    login(user)
    stolen = client.get_cookie("session").value
    assert post("/auth/logout", {}, client_=client).status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = thief.get("/admin/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_changing_the_password_signs_out_other_devices(app, client, make_user, login, post):
    user = make_user(Role.EXPERT)
    other_device = app.test_client()
    login(user, client_=other_device)
    login(user)
    response = post("/auth/password", {"current": PASSWORD, "password": "a new password 42",
                                       "confirm": "a new password 42"})
    assert response.status_code == 302
    assert client.get("/review/").status_code == 200  # this device stays signed in
    assert other_device.get("/review/").status_code == 302


def test_no_remember_me_cookie_for_staff(client, make_user, login):
    response = login(make_user(Role.ORGANISER))
    cookies = response.headers.getlist("Set-Cookie")
    assert not any(c.startswith("remember_token") for c in cookies)
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie


@pytest.mark.parametrize("status", [UserStatus.PENDING, UserStatus.REJECTED, UserStatus.DISABLED])
def test_an_account_that_is_not_active_cannot_sign_in(client, make_user, post, status):
    user = make_user(Role.AGENCY, status=status)
    response = post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert client.get("/agency/").status_code == 302


def test_a_disabled_account_loses_its_open_session(client, make_user, login):
    user = make_user(Role.AGENCY)
    login(user)
    user.status = UserStatus.DISABLED
    db.session.commit()
    assert client.get("/agency/").status_code == 302


@pytest.mark.parametrize("target, expected", [
    ("/admin/audit", "/admin/audit"),
    ("https://evil.example/", "/auth/home"),
    ("//evil.example/", "/auth/home"),
    ("/\\evil.example", "/auth/home"),
    ("javascript:alert(1)", "/auth/home"),
])
def test_next_after_sign_in_stays_on_this_site(client, make_user, post, target, expected):
    user = make_user(Role.ORGANISER)
    response = post(f"/auth/login?next={target}", {"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == expected


def test_failed_sign_ins_are_limited_per_account_whatever_the_ip(app, client, make_user, post):
    """The 11th try on one account is refused with 429 and Retry-After, even from new IPs;
    another account behind the same IP still signs in."""
    user = make_user(Role.ORGANISER)
    for attempt in range(10):
        response = client.post("/auth/login", data={
            "email": user.email, "password": f"wrong {attempt}",
            "csrf_token": csrf_token(client)}, environ_base={"REMOTE_ADDR": f"10.0.0.{attempt}"})
        assert response.status_code == 200
    refused = client.post("/auth/login", data={
        "email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client)},
        environ_base={"REMOTE_ADDR": "10.0.1.1"})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "登录失败次数过多" in refused.get_data(as_text=True)
    other = make_user(Role.EXPERT)
    assert post("/auth/login", {"email": other.email, "password": PASSWORD}).status_code == 302


def test_a_successful_sign_in_clears_the_failures(client, make_user, post):
    user = make_user(Role.ORGANISER)
    for _ in range(9):
        post("/auth/login", {"email": user.email, "password": "wrong password"})
    assert post("/auth/login", {"email": user.email, "password": PASSWORD}).status_code == 302
    post("/auth/logout", {})
    for _ in range(9):
        assert post("/auth/login", {"email": user.email, "password": "wrong"}).status_code == 200


def test_sign_in_attempts_are_limited_per_ip_and_a_forged_forwarded_for_gains_nothing(
        make_app, make_user):
    app = make_app(LOGIN_LIMIT_PER_IP="5/minute", LOGIN_FAILURES_PER_ACCOUNT="100/hour")
    with app.app_context():
        client = app.test_client()
        codes = []
        for attempt in range(8):
            codes.append(client.post("/auth/login", data={
                "email": f"user{attempt}@example.test", "password": "wrong password",
                "csrf_token": csrf_token(client)},
                headers={"X-Forwarded-For": f"203.0.113.{attempt}"}).status_code)
        assert codes == [200] * 5 + [429] * 3


def test_registration_creates_a_pending_agency_that_an_organiser_approves(
        app, client, make_user, login, post, caplog):
    response = post("/auth/register", {
        "agency_name": "海珠阳光社工服务中心", "contact_name": "王芳", "contact_phone": "020-1234 5678",
        "email": "Wang@Example.com", "password": "a good password", "confirm": "a good password"})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "wang@example.com"))
    assert (user.role, user.status, user.agency.name) == (Role.AGENCY, UserStatus.PENDING,
                                                           "海珠阳光社工服务中心")
    assert post("/auth/login", {"email": user.email, "password": "a good password"}
                ).status_code == 200  # waiting for approval

    organiser = make_user(Role.ORGANISER)
    login(organiser)
    assert "海珠阳光社工服务中心" in client.get("/admin/accounts?status=pending").get_data(as_text=True)
    with caplog.at_level("INFO", logger="app.mail"):
        assert post(f"/admin/accounts/{user.id}/approve", {}).status_code == 302
    assert "您的机构账号已通过审核" in caplog.text
    db.session.refresh(user)
    assert user.status == UserStatus.ACTIVE
    audit = db.session.scalars(select(AuditLog).where(
        AuditLog.action == "user_account.update", AuditLog.object_id == str(user.id))).all()
    assert any(row.after.get("status") == "active" and row.actor_label == organiser.email
               for row in audit)


@pytest.mark.parametrize("field, value, message", [
    ("email", "not-an-email", "电子邮箱地址无效"),
    ("password", "short", "请使用 10 至 128 个字符"),
    ("password", "1234567890", "纯数字密码"),
    ("confirm", "something else", "两次输入的密码不一致"),
    ("agency_name", "", "请填写机构全称"),
    ("contact_phone", "<script>", "只能使用数字"),
])
def test_registration_rejects_bad_fields_with_a_clear_message(client, post, field, value, message):
    data = {"agency_name": "某机构", "contact_name": "联系人", "contact_phone": "",
            "email": "x@example.test", "password": "a good password", "confirm": "a good password"}
    data[field] = value
    if field == "password":
        data["confirm"] = value
    response = post("/auth/register", data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "x@example.test")) is None


def test_registering_a_taken_email_answers_as_usual_and_tells_the_owner(client, make_user, post,
                                                                         caplog):
    """No enumeration: the form answers the same for a taken email; its owner gets a mail."""
    existing = make_user(Role.AGENCY, email="taken@example.com")
    data = {"agency_name": "全新机构", "contact_name": "联系人", "email": existing.email,
            "password": "a good password", "confirm": "a good password"}
    fresh = dict(data, email="fresh@example.com", agency_name="另一家机构")
    with caplog.at_level("INFO", logger="app.mail"):
        taken = post("/auth/register", data, follow_redirects=True)
    assert "有人用您的邮箱" in caplog.text or "Someone tried to register" in caplog.text
    caplog.clear()
    new = post("/auth/register", fresh, follow_redirects=True)
    assert taken.status_code == new.status_code == 200
    assert "感谢" in taken.get_data(as_text=True) and "感谢" in new.get_data(as_text=True)
    assert db.session.scalar(select(Agency).where(Agency.name == "全新机构")) is None
    assert db.session.scalar(select(User).where(User.email == "fresh@example.com")) is not None


def test_registering_a_taken_agency_name_is_refused(client, make_user, post):
    existing = make_user(Role.AGENCY, email="taken@example.com")
    data = {"agency_name": existing.agency.name, "contact_name": "联系人",
            "email": "new@example.com", "password": "a good password",
            "confirm": "a good password"}
    assert "该机构名称已注册" in post("/auth/register", data).get_data(as_text=True)


def test_password_reset_by_mail_link_works_once(app, client, make_user, post, caplog):
    user = make_user(Role.EXPERT)
    with caplog.at_level("INFO", logger="app.mail"):
        response = post("/auth/reset", {"email": user.email})
    assert response.status_code == 302
    link = re.search(r"http://127\.0\.0\.1:5000(/auth/reset/\S+)", caplog.text).group(1)
    response = post(link, {"password": "brand new password", "confirm": "brand new password"})
    assert response.status_code == 302
    assert post("/auth/login", {"email": user.email, "password": "brand new password"}
                ).status_code == 302
    again = client.get(link)
    assert again.status_code == 302 and again.headers["Location"] == "/auth/reset"


def test_password_reset_answers_the_same_for_unknown_emails(client, post, caplog):
    with caplog.at_level("INFO", logger="app.mail"):
        response = post("/auth/reset", {"email": "nobody@example.test"}, follow_redirects=True)
    assert "如果该邮箱已注册" in response.get_data(as_text=True)
    assert "nobody@example.test" not in caplog.text


def test_a_forged_reset_token_is_refused(client):
    response = client.get("/auth/reset/not-a-token")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/reset"
