"""Pages reserved to some roles are linked by asking `may_open`, the role guard of the page
itself: a section or a link shows exactly when its page opens."""

from __future__ import annotations

import pytest
from flask_login import login_user

from incubator.security import may_open
from tests.factories import make_user
from tests.helpers import text


@pytest.mark.parametrize("roles", [(), ("coordinator",), ("admin",), ("hr",), ("admin", "hr")])
def test_home_sections_show_exactly_when_their_pages_open(roles, client, login):
    login(client, make_user(roles=list(roles)))
    home = text(client.get("/"))
    assert ('aria-labelledby="admin"' in home) == (client.get("/admin/").status_code == 200)
    assert ('id="attente-engagement_report"' in home) == (client.get("/rh/engagement").status_code == 200)


@pytest.mark.parametrize("roles", [("coordinator",), ("admin",)])
def test_the_collective_page_links_the_administration_to_its_administrators(roles, client, login):
    login(client, make_user(roles=list(roles)))
    page = text(client.get("/admin/collectif"))
    assert ('aria-label="Administration"' in page) == (client.get("/admin/").status_code == 200) == ("admin" in roles)


def test_may_open_refuses_a_page_without_a_role_guard(server):
    with server.test_request_context("/"):
        login_user(make_user(roles=["admin"]))
        assert may_open("admin.index") and not may_open("engagement.hr")
        with pytest.raises(LookupError):
            may_open("proposals.show")  # its rule is the domain's policy, not a role
