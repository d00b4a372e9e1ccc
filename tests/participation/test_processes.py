"""Participatory processes: the timeline on a given day, staff creation and validation,
publication rules, visibility of drafts and archives, the public list and the home page,
Markdown sanitising, images, themes and the demo seeder."""

from __future__ import annotations

import io
import re
import uuid
from datetime import date

import sqlalchemy as sa

from core import clock
from core.db import db
from tests.support import (
    client_on,
    logged_in,
    path_of,
    post,
    text,
)
from tests.support.participation import PNG_1PX, TODAY, days
from tests.support.participation import create_process as make_process
from tests.support.staff import audit_rows

# --------------------------------------------------------------------------- fixtures


# --------------------------------------------------------------------------- helpers


def phase(start: int, end: int, *actions: str, kind: str = "contributions", title=None, **kw):
    """A phase from ``start`` to ``end`` days after TODAY, opening ``actions``."""
    return {
        "kind": kind,
        "title": title or f"Phase {kind} {start}",
        "starts_on": days(start),
        "ends_on": days(end),
        **{f"allows_{a}": True for a in actions},
        **kw,
    }


def read_process(app, tenant, process_id: int) -> dict | None:
    from participation.processes.models import Process
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        process = db.session.get(Process, process_id)
        if process is None:
            return None
        return {
            "title": process.title,
            "state": process.state.value,
            "description": process.description,
            "theme_id": process.theme_id,
            "image_path": process.image_path,
            "image_alt": process.image_alt,
            "support_threshold": process.support_threshold,
            "phases": [(p.position, p.title, p.starts_on, p.ends_on) for p in process.phases],
        }


def process_id_by_title(app, tenant, title: str) -> int | None:
    from participation.processes.models import Process
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        return db.session.scalar(sa.select(Process.id).where(Process.title == title))


def phase_form(start: date, end: date, *actions: str, kind="contributions", title="Vos idées"):
    data = {
        "kind": kind,
        "title": title,
        "description": "",
        "starts_on": start.isoformat(),
        "ends_on": end.isoformat(),
    }
    data.update({f"allows_{a}": "y" for a in actions})
    return data


def process_form(title: str, **overrides) -> dict:
    data = {
        "title": title,
        "summary": "Imaginons ensemble les berges.",
        "description": "## Le projet\n\nDes berges **accessibles**.",
        "theme_id": "0",
        "neighbourhood_id": "0",
        "image_alt": "",
        "support_threshold": "",
    }
    data.update(overrides)
    return data


# --------------------------------------------------------------------------- timeline


def test_overview_follows_the_day(processes_app):
    from participation.processes import services
    from participation.processes.models import Phase, PhaseKind, Process, ProcessState

    process = Process(title="Berges", state=ProcessState.PUBLISHED)
    process.phases = [
        Phase(
            kind=PhaseKind.INFORMATION,
            title="Info",
            starts_on=days(-20),
            ends_on=days(-11),
            allows_comment=True,
            position=1,
        ),
        Phase(
            kind=PhaseKind.CONTRIBUTIONS,
            title="Idées",
            starts_on=days(-10),
            ends_on=days(5),
            allows_propose=True,
            allows_support=True,
            position=2,
        ),
        Phase(
            kind=PhaseKind.VOTE,
            title="Vote",
            starts_on=days(10),
            ends_on=days(20),
            allows_support=True,
            position=3,
        ),
    ]
    with processes_app.test_request_context():
        now = services.process_overview(process, TODAY)
        assert now.status == services.ProcessStatus.OPEN
        assert now.current_phase.title == "Idées" and now.next_phase.title == "Vote"
        assert now.open_actions == ("propose", "support")
        assert now.open_action_labels == ["Déposer une proposition", "Soutenir"]
        assert [s.state for s in now.steps] == ["done", "current", "upcoming"]
        assert services.current_phase(process, TODAY).title == "Idées"
        assert process.allows("propose", TODAY) and not process.allows("comment", TODAY)

        gap = services.process_overview(process, days(7))  # between two phases
        assert gap.status == services.ProcessStatus.OPEN and gap.current_phase is None
        assert gap.open_actions == () and gap.next_phase.title == "Vote"

        before = services.process_overview(process, days(-21))
        assert before.status == services.ProcessStatus.UPCOMING
        assert before.starts_on == days(-20) and before.ends_on == days(20)
        after = services.process_overview(process, days(21))
        assert after.status == services.ProcessStatus.FINISHED
        assert all(step.is_done for step in after.steps)

        process.state = ProcessState.ARCHIVED
        archived = services.process_overview(process, TODAY)
        assert archived.status == services.ProcessStatus.FINISHED
        assert archived.open_actions == ()  # nothing is open on an archived process
        process.state = ProcessState.DRAFT
        assert not process.allows("propose", TODAY)


