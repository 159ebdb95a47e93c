"""One form per kind of entry. A draft needs only a title; submitting checks every field."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    BooleanField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from app.forms import strip

PHONE = Regexp(r"^[0-9+\-() ]{3,40}$", message=_l("Use digits, spaces, +, - and brackets only."))
CERTIFICATE_LEVELS = {
    "assistant": _l("Assistant social worker"),
    "intermediate": _l("Social worker (intermediate certificate)"),
    "senior": _l("Senior social worker"),
    "none": _l("No certificate"),
}


def _text(label, limit, rows=None):
    render = {"rows": rows} if rows else {}
    return TextAreaField(label, filters=[strip], render_kw=render,
                         validators=[Optional(), Length(max=limit)])


def _line(label, limit, *validators):
    return StringField(label, filters=[strip], validators=[Optional(), Length(max=limit), *validators])


class EntryForm(FlaskForm):
    """Fields every entry has; each kind adds its ``details`` fields."""

    title = StringField(_l("Title"), filters=[strip], validators=[
        DataRequired(_l("Please give a title.")), Length(max=120)])
    summary = _text(_l("Summary"), 500, rows=3)
    photos = MultipleFileField(_l("Photos (JPEG, PNG or WebP)"))
    documents = MultipleFileField(_l("Documents (PDF)"))

    #: Names of the kind-specific fields, stored in Entry.details.
    detail_fields: tuple = ()
    #: Fields that must be filled in before the entry can be submitted.
    required_on_submit: tuple = ("summary",)
    #: Boxes that must be ticked before submitting.
    confirmations: tuple = ()

    def validate_for_submit(self):
        """The extra checks of a submission; adds errors and returns False when one fails."""
        ok = True
        for name in self.required_on_submit:
            field = self[name]
            if field.data in (None, "", []):
                field.errors = [*field.errors, _l("Required before submitting.")]
                ok = False
        for name in self.confirmations:
            if not self[name].data:
                self[name].errors = [*self[name].errors, _l("Please confirm before submitting.")]
                ok = False
        return ok

    def details(self):
        return {name: self[name].data for name in self.detail_fields}


class ProjectForm(EntryForm):
    period = _line(_l("Service period"), 60)
    beneficiaries = IntegerField(_l("People served"), validators=[
        Optional(), NumberRange(0, 10_000_000, _l("Between %(min)s and %(max)s."))])
    description = _text(_l("What the project did"), 5000, rows=8)
    outcomes = _text(_l("Outcomes"), 3000, rows=5)

    detail_fields = ("period", "beneficiaries", "description", "outcomes")
    required_on_submit = ("summary", "period", "description", "outcomes")


class StoryForm(EntryForm):
    author = _line(_l("Written by"), 60)
    text = _text(_l("The story"), 8000, rows=14)

    detail_fields = ("author", "text")
    required_on_submit = ("summary", "author", "text")

    def validate_text(self, field):
        if field.data and len(field.data) < 200:
            raise ValidationError(_l("A story needs at least 200 characters."))


class CaseForm(EntryForm):
    background = _text(_l("Background"), 3000, rows=5)
    assessment = _text(_l("Assessment"), 3000, rows=5)
    intervention = _text(_l("Intervention"), 5000, rows=8)
    outcome = _text(_l("Outcome"), 3000, rows=5)
    anonymised = BooleanField(_l("The client is anonymised: no name, address or photo that "
                                 "identifies them"))

    detail_fields = ("background", "assessment", "intervention", "outcome", "anonymised")
    required_on_submit = ("summary", "background", "assessment", "intervention", "outcome")
    confirmations = ("anonymised",)


class SocialWorkerForm(EntryForm):
    name = _line(_l("Full name"), 40)
    years_of_service = IntegerField(_l("Years of service"), validators=[
        Optional(), NumberRange(0, 60, _l("Between %(min)s and %(max)s."))])
    certificate_level = SelectField(
        _l("Certificate level"), validators=[Optional()],
        choices=[SelectChoice("", _l("(choose)"))]
        + [SelectChoice(key, label) for key, label in CERTIFICATE_LEVELS.items()])
    deeds = _text(_l("What they did"), 5000, rows=8)

    detail_fields = ("name", "years_of_service", "certificate_level", "deeds")
    required_on_submit = ("summary", "name", "years_of_service", "certificate_level", "deeds")


class HotlineForm(EntryForm):
    number = _line(_l("Hotline number"), 40, PHONE)
    station = _line(_l("Service station"), 120)
    address = _line(_l("Address"), 200)
    hours = _line(_l("Hours"), 120)
    services = _text(_l("Services"), 3000, rows=5)

    detail_fields = ("number", "station", "address", "hours", "services")
    required_on_submit = ("summary", "number", "station", "hours", "services")


class ReportForm(EntryForm):
    activity = _text(_l("Activities held"), 5000, rows=8)
    news = _text(_l("News coverage"), 3000, rows=5)
    impact = _text(_l("Impact"), 3000, rows=5)
    contact_name = _line(_l("Contact person"), 40)
    contact_phone = _line(_l("Contact phone"), 40, PHONE)

    detail_fields = ("activity", "news", "impact", "contact_name", "contact_phone")
    required_on_submit = ("activity", "impact", "contact_name", "contact_phone")


FORMS = {
    "project": ProjectForm,
    "story": StoryForm,
    "case": CaseForm,
    "social_worker": SocialWorkerForm,
    "hotline": HotlineForm,
    "report": ReportForm,
}


def form_for(kind, **kwargs):
    return FORMS[str(kind)](**kwargs)


class ReasonForm(FlaskForm):
    """An organiser's rejection, with the reason the agency will read."""

    reason = TextAreaField(_l("Reason (the agency will see it)"), filters=[strip], validators=[
        DataRequired(_l("Please give the reason.")), Length(max=1000)])


class UploadForm(FlaskForm):
    """A CSV or XLSX file of nominations."""

    file = FileField(_l("CSV or XLSX file"))
