"""Voting use cases: one-time codes, casting a vote within the quotas, tallies.

Every rule that must hold under concurrent requests is enforced by the database: the vote's
unique constraint, the quota's conditional UPDATE, the tally's increment, the code's attempt
counter. The caller commits (or rolls back) once; the API's lean vote on PostgreSQL is one
statement in autocommit, its own transaction (``vote_transaction``).
"""
import logging
import secrets
from collections import defaultdict
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from psycopg.pq import TransactionStatus
from sqlalchemy import (
    and_,
    bindparam,
    delete,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import contains_eager

from app.database import AUTOCOMMIT_BIND, epoch_seconds, is_id
from app.extensions import db
from app.models import Campaign, Category, Kind
from app.paging import ListPage, page_count
from app.security import network_of
from nominations.models import Entry, EntryStatus

from .models import DailyQuota, EntryTally, VerificationCode, Vote, Voter, VoteStatus
from .phones import InvalidPhone, keyed_hash, normalise_mobile
from .senders import SenderBusy, SendError, in_background, send_code

log = logging.getLogger(__name__)


class VotingError(Exception):
    """A refusal with a message for the voter; ``code`` names it for the API."""

    code = "refused"

    def __init__(self, message, **details):
        super().__init__(message)
        self.details = details


class BadPhone(VotingError):
    code = "invalid_phone"


class TooSoon(VotingError):
    code = "too_soon"


class TooManyCodes(VotingError):
    code = "too_many_codes"


class NotSent(VotingError):
    code = "not_sent"


class WrongCode(VotingError):
    code = "wrong_code"


class NotOpen(VotingError):
    code = "not_open"


class AlreadyVoted(VotingError):
    code = "already_voted"


class QuotaUsed(VotingError):
    code = "quota_used"


def _key():
    return current_app.config["VOTER_HMAC_KEY"]


def phone_hmac(e164):
    return keyed_hash(_key(), "phone:" + e164)


def ip_hmac(address):
    return keyed_hash(_key(), "ip:" + (address or ""))


def _mobile(raw_phone):
    try:
        return normalise_mobile(raw_phone)
    except InvalidPhone as error:
        raise BadPhone(_("Please enter a mainland China mobile number (11 digits).")) from error


class CodeRequest(NamedTuple):
    phone: str  #: E.164
    #: The gateway did not answer in time: the code may still arrive, or may not.
    delayed: bool = False


def request_code(raw_phone, ip, now):
    """Send a new code to a mainland mobile number, within the resend and daily caps.

    The code is stored and committed before it is handed to the sender: an SMS gateway may take
    seconds to answer, and no write of the site may wait on it (every write but the vote holds
    the one write lock until it commits). A sender thread hands it over (``in_background``);
    the request waits for the gateway's answer at most CODE_SENDER_WAIT seconds.

    A code the gateway refused is deleted again, so that it spends neither cap, and NotSent is
    raised if the request is still waiting. One the gateway has not answered for by then, or
    not within CODE_SENDER_TIMEOUT, is kept (it may be on its way), and the request says
    ``delayed``: the voter may enter it when it comes, or ask again once the resend wait is over
    (at once, if the gateway refuses it later)."""
    phone, code, code_id = _store_code(raw_phone, ip, now)
    db.session.commit()
    try:
        sending = in_background(current_app._get_current_object(), _send_and_settle, phone, code,
                                code_id)
    except SenderBusy as error:
        _forget_code(code_id)
        log.warning("code not sent: %s", error)
        raise NotSent(_("Too many text messages are on their way. Please try again in a "
                        "minute.")) from error
    try:
        sending.result(timeout=current_app.config["CODE_SENDER_WAIT"])
    except FutureTimeout:
        log.warning("the SMS gateway has not answered yet: the voter is told the code may come "
                    "later")
        return CodeRequest(phone, delayed=True)
    except SendError as error:  # logged by the sender thread
        if error.maybe_sent:
            return CodeRequest(phone, delayed=True)
        raise NotSent(_("The SMS could not be sent. Please try again in a minute.")) from error
    return CodeRequest(phone)


def _send_and_settle(phone, code, code_id):
    """In a sender thread: hand the code to the sender; a code it refused is deleted."""
    try:
        send_code(phone, code)
    except SendError as error:
        if not error.maybe_sent:
            _forget_code(code_id)
        log.warning("code %s: %s", "may still arrive" if error.maybe_sent
                    else "refused by the sender, deleted", error)
        raise


def _forget_code(code_id):
    db.session.execute(delete(VerificationCode).where(VerificationCode.id == code_id))
    db.session.commit()


def _store_code(raw_phone, ip, now):
    """(E.164 phone, new code, its record's id) once the caps allow another code."""
    config = current_app.config
    phone = _mobile(raw_phone)
    phone_key, ip_key = phone_hmac(phone), ip_hmac(ip)
    day_ago = now - timedelta(days=1)
    last = db.session.scalar(select(func.max(VerificationCode.created_at)).where(
        VerificationCode.phone_hmac == phone_key))
    if last is not None and (now - last).total_seconds() < config["CODE_RESEND_SECONDS"]:
        wait = int(config["CODE_RESEND_SECONDS"] - (now - last).total_seconds()) + 1
        raise TooSoon(_("A code was just sent. You can ask again in %(seconds)d seconds.",
                        seconds=wait), retry_after=wait)
    sent_to_phone = db.session.scalar(select(func.count()).where(
        VerificationCode.phone_hmac == phone_key, VerificationCode.created_at > day_ago))
    sent_from_ip = db.session.scalar(select(func.count()).where(
        VerificationCode.ip_hmac == ip_key, VerificationCode.created_at > day_ago))
    if sent_to_phone >= config["CODES_PER_PHONE_PER_DAY"] or (
            sent_from_ip >= config["CODES_PER_IP_PER_DAY"]):
        raise TooManyCodes(_("Too many codes today. Please try again tomorrow."))
    code = f"{secrets.randbelow(1_000_000):06d}"
    record = VerificationCode(
        phone_hmac=phone_key, code_hmac=keyed_hash(_key(), "code:" + code), ip_hmac=ip_key,
        created_at=now, expires_at=now + timedelta(seconds=config["CODE_TTL_SECONDS"]))
    db.session.add(record)
    db.session.flush()
    return phone, code, record.id


def verify_code(raw_phone, code, now):
    """The voter for this phone if ``code`` is its latest live code; else WrongCode."""
    phone = _mobile(raw_phone)
    phone_key = phone_hmac(phone)
    latest = db.session.scalar(
        select(VerificationCode).where(VerificationCode.phone_hmac == phone_key)
        .order_by(VerificationCode.created_at.desc(), VerificationCode.id.desc()).limit(1))
    maximum = current_app.config["CODE_MAX_ATTEMPTS"]
    if latest is None or latest.used_at is not None or latest.expires_at <= now:
        raise WrongCode(_("This code has expired or was used. Please ask for a new one."))
    # Count the try first, atomically: parallel guesses cannot get more than the maximum.
    counted = db.session.execute(
        update(VerificationCode).where(VerificationCode.id == latest.id,
                                       VerificationCode.attempts < maximum)
        .values(attempts=VerificationCode.attempts + 1)).rowcount
    if not counted:
        raise WrongCode(_("Too many wrong codes. Please ask for a new one."))
    expected = keyed_hash(_key(), "code:" + str(code or "").strip())
    if not secrets.compare_digest(expected, latest.code_hmac):
        db.session.refresh(latest)
        left = maximum - latest.attempts
        raise WrongCode(_("The code is wrong. %(left)d tries left.", left=left) if left
                        else _("Too many wrong codes. Please ask for a new one."))
    latest.used_at = now
    voter = db.session.scalar(select(Voter).where(Voter.phone_hmac == phone_key))
    if voter is None:
        voter = Voter(phone_hmac=phone_key, first_seen=now, last_seen=now)
        db.session.add(voter)
    voter.last_seen = now
    db.session.flush()
    return voter, phone


def _insert(table):
    """INSERT with the ON CONFLICT clauses of the bound database (PostgreSQL or SQLite)."""
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table)