def test_today_is_the_day_in_paris(processes_app):

    assert abs((clock.paris_today() - date.today()).days) <= 1


# --------------------------------------------------------------------------- staff: create


def test_staff_create_phases_validation_and_publication(processes_app, tenant, today):
    app = processes_app
    client, moderator = logged_in(app, tenant, "moderator")
    title = f"Réinventons les berges {uuid.uuid4().hex[:6]}"

    empty = post(client, "/gestion/demarches/nouvelle", process_form(""))
    assert empty.status_code == 200 and "Indiquez le titre de la démarche." in text(empty)

    created = post(client, "/gestion/demarches/nouvelle", process_form(title))
    assert created.status_code == 302
    process_id = process_id_by_title(app, tenant, title)
    assert path_of(created.location) == f"/gestion/demarches/{process_id}"
    assert read_process(app, tenant, process_id)["state"] == "draft"

    # Publishing without a phase is refused, in French.
    refused = post(client, f"/gestion/demarches/{process_id}/publier", follow_redirects=True)
    assert "Ajoutez au moins une phase avant de publier." in text(refused)
    assert read_process(app, tenant, process_id)["state"] == "draft"

    phases_url = f"/gestion/demarches/{process_id}/phases"
    page = client.get(phases_url)
    assert page.status_code == 200 and 'type="date"' in text(page)

    backwards = post(client, phases_url, phase_form(days(10), days(1)))
    assert backwards.status_code == 200
    assert "La date de fin doit être le même jour que la date de début ou après." in text(backwards)
    not_a_date = post(client, phases_url, {**phase_form(days(1), days(2)), "starts_on": "31/02"})
    assert "Indiquez une date valide" in text(not_a_date)

    first = post(client, phases_url, phase_form(days(-5), days(20), "propose", "support"))
    assert first.status_code == 302
    overlap = post(
        client, phases_url, phase_form(days(20), days(40), kind="analysis", title="Analyse")
    )
    assert overlap.status_code == 200
    page = text(overlap)
    assert "Ces dates chevauchent la phase « Vos idées »" in page
    assert "du 10 mars 2027 au 4 avril 2027" in page
    inside = post(client, phases_url, phase_form(days(0), days(1), title="Dedans"))
    assert "chevauchent" in text(inside)

    # Added out of order: the timeline follows the calendar.
    assert (
        post(
            client,
            phases_url,
            phase_form(days(-30), days(-6), "comment", kind="information", title="Information"),
        ).status_code
        == 302
    )
    stored = read_process(app, tenant, process_id)["phases"]
    assert [(p[0], p[1]) for p in stored] == [(1, "Information"), (2, "Vos idées")]

    published = post(client, f"/gestion/demarches/{process_id}/publier")
    assert published.status_code == 302
    assert read_process(app, tenant, process_id)["state"] == "published"
    again = post(client, f"/gestion/demarches/{process_id}/publier", follow_redirects=True)
    assert "Seule une démarche en brouillon peut être publiée." in text(again)

    actions = [row["action"] for row in audit_rows(app, tenant) if row["actor_id"] == moderator.id]
    assert actions == [
        "processes.process_created",
        "processes.phase_added",
        "processes.phase_added",
        "processes.process_published",
    ]

    # Published: shown to everyone, with what can be done today.
    public = client_on(app, tenant).get(f"/demarches/{process_id}")
    assert public.status_code == 200
    assert "Déposer une proposition" in text(public)


