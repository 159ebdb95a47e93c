"""Locale and time zone: Simplified Chinese by default, English on request; Asia/Shanghai times."""
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.core import get_global
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import get_timezone_location
from flask import Blueprint, current_app, has_request_context, redirect, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from .security import safe_next

LOCALE_COOKIE = "lang"

bp = Blueprint("i18n", __name__)


@cache
def _locale(code):
    return Locale.parse(code)


def select_locale():
    """The locale a visitor chose (a cookie set by /lang/<code>), else the default, zh_CN.
    A parsed Locale, kept: Flask-Babel would parse the name again on every request."""
    chosen = request.cookies.get(LOCALE_COOKIE) if has_request_context() else None
    if chosen in current_app.config["LANGUAGES"]:
        return _locale(chosen)
    return _locale(current_app.config["BABEL_DEFAULT_LOCALE"])


def select_timezone():
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


@bp.get("/lang/<code>")
def switch(code):
    """Remember the visitor's language and go back to the page they came from."""
    target = safe_next(request.args.get("next"))
    response = redirect(target)
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LOCALE_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response


def format_local(moment, tz_name=None, fmt="medium"):
    """An aware datetime shown in ``tz_name`` (default Asia/Shanghai) in the visitor's locale."""
    if moment is None:
        return ""
    tz = ZoneInfo(tz_name or current_app.config["BABEL_DEFAULT_TIMEZONE"])
    pattern = {"medium": "yyyy-MM-dd HH:mm", "date": "yyyy-MM-dd", "long": None}.get(fmt, fmt)
    if pattern is None:
        return babel_format_datetime(moment, format="long", tzinfo=tz, locale=get_locale())
    return babel_format_datetime(moment, format=pattern, tzinfo=tz, locale=get_locale())


def zone_name(tz_name):
    """A time zone as people say it, in the visitor's language: Asia/Shanghai is
    "中国（上海）时间" in Chinese, "China (Shanghai) Time" in English (Babel's CLDR names). A zone
    of no country (UTC, Etc/GMT-8), which CLDR calls "Unknown Region", keeps its own name."""
    if get_global("zone_territories").get(tz_name, "ZZ") == "ZZ":
        return tz_name
    return get_timezone_location(tz_name, locale=get_locale())


#: Interface words for the enums, translated once here so that every page names them alike.
PHASE_NAMES = {
    "nomination": _l("Nomination"),
    "review": _l("Expert review"),
    "voting": _l("Public vote"),
}
PHASE_STATE_NAMES = {
    "upcoming": _l("Not yet open"),
    "open": _l("Open"),
    "closed": _l("Closed"),
    "none": _l("Not part of this category"),
}
KIND_NAMES = {
    "project": _l("Service project"),
    "story": _l("Service story"),
    "case": _l("Service case"),
    "social_worker": _l("Social worker"),
    "hotline": _l("Hotline"),
    "report": _l("Summary report"),
}
AGGREGATION_NAMES = {
    "mean": _l("Mean of the reviews"),
    "trimmed": _l("Mean without the highest and lowest review"),
    "zscore": _l("Standardised per expert (z-score)"),
}
TALLY_NAMES = {
    "live": _l("Live vote counts"),
    "ranking_only": _l("Ranking only, no counts"),
    "after_close": _l("Counts after the vote closes"),
}
ROLE_NAMES = {
    "organiser": _l("Organiser"),
    "agency": _l("Agency"),
    "expert": _l("Expert"),
}
STATUS_NAMES = {
    "invited": _l("Invited, no password yet"),
    "pending": _l("Waiting for approval"),
    "active": _l("Active"),
    "rejected": _l("Rejected"),
    "disabled": _l("Disabled"),
}


@cache
def _codes_by_locale(codes):
    """{Babel's name of the locale: our code}; parsing a locale name is slow, so once."""
    return {str(Locale.parse(code)): code for code in codes}


def current_language():
    """The LANGUAGES code of the locale in use ("zh_CN" or "en"; Babel spells zh_CN zh_Hans_CN)."""
    codes = _codes_by_locale(tuple(current_app.config["LANGUAGES"]))
    return codes.get(str(get_locale()), current_app.config["BABEL_DEFAULT_LOCALE"])


def register(app):
    app.register_blueprint(bp)
    app.jinja_env.filters["local_time"] = format_local
    app.jinja_env.filters["zone_name"] = zone_name

    @app.context_processor
    def _words():
        return {
            "PHASE_NAMES": PHASE_NAMES,
            "PHASE_STATE_NAMES": PHASE_STATE_NAMES,
            "KIND_NAMES": KIND_NAMES,
            "AGGREGATION_NAMES": AGGREGATION_NAMES,
            "TALLY_NAMES": TALLY_NAMES,
            "ROLE_NAMES": ROLE_NAMES,
            "STATUS_NAMES": STATUS_NAMES,
            "LANGUAGES": app.config["LANGUAGES"],
            "current_locale": current_language(),
            "now_utc": datetime.now(ZoneInfo("UTC")),
        }
