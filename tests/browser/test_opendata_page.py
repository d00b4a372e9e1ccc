"""The /open-data page in headless Chromium: accessible (axe) before and after a bundle
exists, and the download link works. Uses the browser tests' live server and tenant."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.api.seed import seed_tenant

pytestmark = pytest.mark.browser


def test_open_data_page_is_accessible(page, live_server, live_tenant, tmp_path, monkeypatch):
    from participation.opendata.tasks import build_tenant_bundle
    from tests.browser.axe import visit  # after the browser conftest registered its rewrite

    app = live_server.app
    monkeypatch.setitem(app.config, "OPENDATA_FOLDER", str(tmp_path))
    visit(page, live_tenant.page_url("/open-data"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Données ouvertes")
    expect(page.locator("main")).to_contain_text("pas encore été produites")

    seed_tenant(app, live_tenant.ref, bulk=3)
    with app.app_context():
        manifest = build_tenant_bundle(live_tenant.ref.id)
    visit(page, live_tenant.page_url("/open-data"))
    link = page.get_by_role("link", name="Télécharger les données (ZIP)")
    expect(link).to_have_attribute("href", f"/open-data/{manifest['file']}")
    expect(page.get_by_role("table")).to_contain_text("propositions.csv")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == manifest["file"]
    with open(download.path(), "rb") as fh:
        assert fh.read(2) == b"PK"
