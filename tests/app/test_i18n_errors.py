"""Chinese by default, English on request; friendly error pages in both languages."""
import pytest
from bs4 import BeautifulSoup

from app.models import Role

from ..conftest import PASSWORD, csrf_token


def title(response):
    return BeautifulSoup(response.get_data(as_text=True), "html.parser").h1.get_text(strip=True)


def test_pages_are_in_simplified_chinese_by_default(client, demo):
    html = client.get("/c/gz-2020-social-work-week").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "评选类别" in html and "申报 · 进行中" in html
    assert "Categories" not in html


def test_switching_to_english_and_back(client, demo):
    response = client.get("/lang/en?next=/c/gz-2020-social-work-week")
    assert response.status_code == 302
    assert response.headers["Location"] == "/c/gz-2020-social-work-week"
    html = client.get("/c/gz-2020-social-work-week").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Categories" in html and "Nomination · Open" in html
    assert "简体中文" in html  # the way back
    client.get("/lang/zh_CN")
    assert "评选类别" in client.get("/c/gz-2020-social-work-week").get_data(as_text=True)


def test_an_unknown_language_changes_nothing_and_next_stays_on_the_site(client):
    response = client.get("/lang/xx?next=https://evil.example/")
    assert response.headers["Location"] == "/"
    assert client.get_cookie("lang") is None


def test_times_are_shown_in_the_campaigns_time_zone(client, demo):
    campaign = demo.campaign
    local = campaign.local(campaign.nomination_opens).strftime("%Y-%m-%d %H:%M")
    assert local.endswith("09:00")
    assert local in client.get("/c/gz-2020-social-work-week").get_data(as_text=True)


@pytest.mark.parametrize(("zone", "zh", "en"), [
    ("Asia/Shanghai", "时间均为中国（上海）时间。", "All times are China (Shanghai) Time."),
    ("Asia/Hong_Kong", "时间均为中国香港特别行政区时间。", "All times are Hong Kong SAR China Time."),
    ("UTC", "时间均为UTC。", "All times are UTC."),  # no country: not "Unknown Region"
])
def test_a_campaign_names_its_time_zone_as_people_say_it(client, make_campaign, zone, zh, en):
    make_campaign(slug="zoned", timezone=zone)
    assert zh in client.get("/c/zoned").get_data(as_text=True)
    client.get("/lang/en")
    assert en in client.get("/c/zoned").get_data(as_text=True)


ERRORS_ZH = {400: "请求有误", 403: "无权访问", 404: "页面不存在", 405: "不支持的请求方式",
             413: "内容过大", 429: "请求过于频繁", 500: "出错了"}
ERRORS_EN = {400: "Bad request", 403: "Not allowed", 404: "Page not found",
             405: "Method not allowed", 413: "Too large", 429: "Too many requests",
             500: "Something went wrong"}


@pytest.fixture
def error_app(make_app):
    """An app with a route that fails, small limits, and exceptions handled as in production."""
    app = make_app(PROPAGATE_EXCEPTIONS=False, MAX_CONTENT_LENGTH=1024,
                   LOGIN_LIMIT_PER_IP="1/minute")

    @app.get("/boom")
    def boom():
        raise RuntimeError("a bug")

    return app


def provoke(client, code, organiser_free_user):
    """Make ``client`` meet the error ``code`` the way a visitor would."""
    if code == 400:  # a form without its CSRF token
        return client.post("/auth/login", data={"email": "a@b.c", "password": "x"})
    if code == 403:
        response = client.post("/auth/login", data={
            "email": organiser_free_user.email, "password": PASSWORD,
            "csrf_token": csrf_token(client)})
        assert response.status_code == 302
        return client.get("/admin/")
    if code == 404:
        return client.get("/no/such/page")
    if code == 405:
        return client.get("/auth/logout")
    if code == 413:
        return client.post("/auth/register", data={"agency_name": "x" * 4096})
    if code == 429:
        for _ in range(2):
            response = client.post("/auth/login", data={
                "email": "a@b.c", "password": "wrong password", "csrf_token": csrf_token(client)})
        return response
    return client.get("/boom")


@pytest.mark.parametrize("language, words, back", [
    ("zh_CN", ERRORS_ZH, "返回首页"), ("en", ERRORS_EN, "Back to the home page")])
@pytest.mark.parametrize("code", sorted(ERRORS_ZH))
def test_error_pages_are_friendly_in_both_languages(error_app, make_user, code, language, words,
                                                    back, caplog):
    with error_app.app_context():
        agency_user = make_user(Role.AGENCY)
        client = error_app.test_client()
        client.set_cookie("lang", language)
        response = provoke(client, code, agency_user)
    assert response.status_code == code
    assert response.mimetype == "text/html"
    assert title(response) == words[code]
    assert back in response.get_data(as_text=True)
    if code == 429:
        assert int(response.headers["Retry-After"]) > 0
    if code == 500:
        assert "a bug" not in response.get_data(as_text=True)
        assert "unhandled error on GET /boom" in caplog.text


def test_api_errors_are_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json["error"]["code"] == 404
    assert response.json["error"]["title"] == "页面不存在"


def test_security_headers_on_every_page(client):
    response = client.get("/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_no_page_loads_anything_from_another_site(client, demo):
    for url in ("/", "/c/gz-2020-social-work-week", "/c/gz-2020-social-work-week/stories/GS-001",
                "/auth/login", "/auth/register"):
        soup = BeautifulSoup(client.get(url).get_data(as_text=True), "html.parser")
        for tag in soup.find_all(["script", "link", "img"]):
            if tag.name == "link" and tag.get("rel") == ["canonical"]:
                continue  # the page's own public address, named for link previews: nothing loads
            source = tag.get("src") or tag.get("href") or ""
            assert source.startswith("/"), (url, source)
        assert not soup.find_all("script", src=False), "no inline script"


def test_page_titles_are_plain_text(app, demo, make_user, login, client):
    """Every page's <title> holds text only (a template block once swallowed a whole form)."""
    from app.models import Role

    login(make_user(Role.ORGANISER))
    urls = ["/", "/c/gz-2020-social-work-week", "/admin/", "/admin/campaigns/gz-2020-social-work-week",
            "/results/manage/gz-2020-social-work-week/social_workers/",
            "/review/manage/gz-2020-social-work-week/social_workers/",
            "/vote/manage/gz-2020-social-work-week/social_workers/fraud",
            "/moderation/gz-2020-social-work-week/stories/", "/results/gz-2020-social-work-week/"]
    for url in urls:
        head = BeautifulSoup(client.get(url).get_data(as_text=True), "html.parser").title
        assert head is not None and not head.find_all(True), url
        assert "<" not in head.get_text() and len(head.get_text()) < 120, url
