"""The open-data bundle: contents, data dictionary, licence, no personal data, the page,
the download, the command and the nightly fan-out."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from tests.api.seed import DELETED_TEXT, DRAFT_TITLE, FREE_TEXT, HIDDEN_TEXT

CSV_FILES = {
    "demarches.csv",
    "phases.csv",
    "propositions.csv",
    "historique-reponses.csv",
    "debats.csv",
    "arguments.csv",
    "commentaires.csv",
    "consultations.csv",
    "consultations-resultats.csv",
    "budgets.csv",
    "budgets-projets.csv",
    "reunions.csv",
    "signalements.csv",
}


@pytest.fixture
def folder(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "OPENDATA_FOLDER", str(tmp_path))
    return tmp_path


def build(app, tenant) -> dict:
    from participation.opendata.tasks import build_tenant_bundle

    with app.app_context():
        return build_tenant_bundle(tenant.id)


def read_bundle(folder, tenant, manifest) -> dict[str, str]:
    with zipfile.ZipFile(folder / f"t{tenant.id}" / manifest["file"]) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_bundle_contents(app, seeded, folder):
    manifest = build(app, seeded.tenant)
    files = read_bundle(folder, seeded.tenant, manifest)
    assert set(files) >= CSV_FILES | {"dictionnaire-des-donnees.csv", "LICENCE.txt", "LISEZMOI.txt"}
    assert "LICENCE OUVERTE / OPEN LICENCE" in files["LICENCE.txt"]
    assert "Version 2.0" in files["LICENCE.txt"]

    processes = {int(r["id"]): r for r in rows(files["demarches.csv"])}
    assert seeded.process_ids["open"] in processes
    assert seeded.process_ids["draft"] not in processes
    assert processes[seeded.process_ids["archived"]]["statut"] == "finished"

    proposals = {int(r["id"]): r for r in rows(files["propositions.csv"])}
    p = seeded.proposal_ids
    assert {p["answered"], p["rejected"], p["by_deleted"], p["archived"]} <= set(proposals)
    for key in ("hidden", "withdrawn", "blocked", "draft"):
        assert p[key] not in proposals, key
    answered = proposals[p["answered"]]
    assert answered["statut"] == "accepted" and answered["statut_libelle"] == "Retenue"
    assert answered["reponse"].startswith("La ville retient")
    assert answered["soutiens"] == "3" and answered["commentaires"] == "2"
    assert answered["auteur_type"] == "citoyen"
    assert proposals[p["rejected"]]["motif"] == "Hors des compétences de la commune."
    assert len(proposals) == manifest["counts"]["propositions.csv"]

    events = rows(files["historique-reponses.csv"])
    answered_events = [e["type"] for e in events if int(e["proposition_id"]) == p["answered"]]
    assert answered_events == ["created", "status", "answer"]  # not the internal assignment
    arguments = rows(files["arguments.csv"])
    assert len(arguments) == 3 and {a["cote"] for a in arguments} == {"pour", "contre"}
    comments = {int(r["id"]): r for r in rows(files["commentaires.csv"])}
    c = seeded.comment_ids
    assert set(comments) == {c["visible"], c["reply"], c["on_debate"], c["on_process"]}
    assert comments[c["reply"]]["auteur_type"] == "collectivite"


def test_dictionary_describes_every_column(app, seeded, folder):
    files = read_bundle(folder, seeded.tenant, build(app, seeded.tenant))
    dictionary = rows(files["dictionnaire-des-donnees.csv"])
    described = {(d["fichier"], d["champ"]) for d in dictionary}
    for name in CSV_FILES:
        header = next(csv.reader(io.StringIO(files[name])))
        assert {(name, column) for column in header} <= described, name
        assert all(d["type"] and d["description"] for d in dictionary if d["fichier"] == name)


def test_tools_datasets(app, seeded, tools, folder):
    files = read_bundle(folder, seeded.tenant, build(app, seeded.tenant))
    surveys = {int(r["id"]) for r in rows(files["consultations.csv"])}
    assert {tools.survey_id, tools.unpublished_results_id} <= surveys
    assert tools.draft_survey_id not in surveys
    results = rows(files["consultations-resultats.csv"])
    assert {int(r["consultation_id"]) for r in results} == {tools.survey_id}
    velo = next(r for r in results if r["option"] == "Vélo")
    assert (velo["nombre"], velo["repondants"]) == ("1", "2")
    projects = {int(r["id"]): r for r in rows(files["budgets-projets.csv"])}
    big = projects[tools.project_ids["big"]]
    assert (big["voix"], big["retenu"]) == ("3", "oui")
    assert projects[tools.project_ids["ongoing"]]["voix"] == ""  # vote still open
    assert tools.budget_ids["draft"] not in {int(r["id"]) for r in rows(files["budgets.csv"])}
    meetings = {int(r["id"]): r for r in rows(files["reunions.csv"])}
    assert set(meetings) == {tools.meeting_id}
    assert meetings[tools.meeting_id]["inscrits"] == "2"
    assert meetings[tools.meeting_id]["compte_rendu"] == ""
    problems = {int(r["id"]) for r in rows(files["signalements.csv"])}
    p = tools.problem_ids
    assert {p["resolved"], p["anonymous"]} == problems


def test_no_personal_data_in_bundle(app, seeded, tools, folder):
    files = read_bundle(folder, seeded.tenant, build(app, seeded.tenant))
    everything = "\n".join(files.values())
    for email in seeded.emails:
        assert email not in everything
        local = email.split("@")[0]  # "camille.abc123"
        assert local not in everything
        display_name = local.split(".")[0].title() + " " + local.split(".")[1]
        assert display_name not in everything, display_name
    for secret in (HIDDEN_TEXT, DELETED_TEXT, DRAFT_TITLE, FREE_TEXT, "Note interne"):
        assert secret not in everything, secret


def test_page_and_download(app, seeded, folder, make_tenant):
    from tests.support import host_client

    empty = make_tenant()
    page = host_client(app, empty.primary_host).get("/open-data")
    assert page.status_code == 200
    assert "pas encore été produites" in page.get_data(as_text=True)

    manifest = build(app, seeded.tenant)
    client = host_client(app, seeded.tenant.primary_host)
    html = client.get("/open-data").get_data(as_text=True)
    assert f"/open-data/{manifest['file']}" in html
    assert "Licence Ouverte" in html and "Ko" in html
    response = client.get(f"/open-data/{manifest['file']}")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(response.data)).testzip() is None
    assert client.get("/open-data/autre.zip").status_code == 404
    assert client.get("/open-data/..%2Fbundle.json").status_code == 404
    other = host_client(app, empty.primary_host)
    assert other.get(f"/open-data/{manifest['file']}").status_code == 404


def test_command_and_nightly_fan_out(app, seeded, folder):
    from participation.opendata import cron  # noqa: F401 - the schedule imports cleanly
    from participation.opendata.tasks import enqueue_bundles

    result = app.test_cli_runner().invoke(
        args=["opendata", "build", "--tenant", str(seeded.tenant.id)]
    )
    assert result.exit_code == 0, result.output
    assert f"tenant {seeded.tenant.id}: donnees-ouvertes-{seeded.tenant.slug}.zip" in result.output
    with app.app_context():
        tenant_ids = enqueue_bundles()  # RQ_ASYNC is off in tests: the jobs run at once
    assert seeded.tenant.id in tenant_ids
    for tenant_id in tenant_ids:
        assert (folder / f"t{tenant_id}" / "bundle.json").is_file()


def test_demo_seeder_builds_the_demo_tenants_bundles(app, seeded, folder, monkeypatch):
    from core import demo
    from participation.opendata import demo as opendata_demo

    assert (97, opendata_demo.seed_open_data) in demo._seeders
    monkeypatch.setattr(opendata_demo, "DEMO_TENANTS", [("00000", seeded.tenant.slug)])
    with app.app_context():
        lines = list(opendata_demo.seed_open_data())
    assert len(lines) == 1 and lines[0].startswith(f"{seeded.tenant.slug}: données ouvertes")
    assert (
        folder / f"t{seeded.tenant.id}" / f"donnees-ouvertes-{seeded.tenant.slug}.zip"
    ).is_file()
