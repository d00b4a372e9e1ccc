"""The one CSV writer of every export (staff exports, open data, network indicators).

Citizens write the text that ends up in these files, and the files are opened in Excel or
LibreOffice by agents and by anyone downloading the open data. A cell starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return is read as a formula there (CSV injection,
OWASP): such a cell is prefixed with an apostrophe, which the spreadsheet shows as text.
Plain numbers (``-1.5``, a negative longitude) cannot run anything and stay as they are, so
the numeric columns of the open data keep their meaning.

Each export keeps its own dialect (the files are consumed as they are today):

- staff exports for French Excel: UTF-8 with a BOM (else Excel reads Latin-1), ``;`` (the
  comma is the French decimal separator), CRLF;
- open data (data.gouv.fr conventions): UTF-8 without a BOM, ``,``, CRLF.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

BOM = "\ufeff"
#: What a spreadsheet reads as the start of a formula (or of a DDE command).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A plain decimal number, dot or comma: harmless, and must stay a number.
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?")


def safe_cell(value: object) -> str:
    """``value`` as a CSV cell that no spreadsheet runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


class SafeWriter:
    """``csv.writer`` whose every cell goes through :func:`safe_cell`."""

    def __init__(self, buffer, *, delimiter: str, lineterminator: str = "\r\n") -> None:
        self._writer = csv.writer(
            buffer, delimiter=delimiter, lineterminator=lineterminator, quoting=csv.QUOTE_MINIMAL
        )

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def excel_csv(
    header: Sequence[object], rows: Iterable[Iterable[object]], *, lineterminator: str = "\r\n"
) -> str:
    """A staff export for French Excel: BOM, ``;``, neutralised cells."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = SafeWriter(buffer, delimiter=";", lineterminator=lineterminator)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def open_data_csv(header: Sequence[object], rows: Iterable[Iterable[object]]) -> tuple[str, int]:
    """An open-data file: no BOM, ``,``, CRLF, neutralised cells. Returns (text, row count)."""
    buffer = io.StringIO()
    writer = SafeWriter(buffer, delimiter=",")
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return buffer.getvalue(), count
