"""Organisers' fraud view: the signals, the votes behind them, a chart, voiding with a reason,
and the void acts so far, each of which can be undone (restored) with a reason."""
import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import escape
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, IntegerField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    ValidationError,
)

from app.database import is_id, reading_first, utcnow
from app.extensions import db
from app.forms import own_ids, strip
from app.models import AuditLog, Category, Role
from app.paging import page_of
from app.progress import Figure, section
from app.security import role_required
from nominations.models import Entry
from nominations.tabular import stream_csv

from . import fraud, services
from .views import bp

SIGNAL_NAMES = {
    "regular": _l("Votes at near-constant intervals from one network"),
    "network_burst": _l("Many voters from one network in a short time"),
    "entry_burst": _l("A burst of votes for one entry"),
    "one_entry_voters": _l("Many voters who voted once, for this entry only"),
    "failing_codes": _l("Many codes asked and never confirmed from one address"),
}


DETAIL_NAMES = {
    "votes": _l("votes"),
    "voters": _l("voters"),
    "gap": _l("median gap (seconds)"),
    "share": _l("share of lone voters"),
    "category_share": _l("in the whole category"),
    "codes": _l("codes asked"),
    "failed": _l("never confirmed"),
}

#: Votes listed under each signal (all of them are voided by its button).
VOTES_SHOWN = 50


class VoidForm(FlaskForm):
    """A signal's button. It names the signal and the look that found it, not its votes (a
    signal can hold tens of thousands): the server finds the votes again in the same votes
    (the period, and no vote cast after the look) and voids them only if they are still the
    ones shown (``digest``)."""

    signal = HiddenField(validators=[DataRequired()])  #: "kind:key"
    since = HiddenField(validators=[DataRequired()])  #: the period looked at, ISO 8601 (UTC)
    until = HiddenField()
    upto = HiddenField(validators=[DataRequired()])  #: the latest vote id looked at
    digest = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(_l("Reason for voiding (kept with the votes; their voters see it)"),
                           filters=[strip],
                           validators=[DataRequired(_l("Please give the reason for voiding.")),
                                       Length(max=500)])


class RestoreForm(FlaskForm):
    """A void act's undo: it names the act (its audit row), whose votes still voided count
    again."""

    act = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(_l("Reason for restoring (kept in the audit log)"), filters=[strip],
                           validators=[DataRequired(_l("Please give the reason for restoring.")),
                                       Length(max=500)])


#: The most receipt numbers one submission of the receipts form takes.
MAX_RECEIPTS = 10_000
RECEIPT_SEPARATORS = re.compile(r"[\s,，、;；]+")


def receipt_numbers(text):
    """The receipt numbers of ``text``, one per line or separated by commas (either width), 、
    or semicolons; each a number, at most MAX_RECEIPTS (ValidationError otherwise). The
    receipts form's validator keeps them on its field."""
    tokens = [token for token in RECEIPT_SEPARATORS.split(text or "") if token]
    wrong = [token for token in tokens if not (token.isascii() and token.isdigit())]
    if wrong:
        shown = "、".join(wrong[:5]) + ("…" if len(wrong) > 5 else "")
        raise ValidationError(_("Not a receipt number: %(tokens)s", tokens=shown))
    if len(tokens) > MAX_RECEIPTS:
        raise ValidationError(_("At most %(count)s receipt numbers at a time.",
                                count=f"{MAX_RECEIPTS:,}"))
    return sorted({int(token) for token in tokens})


class ReceiptsForm(FlaskForm):
    """Void or restore votes by their receipt numbers: an objection's bought votes, or votes a
    void caught wrongly, named by the voters or found by the organisers. The button pressed
    sends ``action``: "void" or "restore"."""

    numbers = TextAreaField(_l("Receipt numbers"), filters=[strip], validators=[
        DataRequired(_l("Please give the receipt numbers.")),
        lambda form, field: setattr(field, "receipts", receipt_numbers(field.data))])
    reason = TextAreaField(_l("Reason (kept with the votes; their voters see it)"),
                           filters=[strip],
                           validators=[DataRequired(_l("Please give the reason.")),
                                       Length(max=500)])


