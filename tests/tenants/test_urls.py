from tenants.urls import platform_url, tenant_url


def test_urls_outside_a_request(app, tenant_a):
    with app.app_context():
        assert tenant_url(tenant_a, "tenant_api.tenant_identity") == (
            f"http://{tenant_a.primary_host}/api/v1/tenant"
        )
        assert platform_url("platform.home") == "http://pnyx.test/"


def test_url_for_inside_a_tenant_request_stays_on_the_tenant_host(app, tenant_a):
    from flask import url_for

    with app.test_request_context("/", base_url=f"http://{tenant_a.primary_host}"):
        app.preprocess_request()
        assert url_for("tenant_api.tenant_identity", _external=True) == (
            f"http://{tenant_a.primary_host}/api/v1/tenant"
        )
        assert url_for("platform.home", _external=True) == "http://pnyx.test/"