@dataclass(frozen=True)
class Receipt:
    vote_id: int
    entry_number: str
    cast_at: object
    vote_day: object
    votes_left: int


def vote_day(now, timezone):
    """The day a vote cast at ``now`` counts for: the date in the campaign's time zone."""
    return now.astimezone(ZoneInfo(timezone)).date()


def day_bounds(day, timezone):
    """(start, end) of ``day`` in ``timezone``, in UTC: the votes cast that day are those from
    its start until before its end."""
    tz = ZoneInfo(timezone)
    return tuple(datetime.combine(one, time(), tz).astimezone(UTC)
                 for one in (day, day + timedelta(days=1)))


@dataclass(frozen=True)
class _VoteStatements:
    target: object  # the entry, its category and campaign: what the checks read
    writes: tuple = ()  # SQLite: count in the quota, record the vote, add to the tally
    together: object = None  # PostgreSQL: the checks and the three writes in one statement


@cache
def _vote_statements(dialect):
    """The statements of the vote path, built once per database dialect: Core statements on the
    tables with bound parameters, so that a vote neither builds SQL nor loads ORM objects."""
    module = postgresql if dialect == "postgresql" else sqlite
    entry, own, campaign = Entry.__table__, Category.__table__, Campaign.__table__
    quota, vote, tally = DailyQuota.__table__, Vote.__table__, EntryTally.__table__
    target = (select(entry.c.number, entry.c.status, own.c.id.label("category_id"), own.c.kind,
                     own.c.public_weight, own.c.votes_per_day, own.c.voting_opens,
                     own.c.voting_closes, campaign.c.is_public,
                     campaign.c.voting_opens.label("campaign_opens"),
                     campaign.c.voting_closes.label("campaign_closes"), campaign.c.timezone)
              .join(own, entry.c.category_id == own.c.id)
              .join(campaign, own.c.campaign_id == campaign.c.id)
              .where(entry.c.id == bindparam("entry_id")))
    if dialect != "postgresql":
        unique_vote = [vote.c.voter_id, vote.c.entry_id, vote.c.vote_day]
        # One statement counts the vote against the day's quota, only below the limit.
        count = module.insert(quota).values(used=1).on_conflict_do_update(
            index_elements=[quota.c.voter_id, quota.c.category_id, quota.c.vote_day],
            set_={"used": quota.c.used + 1}, where=quota.c.used < bindparam("limit")
        ).returning(quota.c.used)
        record = module.insert(vote).on_conflict_do_nothing(
            index_elements=unique_vote).returning(vote.c.id)
        add = module.insert(tally).values(valid_votes=1).on_conflict_do_update(
            index_elements=[tally.c.entry_id], set_={"valid_votes": tally.c.valid_votes + 1})
        return _VoteStatements(target, writes=(count, record, add))
    return _VoteStatements(target, together=_together(module, entry, own, campaign, quota, vote,
                                                      tally))