#: The void and restore acts the monitoring page lists, the latest first (the others: audit log).
ACTS_SHOWN = 10


@dataclass(frozen=True)
class Act:
    """A void or restore act of a category, from its audit row: for a void, the votes it still
    holds voided now, and the form that restores them."""

    id: int
    kind: str  # "void" or "restore"
    at: datetime
    by: str
    votes: int
    reason: str
    about: str
    still_voided: int = 0
    form: RestoreForm | None = None


def void_acts(category):
    """The category's latest ACTS_SHOWN void and restore acts, and whether there are more."""
    rows = db.session.scalars(select(AuditLog).where(
        AuditLog.action.in_(("vote.void", "vote.restore")), AuditLog.object_type == "category",
        AuditLog.object_id == str(category.id)).order_by(AuditLog.id.desc())
        .limit(ACTS_SHOWN + 1)).all()
    standing = services.still_voided(category) if rows else {}
    acts = []
    for row in rows[:ACTS_SHOWN]:
        after, kind = row.after or {}, row.action.removeprefix("vote.")
        still = 0
        if kind == "void":
            still = standing.get(datetime.fromisoformat(after["voided_at"]), 0)
        about = after.get("about", "")
        prefix, _sep, rest = about.partition(":")
        if prefix == "audit":  # a restore names the void it undid
            about = _("undoes #%(id)s", id=rest)
        elif prefix in SIGNAL_NAMES:
            about = str(SIGNAL_NAMES[prefix])
        elif about == "receipts":
            about = _("by receipt numbers")
        elif about.endswith("(command line)"):
            about = _("from the command line")
        acts.append(Act(row.id, kind, row.at, after.get("by") or row.actor_label,
                        after.get("votes", 0), after.get("reason", ""), about, still,
                        own_ids(RestoreForm(formdata=None, act=row.id), f"restore-{row.id}")
                        if still else None))
    return acts, len(rows) > ACTS_SHOWN


def _count(label, low, high):
    return IntegerField(label, validators=[
        InputRequired(_l("Please give a number.")),
        NumberRange(low, high, _l("Between %(min)s and %(max)s."))])


class ThresholdsForm(FlaskForm):
    """When a signal fires, for the whole campaign (``Campaign.fraud_thresholds``), in the
    units people think in: minutes, not seconds; percentage points, not fractions."""

    network_voters = _count(_l("Voters from one network"), 2, 100_000)
    window_minutes = _count(_l("Within (minutes)"), 1, 1_440)
    burst_minimum = _count(_l("Votes for one entry within that time, at least"), 2, 100_000)
    burst_factor = _count(_l("Times its own earlier votes within that time"), 1, 100)
    one_entry_minimum = _count(_l("Voters who voted once, for one entry only, at least"),
                               2, 100_000)
    one_entry_excess = _count(_l("Their share above the category's (percentage points)"), 1, 100)
    failing_codes = _count(_l("Codes asked and never confirmed from one network"), 2, 100_000)

    @classmethod
    def showing(cls, thresholds, **kwargs):
        return cls(formdata=None, **kwargs, data={
            "network_voters": thresholds.network_voters,
            "window_minutes": round(thresholds.window / 60),
            "burst_minimum": thresholds.burst_minimum,
            "burst_factor": round(thresholds.burst_factor),
            "one_entry_minimum": thresholds.one_entry_minimum,
            "one_entry_excess": round(100 * thresholds.one_entry_excess),
            "failing_codes": thresholds.failing_codes})

    def changed(self):
        """{name: number} of the thresholds that differ from the defaults."""
        given = {"network_voters": self.network_voters.data,
                 "window": 60.0 * self.window_minutes.data,
                 "burst_minimum": self.burst_minimum.data,
                 "burst_factor": float(self.burst_factor.data),
                 "one_entry_minimum": self.one_entry_minimum.data,
                 "one_entry_excess": self.one_entry_excess.data / 100,
                 "failing_codes": self.failing_codes.data}
        default = fraud.Thresholds()
        return {name: value for name, value in given.items() if getattr(default, name) != value}


