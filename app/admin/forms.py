"""Campaign and category forms. The YAML importer validates through these same forms."""
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from ..forms import strip
from ..i18n import AGGREGATION_NAMES, KIND_NAMES, TALLY_NAMES
from ..models import PHASES, Aggregation, Kind, TallyVisibility

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
#: Blank rubric rows offered under the existing ones, so a criterion can be added without JS.
SPARE_CRITERIA = 2
MAX_CRITERIA = 20


def _datetime_field(label):
    return DateTimeLocalField(label, format=DATETIME_FORMATS, validators=[Optional()])


def _validate_timezone(_form, field):
    try:
        ZoneInfo(field.data)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(_l("Unknown time zone; use a name such as Asia/Shanghai.")) from error


class WindowsMixin:
    """Open/close fields for each phase, checked in pairs."""

    nomination_opens = _datetime_field(_l("Nomination opens"))
    nomination_closes = _datetime_field(_l("Nomination closes"))
    review_opens = _datetime_field(_l("Review opens"))
    review_closes = _datetime_field(_l("Review closes"))
    voting_opens = _datetime_field(_l("Voting opens"))
    voting_closes = _datetime_field(_l("Voting closes"))

    def validate_windows(self):
        ok = True
        for phase in PHASES:
            opens, closes = self[f"{phase}_opens"], self[f"{phase}_closes"]
            if bool(opens.data) != bool(closes.data):
                (closes if opens.data else opens).errors.append(
                    _l("Give both the opening and the closing time, or neither."))
                ok = False
            elif opens.data and closes.data <= opens.data:
                closes.errors.append(_l("The closing time must be after the opening time."))
                ok = False
        return ok


class CampaignForm(WindowsMixin, FlaskForm):
    slug = StringField(_l("Short name in links"), filters=[strip], validators=[
        DataRequired(_l("Please give a short name.")), Length(max=60),
        Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
               message=_l("Use lower-case letters, digits and hyphens, e.g. gz-2020."))])
    title = StringField(_l("Title"), filters=[strip], validators=[
        DataRequired(_l("Please give a title.")), Length(max=120)])
    theme = StringField(_l("Theme"), filters=[strip], validators=[Optional(), Length(max=120)])
    description = TextAreaField(_l("Description"), filters=[strip],
                                validators=[Optional(), Length(max=5000)])
    timezone = StringField(_l("Time zone"), default="Asia/Shanghai", filters=[strip],
                           validators=[DataRequired(), Length(max=60), _validate_timezone])
    is_public = BooleanField(_l("Shown on the public site"))
    objection_days = IntegerField(_l("Objection window (days)"), default=7, validators=[
        InputRequired(_l("Please give a number of days.")),
        NumberRange(0, 60, _l("Between %(min)s and %(max)s days."))])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        return self.validate_windows() and ok


class CriterionForm(Form):
    """One rubric row; a row left blank is ignored."""

    name = StringField(_l("Criterion"), filters=[strip], validators=[Optional(), Length(max=80)])
    description = StringField(_l("What it means"), filters=[strip],
                              validators=[Optional(), Length(max=500)])
    max_points = IntegerField(_l("Max points"), validators=[
        Optional(), NumberRange(1, 1000, _l("Between %(min)s and %(max)s points."))])

    @property
    def is_blank(self):
        return not self.data["name"] and self.data["max_points"] is None and not self.data["description"]


def _choices(names):
    return [SelectChoice(key, label) for key, label in names.items()]


