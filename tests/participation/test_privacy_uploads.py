"""Privacy of uploads on a tenant site: every image kind (proposal, process, logo) goes
through core.uploads (EXIF/GPS gone, pixel bombs refused in French with the form kept),
an ordinary 8–12 MB phone photo is accepted, and the media of hidden, withdrawn or draft
content reach staff only, never through a shared cache."""

from __future__ import annotations

import html
import io
import os
import re

import pytest
import sqlalchemy as sa
from PIL import Image

from core import uploads
from core.db import db
from tests.core.test_uploads import GPS_IFD, jpeg_with_gps
from tests.support import (
    post,
    signed_in,
)
from tests.support.participation import (
    citizen,
    make_process,
    make_proposal,
    proposal_row,
    read,
    staff,
)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def pixel_bomb() -> bytes:
    """A 40000×40000 PNG: a few hundred kB on disk, 1.6 gigapixels once decoded."""
    out = io.BytesIO()
    Image.new("1", (40_000, 40_000)).save(out, format="PNG")
    return out.getvalue()


def phone_photo(megabytes: float) -> bytes:
    """A JPEG of about ``megabytes`` MB with GPS EXIF, like a phone's (noise compresses
    badly, as a real photo does)."""
    side = 3000
    noise = Image.frombytes("RGB", (side, side * 3 // 4), os.urandom(side * side * 3 // 4 * 3))
    exif = Image.open(io.BytesIO(jpeg_with_gps())).getexif()
    out = io.BytesIO()
    noise.save(out, format="JPEG", quality=85, exif=exif.tobytes())
    data = out.getvalue()
    target = int(megabytes * 1024 * 1024)
    assert len(data) <= target, len(data)
    # Pad with a trailing comment segment-free filler after EOI: decoders ignore it.
    return data + b"\x00" * (target - len(data))


def assert_clean(path) -> None:
    stored = path.read_bytes()
    assert b"PhoneMaker" not in stored and b"Exif" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif().get_ifd(GPS_IFD)


@pytest.fixture
def papp(proposals_app, tmp_path):
    previous = proposals_app.config.get("UPLOAD_FOLDER")
    proposals_app.config["UPLOAD_FOLDER"] = str(tmp_path)
    yield proposals_app
    proposals_app.config["UPLOAD_FOLDER"] = previous


def submit(client, process_id: int, image: bytes, name: str = "photo.jpg"):
    return post(
        client,
        f"/demarches/{process_id}/propositions/nouvelle",
        {
            "title": "Un jardin partagé rue des Vergers",
            "body": "Transformer la friche en jardin partagé pour les habitants du quartier.",
            "image": (io.BytesIO(image), name),
            "image_alt": "La friche vue depuis la rue",
        },
        content_type="multipart/form-data",
    )


def test_a_proposal_photo_loses_its_gps_position(papp, tenant, today):
    process_id = make_process(papp, tenant)
    client = signed_in(papp, tenant, citizen(papp, tenant))
    response = submit(client, process_id, jpeg_with_gps())
    assert response.status_code == 303, text(response)
    proposal_id = int(response.location.rsplit("/", 1)[1])
    name = proposal_row(papp, tenant, proposal_id)["image_path"]
    with papp.app_context():
        assert_clean(uploads.image_file(tenant.id, name))
    served = client.get(f"/medias/propositions/{name}")
    assert served.status_code == 200 and b"PhoneMaker" not in served.data
    # Visible content that can be hidden: never in a shared cache, not for a year.
    assert served.headers["Cache-Control"] == "private, max-age=3600"


def test_a_pixel_bomb_is_refused_in_french_and_the_form_keeps_the_text(papp, tenant, today):
    process_id = make_process(papp, tenant)
    client = signed_in(papp, tenant, citizen(papp, tenant))
    response = submit(client, process_id, pixel_bomb(), name="plan.png")
    assert response.status_code == 200
    page = text(response)
    assert "trop grande (en pixels)" in page
    assert "Un jardin partagé rue des Vergers" in page  # what was typed comes back


def test_an_ordinary_phone_photo_is_accepted_and_one_over_the_limit_comes_back(papp, tenant, today):
    process_id = make_process(papp, tenant)
    client = signed_in(papp, tenant, citizen(papp, tenant))
    response = submit(client, process_id, phone_photo(11))
    assert response.status_code == 303, text(response)[:2000]
    name = proposal_row(papp, tenant, int(response.location.rsplit("/", 1)[1]))["image_path"]
    with papp.app_context():
        path = uploads.image_file(tenant.id, name)
        assert_clean(path)
        # Re-encoded and scaled down: a fraction of what was sent.
        assert path.stat().st_size < 3 * 1024 * 1024
        assert max(Image.open(path).size) <= uploads.MAX_DIMENSION
    # Just over the 15 MB limit (within the body limit's margin for the other fields):
    # back to the form, text kept, the limit named in French.
    refused = submit(client, process_id, phone_photo(15 + 100 / 1024))
    assert refused.status_code == 200
    page = text(refused)
    assert "L'image ne doit pas dépasser 15 Mo." in page
    assert "Un jardin partagé rue des Vergers" in page


def test_hidden_and_withdrawn_proposals_media_reach_staff_only(papp, tenant, today):
    from participation.proposals.models import Proposal

    process_id = make_process(papp, tenant)
    author = citizen(papp, tenant)
    hidden = make_proposal(papp, tenant, process_id, author)
    withdrawn = make_proposal(papp, tenant, process_id, author)
    names = {}

    def attach():
        for proposal_id, label in ((hidden, "hidden"), (withdrawn, "withdrawn")):
            names[label] = uploads.store_image(tenant.id, jpeg_with_gps())
            db.session.get(Proposal, proposal_id).image_path = names[label]
        db.session.get(Proposal, hidden).hidden_at = sa.func.now()
        db.session.get(Proposal, withdrawn).withdrawn_at = sa.func.now()
        db.session.commit()

    read(papp, tenant, attach)
    other = signed_in(papp, tenant, citizen(papp, tenant))
    moderator, _ = staff(papp, tenant, "moderator")
    for name in names.values():
        assert other.get(f"/medias/propositions/{name}").status_code == 404
        served = moderator.get(f"/medias/propositions/{name}")
        assert served.status_code == 200
        assert served.headers["Cache-Control"] == "private, no-store"
    # A name no proposal uses is nobody's picture.
    assert moderator.get(f"/medias/propositions/{'b' * 32}.png").status_code == 404


def test_a_draft_process_image_is_staff_only_and_stored_clean(papp, tenant, today):
    from participation.processes.models import Process, ProcessState

    process_id = make_process(papp, tenant)
    holder = {}

    def draft_with_image():
        process = db.session.get(Process, process_id)
        process.state = ProcessState.DRAFT
        data, kind = uploads.validate_image(io.BytesIO(jpeg_with_gps()))
        from participation.processes import services

        holder["name"] = process.image_path = services.store_image(tenant.id, data, kind)
        db.session.commit()

    read(papp, tenant, draft_with_image)
    name = holder["name"]
    with papp.app_context():
        assert_clean(uploads.image_file(tenant.id, name))
    citizen_client = signed_in(papp, tenant, citizen(papp, tenant))
    assert citizen_client.get(f"/medias/demarches/{name}").status_code == 404
    moderator, _ = staff(papp, tenant, "moderator")
    served = moderator.get(f"/medias/demarches/{name}")
    assert served.status_code == 200 and served.headers["Cache-Control"] == "private, no-store"


def test_other_media_routes_do_not_serve_another_feature_s_pictures(papp, tenant, today):
    """One images folder per tenant: the logo and follow-up routes serve their own files
    only, so a hidden proposal's picture cannot be fetched through them."""
    from participation.proposals.models import Proposal

    process_id = make_process(papp, tenant)
    proposal_id = make_proposal(papp, tenant, process_id, citizen(papp, tenant))
    holder = {}

    def hide_with_image():
        holder["name"] = uploads.store_image(tenant.id, jpeg_with_gps())
        proposal = db.session.get(Proposal, proposal_id)
        proposal.image_path, proposal.hidden_at = holder["name"], sa.func.now()
        db.session.commit()

    read(papp, tenant, hide_with_image)
    anonymous = signed_in(papp, tenant, citizen(papp, tenant))
    name = holder["name"]
    assert anonymous.get(f"/medias/logo/{name}").status_code == 404
    for rule in papp.url_map.iter_rules():
        if rule.endpoint == "budgets.photo":
            path = re.sub(r"<[^>]+>", name, rule.rule)
            assert anonymous.get(path).status_code == 404


def test_a_logo_is_re_encoded_without_metadata(papp, tenant):
    from participation.staff import branding

    with papp.app_context():
        data, kind = branding.read_logo(io.BytesIO(jpeg_with_gps()), "logo.jpg")
        name = branding.store_logo(tenant.id, data, kind)
        assert_clean(uploads.image_file(tenant.id, name))
        with pytest.raises(branding.BrandingError, match="pixels"):
            branding.read_logo(io.BytesIO(pixel_bomb()), "logo.png")
