"""Clients for every role over the demo campaign, and sample values naming their objects."""
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.routing.converters import AnyConverter

from app.database import utcnow
from app.extensions import db
from app.models import Agency, Category, Role
from nominations.models import Entry
from review.models import Review, ReviewStatus
from voting import services as voting
from voting.models import Voter

from ..conftest import PASSWORD, csrf_token


@pytest.fixture
def world(app, demo, make_user, verified_voter):
    """Clients for every role, and sample values naming objects of 'agency', 'expert', 'voter'."""
    entry = db.session.scalar(select(Entry).join(Category).where(
        Entry.number.is_not(None), Category.public_weight > 0).order_by(Entry.id))
    agency_user = make_user(Role.AGENCY, agency=entry.agency)
    other_agency_user = make_user(Role.AGENCY, agency=Agency(name="别的机构"))
    expert, other_expert = make_user(Role.EXPERT), make_user(Role.EXPERT)
    organiser = make_user(Role.ORGANISER)
    review = Review(entry=entry, expert=expert, status=ReviewStatus.DRAFT, points={})
    db.session.add(review)
    db.session.commit()
    voter_client, voter_id = verified_voter()
    with app.test_request_context("/", method="POST"):
        vote_id = voting.cast_vote(voter_id, entry.id, utcnow()).vote_id
        db.session.commit()
    values = {"slug": entry.category.campaign.slug, "key": entry.category.key,
              "number": entry.number, "entry_id": entry.id, "review_id": review.id,
              "expert_id": expert.id, "user_id": other_agency_user.id, "vote_id": vote_id,
              "category_id": entry.category_id, "attachment_id": 1, "objection_id": 1,
              "version": 1, "name": "x.jpg", "filename": "css/site.css", "token": "x",
              "code": "en"}
    clients = {"anonymous": app.test_client(), "voter": voter_client}
    for role, user in (("agency", agency_user), ("other_agency", other_agency_user),
                       ("expert", expert), ("other_expert", other_expert),
                       ("organiser", organiser)):
        client = app.test_client()
        response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD,
                                                    "csrf_token": csrf_token(client)})
        assert response.status_code == 302, role
        clients[role] = client
    return clients, values


@pytest.fixture
def verified_voter(app):
    """A client whose phone is verified (file sender), and its voter id."""
    app.config.update(CODE_SENDER="file")

    def make():
        client = app.test_client()
        client.post("/vote/verify", data={"phone": "13812345678",
                                          "csrf_token": csrf_token(client, "/vote/verify")})
        line = (Path(app.instance_path) / "codes.jsonl").read_text().splitlines()[-1]
        message = json.loads(line)
        client.post("/vote/confirm", data={"phone": message["to"], "code": message["code"],
                                           "csrf_token": csrf_token(client, "/vote/verify")})
        voter_id = db.session.scalar(select(Voter.id).order_by(Voter.id.desc()).limit(1))
        return client, voter_id

    return make


def url_of(rule, values):
    """The rule's URL with ``values`` (an ``any(...)`` argument takes its first choice)."""
    filled = {}
    for arg in rule.arguments:
        converter = rule._converters[arg]
        filled[arg] = (sorted(converter.items)[0] if isinstance(converter, AnyConverter)
                       else values[arg])
    return rule.build(filled)[1]
