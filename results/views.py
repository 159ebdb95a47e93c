"""Routes of the results: the organiser's preview and publication, the public results."""
import json
from datetime import timedelta

from flask import (
    Blueprint,
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
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.cache import public_page
from app.database import utcnow
from app.extensions import db, limiter
from app.forms import own_ids, strip
from app.i18n import AGGREGATION_NAMES, format_local
from app.models import Category, Kind, Role
from app.paging import page_of
from app.progress import Figure, section
from app.public import public_campaign_or_404
from app.security import role_required

from . import services
from .charts import bump_chart, score_bars
from .models import Objection, Publication, PublicationKind
from .sensitivity import rank_paths

bp = Blueprint("results", __name__, url_prefix="/results")


def _category(slug, key):
    category = Category.by_keys(slug, key)
    if category is None or category.kind == Kind.REPORT:
        abort(404)  # reports are collected, not ranked
    return category


@bp.get("/manage/<slug>/<key>/")
@role_required(Role.ORGANISER)
def preview(slug, key):
    category = _category(slug, key)
    ranking, entries = services.category_ranking(category)
    history = db.session.scalars(select(Publication).where(
        Publication.category_id == category.id).order_by(Publication.version.desc())).all()
    objections = db.session.scalars(select(Objection).join(Publication).where(
        Publication.category_id == category.id).order_by(Objection.id)).all()
    chart = score_bars(ranking.rows, {id_: entry.number for id_, entry in entries.items()},
                       category.expert_weight, category.public_weight,
                       _("Final score of each entry: expert part and public part"))
    rows = page_of(ranking.rows, request.args.get("page", 1, type=int),
                   current_app.config["ADMIN_PAGE_SIZE"] * 2)
    return render_template("results/preview.html", category=category, campaign=category.campaign,
                           ranking=ranking, rows=rows, entries=entries, history=history,
                           chart=chart, objections=objections, answer_forms={
                               o.id: own_ids(AnswerForm(formdata=None), f"objection-{o.id}")
                               for o in objections if o.outcome is None})


@section(40, _l("Results"))
def _progress(categories, now):
    """The campaign page's column of the results: the newest list published and when; for a
    provisional list, when its objections close and how many wait for an answer, and, marked,
    that the final list can go out once the window has passed with every objection answered."""
    ranked = [category for category in categories if category.kind != Kind.REPORT]
    latest, waiting = services.publication_progress(ranked)
    figures = {}
    for category in ranked:
        campaign = category.campaign
        preview = url_for("results.preview", slug=campaign.slug, key=category.key) + "#publish"
        if category.id not in latest:
            figures[category.id] = [Figure(_("Publication"), _("not yet"), preview)]
            continue
        version, kind, published_at = latest[category.id]
        published = Figure(_("Published on"), format_local(published_at, campaign.timezone, "date"))
        if kind == PublicationKind.FINAL:
            figures[category.id] = [Figure(_("Final list"), _("version %(v)d", v=version),
                                           url_for("results.public", slug=campaign.slug)),
                                    published]
            continue
        closes = published_at + timedelta(days=campaign.objection_days)
        open_objections = waiting.get(category.id, 0)
        figures[category.id] = [
            Figure(_("Provisional list"), _("version %(v)d", v=version), preview), published,
            Figure(_("Objections close"), format_local(closes, campaign.timezone)
                   if now < closes else _("closed")),
            Figure(_("Objections to answer"), open_objections, preview,
                   attention=open_objections > 0)]
        if now >= closes and not open_objections:
            figures[category.id].append(Figure(_("Final list"), _("ready to publish"), preview,
                                               attention=True))
    return figures


def _current(scenarios):
    return next((index for index, s in enumerate(scenarios) if s.current), None)


@bp.get("/manage/<slug>/<key>/sensitivity")
@role_required(Role.ORGANISER)
def sensitivity(slug, key):
    """Who would win under other weights and other methods, with who enters and who leaves."""
    category = _category(slug, key)
    (base, by_method, by_weight), entries = services.category_sensitivity(category)
    numbers = {id_: entry.number for id_, entry in entries.items()}
    if by_weight:
        columns = [f"{s.public_weight:.0%}" for s in by_weight]
        chart = bump_chart(rank_paths(by_weight, 12), numbers, columns, category.winners,
                           _("Rank of each entry as the public weight grows"),
                           current=_current(by_weight))
    else:
        columns = [AGGREGATION_NAMES[s.method] for s in by_method]
        chart = bump_chart(rank_paths(by_method, 12), numbers, columns, category.winners,
                           _("Rank of each entry under each method"), current=_current(by_method))
    return render_template("results/sensitivity.html", category=category,
                           campaign=category.campaign, base=base, by_method=by_method,
                           by_weight=by_weight, entries=entries, chart=chart)


class ObjectionForm(FlaskForm):
    entry = SelectField(_l("Entry"), validators=[DataRequired()])
    reason = TextAreaField(_l("Your objection"), filters=[strip], validators=[
        DataRequired(_l("Please give the reason.")), Length(max=1000)])
    contact = StringField(_l("How we can reach you (phone or email; not published)"),
                          filters=[strip], validators=[DataRequired(_l("Please give a contact.")),
                                                       Length(max=100)])


class AnswerForm(FlaskForm):
    outcome = SelectField(_l("Outcome"), choices=[
        SelectChoice("dismissed", _l("Dismissed")), SelectChoice("upheld", _l("Upheld"))])
    answer = TextAreaField(_l("Answer"), filters=[strip], validators=[
        DataRequired(_l("Please give the answer.")), Length(max=2000)])


@bp.route("/<slug>/<key>/objections", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["OBJECTION_LIMIT_PER_IP"], methods=["POST"])
def object_to(slug, key):
    """Anyone may object to an entry of a provisional list while its window is open."""
    campaign = public_campaign_or_404(slug)
    publication = db.first_or_404(select(Publication).join(Category).where(
        Category.campaign_id == campaign.id, Category.key == key,
        Publication.kind == PublicationKind.PROVISIONAL).order_by(Publication.version.desc()))
    form = ObjectionForm()
    form.entry.choices = [(e["number"], f'{e["number"]} {e["title"]}')
                          for e in json.loads(publication.snapshot)["entries"]]
    if form.validate_on_submit():
        try:
            services.lodge_objection(publication, form.entry.data, form.reason.data,
                                     form.contact.data, utcnow())
            db.session.commit()
        except services.ResultsError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(_("Your objection is recorded. The organisers will answer it."), "success")
            return redirect(url_for("results.public", slug=slug))
    return render_template("results/objection.html", campaign=campaign,
                           category=publication.category, form=form,
                           deadline=services.objection_deadline(publication)), (
        422 if request.method == "POST" else 200)


@bp.post("/manage/objections/<int:objection_id>")
@role_required(Role.ORGANISER)
def answer(objection_id):
    objection = db.get_or_404(Objection, objection_id)
    category = objection.publication.category
    form = AnswerForm()
    if not form.validate_on_submit():
        flash(_("Please give the answer."), "error")
    else:
        try:
            services.answer_objection(objection, current_user, form.outcome.data,
                                      form.answer.data, utcnow())
            db.session.commit()
            flash(_("Answer recorded."), "success")
        except services.ResultsError as error:
            db.session.rollback()
            flash(str(error), "error")
    return redirect(url_for("results.preview", slug=category.campaign.slug, key=category.key))


@bp.post("/manage/<slug>/<key>/publish")
@role_required(Role.ORGANISER)
def publish(slug, key):
    category = _category(slug, key)
    kind = request.form.get("kind")
    if not FlaskForm().validate_on_submit() or kind not in {k.value for k in PublicationKind}:
        abort(400)
    now = utcnow()
    try:
        if kind == PublicationKind.FINAL:
            services.check_can_finalise(category, now)
        publication = services.publish(category, kind, current_user, now)
    except services.ResultsError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("results.preview", slug=slug, key=key))
    db.session.commit()
    flash(_("Published as version %(version)d (SHA-256 %(digest)s).",
            version=publication.version, digest=publication.digest[:16]), "success")
    return redirect(url_for("results.preview", slug=slug, key=key))