class CategoryForm(WindowsMixin, FlaskForm):
    key = StringField(_l("Key"), filters=[strip], validators=[
        DataRequired(_l("Please give a key.")), Length(max=40),
        Regexp(r"^[a-z0-9_]+$", message=_l("Use lower-case letters, digits and underscores."))])
    name = StringField(_l("Name"), filters=[strip], validators=[
        DataRequired(_l("Please give a name.")), Length(max=120)])
    description = TextAreaField(_l("Description"), filters=[strip],
                                validators=[Optional(), Length(max=5000)])
    kind = SelectField(_l("Kind of entry"), choices=_choices(KIND_NAMES),
                       validators=[DataRequired()])
    number_prefix = StringField(_l("Number prefix"), filters=[lambda v: v.strip().upper() if v else v],
                                validators=[DataRequired(_l("Please give a prefix, e.g. SW.")),
                                            Regexp(r"^[A-Z]{1,6}$",
                                                   message=_l("One to six capital letters."))])
    position = IntegerField(_l("Order on the page"), default=0,
                            validators=[Optional(), NumberRange(0, 999)])
    winners = IntegerField(_l("Winners (at least)"), default=10, validators=[
        InputRequired(_l("Please give the number of winners.")),
        NumberRange(1, 1000, _l("Between %(min)s and %(max)s."))])
    expert_weight = DecimalField(_l("Weight of the expert score"), places=2, default=Decimal("1"),
                                 validators=[InputRequired(_l("Please give a weight.")),
                                             NumberRange(0, 1, _l("Between 0 and 1."))])
    public_weight = DecimalField(_l("Weight of the public vote"), places=2, default=Decimal("0"),
                                 validators=[InputRequired(_l("Please give a weight.")),
                                             NumberRange(0, 1, _l("Between 0 and 1."))])
    aggregation = SelectField(_l("How expert reviews are combined"),
                              choices=_choices(AGGREGATION_NAMES), default=Aggregation.MEAN.value)
    reviewers_per_entry = IntegerField(_l("Experts per entry"), default=3, validators=[
        InputRequired(), NumberRange(0, 50, _l("Between %(min)s and %(max)s."))])
    votes_per_day = IntegerField(_l("Votes per voter per day"), default=1, validators=[
        InputRequired(), NumberRange(0, 100, _l("Between %(min)s and %(max)s."))])
    tally_visibility = SelectField(_l("Vote counts shown"), choices=_choices(TALLY_NAMES),
                                   default=TallyVisibility.LIVE.value)
    blind_review = BooleanField(_l("Blind review (experts see no agency or names)"))
    criteria = FieldList(FormField(CriterionForm), min_entries=1, max_entries=MAX_CRITERIA)

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        ok = self.validate_windows() and ok
        if self.expert_weight.data is None or self.public_weight.data is None:
            return False
        if self.expert_weight.data + self.public_weight.data != Decimal("1"):
            self.public_weight.errors.append(
                _l("The two weights must add up to 1 (e.g. 0.6 and 0.4)."))
            return False
        reviewed = self.kind.data != Kind.REPORT and self.expert_weight.data > 0
        voted = self.kind.data != Kind.REPORT and self.public_weight.data > 0
        rows = [row for row in self.criteria if not row.form.is_blank]
        for row in rows:
            if not row.form.name.data:
                row.form.name.errors.append(_l("Please name the criterion."))
                ok = False
            if row.form.max_points.data is None:
                row.form.max_points.errors.append(_l("Please give the maximum points."))
                ok = False
        if reviewed and not rows:
            self.criteria.errors.append(_l("A reviewed category needs at least one rubric criterion."))
            ok = False
        if reviewed and not self.reviewers_per_entry.data:
            self.reviewers_per_entry.errors.append(
                _l("A reviewed category needs at least one expert per entry."))
            ok = False
        if voted and not self.votes_per_day.data:
            self.votes_per_day.errors.append(
                _l("A category with a public vote needs at least one vote a day."))
            ok = False
        return ok

    def criteria_rows(self):
        """(name, description, max_points) of the rows that were filled in."""
        return [
            (row.form.name.data, row.form.description.data or "", row.form.max_points.data)
            for row in self.criteria
            if not row.form.is_blank
        ]


class InviteExpertForm(FlaskForm):
    """An organiser invites an expert; the affiliation keeps them off their agency's entries."""

    name = StringField(_l("Name"), filters=[strip], validators=[
        DataRequired(_l("Please give a name.")), Length(max=80)])
    email = StringField(_l("Email"), filters=[lambda v: v.strip().lower() if v else v], validators=[
        DataRequired(_l("Please enter your email.")),
        Email(_l("This is not a valid email address."), check_deliverability=False),
        Length(max=254)])
    agency = SelectField(_l("Affiliation (agency)"), coerce=int, default=0)
