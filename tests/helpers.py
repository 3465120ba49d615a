import html


def text(response) -> str:
    """The response body with HTML entities decoded, for message assertions."""
    return html.unescape(response.get_data(as_text=True))
