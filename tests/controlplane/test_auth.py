from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from distillguard.controlplane.auth import CachedAuthenticator
from distillguard.controlplane.principal import Authenticator, KeyStatus
from distillguard.controlplane.store import ControlPlaneStore
from distillguard.errors import AuthError, PermissionDenied, StorageError


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_valid_key_gives_principal_with_tier(store: ControlPlaneStore) -> None:
    org = store.create_org("Acme", verification="org")
    account = store.create_account(org_id=org.org_id, verification="payment", tier=2)
    created = store.create_key(account.account_id)
    auth: Authenticator = CachedAuthenticator(store.engine)
    principal = auth.authenticate(created.secret)
    assert principal.key_id == created.record.key_id
    assert (principal.account_id, principal.org_id) == (account.account_id, org.org_id)
    assert principal.tier.tier == 2 and principal.tier.get("account", "rpm") == 1000
    assert principal.status is KeyStatus.ACTIVE
    assert principal.verification == "payment"
    # the account's age, for challenges that only new accounts must pass
    assert principal.account_created == account.created_at.timestamp()


def test_wrong_unknown_and_malformed_keys_are_401(store: ControlPlaneStore) -> None:
    account = store.create_account()
    created = store.create_key(account.account_id)
    auth = CachedAuthenticator(store.engine)
    wrong = created.secret[:-1] + ("A" if created.secret[-1] != "A" else "B")
    unknown = created.secret.replace(created.record.key_id, "key_AAAAAAAAAAAAAA")
    for secret, message in [
        (wrong, "invalid API key"),
        (unknown, "invalid API key"),
        ("", "missing API key"),
        ("sk-proj-abc", "malformed"),
        (created.secret + "x", "malformed"),
        ("dg-key_ab!-" + "a" * 43, "malformed"),
    ]:
        with pytest.raises(AuthError, match=message) as info:
            auth.authenticate(secret)
        assert info.value.status == 401


def test_revocation_reaches_the_snapshot_on_refresh(store: ControlPlaneStore) -> None:
    account = store.create_account()
    created = store.create_key(account.account_id)
    auth = CachedAuthenticator(store.engine)
    store.revoke_key(created.record.key_id)
    assert auth.authenticate(created.secret).key_id == created.record.key_id  # not refreshed yet
    auth.refresh()
    with pytest.raises(PermissionDenied, match="revoked") as info:
        auth.authenticate(created.secret)
    assert info.value.status == 403


def test_expired_key_is_403(store: ControlPlaneStore) -> None:
    account = store.create_account()
    created = store.create_key(
        account.account_id, expires_at=datetime.now(UTC) + timedelta(hours=1)
    )
    clock = Clock()
    auth = CachedAuthenticator(store.engine, clock=clock)
    auth.authenticate(created.secret)
    clock.now += 3601
    with pytest.raises(PermissionDenied, match="expired at"):
        auth.authenticate(created.secret)


def test_suspended_account_and_org_are_403_until_reinstated(store: ControlPlaneStore) -> None:
    org = store.create_org("Acme")
    account = store.create_account(org_id=org.org_id)
    created = store.create_key(account.account_id)
    auth = CachedAuthenticator(store.engine)
    store.suspend_account(account.account_id, "campaign c-1")
    auth.refresh()
    with pytest.raises(
        PermissionDenied, match=f"account {account.account_id} is suspended"
    ) as info:
        auth.authenticate(created.secret)
    assert "campaign c-1" not in info.value.message  # the operator's reason stays internal
    store.reinstate_account(account.account_id)
    store.suspend_org(org.org_id, "fraud ring")
    auth.refresh()
    with pytest.raises(PermissionDenied, match=f"organization {org.org_id} is suspended"):
        auth.authenticate(created.secret)
    store.reinstate_org(org.org_id)
    auth.refresh()
    assert auth.authenticate(created.secret).account_id == account.account_id


def test_wrong_secret_of_revoked_key_is_401_not_403(store: ControlPlaneStore) -> None:
    account = store.create_account()
    created = store.create_key(account.account_id)
    store.revoke_key(created.record.key_id)
    auth = CachedAuthenticator(store.engine)
    wrong = created.secret[:-2] + ("zz" if not created.secret.endswith("zz") else "yy")
    with pytest.raises(AuthError):
        auth.authenticate(wrong)


def test_tier_edits_reach_the_principal(store: ControlPlaneStore) -> None:
    account = store.create_account()
    created = store.create_key(account.account_id)
    auth = CachedAuthenticator(store.engine)
    store.tiers.set_limit(0, "account", "rpm", 7)
    auth.refresh()
    assert auth.authenticate(created.secret).tier.get("account", "rpm") == 7
    assert auth.tiers[0].get("account", "rpm") == 7


