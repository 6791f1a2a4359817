"""Sign-up records (dg.account.v1) for benign and campaign accounts.

Benign users sign up over years, mostly with personal or work addresses; classes and hackathons
sign up in cohorts (same day, same address, education or start-up programs). Campaign accounts
are created in bursts with disposable or sequential addresses, often through the education,
start-up and research programs, and some share payment instruments.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from distillguard.simulate import clients, networks
from distillguard.simulate.campaigns import Campaign
from distillguard.simulate.personas import Persona
from distillguard.simulate.streams import DAY_MS, HOUR_MS

if TYPE_CHECKING:
    from distillguard.simulate.population import Builder, Group

TIERS = {
    "hobbyist": 1,
    "coding_assistant": 2,
    "chat_app": 4,
    "enterprise_batch": 5,
    "eval_runner": 3,
    "university_lab": 1,
    "mobile_user": 1,
    "researcher_logprobs": 2,
    "agent_framework": 2,
    "startup_signup": 1,
    "education_signup": 1,
}


def _draw(r: np.random.Generator, table: dict[str, float], count: int) -> list[str]:
    names = sorted(table)
    w = np.array([table[n] for n in names], dtype=float)
    return [names[k] for k in r.choice(len(names), size=count, p=w / w.sum()).tolist()]


def _record(builder: Builder, group: Group, i: int, **fields: Any) -> None:
    email = fields.get("email")
    record = {
        "account_id": group.ids[i],
        "org_id": group.orgs[i],
        "created_at": builder.clock.iso(int(group.created[i])),
        "email": email,
        "email_domain": email.split("@", 1)[1] if email else None,
        "signup_ip": fields["signup_ip"],
        "signup_user_agent": fields["signup_user_agent"],
        "payment_fingerprint": fields.get("payment"),
        "payment_country": fields.get("payment_country"),
        "country": fields["country"],
        "verification": fields["verification"],
        "program": fields["program"],
        "tier": fields["tier"],
    }
    builder.accounts.append(record)


def benign(
    builder: Builder, group: Group, persona: Persona, countries: list[str], r: np.random.Generator
) -> None:
    n = group.size
    days = builder.preset.days
    before = r.random(n) < (1.0 if persona.heavy else 0.85)
    created_day = np.where(before, -1 - (r.random(n) ** 1.6) * 900, r.random(n) * (days - 1))
    created = (created_day * DAY_MS).astype(np.int64)
    cohort_of = np.full(n, -1)
    if persona.cohorts > 0 and n >= 8:
        members = np.flatnonzero(r.random(n) < persona.cohorts)
        size = int(r.integers(8, 40))
        for start in range(0, len(members), size):
            chunk = members[start : start + size]
            day = int(r.integers(-400, days - 5))
            created[chunk] = (
                day * DAY_MS
                + int(r.integers(8, 18)) * HOUR_MS
                + (r.random(len(chunk)) * 2 * HOUR_MS).astype(np.int64)
            )
            cohort_of[chunk] = start
    group.created = created
    browser = clients.browser(r, n)
    programs = _draw(r, persona.programs, n)
    verifications = _draw(r, persona.verification, n)
    org_run = 0
    org: str | None = None
    for i in range(n):
        program = programs[i]
        verification = verifications[i]
        if persona.name == "enterprise_batch":
            if org_run == 0:
                org, org_run = builder.ident("org"), int(r.integers(1, 4))
            org_run -= 1
            group.orgs[i] = org
        elif persona.name in ("chat_app", "startup_signup") or r.random() < 0.1:
            group.orgs[i] = builder.ident("org")
        keys = 1 + int(r.integers(0, 4 if persona.heavy else 2))
        group.keys.append([builder.ident("key") for _ in range(keys)])
        email = _email(builder, persona, countries[i], group, i, r)
        card = None
        if verification in ("payment", "id", "org"):
            card = (
                builder.ident("pm")
                if persona.name != "enterprise_batch"
                else f"pm_{str(group.orgs[i])[4:]}"
            )
        home = int(group.home[i, 0])
        signup_ip = builder.book.text(home)
        if cohort_of[i] >= 0:
            signup_ip = builder.book.text(
                int(group.home[int(np.flatnonzero(cohort_of == cohort_of[i])[0]), 0])
            )
        _record(
            builder,
            group,
            i,
            email=email,
            signup_ip=signup_ip,
            signup_user_agent=clients.CLIENTS[int(browser[i])].user_agent,
            payment=card,
            payment_country=countries[i] if card else None,
            country=countries[i],
            verification=verification,
            program=program,
            tier=TIERS.get(persona.name, 1),
        )


def _email(
    builder: Builder, persona: Persona, country: str, group: Group, i: int, r: np.random.Generator
) -> str:
    people = builder.people
    kind = persona.email
    if kind == "university_or_personal":
        kind = "university" if r.random() < 0.6 else "personal"
    campus = group.extra.get("campus", [None] * group.size)[i]
    if campus is not None:  # behind the university's NAT: its own address
        return people.university(campus)
    if kind == "university":
        unis = networks.of_kind("education")
        return people.university(unis[int(group.style[i]) % len(unis)].name)
    if kind == "work":
        return people.work(people.company()) if r.random() < 0.8 else people.personal(country)
    if r.random() < 0.015:
        return people.throwaway()
    return people.personal(country)


def campaign(
    builder: Builder, group: Group, spec: Campaign, countries: list[str], r: np.random.Generator
) -> None:
    n = group.size
    days = builder.preset.days
    bursts = max(1, spec.bursts)
    early = r.random(bursts) < 0.7
    early[0] = True  # the operator builds most of the fleet before starting
    burst_day = np.where(
        early,
        spec.start_day - 1 - r.random(bursts) * 30,
        spec.start_day + r.random(bursts) * min(60, days - spec.start_day - 5),
    )
    burst_ms = (burst_day * DAY_MS).astype(np.int64)
    share = np.where(early, 2.0, 1.0)
    member_burst = np.sort(r.choice(bursts, size=n, p=share / share.sum()))
    created = burst_ms[member_burst] + (r.exponential(40 * 60_000, n)).astype(np.int64)
    group.created = created
    burst_browser = clients.browser(r, bursts)
    own_browser = clients.browser(r, n)
    cards = max(1, round(n * spec.shared_payment / max(1, spec.accounts_per_card)))
    card_ids = [builder.ident("pm") for _ in range(cards)]
    card_country = [("HK", "SG", "US", "MY")[int(k)] for k in r.integers(0, 4, cards)]
    bases = [builder.people.sequence_base() for _ in range(bursts)]
    seq_domain = [
        ("gmail.com", "outlook.com", "hotmail.com", "yahoo.com")[int(k)]
        for k in r.integers(0, 4, bursts)
    ]
    counters = r.integers(1, 5000, bursts)
    unis = networks.of_kind("education")
    programs = _draw(r, spec.programs, n)
    verifications = _draw(r, spec.verification, n)
    for i in range(n):
        b = int(member_burst[i])
        style = spec.email
        if style == "mixed":
            style = ("disposable", "sequential", "personal")[int(r.choice(3, p=[0.4, 0.4, 0.2]))]
        if style == "disposable":
            email = builder.people.throwaway()
        elif style == "sequential":
            counters[b] += 1
            email = builder.people.sequential(bases[b], int(counters[b]), seq_domain[b])
        elif style == "university":
            email = (
                builder.people.university(unis[int(r.integers(len(unis)))].name)
                if r.random() < 0.6
                else builder.people.personal(countries[i])
            )
        else:
            email = builder.people.personal(countries[i])
        card = None
        payment_country = None
        verification = verifications[i]
        if r.random() < spec.shared_payment:
            k = int(r.integers(cards))
            card, payment_country = card_ids[k], card_country[k]
            verification = "payment"
        elif verification == "payment":
            card, payment_country = builder.ident("pm"), countries[i]
        if r.random() < 0.4:
            group.orgs[i] = builder.ident("org")
        group.keys.append([builder.ident("key")])
        ua = burst_browser[b] if r.random() < 0.7 else own_browser[i]
        _record(
            builder,
            group,
            i,
            email=email,
            signup_ip=builder.book.text(int(group.home[i, 0])),
            signup_user_agent=clients.CLIENTS[int(ua)].user_agent,
            payment=card,
            payment_country=payment_country,
            country=countries[i],
            verification=verification,
            program=programs[i],
            tier=1,
        )
