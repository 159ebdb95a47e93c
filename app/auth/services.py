"""Account use cases. Plain values in, domain exceptions out; the caller commits."""
import secrets

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..database import utcnow
from ..extensions import db
from ..mail import queue_mail
from ..models import Agency, Role, User, UserStatus
from ..public import absolute_url


class AuthError(Exception):
    """A use case refused; ``str(error)`` is a message for the user."""


class InvalidCredentials(AuthError):
    pass


class AccountNotActive(AuthError):
    def __init__(self, status):
        super().__init__(status)
        self.status = status


class EmailTaken(AuthError):
    pass


class AgencyNameTaken(AuthError):
    pass


class InvalidToken(AuthError):
    pass


#: Compared against when the email is unknown, so that the answer takes as long either way.
_DUMMY_HASH = generate_password_hash("not a password of anyone")


def find_user(email):
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def authenticate(email, password):
    """The user with this email and password; InvalidCredentials or AccountNotActive otherwise.

    It only reads: the caller runs it inside ``app.database.reading_first``, for the password's
    hash takes tens of milliseconds of CPU (scrypt), and no other write of the site may wait on
    a sign-in (anyone may try one, from many addresses). ``record_sign_in`` then writes."""
    user = find_user(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        raise InvalidCredentials()
    if not user.check_password(password):
        raise InvalidCredentials()
    if user.status != UserStatus.ACTIVE:
        raise AccountNotActive(user.status)
    return user


def record_sign_in(user):
    user.last_login_at = utcnow()


def sign_out(user):
    """End every session of ``user``: cookies copied before this moment stop working."""
    user.rotate_session_token()


def create_user(email, name, role, password, agency=None, status=UserStatus.ACTIVE):
    """A new account; EmailTaken if the email is in use."""
    email = email.strip().lower()
    if find_user(email) is not None:
        raise EmailTaken(_("An account with this email already exists."))
    user = User(email=email, name=name.strip(), role=Role(role), status=status, agency=agency)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def register_agency(agency_name, contact_name, contact_phone, email, password):
    """An agency and its first member, waiting for an organiser's approval."""
    name = agency_name.strip()
    if db.session.scalar(select(Agency).where(Agency.name == name)) is not None:
        raise AgencyNameTaken(_("An agency with this name is already registered."))
    agency = Agency(name=name, contact_name=contact_name.strip(), contact_phone=contact_phone or "")
    db.session.add(agency)
    return create_user(email, contact_name, Role.AGENCY, password, agency, UserStatus.PENDING)


def decide_agency(user, approve):
    """Approve or reject a pending agency account and tell the agency by mail."""
    if user.role != Role.AGENCY or user.status != UserStatus.PENDING:
        raise AuthError(_("This account is not waiting for approval."))
    user.status = UserStatus.ACTIVE if approve else UserStatus.REJECTED
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        if approve:
            subject = _("Your agency account is approved")
            body = _(
                "Your account for %(agency)s is approved. You can now sign in: %(url)s",
                agency=user.agency.name if user.agency else user.name,
                url=_absolute("auth.login"),
            )
        else:
            subject = _("Your agency registration was not approved")
            body = _("Your registration for %(agency)s was not approved. Please contact the organiser.",
                     agency=user.agency.name if user.agency else user.name)
    queue_mail(db.session, user.email, subject, body)
    return user


def change_password(user, current, new):
    if not user.check_password(current):
        raise InvalidCredentials(_("The current password is wrong."))
    user.set_password(new)


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def _absolute(endpoint, **values):
    return absolute_url(url_for(endpoint, **values))


def request_password_reset(email):
    """Mail a reset link if an active account has this email; answer the same either way."""
    user = find_user(email)
    if user is None or user.status != UserStatus.ACTIVE:
        return
    # The token names the session token, so it is void once used (the password change rotates it).
    token = _serializer().dumps({"id": user.id, "s": user.session_token})
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = _("Reset your password")
        body = _(
            "Open this link within one hour to choose a new password: %(url)s\n"
            "If you did not ask for it, ignore this mail.",
            url=_absolute("auth.reset_password", token=token),
        )
    queue_mail(db.session, user.email, subject, body)


def tell_owner_of_registration_attempt(email):
    """Someone tried to register an agency with an email that has an account: tell its owner
    (the form answers as if it had worked, so that it reveals no account)."""
    user = find_user(email)
    if user is None:
        return
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = _("Someone tried to register with your email")
        body = _(
            "An agency registration was just submitted with this email, which already has an "
            "account. If it was you, sign in at %(url)s or reset your password there. If it was "
            "not you, you need do nothing.", url=_absolute("auth.login"))
    queue_mail(db.session, user.email, subject, body)


INVITATION_MAX_AGE = 14 * 24 * 3600


def invite_expert(email, name, agency=None):
    """An expert account waiting for its owner to set a password through the mailed link.

    ``agency`` is the expert's affiliation: they are never given entries of that agency.
    """
    user = create_user(email, name, Role.EXPERT, secrets.token_urlsafe(32), agency,
                       UserStatus.INVITED)
    token = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="invitation").dumps(
        {"id": user.id, "s": user.session_token})
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = _("You are invited to review for the awards")
        body = _("%(name)s, you are invited as an expert reviewer. Open this link within 14 days "
                 "to choose your password: %(url)s", name=user.name,
                 url=_absolute("auth.accept_invitation", token=token))
    queue_mail(db.session, user.email, subject, body)
    return user


def accept_invitation(token, password):
    """Set the invited expert's password and activate the account."""
    try:
        data = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="invitation").loads(
            token, max_age=INVITATION_MAX_AGE)
    except (SignatureExpired, BadSignature) as error:
        raise InvalidToken(_("This invitation is invalid or has expired. Please ask the organiser "
                             "for a new one.")) from error
    user = db.session.get(User, data.get("id")) if isinstance(data, dict) else None
    if user is None or user.status != UserStatus.INVITED or user.session_token != data.get("s"):
        raise InvalidToken(_("This invitation is invalid or has expired. Please ask the organiser "
                             "for a new one."))
    if password is not None:
        user.set_password(password)
        user.status = UserStatus.ACTIVE
    return user


def user_for_reset_token(token):
    try:
        data = _serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except (SignatureExpired, BadSignature) as error:
        raise InvalidToken(_("This link is invalid or has expired. Please ask for a new one.")) from error
    user = db.session.get(User, data.get("id")) if isinstance(data, dict) else None
    if user is None or user.session_token != data.get("s") or user.status != UserStatus.ACTIVE:
        raise InvalidToken(_("This link is invalid or has expired. Please ask for a new one."))
    return user


def reset_password(token, new_password):
    user = user_for_reset_token(token)
    user.set_password(new_password)
    return user