def _together(module, entry, own, campaign, quota, vote, tally):
    """PostgreSQL: the vote as one statement (data-modifying CTEs, one round trip). ``open``
    finds the entry only if it takes votes now (every check of ``_cast``) in a campaign of the
    given time zone, whose day the caller gives; the quota counts the vote only below the
    category's limit, the vote is inserted only if counted, the tally added to with it. It answers
    (number, limit, quota used, vote id, tally); number is NULL when the entry was not found open,
    and then nothing was written. A second vote for the entry that day fails on the vote's unique
    constraint, and the statement with it, quota count included: so the statement is safe on its
    own, in autocommit (one round trip for the whole vote, ``vote_transaction``)."""
    now = bindparam("created_at", type_=vote.c.created_at.type)
    constant = literal_column  # enum values written into the SQL, not sent as parameters
    opened = (select(entry.c.number, own.c.id.label("category_id"), own.c.votes_per_day)
              .join(own, entry.c.category_id == own.c.id)
              .join(campaign, own.c.campaign_id == campaign.c.id)
              .where(entry.c.id == bindparam("entry_id"),
                     entry.c.status == constant(f"'{EntryStatus.APPROVED.value}'"),
                     own.c.kind != constant(f"'{Kind.REPORT.value}'"), own.c.public_weight > 0,
                     campaign.c.is_public.is_(True),
                     func.coalesce(own.c.voting_opens, campaign.c.voting_opens) <= now,
                     now < func.coalesce(own.c.voting_closes, campaign.c.voting_closes),
                     campaign.c.timezone == bindparam("timezone", type_=campaign.c.timezone.type))
              .cte("open"))
    day = bindparam("vote_day", type_=vote.c.vote_day.type)
    counted = module.insert(quota).from_select(
        [quota.c.voter_id, quota.c.category_id, quota.c.vote_day, quota.c.used],
        select(bindparam("voter_id", type_=quota.c.voter_id.type), opened.c.category_id, day,
               literal(1)))
    counted = counted.on_conflict_do_update(
        index_elements=[quota.c.voter_id, quota.c.category_id, quota.c.vote_day],
        set_={"used": quota.c.used + 1},
        where=quota.c.used < select(opened.c.votes_per_day).scalar_subquery()
    ).returning(quota.c.used).cte("counted")
    columns = [vote.c[name] for name in VOTE_COLUMNS]
    recorded = module.insert(vote).from_select(columns, select(
        *[opened.c.category_id if column.name == "category_id"
          else bindparam(column.name, type_=column.type) for column in columns]
    ).select_from(counted))
    recorded = recorded.returning(vote.c.id).cte("recorded")
    added = module.insert(tally).from_select(
        [tally.c.entry_id, tally.c.category_id, tally.c.valid_votes],
        select(bindparam("entry_id", type_=tally.c.entry_id.type), opened.c.category_id,
               literal(1)).select_from(recorded))
    added = added.on_conflict_do_update(
        index_elements=[tally.c.entry_id], set_={"valid_votes": tally.c.valid_votes + 1}
    ).returning(tally.c.valid_votes).cte("added")
    # Each CTE must be named by the final SELECT to be written out (PostgreSQL runs each once).
    return select(*[select(column).scalar_subquery() for column in (
        opened.c.number, opened.c.votes_per_day, counted.c.used, recorded.c.id,
        added.c.valid_votes)])


#: The constraint that keeps one vote per voter, entry and day (its name from app/extensions.py).
UNIQUE_VOTE = "uq_vote_voter_id_entry_id_vote_day"

#: The columns of a vote's row, every one given (no column default applies at the driver level).
VOTE_COLUMNS = ("voter_id", "entry_id", "category_id", "vote_day", "created_at", "status",
                "void_reason", "net_hmac", "agent_hmac")


def cast_vote(voter_id, entry_id, now, ip="", user_agent="", cursor=None):
    """Record a vote, or refuse it with the reason. Quota, uniqueness and tally hold together.

    The hot path, handed to the database driver, no ORM object: on PostgreSQL one statement
    (the checks and the three writes), on SQLite one read and three writes. ``cursor`` is a
    driver cursor in a write transaction of the caller's (``vote_transaction``, the API's lean
    path); without it the session's connection is used and the caller commits, or rolls back on a
    refusal (a refused vote leaves nothing, not even its quota count).
    """
    if cursor is None:
        connection = db.session.connection()
        cursor = connection.connection.cursor()
        try:
            return _cast(cursor, connection.dialect, voter_id, entry_id, now, ip, user_agent)
        finally:
            cursor.close()
    return _cast(cursor, db.engine.dialect, voter_id, entry_id, now, ip, user_agent)


