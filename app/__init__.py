"""The application factory."""
import os
from pathlib import Path

from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from . import config as config_module
from .config import PROJECT_ROOT, DefaultConfig
from .database import MAX_ID, add_autocommit_bind, add_connect_timeout
from .extensions import babel, csrf, db, limiter, login_manager, migrate
from .lean import LeanFlask
from .security import security_headers


def create_app(test_config=None, instance_path=None):
    """Build the app: defaults -> instance/config.py -> environment -> ``test_config``."""
    instance_path = (instance_path or (test_config or {}).get("INSTANCE_PATH")
                     or os.environ.get("INSTANCE_PATH") or str(PROJECT_ROOT / "instance"))
    app = LeanFlask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    # Ids in URLs stop at the largest id a table holds: beyond it is a 404, not a database error.
    app.url_map.converters["int"] = BoundedInteger
    app.config.from_object(DefaultConfig)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env()
    config_module.load_environment(app.config)
    if test_config:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    config_module.ensure_secret(app.config, app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'platform.db'}"
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(PROJECT_ROOT / "translations"))
    config_module.validate(app.config)
    add_connect_timeout(app.config)
    add_autocommit_bind(app.config)

    if app.config["TRUSTED_PROXIES"]:
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    _init_extensions(app)
    _register_blueprints(app)

    from . import cli, errors, i18n, logs

    logs.register(app)
    errors.register(app)
    i18n.register(app)
    cli.register(app)
    app.after_request(security_headers)
    if not app.testing:
        logs.configure(app)
    return app


class BoundedInteger(IntegerConverter):
    def __init__(self, url_map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002
        super().__init__(url_map, fixed_digits, min, MAX_ID if max is None else max, signed)


def _init_extensions(app):
    from .auth.session import load_user
    from .database import configure_postgresql, configure_sqlite

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            synchronous = app.config["SQLITE_SYNCHRONOUS"].upper()
            if synchronous not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
                raise config_module.ConfigError(f"SQLITE_SYNCHRONOUS={synchronous!r} is not valid")
            configure_sqlite(db.engine, synchronous, app.config["SQLITE_BUSY_TIMEOUT_MS"])
        elif db.engine.dialect.name == "postgresql":
            configure_postgresql(db.engine, app.config["POSTGRES_LOCK_TIMEOUT_MS"])
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    limiter.init_app(app)
    from .i18n import select_locale, select_timezone

    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)


def _register_blueprints(app):
    from nominations.api import bp as nominations_api
    from nominations.views import bp as nominations_bp
    from results.views import bp as results_bp
    from review.views import bp as review_bp
    from voting.api import bp as voting_api
    from voting.board import bp as board_bp
    from voting.views import bp as voting_bp

    from .admin import outbox  # noqa: F401 (its routes are on the admin blueprint)
    from .admin.views import bp as admin_bp
    from .api import bp as api_bp
    from .auth.views import bp as auth_bp
    from .health import bp as health_bp
    from .public import bp as public_bp

    for blueprint in (public_bp, auth_bp, admin_bp, nominations_bp, review_bp, voting_bp, board_bp,
                      results_bp, api_bp, nominations_api, voting_api, health_bp):
        app.register_blueprint(blueprint)

    from nominations.cli import register as register_nomination_cli
    from results.cli import register as register_results_cli
    from review.cli import register as register_review_cli
    from voting.cli import register as register_voting_cli

    register_nomination_cli(app)
    register_review_cli(app)
    register_voting_cli(app)
    register_results_cli(app)