@bp.get("/<slug>/")
@public_page
def public(slug):
    """The published lists of a campaign: winners, scores, provisional or final, the digest."""
    campaign = public_campaign_or_404(slug)
    lists = [(category, publication, json.loads(publication.snapshot))
             for category, publication in services.latest_publications(campaign).items()]
    kinds = {category.kind for category, _publication, _data in lists}
    return render_template("results/public.html", campaign=campaign, lists=lists,
                           timedelta=timedelta, has_book=bool(kinds & {Kind.STORY, Kind.CASE}),
                           has_cards=Kind.HOTLINE in kinds)


@bp.get("/<slug>/<key>/v<int:version>.json")
def snapshot(slug, key, version):
    campaign = public_campaign_or_404(slug)
    publication = db.first_or_404(select(Publication).join(Category).where(
        Category.campaign_id == campaign.id, Category.key == key, Publication.version == version))
    # The stored text itself: re-serialising could change the bytes the digest is taken of.
    body = '{"digest":"' + publication.digest + '","snapshot":' + publication.snapshot + '}'
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{slug}-{key}-v{version}.json"'})


@bp.get("/manage/<slug>/<key>/ranking.<any(csv, xlsx, json):file_format>")
@role_required(Role.ORGANISER)
def download(slug, key, file_format):
    category = _category(slug, key)
    data = services.export([category], file_format)
    mimetypes = {"csv": "text/csv; charset=utf-8", "json": "application/json",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    if file_format == "csv":
        data = "\ufeff" + data
    filename = f"{category.campaign.slug}-{category.key}-ranking.{file_format}"
    return Response(data, mimetype=mimetypes[file_format],
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/<slug>/anthology")
def anthology(slug):
    """The campaign's book: the published winning stories and cases, one per printed page."""
    campaign = public_campaign_or_404(slug)
    books = services.published_winners(campaign, {Kind.STORY, Kind.CASE})
    provisional = any(p.kind == PublicationKind.PROVISIONAL for _c, p, _w in books)
    return render_template("results/anthology.html", campaign=campaign, books=books,
                           provisional=provisional)


@bp.get("/<slug>/service-cards")
def service_cards(slug):
    """A printable service card (暖心卡) for each published winning hotline."""
    campaign = public_campaign_or_404(slug)
    books = services.published_winners(campaign, {Kind.HOTLINE})
    return render_template("results/service_cards.html", campaign=campaign, books=books)
