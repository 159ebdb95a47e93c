"""Checks and clean-up of uploaded photos and documents, by content, never by name.

Pure functions over bytes (no Flask): photos must decode as JPEG, PNG or WebP and are re-encoded
with Pillow, which drops EXIF (GPS position included) and anything hidden after the image;
documents must be PDF. SVG, HTML and everything else are refused with a reason.
"""
import io
import unicodedata
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

#: Pillow format -> (content type, extension) of the photos we keep.
PHOTO_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"),
                 "WEBP": ("image/webp", "webp")}
MAX_PIXELS = 40_000_000
MAX_SIDE = 4096
THUMB_SIDE = 480
SCRIPT_MARKERS = (b"<svg", b"<html", b"<script", b"<!doctype html", b"<?xml")


class UploadRefused(Exception):
    """The file is not accepted; ``reason`` is one of REASONS' keys."""

    def __init__(self, reason, **values):
        super().__init__(reason)
        self.reason = reason
        self.values = values


@dataclass(frozen=True)
class PreparedFile:
    data: bytes
    content_type: str
    extension: str
    width: int | None = None
    height: int | None = None
    thumbnail: bytes | None = None


def display_name(name, limit=255):
    """The user's file name as harmless text: no folders, no control characters, bounded."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[:limit] or "file"


def _looks_like_markup(data):
    head = data[:1024].lstrip().lower()
    return any(marker in head for marker in SCRIPT_MARKERS)


def prepare_photo(data, max_bytes):
    """Decode, check and re-encode a photo; returns the file to store and a thumbnail."""
    if not data:
        raise UploadRefused("empty")
    if len(data) > max_bytes:
        raise UploadRefused("too_large", limit=max_bytes)
    if _looks_like_markup(data):
        raise UploadRefused("markup")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                image_format = probe.format
                if image_format not in PHOTO_FORMATS:
                    raise UploadRefused("not_photo")
                if probe.width * probe.height > MAX_PIXELS:
                    raise UploadRefused("too_many_pixels")
                probe.verify()
            with Image.open(io.BytesIO(data)) as source:
                image = ImageOps.exif_transpose(source)
                image.load()
        except (UnidentifiedImageError, Image.DecompressionBombWarning,
                Image.DecompressionBombError, OSError, SyntaxError, ValueError) as error:
            raise UploadRefused("not_photo") from error
    content_type, extension = PHOTO_FORMATS[image_format]
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    clean = _encode(image, image_format)
    thumb = image.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    return PreparedFile(clean, content_type, extension, image.width, image.height,
                        _encode(thumb, "JPEG"))


def _encode(image, image_format):
    """Pixels only: no EXIF, no comments, nothing appended."""
    output = io.BytesIO()
    if image_format == "JPEG":
        image.convert("RGB").save(output, "JPEG", quality=85, optimize=True)
    elif image_format == "PNG":
        if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            image = image.convert("RGBA")
        image.save(output, "PNG", optimize=True)
    else:
        image.save(output, "WEBP", quality=85)
    return output.getvalue()


def prepare_document(data, max_bytes):
    """Accept a PDF: it must start like one and end like one."""
    if not data:
        raise UploadRefused("empty")
    if len(data) > max_bytes:
        raise UploadRefused("too_large", limit=max_bytes)
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-2048:]:
        raise UploadRefused("markup" if _looks_like_markup(data) else "not_pdf")
    return PreparedFile(data, "application/pdf", "pdf")
