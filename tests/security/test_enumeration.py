"""No answer tells whether an account or a voter exists: sign-in, password reset, registration
(tests/app/test_auth.py) and code requests answer alike for known and unknown people."""
import re

from sqlalchemy import select

from app.extensions import db
from app.models import Role
from voting.models import Voter

from ..conftest import csrf_token


def _visible(response):
    """The page without its per-session parts (CSRF token)."""
    return re.sub(r'name="csrf_token"[^>]*', "", response.get_data(as_text=True))


def test_sign_in_answers_alike_for_an_unknown_email_and_a_wrong_password(app, make_user):
    user = make_user(Role.AGENCY)
    answers = []
    for email in (user.email, "nobody-here@example.test"):
        client = app.test_client()
        response = client.post("/auth/login", data={
            "email": email, "password": "not the password", "csrf_token": csrf_token(client)})
        answers.append((response.status_code, _visible(response).replace(email, "EMAIL")))
    assert answers[0] == answers[1]
    assert "电子邮箱或密码不正确" in answers[0][1]


def test_code_requests_answer_alike_for_known_and_new_voters(app, verified_voter):
    verified_voter()  # a voter with the number 13812345678 exists now
    app.config["CODE_RESEND_SECONDS"] = 0  # (the resend wait is per number, known or not)
    assert db.session.scalar(select(Voter)) is not None
    answers = []
    for phone in ("13812345678", "13987654321"):
        client = app.test_client()
        response = client.post("/vote/verify", data={
            "phone": phone, "csrf_token": csrf_token(client, "/vote/verify")},
            environ_base={"REMOTE_ADDR": f"198.51.100.{len(answers) + 20}"})
        masked = f"{phone[:3]}****{phone[-4:]}"
        answers.append((response.status_code, _visible(response).replace(masked, "PHONE")
                        .replace(f"+86{phone}", "E164").replace(phone, "TYPED")))
    import difflib

    assert answers[0] == answers[1], "\n".join(difflib.unified_diff(
        answers[0][1].splitlines(), answers[1][1].splitlines(), lineterm="", n=0))
    client = app.test_client()
    for phone in ("13812345678", "13987654321"):
        api = client.post("/api/v1/codes", json={"phone": phone},
                          environ_base={"REMOTE_ADDR": f"203.0.113.{phone[-1]}"})
        assert api.status_code == 202 and set(api.json) == {"phone", "expires_in", "delayed"}
        assert api.json["delayed"] is False
