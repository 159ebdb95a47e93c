"""Authorisation decorators, redirect safety and the client's network for rate limits."""
import ipaddress
from functools import lru_cache, wraps
from urllib.parse import urlsplit

from flask import abort, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user


def role_required(*roles):
    """Only signed-in users with one of ``roles``: anonymous -> sign-in page, wrong role -> 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            from .extensions import login_manager

            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def safe_next(target, default_endpoint="public.index"):
    """``target`` when it is a path on this site, else the default page (no open redirect)."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
            and "\\" not in target
        ):
            return target
    return url_for(default_endpoint)


@lru_cache(maxsize=4096)
def network_of(address):
    """The /24 (IPv4) or /48 (IPv6) network of an address, as text; '' if it is not one."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return ""
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def network_key(address=None):
    """Rate-limit key: the client's network, so that rotating addresses in one /24 gains nothing."""
    address = get_remote_address() if address is None else address
    return "net:" + (network_of(address) or address)


#: No inline script anywhere; styles and images only from this site.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


#: The headers every answer carries (app/lean.py sends them with its answers too).
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def security_headers(response):
    """After every request: the security headers, unless the view set its own."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
