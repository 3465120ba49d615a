"""Reading the CSV files a French office produces. Excel saves "CSV UTF-8" (with a byte
order mark) or "CSV (séparateur : point-virgule)" in Windows-1252; LibreOffice saves UTF-8.
"Texte Unicode" (UTF-16) is not a CSV file: the person is told how to save it instead."""

from __future__ import annotations

import codecs

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
