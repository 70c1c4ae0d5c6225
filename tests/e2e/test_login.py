import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD


@pytest.mark.e2e
def test_recruiter_logs_in_and_sees_the_dashboard(live_server, page, recruiter):
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/login/")
    page.get_by_label("Email").fill(recruiter.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(f"{live_server.url}/dashboard/")
    expect(page.get_by_role("heading", name="Hello, Rick")).to_be_visible()
    expect(page.get_by_role("link", name="Team", exact=True)).to_be_visible()
    # Someone new is led to a first sequence.
    expect(page.get_by_role("heading", name="Your first sequence, in four steps")).to_be_visible()


@pytest.mark.e2e
def test_admin_deactivates_a_teammate_without_a_page_reload(
    live_server, page, admin_user, recruiter
):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill(admin_user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Team", exact=True).click()

    row = page.get_by_role("row", name="rick@acme.example")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Deactivate").click()

    expect(row.get_by_role("cell", name="Deactivated")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("their seat is free")
