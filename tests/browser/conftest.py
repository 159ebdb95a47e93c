"""A real browser: Playwright for Python driving Debian's Chromium (never a downloaded build)
against the app served on loopback. Screenshots go to test-artifacts/ (not committed)."""
import os
import re
from contextlib import contextmanager
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT

from ..conftest import require

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # a test extra: `make install` installs it
        if os.environ.get("CI"):
            pytest.fail("playwright is missing in CI: pip install -e '.[test]'")
        pytest.skip("playwright is not installed")
    executable = require("chromium", "browser tests drive Debian's Chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable,
                                              args=["--no-sandbox", "--disable-gpu"])
        yield launched
        launched.close()


class Journey:
    """Browser contexts (one per person) on one viewport and language, and the named steps of a
    journey: each step ends with a screenshot, and a failing step says which it was."""

    def __init__(self, browser, base_url, viewport, language, folder):
        self.browser, self.base_url = browser, base_url
        self.viewport, self.language = viewport, language
        self.folder = folder
        self.count = 0
        self.contexts = []

    def person(self):
        """A new person: their own browser context (cookies), in the journey's language."""
        context = self.browser.new_context(
            base_url=self.base_url, viewport=VIEWPORTS[self.viewport],
            is_mobile=self.viewport == "phone", has_touch=self.viewport == "phone",
            locale="zh-CN" if self.language == "zh" else "en-US")
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        if self.language != "zh":
            page.goto(f"/lang/{self.language}")
        return page

    @contextmanager
    def step(self, name, page):
        self.count += 1
        shot = self.folder / f"{self.count:02d}-{name}.png"
        try:
            yield
        except Exception as error:
            page.screenshot(path=str(shot.with_name(shot.stem + "-FAILED.png")), full_page=True)
            raise AssertionError(f"step {self.count} '{name}' ({self.viewport}, {self.language}) "
                                 f"failed: {error}\nscreenshot: {shot}") from error
        page.screenshot(path=str(shot), full_page=True)

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def journey(browser, live_server, request):
    made = []

    def start(viewport, language):
        name = re.sub(r"[^\w-]+", "-", request.node.name)
        folder = ARTIFACTS / "journeys" / name
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()
        made.append(Journey(browser, live_server, viewport, language, folder))
        return made[-1]

    yield start
    for item in made:
        item.close()


def photo(tmp_path):
    """A real PNG photo (Pillow draws it), as an agency would upload."""
    from PIL import Image, ImageDraw

    path = Path(tmp_path) / "photo.png"
    image = Image.new("RGB", (640, 420), (236, 226, 208))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 600, 380), outline=(150, 60, 40), width=8)
    draw.ellipse((240, 120, 400, 280), fill=(190, 80, 50))
    image.save(path)
    return path
