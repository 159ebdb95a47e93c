"""One-time codes: mainland mobiles only, 5 minutes, 5 tries, a resend a minute, daily caps,
and the phone number never stored in clear."""
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.database import utcnow
from app.extensions import db
from voting import services
from voting.models import VerificationCode, Voter
from voting.phones import mask, normalise_mobile

from .conftest import last_code


@pytest.mark.parametrize("raw, expected", [
    ("13812345678", "+8613812345678"),
    ("138 1234 5678", "+8613812345678"),
    ("+86 138-1234-5678", "+8613812345678"),
    ("8613812345678", "+8613812345678"),
])
def test_mainland_mobiles_are_normalised(raw, expected):
    assert normalise_mobile(raw) == expected


@pytest.mark.parametrize("raw", ["020-8000 1001", "1381234567", "+1 415 555 0100", "hello", "",
                                 "12345678901"])
def test_other_numbers_are_refused_with_a_message(app, raw):
    with pytest.raises(services.BadPhone, match="11位"):
        services.request_code(raw, "1.2.3.4", utcnow())


def test_numbers_are_shown_masked():
    assert mask("+8613812345678") == "138****5678"


def test_a_code_works_once(app):
    now = utcnow()
    services.request_code("13812345678", "1.2.3.4", now)
    code = last_code(app)["code"]
    voter, phone = services.verify_code("13812345678", code, now + timedelta(seconds=10))
    assert phone == "+8613812345678" and voter.id
    with pytest.raises(services.WrongCode):
        services.verify_code("13812345678", code, now + timedelta(seconds=20))


def test_a_code_expires_after_five_minutes(app):
    now = utcnow()
    services.request_code("13812345678", "1.2.3.4", now)
    code = last_code(app)["code"]
    with pytest.raises(services.WrongCode, match="已过期"):
        services.verify_code("13812345678", code, now + timedelta(seconds=301))


def test_five_wrong_tries_lock_the_code(app):
    now = utcnow()
    services.request_code("13812345678", "1.2.3.4", now)
    code = last_code(app)["code"]
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        with pytest.raises(services.WrongCode, match=f"还可以再试 {left} 次"):
            services.verify_code("13812345678", wrong, now)
    with pytest.raises(services.WrongCode, match="错误次数过多"):
        services.verify_code("13812345678", wrong, now)
    with pytest.raises(services.WrongCode, match="错误次数过多"):
        services.verify_code("13812345678", code, now)  # even the right one now


def test_one_resend_a_minute(app):
    now = utcnow()
    services.request_code("13812345678", "1.2.3.4", now)
    with pytest.raises(services.TooSoon) as refused:
        services.request_code("13812345678", "1.2.3.4", now + timedelta(seconds=30))
    assert refused.value.details["retry_after"] == 31
    services.request_code("13812345678", "1.2.3.4", now + timedelta(seconds=61))


def test_daily_caps_per_phone_and_per_ip(app):
    now = utcnow()
    for i in range(5):
        services.request_code("13812345678", f"10.0.0.{i}", now + timedelta(minutes=2 * i))
    with pytest.raises(services.TooManyCodes):
        services.request_code("13812345678", "10.0.0.9", now + timedelta(minutes=20))
    for i in range(10):
        services.request_code(f"1390000000{i}", "10.9.9.9", now)
    with pytest.raises(services.TooManyCodes):
        services.request_code("13700000000", "10.9.9.9", now)
    # a day later the phone may ask again
    services.request_code("13812345678", "10.0.0.1", now + timedelta(days=1, minutes=21))


def test_the_phone_number_and_code_are_never_stored_in_clear(app):
    now = utcnow()
    services.request_code("13812345678", "1.2.3.4", now)
    code = last_code(app)["code"]
    services.verify_code("13812345678", code, now)
    db.session.commit()
    voter = db.session.scalar(select(Voter))
    stored = db.session.scalar(select(VerificationCode))
    assert len(voter.phone_hmac) == 64 and "13812345678" not in voter.phone_hmac
    assert code not in stored.code_hmac
    db.session.remove()
    db.engine.dispose()
    raw = b"".join(p.read_bytes() for p in Path(app.instance_path).glob("platform.db*"))
    assert b"13812345678" not in raw and b"+8613812345678" not in raw


def test_the_console_sender_shows_the_code_on_the_terminal_never_in_the_log(make_app, caplog,
                                                                           capsys):
    app = make_app(CODE_SENDER="console")
    with app.app_context(), caplog.at_level("DEBUG"):
        services.request_code("13812345678", "1.2.3.4", utcnow())
    shown = capsys.readouterr().err
    code = re.search(r"138\*\*\*\*5678: (\d{6})", shown).group(1)
    assert "138****5678" in caplog.text and "13812345678" not in caplog.text + shown
    assert code not in caplog.text


def test_the_page_flow_shows_masked_numbers_and_counts_wrong_tries(app, voted):
    from ..conftest import csrf_token

    client = app.test_client()
    page = client.post("/vote/verify", data={"phone": "13812345678",
                                             "csrf_token": csrf_token(client, "/vote/verify")})
    assert "138****5678" in page.get_data(as_text=True)
    code = last_code(app)["code"]
    wrong_code = f"{(int(code) + 1) % 1_000_000:06d}"
    wrong = client.post("/vote/confirm", data={"phone": "+8613812345678", "code": wrong_code,
                                               "csrf_token": csrf_token(client, "/vote/verify")})
    assert wrong.status_code == 422 and "还可以再试 4 次" in wrong.get_data(as_text=True)
    assert db.session.scalar(select(VerificationCode.attempts)) == 1
