"""The voter's forms: a phone number, then the code."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TelField
from wtforms.validators import DataRequired, Length, Regexp

from app.forms import strip


class PhoneForm(FlaskForm):
    phone = TelField(_l("Mobile phone number"), filters=[strip], validators=[
        DataRequired(_l("Please enter your mobile phone number.")), Length(max=20)],
        render_kw={"autocomplete": "tel", "inputmode": "tel", "placeholder": "138 0000 0000"})


class CodeForm(FlaskForm):
    phone = HiddenField()
    code = StringField(_l("Verification code"), filters=[strip], validators=[
        DataRequired(_l("Please enter the 6-digit code.")),
        Regexp(r"^\d{6}$", message=_l("The code has 6 digits."))],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 6})
