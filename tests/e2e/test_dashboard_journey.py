import pytest
from playwright.sync_api import expect

from .conftest import assert_accessible, login

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("email", ["agent@demo.incubateur.fr", "animation@demo.incubateur.fr"])
def test_dashboard_charts_are_accessible_and_have_their_data(page, email, tmp_path):
    login(page, email)
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Tableau de bord").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    expect(page.get_by_role("img", name="Du dépôt au projet")).to_be_visible()
    page.get_by_text("Tableau des données").first.click()
    expect(page.get_by_role("table", name="Du dépôt au projet")).to_be_visible()
    assert_accessible(page)
    page.screenshot(path=str(tmp_path / f"dashboard-{email.split('@')[0]}.png"), full_page=True)