#: The thresholds' names in forms and campaign files, in their units.
THRESHOLD_FIELDS = ("network_voters", "window_minutes", "burst_minimum", "burst_factor",
                    "one_entry_minimum", "one_entry_excess", "failing_codes")


def load_thresholds(value, context):
    """A campaign file's ``fraud_thresholds``: named as on the page, in its units (minutes,
    percentage points); one left out keeps its default. Held to the page's form."""
    path = ("fraud_thresholds",)
    if not isinstance(value, dict):
        context.problem(path, _("expected named thresholds"))
        return
    for name in set(value) - set(THRESHOLD_FIELDS):
        context.problem(path + (name,), _("unknown field"))
    defaults = ThresholdsForm.showing(fraud.Thresholds(), meta={"csrf": False}).data
    form = ThresholdsForm(formdata=MultiDict({name: str(value.get(name, defaults[name]))
                                              for name in THRESHOLD_FIELDS}),
                          meta={"csrf": False})
    if not form.validate():
        for name, errors in form.errors.items():
            context.problem(path + (name,), errors[0])
        return
    context.campaign.fraud_thresholds = form.changed()


def dump_thresholds(campaign):
    """The campaign's thresholds for its file, all of them, if any departs from the defaults."""
    if not campaign.fraud_thresholds:
        return None
    form = ThresholdsForm.showing(thresholds_of(campaign), meta={"csrf": False})
    return {name: form[name].data for name in THRESHOLD_FIELDS}


def thresholds_of(campaign):
    """The campaign's thresholds: the defaults with what its organisers changed (the command
    line's report reads them the same way)."""
    return fraud.Thresholds.of(campaign.fraud_thresholds)


@section(30, _l("Public vote"))
def _progress(categories, now):
    """The campaign page's column of the vote: valid votes in all, today's while the vote is
    open, and the votes voided so far. The signals are the monitoring page's: finding them
    reads up to a day of votes, too slow for a page that shows every category at once."""
    voted = [category for category in categories if category.has_public_vote]
    open_today = {category.id: services.vote_day(now, category.campaign.timezone)
                  for category in voted if category.is_open("voting", now)}
    valid, of_today, voided = services.campaign_counts(voted, open_today)
    # Few of the site's codes confirmed in the last hour: voters may not be getting them.
    codes = services.code_figures(now, hours=(1,))[0] if open_today else None
    figures = {}
    for category in voted:
        monitoring = url_for("voting.fraud_view", slug=category.campaign.slug, key=category.key)
        figures[category.id] = [Figure(_("Valid votes"), valid.get(category.id) or 0, monitoring)]
        if category.id in open_today:
            figures[category.id].append(Figure(
                _("Today"), of_today.get(category.id, 0),
                url_for("voting.fraud_view", slug=category.campaign.slug, key=category.key,
                        day=open_today[category.id].isoformat())))
            if codes.low:
                figures[category.id].append(Figure(
                    _("Codes confirmed in the last hour (whole site)"),
                    f"{codes.confirmed} / {codes.asked}", monitoring + "#codes", attention=True,
                    site_wide=True))
        figures[category.id].append(Figure(_("Voided"), voided.get(category.id, 0), monitoring))
    return figures


def _category(slug, key):
    category = Category.by_keys(slug, key)
    if category is None or not category.has_public_vote:
        abort(404)
    return category


#: The most votes one look at the signals analyses (the latest of its period): the page answers
#: within a worker's time and memory however large the campaign (a million votes loaded whole
#: took 14 s and 700 MB; 100,000 take about a second, docs/PERFORMANCE.md).
MAX_ANALYSED = 100_000


#: The latest days of the vote offered as tabs; a longer vote's other days through a date field.
DAY_TABS = 6


@dataclass(frozen=True)
class Period:
    """The votes the monitoring looks at: one day in the campaign's time zone, or (``day``
    None) the last 24 hours."""

    day: date | None
    since: datetime
    until: datetime | None


