"""core.uploads: images recognised by content, size limit, EXIF (GPS) removed with the
orientation applied, per-tenant storage that another tenant cannot reach."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import NotFound

from core import uploads

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_with_gps(width: int = 40, height: int = 20, orientation: int = 6) -> bytes:
    """A JPEG whose EXIF says where it was taken (Mulhouse) and that it is rotated."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0131] = "Camera 1.0"  # Software
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {
        1: "N",
        2: (47.0, 44.0, 59.0),
        3: "E",
        4: (7.0, 20.0, 21.0),
    }
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def encoded(fmt: str, **options) -> bytes:
    out = io.BytesIO()
    mode = "RGBA" if fmt in ("PNG", "WEBP") else "RGB"
    Image.new(mode, (8, 8), (0, 128, 255, 255) if mode == "RGBA" else (0, 128, 255)).save(
        out, format=fmt, **options
    )
    return out.getvalue()


def storage(data: bytes, name: str = "photo.jpg") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


@pytest.fixture
def upload_app(app, tmp_path):
    previous = {key: app.config.get(key) for key in ("UPLOAD_FOLDER", "MAX_IMAGE_BYTES")}
    app.config["UPLOAD_FOLDER"] = str(tmp_path)
    yield app
    app.config.update(previous)


def test_the_fixture_really_carries_gps_and_orientation():
    exif = Image.open(io.BytesIO(jpeg_with_gps())).getexif()
    assert exif[ORIENTATION] == 6
    assert exif.get_ifd(GPS_IFD)[1] == "N"


@pytest.mark.parametrize(("fmt", "kind"), [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")])
def test_png_jpeg_and_webp_are_recognised_by_content(upload_app, fmt, kind):
    with upload_app.app_context():
        # The name lies: only the content counts.
        data, found = uploads.validate_image(storage(encoded(fmt), name="document.txt"))
    assert found == kind and data


@pytest.mark.parametrize(
    "payload",
    [
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"<html><body>coucou</body></html>",
        b"GIF89a" + b"\x00" * 40,
        b"%PDF-1.4 not an image",
    ],
)
def test_other_content_is_refused_in_french_even_named_jpg(upload_app, payload):
    with upload_app.app_context(), pytest.raises(uploads.UploadError) as caught:
        uploads.validate_image(storage(payload, name="photo.jpg"))
    assert "PNG, JPEG ou WebP" in str(caught.value)


def test_a_gif_is_refused_though_pillow_reads_it(upload_app):
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, format="GIF")
    with upload_app.app_context(), pytest.raises(uploads.UploadError, match="PNG, JPEG ou WebP"):
        uploads.validate_image(storage(out.getvalue(), name="a.png"))


def test_empty_truncated_and_too_large_files_are_refused(upload_app):
    upload_app.config["MAX_IMAGE_BYTES"] = 1000
    with upload_app.app_context():
        with pytest.raises(uploads.UploadError, match="vide"):
            uploads.validate_image(storage(b""))
        big = jpeg_with_gps(400, 400)
        assert len(big) > 1000
        with pytest.raises(uploads.UploadError, match="ne doit pas dépasser"):
            uploads.validate_image(storage(big))
        upload_app.config["MAX_IMAGE_BYTES"] = None
        assert uploads.max_image_bytes() == 15 * 1024 * 1024
        png = encoded("PNG")
        with pytest.raises(uploads.UploadError):
            uploads.validate_image(storage(png[: len(png) // 2]))


def test_storing_drops_exif_gps_and_applies_the_orientation(upload_app, tenant_a):
    original = jpeg_with_gps(40, 20, orientation=6)
    with upload_app.app_context():
        data, kind = uploads.validate_image(storage(original))
        name = uploads.store_image(tenant_a.id, data, kind)
        path = uploads.image_file(tenant_a.id, name)
    assert uploads.IMAGE_NAME_RE.fullmatch(name) and name.endswith(".jpg")
    assert path is not None and path.parent.parent.name == f"t{tenant_a.id}"
    stored = path.read_bytes()
    assert b"Exif" not in stored and b"PhoneMaker" not in stored
    image = Image.open(io.BytesIO(stored))
    exif = image.getexif()
    assert not exif.get_ifd(GPS_IFD) and ORIENTATION not in exif and len(exif) == 0
    # Orientation 6 = rotate 90°: the 40×20 picture is now upright, 20×40.
    assert image.size == (20, 40)


def test_png_text_chunks_are_dropped_and_big_pictures_scaled(upload_app, tenant_a):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret de fabrication")
    out = io.BytesIO()
    Image.new("RGB", (3000, 100), (10, 20, 30)).save(out, format="PNG", pnginfo=info)
    with upload_app.app_context():
        data, kind = uploads.validate_image(storage(out.getvalue()))
        name = uploads.store_image(tenant_a.id, data, kind)
        stored = uploads.image_file(tenant_a.id, name).read_bytes()
    assert b"secret de fabrication" not in stored
    assert Image.open(io.BytesIO(stored)).size[0] == uploads.MAX_DIMENSION


def test_storage_is_per_tenant(upload_app, tenant_a, tenant_b):
    with upload_app.app_context():
        name = uploads.store_image(tenant_a.id, encoded("PNG"))
        assert uploads.image_file(tenant_a.id, name) is not None
        # Same name, other tenant: nothing (B's folder is another one).
        assert uploads.image_file(tenant_b.id, name) is None
        with pytest.raises(NotFound):
            uploads.send_image(tenant_b.id, name)
        for wrong in ("../t1/x.png", f"../../t{tenant_a.id}/images/{name}", "a.png", None, ""):
            assert uploads.image_file(tenant_a.id, wrong) is None
        with upload_app.test_request_context():
            response = uploads.send_image(tenant_a.id, name)
            response.direct_passthrough = False
            assert response.mimetype == "image/png"
            assert "sandbox" in response.headers["Content-Security-Policy"]
            response.close()
        uploads.delete_image(tenant_a.id, name)
        assert uploads.image_file(tenant_a.id, name) is None
