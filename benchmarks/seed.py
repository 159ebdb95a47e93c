"""A category as large as the performance goals name: 1,000 entries, 1,000,000 valid votes over
ten days, 5,000 submitted reviews by 25 experts, the tallies kept as the vote path keeps them.

Runs in an app context; bulk inserts in batches through the table objects (fast on SQLite and
PostgreSQL alike).
"""
import random
from datetime import timedelta

from sqlalchemy import insert

DAYS = 10


def seed_votes(category_id, entry_ids, votes, seed=7, batch=50_000, log=print):
    """``votes`` valid votes spread over DAYS days with popular and unpopular entries; voters
    are made as needed, each voting for distinct entries. Returns {entry id: votes}."""
    from app.database import utcnow
    from app.extensions import db
    from voting.models import EntryTally, Vote, Voter, VoteStatus

    rng = random.Random(seed)
    weights = [rng.paretovariate(1.3) for _ in entry_ids]
    now = utcnow()
    start = now - timedelta(days=DAYS - 1)
    per_voter = min(50, len(entry_ids))  # distinct entries each: never more than there are
    voter_count = votes // per_voter + 1
    connection = db.session.connection()
    first = (connection.execute(db.select(db.func.max(Voter.id))).scalar() or 0) + 1
    connection.execute(insert(Voter.__table__), [
        {"id": first + i, "phone_hmac": f"seed-{first + i:09d}-".ljust(64, "x"),
         "first_seen": now, "last_seen": now} for i in range(voter_count)])
    counts = {}
    rows = []
    made = 0
    for i in range(voter_count):
        if made >= votes:
            break
        day = i % DAYS
        at = start + timedelta(days=day, seconds=rng.randrange(86_000))
        chosen = set()
        while len(chosen) < min(per_voter, votes - made):
            chosen.add(rng.choices(entry_ids, weights)[0])
        for entry_id in chosen:
            rows.append({"voter_id": first + i, "entry_id": entry_id, "category_id": category_id,
                         "vote_day": at.date(), "created_at": at,
                         "status": VoteStatus.VALID, "net_hmac": None, "agent_hmac": None})
            counts[entry_id] = counts.get(entry_id, 0) + 1
        made += len(chosen)
        if len(rows) >= batch:
            connection.execute(insert(Vote.__table__), rows)
            rows = []
            log(f"  {made} votes")
    if rows:
        connection.execute(insert(Vote.__table__), rows)
    connection.execute(insert(EntryTally.__table__), [
        {"entry_id": e, "category_id": category_id, "valid_votes": n} for e, n in counts.items()])
    db.session.commit()
    return counts


def seed_reviews(category_id, entry_ids, reviews, experts=25, seed=8):
    """``reviews`` submitted reviews by ``experts`` experts (5 per entry for 1,000 entries)."""
    from app.database import utcnow
    from app.extensions import db
    from app.models import Category, Role, User
    from review.models import Review, ReviewStatus

    rng = random.Random(seed)
    criteria = db.session.get(Category, category_id).criteria
    people = [User(email=f"expert{i}@bench.example", name=f"专家{i}", role=Role.EXPERT,
                   password_hash="!") for i in range(experts)]
    db.session.add_all(people)
    db.session.flush()
    now = utcnow()
    rows = []
    per_entry = max(1, reviews // len(entry_ids))
    for index, entry_id in enumerate(entry_ids):
        for k in range(per_entry):
            expert = people[(index + k) % experts]
            rows.append({"entry_id": entry_id, "expert_id": expert.id,
                         "status": ReviewStatus.SUBMITTED, "submitted_at": now,
                         "points": {str(c.id): rng.randint(c.max_points // 3, c.max_points)
                                    for c in criteria}, "comment": ""})
    db.session.execute(insert(Review.__table__), rows)
    db.session.commit()
    return len(rows)


def seed_city_category(entries, votes, reviews, quota=10):
    """The category the goals name, in the app context: ``entries`` approved stories (expert
    weight 0.6, public 0.4, ``quota`` votes a day), ``votes`` valid votes and ``reviews``
    submitted reviews; on PostgreSQL vacuumed and analysed, as autovacuum keeps the tables of a
    site that took its votes over days (the recount's index-only scans rely on the visibility
    map). Returns (category id, entry ids)."""
    from app.extensions import db
    from app.models import Category

    from .harness import make_load_campaign

    category_id, entry_ids = make_load_campaign(entries, quota)
    category = db.session.get(Category, category_id)
    category.kind, category.expert_weight, category.public_weight = "story", 0.6, 0.4
    db.session.commit()
    seed_votes(category_id, entry_ids, votes, log=lambda _m: None)
    seed_reviews(category_id, entry_ids, reviews)
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql("VACUUM (ANALYZE)")
    return category_id, entry_ids

