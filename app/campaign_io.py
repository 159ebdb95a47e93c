"""Campaign definitions as YAML files: import (validated, all or nothing) and export.

A file holds the campaign's fields, ``windows``, ``categories`` (each with ``weights``, optional
``windows`` and a ``rubric``), and, for import only, ``agencies`` and ``accounts`` (whose passwords
are generated and returned once, never read from the file). Feature packages add sections of
their own (nominations adds ``entries``) with ``register_section``, and settings of their own
(voting adds ``fraud_thresholds``) with ``register_setting``.

Every value goes through the same WTForms forms as the organiser's pages, so a file and a browser
are held to the same rules. Problems are reported with the line and the field; if there is any,
nothing is written. Times are wall-clock times in the campaign's time zone, either absolute
(``2020-03-17 09:00``) or relative to the day of import (``today+7d 18:00``, ``today-1d``), so that
a demo campaign is always open when it is loaded.
"""
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from .admin import services as admin_services
from .admin.forms import CampaignForm, CategoryForm
from .auth import services as account_services
from .database import utcnow
from .extensions import db
from .models import PHASES, Agency, Campaign, Role

RELATIVE = re.compile(r"^today(?:\s*([+-])\s*(\d{1,4})\s*d)?(?:\s+(\d{1,2}):(\d{2}))?$")
FORM_TIME = "%Y-%m-%dT%H:%M"
FILE_TIME = "%Y-%m-%d %H:%M"

CAMPAIGN_KEYS = {
    "slug": "slug", "title": "title", "theme": "theme", "description": "description",
    "timezone": "timezone", "public": "is_public", "objection_days": "objection_days",
}
CATEGORY_KEYS = {
    "key": "key", "name": "name", "description": "description", "kind": "kind",
    "number_prefix": "number_prefix", "winners": "winners", "aggregation": "aggregation",
    "reviewers_per_entry": "reviewers_per_entry", "votes_per_day": "votes_per_day",
    "tally_visibility": "tally_visibility", "blind_review": "blind_review",
}
WEIGHT_KEYS = {"expert": "expert_weight", "public": "public_weight"}
CRITERION_KEYS = ("name", "description", "max_points")
AGENCY_KEYS = ("name", "contact_name", "contact_phone")
ACCOUNT_KEYS = ("email", "name", "role", "agency")

#: name -> loader(items, context) for sections that feature packages add.
SECTIONS = {}
#: name -> Setting for campaign settings that feature packages own (a mapping in the file).
SETTINGS = {}


@dataclass(frozen=True)
class Setting:
    #: load(value, context): check the file's value, reporting problems, and set it on
    #: ``context.campaign``
    load: object
    #: dump(campaign): the value to write, None for nothing (the defaults)
    dump: object


def register_section(name, loader):
    """Let a feature package load a top-level section (after the campaign and its categories)."""
    SECTIONS[name] = loader


def register_setting(name, load, dump):
    """Let a feature package read and write a campaign setting of its own (``Setting``)."""
    SETTINGS[name] = Setting(load, dump)


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    message: str

    def __str__(self):
        return _("line %(line)s, %(field)s: %(message)s", line=self.line, field=self.field,
                 message=self.message)


class CampaignFileError(Exception):
    """The file has problems; nothing was written."""

    def __init__(self, problems):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class ImportResult:
    campaign: Campaign
    #: email -> generated password, for the accounts this import created.
    passwords: dict = field(default_factory=dict)
    #: section name -> count of what its loader created.
    counts: dict = field(default_factory=dict)


@dataclass
class Context:
    """What a section loader gets: the new campaign, lookups, and a way to report problems."""

    campaign: Campaign
    lines: dict
    problems: list
    agencies: dict = field(default_factory=dict)

    def problem(self, path, message):
        self.problems.append(Problem(line_of(self.lines, path), path_name(path), str(message)))

    def category(self, key):
        return next((c for c in self.campaign.categories if c.key == key), None)


# -- reading YAML with line numbers ---------------------------------------------------------

def _walk(loader, node, path, lines, problems):
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node)
            if not isinstance(key, (str, int)):
                problems.append(Problem(key_node.start_mark.line + 1, path_name(path),
                                        _("keys must be plain words")))
                continue
            key = str(key)
            if key in result:
                problems.append(Problem(key_node.start_mark.line + 1, path_name(path + (key,)),
                                        _("this key appears twice")))
            result[key] = _walk(loader, value_node, path + (key,), lines, problems)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_walk(loader, item, path + (i,), lines, problems) for i, item in enumerate(node.value)]
    return loader.construct_object(node)


