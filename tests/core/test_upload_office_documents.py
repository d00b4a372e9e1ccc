"""core.uploads office documents (practice-library attachments): a docx or an odt is
rewritten without its author metadata (OOXML docProps, ODF meta.xml and thumbnail), ODF's
``mimetype`` stays first and uncompressed; zip bombs and other zips are refused."""

from __future__ import annotations

import io
import zipfile

import pytest
from flask import Flask
from flask_babel import Babel

from core import uploads

SECRET = b"Jean Secret"

DOCX_MEMBERS = {
    "[Content_Types].xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        b'<Override PartName="/word/document.xml" ContentType="application/vnd.'
        b'openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
        b'<Override PartName="/docProps/core.xml" ContentType="application/vnd.'
        b'openxmlformats-package.core-properties+xml"/>'
        b'<Override PartName="/docProps/app.xml" ContentType="application/vnd.'
        b'openxmlformats-officedocument.extended-properties+xml"/></Types>'
    ),
    "_rels/.rels": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
    ),
    "word/document.xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body><w:p><w:r><w:t>Budget participatif 2025</w:t></w:r></w:p></w:body>"
        b"</w:document>"
    ),
    "docProps/core.xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        b'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        b'xmlns:dcterms="http://purl.org/dc/terms/" '
        b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        b"<dc:creator>Jean Secret</dc:creator><cp:lastModifiedBy>Jean Secret"
        b'</cp:lastModifiedBy><dcterms:created xsi:type="dcterms:W3CDTF">'
        b"2025-03-01T10:00:00Z</dcterms:created></cp:coreProperties>"
    ),
    "docProps/app.xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'extended-properties"><Company>Mairie de Jean Secret</Company>'
        b"<Application>Microsoft Office Word</Application></Properties>"
    ),
}

ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
ODT_MEMBERS = {
    "mimetype": ODT_MIMETYPE,
    "META-INF/manifest.xml": (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
        b'manifest:1.0" manifest:version="1.3">\n'
        b' <manifest:file-entry manifest:full-path="/" manifest:version="1.3" '
        b'manifest:media-type="application/vnd.oasis.opendocument.text"/>\n'
        b' <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>\n'
        b' <manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>\n'
        b' <manifest:file-entry manifest:full-path="Thumbnails/thumbnail.png" '
        b'manifest:media-type="image/png"/>\n'
        b"</manifest:manifest>\n"
    ),
    "content.xml": (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
        b'office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        b'office:version="1.3"><office:body><office:text><text:p>Budget participatif 2025'
        b"</text:p></office:text></office:body></office:document-content>"
    ),
    "meta.xml": (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        b' xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
        b'xmlns:dc="http://purl.org/dc/elements/1.1/" office:version="1.3"><office:meta>'
        b"<meta:initial-creator>Jean Secret</meta:initial-creator>"
        b"<dc:creator>Jean Secret</dc:creator><dc:date>2025-03-01T10:00:00</dc:date>"
        b"</office:meta></office:document-meta>"
    ),
    # Not a real PNG: the test only needs to see that it is gone.
    "Thumbnails/thumbnail.png": b"\x89PNG\r\n\x1a\n Jean Secret",
}


def build_zip(members: dict[str, bytes], odf_mimetype_first: bool = True) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        names = list(members)
        if not odf_mimetype_first and "mimetype" in names:
            names.remove("mimetype")
            names.append("mimetype")
        for name in names:
            archive.writestr(name, members[name])
    return out.getvalue()


def read_zip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {info.filename: archive.read(info) for info in archive.infolist()}


@pytest.fixture
def doc_app():
    app = Flask(__name__)
    Babel(app)
    with app.app_context():
        yield app


def test_the_fixtures_really_carry_the_author():
    assert SECRET in read_zip(build_zip(DOCX_MEMBERS))["docProps/core.xml"]
    assert SECRET in read_zip(build_zip(ODT_MEMBERS))["meta.xml"]


def test_docx_loses_its_author_metadata(doc_app):
    cleaned = read_zip(uploads.clean_office_document(build_zip(DOCX_MEMBERS), "docx"))
    assert set(cleaned) == set(DOCX_MEMBERS)
    assert not [name for name, content in cleaned.items() if SECRET in content]
    for name in ("[Content_Types].xml", "_rels/.rels", "word/document.xml"):
        assert cleaned[name] == DOCX_MEMBERS[name]
    core = cleaned["docProps/core.xml"]
    assert b"coreProperties" in core
    assert b"creator" not in core and b"lastModifiedBy" not in core and b"created" not in core
    assert b"Company" not in cleaned["docProps/app.xml"]


def test_odt_loses_its_metadata_and_thumbnail_mimetype_first_and_stored(doc_app):
    # mimetype last and compressed in the upload: the cleaned file puts it right.
    data = uploads.clean_office_document(build_zip(ODT_MEMBERS, odf_mimetype_first=False), "odt")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        first = archive.infolist()[0]
        assert first.filename == "mimetype"
        assert first.compress_type == zipfile.ZIP_STORED and not first.extra
    assert data[30:38] == b"mimetype" and data[38 : 38 + len(ODT_MIMETYPE)] == ODT_MIMETYPE
    cleaned = read_zip(data)
    assert set(cleaned) == set(ODT_MEMBERS) - {"Thumbnails/thumbnail.png"}
    assert not [name for name, content in cleaned.items() if SECRET in content]
    assert cleaned["content.xml"] == ODT_MEMBERS["content.xml"]
    assert (
        b"<office:meta/>" in cleaned["meta.xml"] and b'office:version="1.3"' in cleaned["meta.xml"]
    )
    manifest = cleaned["META-INF/manifest.xml"]
    assert b"Thumbnails" not in manifest and b'full-path="meta.xml"' in manifest


def test_a_zip_bomb_is_refused(doc_app):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in DOCX_MEMBERS.items():
            archive.writestr(name, content)
        with archive.open("word/media/zeros.bin", "w") as member:
            chunk = bytes(1024 * 1024)
            for _ in range(uploads.MAX_OFFICE_UNCOMPRESSED_BYTES // len(chunk) + 1):
                member.write(chunk)
    assert len(out.getvalue()) < 1024 * 1024
    with pytest.raises(uploads.UploadError, match="trop volumineux une fois décompressé"):
        uploads.clean_office_document(out.getvalue(), "docx")


def test_too_many_members_are_refused(doc_app):
    members = dict(DOCX_MEMBERS)
    members.update({f"word/x{i}.xml": b"" for i in range(uploads.MAX_OFFICE_MEMBERS)})
    with pytest.raises(uploads.UploadError, match="trop de fichiers internes"):
        uploads.clean_office_document(build_zip(members), "docx")


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (build_zip({"readme.txt": b"Jean Secret", "virus.exe": b"MZ"}), "docx"),
        (build_zip({"readme.txt": b"Jean Secret", "virus.exe": b"MZ"}), "odt"),
        (build_zip(DOCX_MEMBERS), "xlsx"),  # a Word file named .xlsx
        (build_zip(ODT_MEMBERS), "ods"),  # a text named .ods
        (b"PK\x03\x04 not really a zip", "docx"),
    ],
)
def test_other_zips_are_refused(doc_app, data, kind):
    with pytest.raises(uploads.UploadError, match="pas un document bureautique valide"):
        uploads.clean_office_document(data, kind)
