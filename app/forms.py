"""Validators and fields shared by the forms of every package."""
from flask_babel import lazy_gettext as _l
from wtforms import ValidationError
from wtforms.validators import Length

MIN_PASSWORD = 10


def own_ids(form, prefix):
    """``form`` with its fields' ids made its own (``prefix``-name): a page that shows the same
    form several times (a button per signal, an answer per objection) keeps each label bound to
    its own field, and no two elements share an id."""
    for field in form:
        field.id = field.label.field_id = f"{prefix}-{field.name}"
    return form


def strip(value):
    return value.strip() if isinstance(value, str) else value


def lower_strip(value):
    return value.strip().lower() if isinstance(value, str) else value


def password_rules():
    return [Length(min=MIN_PASSWORD, max=128, message=_l("Use %(min)d to 128 characters.",
                                                          min=MIN_PASSWORD))]


def not_only_digits(_form, field):
    if field.data and field.data.isdigit():
        raise ValidationError(_l("A password of digits only is too easy to guess."))
