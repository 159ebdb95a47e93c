"""Random and hostile input in the expert's score form never gives a 500 or a half-written
review: a stored review always has whole points within each criterion's range."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.extensions import db
from review.models import Review, ReviewStatus

from ..conftest import csrf_token
from .conftest import sign_in

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
POINTS = st.one_of(TEXT, st.integers(-10**12, 10**12).map(str),
                   st.sampled_from(["", " ", "0", "60", "61", "-1", "1e3", "3.5", "１２", "NaN",
                                    "9" * 40, "' OR 1=1"]))


def _state(review_id):
    db.session.rollback()
    review = db.session.get(Review, review_id)
    return review.status, dict(review.points or {}), review.comment


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(points=st.lists(POINTS, min_size=2, max_size=2), comment=TEXT, submit=st.booleans())
def test_the_score_form_takes_any_text(app, setup, panel, points, comment, submit):
    app.config.update(LOGIN_LIMIT_PER_IP="100000/minute",  # one sign-in per example
                      LOGIN_LIMIT_PER_NETWORK="100000/minute")
    expert = setup.experts[1]
    review = db.session.scalars(select(Review).where(Review.expert_id == expert.id)
                                .order_by(Review.id)).first()
    client = sign_in(app, expert)
    url = f"/review/{review.id}"
    before = _state(review.id)
    data = {f"c{c.id}": value for c, value in zip(setup.category.criteria, points, strict=True)}
    data.update({"comment": comment, "csrf_token": csrf_token(client, url),
                 "submit" if submit else "save": "1"})
    response = client.post(url, data=data)
    assert response.status_code < 500
    status, stored, _comment = _state(review.id)
    if response.status_code != 302:
        assert (status, stored, _comment) == before  # refused: nothing written
    for criterion in setup.category.criteria:
        value = stored.get(str(criterion.id))
        assert value is None or (isinstance(value, int) and 0 <= value <= criterion.max_points)
    if status == ReviewStatus.SUBMITTED:
        assert len(stored) == len(setup.category.criteria)
