"""Forms for signing in, registering an agency and managing passwords."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, Regexp

from ..forms import lower_strip, not_only_digits, password_rules, strip


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), filters=[lower_strip], validators=[
        DataRequired(_l("Please enter your email.")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Please enter your password.")), Length(max=128)])


class NewPasswordMixin:
    password = PasswordField(_l("New password"), validators=[
        DataRequired(_l("Please choose a password.")), *password_rules(), not_only_digits])
    confirm = PasswordField(_l("Repeat the password"), validators=[
        DataRequired(_l("Please repeat the password.")),
        EqualTo("password", _l("The two passwords differ."))])


class RegisterAgencyForm(NewPasswordMixin, FlaskForm):
    agency_name = StringField(_l("Agency name"), filters=[strip], validators=[
        DataRequired(_l("Please enter the agency's full name.")), Length(min=2, max=120)])
    contact_name = StringField(_l("Contact person"), filters=[strip], validators=[
        DataRequired(_l("Please name a contact person.")), Length(max=60)])
    contact_phone = StringField(_l("Contact phone"), filters=[strip], validators=[
        Optional(), Length(max=40),
        Regexp(r"^[0-9+\-() ]{5,40}$", message=_l("Use digits, spaces, +, - and brackets only."))])
    email = EmailField(_l("Email"), filters=[lower_strip], validators=[
        DataRequired(_l("Please enter your email.")),
        Email(_l("This is not a valid email address."), check_deliverability=False),
        Length(max=254)])


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("Email"), filters=[lower_strip], validators=[
        DataRequired(_l("Please enter your email.")), Length(max=254)])


class ResetPasswordForm(NewPasswordMixin, FlaskForm):
    """Choose a new password from a reset link."""


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current = PasswordField(_l("Current password"), validators=[
        DataRequired(_l("Please enter your current password.")), Length(max=128)])
