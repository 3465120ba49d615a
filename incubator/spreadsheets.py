"""Reading the CSV files a French office produces. Excel saves "CSV UTF-8" (with a byte
order mark) or "CSV (séparateur : point-virgule)" in Windows-1252; LibreOffice saves UTF-8.
"Texte Unicode" (UTF-16) is not a CSV file: the person is told how to save it instead."""

from __future__ import annotations

import codecs
import csv
import io

from .errors import ValidationFailed

SAVE_AS_CSV = ("Enregistrez le fichier au format « CSV UTF-8 » ou « CSV (séparateur : point-virgule) » "
               "depuis votre tableur.")


class UnreadableFile(ValueError):
    """The bytes are not the text of a CSV file; the message says how to save it."""


def decode_csv(raw: bytes) -> str:
    """The text of the file: UTF-8 with or without its byte order mark, else Windows-1252
    (any byte sequence that is not valid UTF-8 comes from a Windows spreadsheet in practice)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise UnreadableFile("Ce fichier est en « Texte Unicode » (UTF-16), pas en CSV. " + SAVE_AS_CSV)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as exc:  # five byte values Windows-1252 leaves undefined
        raise UnreadableFile("Encodage du fichier non reconnu (ni UTF-8, ni Windows-1252). "
                             + SAVE_AS_CSV) from exc


MAX_LINES = 50_000


class ImportFailed(ValidationFailed):
    """A CSV import refused, nothing written; `lines` lists (line number, message), line 0
    for the file as a whole. Each importer subclasses it to say what was not imported."""

    NOTHING = "rien n'a été importé"

    def __init__(self, lines: list[tuple[int, str]]):
        super().__init__({}, f"{len(lines)} erreur(s) : {self.NOTHING}.")
        self.lines = lines


def read_csv(raw: bytes, *, refused: type[ImportFailed] = ImportFailed, max_lines: int = MAX_LINES,
             ) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header (stripped, lower case) and the non-blank rows with their line numbers,
    `;` or `,` separated (whichever the header uses more). A row whose width differs from
    the header's is `{"__width__": "<its width>"}`. Raises `refused` for a file that cannot
    be read."""
    try:
        text = decode_csv(raw)
    except UnreadableFile as exc:
        raise refused([(0, str(exc))]) from exc
    if not text.strip():
        raise refused([(0, "Le fichier est vide.")])
    if "\x00" in text:
        raise refused([(0, "Le fichier contient des caractères nuls : ce n'est pas un fichier "
                           "texte. Enregistrez-le au format CSV UTF-8.")])
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
        rows = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(rows) >= max_lines:
                raise refused([(reader.line_num, f"Plus de {max_lines} lignes : découpez le fichier.")])
            if len(row) != len(header):
                rows.append((reader.line_num, {"__width__": str(len(row))}))
                continue
            rows.append((reader.line_num, {h: c.strip() for h, c in zip(header, row, strict=True)}))
    except csv.Error as exc:
        raise refused([(reader.line_num, f"Fichier CSV illisible : {exc}")]) from exc
    return header, rows