def parse_yaml(text):
    """(data, lines, problems): ``lines`` maps a path tuple to its 1-based line."""
    lines, problems = {}, []
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = _walk(loader, node, (), lines, problems) if node is not None else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        reason = getattr(error, "problem", None) or str(error)
        raise CampaignFileError([Problem(line, "-", _("not valid YAML: %(reason)s",
                                                      reason=reason))]) from error
    finally:
        loader.dispose()
    return data, lines, problems


def path_name(path):
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "-"


def line_of(lines, path):
    path = tuple(path)
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


# -- turning file values into form values ---------------------------------------------------

def _time_value(value, tz_name):
    """A file time as the form's text, or the raw text (the form then names it invalid)."""
    if isinstance(value, datetime):
        return value.strftime(FORM_TIME)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day).strftime(FORM_TIME)
    if isinstance(value, str):
        match = RELATIVE.match(value.strip())
        if match:
            sign, days, hour, minute = match.groups()
            try:
                today = utcnow().astimezone(ZoneInfo(tz_name)).date()
            except (ZoneInfoNotFoundError, ValueError):
                today = utcnow().date()
            offset = int(days or 0) * (-1 if sign == "-" else 1)
            day = today + timedelta(days=offset)
            return f"{day.isoformat()}T{int(hour or 0):02d}:{int(minute or 0):02d}"
        return value.strip()
    return "" if value is None else str(value)


def _form_value(value):
    if value is True:
        return "y"
    if value is False or value is None:
        return None
    return str(value)


