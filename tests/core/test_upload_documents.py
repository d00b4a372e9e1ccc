"""core.uploads documents (verification proofs, library files, commitment evidence): a
real PDF or picture only, size and page caps, rewritten without metadata, active
content or embedded EXIF; stored under a random platform-side name."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from flask_babel import Babel
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import NotFound

from core import uploads
from tests.core.test_uploads import jpeg_with_gps


def storage(data: bytes, name: str = "preuve.pdf") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


def pdf_with_secrets(pages: int = 1, encrypt: bool = False) -> bytes:
    """A PDF whose metadata names its author, with XMP, an open action in JavaScript, a
    link annotation and, on page 1, a JPEG picture that still carries GPS EXIF."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(200, 200)
    writer.add_metadata({"/Author": "Jean Squatteur", "/Creator": "ScannerPro 3000"})
    xmp = DecodedStreamObject()
    xmp.set_data(b"<x:xmpmeta>Jean Squatteur GPS 47.7</x:xmpmeta>")
    xmp.update({NameObject("/Type"): NameObject("/Metadata")})
    writer._root_object[NameObject("/Metadata")] = writer._add_object(xmp)
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('coucou');"),
        }
    )
    jpeg = jpeg_with_gps(16, 16, orientation=1)
    image = DecodedStreamObject()
    image._data = jpeg
    image.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Image"),
            NameObject("/Width"): NumberObject(16),
            NameObject("/Height"): NumberObject(16),
            NameObject("/ColorSpace"): NameObject("/DeviceRGB"),
            NameObject("/BitsPerComponent"): NumberObject(8),
            NameObject("/Filter"): NameObject("/DCTDecode"),
        }
    )
    page = writer.pages[0]
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/XObject"): DictionaryObject({NameObject("/Im0"): writer._add_object(image)})}
    )
    annotation = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([NumberObject(0)] * 4),
            NameObject("/Contents"): TextStringObject("https://exemple.invalid/piege"),
        }
    )
    page[NameObject("/Annots")] = ArrayObject([writer._add_object(annotation)])
    if encrypt:
        writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def doc_app(tmp_path):
    # Platform-side documents need no database: a bare app with Babel is enough (and fast).
    app = Flask(__name__)
    Babel(app)
    app.config["UPLOAD_FOLDER"] = str(tmp_path)
    return app


def test_the_fixture_pdf_really_carries_its_secrets():
    data = pdf_with_secrets()
    assert b"Jean Squatteur" in data and b"PhoneMaker" in data and b"/JavaScript" in data


def test_a_pdf_is_rewritten_without_metadata_javascript_annotations_or_exif(doc_app):
    with doc_app.app_context():
        data, kind = uploads.validate_document(storage(pdf_with_secrets(pages=3)))
        assert kind == "pdf"
        name = uploads.store_document(data, kind, folder="verification")
        path = uploads.document_file(name, folder="verification")
    assert uploads.DOCUMENT_NAME_RE.fullmatch(name) and name.endswith(".pdf")
    assert path is not None and path.parent.name == "verification"
    assert path.parent.parent.name == "platform"
    stored = path.read_bytes()
    for secret in (b"Jean Squatteur", b"ScannerPro", b"/JavaScript", b"/OpenAction", b"piege"):
        assert secret not in stored
    # The EXIF block of the picture inside the PDF is gone, the picture itself stays.
    assert b"PhoneMaker" not in stored and b"Exif" not in stored
    reader = PdfReader(io.BytesIO(stored))
    assert len(reader.pages) == 3
    assert not reader.metadata
    assert "/Metadata" not in reader.trailer["/Root"]
    picture = reader.pages[0]["/Resources"]["/XObject"]["/Im0"].get_object()
    assert Image.open(io.BytesIO(picture._data)).size == (16, 16)


def test_pictures_are_accepted_as_proofs_and_re_encoded(doc_app):
    with doc_app.app_context():
        data, kind = uploads.validate_document(storage(jpeg_with_gps(), name="scan.pdf"))
        assert kind == "jpg"
        name = uploads.store_document(data, kind, folder="verification")
        stored = uploads.document_file(name, folder="verification").read_bytes()
    assert b"PhoneMaker" not in stored and b"Exif" not in stored


@pytest.mark.parametrize(
    "payload",
    [
        b"<html><script>alert(1)</script></html>",
        b"PK\x03\x04 a zip renamed .pdf",
        b"GIF89a" + b"\x00" * 40,
        b"MZ\x90\x00 an executable",
    ],
)
def test_other_content_is_refused_in_french(doc_app, payload):
    with doc_app.app_context(), pytest.raises(uploads.UploadError, match="PDF ou une image"):
        uploads.validate_document(storage(payload))


def test_broken_encrypted_too_long_and_too_large_pdfs_are_refused(doc_app):
    with doc_app.app_context():
        for broken in (b"%PDF-1.7\n garbage", pdf_with_secrets()[:300]):
            data, kind = uploads.validate_document(storage(broken))
            with pytest.raises(uploads.UploadError, match="endommagé"):
                uploads.store_document(data, kind)
        with pytest.raises(uploads.UploadError, match="mot de passe"):
            uploads.clean_document(pdf_with_secrets(encrypt=True), "pdf")
        doc_app.config["MAX_DOCUMENT_PAGES"] = 2
        with pytest.raises(uploads.UploadError, match="2 pages"):
            uploads.clean_document(pdf_with_secrets(pages=3), "pdf")
        doc_app.config["MAX_DOCUMENT_BYTES"] = 1000
        with pytest.raises(uploads.UploadError, match="ne doit pas dépasser"):
            uploads.validate_document(storage(pdf_with_secrets()))
        with pytest.raises(uploads.UploadError, match="vide"):
            uploads.validate_document(storage(b""))


def test_a_pixel_bomb_is_refused_as_a_proof(doc_app):
    out = io.BytesIO()
    Image.new("1", (40_000, 40_000)).save(out, format="PNG")
    with doc_app.app_context(), pytest.raises(uploads.UploadError, match="pixels"):
        uploads.validate_document(storage(out.getvalue()))


def test_documents_are_served_as_private_attachments_and_names_are_checked(doc_app):
    with doc_app.app_context():
        name = uploads.store_document(pdf_with_secrets(), "pdf", folder="verification")
        for wrong in ("../x.pdf", "a.pdf", None, name.replace(".pdf", ".exe")):
            assert uploads.document_file(wrong, folder="verification") is None
        assert uploads.document_file(name, folder="other") is None
        with pytest.raises(ValueError):
            uploads.document_folder("../etc")
        with doc_app.test_request_context():
            response = uploads.send_document(name, folder="verification", download_name="p.pdf")
            response.direct_passthrough = False
            assert response.mimetype == "application/pdf"
            assert response.headers["Content-Disposition"].startswith("attachment")
            assert "private" in response.headers["Cache-Control"]
            assert "sandbox" in response.headers["Content-Security-Policy"]
            response.close()
            with pytest.raises(NotFound):
                uploads.send_document("0" * 32 + ".pdf", folder="verification")
        uploads.delete_document(name, folder="verification")
        assert uploads.document_file(name, folder="verification") is None
