"""Configuration: secrets from instance/ or the environment, unsafe production settings refused."""
import os
import re
import stat

import pytest

from app import create_app
from app.config import ConfigError, load_environment


def test_a_secret_key_is_made_once_in_instance_with_private_permissions(tmp_path):
    config = {"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    first = create_app(config)
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert first.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first.config["SECRET_KEY"]) >= 40
    assert create_app(config).config["SECRET_KEY"] == first.config["SECRET_KEY"]


@pytest.mark.parametrize("overrides, message", [
    ({"SECRET_KEY": "insecure-dev-secret"}, "SECRET_KEY"),
    ({"APP_ENV": "production", "SECRET_KEY": "x" * 40, "SESSION_COOKIE_SECURE": True,
      "VOTER_HMAC_KEY": "y" * 40, "RATELIMIT_STORAGE_URI": "memory://"}, "memory://"),
    ({"APP_ENV": "production", "SECRET_KEY": "x" * 40, "VOTER_HMAC_KEY": "y" * 40,
      "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379"}, "SESSION_COOKIE_SECURE"),
    ({"APP_ENV": "production", "SESSION_COOKIE_SECURE": True, "VOTER_HMAC_KEY": "y" * 40,
      "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379"}, "SECRET_KEY"),
    ({"APP_ENV": "production", "SESSION_COOKIE_SECURE": True, "SECRET_KEY": "x" * 40,
      "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379"}, "VOTER_HMAC_KEY"),
    ({"APP_ENV": "production", "SECRET_KEY": "x" * 40, "VOTER_HMAC_KEY": "y" * 40,
      "SESSION_COOKIE_SECURE": True, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
      "CODE_SENDER": "console"}, "CODE_SENDER"),
    ({"APP_ENV": "production", "SECRET_KEY": "x" * 40, "VOTER_HMAC_KEY": "y" * 40,
      "SESSION_COOKIE_SECURE": True, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
      "CODE_SENDER": "webhook", "CODE_SENDER_URL": "https://sms.example/send", "MAIL_BACKEND": "smtp"},
     "CODE_SENDER_SECRET"),
    ({"APP_ENV": "production", "SECRET_KEY": "x" * 40, "VOTER_HMAC_KEY": "y" * 40,
      "SESSION_COOKIE_SECURE": True, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
      "CODE_SENDER": "file", "MAIL_BACKEND": "console"}, "MAIL_BACKEND"),
    ({"SQLITE_SYNCHRONOUS": "FULL; DROP TABLE x"}, "SQLITE_SYNCHRONOUS"),
])
def test_unsafe_settings_are_refused(tmp_path, overrides, message):
    config = {"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    config.update(overrides)
    with pytest.raises(ConfigError, match=re.escape(message)):
        create_app(config)


def test_environment_variables_are_read_and_typed():
    config = {}
    load_environment(config, {"DATABASE_URL": "postgresql+psycopg://db/awards",
                              "TRUSTED_PROXIES": "1", "MAIL_USE_TLS": "true", "MAIL_PORT": "587",
                              "SECRET_KEY": ""})
    assert config == {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/awards",
                      "TRUSTED_PROXIES": 1, "MAIL_USE_TLS": True, "MAIL_PORT": 587}


def test_behind_one_trusted_proxy_the_client_ip_is_the_proxys_last_hop(make_app):
    from flask import request

    app = make_app(TRUSTED_PROXIES=1)

    @app.get("/whoami")
    def whoami():
        return request.remote_addr

    client = app.test_client()
    response = client.get("/whoami", headers={"X-Forwarded-For": "1.1.1.1, 198.51.100.7"},
                          environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.get_data(as_text=True) == "198.51.100.7"
    direct = make_app()

    @direct.get("/whoami")
    def whoami_direct():
        return request.remote_addr

    response = direct.test_client().get("/whoami", headers={"X-Forwarded-For": "1.1.1.1"},
                                        environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.get_data(as_text=True) == "127.0.0.1"