def _cast(cursor, dialect, voter_id, entry_id, now, ip, user_agent):
    statements = _vote_statements(dialect.name)
    run = _DriverStatements.of(dialect)
    if not is_id(entry_id):
        raise NotOpen(_("This entry cannot receive votes."))
    row = {"voter_id": voter_id, "entry_id": entry_id, "created_at": run.moment(now),
           "status": VoteStatus.VALID.value, "void_reason": "",
           "net_hmac": ip_hmac(network_of(ip)) if ip else None,
           "agent_hmac": keyed_hash(_key(), "ua:" + user_agent) if user_agent else None}
    if statements.together is not None:
        # Nearly every vote is for an open entry of a campaign in the site's time zone: tried
        # first as one statement. Any other (closed, another time zone...) is read and checked
        # below, to be refused with its reason or recorded in its campaign's day.
        receipt = _cast_together(cursor, run, statements.together, row, now,
                                 current_app.config["BABEL_DEFAULT_TIMEZONE"])
        if receipt is not None:
            return receipt
    target = run(cursor, statements.target, entry_id=entry_id)
    if target is None:
        raise NotOpen(_("This entry cannot receive votes."))
    (number, status, category_id, kind, public_weight, limit, category_opens, category_closes,
     is_public, campaign_opens, campaign_closes, timezone) = target
    if status != EntryStatus.APPROVED:
        raise NotOpen(_("This entry cannot receive votes."))
    if kind == Kind.REPORT or not public_weight > 0 or not is_public:
        raise NotOpen(_("This category has no public vote."))
    # The category's own window, else the campaign's (as Category.window).
    opens = run.read_moment(category_opens or campaign_opens)
    closes = run.read_moment(category_closes or campaign_closes)
    if opens is None or closes is None or not opens <= now < closes:
        raise NotOpen(_("Voting is not open now."))
    if statements.together is not None:
        receipt = _cast_together(cursor, run, statements.together, row, now, timezone)
        if receipt is None:  # closed or withdrawn since the read above
            raise NotOpen(_("This entry cannot receive votes."))
        return receipt
    day = vote_day(now, timezone)
    row.update(category_id=category_id, vote_day=run.day(day))
    count_sql, record_sql, add_sql = statements.writes
    used = run(cursor, count_sql, voter_id=voter_id, category_id=category_id,
               vote_day=row["vote_day"], limit=limit)
    vote_id = run(cursor, record_sql, **row) if used is not None else None
    if vote_id is not None:
        run(cursor, add_sql, entry_id=entry_id, category_id=category_id)
    return _receipt(number, limit, used and used[0], vote_id and vote_id[0], now, day)


def _cast_together(cursor, run, statement, row, now, timezone):
    """The vote as one statement (PostgreSQL), for an entry in a campaign of ``timezone``: its
    receipt, a refusal, or None if the entry was not found open in such a campaign."""
    day = vote_day(now, timezone)
    try:
        number, limit, used, vote_id, _votes = run(cursor, statement, **row, vote_day=day,
                                                   timezone=timezone)
    except run.dialect.loaded_dbapi.IntegrityError as error:
        if getattr(error.diag, "constraint_name", None) != UNIQUE_VOTE:
            raise
        raise _already_voted() from None
    if number is None:
        return None
    return _receipt(number, limit, used, vote_id, now, day)


def _receipt(number, limit, used, vote_id, now, day):
    if used is None:
        raise QuotaUsed(_("You have used your %(limit)d votes in this category today. "
                          "Come back tomorrow.", limit=limit))
    if vote_id is None:  # SQLite's insert did nothing (PostgreSQL's statement failed instead)
        raise _already_voted()
    return Receipt(vote_id, number, now, day, limit - used)


def _already_voted():
    return AlreadyVoted(_("You have already voted for this entry today."))


@contextmanager
def vote_transaction():
    """A driver cursor for the vote's statements outside the ORM session: the API's lean vote,
    which never opens the session (whose set-up and bookkeeping cost more than the statements).

    On PostgreSQL the cursor is on the autocommit engine (``app.database.AUTOCOMMIT_BIND``): the
    vote is one statement that stands alone (``_together``), so it is its own transaction,
    committed durably by the server in the same round trip, and a failing statement leaves
    nothing. BEGIN and COMMIT would be two more round trips. It takes no advisory lock: the
    statement is safe under concurrent writers. A vote is in once its statement has run.
    On SQLite the block is one transaction, begun IMMEDIATE as every write here (app/database.py),
    committed when the block ends and rolled back if it raises.
    Either way a connection the driver reports broken is dropped from its pool, as SQLAlchemy's
    own connections are."""
    engine = db.engines.get(AUTOCOMMIT_BIND)
    if engine is not None:
        with _autocommit_cursor(engine) as cursor:
            yield cursor
        return
    engine = db.engine
    raw = engine.raw_connection()
    cursor = raw.cursor()
    try:
        cursor.execute("BEGIN IMMEDIATE")
        yield cursor
        raw.commit()
    except engine.dialect.loaded_dbapi.Error as error:
        _drop_if_broken(engine, raw, cursor, error)
        raise
    except BaseException:
        raw.rollback()
        raise
    finally:
        with suppress(engine.dialect.loaded_dbapi.Error):  # dropped above: nothing to close
            cursor.close()
        raw.close()


@contextmanager
def _autocommit_cursor(engine):
    """A cursor of a connection of the autocommit engine, kept with its connection from one vote
    to the next (``info`` lives as long as the driver's connection): a new psycopg cursor looks
    up its adapters again, about 20 us of a vote's CPU in one process."""
    raw = engine.raw_connection()
    cursor = None
    try:
        cursor = raw.info.get("vote_cursor")
        if cursor is None or cursor.closed:
            cursor = raw.info["vote_cursor"] = raw.dbapi_connection.cursor()
        yield cursor
    except engine.dialect.loaded_dbapi.Error as error:
        _drop_if_broken(engine, raw, cursor, error)
        raise
    finally:
        # Nothing is given back in the middle of a statement or closed (a timeout, a restart):
        # the pool does not reset these connections on return.
        if raw.is_valid and raw.dbapi_connection.info.transaction_status != TransactionStatus.IDLE:
            raw.invalidate()
        raw.close()


def _drop_if_broken(engine, raw, cursor, error):
    if engine.dialect.is_disconnect(error, raw.dbapi_connection, cursor):
        raw.invalidate(error)
    elif raw.is_valid:
        raw.rollback()


