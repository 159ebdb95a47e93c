"""The organiser's pages. Every route of this blueprint requires the organiser role."""
import re
from datetime import datetime

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
from flask_login import login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import campaign_io, mail, progress
from ..auth import services as account_services
from ..database import utcnow
from ..extensions import db
from ..i18n import format_local
from ..models import Agency, AuditLog, Campaign, Category, Role, User, UserStatus
from ..security import role_required
from . import services
from .forms import SPARE_CRITERIA, CampaignForm, CategoryForm, InviteExpertForm

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: A time as the audit log stores it (``isoformat()`` of an aware UTC datetime).
ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+00:00$")


@bp.before_request
@login_required
@role_required(Role.ORGANISER)
def _organisers_only():
    """Deny by default: no route of this blueprint is reachable by another role."""


def _campaign(slug):
    return db.first_or_404(select(Campaign).where(Campaign.slug == slug))


def _category(campaign, key):
    return db.first_or_404(
        select(Category).where(Category.campaign_id == campaign.id, Category.key == key))


class ImportForm(FlaskForm):
    file = FileField(validators=[FileRequired()])


@bp.get("/")
def index():
    """The campaigns, newest first, each with where its phases stand and what waits for the
    organiser in it (the figures its campaign page marks)."""
    page = db.paginate(select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
                       .options(selectinload(Campaign.categories)),
                       per_page=current_app.config["ADMIN_PAGE_SIZE"])
    pending = db.session.scalar(select(func.count()).select_from(User).where(
        User.status == UserStatus.PENDING))
    now = utcnow()
    return render_template("admin/index.html", page=page, pending=pending, now=now,
                           waiting=progress.waiting(page.items, now), import_form=ImportForm(),
                           undelivered=mail.undelivered_count())


@bp.route("/campaigns/new", methods=["GET", "POST"])
def new_campaign():
    form = CampaignForm()
    if form.validate_on_submit():
        return _save_campaign(form, None)
    return render_template("admin/campaign_form.html", form=form, campaign=None)


@bp.get("/campaigns/<slug>")
def campaign(slug):
    """The campaign's categories: where each stands now (a column per part of the campaign,
    what waits for the organiser marked), then how each is set up."""
    item = db.first_or_404(select(Campaign).where(Campaign.slug == slug).options(
        selectinload(Campaign.categories).selectinload(Category.criteria)))
    now = utcnow()
    titles, rows = progress.progress(item, now)
    return render_template("admin/campaign.html", campaign=item, progress_titles=titles,
                           progress_rows=rows, now=now)


@bp.route("/campaigns/<slug>/edit", methods=["GET", "POST"])
def edit_campaign(slug):
    item = _campaign(slug)
    form = CampaignForm(data=services.campaign_form_data(item))
    if form.validate_on_submit():
        return _save_campaign(form, item)
    return render_template("admin/campaign_form.html", form=form, campaign=item)


def _save_campaign(form, item):
    try:
        item = services.save_campaign(form.data, item)
        db.session.commit()
    except services.AdminError as error:
        db.session.rollback()
        form[error.field].errors.append(str(error))
        return render_template("admin/campaign_form.html", form=form, campaign=item), 422
    flash(_("Campaign saved."), "success")
    return redirect(url_for("admin.campaign", slug=item.slug))


@bp.route("/campaigns/<slug>/categories/new", methods=["GET", "POST"])
def new_category(slug):
    item = _campaign(slug)
    form = CategoryForm()
    if request.method == "GET":
        _pad_criteria(form)
    if form.validate_on_submit():
        return _save_category(form, item, None)
    return render_template("admin/category_form.html", form=form, campaign=item, category=None)


@bp.route("/campaigns/<slug>/categories/<key>/edit", methods=["GET", "POST"])
def edit_category(slug, key):
    item = _campaign(slug)
    category = _category(item, key)
    form = CategoryForm(data=services.category_form_data(category))
    if request.method == "GET":
        _pad_criteria(form)
    if form.validate_on_submit():
        return _save_category(form, item, category)
    return render_template("admin/category_form.html", form=form, campaign=item,
                           category=category)


def _pad_criteria(form):
    filled = sum(1 for row in form.criteria if not row.form.is_blank)
    while len(form.criteria) < filled + SPARE_CRITERIA:
        form.criteria.append_entry()


def _save_category(form, item, category):
    values = {name: field.data for name, field in form._fields.items() if name != "criteria"}
    try:
        category = services.save_category(item, values, form.criteria_rows(), category)
        db.session.commit()
    except services.AdminError as error:
        db.session.rollback()
        form[error.field].errors.append(str(error))
        return render_template("admin/category_form.html", form=form, campaign=item,
                               category=category), 422
    flash(_("Category saved."), "success")
    return redirect(url_for("admin.campaign", slug=item.slug))


