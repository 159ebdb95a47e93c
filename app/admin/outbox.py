"""The organiser's page of mails that did not leave (/admin/mail), on the admin blueprint (its
organisers-only check applies): who did not get which mail and why, and a button that tries
every waiting mail again at once."""
from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from .. import mail
from ..extensions import db
from .views import bp


@bp.get("/mail")
def outbox():
    """The mails tried and still waiting, and those given up, newest first."""
    page = db.paginate(mail.undelivered(), per_page=current_app.config["ADMIN_PAGE_SIZE"] * 2)
    return render_template("admin/mail.html", page=page, form=FlaskForm(),
                           backend=current_app.config["MAIL_BACKEND"])


@bp.post("/mail/retry")
def retry_mail():
    """Every waiting mail may leave now: a delivery starts after the commit."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    waiting = mail.retry_now()
    db.session.commit()
    mail.send_soon(everything=True)
    flash(_("%(num)d waiting mails will be tried again now.", num=waiting) if waiting
          else _("No mail is waiting."), "success" if waiting else "info")
    return redirect(url_for("admin.outbox"))
