"""The scoring form (one integer field per rubric criterion) and the organisers' small forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.forms import strip


def criterion_field(criterion):
    return f"c{criterion.id}"


def score_form(category, **kwargs):
    """A form with a field per criterion of ``category`` (0..max, integers) and a comment."""

    class ScoreForm(FlaskForm):
        comment = TextAreaField(_l("Comment"), filters=[strip],
                                validators=[Optional(), Length(max=3000)])

    for criterion in category.criteria:
        setattr(ScoreForm, criterion_field(criterion), IntegerField(
            criterion.name, description=criterion.description,
            validators=[Optional(), NumberRange(0, criterion.max_points,
                                                _l("Give %(min)s to %(max)s points."))],
            render_kw={"min": 0, "max": criterion.max_points, "inputmode": "numeric"}))
    form = ScoreForm(**kwargs)
    form.criteria_fields = [(criterion, form[criterion_field(criterion)])
                            for criterion in category.criteria]
    return form


class ConflictForm(FlaskForm):
    reason = TextAreaField(_l("Why (optional, seen by organisers)"), filters=[strip],
                           validators=[Optional(), Length(max=1000)])


class ExpertChoiceForm(FlaskForm):
    expert = SelectField(_l("Expert"), coerce=int, validators=[DataRequired()])


class ManualAssignForm(FlaskForm):
    entry = SelectField(_l("Entry"), coerce=int, validators=[DataRequired()])
    expert = SelectField(_l("Expert"), coerce=int, validators=[DataRequired()])


class SheetForm(FlaskForm):
    file = FileField(_l("Filled-in score sheet (XLSX)"))
