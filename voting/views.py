"""The citizen's vote: verify a phone number with a code, then vote; receipts."""
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.cache import personal_part, register_part
from app.database import lock_free, utcnow
from app.extensions import db, limiter
from app.models import Category
from app.security import network_key, safe_next
from nominations.models import Entry

from . import services
from .forms import CodeForm, PhoneForm
from .limits import enforce_vote_limits
from .phones import mask
from .session import current_voter_id, forget_voter, remember_voter

bp = Blueprint("voting", __name__, url_prefix="/vote")


def _limit(name):
    return lambda: current_app.config[name]


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit(_limit("CODE_LIMITS_PER_IP"), methods=["POST"])
@limiter.limit(_limit("CODE_LIMITS_PER_NETWORK"), methods=["POST"], key_func=network_key)
def verify():
    """Step 1: the phone number; a code is sent to it."""
    target = safe_next(request.values.get("next"))
    form = PhoneForm()
    if form.validate_on_submit():
        try:
            sent = services.request_code(form.phone.data, request.remote_addr, utcnow())
        except services.VotingError as error:
            db.session.rollback()
            form.phone.errors.append(str(error))
        else:
            code_form = CodeForm(phone=sent.phone)
            return render_template("voting/code.html", form=code_form, masked=mask(sent.phone),
                                   delayed=sent.delayed, next=target)
    return render_template("voting/verify.html", form=form, next=target), (
        422 if request.method == "POST" else 200)


@bp.post("/confirm")
@limiter.limit(_limit("CODE_LIMITS_PER_IP"))
@limiter.limit(_limit("CODE_LIMITS_PER_NETWORK"), key_func=network_key)
def confirm():
    """Step 2: the code; the voter is then signed in on this device."""
    target = safe_next(request.values.get("next"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            voter, phone = services.verify_code(form.phone.data, form.code.data, utcnow())
            db.session.commit()
        except services.VotingError as error:
            db.session.commit()  # a wrong try is counted even though the code is refused
            form.code.errors.append(str(error))
        else:
            flash(_("Your number %(phone)s is verified. You can vote now.", phone=mask(phone)),
                  "success")
            return remember_voter(redirect(target), voter.id)
    masked = mask(form.phone.data) if form.phone.data and form.phone.data.startswith("+86") else ""
    return render_template("voting/code.html", form=form, masked=masked, next=target), 422


def _entry_page(entry_id):
    """The public page of an entry (404 for none): where a vote that did not go through returns."""
    entry = db.get_or_404(Entry, entry_id)
    return url_for("nominations.entry", slug=entry.category.campaign.slug,
                   key=entry.category.key, number=entry.number or "-")


@bp.post("/entries/<int:entry_id>")
@lock_free
@limiter.exempt  # its three limits are taken in one step: voting/limits.py
def cast(entry_id):
    """The vote button of an entry's page. A vote that goes through touches neither the ORM nor
    the session cookie: the statement checks the entry and the window itself (as the API's), and
    the receipt page says what the vote did. Only a refused vote loads its entry, to go back."""
    voter_id = current_voter_id()
    enforce_vote_limits(voter_id)
    # The form is its CSRF token alone, checked before any view by CSRFProtect (app/__init__.py).
    if voter_id is None:
        return redirect(url_for("voting.verify", next=_entry_page(entry_id)))
    try:
        with services.vote_transaction() as cursor:
            receipt = services.cast_vote(voter_id, entry_id, utcnow(), request.remote_addr,
                                         request.user_agent.string or "", cursor=cursor)
    except services.VotingError as error:
        page = _entry_page(entry_id)
        flash(str(error), "error")
        return redirect(page)
    return redirect(url_for("voting.receipt", vote_id=receipt.vote_id))


@bp.get("/receipts/<int:vote_id>")
def receipt(vote_id):
    shown = services.receipt_of(vote_id, current_voter_id(), utcnow())
    if shown is None:
        abort(404)
    return render_template("voting/receipt.html", receipt=shown)


@bp.get("/mine")
def mine():
    """The votes cast with the number verified on this device, the newest first, each with its
    receipt and whether it still counts (a voided one with the organisers' reason); and the
    button that stops this device voting with the number (a shared phone, a library's computer)."""
    voter_id = current_voter_id()
    if voter_id is None:
        return redirect(url_for("voting.verify", next=url_for("voting.mine")))
    page = services.voter_votes(voter_id, request.args.get("page", 1, type=int),
                                current_app.config["PUBLIC_PAGE_SIZE"])
    if page is None:
        abort(404)
    return render_template("voting/mine.html", page=page, signout_form=FlaskForm())


@bp.post("/signout")
def signout():
    if not FlaskForm().validate_on_submit():
        abort(400)
    flash(_("This device no longer votes with your number."), "info")
    return forget_voter(redirect(url_for("public.index")))


def vote_panel(entry):
    """The vote block of an entry's public page (rendered into the nominations template): the
    visitor's own part of the page, put into the page app/cache.py keeps for voters."""
    return personal_part("vote_panel", entry.id, lambda: _panel(entry))


@register_part("vote_panel")
def _panel_of(entry_id):
    """The vote block of an entry by its id: the entry, its category and campaign in one read."""
    entry = db.session.scalar(select(Entry).options(
        joinedload(Entry.category).joinedload(Category.campaign)).where(Entry.id == entry_id))
    return _panel(entry) if entry is not None else ""


def _panel(entry):
    category = entry.category
    if not category.has_public_vote:
        return ""
    now = utcnow()
    voter_id = current_voter_id()
    votes, ahead, left, voted = services.entry_standing(category, entry.id, voter_id, now)
    voted = bool(left) and voted
    # nosec B704: the output of an autoescaping template, inserted into another template
    return Markup(render_template(  # nosec B704
        "voting/_panel.html", entry=entry, category=category, state=category.phase_state(
            "voting", now), voter_id=voter_id, left=left, voted=voted,
        tally=visible_tally(category, votes, ahead, now)))


def tally_shown(category, now):
    """What the public may see of the category's votes now: "counts" (``live``, or
    ``after_close`` once the vote has closed), "ranks" (``ranking_only``) or None."""
    visibility = category.tally_visibility.value
    if visibility == "live" or (
            visibility == "after_close" and category.phase_state("voting", now) == "closed"):
        return "counts"
    return "ranks" if visibility == "ranking_only" else None


def visible_tally(category, votes, ahead, now):
    """What the public may see of an entry's votes: ("count", n), ("rank", r) or None.

    ``ahead`` is the number of entries of the category with more votes.
    """
    shown = tally_shown(category, now)
    if shown == "counts":
        return ("count", votes)
    if shown == "ranks":
        return ("rank", 1 + ahead)
    return None


@bp.app_context_processor
def _voting_helpers():
    return {"vote_panel": vote_panel}


from . import manage  # noqa: E402,F401  (organiser routes register on bp)
