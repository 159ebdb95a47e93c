"""Fixtures for nominations: an agency signed in on its own client, categories per kind."""
import io

import pytest
from PIL import Image

from app.models import Role

from ..conftest import PASSWORD, csrf_token


@pytest.fixture
def campaign(make_campaign):
    return make_campaign(slug="week")


@pytest.fixture
def category_of(campaign, make_category):
    """category_of("story") -> a category of that kind in the open campaign."""
    made = {}

    def get(kind="story", **fields):
        if kind not in made:
            made[kind] = make_category(campaign, kind=kind, key=kind, **fields)
        return made[kind]

    return get


@pytest.fixture
def agency_client(app, make_user):
    """A signed-in agency: returns (client, user)."""

    def sign_in(user=None):
        user = user or make_user(Role.AGENCY)
        client = app.test_client()
        response = client.post("/auth/login", data={
            "email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client)})
        assert response.status_code == 302
        return client, user

    return sign_in


@pytest.fixture
def organiser_client(app, make_user):
    user = make_user(Role.ORGANISER)
    client = app.test_client()
    client.post("/auth/login", data={"email": user.email, "password": PASSWORD,
                                     "csrf_token": csrf_token(client)})
    return client


def jpeg(size=(800, 600), color=(200, 60, 50), exif=None):
    buffer = io.BytesIO()
    image = Image.new("RGB", size, color)
    if exif is not None:
        image.save(buffer, "JPEG", exif=exif)
    else:
        image.save(buffer, "JPEG")
    return buffer.getvalue()


def png(size=(64, 64)):
    buffer = io.BytesIO()
    Image.new("RGBA", size, (0, 128, 0, 255)).save(buffer, "PNG")
    return buffer.getvalue()


PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>"
       b"endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

VALID = {
    "project": {"title": "长者关爱计划", "summary": "简介", "period": "2020年1月至3月",
                "beneficiaries": "1200", "description": "项目内容", "outcomes": "服务成效"},
    "story": {"title": "凌晨两点的电话", "summary": "简介", "author": "王小明", "text": "故事。" * 100},
    "case": {"title": "危机介入个案", "summary": "简介", "background": "背景", "assessment": "评估",
             "intervention": "介入", "outcome": "成效", "anonymised": "y"},
    "social_worker": {"title": "陈晓岚", "summary": "简介", "name": "陈晓岚", "years_of_service": "8",
                      "certificate_level": "intermediate", "deeds": "主要事迹"},
    "hotline": {"title": "心理援助热线", "summary": "简介", "number": "020-8000 1001",
                "station": "越秀社工站", "hours": "每日 8:00–22:00", "services": "心理疏导"},
    "report": {"title": "宣传周总结", "activity": "活动", "impact": "成效", "contact_name": "韦丽",
               "contact_phone": "0771-8000 0001"},
}


@pytest.fixture
def nominate(category_of):
    """nominate(client, kind, submit=True, **fields) -> the response of the nomination form."""

    def send(client, kind="story", submit=True, files=None, **fields):
        category = category_of(kind)
        url = f"/agency/nominate/{category.id}"
        data = dict(VALID[kind], **fields)
        data = {k: v for k, v in data.items() if v is not None}
        data["csrf_token"] = csrf_token(client, url)
        data["submit" if submit else "save"] = "1"
        for field, items in (files or {}).items():
            data[field] = [(io.BytesIO(content), name) for name, content in items]
        return client.post(url, data=data, content_type="multipart/form-data")

    return send
