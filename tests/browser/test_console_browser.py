"""End to end in a real Chromium: sign in, open a campaign, see it drawn, suspend an account."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from .conftest import ADMIN, ANALYST, LiveConsole

pytestmark = pytest.mark.browser


def sign_in(page: Any, console: LiveConsole, user: tuple[str, str]) -> None:
    page.goto(f"{console.url}/")
    assert "/login" in page.url
    page.fill("input[name=username]", user[0])
    page.fill("input[name=password]", user[1])
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_selector("#campaigns")


def biggest_campaign(console: LiveConsole) -> str:
    campaigns = console.dataset.findings.campaigns
    assert campaigns, "the detector found no campaign in the simulated dataset"
    return max(campaigns, key=lambda c: c.size).campaign_id


def test_campaign_chart_and_graph_are_drawn(
    page: Any, console: LiveConsole, screenshots: Path
) -> None:
    sign_in(page, console, ADMIN)
    page.screenshot(path=str(screenshots / "campaigns.png"), full_page=True)
    campaign_id = biggest_campaign(console)
    page.click(f"#campaigns a[href='/campaigns/{campaign_id}']")
    page.wait_for_selector("#graph svg")
    assert page.inner_text("h1") == f"Campaign {campaign_id}"
    chart = page.locator("#activity svg[data-chart=daily]")
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 80
    drawn_days = page.locator("#activity svg rect").count()
    assert drawn_days == len(console.dataset.daily(campaign_id)) or drawn_days >= 1
    bar_box = page.locator("#activity svg rect").first.bounding_box()
    assert bar_box is not None
    graph = page.locator("#graph svg[data-graph=accounts]")
    graph_box = graph.bounding_box()
    assert graph_box is not None and graph_box["width"] > 600 and graph_box["height"] > 250
    size = console.dataset.campaign(campaign_id).size
    assert page.locator("#graph circle.account").count() == min(size, 300)
    assert page.locator("#graph rect.link").count() >= 1
    assert page.locator("#graph line").count() >= 1
    circle = page.locator("#graph circle.account").first.bounding_box()
    assert circle is not None and circle["width"] > 2
    assert page.locator("#samples .sample").count() >= 2
    assert page.locator("#capabilities svg[data-chart=bars] rect").count() >= 1
    page.screenshot(path=str(screenshots / "campaign.png"), full_page=True)


def test_admin_suspends_an_account_and_finds_the_audit_entry(
    page: Any, console: LiveConsole, screenshots: Path
) -> None:
    sign_in(page, console, ADMIN)
    campaign_id = biggest_campaign(console)
    page.goto(f"{console.url}/campaigns/{campaign_id}")
    first = page.locator("#accounts tbody a").first
    account_id = first.inner_text()
    first.click()
    page.wait_for_selector("#act form")
    assert page.inner_text("#status") == "active"
    page.check("input[name=action][value=suspend]")
    reason = f"member of campaign {campaign_id}; browser test"
    page.fill("textarea[name=reason]", reason)
    page.click("#act button[type=submit]")
    page.wait_for_selector("#notice")
    assert page.inner_text("#status") == "suspended"
    assert reason in page.inner_text("#history")
    page.screenshot(path=str(screenshots / "account-suspended.png"), full_page=True)
    page.click("header a[href='/audit']")
    row = page.locator("#audit tbody tr").first
    assert account_id in row.inner_text() and "suspend" in row.inner_text()
    page.screenshot(path=str(screenshots / "audit.png"), full_page=True)
    lines = [orjson.loads(line) for line in console.audit.read_bytes().splitlines()]
    assert any(
        e["account_id"] == account_id
        and e["action"] == "suspend"
        and e["actor"] == ADMIN[0]
        and e["campaign_id"] == campaign_id
        for e in lines
    )


def test_analyst_sees_no_action_form(page: Any, console: LiveConsole) -> None:
    sign_in(page, console, ANALYST)
    campaign_id = biggest_campaign(console)
    account_id = console.dataset.campaign(campaign_id).account_ids[0]
    page.goto(f"{console.url}/accounts/{account_id}")
    assert page.locator("#act form").count() == 0
    assert "read-only" in page.inner_text("#act")


def test_search_by_prefix(page: Any, console: LiveConsole, screenshots: Path) -> None:
    sign_in(page, console, ANALYST)
    campaign_id = biggest_campaign(console)
    (top,) = console.dataset.infrastructure(campaign_id, "prefix", 1)
    page.fill("header input[name=q]", top.value)
    page.press("header input[name=q]", "Enter")
    page.wait_for_selector("#results")
    assert page.locator("#results tbody tr").count() >= top.accounts
    page.screenshot(path=str(screenshots / "search.png"), full_page=True)
