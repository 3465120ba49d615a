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
as its text) and call `csv_response` or `xlsx_response`. A report that people work in (the
HR report for the CIA campaign) says what it covers: `csv_response(..., title=...)` writes
that title alone on the first line, before the header; `report_xlsx_response` writes sheets
(`Sheet`) with a heading, a bold frozen header, column widths, number formats and an
autofilter over the table."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Sequence
from copy import copy
from dataclasses import dataclass
from decimal import Decimal

from flask import Response, send_file, stream_with_context
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

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
    # Text and whole numbers first, by exact type: half a million cells in the HR export.
    kind = type(value)
    if kind is str:
        return NEUTRALISING_PREFIX + value if value.startswith(FORMULA_TRIGGERS) else value
    if kind is int:
        return str(value)
    if value is None:
        return ""
    if _is_number(value):
        return number_text(value)
    return neutralise(str(value))


def csv_lines(header: Sequence[str], rows: Iterable[Sequence], title: str | None = None) -> Iterable[str]:
    """The CSV text in chunks: the byte order mark, the title line if any (one cell), the
    header, then the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_SEPARATOR)
    if title is not None:
        writer.writerow([csv_cell(title)])
    writer.writerow([csv_cell(cell) for cell in header])
    yield "\ufeff" + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    for row in rows:
        # Whole numbers as they are (the writer prints them): most of the HR export's cells.
        writer.writerow([cell if type(cell) is int else csv_cell(cell) for cell in row])
        if buffer.tell() >= _FLUSH_AT:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence], *,
                 title: str | None = None) -> Response:
    """A streamed CSV download; `rows` may be a generator reading the database; `title`,
    if given, is the first line, alone (the header is then the second line)."""
    # The mimetype alone: Flask adds "; charset=utf-8" to a text type (given here too, it came twice).
    response = Response(stream_with_context(csv_lines(header, rows, title)), mimetype="text/csv")
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response


def xlsx_cell(sheet, value: object, number_style=None) -> WriteOnlyCell:
    """`number_style`: the style of a number cell (a number format), from `_number_style`."""
    if value is None or _is_number(value):
        cell = WriteOnlyCell(sheet, value=float(value) if isinstance(value, Decimal) else value)
        if number_style is not None and value is not None:
            cell._style = copy(number_style)  # what `cell.number_format = …` does, without its lookups
        return cell
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


# Number formats of report columns (Excel codes; LibreOffice reads them too).
HOURS_FORMAT = "0.00"  # hours with two decimals, shown with the reader's decimal comma
COUNT_FORMAT = "0"
PERCENT_NUMBER_FORMAT = '0" %"'  # a quotité stored as 80 and shown « 80 % »
SHEET_TITLE_MAX = 31  # Excel refuses longer sheet names
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def sheet_title(text: str) -> str:
    """A name Excel accepts for a sheet: none of []:*?/\\, at most 31 characters."""
    cleaned = _SHEET_FORBIDDEN.sub("-", ILLEGAL_CHARACTERS_RE.sub("", text)).strip().strip("'")
    return cleaned[:SHEET_TITLE_MAX].rstrip() or "Feuille"


@dataclass(frozen=True)
class Column:
    title: str
    width: float = 12  # in characters, as Excel counts them
    number_format: str | None = None  # for number cells (HOURS_FORMAT...)


@dataclass
class Sheet:
    title: str  # made valid by sheet_title
    columns: Sequence[Column]
    rows: Iterable[Sequence]
    heading: str | None = None  # alone on the first row, in bold, above the header
    frozen_columns: int = 0  # columns kept in view when scrolling sideways (names)


def _number_style(sheet, number_format: str | None):
    """The style of a number cell with this format, computed once per column: setting
    `number_format` on each of 20,000 × 16 cells doubled the time of the XLSX export."""
    if not number_format:
        return None
    cell = WriteOnlyCell(sheet, value=0)
    cell.number_format = number_format
    return cell._style


def _write_sheet(workbook: Workbook, spec: Sheet) -> None:
    sheet = workbook.create_sheet(sheet_title(spec.title))
    header_row = 2 if spec.heading else 1
    # Written before the first row: a write-only sheet sends its view and columns first.
    sheet.freeze_panes = f"{get_column_letter(spec.frozen_columns + 1)}{header_row + 1}"
    for index, column in enumerate(spec.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    if spec.heading:
        heading = xlsx_cell(sheet, spec.heading)
        heading.font = Font(bold=True, size=13)
        sheet.append([heading])
    bold, wrapped = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    header = []
    for column in spec.columns:
        cell = xlsx_cell(sheet, column.title)
        cell.font, cell.alignment = bold, wrapped
        header.append(cell)
    sheet.append(header)
    styles = [_number_style(sheet, column.number_format) for column in spec.columns]
    last = header_row
    for row in spec.rows:
        sheet.append([xlsx_cell(sheet, value, styles[i] if i < len(styles) else None)
                      for i, value in enumerate(row)])
        last += 1
    # The filter's range is known at the end; a write-only sheet writes it after the rows.
    sheet.auto_filter.ref = f"A{header_row}:{get_column_letter(len(spec.columns))}{last}"


def report_xlsx_response(filename: str, sheets: Sequence[Sheet]) -> Response:
    """An XLSX report of one or more sheets, written row by row to a temporary file."""
    workbook = Workbook(write_only=True)
    for spec in sheets:
        _write_sheet(workbook, spec)
    handle = tempfile.TemporaryFile()
    workbook.save(handle)
    handle.seek(0)
    return send_file(handle, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=filename)
