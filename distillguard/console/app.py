"""The console's ASGI application: server-rendered pages over a loaded :class:`Dataset`.

Its own process, never inside the gateway. Pages: campaigns, one campaign, one account, search,
the audit log; forms to sign in and out and (admins only) to act on an account. Every page needs
a session; every form carries the session's CSRF token. Everything the browser loads (one
stylesheet) ships in the package; charts and graphs are inline SVG drawn here.

>>> app = create_app(dataset, users, AuditFile(Path("audit.jsonl")), secret=b"...")  # doctest: +SKIP
"""

from __future__ import annotations

import secrets
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from distillguard.console import charts, graph
from distillguard.console.actions import ACTIONS, ActionSink, status_of
from distillguard.console.auth import Session, Signer, User, check_csrf, verify_password
from distillguard.console.dataset import Dataset
from distillguard.errors import InputError, NotFound, StorageError
from distillguard.report.methods import label
from distillguard.report.prose import capability_word

COOKIE = "dg_console"
STATUS_WORDS = {"suspend": "suspended", "throttle": "throttled", "challenge": "challenged"}
LOGIN_COOKIE = "dg_login"
PAGE_SIZE = 100
MAX_FORM_BYTES = 16 * 1024
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none';"
    " form-action 'self'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}
INFRA_KINDS = (
    ("prefix", "Network prefixes"),
    ("ja4", "JA4 TLS fingerprints"),
    ("ua", "User agents"),
)


