"""Random and hostile input in the HTML forms never gives a 500 or a half-written record."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.extensions import db
from app.models import Agency, User
from nominations.models import Entry

from .conftest import VALID

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
ANY = st.one_of(TEXT, st.sampled_from(["", " ", "0", "-1", "9" * 30, "y", "<b>x</b>", "' OR 1=1",
                                       "１２３", "\u200b", "字" * 9000]))
FORMS = settings(max_examples=40, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture,
                                        HealthCheck.too_slow])


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


@FORMS
@given(kind=st.sampled_from(sorted(VALID)), submit=st.booleans(), data=st.data())
def test_the_nomination_forms_take_any_text(app, agency_client, nominate, kind, submit, data):
    app.config.update(LOGIN_LIMIT_PER_IP="100000/minute",  # one sign-in per example
                      LOGIN_LIMIT_PER_NETWORK="100000/minute")
    client, _user = agency_client()
    fields = {name: data.draw(ANY, label=name) for name in VALID[kind]}
    before = _count(Entry)
    response = nominate(client, kind, submit=submit, **fields)
    assert response.status_code < 500
    after = _count(Entry)
    if response.status_code == 302:
        assert after == before + 1
        entry = db.session.scalar(select(Entry).order_by(Entry.id.desc()).limit(1))
        assert entry.title == fields["title"].strip()
    else:
        assert response.status_code in (200, 400, 422) and after == before


@FORMS
@given(values=st.fixed_dictionaries({name: ANY for name in (
    "agency_name", "contact_name", "contact_phone", "email", "password", "confirm")}))
def test_the_registration_form_takes_any_text(app, values):
    from ..conftest import csrf_token

    app.config["ACCOUNT_REQUEST_LIMIT_PER_IP"] = "100000/hour"  # many examples from one address
    client = app.test_client()
    accounts, agencies = _count(User), _count(Agency)
    response = client.post("/auth/register", data={
        **values, "csrf_token": csrf_token(client, "/auth/register")})
    assert response.status_code < 500
    if response.status_code == 302:
        assert (_count(User), _count(Agency)) in ((accounts + 1, agencies + 1),
                                                  (accounts, agencies))  # a taken email: same
    else:
        assert (_count(User), _count(Agency)) == (accounts, agencies)