class _DriverStatements:
    """The vote's statements handed to the database driver as compiled once, skipping
    SQLAlchemy's per-execution work (a quarter of a vote's time). Values are given and read as the
    columns store them: naive UTC times, and on SQLite the text SQLAlchemy's SQLite types write.
    Column defaults are not applied here: every column of an INSERT is given by the caller."""

    _made = {}

    def __init__(self, dialect):
        self.dialect = dialect
        self.sqlite = dialect.name == "sqlite"
        self.compiled = {}

    @classmethod
    def of(cls, dialect):
        if dialect.name not in cls._made:
            cls._made[dialect.name] = cls(dialect)
        return cls._made[dialect.name]

    def day(self, value):
        return value.isoformat() if self.sqlite else value

    def moment(self, value):
        naive = value.astimezone(UTC).replace(tzinfo=None)
        return naive.isoformat(" ", "microseconds") if self.sqlite else naive

    @staticmethod
    def read_moment(value):
        """An aware UTC datetime from a stored one (text on SQLite), or None."""
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)

    def __call__(self, cursor, statement, **params):
        """The first row the statement returns (all are read, so that the statement is done
        before the next), or None."""
        key = (statement, tuple(params))
        made = self.compiled.get(key)
        if made is None:  # an INSERT's columns are those given: compile with their names
            compiled = statement.compile(dialect=self.dialect, column_keys=list(params))
            # The statement's own values (literal(1)...) are fixed: kept, with the names
            # the driver receives in the order it wants them, so that a call only merges.
            fixed = {name: value for name, value in compiled.construct_params(params).items()
                     if name not in params}
            made = self.compiled[key] = (compiled.string, fixed, compiled.positiontup, bool(
                statement.is_select or compiled.effective_returning))
        sql, fixed, order, returns_rows = made
        values = {**fixed, **params}
        if order:
            values = tuple(values[name] for name in order)
        cursor.execute(sql, values)
        if not returns_rows:
            return None
        rows = cursor.fetchall()
        return rows[0] if rows else None


@dataclass(frozen=True, slots=True)
class ReceiptPage:
    """A vote's receipt page (``receipt_of``)."""

    vote_id: int
    cast_at: datetime
    number: str
    title: str
    campaign_slug: str
    category_key: str
    timezone: str
    votes_left: int
    #: A vote voided since (作废) says so, with the organisers' reason.
    valid: bool = True
    void_reason: str = ""


def receipt_of(vote_id, voter_id, now):
    """What the receipt page of a vote shows (its number, entry, time, and the votes its voter
    has left today in the category); None unless the vote is ``voter_id``'s. One read for a
    campaign in the site's time zone (the day's quota joined for today there), two otherwise."""
    if voter_id is None:
        return None
    site_zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    row = _read_one(_receipt_statement(), {
        "vote_id": vote_id, "voter_id": voter_id, "day": vote_day(now, site_zone)})
    if row is None:
        return None
    used = row.used
    if row.timezone != site_zone:
        quota = _read_one(select(DailyQuota.used).where(
            DailyQuota.voter_id == voter_id, DailyQuota.category_id == row.category_id,
            DailyQuota.vote_day == vote_day(now, row.timezone)), {})
        used = quota.used if quota else None
    return ReceiptPage(row.vote_id, row.created_at, row.number, row.title, row.slug, row.key,
                       row.timezone, max(0, row.votes_per_day - (used or 0)),
                       row.status == VoteStatus.VALID, row.void_reason)


def _read_one(statement, params):
    """The one row (or None) of a read that needs no transaction around it: on PostgreSQL on the
    autocommit engine, one round trip where the session's would also begin and end a
    transaction (three); elsewhere the session's."""
    engine = db.engines.get(AUTOCOMMIT_BIND)
    if engine is None:
        return db.session.execute(statement, params).one_or_none()
    with engine.connect() as connection:
        return connection.execute(statement, params).one_or_none()


@cache
def _receipt_statement():
    """The receipt's read, built once (its parameters bound at each call)."""
    return (select(Vote.id.label("vote_id"), Vote.created_at, Vote.category_id, Vote.status,
                   Vote.void_reason, Entry.number,
                   Entry.title, Category.key, Category.votes_per_day, Campaign.slug,
                   Campaign.timezone, DailyQuota.used)
            .join(Entry, Vote.entry_id == Entry.id)
            .join(Category, Vote.category_id == Category.id)
            .join(Campaign, Category.campaign_id == Campaign.id)
            .outerjoin(DailyQuota, (DailyQuota.voter_id == Vote.voter_id)
                       & (DailyQuota.category_id == Vote.category_id)
                       & (DailyQuota.vote_day == bindparam("day")))
            .where(Vote.id == bindparam("vote_id"), Vote.voter_id == bindparam("voter_id")))


def tallies(category):
    """{entry id: valid votes} from the counters (no count over the vote table)."""
    return dict(db.session.execute(select(EntryTally.entry_id, EntryTally.valid_votes).where(
        EntryTally.category_id == category.id)).all())


@dataclass(frozen=True)
class Standing:
    """A row of a category's public ranking by votes."""

    rank: int
    entry: Entry
    votes: int


@dataclass(frozen=True)
class CastVote:
    """One line of a voter's own votes (``voter_votes``)."""

    vote_id: int
    cast_at: datetime
    valid: bool
    void_reason: str
    number: str
    title: str
    category_name: str
    category_key: str
    campaign_title: str
    campaign_slug: str
    timezone: str


