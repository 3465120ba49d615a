"""The one way the application writes spreadsheets: every CSV and XLSX export (HR report,
dashboard, journal of decisions, any future one) goes through here, so that no text an
agent typed can become a spreadsheet formula (CSV injection).

- CSV: `;` separator, decimal comma, UTF-8 with a byte order mark (Excel reads the
  accents), streamed; a text cell starting with one of FORMULA_TRIGGERS is neutralised
  with NEUTRALISING_PREFIX, as OWASP advises.
- XLSX: text is always a string cell, never a formula (openpyxl would otherwise store
  "=…" as one), marked "quote prefix" when it starts with a trigger so that editing the
  cell keeps it text; numbers are number cells.

Views build a header and rows of plain values (str, int, float, None, or an object shown
as its text) and call `csv_response` or `xlsx_response`."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Sequence
from decimal import Decimal

from flask import Response, send_file, stream_with_context
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

# A cell starting with one of these is read as a formula by Excel or LibreOffice.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NEUTRALISING_PREFIX = "'"
CSV_SEPARATOR = ";"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FLUSH_AT = 64 * 1024  # characters of CSV sent at a time


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def neutralise(text: str) -> str:
    """Text a spreadsheet shows as text: prefixed when it would start a formula."""
    return NEUTRALISING_PREFIX + text if is_formula_like(text) else text


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def number_text(value: float | int | Decimal) -> str:
    """A number as French spreadsheets read it: 2.5 -> « 2,5 », 4.0 -> « 4 », 1/3 -> « 0,333333 »."""
    if isinstance(value, int):
        return str(value)
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return ("0" if text == "-0" else text).replace(".", ",")


def csv_cell(value: object) -> str:
    if value is None:
        return ""
    if _is_number(value):
        return number_text(value)
    return neutralise(str(value))


def csv_lines(header: Sequence[str], rows: Iterable[Sequence]) -> Iterable[str]:
    """The CSV text in chunks: the header with the byte order mark, then the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_SEPARATOR)
    writer.writerow([csv_cell(cell) for cell in header])
    yield "\ufeff" + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
        if buffer.tell() >= _FLUSH_AT:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> Response:
    """A streamed CSV download; `rows` may be a generator reading the database."""
    response = Response(stream_with_context(csv_lines(header, rows)), mimetype="text/csv; charset=utf-8")
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response


def xlsx_cell(sheet, value: object) -> WriteOnlyCell:
    if value is None or _is_number(value):
        return WriteOnlyCell(sheet, value=float(value) if isinstance(value, Decimal) else value)
    # Characters a worksheet cannot hold (control characters) are dropped, not refused.
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    if not text:
        return WriteOnlyCell(sheet, value=None)
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # openpyxl makes "=…" a formula: force a string
    if is_formula_like(text):
        cell.quotePrefix = True
    return cell


def xlsx_response(filename: str, sheet_title: str, header: Sequence[str], rows: Iterable[Sequence]) -> Response:
    """An XLSX download, written row by row to a temporary file (not held in memory)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    sheet.append([xlsx_cell(sheet, cell) for cell in header])
    for row in rows:
        sheet.append([xlsx_cell(sheet, cell) for cell in row])
    handle = tempfile.TemporaryFile()
    workbook.save(handle)
    handle.seek(0)
    return send_file(handle, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=filename)
