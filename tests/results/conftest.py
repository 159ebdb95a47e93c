"""A social-work category with reviews and votes chosen so that the numbers are easy to check."""
import pytest

from app.database import utcnow
from app.extensions import db
from app.models import Agency, Role
from nominations.models import Entry, EntryStatus
from review.models import Review, ReviewStatus
from voting import services as voting
from voting.models import Voter

from ..conftest import PASSWORD, csrf_token


@pytest.fixture
def contest(app, make_campaign, make_category, make_user):
    """Three social workers; reviews and votes chosen so that the numbers are easy to check."""
    campaign = make_campaign(slug="week")
    category = make_category(campaign, key="workers", kind="social_worker", expert_weight=0.6,
                             public_weight=0.4, votes_per_day=3, winners=1, aggregation="mean")
    agency = Agency(name="机构")
    entries = [Entry(category=category, agency=agency, title=f"社工{i}", number=f"SW-00{i}",
                     status=EntryStatus.APPROVED) for i in (1, 2, 3)]
    db.session.add_all(entries)
    expert = make_user(Role.EXPERT)
    first, second = category.criteria
    # SW-001: 80 (submitted); SW-002: 60 (submitted); SW-003: a draft only -> unreviewed
    for entry, points, status in ((entries[0], (50, 30), ReviewStatus.SUBMITTED),
                                  (entries[1], (40, 20), ReviewStatus.SUBMITTED),
                                  (entries[2], (60, 40), ReviewStatus.DRAFT)):
        db.session.add(Review(entry=entry, expert=expert, status=status,
                              points={str(first.id): points[0], str(second.id): points[1]}))
    db.session.commit()
    with app.test_request_context("/", method="POST"):
        ids = []
        for i in range(4):
            voter = Voter(phone_hmac=f"r-{i:03d}".ljust(64, "x"))
            db.session.add(voter)
            db.session.flush()
            for entry in (entries[1], entries[2]) if i < 2 else (entries[1],):
                ids.append(voting.cast_vote(voter.id, entry.id, utcnow()).vote_id)
        db.session.commit()
        # one of SW-003's two votes is voided: it must not count
        organiser = make_user(Role.ORGANISER)
        sw3 = [v for v in ids if db.session.get(voting.Vote, v).entry_id == entries[2].id]
        voting.void_votes(category, sw3[:1], organiser, "测试", utcnow())
        db.session.commit()
    return category, entries, organiser


@pytest.fixture
def organiser_client(app, contest):
    _category, _entries, organiser = contest
    client = app.test_client()
    client.post("/auth/login", data={"email": organiser.email, "password": PASSWORD,
                                     "csrf_token": csrf_token(client)})
    return client