def test_edit_process_and_preview_the_description(processes_app, tenant, today):
    app = processes_app
    client, _moderator = logged_in(app, tenant, "moderator")
    process_id = make_process(app, tenant, state="draft", description="Avant")
    url = f"/gestion/demarches/{process_id}/modifier"
    form = text(client.get(url))
    assert "Avant" in form and 'name="preview"' in form

    preview = post(client, url, process_form("Titre", description="Un **aperçu**", preview="1"))
    assert preview.status_code == 200
    assert "<strong>aperçu</strong>" in text(preview)
    assert read_process(app, tenant, process_id)["description"] == "Avant"  # nothing saved

    saved = post(client, url, process_form("Nouveau titre", support_threshold="40"))
    assert saved.status_code == 302
    stored = read_process(app, tenant, process_id)
    assert stored["title"] == "Nouveau titre" and stored["support_threshold"] == 40
    bad = post(client, url, process_form("Nouveau titre", support_threshold="beaucoup"))
    assert "Indiquez un nombre entier" in text(bad)
    rows = audit_rows(app, tenant, "processes.process_updated")
    assert any(
        r["target_id"] == str(process_id) and "support_threshold" in r["details"]["fields"]
        for r in rows
    )


def test_archive_and_delete_rules(processes_app, tenant, today):
    app = processes_app
    client, _moderator = logged_in(app, tenant, "admin")
    draft = make_process(app, tenant, state="draft", phases=[phase(0, 5)])
    refused = post(client, f"/gestion/demarches/{draft}/archiver", follow_redirects=True)
    assert "Un brouillon ne peut pas être archivé" in text(refused)

    published = make_process(app, tenant, phases=[phase(0, 5)])
    assert post(client, f"/gestion/demarches/{published}/supprimer").status_code == 302
    assert read_process(app, tenant, published)["state"] == "published"  # not deleted
    assert post(client, f"/gestion/demarches/{published}/archiver").status_code == 302
    assert read_process(app, tenant, published)["state"] == "archived"
    again = post(client, f"/gestion/demarches/{published}/archiver", follow_redirects=True)
    assert "Cette démarche est déjà archivée." in text(again)

    deleted = post(client, f"/gestion/demarches/{draft}/supprimer")
    assert deleted.status_code == 302 and path_of(deleted.location) == "/gestion/demarches"
    assert read_process(app, tenant, draft) is None
    assert audit_rows(app, tenant, "processes.process_deleted")[-1]["target_id"] == str(draft)


def test_phase_edit_move_and_delete(processes_app, tenant, today):
    app = processes_app
    client, _admin = logged_in(app, tenant, "admin")
    process_id = make_process(
        app,
        tenant,
        phases=[
            phase(0, 9, "propose", kind="contributions", title="Idées"),  # 10 days
            phase(13, 15, kind="analysis", title="Analyse"),  # 3 days, gap of 3
            phase(16, 30, "support", kind="vote", title="Vote"),
        ],
    )
    stored = read_process(app, tenant, process_id)["phases"]
    analysis_id = _phase_id(app, tenant, process_id, "Analyse")
    base = f"/gestion/demarches/{process_id}/phases/{analysis_id}"

    # "Earlier": the analysis takes the first slot, each phase keeps its length and the
    # gap between them stays.
    moved = post(client, f"{base}/deplacer", {"direction": "up"})
    assert moved.status_code == 302
    stored = read_process(app, tenant, process_id)["phases"]
    assert [(p[1], p[2], p[3]) for p in stored] == [
        ("Analyse", days(0), days(2)),
        ("Idées", days(6), days(15)),
        ("Vote", days(16), days(30)),
    ]
    first = post(client, f"{base}/deplacer", {"direction": "up"}, follow_redirects=True)
    assert "Cette phase est déjà la première." in text(first)

    edit_page = client.get(base)
    assert edit_page.status_code == 200 and re.search(
        r'<option selected value="analysis">', text(edit_page)
    )
    overlap = post(client, base, phase_form(days(0), days(8), kind="analysis", title="Analyse"))
    assert "chevauchent la phase « Idées »" in text(overlap)
    edited = post(
        client,
        base,
        phase_form(days(0), days(4), "comment", kind="analysis", title="Analyse citoyenne"),
    )
    assert edited.status_code == 302
    assert read_process(app, tenant, process_id)["phases"][0][1:] == (
        "Analyse citoyenne",
        days(0),
        days(4),
    )

    for title in ("Analyse citoyenne", "Idées"):
        phase_id = _phase_id(app, tenant, process_id, title)
        assert post(client, f"/gestion/demarches/{process_id}/phases/{phase_id}/supprimer")
    assert [p[1] for p in read_process(app, tenant, process_id)["phases"]] == ["Vote"]
    last = _phase_id(app, tenant, process_id, "Vote")
    refused = post(
        client, f"/gestion/demarches/{process_id}/phases/{last}/supprimer", follow_redirects=True
    )
    assert "Une démarche publiée garde au moins une phase" in text(refused)
    assert read_process(app, tenant, process_id)["phases"][0][0] == 1

    other = make_process(app, tenant, phases=[phase(0, 1)])
    assert client.get(f"/gestion/demarches/{other}/phases/{last}").status_code == 404