def period_of(category, day_text, now):
    """The period asked for (``?day=YYYY-MM-DD``); 400 for a day that is not one. Without a
    day: the last 24 hours while they hold votes, else the vote's last day."""
    if not day_text:
        if not closed_a_day_ago(category, now):
            return Period(None, now - timedelta(days=1), None)
        _opens, closes = category.window("voting")
        day = (closes - timedelta(microseconds=1)).astimezone(category.campaign.tz).date()
    else:
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            abort(400)
    return Period(day, *services.day_bounds(day, category.campaign.timezone))


def closed_a_day_ago(category, now):
    """Whether the category's vote closed more than 24 hours before ``now``."""
    _opens, closes = category.window("voting")
    return closes is not None and closes <= now - timedelta(days=1)


def voting_days(category, now):
    """The days of the category's vote so far in the campaign's time zone, the latest first."""
    opens, closes = category.window("voting")
    if opens is None or opens > now:
        return []
    tz = category.campaign.tz
    first, last = opens.astimezone(tz).date(), min(now, closes or now).astimezone(tz).date()
    return [last - timedelta(days=n) for n in range((last - first).days + 1)]


def analysed(category, since, until, upto=None):
    """(the votes a look at the signals analyses, whether they are only the latest MAX_ANALYSED
    of the period's): those cast from ``since`` until before ``until``, of ids up to ``upto``."""
    votes = services.vote_records(category, since, until, limit=MAX_ANALYSED + 1, upto=upto)
    return votes[:MAX_ANALYSED], len(votes) > MAX_ANALYSED


def digest(vote_ids):
    """A short fingerprint of a signal's votes: the button voids them only if it still holds."""
    return hashlib.blake2b(",".join(map(str, vote_ids)).encode(), digest_size=12).hexdigest()


def signal_name(signal):
    return f"{signal.kind}:{signal.key}"


def report(category, now, period):
    """(signals, entries by id, tally before/after, the period's votes analysed, whether that is
    only the latest MAX_ANALYSED of them) for a category."""
    votes, cut = analysed(category, period.since, period.until)
    signals = fraud.all_signals(votes, services.code_records(now - timedelta(days=1)),
                                thresholds_of(category.campaign))
    flagged = {vote_id for signal in signals for vote_id in signal.vote_ids}
    entries = {e.id: e for e in db.session.scalars(select(Entry).where(
        Entry.category_id == category.id))}
    tally = fraud.tally_without(votes, flagged, services.tallies(category))
    return signals, entries, tally, votes, cut


@bp.get("/manage/<slug>/<key>/fraud")
@role_required(Role.ORGANISER)
def fraud_view(slug, key):
    category = _category(slug, key)
    return _monitoring(category)


@bp.post("/manage/<slug>/<key>/thresholds")
@role_required(Role.ORGANISER)
def thresholds(slug, key):
    """The campaign's thresholds, changed from one of its categories' monitoring pages."""
    category = _category(slug, key)
    form = ThresholdsForm()
    if not form.validate_on_submit():
        return _monitoring(category, thresholds_form=form), 422
    category.campaign.fraud_thresholds = form.changed()
    db.session.commit()
    flash(_("Thresholds saved: the signals of every category of the campaign use them now."),
          "success")
    return redirect(url_for("voting.fraud_view", slug=slug, key=key,
                            day=request.args.get("day") or None))


@bp.post("/manage/<slug>/<key>/receipts")
@role_required(Role.ORGANISER)
def by_receipts(slug, key):
    """Void, or restore, the category's votes of the receipt numbers given, with a reason; the
    numbers of no such vote are named back."""
    category = _category(slug, key)
    form = ReceiptsForm()
    action = request.form.get("action")
    if action not in ("void", "restore"):
        abort(400)
    if not form.validate_on_submit():
        return _monitoring(category, receipts_form=form), 422
    wanted = form.numbers.receipts  # parsed by its validator
    voiding = action == "void"
    change = services.void_votes if voiding else services.restore_votes
    changed = change(category, wanted, current_user, form.reason.data, utcnow(),
                     about="receipts")
    db.session.commit()
    if voiding:
        flash(ngettext("%(num)d vote voided.", "%(num)d votes voided.", len(changed)), "success")
    else:
        flash(ngettext("%(num)d vote restored: it counts again.",
                       "%(num)d votes restored: they count again.", len(changed)), "success")
    passed = sorted(set(wanted) - set(changed))
    if passed:
        shown = "、".join(map(str, passed[:20])) + ("…" if len(passed) > 20 else "")
        flash((_("Not voided (no valid vote of this category): %(numbers)s", numbers=shown)
               if voiding else
               _("Not restored (no voided vote of this category): %(numbers)s", numbers=shown)),
              "error")
    return redirect(url_for("voting.fraud_view", slug=slug, key=key,
                            day=request.args.get("day") or None))


