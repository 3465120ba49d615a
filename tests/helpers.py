import html
import re


def text(response) -> str:
    """The response body with HTML entities decoded, for message assertions."""
    return html.unescape(response.get_data(as_text=True))


def field_errors(page: str, field_id: str) -> str:
    """The messages shown under one field of a form (`page` as given by `text`)."""
    found = re.search(rf'<ul class="field-errors" id="{field_id}-errors">(.*?)</ul>', page, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip() if found else ""