class _Mapper:
    """Collects form data from a file section and remembers which path each field came from."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.formdata = MultiDict()
        self.paths = {}

    def put(self, field_name, value, path):
        self.paths[field_name] = path
        if value is not None:
            self.formdata.add(field_name, value)


def _check_keys(section, allowed, path, problems, lines):
    for key in section:
        if key not in allowed:
            problems.append(Problem(line_of(lines, path + (key,)), path_name(path + (key,)),
                                    _("unknown field")))


def _expect(kind, value, path, problems, lines, label):
    if not isinstance(value, kind):
        problems.append(Problem(line_of(lines, path), path_name(path), label))
        return False
    return True


def _windows(mapper, section, path, tz_name, problems, lines):
    windows = section.get("windows") or {}
    if not _expect(dict, windows, path + ("windows",), problems, lines,
                   _("expected phases with opens and closes")):
        return
    _check_keys(windows, PHASES, path + ("windows",), problems, lines)
    for phase in PHASES:
        window = windows.get(phase) or {}
        wpath = path + ("windows", phase)
        if not _expect(dict, window, wpath, problems, lines, _("expected opens and closes")):
            continue
        _check_keys(window, ("opens", "closes"), wpath, problems, lines)
        for edge in ("opens", "closes"):
            value = _time_value(window[edge], tz_name) if edge in window else None
            mapper.put(f"{phase}_{edge}", value, wpath + (edge,))


def _form_problems(form, mapper, lines, problems):
    def add(field_name, messages):
        path = mapper.paths.get(field_name, mapper.prefix)
        for message in messages:
            problems.append(Problem(line_of(lines, path), path_name(path), str(message)))

    for name, field_obj in form._fields.items():
        if name == "criteria":
            for index, row in enumerate(field_obj.entries):
                for sub_name, sub_field in row.form._fields.items():
                    add(f"criteria-{index}-{sub_name}", sub_field.errors)
            add("criteria", [e for e in field_obj.errors if isinstance(e, str)]
                or [str(e) for e in field_obj.errors if not isinstance(e, (dict, list))])
        else:
            add(name, field_obj.errors)


def _campaign_form(data, lines, problems):
    mapper = _Mapper(())
    _check_keys(data, set(CAMPAIGN_KEYS) | {"windows", "categories", "agencies", "accounts"}
                | set(SECTIONS) | set(SETTINGS), (), problems, lines)
    tz_name = data.get("timezone") or "Asia/Shanghai"
    for key, field_name in CAMPAIGN_KEYS.items():
        mapper.put(field_name, _form_value(data[key]) if key in data else None, (key,))
    if "timezone" not in data:
        mapper.formdata.add("timezone", "Asia/Shanghai")
    if "objection_days" not in data:
        mapper.formdata.add("objection_days", "7")
    _windows(mapper, data, (), str(tz_name), problems, lines)
    form = CampaignForm(formdata=mapper.formdata, meta={"csrf": False})
    if not form.validate():
        _form_problems(form, mapper, lines, problems)
    return form


CATEGORY_DEFAULTS = {"reviewers_per_entry": "3", "votes_per_day": "1", "aggregation": "mean",
                     "tally_visibility": "live", "winners": "10"}


def _category_form(item, path, tz_name, lines, problems):
    mapper = _Mapper(path)
    mapper.put("position", str(path[-1]), path)  # the file's order is the page's order
    _check_keys(item, set(CATEGORY_KEYS) | {"weights", "windows", "rubric"}, path, problems, lines)
    for key, field_name in CATEGORY_KEYS.items():
        value = _form_value(item[key]) if key in item else CATEGORY_DEFAULTS.get(key)
        mapper.put(field_name, value, path + (key,))
    weights = item.get("weights") or {}
    if _expect(dict, weights, path + ("weights",), problems, lines,
               _("expected expert and public weights")):
        _check_keys(weights, WEIGHT_KEYS, path + ("weights",), problems, lines)
        for key, field_name in WEIGHT_KEYS.items():
            mapper.put(field_name, _form_value(weights.get(key)), path + ("weights", key))
    _windows(mapper, item, path, tz_name, problems, lines)
    rubric = item.get("rubric") or []
    if _expect(list, rubric, path + ("rubric",), problems, lines, _("expected a list of criteria")):
        mapper.paths["criteria"] = path + ("rubric",)
        for index, criterion in enumerate(rubric):
            cpath = path + ("rubric", index)
            if not _expect(dict, criterion, cpath, problems, lines,
                           _("expected name, description and max_points")):
                continue
            _check_keys(criterion, CRITERION_KEYS, cpath, problems, lines)
            for key in CRITERION_KEYS:
                mapper.put(f"criteria-{index}-{key}", _form_value(criterion.get(key)), cpath + (key,))
    form = CategoryForm(formdata=mapper.formdata, meta={"csrf": False})
    if not form.validate():
        _form_problems(form, mapper, lines, problems)
    return form


def _form_values(form):
    return {name: f.data for name, f in form._fields.items() if name != "criteria"}


def _list_section(data, name, lines, problems):
    items = data.get(name) or []
    if not _expect(list, items, (name,), problems, lines, _("expected a list")):
        return []
    return items


# -- import ----------------------------------------------------------------------------------

def import_campaign(text):
    """Create the campaign a YAML file describes; CampaignFileError (nothing written) if bad."""
    data, lines, problems = parse_yaml(text)
    if not isinstance(data, dict):
        raise CampaignFileError([Problem(1, "-", _("expected a campaign: slug, title, categories"))])
    campaign_form = _campaign_form(data, lines, problems)
    tz_name = campaign_form.timezone.data if not campaign_form.timezone.errors else "Asia/Shanghai"
    categories = _list_section(data, "categories", lines, problems)
    if not categories and "categories" not in data:
        problems.append(Problem(1, "categories", _("a campaign needs at least one category")))
    category_forms = []
    for index, item in enumerate(categories):
        path = ("categories", index)
        if _expect(dict, item, path, problems, lines, _("expected a category")):
            category_forms.append((path, _category_form(item, path, tz_name, lines, problems)))
    if problems:
        raise CampaignFileError(problems)

    savepoint = db.session.begin_nested()
    try:
        result = _write(data, lines, problems, campaign_form, category_forms)
        if problems:
            raise CampaignFileError(problems)
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return result


def _write(data, lines, problems, campaign_form, category_forms):
    try:
        campaign = admin_services.save_campaign(_form_values(campaign_form))
    except admin_services.AdminError as error:
        problems.append(Problem(line_of(lines, ("slug",)), "slug", str(error)))
        return None
    for path, form in category_forms:
        try:
            admin_services.save_category(campaign, _form_values(form), form.criteria_rows())
        except admin_services.AdminError as error:
            problems.append(Problem(line_of(lines, path + (error.field,)),
                                    path_name(path + (error.field,)), str(error)))
    result = ImportResult(campaign)
    context = Context(campaign, lines, problems)
    _import_agencies(data, context)
    _import_accounts(data, context, result)
    for name, loader in SECTIONS.items():
        if name in data:
            items = _list_section(data, name, lines, problems)
            result.counts[name] = loader(items, context)
    for name, setting in SETTINGS.items():
        if name in data:
            setting.load(data[name], context)
    return result


def _import_agencies(data, context):
    for index, item in enumerate(_list_section(data, "agencies", context.lines, context.problems)):
        path = ("agencies", index)
        if not _expect(dict, item, path, context.problems, context.lines, _("expected an agency")):
            continue
        _check_keys(item, AGENCY_KEYS, path, context.problems, context.lines)
        name = str(item.get("name") or "").strip()
        if not name or len(name) > 120:
            context.problem(path + ("name",), _("an agency needs a name of at most 120 characters"))
            continue
        agency = db.session.scalar(select(Agency).where(Agency.name == name))
        if agency is None:
            agency = Agency(name=name, contact_name=str(item.get("contact_name") or "")[:60],
                            contact_phone=str(item.get("contact_phone") or "")[:40])
            db.session.add(agency)
        context.agencies[name] = agency
    db.session.flush()


def _import_accounts(data, context, result):
    for index, item in enumerate(_list_section(data, "accounts", context.lines, context.problems)):
        path = ("accounts", index)
        if not _expect(dict, item, path, context.problems, context.lines, _("expected an account")):
            continue
        _check_keys(item, ACCOUNT_KEYS, path, context.problems, context.lines)
        email = str(item.get("email") or "").strip().lower()
        role = str(item.get("role") or "")
        if role not in {r.value for r in Role}:
            context.problem(path + ("role",), _("role must be organiser, agency or expert"))
            continue
        if "@" not in email or len(email) > 254:
            context.problem(path + ("email",), _("not a valid email address"))
            continue
        agency = None
        if item.get("agency"):
            agency = context.agencies.get(str(item["agency"])) or db.session.scalar(
                select(Agency).where(Agency.name == str(item["agency"])))
            if agency is None:
                context.problem(path + ("agency",), _("no agency of this name in the file"))
                continue
        elif role == Role.AGENCY:
            context.problem(path + ("agency",), _("an agency account needs its agency"))
            continue
        existing = account_services.find_user(email)
        if existing is not None:
            if existing.role != role:
                context.problem(path + ("email",), _("an account with this email has another role"))
            continue
        password = secrets.token_urlsafe(12)
        account_services.create_user(email, str(item.get("name") or email), role, password, agency)
        result.passwords[email] = password


# -- export ----------------------------------------------------------------------------------

def _file_time(moment, tz_name):
    local = admin_services.to_local(moment, tz_name)
    return local.strftime(FILE_TIME) if local else None


def _export_windows(obj, tz_name):
    windows = {}
    for phase in PHASES:
        # The object's own columns: a category's empty window inherits the campaign's.
        opens, closes = getattr(obj, f"{phase}_opens"), getattr(obj, f"{phase}_closes")
        if opens or closes:
            windows[phase] = {"opens": _file_time(opens, tz_name), "closes": _file_time(closes, tz_name)}
    return windows


def campaign_to_dict(campaign):
    """The campaign definition in the file's structure (no accounts, agencies or entries)."""
    tz_name = campaign.timezone
    out = {
        "slug": campaign.slug, "title": campaign.title, "theme": campaign.theme,
        "description": campaign.description, "timezone": tz_name, "public": campaign.is_public,
        "objection_days": campaign.objection_days,
        "windows": _export_windows(campaign, tz_name),
        "categories": [],
    }
    for category in campaign.categories:
        item = {
            "key": category.key, "name": category.name, "description": category.description,
            "kind": category.kind.value, "number_prefix": category.number_prefix,
            "winners": category.winners,
            "weights": {"expert": category.expert_weight, "public": category.public_weight},
            "aggregation": category.aggregation.value,
            "reviewers_per_entry": category.reviewers_per_entry,
            "votes_per_day": category.votes_per_day,
            "tally_visibility": category.tally_visibility.value,
            "blind_review": category.blind_review,
        }
        windows = _export_windows(category, tz_name)
        if windows:
            item["windows"] = windows
        item["rubric"] = [
            {"name": c.name, "description": c.description, "max_points": c.max_points}
            for c in category.criteria
        ]
        out["categories"].append(item)
    for name, setting in SETTINGS.items():
        value = setting.dump(campaign)
        if value is not None:
            out[name] = value
    return out


def export_campaign(campaign):
    """The campaign as YAML text that ``import_campaign`` reads back."""
    return yaml.safe_dump(campaign_to_dict(campaign), allow_unicode=True, sort_keys=False,
                          width=100)
