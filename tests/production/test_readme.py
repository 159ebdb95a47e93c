"""README's production settings, as written, start the app in production."""
import re
import shlex

from app import create_app
from app.config import PROJECT_ROOT


def production_exports():
    """{name: value} of the ``export`` lines in README's "Production" section, with each "…"
    (a secret or password the reader fills in) filled in."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Production\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    exports = {}
    for line in block.splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["export"]:
            for word in words[1:]:
                name, _, value = word.partition("=")
                exports[name] = value.replace("…", "s3cret" * 8)
    return exports


def test_the_production_settings_in_readme_start_the_app(monkeypatch, tmp_path):
    """A newcomer who sets what README's production section says gets a running app, not a
    refusal (production refuses a console code sender, memory rate limits, insecure cookies)."""
    exports = production_exports()
    assert exports["APP_ENV"] == "production"
    exports["INSTANCE_PATH"] = str(tmp_path)  # README's is a system folder
    for name, value in exports.items():
        monkeypatch.setenv(name, value)
    app = create_app()
    assert app.config["APP_ENV"] == "production"
    assert app.config["CODE_SENDER"] == "webhook" and app.config["CODE_SENDER_SECRET"]
    assert app.config["MAIL_BACKEND"] == "smtp"
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