def _monitoring(category, thresholds_form=None, receipts_form=None):
    now = utcnow()
    period = period_of(category, request.args.get("day"), now)
    signals, entries, tally, votes, cut = report(category, now, period)
    by_id = {vote.id: vote for vote in votes}
    tz = category.campaign.tz
    look = {"since": period.since.isoformat(),
            "until": period.until.isoformat() if period.until else "",
            "upto": max(by_id, default=0)}
    forms = []
    for signal in signals:
        form = own_ids(VoidForm(formdata=None, signal=signal_name(signal),
                                 digest=digest(signal.vote_ids), **look), f"void-{len(forms)}")
        shown = [(vote_id, datetime.fromtimestamp(by_id[vote_id].at, tz),
                  entries[by_id[vote_id].entry].number)
                 for vote_id in signal.vote_ids[:VOTES_SHOWN] if vote_id in by_id]
        forms.append((signal, form, shown))
    rows = page_of(sorted(tally.items(), key=lambda item: (item[1][0] == item[1][1], -item[1][0])),
                   request.args.get("page", 1, type=int), current_app.config["ADMIN_PAGE_SIZE"] * 2)
    return render_template("voting/fraud.html", category=category, campaign=category.campaign,
                           forms=forms, entries=entries, rows=rows, names=SIGNAL_NAMES,
                           detail_names=DETAIL_NAMES, period=period, analysed=len(votes),
                           cut=cut, days=voting_days(category, now),
                           recent=not closed_a_day_ago(category, now), DAY_TABS=DAY_TABS,
                           thresholds=thresholds_of(category.campaign),
                           thresholds_form=thresholds_form or ThresholdsForm.showing(
                               thresholds_of(category.campaign)),
                           receipts_form=own_ids(receipts_form or ReceiptsForm(formdata=None),
                                                 "receipts"),
                           acts=void_acts(category), codes=services.code_figures(now))


@bp.post("/manage/<slug>/<key>/void")
@role_required(Role.ORGANISER)
def void(slug, key):
    """Void the votes of the signal the button names, if the signal still holds them. Finding
    the signal again reads the period's votes (about a second at 100,000 votes) before any
    write; only the void itself, of the ids found, holds the write lock."""
    with reading_first(db.session):
        category = _category(slug, key)
        period = period_of(category, request.args.get("day"), utcnow())
        back = url_for("voting.fraud_view", slug=slug, key=key,
                       day=period.day.isoformat() if period.day else None)
        form = VoidForm()
        if not form.validate_on_submit():
            if form.reason.errors:
                flash(_("Please give the reason for voiding."), "error")
                return redirect(back)
            abort(400)
        try:
            since = _moment(form.since.data)
            until = _moment(form.until.data) if form.until.data else None
            upto = int(form.upto.data)
        except ValueError:
            abort(400)
        if not is_id(upto):
            abort(400)  # no vote has it, and PostgreSQL would refuse it with an error
        votes, _cut = analysed(category, since, until, upto)
        signal = next((each for each in fraud.all_signals(votes, (), thresholds_of(category.campaign))
                       if signal_name(each) == form.signal.data), None)
        if signal is None or digest(signal.vote_ids) != form.digest.data:
            flash(_("This signal has changed since the page was shown: votes were voided or the "
                    "thresholds changed meanwhile. Nothing was voided; look at it again."), "error")
            return redirect(back)
    # Votes of the signal voided by someone else meanwhile are skipped by the void's conditional
    # UPDATE (and left out of its count); votes cast since are not among the ids.
    voided = services.void_votes(category, signal.vote_ids, current_user, form.reason.data,
                                 utcnow(), about=signal_name(signal))
    db.session.commit()
    flash(_("%(count)d votes voided. They stay on record with the reason.", count=len(voided)),
          "success")
    return redirect(back)