@bp.post("/campaigns/<slug>/categories/<key>/delete")
def delete_category(slug, key):
    item = _campaign(slug)
    category = _category(item, key)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        services.delete_category(category)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        flash(_("This category already has entries and cannot be deleted."), "error")
    else:
        flash(_("Category deleted."), "success")
    return redirect(url_for("admin.campaign", slug=item.slug))


@bp.get("/campaigns/<slug>/export")
def export_campaign(slug):
    item = _campaign(slug)
    return Response(
        campaign_io.export_campaign(item),
        mimetype="application/x-yaml",
        headers={"Content-Disposition": f'attachment; filename="{item.slug}.yaml"'},
    )


@bp.post("/campaigns/import")
def import_campaign():
    form = ImportForm()
    if not form.validate_on_submit():
        flash(_("Please choose a YAML campaign file."), "error")
        return redirect(url_for("admin.index"))
    raw = form.file.data.read()
    try:
        result = campaign_io.import_campaign(raw.decode("utf-8"))
        db.session.commit()
    except UnicodeDecodeError:
        db.session.rollback()
        flash(_("The file is not UTF-8 text."), "error")
        return redirect(url_for("admin.index"))
    except campaign_io.CampaignFileError as error:
        db.session.rollback()
        return render_template("admin/import_errors.html", problems=error.problems), 422
    for email, password in result.passwords.items():
        flash(_("Account %(email)s created; its password is shown once: %(password)s",
                email=email, password=password), "info")
    flash(_("Campaign %(slug)s imported.", slug=result.campaign.slug), "success")
    return redirect(url_for("admin.campaign", slug=result.campaign.slug))


@bp.get("/accounts")
def accounts():
    status = request.args.get("status", "pending")
    query = select(User).order_by(User.created_at.desc())
    if status in {s.value for s in UserStatus}:
        query = query.where(User.status == status)
    page = db.paginate(query, per_page=current_app.config["ADMIN_PAGE_SIZE"])
    return render_template("admin/accounts.html", page=page, status=status, form=FlaskForm())


@bp.post("/accounts/<int:user_id>/<any(approve, reject):decision>")
def decide_account(user_id, decision):
    user = db.get_or_404(User, user_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        account_services.decide_agency(user, approve=decision == "approve")
        db.session.commit()
    except account_services.AuthError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("%(agency)s approved.", agency=user.agency.name) if decision == "approve"
              else _("%(agency)s rejected.", agency=user.agency.name), "success")
    return redirect(url_for("admin.accounts"))


@bp.route("/experts/invite", methods=["GET", "POST"])
def invite_expert():
    form = InviteExpertForm()
    form.agency.choices = [(0, _("No affiliation"))] + [
        (a.id, a.name) for a in db.session.scalars(select(Agency).order_by(Agency.name))]
    if form.validate_on_submit():
        agency = db.session.get(Agency, form.agency.data) if form.agency.data else None
        try:
            user = account_services.invite_expert(form.email.data, form.name.data, agency)
            db.session.commit()
        except account_services.EmailTaken as error:
            db.session.rollback()
            form.email.errors.append(str(error))
        else:
            flash(_("Invitation sent to %(email)s.", email=user.email), "success")
            return redirect(url_for("admin.accounts", status="invited"))
    return render_template("admin/invite_expert.html", form=form)


@bp.get("/audit")
def audit():
    """The log, newest first; narrowed to one kind of change (``action``), to whoever made it
    (``who``: part of an email, or "cli"), and to one object (``object``: "category:12")."""
    shown = {name: request.args.get(name, "").strip()[:100] for name in ("action", "who",
                                                                        "object")}
    query = select(AuditLog)
    if shown["action"]:
        query = query.where(AuditLog.action == shown["action"])
    if shown["who"]:
        query = query.where(AuditLog.actor_label.icontains(shown["who"], autoescape=True))
    if shown["object"]:
        object_type, _sep, object_id = shown["object"].partition(":")
        query = query.where(AuditLog.object_type == object_type,
                            AuditLog.object_id == object_id)
    page = db.paginate(query.order_by(AuditLog.id.desc()),
                       per_page=current_app.config["ADMIN_PAGE_SIZE"] * 2)
    actions = db.session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action))
    return render_template("admin/audit.html", page=page, shown=shown, actions=list(actions),
                           filtered={name: value for name, value in shown.items() if value})


#: The most of one value the audit page shows; the log itself keeps it whole.
AUDIT_VALUE_CHARACTERS = 200


@bp.app_template_filter("audit_value")
def audit_value(value):
    """A value of an audit row as the page shows it: a time in the site's time zone, nothing as
    a dash, a long text cut with how long it is."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str) and ISO_MOMENT.match(value):
        try:
            return format_local(datetime.fromisoformat(value))
        except ValueError:
            return value
    text = str(value)
    if len(text) > AUDIT_VALUE_CHARACTERS:
        return _("%(start)s… (%(count)d characters)", start=text[:AUDIT_VALUE_CHARACTERS],
                 count=len(text))
    return text