def voter_votes(voter_id, page, per_page):
    """One page of the votes of ``voter_id``, the newest first, as a ``ListPage`` of
    ``CastVote``; None for a page past the last. Two reads: the count, then the page's rows
    with their entries, categories and campaigns (both by the voter's index)."""
    total = db.session.scalar(select(func.count()).select_from(Vote).where(
        Vote.voter_id == voter_id))
    pages = page_count(total, per_page)
    if page < 1 or page > pages:
        return None
    rows = db.session.execute(
        select(Vote.id, Vote.created_at, Vote.status, Vote.void_reason, Entry.number,
               Entry.title, Category.name, Category.key, Campaign.title, Campaign.slug,
               Campaign.timezone)
        .join(Entry, Vote.entry_id == Entry.id).join(Category, Vote.category_id == Category.id)
        .join(Campaign, Category.campaign_id == Campaign.id)
        .where(Vote.voter_id == voter_id).order_by(Vote.id.desc())
        .limit(per_page).offset((page - 1) * per_page)).all()
    votes = [CastVote(row[0], row[1], row[2] == VoteStatus.VALID, *row[3:]) for row in rows]
    return ListPage(votes, page, pages, total)


def ranking_page(category, page, per_page):
    """One page of the category's approved entries by valid votes, most first (then by number),
    each with its competition rank (1, 2, 2, 4: entries with equal votes share a rank), as a
    ``ListPage``; None for a page past the last. Read from the counters: one count, one page of
    rows with their agencies, and, unless the page starts the list, one count of the entries
    ahead of its first row."""
    approved = (Entry.category_id == category.id, Entry.status == EntryStatus.APPROVED)
    total = db.session.scalar(select(func.count()).select_from(Entry).where(*approved))
    pages = page_count(total, per_page)
    if page < 1 or page > pages:
        return None
    votes = func.coalesce(EntryTally.valid_votes, 0)
    rows = db.session.execute(
        select(Entry, votes).join(Entry.agency).outerjoin(EntryTally, EntryTally.entry_id == Entry.id)
        .options(contains_eager(Entry.agency)).where(*approved)
        .order_by(votes.desc(), Entry.number).limit(per_page).offset((page - 1) * per_page)).all()
    standings, offset = [], (page - 1) * per_page
    for index, (entry, count) in enumerate(rows):
        if index and count == standings[-1].votes:
            rank = standings[-1].rank
        elif index or not offset:
            rank = offset + index + 1
        else:  # the first row of a later page may share the rank of rows on the page before
            rank = 1 + db.session.scalar(
                select(func.count()).select_from(Entry)
                .join(EntryTally, EntryTally.entry_id == Entry.id)
                .where(*approved, EntryTally.valid_votes > count))
        standings.append(Standing(rank, entry, count))
    return ListPage(standings, page, pages, total)


def entry_standing(category, entry_id, voter_id, now):
    """What an entry's vote panel shows, from the counters in one read: (votes of the entry,
    entries with more votes, votes the voter has left today in the category, whether the voter
    voted for this entry today); the last two None without a voter."""
    votes = func.coalesce(select(EntryTally.valid_votes).where(
        EntryTally.entry_id == entry_id).scalar_subquery(), 0)
    ahead = select(func.count()).select_from(EntryTally).where(
        EntryTally.category_id == category.id, EntryTally.valid_votes > votes).scalar_subquery()
    columns = [votes, ahead]
    if voter_id is not None:
        day = vote_day(now, category.campaign.timezone)
        columns.append(func.coalesce(select(DailyQuota.used).where(
            DailyQuota.voter_id == voter_id, DailyQuota.category_id == category.id,
            DailyQuota.vote_day == day).scalar_subquery(), 0))
        columns.append(exists().where(Vote.voter_id == voter_id, Vote.entry_id == entry_id,
                                      Vote.vote_day == day))
    row = db.session.execute(select(*columns)).one()
    if voter_id is None:
        return row[0], row[1], None, None
    return row[0], row[1], max(0, category.votes_per_day - row[2]), bool(row[3])


def recount_query(category, day=None):
    """Valid votes per entry from the vote table: read from the covering index ix_vote_recount
    (or ix_vote_recount_day for one day), in entry order, without touching the table."""
    query = select(Vote.entry_id, func.count()).where(
        Vote.category_id == category.id, Vote.status == VoteStatus.VALID)
    if day is not None:
        query = query.where(Vote.vote_day == day)
    return query.group_by(Vote.entry_id)


def recount(category, day=None):
    """{entry id: valid votes} counted from the vote table (the organiser's reconciliation).

    On PostgreSQL the recount is told to read its covering index: where a category holds most of
    the table's votes, the planner's default costs (random reads four times a sequential one, as
    on spinning disks) put a scan of the whole table below the index, and it is twice as slow at
    a million votes (docs/PERFORMANCE.md). The setting is put back for the rest of the
    transaction (the publication reads on); a failing recount ends the transaction anyway."""
    if db.session.get_bind().dialect.name != "postgresql":
        return dict(db.session.execute(recount_query(category, day)).all())
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    counted = dict(db.session.execute(recount_query(category, day)).all())
    db.session.execute(text("SET LOCAL enable_seqscan TO DEFAULT"))
    return counted



def campaign_counts(categories, days):
    """For the organiser's campaign pages, counted at once for ``categories`` (of one campaign
    or many): {category id: valid votes} from the counters, {category id: valid votes of its
    day in ``days``} ({category id: date}, the categories whose vote is open today, each in its
    campaign's time zone) and {category id: voided votes}, both read from the recount's covering
    indexes."""
    ids = [category.id for category in categories]
    valid = dict(db.session.execute(
        select(EntryTally.category_id, func.sum(EntryTally.valid_votes))
        .where(EntryTally.category_id.in_(ids)).group_by(EntryTally.category_id)).all())
    by_day = defaultdict(list)
    for category_id, day in days.items():
        by_day[day].append(category_id)
    of_day = dict(db.session.execute(
        select(Vote.category_id, func.count()).where(
            or_(*(and_(Vote.category_id.in_(day_ids), Vote.vote_day == day)
                  for day, day_ids in by_day.items())),
            Vote.status == VoteStatus.VALID)
        .group_by(Vote.category_id)).all()) if by_day else {}
    voided = dict(db.session.execute(
        select(Vote.category_id, func.count()).where(
            Vote.category_id.in_(ids), Vote.status == VoteStatus.VOIDED)
        .group_by(Vote.category_id)).all())
    return valid, of_day, voided


