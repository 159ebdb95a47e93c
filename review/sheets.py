"""Score sheets for experts who score on paper or in Excel: one XLSX per expert, imported back."""
from dataclasses import dataclass, field

from flask_babel import gettext as _

from app.extensions import db
from nominations.tabular import write_xlsx

from .models import ReviewStatus
from .services import ReviewError, _require_review_open, reviews_of, validate_points

#: Details that name people; hidden from experts in a blind review.
NAME_FIELDS = ("name", "author", "contact_name", "contact_phone")


def visible_title(entry):
    """The title an expert may see: a social worker's title is their name, so blind shows none."""
    if entry.category.blind_review and str(entry.category.kind) == "social_worker":
        return entry.number
    return entry.title


def sheet_header(category):
    return [_("Review"), _("Number"), _("Title"),
            *[f"{c.name} (0-{c.max_points})" for c in category.criteria], _("Comment")]


def export_sheet(category, expert):
    """The expert's assigned entries as an XLSX sheet, with the points given so far."""
    rows = []
    for review in reviews_of(category, expert_id=expert.id):
        rows.append([review.id, review.entry.number, visible_title(review.entry),
                     *[review.points.get(str(c.id)) for c in category.criteria], review.comment])
    return write_xlsx(sheet_header(category), rows, category.key)


@dataclass
class SheetReport:
    recorded: list = field(default_factory=list)
    refused: list = field(default_factory=list)  #: (row, [messages])


class SheetRefused(Exception):
    def __init__(self, report):
        super().__init__(f"{len(report.refused)} rows refused")
        self.report = report


def _int(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number == int(number) else None


def import_sheet(category, header, rows, now):
    """Record the points of a filled-in sheet as submitted reviews: every row right, or none."""
    _require_review_open(category, now)
    criteria = category.criteria
    expected = sheet_header(category)
    if [cell.strip() for cell in header[:len(expected)]] != expected:
        raise SheetRefused(SheetReport(refused=[(1, [_(
            "The first row must be the sheet's own header: %(header)s",
            header=", ".join(expected))])]))
    reviews = {r.id: r for r in reviews_of(category)}
    report = SheetReport()
    prepared = []
    for line, row in enumerate(rows, start=2):
        row = list(row) + [""] * (len(expected) - len(row))
        review = reviews.get(_int(row[0]))
        messages = []
        if review is None:
            messages.append(_("no review with this number in this category"))
        elif review.entry.number != row[1]:
            messages.append(_("the entry number does not match the review"))
        elif review.status == ReviewStatus.SUBMITTED:
            messages.append(_("already submitted; an organiser must reopen it first"))
        points = {}
        for index, criterion in enumerate(criteria, start=3):
            value = _int(row[index])
            if value is None:
                messages.append(_("%(name)s: a whole number of points is needed", name=criterion.name))
            else:
                points[str(criterion.id)] = value
        if not messages:
            try:
                points = validate_points(category, points)
            except ReviewError as error:
                messages.append(str(error))
        if messages:
            report.refused.append((line, messages))
        else:
            prepared.append((review, points, row[len(expected) - 1]))
    if report.refused:
        raise SheetRefused(report)
    for review, points, comment in prepared:
        review.points, review.comment = points, comment or ""
        review.status, review.submitted_at, review.source = ReviewStatus.SUBMITTED, now, "sheet"
        report.recorded.append(review)
    db.session.flush()
    return report
