"""Uploads are checked by content, cleaned, stored under random names and served safely."""
import io
import struct

import pytest
from PIL import Image
from sqlalchemy import select

from app import storage
from app.extensions import db
from nominations import services
from nominations.models import Attachment, Entry
from nominations.uploads import UploadRefused, display_name, prepare_document, prepare_photo

from ..conftest import csrf_token, write_lock_is_free
from .conftest import PDF, jpeg, png

MB = 1024 * 1024


def gps_exif():
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (23.0, 7.0, 30.0), 3: "E", 4: (113.0, 15.0, 0.0)}  # GPS
    return exif


def test_a_photo_is_re_encoded_without_exif_or_location():
    original = jpeg(exif=gps_exif())
    with Image.open(io.BytesIO(original)) as source:
        assert source.getexif().get(0x010F) == "PhoneMaker"  # the test photo really has EXIF
    prepared = prepare_photo(original, 10 * MB)
    with Image.open(io.BytesIO(prepared.data)) as clean:
        assert clean.format == "JPEG" and dict(clean.getexif()) == {}
        assert b"PhoneMaker" not in prepared.data
    assert prepared.content_type == "image/jpeg" and prepared.extension == "jpg"
    with Image.open(io.BytesIO(prepared.thumbnail)) as thumb:
        assert max(thumb.size) == 480


def test_bytes_hidden_after_an_image_are_dropped():
    sneaky = jpeg() + b"<script>alert(1)</script>"
    assert b"<script>" not in prepare_photo(sneaky, 10 * MB).data


@pytest.mark.parametrize("data, reason", [
    (b"", "empty"),
    (b"MZ\x90\x00" + b"\x00" * 200, "not_photo"),  # a Windows program
    (b"<html><script>alert(1)</script></html>", "markup"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "markup"),
    (b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=alert(1)//;", "not_photo"),  # GIF/JS polyglot
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "not_photo"),  # a broken PNG
])
def test_what_is_not_a_photo_is_refused_whatever_its_name(data, reason):
    with pytest.raises(UploadRefused) as refused:
        prepare_photo(data, 10 * MB)
    assert refused.value.reason == reason


def test_a_real_gif_is_refused_because_only_jpeg_png_webp_are_kept():
    buffer = io.BytesIO()
    Image.new("P", (10, 10)).save(buffer, "GIF")
    with pytest.raises(UploadRefused, match="not_photo"):
        prepare_photo(buffer.getvalue(), 10 * MB)


def test_a_photo_over_the_limit_is_refused():
    with pytest.raises(UploadRefused, match="too_large"):
        prepare_photo(jpeg(), 100)