def reconcile(category, fix=False):
    """Compare the live counters with a recount of the vote table: {entry id: (counter, recount)}
    where they differ. With ``fix``, the counters take the recounted values."""
    counted = recount(category)
    counters = tallies(category)
    differing = {entry: (counters.get(entry, 0), counted.get(entry, 0))
                 for entry in set(counted) | set(counters)
                 if counters.get(entry, 0) != counted.get(entry, 0)}
    if fix:
        for entry, (_counter, value) in differing.items():
            db.session.execute(_insert(EntryTally).values(
                entry_id=entry, category_id=category.id, valid_votes=value).on_conflict_do_update(
                index_elements=[EntryTally.entry_id], set_={"valid_votes": value}))
    return differing


def vote_records(category, since=None, until=None, limit=None, upto=None):
    """The category's valid votes as plain records for the fraud signals: those cast from
    ``since`` until before ``until`` when given, of ids up to ``upto`` when given (the votes a
    look at the monitoring saw), and only the latest ``limit`` of them when given (newest first
    then)."""
    from .fraud import VoteRecord

    query = select(Vote.id, Vote.voter_id, Vote.entry_id, epoch_seconds(Vote.created_at),
                   func.coalesce(Vote.net_hmac, ""), func.coalesce(Vote.agent_hmac, "")).where(
        Vote.category_id == category.id, Vote.status == VoteStatus.VALID)
    if since is not None:
        query = query.where(Vote.created_at >= since)
    if until is not None:
        query = query.where(Vote.created_at < until)
    if upto is not None:
        query = query.where(Vote.id <= upto)
    if limit is not None:
        query = query.order_by(Vote.created_at.desc(), Vote.id.desc()).limit(limit)
    # Through the session's connection, as plain tuples fetched at once, the times as seconds
    # from the database: the ORM's row loading took a third of the time at 100,000 votes, and
    # making an aware datetime of each row a third of the rest.
    return list(map(VoteRecord._make, db.session.connection().execute(query).fetchall()))


def vote_log(category, since=None, until=None):
    """Every vote of ``category`` (cast from ``since`` until before ``until`` when given), in
    the order cast, as rows for the organisers' export: receipt number, voter (the platform's
    number for them: never the phone), entry number, vote day, time cast, status, and for a
    voided vote its reason and when. Streamed from the database 10,000 rows at a time, by a
    generator that needs neither the request nor the session, which a streamed response has
    left behind by the time it reads: the engine's own connection, the time zone in hand."""
    query = (select(Vote.id, Vote.voter_id, Entry.number, Vote.vote_day, Vote.created_at,
                    Vote.status, Vote.void_reason, Vote.voided_at)
             .join(Entry, Vote.entry_id == Entry.id).where(Vote.category_id == category.id)
             .order_by(Vote.id))
    if since is not None:
        query = query.where(Vote.created_at >= since)
    if until is not None:
        query = query.where(Vote.created_at < until)
    tz, engine = category.campaign.tz, db.engine

    def rows():
        with engine.connect() as connection:  # a read: it holds no write lock while it streams
            for vote_id, voter, number, day, at, status, reason, voided_at in (
                    connection.execution_options(yield_per=10_000, read_only=True)
                    .execute(query)):
                yield (vote_id, voter, number, day.isoformat(), _local(at, tz), status.value,
                       reason, _local(voided_at, tz) if voided_at else "")

    return rows()


def _local(moment, tz):
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


class CodeFigures(NamedTuple):
    """The site's codes of the last ``hours``: how many were asked for, how many confirmed."""

    hours: int
    asked: int
    confirmed: int

    #: Asked for at least this often, and confirmed at most this share of the time, is ``low``.
    LOW_ASKED = 20
    LOW_SHARE = 0.3

    @property
    def share(self):
        return self.confirmed / self.asked if self.asked else None

    @property
    def low(self):
        """Few codes confirmed: the gateway may not be delivering (an empty balance, a template
        it no longer takes), or someone has codes sent in bulk (SMS pumping)."""
        return self.asked >= self.LOW_ASKED and self.share < self.LOW_SHARE


def code_figures(now, hours=(1, 24)):
    """[CodeFigures] of the site's codes over each of the last ``hours``, in one statement."""
    columns = []
    for each in hours:
        recent = VerificationCode.created_at >= now - timedelta(hours=each)
        columns += [func.count().filter(recent), func.count(VerificationCode.used_at).filter(recent)]
    row = db.session.execute(select(*columns).where(
        VerificationCode.created_at >= now - timedelta(hours=max(hours)))).one()
    return [CodeFigures(each, row[2 * n], row[2 * n + 1]) for n, each in enumerate(hours)]


def code_records(since):
    from .fraud import CodeRecord

    rows = db.session.execute(select(VerificationCode.ip_hmac, VerificationCode.created_at,
                                     VerificationCode.used_at)
                              .where(VerificationCode.created_at >= since)).all()
    return [CodeRecord(r.ip_hmac, r.created_at.timestamp(), r.used_at is not None) for r in rows]


#: Ids looked up per statement when voiding: a signal can name tens of thousands of votes, and a
#: statement takes at most 65,535 parameters on PostgreSQL (32,766 on most SQLite builds).
VOID_BATCH = 10_000