@bp.post("/manage/<slug>/<key>/restore")
@role_required(Role.ORGANISER)
def restore(slug, key):
    """Undo a void act: its votes still voided count again (those restored meanwhile, by the
    command line or another tab, are passed over)."""
    category = _category(slug, key)
    back = url_for("voting.fraud_view", slug=slug, key=key,
                   day=request.args.get("day") or None)
    form = RestoreForm()
    if not form.validate_on_submit():
        if form.reason.errors:
            flash(_("Please give the reason for restoring."), "error")
            return redirect(back)
        abort(400)
    act_id = int(form.act.data) if form.act.data.isdigit() else None
    act = db.session.get(AuditLog, act_id) if is_id(act_id) else None
    if (act is None or act.action != "vote.void" or act.object_type != "category"
            or act.object_id != str(category.id)):
        abort(404)
    voided_at = datetime.fromisoformat(act.after["voided_at"])
    restored = services.restore_votes(category, services.voided_in(category, voided_at),
                                      current_user, form.reason.data, utcnow(),
                                      about=f"audit:{act.id}")
    db.session.commit()
    if restored:
        flash(ngettext("%(num)d vote restored: it counts again.",
                       "%(num)d votes restored: they count again.", len(restored)), "success")
    else:
        flash(_("Nothing to restore: every vote of this void counts again already."), "info")
    return redirect(back)