def test_a_picture_with_too_many_pixels_is_refused():
    # A PNG header claiming 20000 x 20000 pixels (a decompression bomb) is refused before decoding.
    header = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(
        ">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    with pytest.raises(UploadRefused, match="too_many_pixels|not_photo"):
        prepare_photo(header + b"\x00" * 100, 10 * MB)


@pytest.mark.parametrize("data, reason", [
    (PDF, None),
    (b"MZ" + b"\x00" * 100, "not_pdf"),
    (b"<html><body>not a pdf</body></html>", "markup"),
    (b"%PDF-1.4 but never ends", "not_pdf"),
])
def test_documents_must_be_pdf(data, reason):
    if reason is None:
        assert prepare_document(data, MB).content_type == "application/pdf"
    else:
        with pytest.raises(UploadRefused, match=reason):
            prepare_document(data, MB)


@pytest.mark.parametrize("name, shown", [
    ("男孩.jpg", "男孩.jpg"),
    ("😆", "😆"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\x\\照片.png", "照片.png"),
    ("a\x00b\x1f.jpg", "ab.jpg"),
    ("", "file"),
    ("长" * 300 + ".jpg", "长" * 255),
])
def test_display_names_keep_the_words_and_lose_the_paths(name, shown):
    assert display_name(name) == shown


def upload(client, entry_id, photos=(), documents=()):
    url = f"/agency/entries/{entry_id}"
    data = {"title": "标题", "save": "1", "csrf_token": csrf_token(client, url),
            "photos": [(io.BytesIO(content), name) for name, content in photos],
            "documents": [(io.BytesIO(content), name) for name, content in documents]}
    return client.post(url, data=data, content_type="multipart/form-data", follow_redirects=True)


@pytest.fixture
def draft(agency_client, nominate):
    client, user = agency_client()
    nominate(client, "story", submit=False)
    return client, db.session.scalar(select(Entry))


def test_uploads_are_stored_under_random_names_outside_the_static_folder(app, draft):
    client, entry = draft
    page = upload(client, entry.id, photos=[("男孩.jpg", jpeg())], documents=[("报告.pdf", PDF)])
    assert page.status_code == 200
    attachments = db.session.scalars(select(Attachment).order_by(Attachment.id)).all()
    assert [a.original_name for a in attachments] == ["男孩.jpg", "报告.pdf"]
    for attachment in attachments:
        assert len(attachment.stored_name.split(".")[0]) == 32
        path = storage.path_of(attachment.stored_name)
        assert path.exists() and str(path).startswith(app.instance_path)
    assert "男孩.jpg" in page.get_data(as_text=True)


@pytest.mark.parametrize("field, name, content, words", [
    ("photos", "evil.png", b'<svg onload="alert(1)"/>', "不接受网页和 SVG"),
    ("photos", "page.jpg", b"<html><script>alert(1)</script>", "不接受网页和 SVG"),
    ("documents", "virus.pdf", b"MZ\x90\x00" + b"\x00" * 64, "不是 PDF 文件"),
    ("photos", "a.php.jpg", b"<?php system($_GET['c']); ?>", "不是 JPEG、PNG 或 WebP 照片"),
    ("photos", ".htaccess", b"AddType application/x-httpd-php .jpg", "不是 JPEG、PNG 或 WebP 照片"),
    ("photos", "empty.jpg", b"", "文件是空的"),
])
def test_a_refused_upload_says_why_and_keeps_the_rest_of_the_form(draft, field, name, content,
                                                                    words):
    client, entry = draft
    good = ("good.png", png()) if field == "photos" else ("good.pdf", PDF)
    page = upload(client, entry.id, **{field: [(name, content), good]})
    html = page.get_data(as_text=True)
    assert words in html and name.replace("'", "&#39;") in html
    assert [a.original_name for a in db.session.scalars(select(Attachment))] == [good[0]]
    assert "草稿已保存" in html  # the text fields were saved all the same


def test_the_number_of_photos_per_entry_is_limited(app, draft):
    client, entry = draft
    app.config["UPLOAD_PHOTOS_PER_ENTRY"] = 2
    html = upload(client, entry.id, photos=[(f"{i}.png", png()) for i in range(3)]
                  ).get_data(as_text=True)
    assert "最多只能有 2 个此类文件" in html
    assert len(db.session.scalars(select(Attachment)).all()) == 2


def test_a_request_larger_than_the_site_accepts_is_413(make_app, agency_client, nominate):
    app = make_app(MAX_CONTENT_LENGTH=50_000)
    with app.app_context():
        client = app.test_client()
        response = client.post("/agency/nominate/1", data={
            "photos": [(io.BytesIO(b"x" * 60_000), "big.jpg")]},
            content_type="multipart/form-data")
    assert response.status_code == 413


def fetch(client, url):
    """GET a file and close the response (it streams from disk)."""
    with client.get(url) as response:
        response.data  # noqa: B018 - read it before it is closed
        return response


def test_a_draft_file_is_private_until_the_entry_is_approved(app, draft, agency_client,
                                                            organiser_client, nominate):
    client, entry = draft
    upload(client, entry.id, photos=[("p.jpg", jpeg())], documents=[("r.pdf", PDF)])
    photo, document = db.session.scalars(select(Attachment).order_by(Attachment.id)).all()
    url = f"/files/{photo.stored_name}"
    owner = fetch(client, url)
    assert owner.status_code == 200 and owner.mimetype == "image/jpeg"
    assert owner.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in owner.headers["Content-Security-Policy"]
    assert owner.headers["Cache-Control"].startswith("private")
    assert fetch(app.test_client(), url).status_code == 404
    stranger, _ = agency_client()
    assert fetch(stranger, url).status_code == 404
    assert fetch(organiser_client, url).status_code == 200
    pdf = fetch(client, f"/files/{document.stored_name}")
    assert pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("attachment")

    entry_url = f"/agency/entries/{entry.id}"
    client.post(entry_url, data={"title": "标题", "summary": "简介", "author": "作者",
                                 "text": "字" * 300, "submit": "1",
                                 "csrf_token": csrf_token(client, entry_url)})
    organiser_client.post(f"/moderation/entries/{entry.id}/approve", data={
        "csrf_token": csrf_token(organiser_client, f"/moderation/entries/{entry.id}")})
    public = fetch(app.test_client(), url)
    assert public.status_code == 200 and public.data[:2] == b"\xff\xd8"
    thumb = fetch(app.test_client(), f"/files/{photo.thumb_name}")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"


def test_removing_a_file_deletes_it_from_disk_after_commit(draft):
    client, entry = draft
    upload(client, entry.id, photos=[("p.jpg", jpeg())])
    photo = db.session.scalar(select(Attachment))
    path, thumb = storage.path_of(photo.stored_name), storage.path_of(photo.thumb_name)
    url = f"/agency/entries/{entry.id}/files/{photo.id}/delete"
    client.post(url, data={"csrf_token": csrf_token(client, f"/agency/entries/{entry.id}")})
    assert not path.exists() and not thumb.exists()
    assert db.session.scalar(select(Attachment)) is None


def test_a_rolled_back_transaction_leaves_no_file_behind(app):
    name = storage.store(db.session, b"data", "bin")
    assert storage.path_of(name).exists()
    db.session.rollback()
    assert not storage.path_of(name).exists()


def test_photos_are_prepared_while_the_sites_other_writes_go_on(app, agency_client, nominate,
                                                                monkeypatch):
    """Decoding and re-encoding an entry's photos takes seconds (about a third of one for a
    phone's photo). Meanwhile another writer gets the site's write lock at once, for a new entry
    and for an entry edited (before, the request held the lock from its sign-in's query on, and
    every other write waited, and on SQLite failed after the busy timeout)."""
    lock_free_while_preparing = []

    def watched(data, max_bytes):
        lock_free_while_preparing.append(write_lock_is_free())
        return prepare_photo(data, max_bytes)

    monkeypatch.setattr(services, "prepare_photo", watched)
    client, _user = agency_client()
    nominate(client, "story", submit=False, files={"photos": [("一.jpg", jpeg())]})
    entry = db.session.scalar(select(Entry))
    upload(client, entry.id, photos=[("二.jpg", jpeg()), ("三.png", png())])
    assert lock_free_while_preparing == [True, True, True]
    assert [a.original_name for a in entry.attachments] == ["一.jpg", "二.jpg", "三.png"]

