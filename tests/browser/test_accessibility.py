"""The main pages pass axe-core (fetched from the npm registry by `make test`, run in the page
by Chromium) with no serious or critical violation, on a phone and a desktop, in both languages."""
import os

import pytest

from app.config import PROJECT_ROOT
from app.extensions import db
from app.models import Role

from ..conftest import PASSWORD
from .conftest import ARTIFACTS, VIEWPORTS

AXE = PROJECT_ROOT / ".cache" / "axe-core-4.11.0" / "axe.min.js"

PUBLIC_PAGES = ["/", "/c/week", "/c/week/stories/", "/c/week/stories/ST-001", "/vote/verify",
                "/auth/login", "/auth/register", "/results/week/", "/results/week/anthology"]
ORGANISER_PAGES = ["/admin/", "/admin/accounts", "/admin/campaigns/week",
                   "/moderation/week/stories/", "/review/manage/week/stories/",
                   "/vote/manage/week/stories/fraud", "/results/manage/week/stories/"]


@pytest.fixture(scope="module")
def axe_source():
    if not AXE.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{AXE} is missing in CI: `make test` fetches it with npm")
        pytest.skip(f"{AXE} is missing: `make test` fetches it with npm")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def published(app, make_campaign, make_category, make_user):
    """A public campaign with approved stories and a published list, and an organiser."""
    from datetime import timedelta

    from app.database import utcnow
    from app.models import Agency
    from nominations.models import Entry, EntryStatus
    from results import services as results

    from .test_journeys import STORY

    campaign = make_campaign(slug="week", title="社工宣传周",
                             voting_closes=utcnow() + timedelta(days=3))
    category = make_category(campaign, key="stories", name="社工故事", kind="story",
                             number_prefix="ST", expert_weight=0.6, public_weight=0.4,
                             votes_per_day=2, winners=2)
    agency = Agency(name="阳光社工服务中心")
    db.session.add_all([Entry(category=category, agency=agency, title=f"邻里守望{i}",
                              number=f"ST-00{i}", summary="社区长者探访",
                              status=EntryStatus.APPROVED,
                              details={"author": "李社工", "text": STORY}) for i in range(1, 4)])
    category.last_number = 3
    organiser = make_user(Role.ORGANISER, email="organiser@example.com")
    db.session.commit()
    with app.test_request_context("/", method="POST"):
        results.publish(category, "provisional", organiser, utcnow())
        db.session.commit()
    return organiser


def violations(page, axe_source):
    page.evaluate(axe_source)  # through the DevTools protocol: the page's CSP does not apply
    found = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    return [v for v in found if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_main_pages_have_no_serious_accessibility_violation(browser, live_server, published,
                                                                axe_source, viewport, language):
    context = browser.new_context(base_url=live_server, viewport=VIEWPORTS[viewport],
                                  is_mobile=viewport == "phone")
    page = context.new_page()
    if language != "zh":
        page.goto(f"/lang/{language}")
    problems = {}
    folder = ARTIFACTS / "accessibility" / f"{viewport}-{language}"
    folder.mkdir(parents=True, exist_ok=True)

    def check(path):
        response = page.goto(path)
        assert response.status == 200, (path, response.status)
        page.screenshot(path=str(folder / (path.strip("/").replace("/", "_") or "index")) + ".png",
                        full_page=True)
        found = violations(page, axe_source)
        if found:
            problems[path] = found

    try:
        for path in PUBLIC_PAGES:
            check(path)
        page.goto("/auth/login")
        page.fill("input[name=email]", "organiser@example.com")
        page.fill("input[name=password]", PASSWORD)
        page.locator("form button[type=submit]").first.click()
        page.wait_for_load_state()
        for path in ORGANISER_PAGES:
            check(path)
    finally:
        context.close()
    assert not problems, problems


def test_the_check_finds_what_it_must(browser, axe_source):
    """The control: a page with an image without text and an unlabelled field fails it."""
    page = browser.new_page()
    try:
        page.set_content('<html lang="zh-CN"><head><title>t</title></head><body><main>'
                         '<img src="data:image/png;base64,iVBORw0KGgo="><form>'
                         '<input type="text" name="q"></form></main></body></html>')
        found = {v["id"] for v in violations(page, axe_source)}
    finally:
        page.close()
    assert {"image-alt", "label"} <= found
