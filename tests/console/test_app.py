from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from distillguard.console.actions import AuditFile
from distillguard.console.app import COOKIE, create_app
from distillguard.console.auth import User, parse_user_option
from distillguard.console.dataset import Dataset

SECRET = b"0123456789abcdef0123456789abcdef"


@pytest.fixture
def audit_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.jsonl"


@pytest.fixture(scope="module")
def users() -> dict[str, User]:
    pairs = (parse_user_option("ann:analyst:read-only"), parse_user_option("ada:admin:s3cret"))
    return {u.name: u for u in pairs}


@pytest.fixture
def client(dataset: Dataset, users: dict[str, User], audit_path: Path) -> Iterator[TestClient]:
    app = create_app(dataset, users, AuditFile(audit_path), secret=SECRET, warm_graphs=False)
    with TestClient(app) as c:
        yield c


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def sign_in(client: TestClient, user: str, password: str) -> None:
    token = csrf_of(client.get("/login").text)
    r = client.post(
        "/login",
        data={"csrf": token, "username": user, "password": password, "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def test_pages_need_a_session(client: TestClient) -> None:
    r = client.get("/campaigns/C-hydra", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/campaigns/C-hydra"


def test_wrong_password_and_forged_cookie(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"csrf": token, "username": "ada", "password": "nope"})
    assert r.status_code == 401 and "Wrong user name or password" in r.text
    client.cookies.set(COOKIE, "eyJ1IjoiYWRhIn0.forged")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_login_needs_its_csrf_token(client: TestClient) -> None:
    client.get("/login")
    r = client.post("/login", data={"csrf": "guess", "username": "ada", "password": "s3cret"})
    assert r.status_code == 403


def test_campaign_list(client: TestClient) -> None:
    sign_in(client, "ann", "read-only")
    r = client.get("/")
    assert r.status_code == 200
    assert "C-hydra" in r.text and "C-probe" in r.text
    assert 'data-chart="daily"' in r.text
    assert "reasoning 60%" in r.text
    assert r.headers["content-security-policy"].startswith("default-src 'self'")


def test_campaign_page_has_chart_graph_and_samples(client: TestClient) -> None:
    sign_in(client, "ann", "read-only")
    r = client.get("/campaigns/C-hydra")
    assert r.status_code == 200
    assert 'data-chart="daily" data-points="10"' in r.text
    assert 'data-graph="accounts" data-accounts="6"' in r.text
    assert r.text.count('class="account"') == 6
    assert "pf-shared-1" in r.text and "203.0.113.0/24" in r.text
    assert r.text.count('class="sample"') == 6
    assert "chain-of-thought elicitation" in r.text
    assert "AS64500" in r.text
    assert re.search(r"<dt>Exit addresses</dt><dd[^>]*>3</dd>", r.text)
    probe = client.get("/campaigns/C-probe").text  # findings from before exit addresses
    assert re.search(r"<dt>Exit addresses</dt><dd[^>]*>–</dd>", probe)


def test_account_page(client: TestClient) -> None:
    sign_in(client, "ann", "read-only")
    r = client.get("/accounts/h1")
    assert r.status_code == 200
    assert "shared_template" in r.text and "education" in r.text
    assert "30 requests on 10 days" in r.text
    assert "read-only access" in r.text and 'action="/accounts/h1/actions"' not in r.text
    assert client.get("/accounts/unknown").status_code == 404


def test_search_page(client: TestClient) -> None:
    sign_in(client, "ann", "read-only")
    r = client.get("/search", params={"q": "198.51.100.0/24"})
    assert r.status_code == 200
    assert {"h4", "h5", "h6"} == set(re.findall(r'href="/accounts/(h\d)"', r.text))
    assert client.get("/search", params={"q": "x" * 300}).status_code == 400


def test_analyst_cannot_act(client: TestClient, audit_path: Path) -> None:
    sign_in(client, "ann", "read-only")
    token = csrf_of(client.get("/accounts/h2").text)
    r = client.post(
        "/accounts/h2/actions", data={"csrf": token, "action": "suspend", "reason": "x"}
    )
    assert r.status_code == 403
    assert audit_path.read_text() == ""


def test_admin_acts_and_the_audit_log_shows_it(client: TestClient, audit_path: Path) -> None:
    sign_in(client, "ada", "s3cret")
    page = client.get("/accounts/h2").text
    assert 'action="/accounts/h2/actions"' in page
    r = client.post(
        "/accounts/h2/actions",
        data={"csrf": csrf_of(page), "action": "suspend", "reason": "member of C-hydra"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "member of C-hydra" in audit_path.read_text()
    account = client.get("/accounts/h2").text
    assert 'id="status">suspended<' in account and "member of C-hydra" in account
    assert "member of C-hydra" in client.get("/audit").text


def test_action_without_csrf_or_reason_is_refused(client: TestClient, audit_path: Path) -> None:
    sign_in(client, "ada", "s3cret")
    token = csrf_of(client.get("/accounts/h3").text)
    r = client.post("/accounts/h3/actions", data={"action": "suspend", "reason": "x"})
    assert r.status_code == 403
    r = client.post(
        "/accounts/h3/actions", data={"csrf": token, "action": "suspend", "reason": " "}
    )
    assert r.status_code == 400 and "give a reason" in r.text
    r = client.post("/accounts/h3/actions", data={"csrf": token, "action": "delete", "reason": "x"})
    assert r.status_code == 400
    assert audit_path.read_text() == ""


def test_logout_needs_csrf(client: TestClient) -> None:
    sign_in(client, "ann", "read-only")
    token = csrf_of(client.get("/").text)
    assert client.post("/logout", data={"csrf": "bad"}).status_code == 403
    r = client.post("/logout", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_static_stylesheet_ships_in_the_package(client: TestClient) -> None:
    r = client.get("/static/console.css")
    assert r.status_code == 200 and "svg.graph" in r.text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example/"])
def test_login_never_redirects_off_site(client: TestClient, target: str) -> None:
    token = csrf_of(client.get("/login").text)
    r = client.post(
        "/login",
        data={"csrf": token, "username": "ann", "password": "read-only", "next": target},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_login_returns_to_the_page_asked_for(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    r = client.post(
        "/login",
        data={"csrf": token, "username": "ann", "password": "read-only", "next": "/search?q=h1"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/search?q=h1"