def test_failed_refresh_keeps_the_last_snapshot(
    store: ControlPlaneStore, caplog: pytest.LogCaptureFixture
) -> None:
    account = store.create_account()
    created = store.create_key(account.account_id)
    auth = CachedAuthenticator(store.engine)
    with store.engine.begin() as connection:
        connection.execute(text("ALTER TABLE dg_state RENAME TO dg_state_away"))
    try:
        with pytest.raises(StorageError, match="loading API keys"):
            auth.refresh(force=True)
        refresher = auth.start_refresh_thread(0.02)
        deadline = time.monotonic() + 5
        while "refresh failed" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.02)
        refresher.stop()
        assert "refresh failed" in caplog.text
        assert auth.authenticate(created.secret).account_id == account.account_id
    finally:
        with store.engine.begin() as connection:
            connection.execute(text("ALTER TABLE dg_state_away RENAME TO dg_state"))


def test_refresh_skips_an_unchanged_database(store: ControlPlaneStore) -> None:
    account = store.create_account()
    clock = Clock()
    auth = CachedAuthenticator(store.engine, clock=clock, full_reload_s=60)
    assert auth.refresh() is False
    store.record_key_use({})  # not a change that matters
    assert auth.refresh() is False
    created = store.create_key(account.account_id)
    assert auth.refresh() is True
    assert auth.authenticate(created.secret).account_id == account.account_id


def test_changes_behind_the_stores_back_arrive_with_the_full_reload(
    store: ControlPlaneStore,
) -> None:
    account = store.create_account()
    created = store.create_key(account.account_id)
    clock = Clock()
    auth = CachedAuthenticator(store.engine, clock=clock, full_reload_s=60)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE dg_accounts SET status = 'suspended'"))
    assert auth.refresh() is False
    auth.authenticate(created.secret)
    clock.now += 61
    assert auth.refresh() is True
    with pytest.raises(PermissionDenied):
        auth.authenticate(created.secret)


async def test_background_refresh_applies_revocation(store: ControlPlaneStore) -> None:
    account = store.create_account()
    created = store.create_key(account.account_id)
    auth = CachedAuthenticator(store.engine)
    task = asyncio.create_task(auth.run_refresh(0.05))
    try:
        store.revoke_key(created.record.key_id)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                auth.authenticate(created.secret)
            except PermissionDenied:
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("revocation not seen within 5 s")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def test_refresh_thread_applies_suspension(store: ControlPlaneStore) -> None:
    account = store.create_account()
    created = store.create_key(account.account_id)
    auth = CachedAuthenticator(store.engine)
    refresher = auth.start_refresh_thread(0.05)
    try:
        store.suspend_account(account.account_id, "abuse")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                auth.authenticate(created.secret)
            except PermissionDenied:
                break
            time.sleep(0.02)
        else:
            pytest.fail("suspension not seen within 5 s")
    finally:
        refresher.stop()


def test_from_url_opens_and_loads(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/auth.db"
    store = ControlPlaneStore.open(url)
    created = store.create_key(store.create_account().account_id)
    store.close()
    auth = CachedAuthenticator.from_url(url)
    try:
        assert len(auth) == 1
        assert auth.authenticate(created.secret).key_id == created.record.key_id
    finally:
        auth.close()


def test_refresh_interval_must_be_positive(store: ControlPlaneStore) -> None:
    auth = CachedAuthenticator(store.engine)
    with pytest.raises(ValueError):
        auth.start_refresh_thread(0)


def test_last_use_is_stored_on_flush(store: ControlPlaneStore) -> None:
    account = store.create_account()
    used, unused = store.create_key(account.account_id), store.create_key(account.account_id)
    clock = Clock()
    auth = CachedAuthenticator(store.engine, clock=clock)
    auth.authenticate(used.secret)
    assert auth.flush_key_use() == 1
    assert auth.flush_key_use() == 0
    stored = store.get_key(used.record.key_id).last_used_at
    assert stored is not None and abs(stored.timestamp() - clock.now) < 1e-3
    assert store.get_key(unused.record.key_id).last_used_at is None
    assert auth.refresh() is False  # recording use is not a change the snapshot needs


def test_a_change_reloads_only_the_keys_it_touched(store: ControlPlaneStore) -> None:
    first, second = store.create_account(), store.create_account()
    first_key = store.create_key(first.account_id)
    second_key = store.create_key(second.account_id)
    clock = Clock()
    auth = CachedAuthenticator(store.engine, clock=clock, full_reload_s=60)
    with store.engine.begin() as connection:  # behind the store's back: no generation stamp
        connection.execute(
            text("UPDATE dg_accounts SET status = 'suspended' WHERE account_id = :a"),
            {"a": first.account_id},
        )
    store.suspend_account(second.account_id, "campaign")
    assert auth.refresh() is True
    with pytest.raises(PermissionDenied):
        auth.authenticate(second_key.secret)
    assert auth.authenticate(first_key.secret).account_id == first.account_id  # not reloaded
    clock.now += 61
    auth.refresh()
    with pytest.raises(PermissionDenied):
        auth.authenticate(first_key.secret)


def test_org_change_reaches_keys_of_its_accounts(store: ControlPlaneStore) -> None:
    org = store.create_org("Acme")
    keys = [store.create_key(store.create_account(org_id=org.org_id).account_id) for _ in range(3)]
    auth = CachedAuthenticator(store.engine)
    store.suspend_org(org.org_id, "fraud ring")
    assert auth.refresh() is True
    for key in keys:
        with pytest.raises(PermissionDenied, match="organization"):
            auth.authenticate(key.secret)