def _phase_id(app, tenant, process_id: int, title: str) -> int:
    from participation.processes.models import Phase
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        return db.session.scalar(
            sa.select(Phase.id).where(Phase.process_id == process_id, Phase.title == title)
        )


# --------------------------------------------------------------------------- visibility


def test_drafts_are_404_to_the_public_and_visible_to_staff(processes_app, tenant, today):
    app = processes_app
    draft = make_process(app, tenant, "Brouillon secret", state="draft", phases=[phase(0, 3)])
    archived = make_process(
        app,
        tenant,
        "Démarche archivée",
        state="archived",
        phases=[phase(-30, -20, kind="results", description="Bilan **final**")],
    )

    anonymous = client_on(app, tenant)
    assert anonymous.get(f"/demarches/{draft}").status_code == 404
    citizen, _ = logged_in(app, tenant, None)
    assert citizen.get(f"/demarches/{draft}").status_code == 404
    assert "Brouillon secret" not in text(anonymous.get("/demarches"))
    assert "Brouillon secret" not in text(anonymous.get("/"))
    assert anonymous.get("/demarches/987654").status_code == 404

    agent, _ = logged_in(app, tenant, "agent")
    page = agent.get(f"/demarches/{draft}")
    assert page.status_code == 200
    assert "Brouillon : cette démarche n'est visible que par l'équipe" in text(page)
    assert "Brouillon secret" in text(agent.get("/gestion/demarches"))

    page = anonymous.get(f"/demarches/{archived}")
    assert page.status_code == 200
    html = text(page)
    assert "Archivée" in html and "Bilan <strong>final</strong>" in html
    assert "il n'est plus possible d'y contribuer" in html


def test_public_page_shows_the_timeline(processes_app, tenant, today):
    app = processes_app
    process_id = make_process(
        app,
        tenant,
        "Plan vélo",
        description="Des pistes **continues**.",
        phases=[
            phase(
                -40,
                -11,
                "comment",
                kind="information",
                title="Information",
                description="300 personnes aux réunions.",
            ),
            phase(-10, 16, "propose", "support", "comment", "debate", title="Vos propositions"),
            phase(30, 60, kind="analysis", title="Analyse"),
        ],
    )
    page = client_on(app, tenant).get(f"/demarches/{process_id}")
    assert page.status_code == 200
    html = text(page)
    assert "<title>Plan vélo" in html and "<h1" in html
    assert "Des pistes <strong>continues</strong>." in html
    assert "Ce que vous pouvez faire maintenant" in html
    for words in ("Déposer une proposition", "Soutenir", "Commenter", "Débattre"):
        assert words in html
    timeline = re.search(r'<ol class="phase-timeline">(.*?)</ol>', html, re.S).group(1)
    steps = re.findall(r"<li class=\"step-(\w+)\"( aria-current=\"step\")?>", timeline)
    assert steps == [("done", ""), ("current", ' aria-current="step"'), ("upcoming", "")]
    assert timeline.count('aria-current="step"') == 1
    # French dates, with machine-readable values.
    assert '<time datetime="2027-03-05">5 mars 2027</time>' in timeline
    assert '<time datetime="2027-03-31">31 mars 2027</time>' in timeline
    assert "Ce qui s'est passé :" in timeline and "300 personnes aux réunions." in timeline
    assert 'jusqu\'au <time datetime="2027-03-31">31 mars 2027</time>' in html
    assert "Prochaine étape : « Analyse »" in html