def _moment(text):
    """An aware time the page wrote (ISO 8601), in UTC; ValueError for anything else."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(text)
    try:
        return moment.astimezone(UTC)
    except OverflowError as error:  # 9999-12-31T23:00-14:00 is no moment of the year 9999
        raise ValueError(text) from error


@bp.get("/manage/<slug>/<key>/votes.csv")
@role_required(Role.ORGANISER)
def vote_log(slug, key):
    """Every vote of the category as CSV, or of one day (``?day=YYYY-MM-DD``), in the order cast:
    for the organisers' records, an auditor or an objection. Streamed, so a million votes take
    no more memory than a few thousand."""
    category = _category(slug, key)
    since = until = None
    if request.args.get("day"):
        period = period_of(category, request.args["day"], utcnow())
        since, until = period.since, period.until
    header = [_("Receipt number"), _("Voter"), _("Number"), _("Vote day"), _("Time"),
              _("Status"), _("Reason for voiding"), _("Voided at")]
    name = "-".join(filter(None, (slug, key, "votes", request.args.get("day"))))
    return Response(stream_csv(header, services.vote_log(category, since, until)),
                    mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@bp.get("/manage/<slug>/<key>/chart.svg")
@role_required(Role.ORGANISER)
def chart(slug, key):
    """Votes per hour of the most voted entries of the period (as the monitoring page's
    ``day``), drawn as SVG by the app (``width``: the page asks a narrow one for phones, whose
    text stays readable rather than shrunk)."""
    category = _category(slug, key)
    period = period_of(category, request.args.get("day"), utcnow())
    votes = services.vote_records(category, period.since, period.until, limit=MAX_ANALYSED)
    top = [entry for entry, _count in Counter(v.entry for v in votes).most_common(6)]
    numbers = dict(db.session.execute(select(Entry.id, Entry.number).where(
        Entry.id.in_(top))).all())
    return Response(draw_chart(votes, top, numbers, request.args.get("bucket", 3600, type=int),
                               width=request.args.get("width", 720, type=int),
                               tz=category.campaign.tz),
                    mimetype="image/svg+xml")


COLOURS = ("#b3261e", "#1f4f99", "#1a7f37", "#9a6700", "#6f42c1", "#0b7285")
#: Room for one entry's number in the legend, and the height of a legend row.
LEGEND_WIDTH, LEGEND_ROW = 96, 18
#: The dashes of each entry's line after the first (solid): one on top of another lets it show.
DASHES = ("", "10 5", "5 4", "2 3", "12 3 3 3", "7 2")
#: How far apart the dots of entries stand when every vote falls in one period.
DOT_STEP = 14


def draw_chart(votes, entries, labels, bucket=3600, width=720, plot_height=200, tz=UTC):
    """A line per entry of votes per ``bucket`` seconds, ``width`` pixels wide (320-1200): the
    first and the last period's start in ``tz`` under the axis, the legend in as many rows as
    the width needs."""
    bucket, width = max(60, bucket), min(1200, max(320, width))
    if not votes or not entries:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="40">'
                '<text x="8" y="24" font-size="14">—</text></svg>')
    start = int(min(v.at for v in votes) // bucket)
    end = int(max(v.at for v in votes) // bucket)
    slots = end - start + 1
    series = {entry: [0] * slots for entry in entries}
    for vote in votes:
        if vote.entry in series:
            series[vote.entry][int(vote.at // bucket) - start] += 1
    peak = max(max(values) for values in series.values()) or 1
    left, top, right = 40, 10, width - 10
    bottom = top + plot_height
    per_row = max(1, (right - left) // LEGEND_WIDTH)
    height = bottom + 40 + LEGEND_ROW * -(-len(entries) // per_row)

    def point(index, value):
        share = index / (slots - 1) if slots > 1 else 0.5  # one period: in the middle
        x = left + (right - left) * share
        y = bottom - (bottom - top) * value / peak
        return f"{x:.1f},{y:.1f}"

    def when(slot):
        return datetime.fromtimestamp(slot * bucket, UTC).astimezone(tz).strftime("%m-%d %H:%M")

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" font-family="sans-serif" font-size="12">',
             f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#999"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#999"/>',
             f'<text x="{left - 6}" y="{top + 10}" text-anchor="end">{peak}</text>'
             f'<text x="{left - 6}" y="{bottom}" text-anchor="end">0</text>']
    if slots > 1:
        parts.append(f'<text x="{left}" y="{bottom + 16}" fill="#555">{when(start)}</text>'
                     f'<text x="{right}" y="{bottom + 16}" fill="#555" text-anchor="end">'
                     f'{when(end)}</text>')
    else:
        parts.append(f'<text x="{(left + right) / 2:.1f}" y="{bottom + 16}" fill="#555" '
                     f'text-anchor="middle">{when(start)}</text>')
    # Entries of equal counts would hide each other: each line is drawn narrower than the one
    # before (the most voted, first, is the widest) and dashed, so a line under another still
    # shows at its edges and between the dashes; the dots of a single period stand side by side.
    last = len(entries) - 1
    for index, entry in enumerate(entries):
        colour = COLOURS[index % len(COLOURS)]
        label = escape(labels.get(entry, entry))
        points = " ".join(point(i, v) for i, v in enumerate(series[entry]))
        dashes = DASHES[index % len(DASHES)]
        parts.append(f'<polyline fill="none" stroke="{colour}" '
                     f'stroke-width="{2 + (last - index)}" stroke-linejoin="round" '
                     + (f'stroke-dasharray="{dashes}" ' if dashes else "")
                     + f'points="{points}"><title>{label}</title></polyline>')
        if slots == 1:  # a line of one point draws nothing: mark it
            _x, y = point(0, series[entry][0]).split(",")
            x = (left + right) / 2 + DOT_STEP * (index - last / 2)
            parts.append(f'<circle cx="{x:.1f}" cy="{y}" r="5" fill="{colour}">'
                         f'<title>{label}: {series[entry][0]}</title></circle>')
        row, column = divmod(index, per_row)
        x, y = left + LEGEND_WIDTH * column, bottom + 40 + LEGEND_ROW * row
        parts.append(f'<line x1="{x}" y1="{y - 4}" x2="{x + 18}" y2="{y - 4}" stroke="{colour}" '
                     f'stroke-width="2"' + (f' stroke-dasharray="{dashes}"' if dashes else "")
                     + f'/><text x="{x + 22}" y="{y}" fill="{colour}">{label}</text>')
    parts.append("</svg>")
    return "".join(parts)
