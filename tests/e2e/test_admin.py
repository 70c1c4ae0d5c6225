import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, UserFactory


@pytest.mark.e2e
def test_team_admin_uses_django_admin_without_security_policy_violations(
    live_server, page, admin_user, other_admin
):
    UserFactory(
        organization=admin_user.organization, email="mia@acme.example", full_name="Mia Mine"
    )
    violations = []
    page.on(
        "console", lambda msg: "Content Security Policy" in msg.text and violations.append(msg.text)
    )

    page.goto(f"{live_server.url}/login/?next=/admin/")
    page.get_by_label("Email").fill(admin_user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Users", exact=True).click()

    expect(page.get_by_role("link", name="mia@acme.example")).to_be_visible()
    expect(page.get_by_text("gus@globex.example")).to_have_count(0)
    # Admin's own scripts run: "select all" ticks every row's box.
    page.locator("#action-toggle").check()
    expect(page.locator("input.action-select:checked")).to_have_count(2)

    page.get_by_role("link", name="mia@acme.example").click()
    page.get_by_label("Full name").fill("Mia Renamed")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("was changed successfully")).to_be_visible()
    assert violations == []
