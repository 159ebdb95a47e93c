"""Routes for signing in and out, agency registration, password reset and change."""
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..database import reading_first
from ..errors import render_error
from ..extensions import db, limiter
from ..models import Role, UserStatus
from ..security import network_key, safe_next
from . import services, throttle
from .forms import (
    ChangePasswordForm,
    LoginForm,
    RegisterAgencyForm,
    ResetPasswordForm,
    ResetRequestForm,
)

bp = Blueprint("auth", __name__, url_prefix="/auth")

HOME_ENDPOINTS = {
    Role.ORGANISER: "admin.index",
    Role.AGENCY: "nominations.mine",
    Role.EXPERT: "review.mine",
}


def _login_limit():
    return current_app.config["LOGIN_LIMIT_PER_IP"]


def _account_request_limit():
    return current_app.config["ACCOUNT_REQUEST_LIMIT_PER_IP"]


@bp.get("/home")
@login_required
def home():
    """Each role lands on its own page."""
    return redirect(url_for(HOME_ENDPOINTS[current_user.role]))


def _login_network_limit():
    return current_app.config["LOGIN_LIMIT_PER_NETWORK"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_network_limit, methods=["POST"], key_func=network_key)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    form = LoginForm()
    if form.validate_on_submit():
        wait = throttle.seconds_locked(form.email.data)
        if wait:
            current_app.logger.warning("sign-in refused: too many failures for one account")
            return render_error(429, _("Too many failed sign-ins for this account. "
                                       "Please wait and try again."), {"Retry-After": str(wait)})
        try:
            with reading_first(db.session):
                user = services.authenticate(form.email.data, form.password.data)
        except services.AccountNotActive as error:
            flash(_("Your agency account is waiting for an organiser's approval.")
                  if error.status == UserStatus.PENDING
                  else _("This account cannot sign in. Please contact the organiser."), "error")
        except services.InvalidCredentials:
            throttle.record_failure(form.email.data)
            current_app.logger.info("sign-in failed from %s", request.remote_addr)
            flash(_("The email or the password is wrong."), "error")
        else:
            services.record_sign_in(user)
            db.session.commit()
            throttle.forget_failures(form.email.data)
            session.clear()  # a fresh session: nothing planted before sign-in survives it
            login_user(user, remember=False)
            session.permanent = True
            return redirect(safe_next(request.args.get("next"), "auth.home"))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    services.sign_out(current_user._get_current_object())
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("public.index"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_account_request_limit, methods=["POST"])
def register():
    """An agency registers itself and waits for an organiser's approval."""
    form = RegisterAgencyForm()
    if form.validate_on_submit():
        try:
            services.register_agency(form.agency_name.data, form.contact_name.data,
                                     form.contact_phone.data, form.email.data, form.password.data)
        except services.AgencyNameTaken as error:
            db.session.rollback()
            form.agency_name.errors.append(str(error))  # agencies are public: no secret here
            return render_template("auth/register.html", form=form)
        except services.EmailTaken:
            # The same answer as a new registration, so that the form tells nobody which
            # emails have accounts; the owner of the address hears of it by mail instead.
            db.session.rollback()
            services.tell_owner_of_registration_attempt(form.email.data)
            db.session.commit()
        else:
            db.session.commit()
        flash(_("Thank you. An organiser will review your registration; "
                "you will get a mail when it is approved."), "success")
        return redirect(url_for("public.index"))
    return render_template("auth/register.html", form=form)


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(_account_request_limit, methods=["POST"])
def request_reset():
    form = ResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        # The same answer whether or not the email has an account: no enumeration.
        flash(_("If this email has an account, a link to reset the password is on its way."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/request_reset.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    try:
        services.user_for_reset_token(token)
    except services.InvalidToken as error:
        flash(str(error), "error")
        return redirect(url_for("auth.request_reset"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.reset_password(token, form.password.data)
        db.session.commit()
        flash(_("Your password is changed. Please sign in."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token):
    """An invited expert chooses a password; the account is then active."""
    try:
        user = services.accept_invitation(token, None)
    except services.InvalidToken as error:
        flash(str(error), "error")
        return redirect(url_for("auth.login"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.accept_invitation(token, form.password.data)
        db.session.commit()
        flash(_("Welcome. Your account is ready; please sign in."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/accept_invitation.html", form=form, user=user)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(user, form.current.data, form.password.data)
        except services.InvalidCredentials as error:
            form.current.errors.append(str(error))
        else:
            db.session.commit()
            # The token rotated: sign in again here; other devices are signed out.
            login_user(user, remember=False)
            flash(_("Your password is changed. Other devices have been signed out."), "success")
            return redirect(url_for("auth.home"))
    return render_template("auth/change_password.html", form=form)

