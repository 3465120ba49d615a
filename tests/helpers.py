import html
import re


def text(response) -> str:
    """The response body with HTML entities decoded, for message assertions."""
    return html.unescape(response.get_data(as_text=True))


def field_errors(page: str, field_id: str) -> str:
    """The messages shown under one field of a form (`page` as given by `text`)."""
    found = re.search(rf'<ul class="field-errors" id="{field_id}-errors">(.*?)</ul>', page, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip() if found else ""


def table_verdict(machine, state: str, action: str, capacities: set[str]):
    """What a lifecycle table says of `action` from `state` for these capacities: the
    transition, or the error class a service must raise."""
    from incubator.errors import InvalidTransition, NotAllowed

    if not machine.may(action, capacities):
        return NotAllowed
    found = machine.transition(state, action)
    if found is None:
        return InvalidTransition
    return found if found.who & capacities else NotAllowed