def void_votes(category, vote_ids, organiser, reason, now, about=None):
    """Void valid votes of ``category`` with a reason: they stay, leave every tally, and carry
    who voided them, when and why. One audit row tells of the whole act: how many votes, of
    which entries, and ``voided_at`` to find them by (``about``: what was voided, a signal's
    name). Ids of no valid vote of the category are passed over. Returns the ids voided.

    Set-based, as a signal can name tens of thousands of votes: one UPDATE per VOID_BATCH ids.
    Only a vote still valid is changed and counted, so a vote voided twice (two organisers, two
    tabs) leaves its tally once; writes are serialised besides (app/database.py)."""
    reason = (reason or "").strip()
    if not reason:
        raise VotingError(_("Please give the reason for voiding."))
    voided, per_entry = _change_status(
        category, vote_ids, VoteStatus.VALID, status=VoteStatus.VOIDED, void_reason=reason,
        voided_by_id=organiser.id, voided_at=now)
    for entry_id, count in per_entry.items():
        db.session.execute(update(EntryTally).where(EntryTally.entry_id == entry_id)
                           .values(valid_votes=EntryTally.valid_votes - count))
    if voided:
        _record_act("vote.void", category, {"status": "valid"}, {
            "status": "voided", "votes": len(voided), "reason": reason, "about": about or "",
            "voided_at": now.isoformat()}, per_entry)
    return voided


def restore_votes(category, vote_ids, organiser, reason, now, about=None):
    """Make voided votes of ``category`` count again, with a reason (a void found wrong: an
    objection upheld, a school's shared network): they lose their void and go back into every
    tally; the audit log keeps both acts, the void and this one. Ids of no voided vote of the
    category are passed over. Returns the ids restored. As ``void_votes``: set-based, and a vote
    restored twice enters its tally once. The voter's daily quota is not touched: the vote used
    it when it was cast, and still holds its place."""
    reason = (reason or "").strip()
    if not reason:
        raise VotingError(_("Please give the reason for restoring."))
    restored, per_entry = _change_status(
        category, vote_ids, VoteStatus.VOIDED, status=VoteStatus.VALID, void_reason="",
        voided_by_id=None, voided_at=None)
    for entry_id, count in per_entry.items():
        db.session.execute(_insert(EntryTally).values(
            entry_id=entry_id, category_id=category.id, valid_votes=count).on_conflict_do_update(
            index_elements=[EntryTally.entry_id],
            set_={"valid_votes": EntryTally.valid_votes + count}))
    if restored:
        _record_act("vote.restore", category, {"status": "voided"}, {
            "status": "valid", "votes": len(restored), "reason": reason, "about": about or "",
            "restored_at": now.isoformat(), "by": organiser.email}, per_entry)
    return restored


def voided_in(category, voided_at):
    """The ids of the votes of ``category`` still voided by the act of ``voided_at`` (read
    through the recount's index: the category's voided votes only)."""
    return list(db.session.scalars(select(Vote.id).where(
        Vote.category_id == category.id, Vote.status == VoteStatus.VOIDED,
        Vote.voided_at == voided_at).order_by(Vote.id)))


def still_voided(category):
    """{voided_at: votes still voided} of ``category``: how much of each void act stands."""
    return dict(db.session.execute(
        select(Vote.voided_at, func.count()).where(
            Vote.category_id == category.id, Vote.status == VoteStatus.VOIDED)
        .group_by(Vote.voided_at)).all())


def _change_status(category, vote_ids, was, **values):
    """Set ``values`` on the votes of ``vote_ids`` that are of ``category`` and still ``was``,
    one UPDATE per VOID_BATCH ids. Returns (the ids changed, sorted; {entry id: votes changed})."""
    wanted = sorted({vote_id for vote_id in vote_ids if is_id(vote_id)})
    per_entry, changed = {}, []
    for start in range(0, len(wanted), VOID_BATCH):
        for vote_id, entry_id in db.session.execute(
                update(Vote).where(Vote.id.in_(wanted[start:start + VOID_BATCH]),
                                   Vote.category_id == category.id, Vote.status == was)
                .values(**values).returning(Vote.id, Vote.entry_id)):
            changed.append(vote_id)
            per_entry[entry_id] = per_entry.get(entry_id, 0) + 1
    return sorted(changed), per_entry


def _record_act(action, category, before, after, per_entry):
    """One audit row for a void or a restore: ``after`` with the votes per entry number, the
    most first."""
    from app.models.audit import record

    numbers = dict(db.session.execute(select(Entry.id, Entry.number).where(
        Entry.id.in_(list(per_entry)))).all())
    record(db.session, action, "category", category.id, before, {
        **after, "entries": {numbers[e]: n for e, n in sorted(
            per_entry.items(), key=lambda item: -item[1])}})


def purge_metadata(campaign, codes_until):
    """Remove hashed networks and user agents of the campaign's votes, and the code log up to
    ``codes_until``; counts, voids and their reasons stay. Returns (votes, codes) touched.
    When it is due is decided above (results.services.voter_data_due: after the final list)."""
    category_ids = [c.id for c in campaign.categories]
    votes = db.session.execute(update(Vote).where(
        Vote.category_id.in_(category_ids),
        (Vote.net_hmac.is_not(None)) | (Vote.agent_hmac.is_not(None)))
        .values(net_hmac=None, agent_hmac=None)).rowcount
    codes = db.session.execute(
        VerificationCode.__table__.delete().where(VerificationCode.created_at <= codes_until)
    ).rowcount
    return votes, codes
