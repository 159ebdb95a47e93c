"""The agency's pages: its entries, the nomination form, withdraw and restore."""
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from app.database import utcnow
from app.extensions import db
from app.models import Campaign, Category, Role
from app.security import role_required

from .. import services
from ..forms import form_for
from ..models import AttachmentKind, Entry
from . import bp


def _own_entry(entry_id):
    """The agency's own entry, or 404: another agency's entries do not exist for it."""
    entry = db.session.get(Entry, entry_id)
    if entry is None or entry.agency_id != current_user.agency_id:
        abort(404)
    return entry


@bp.get("/agency/")
@role_required(Role.AGENCY)
def mine():
    """The agency's home: its entries, and the categories open for nomination now."""
    entries = db.paginate(
        select(Entry).where(Entry.agency_id == current_user.agency_id)
        .order_by(Entry.updated_at.desc()),
        per_page=current_app.config["ADMIN_PAGE_SIZE"])
    now = utcnow()
    open_categories = [
        category
        for category in db.session.scalars(
            select(Category).join(Campaign).where(Campaign.is_public.is_(True))
            .order_by(Campaign.id, Category.position))
        if category.is_open("nomination", now)
    ]
    return render_template("nominations/mine.html", entries=entries,
                           open_categories=open_categories, now=now, action_form=FlaskForm())


@bp.route("/agency/nominate/<int:category_id>", methods=["GET", "POST"])
@role_required(Role.AGENCY)
def nominate(category_id):
    category = db.get_or_404(Category, category_id)
    now = utcnow()
    if not category.is_open("nomination", now) or not category.campaign.is_public:
        flash(_("Nominations for this category are not open now."), "error")
        return redirect(url_for("nominations.mine"))
    form = form_for(category.kind)
    if form.validate_on_submit():
        uploads = _prepared_uploads()
        try:
            entry = services.start_entry(category, current_user, now)
        except services.NominationError as error:
            flash(str(error), "error")
            return redirect(url_for("nominations.mine"))
        return _save(form, entry, now, uploads) or _render_form(form, category, None)
    return _render_form(form, category, None)


@bp.route("/agency/entries/<int:entry_id>", methods=["GET", "POST"])
@role_required(Role.AGENCY)
def edit(entry_id):
    # Before the entry is read, so that the save starts from the entry as it is then.
    uploads = _prepared_uploads() if request.method == "POST" else []
    entry = _own_entry(entry_id)
    now = utcnow()
    if not entry.can_edit(current_user, now):
        return render_template("nominations/entry_readonly.html", entry=entry,
                               category=entry.category)
    form = form_for(entry.category.kind, data={"title": entry.title, "summary": entry.summary,
                                               **entry.details})
    if form.validate_on_submit():
        return _save(form, entry, now, uploads) or _render_form(form, entry.category, entry)
    return _render_form(form, entry.category, entry)


def _render_form(form, category, entry):
    status = 422 if request.method == "POST" else 200
    return render_template("nominations/edit.html", form=form, category=category, entry=entry,
                           action_form=FlaskForm()), status


def _prepared_uploads():
    """The request's files (the form's photos and documents), checked and cleaned.

    The request's transaction ends first. Like every write request's, it began with the
    sign-in's query and holds the site's write lock; decoding and re-encoding an entry's photos
    takes seconds, and no other write of the site (a voter's code, an expert's score, a vote on
    SQLite) may wait on that. What the request reads and writes next begins with the lock again.
    (The body itself was read before, by the CSRF check, which needs no database.)"""
    db.session.rollback()
    files = [(AttachmentKind.PHOTO, f) for f in request.files.getlist("photos")]
    files += [(AttachmentKind.DOCUMENT, f) for f in request.files.getlist("documents")]
    return services.prepare_uploads(
        [(kind, f.filename, f.read()) for kind, f in files if f and f.filename])


def _save(form, entry, now, uploads):
    """Save a draft or a submission; None (form re-shown with its errors) if it must not be."""
    submit = "submit" in request.form
    if submit and not form.validate_for_submit():
        db.session.rollback()
        flash(_("Not submitted: please complete the fields marked below."), "error")
        return None
    try:
        services.save_entry(entry, form.title.data, form.summary.data, form.details(), now, submit)
        report = services.attach_files(entry, uploads)
        db.session.commit()
    except services.NominationError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("nominations.mine"))
    if submit:
        flash(_("Submitted as %(number)s. Organisers will check it.", number=entry.number), "success")
    else:
        flash(_("Draft saved."), "success")
    for name, reason in report.refused:
        flash(_("%(name)s was not added: %(reason)s.", name=name, reason=reason), "error")
    return redirect(url_for("nominations.edit", entry_id=entry.id))


@bp.post("/agency/entries/<int:entry_id>/<any(withdraw, restore):action>")
@role_required(Role.AGENCY)
def change_state(entry_id, action):
    entry = _own_entry(entry_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        (services.withdraw_entry if action == "withdraw" else services.restore_entry)(entry, utcnow())
        db.session.commit()
    except services.NominationError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("Entry withdrawn.") if action == "withdraw" else _("Entry restored as a draft."),
              "success")
    return redirect(url_for("nominations.mine"))


@bp.post("/agency/entries/<int:entry_id>/files/<int:attachment_id>/delete")
@role_required(Role.AGENCY)
def delete_file(entry_id, attachment_id):
    entry = _own_entry(entry_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        services.remove_attachment(entry, attachment_id, utcnow())
        db.session.commit()
    except services.NominationError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("File removed."), "success")
    return redirect(url_for("nominations.edit", entry_id=entry.id))