class Console:
    """The page handlers and what they share: dataset, users, action sink, signer, templates."""

    def __init__(
        self,
        dataset: Dataset,
        users: dict[str, User],
        sink: ActionSink,
        signer: Signer,
        *,
        secure_cookies: bool = False,
    ) -> None:
        self.data = dataset
        self.users = users
        self.sink = sink
        self.signer = signer
        self.secure = secure_cookies
        self.env = Environment(
            loader=PackageLoader("distillguard.console", "templates"),
            autoescape=select_autoescape(["html"]),
        )
        self.env.filters["human"] = charts.human
        self.env.filters["capability"] = capability_word
        self._graphs: dict[str, graph.Drawing] = {}
        self._graph_lock = threading.Lock()

    # -- plumbing ------------------------------------------------------------------------

    def page(self, name: str, session: Session | None, code: int = 200, **context: Any) -> Response:
        body = self.env.get_template(name).render(session=session, **context)
        return HTMLResponse(body, status_code=code, headers=SECURITY_HEADERS)

    def session(self, request: Request) -> Session | None:
        return self.signer.session(request.cookies.get(COOKIE))

    def _to_login(self, request: Request) -> Response:
        target = quote(request.url.path + ("?" + request.url.query if request.url.query else ""))
        return RedirectResponse(f"/login?next={target}", status_code=303)

    async def form(self, request: Request) -> dict[str, str]:
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            raise InputError("form too large")
        parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items()}

    def drawing(self, campaign_id: str) -> graph.Drawing:
        with self._graph_lock:
            cached = self._graphs.get(campaign_id)
        if cached is not None:
            return cached
        campaign = self.data.campaign(campaign_id)
        accounts = self.data.graph_accounts(campaign_id)
        edges = self.data.graph_edges(campaign_id)
        drawing = graph.layout(accounts, edges, total_accounts=campaign.size)
        with self._graph_lock:
            self._graphs[campaign_id] = drawing
        return drawing

    def warm_graphs(self) -> None:
        """Lay out every campaign's graph, biggest first, so first visits are fast."""
        for campaign in sorted(self.data.findings.campaigns, key=lambda c: -c.size):
            self.drawing(campaign.campaign_id)

    # -- sign-in -------------------------------------------------------------------------

    async def login(self, request: Request) -> Response:
        target = request.query_params.get("next", "/")
        if request.method == "GET":
            nonce = secrets.token_urlsafe(16)
            response = self.page("login.html", None, next=target, csrf=nonce, error=None)
            response.set_cookie(
                LOGIN_COOKIE, nonce, httponly=True, samesite="strict", secure=self.secure
            )
            return response
        form = await self.form(request)
        target = form.get("next", "/")
        if not target.startswith("/") or target.startswith(("//", "/\\")):
            target = "/"
        nonce = request.cookies.get(LOGIN_COOKIE, "")
        if not nonce or not check_csrf(nonce, form.get("csrf")):
            return self.page(
                "login.html",
                None,
                403,
                next=target,
                csrf=nonce,
                error="The form expired; try again.",
            )
        user = self.users.get(form.get("username", ""))
        if user is None or not verify_password(form.get("password", ""), user.password_hash):
            return self.page(
                "login.html",
                None,
                401,
                next=target,
                csrf=nonce,
                error="Wrong user name or password.",
            )
        _, cookie = self.signer.new_session(user)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE, cookie, httponly=True, samesite="lax", secure=self.secure, max_age=8 * 3600
        )
        response.delete_cookie(LOGIN_COOKIE)
        return response

    async def logout(self, request: Request) -> Response:
        session = self.session(request)
        form = await self.form(request)
        if session is not None and not check_csrf(session.csrf, form.get("csrf")):
            return PlainTextResponse("bad CSRF token", status_code=403)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    # -- pages ---------------------------------------------------------------------------

    async def campaigns(self, request: Request) -> Response:
        session = self.session(request)
        if session is None:
            return self._to_login(request)
        campaigns = sorted(self.data.findings.campaigns, key=lambda c: (-c.size, c.campaign_id))
        overall = charts.daily_chart(
            self.data.daily(None), width=1240, label="requests per day, all campaigns"
        )
        return self.page(
            "campaigns.html", session, campaigns=campaigns, chart=overall, data=self.data
        )

    async def campaign(self, request: Request) -> Response:
        session = self.session(request)
        if session is None:
            return self._to_login(request)
        campaign_id = request.path_params["campaign_id"]
        campaign = self.data.campaign(campaign_id)
        try:
            page_no = max(1, int(request.query_params.get("page", "1")))
        except ValueError:
            page_no = 1
        total, method_counts = self.data.methods(campaign_id)
        methods = (
            [(label(name), n / total) for name, n in method_counts.items() if n] if total else []
        )
        capabilities = [
            (capability_word(name), share)
            for name, share in sorted(campaign.capabilities.items(), key=lambda kv: -kv[1])
        ]
        infra = {
            kind: (
                title,
                self.data.infrastructure(campaign_id, kind),
                self.data.distinct_count(campaign_id, kind),
            )
            for kind, title in INFRA_KINDS
        }
        return self.page(
            "campaign.html",
            session,
            campaign=campaign,
            chart=charts.daily_chart(self.data.daily(campaign_id)),
            graph=graph.render(self.drawing(campaign_id)),
            drawing=self.drawing(campaign_id),
            capabilities=charts.bar_chart(capabilities, label="capabilities"),
            methods=charts.bar_chart(methods, label="methods") if methods else None,
            infra=infra,
            observed=self.data.observed_requests(campaign_id),
            samples=self.data.samples(campaign_id),
            accounts=self.data.accounts_of(campaign_id, PAGE_SIZE, (page_no - 1) * PAGE_SIZE),
            page_no=page_no,
            pages=max(1, -(-campaign.size // PAGE_SIZE)),
        )

    async def account(self, request: Request) -> Response:
        session = self.session(request)
        if session is None:
            return self._to_login(request)
        account_id = request.path_params["account_id"]
        if not self.data.known_account(account_id):
            raise NotFound(f"no account {account_id!r} in this dataset")
        history = self.sink.history(account_id)
        finding = self.data.finding(account_id)
        return self.page(
            "account.html",
            session,
            account_id=account_id,
            finding=finding,
            record=self.data.account_record(account_id),
            stats=self.data.account_stats(account_id),
            chart=charts.daily_chart(self.data.account_daily(account_id), width=1240, height=200),
            infra={
                k: self.data.account_infrastructure(account_id, k)
                for k in ("prefix", "ip", "ja4", "key", "model")
            },
            recent=self.data.recent_requests(account_id),
            history=history,
            status=status_of(history),
            status_words=STATUS_WORDS,
            actions=ACTIONS,
            notice=request.query_params.get("done"),
        )

    async def act(self, request: Request) -> Response:
        session = self.session(request)
        if session is None:
            return self._to_login(request)
        account_id = request.path_params["account_id"]
        form = await self.form(request)
        if not check_csrf(session.csrf, form.get("csrf")):
            return PlainTextResponse("bad CSRF token", status_code=403, headers=SECURITY_HEADERS)
        if not session.can_act:
            return PlainTextResponse(
                "only admins can take actions", status_code=403, headers=SECURITY_HEADERS
            )
        if not self.data.known_account(account_id):
            raise NotFound(f"no account {account_id!r} in this dataset")
        finding = self.data.finding(account_id)
        entry = self.sink.apply(
            account_id,
            form.get("action", ""),
            form.get("reason", ""),
            actor=session.user,
            campaign_id=finding.campaign_id if finding else None,
        )
        return RedirectResponse(
            f"/accounts/{quote(account_id)}?done={entry.action}", status_code=303
        )

    async def search(self, request: Request) -> Response:
        session = self.session(request)
        if session is None:
            return self._to_login(request)
        query = request.query_params.get("q", "")
        hits = self.data.search(query)
        return self.page("search.html", session, query=query, hits=hits)

    async def audit(self, request: Request) -> Response:
        session = self.session(request)
        if session is None:
            return self._to_login(request)
        return self.page("audit.html", session, entries=self.sink.recent(200))

    async def health(self, request: Request) -> Response:
        return PlainTextResponse("ok")

    async def error(self, request: Request, exc: Exception) -> Response:
        code = 404 if isinstance(exc, NotFound) else 400 if isinstance(exc, InputError) else 503
        return self.page("error.html", self.session(request), code, message=str(exc))


def create_app(
    dataset: Dataset,
    users: dict[str, User],
    sink: ActionSink,
    *,
    secret: bytes,
    secure_cookies: bool = False,
    warm_graphs: bool = True,
) -> Starlette:
    """Build the console application.

    With ``warm_graphs`` the campaign graphs are laid out in a background thread at once,
    so that the first visit to a big campaign does not wait for its layout.
    """
    console = Console(dataset, users, sink, Signer(secret), secure_cookies=secure_cookies)
    if warm_graphs:
        threading.Thread(target=console.warm_graphs, name="graph-warmup", daemon=True).start()
    static = Path(__file__).parent / "static"
    routes = [
        Route("/", console.campaigns),
        Route("/login", console.login, methods=["GET", "POST"]),
        Route("/logout", console.logout, methods=["POST"]),
        Route("/campaigns/{campaign_id:path}", console.campaign),
        Route("/accounts/{account_id:str}/actions", console.act, methods=["POST"]),
        Route("/accounts/{account_id:path}", console.account),
        Route("/search", console.search),
        Route("/audit", console.audit),
        Route("/healthz", console.health),
        Mount("/static", StaticFiles(directory=static), name="static"),
    ]
    handlers: dict[Any, Any] = {
        NotFound: console.error,
        InputError: console.error,
        StorageError: console.error,
    }
    return Starlette(routes=routes, exception_handlers=handlers)