def test_markdown_description_is_sanitised(processes_app, tenant, today):
    app = processes_app
    client, _ = logged_in(app, tenant, "moderator")
    title = f"Sécurité {uuid.uuid4().hex[:6]}"
    evil = (
        "Bonjour <script>alert('xss')</script>\n\n"
        "[clic](javascript:alert(1)) <img src=x onerror=alert(2)>\n\n"
        '<a href="https://example.org" onclick="alert(3)">lien</a> **gras**'
    )
    assert (
        post(
            client, "/gestion/demarches/nouvelle", process_form(title, description=evil)
        ).status_code
        == 302
    )
    process_id = process_id_by_title(app, tenant, title)
    preview = post(
        client,
        f"/gestion/demarches/{process_id}/modifier",
        process_form(title, description=evil, preview="1"),
    )
    post(client, f"/gestion/demarches/{process_id}/phases", phase_form(days(0), days(3)))
    post(client, f"/gestion/demarches/{process_id}/publier")
    for response in (client_on(app, tenant).get(f"/demarches/{process_id}"), preview):
        html = response.get_data(as_text=True)
        i = html.find("<script>alert")
        assert i < 0, html[i - 300 : i + 100]
        assert not re.search(r"<[a-z][^>]*\son\w+=", html)  # no event handler attribute
        assert 'href="javascript:' not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(" in html  # shown as text, harmless
        assert "<strong>gras</strong>" in html


# --------------------------------------------------------------------------- lists


def _section(html: str, slug: str) -> str:
    match = re.search(rf'<section aria-labelledby="groupe-{slug}">(.*?)</section>', html, re.S)
    assert match, f"no section {slug}"
    return match.group(1)


def test_home_lists_processes_in_the_right_group(processes_app, own_tenant, today):
    app, tenant = processes_app, own_tenant
    empty = text(client_on(app, tenant).get("/"))
    assert "Aucune démarche de participation n'est publiée pour le moment." in empty

    make_process(app, tenant, "Ouverte", phases=[phase(-5, 10, "propose", title="Idées")])
    make_process(
        app,
        tenant,
        "Entre deux phases",
        phases=[phase(-20, -1), phase(3, 9, "support", kind="vote", title="Vote")],
    )
    make_process(app, tenant, "Bientôt", phases=[phase(1, 20)])
    make_process(app, tenant, "Finie", phases=[phase(-30, -1, kind="results")])
    make_process(app, tenant, "Archivée en cours", state="archived", phases=[phase(-3, 30)])
    make_process(app, tenant, "Brouillon", state="draft", phases=[phase(-3, 30)])

    html = text(client_on(app, tenant).get("/"))
    assert "Bienvenue sur l'espace de participation" in html
    open_, upcoming, finished = (_section(html, s) for s in ("en-cours", "a-venir", "terminees"))
    assert "Ouverte" in open_ and "Entre deux phases" in open_
    assert (
        "Phase en cours :" in open_ and "Vous pouvez maintenant : Déposer une proposition" in open_
    )
    assert "Prochaine étape :" in open_ and "Vote" in open_
    assert "Bientôt" in upcoming and "Début le" in upcoming
    assert "Finie" in finished and "Archivée en cours" in finished
    assert "Brouillon" not in html
    # Open processes: the one closing first comes first.
    assert open_.index("Entre deux phases") < open_.index("Ouverte")

    # The next day, "Bientôt" has begun.
    from participation.processes import services

    with app.app_context():
        from tenants.context import tenant_context

        with tenant_context(tenant):
            groups = {g.status.value: g for g in services.home_groups(days(1))}
            assert [o.process.title for o in groups["upcoming"].overviews] == []
            assert "Bientôt" in [o.process.title for o in groups["open"].overviews]


def test_home_and_list_use_a_fixed_number_of_queries(processes_app, own_tenant, today):
    app, tenant = processes_app, own_tenant

    def statements(path: str) -> int:
        count = 0

        def counter(_conn, _cursor, statement, *_args):
            # Only the statements about processes: the host cache and the settings may or
            # may not be read, depending on their time to live.
            nonlocal count
            count += bool(re.search(r"\b(processes|phases|themes|neighbourhoods)\b", statement))

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", counter)
        try:
            assert client_on(app, tenant).get(path).status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", counter)
        return count

    for n in range(3):
        make_process(app, tenant, f"Ouverte {n}", phases=[phase(-1, 5 + n), phase(10, 12)])
        make_process(app, tenant, f"À venir {n}", phases=[phase(3 + n, 20)])
        make_process(app, tenant, f"Finie {n}", phases=[phase(-20, -10 - n)])
    statements("/")  # the first request resolves the host and reads the settings
    small = (statements("/"), statements("/demarches"))
    for n in range(3, 12):
        make_process(app, tenant, f"Ouverte {n}", phases=[phase(-1, 5 + n), phase(20, 22)])
        make_process(app, tenant, f"À venir {n}", phases=[phase(3 + n, 40)])
        make_process(app, tenant, f"Finie {n}", phases=[phase(-40, -10 - n)])
    assert (statements("/"), statements("/demarches")) == small

    html = text(client_on(app, tenant).get("/"))
    open_ = _section(html, "en-cours")
    assert open_.count('class="process-card"') == 6
    assert "Toutes les démarches en cours (12)" in open_


def test_public_list_filters_by_state_and_theme(processes_app, own_tenant, today):
    from participation.processes.models import Theme
    from tenants.context import tenant_context

    app, tenant = processes_app, own_tenant
    with app.app_context(), tenant_context(tenant):
        mobility, culture = Theme(name="Mobilités", position=1), Theme(name="Culture", position=2)
        unused = Theme(name="Jeunesse", position=3)
        db.session.add_all([mobility, culture, unused])
        db.session.commit()
        mobility_id, culture_id = mobility.id, culture.id
    make_process(app, tenant, "Vélo", theme_id=mobility_id, phases=[phase(-1, 5)])
    make_process(app, tenant, "Tramway", theme_id=mobility_id, phases=[phase(5, 9)])
    make_process(app, tenant, "Fresques", theme_id=culture_id, phases=[phase(-9, -5)])
    make_process(app, tenant, "Caché", state="draft", theme_id=culture_id, phases=[phase(-1, 5)])

    client = client_on(app, tenant)
    everything = text(client.get("/demarches"))
    assert "3 démarches" in everything and "Caché" not in everything
    assert everything.index("Vélo") < everything.index("Tramway") < everything.index("Fresques")
    assert "Jeunesse" not in everything  # only themes in use are offered

    only_open = text(client.get("/demarches?etat=en-cours"))
    assert "Vélo" in only_open and "Tramway" not in only_open and "Fresques" not in only_open
    finished = text(client.get("/demarches?etat=terminees"))
    assert "Fresques" in finished and "Vélo" not in finished
    mobility_page = text(client.get(f"/demarches?theme={mobility_id}"))
    assert "2 démarches correspondent à votre recherche" in mobility_page
    assert "Vélo" in mobility_page and "Fresques" not in mobility_page
    upcoming_mobility = text(client.get(f"/demarches?etat=a-venir&theme={mobility_id}"))
    assert "Tramway" in upcoming_mobility and "Vélo" not in upcoming_mobility
    nothing = text(client.get(f"/demarches?etat=a-venir&theme={culture_id}"))
    assert "Aucune démarche ne correspond à ces critères." in nothing
    assert client.get("/demarches?page=5").status_code == 404
    assert client.get("/demarches?page=99999999999999999999").status_code == 404
    assert "3 démarches" in text(client.get("/demarches?theme=99999999999999"))
    assert client.get("/demarches/99999999999999").status_code == 404
    assert client.get("/demarches?etat=n-importe-quoi").status_code == 200


# --------------------------------------------------------------------------- images


def test_image_upload_refuses_non_images_and_serves_png(processes_app, tenant, tmp_path, today):
    app = processes_app
    client, _ = logged_in(app, tenant, "moderator")
    process_id = make_process(app, tenant, "Avec image", phases=[phase(0, 5)])
    url = f"/gestion/demarches/{process_id}/modifier"
    app.config["UPLOAD_FOLDER"] = str(tmp_path)
    # A 2 MB image limit (15 MB by default) keeps the over-the-limit bodies small.
    previous_limit = app.config.get("MAX_IMAGE_BYTES")
    app.config["MAX_IMAGE_BYTES"] = 2 * 1024 * 1024
    try:
        svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
        for content, name in (
            (svg, "photo.png"),
            (svg, "photo.svg"),
            (b"GIF89a...", "a.gif"),
            (b"<html><script>alert(1)</script>", "page.jpg"),
        ):
            refused = post(
                client,
                url,
                {
                    **process_form("Avec image", image_alt="Une photo"),
                    "image": (io.BytesIO(content), name),
                },
                content_type="multipart/form-data",
            )
            assert refused.status_code == 200
            assert "PNG ou JPEG" in text(refused)
        too_big = post(
            client,
            url,
            {
                **process_form("Avec image", image_alt="Une photo"),
                "image": (io.BytesIO(PNG_1PX + b"\0" * (2 * 1024 * 1024)), "big.png"),
            },
            content_type="multipart/form-data",
        )
        assert too_big.status_code == 200 and "2 Mo" in text(too_big)
        huge = post(
            client,
            url,
            {
                **process_form("Avec image", image_alt="Une photo"),
                "image": (io.BytesIO(PNG_1PX + b"\0" * (4 * 1024 * 1024)), "big.png"),
            },
            content_type="multipart/form-data",
        )
        assert huge.status_code == 413 and "trop volumineux" in text(huge)
        no_alt = post(
            client,
            url,
            {
                **process_form("Avec image"),
                "image": (io.BytesIO(PNG_1PX), "photo.png"),
            },
            content_type="multipart/form-data",
        )
        assert "Décrivez l'image" in text(no_alt)
        assert not list(tmp_path.rglob("*.*"))
        assert read_process(app, tenant, process_id)["image_path"] is None

        accepted = post(
            client,
            url,
            {
                **process_form("Avec image", image_alt="Les berges au printemps"),
                "image": (io.BytesIO(PNG_1PX), "photo.png"),
            },
            content_type="multipart/form-data",
        )
        assert accepted.status_code == 302
        stored = read_process(app, tenant, process_id)
        assert re.fullmatch(r"[0-9a-f]{32}\.png", stored["image_path"])
        # Stored re-encoded (core.uploads), in the tenant's images folder.
        stored_file = tmp_path / f"t{tenant.id}" / "images" / stored["image_path"]
        stored_bytes = stored_file.read_bytes()
        assert stored_bytes.startswith(b"\x89PNG\r\n\x1a\n")

        visitor = client_on(app, tenant)
        page = text(visitor.get(f"/demarches/{process_id}"))
        src = f"/medias/demarches/{stored['image_path']}"
        assert f'src="{src}" alt="Les berges au printemps"' in page
        served = visitor.get(src)
        assert served.status_code == 200 and served.mimetype == "image/png"
        assert served.data == stored_bytes
        assert "sandbox" in served.headers["Content-Security-Policy"]
        assert visitor.get("/medias/demarches/../../etc.png").status_code == 404
        assert visitor.get("/medias/demarches/passwd").status_code == 404

        removed = post(client, url, process_form("Avec image", remove_image="y"))
        assert removed.status_code == 302
        assert read_process(app, tenant, process_id)["image_path"] is None
        assert not stored_file.exists()
    finally:
        app.config.pop("UPLOAD_FOLDER", None)
        app.config["MAX_IMAGE_BYTES"] = previous_limit


# --------------------------------------------------------------------------- themes


def test_themes_crud(processes_app, own_tenant):
    app, tenant = processes_app, own_tenant
    client, moderator = logged_in(app, tenant, "moderator")
    assert post(client, "/gestion/themes", {"name": "  Cadre   de vie "}).status_code == 302
    duplicate = post(client, "/gestion/themes", {"name": "cadre de vie"})
    assert duplicate.status_code == 200 and "Un thème porte déjà ce nom." in text(duplicate)
    assert "Indiquez le nom du thème." in text(post(client, "/gestion/themes", {"name": ""}))

    from participation.processes.models import Theme
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        theme = db.session.scalar(sa.select(Theme))
        theme_id, name = theme.id, theme.name
    assert name == "Cadre de vie"
    process_id = make_process(app, tenant, theme_id=theme_id, phases=[phase(0, 1)])

    edited = post(client, f"/gestion/themes/{theme_id}", {"name": "Environnement", "position": "3"})
    assert edited.status_code == 302
    assert "Environnement" in text(client.get("/gestion/themes"))
    assert post(client, f"/gestion/themes/{theme_id}/supprimer").status_code == 302
    assert read_process(app, tenant, process_id)["theme_id"] is None
    assert [r["action"] for r in audit_rows(app, tenant) if r["actor_id"] == moderator.id] == [
        "processes.theme_created",
        "processes.theme_updated",
        "processes.theme_deleted",
    ]


# --------------------------------------------------------------------------- demo


def test_demo_seeder_is_idempotent(processes_app, make_tenant):
    from participation.processes import services
    from participation.processes.demo import PROCESSES, THEMES, seed_processes
    from participation.processes.models import Phase, Process, Theme
    from tenants.context import load_tenant_ref, tenant_context

    app = processes_app
    with app.app_context():
        tenant_id = db.session.scalar(
            sa.text("SELECT id FROM public.tenants WHERE slug = 'angers'")
        )
    with app.app_context():
        tenant = load_tenant_ref(tenant_id) if tenant_id else None
    tenant = tenant or make_tenant(slug="angers")

    def snapshot():
        with app.app_context(), tenant_context(tenant):
            return (
                sorted(db.session.scalars(sa.select(Theme.name))),
                sorted((p.title, p.state.value) for p in db.session.scalars(sa.select(Process))),
                db.session.scalar(sa.select(sa.func.count()).select_from(Phase)),
            )

    with app.app_context():
        first = list(seed_processes())
    after_first = snapshot()
    with app.app_context():
        second = list(seed_processes())
    assert snapshot() == after_first and first == second
    assert any(
        line.startswith(f"{tenant.name} démarches: 4 (2 open, 1 upcoming, 1 finished)")
        for line in first
    ), first
    assert set(THEMES) <= set(after_first[0])
    titles = {spec.title for spec in PROCESSES["angers"]}
    assert titles <= {title for title, _state in after_first[1]}

    with app.app_context(), tenant_context(tenant):
        today = clock.paris_today()
        processes = db.session.scalars(sa.select(Process).where(Process.title.in_(titles)))
        statuses = {}
        for process in processes:
            overview = services.process_overview(process, today)
            statuses[process.title] = (
                overview.status.value,
                overview.current_phase.kind.value if overview.current_phase else None,
            )
    assert statuses["Budget des quartiers"] == ("open", "contributions")
    assert statuses["La culture dans l'espace public"] == ("upcoming", None)
    assert statuses["Conseil des jeunes : vos priorités"] == ("finished", None)
    assert statuses["Cœur de Maine : les bords de Maine réaménagés"] == ("open", "implementation")
