"""Users through the REST edge: profiles with FieldMask updates, tenant admins managing their
users, versioned preferences synced across devices (SSE and native gRPC), and the activity log
built from auth, session, profile and preference events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
import httpx
import pyotp
from tradesage.user.v1 import user_service_pb2 as user_api
from tradesage.user.v1 import user_service_pb2_grpc as user_grpc

from mesh.supervisor import Mesh
from tests.support.accounts import (
    PASSWORD,
    User,
    latest_mail_token,
    login,
    register,
    signed_in_user,
    with_roles,
)

EVENT_WAIT = 15.0


async def member(edge: httpx.AsyncClient, mesh: Mesh, tenant_id: str | None = None) -> User:
    """Return a new signed-in user (role trader) of `tenant_id` or of a new tenant."""
    return await signed_in_user(edge, mesh.database_url, tenant_id)


async def admin_of_new_tenant(edge: httpx.AsyncClient, mesh: Mesh,
                              role: str = "admin") -> User:
    return await with_roles(edge, mesh.database_url, await member(edge, mesh), role)


async def second_device(edge: httpx.AsyncClient, user: User) -> User:
    """Sign the same user in again: another session, as another device would have."""
    reply = await login(edge, user.tenant_id, user.email)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    return User(user.tenant_id, user.user_id, user.email, user.password, body["accessToken"],
                body["refreshToken"], body["sessionId"])


def profile_path(user_id: str) -> str:
    return f"/api/v1/users/{user_id}"


def preferences_path(user_id: str) -> str:
    return f"/api/v1/users/{user_id}/preferences"


async def put_profile(edge: httpx.AsyncClient, caller: User, user_id: str, mask: str,
                      **fields: str) -> httpx.Response:
    return await edge.put(profile_path(user_id), headers=caller.headers,
                          params={"updateMask": mask},
                          json={"name": f"users/{user_id}", **fields})


async def put_preferences(edge: httpx.AsyncClient, caller: User, version: int | str,
                          settings: dict, mask: str = "", **extra: str) -> httpx.Response:
    params = {"updateMask": mask} if mask else {}
    body = {"name": f"users/{caller.user_id}/preferences", "version": str(version),
            "settings": settings}
    return await edge.put(preferences_path(caller.user_id), headers=caller.headers,
                          params={**params, **extra}, json=body)


def error_of(reply: httpx.Response) -> dict:
    return reply.json()["error"]


# --- profiles --------------------------------------------------------------------------------

async def test_user_updates_own_profile_with_a_field_mask(edge: httpx.AsyncClient,
                                                          mesh: Mesh) -> None:
    user = await member(edge, mesh)
    reply = await put_profile(
        edge, user, user.user_id, "display_name,contact_phone,locale,time_zone,avatar_url",
        displayName="  Ada Lovelace ", contactPhone="+44 20 7946 0958", locale="en-gb",
        timeZone="Europe/London", avatarUrl="https://cdn.example.com/ada.png")
    assert reply.status_code == 200, reply.text
    profile = reply.json()["user"]
    assert profile["displayName"] == "Ada Lovelace"
    assert profile["contactPhone"] == "+442079460958"
    assert profile["locale"] == "en-GB"
    assert profile["timeZone"] == "Europe/London"
    assert profile["avatarUrl"] == "https://cdn.example.com/ada.png"

    # Only the masked field changes; "users/me" addresses the caller.
    renamed = await put_profile(edge, user, "me", "displayName", displayName="Ada",
                                locale="fr-FR")
    assert renamed.status_code == 200, renamed.text
    me = (await edge.get(profile_path("me"), headers=user.headers)).json()["user"]
    assert me["id"] == user.user_id
    assert (me["displayName"], me["locale"]) == ("Ada", "en-GB")
    assert me["state"] == "USER_STATE_ACTIVE"


async def test_field_mask_and_values_are_validated(edge: httpx.AsyncClient,
                                                   mesh: Mesh) -> None:
    user = await member(edge, mesh)
    not_updatable = await put_profile(edge, user, user.user_id, "email",
                                      email="mallory@evil.example")
    assert not_updatable.status_code == 400
    assert error_of(not_updatable)["code"] == "FIELD_NOT_UPDATABLE"
    assert error_of(not_updatable)["details"]["path"] == "email"

    zone = await put_profile(edge, user, user.user_id, "time_zone", timeZone="Mars/Olympus")
    assert zone.status_code == 400
    assert error_of(zone)["code"] == "INVALID_TIME_ZONE"
    assert error_of(zone)["details"]["timeZone"] == "Mars/Olympus"

    tag = await put_profile(edge, user, user.user_id, "locale", locale="klingon-XX")
    assert (tag.status_code, error_of(tag)["code"]) == (400, "INVALID_LOCALE")

    both = await put_profile(edge, user, user.user_id, "avatar_url,contact_phone",
                             avatarUrl="http://cdn.example.com/a.png", contactPhone="12345")
    assert both.status_code == 400
    fields = {v["field"] for v in error_of(both)["details"]["fieldViolations"]}
    assert fields == {"user.avatar_url", "user.contact_phone"}

    empty = await edge.put(profile_path(user.user_id), headers=user.headers,
                           json={"name": f"users/{user.user_id}", "displayName": "X"})
    assert empty.status_code == 400
    assert error_of(empty)["details"]["fieldViolations"][0]["field"] == "update_mask"

    unchanged = (await edge.get(profile_path("me"), headers=user.headers)).json()["user"]
    assert unchanged["timeZone"] == "" and unchanged["avatarUrl"] == ""


async def test_members_see_each_other_but_change_only_themselves(edge: httpx.AsyncClient,
                                                                 mesh: Mesh) -> None:
    alice = await member(edge, mesh)
    bob = await member(edge, mesh, alice.tenant_id)
    await put_profile(edge, bob, bob.user_id, "display_name,contact_phone",
                      displayName="Bob", contactPhone="+4915112345678")
    seen = await edge.get(profile_path(bob.user_id), headers=alice.headers)
    assert seen.status_code == 200, seen.text
    assert seen.json()["user"]["displayName"] == "Bob"
    assert seen.json()["user"].get("contactPhone", "") == ""  # contact details: admins only

    refused = await put_profile(edge, alice, bob.user_id, "display_name", displayName="Bobby")
    assert refused.status_code == 403
    assert error_of(refused)["code"] == "PERMISSION_DENIED"


async def test_users_of_another_tenant_do_not_exist(edge: httpx.AsyncClient,
                                                    mesh: Mesh) -> None:
    admin = await admin_of_new_tenant(edge, mesh, "owner")
    stranger = await member(edge, mesh)
    for reply in (
        await edge.get(profile_path(stranger.user_id), headers=admin.headers),
        await put_profile(edge, admin, stranger.user_id, "display_name", displayName="Pwned"),
        await edge.get(f"/api/v1/users/{stranger.user_id}/activities", headers=admin.headers),
        await edge.get(preferences_path(stranger.user_id), headers=admin.headers),
    ):
        assert reply.status_code == 404, reply.text
        assert error_of(reply)["code"] == "USER_NOT_FOUND"
    listed = (await edge.get("/api/v1/users", headers=admin.headers,
                             params={"pageSize": 500})).json()
    assert stranger.user_id not in {u["id"] for u in listed["users"]}
    assert {u["tenantId"] for u in listed["users"]} == {admin.tenant_id}


async def test_admin_lists_and_manages_the_tenant_users(edge: httpx.AsyncClient,
                                                        mesh: Mesh) -> None:
    admin = await admin_of_new_tenant(edge, mesh)
    members = [await member(edge, mesh, admin.tenant_id) for _ in range(3)]
    unverified, _ = await register(edge, mesh.database_url, admin.tenant_id, verify=False)

    seen: list[dict] = []
    token = ""
    while True:
        page = await edge.get("/api/v1/users", headers=admin.headers,
                              params={"pageSize": 2, "pageToken": token})
        assert page.status_code == 200, page.text
        assert len(page.json()["users"]) <= 2
        seen += page.json()["users"]
        token = page.json().get("nextPageToken", "")
        if not token:
            break
    expected = {admin.user_id, unverified, *(m.user_id for m in members)}
    assert [u["id"] for u in seen if u["id"] in expected] == [u["id"] for u in seen]
    assert {u["id"] for u in seen} == expected
    emails = [u["email"].lower() for u in seen]
    assert emails == sorted(emails)

    admins = await edge.get("/api/v1/users", headers=admin.headers, params={"role": "admin"})
    assert [u["id"] for u in admins.json()["users"]] == [admin.user_id]
    traders = await edge.get("/api/v1/users", headers=admin.headers, params={"role": "trader"})
    assert {u["id"] for u in traders.json()["users"]} == expected - {admin.user_id}

    managed = await put_profile(edge, admin, members[0].user_id, "display_name,time_zone",
                                displayName="Renamed by admin", timeZone="Asia/Tokyo")
    assert managed.status_code == 200, managed.text
    full = (await edge.get(profile_path(members[0].user_id), headers=admin.headers)).json()
    assert full["user"]["timeZone"] == "Asia/Tokyo"
    own = (await edge.get(profile_path("me"), headers=members[0].headers)).json()["user"]
    assert own["displayName"] == "Renamed by admin"

    refused = await edge.get("/api/v1/users", headers=members[1].headers)
    assert refused.status_code == 403


# --- preferences -----------------------------------------------------------------------------

async def test_preferences_are_versioned_and_merged_by_mask(edge: httpx.AsyncClient,
                                                            mesh: Mesh) -> None:
    user = await member(edge, mesh)
    fresh = (await edge.get(preferences_path(user.user_id), headers=user.headers)).json()
    assert fresh["preferences"]["name"] == f"users/{user.user_id}/preferences"
    assert int(fresh["preferences"].get("version", 0)) == 0
    assert fresh["preferences"].get("settings", {}) == {}

    first = await put_preferences(edge, user, 0, {
        "theme": "dark", "trading": {"defaultQuantity": "10", "confirmOrders": True}})
    assert first.status_code == 200, first.text
    assert first.json()["preferences"]["version"] == "1"

    merged = await put_preferences(edge, user, 1, {"theme": "light"}, mask="settings.theme")
    assert merged.status_code == 200, merged.text
    settings = merged.json()["preferences"]["settings"]
    assert settings == {"theme": "light",
                        "trading": {"defaultQuantity": "10", "confirmOrders": True}}
    assert merged.json()["preferences"]["version"] == "2"

    stale = await put_preferences(edge, user, 1, {"theme": "solarized"})
    assert stale.status_code == 409
    assert error_of(stale)["code"] == "PREFERENCES_VERSION_CONFLICT"
    assert error_of(stale)["details"] == {"expectedVersion": "1", "currentVersion": "2"}

    bad_path = await put_preferences(edge, user, 2, {}, mask="theme")
    assert error_of(bad_path)["code"] == "FIELD_NOT_UPDATABLE"
    too_big = await put_preferences(edge, user, 2, {"blob": "x" * 70_000})
    assert error_of(too_big)["code"] == "PREFERENCES_TOO_LARGE"

    current = (await edge.get(preferences_path("me"), headers=user.headers)).json()
    assert current["preferences"]["version"] == "2"


async def test_a_retried_update_returns_the_first_result(edge: httpx.AsyncClient,
                                                         mesh: Mesh) -> None:
    user = await member(edge, mesh)
    request_id = str(uuid.uuid4())
    body = {"name": f"users/{user.user_id}/preferences", "version": "0",
            "settings": {"theme": "dark"}}
    first = await edge.put(preferences_path(user.user_id), headers=user.headers,
                           params={"requestId": request_id}, json=body)
    again = await edge.put(preferences_path(user.user_id), headers=user.headers,
                           params={"requestId": request_id}, json=body)
    assert first.status_code == again.status_code == 200, again.text
    assert first.json() == again.json()
    assert first.json()["preferences"]["version"] == "1"
    reused = await edge.put(preferences_path(user.user_id), headers=user.headers,
                            params={"requestId": request_id},
                            json={**body, "settings": {"theme": "light"}})
    assert reused.status_code == 400


async def test_preferences_belong_to_their_user_only(edge: httpx.AsyncClient,
                                                     mesh: Mesh) -> None:
    admin = await admin_of_new_tenant(edge, mesh, "owner")
    colleague = await member(edge, mesh, admin.tenant_id)
    reply = await edge.get(preferences_path(colleague.user_id), headers=admin.headers)
    assert reply.status_code == 403
    assert error_of(reply)["details"]["permission"] == "preferences.self"


@contextlib.asynccontextmanager
async def sse_changes(edge: httpx.AsyncClient, user: User) -> AsyncIterator[asyncio.Queue]:
    """Listen to the user's preference stream over SSE; yield once subscribed."""
    changes: asyncio.Queue[dict] = asyncio.Queue()
    subscribed = asyncio.Event()

    async def listen() -> None:
        async with edge.stream("GET", f"{preferences_path(user.user_id)}:stream",
                               headers=user.headers, timeout=None) as reply:
            assert reply.status_code == 200
            assert reply.headers["content-type"].startswith("text/event-stream")
            async for line in reply.aiter_lines():
                if not line.startswith("data: "):
                    continue
                event = json.loads(line.removeprefix("data: "))
                if "heartbeat" in event:
                    subscribed.set()
                elif "change" in event:
                    await changes.put(event["change"])

    task = asyncio.create_task(listen())
    try:
        await asyncio.wait_for(subscribed.wait(), 10)
        yield changes
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_concurrent_writes_from_two_devices_one_wins_and_is_pushed(
        edge: httpx.AsyncClient, mesh: Mesh) -> None:
    phone = await member(edge, mesh)
    laptop = await second_device(edge, phone)
    tablet = await second_device(edge, phone)
    seeded = await put_preferences(edge, phone, 0, {"theme": "dark"})
    assert seeded.status_code == 200, seeded.text

    async with sse_changes(edge, tablet) as changes:
        replies = await asyncio.gather(
            put_preferences(edge, phone, 1, {"theme": "light"}, mask="settings.theme"),
            put_preferences(edge, laptop, 1, {"chartStyle": "candles"},
                            mask="settings.chartStyle"))
        codes = sorted(r.status_code for r in replies)
        assert codes == [200, 409], [r.text for r in replies]
        winner = next(r for r in replies if r.status_code == 200)
        loser = next(r for r in replies if r.status_code == 409)
        winning_version = winner.json()["preferences"]["version"]
        assert winning_version == "2"
        assert error_of(loser)["code"] == "PREFERENCES_VERSION_CONFLICT"
        assert error_of(loser)["details"]["currentVersion"] == winning_version

        pushed = await asyncio.wait_for(changes.get(), 10)
        assert pushed["preferences"]["version"] == winning_version
        assert pushed["preferences"]["settings"] == winner.json()["preferences"]["settings"]
        winner_session = (phone if replies[0] is winner else laptop).session_id
        assert pushed["sessionId"] == winner_session
        assert pushed["changedKeys"] in (["theme"], ["chartStyle"])

        # The loser re-reads, merges and writes again on top of the winner's version.
        retry = await put_preferences(edge, phone if replies[1] is winner else laptop,
                                      winning_version, {"fontSize": "14"},
                                      mask="settings.fontSize")
        assert retry.status_code == 200, retry.text
        again = await asyncio.wait_for(changes.get(), 10)
        assert again["preferences"]["version"] == "3"
        assert again["changedKeys"] == ["fontSize"]


async def test_grpc_client_gets_preference_changes_natively(edge: httpx.AsyncClient,
                                                            mesh: Mesh) -> None:
    user = await member(edge, mesh)
    address = mesh.edge_url.removeprefix("http://")
    async with grpc.aio.insecure_channel(address) as channel:
        stream = user_grpc.UserServiceStub(channel).StreamPreferenceChanges(
            user_api.StreamPreferenceChangesRequest(name=f"users/{user.user_id}/preferences"),
            timeout=20, metadata=(("authorization", f"Bearer {user.access_token}"),))
        first = await stream.read()
        assert first.HasField("heartbeat")
        written = await put_preferences(edge, user, 0, {"layout": "compact"})
        assert written.status_code == 200, written.text
        message = await asyncio.wait_for(stream.read(), 10)
        stream.cancel()
    assert message.change.preferences.version == 1
    assert dict(message.change.preferences.settings) == {"layout": "compact"}
    assert list(message.change.changed_keys) == ["layout"]


async def test_another_users_change_is_not_pushed(edge: httpx.AsyncClient,
                                                  mesh: Mesh) -> None:
    alice = await member(edge, mesh)
    bob = await member(edge, mesh, alice.tenant_id)
    async with sse_changes(edge, alice) as changes:
        assert (await put_preferences(edge, bob, 0, {"theme": "dark"})).status_code == 200
        assert (await put_preferences(edge, alice, 0, {"theme": "light"})).status_code == 200
        pushed = await asyncio.wait_for(changes.get(), 10)
        assert pushed["preferences"]["name"] == f"users/{alice.user_id}/preferences"
        assert changes.empty()


# --- activity --------------------------------------------------------------------------------

async def activities(edge: httpx.AsyncClient, caller: User, user_id: str,
                     **params: object) -> list[dict]:
    """Return every entry (walking all pages) of the user's activity log."""
    entries: list[dict] = []
    token = ""
    while True:
        reply = await edge.get(f"/api/v1/users/{user_id}/activities", headers=caller.headers,
                               params={**params, "pageToken": token})
        assert reply.status_code == 200, reply.text
        entries += reply.json().get("activities", [])
        token = reply.json().get("nextPageToken", "")
        if not token:
            return entries


async def wait_for_kinds(edge: httpx.AsyncClient, caller: User, user_id: str,
                         expected: dict[str, int]) -> list[dict]:
    """Poll until the log holds at least `expected` entries of each kind; return it."""
    deadline = time.monotonic() + EVENT_WAIT
    while True:
        entries = await activities(edge, caller, user_id, pageSize=100)
        counts = {kind: sum(1 for e in entries if e["kind"] == kind) for kind in expected}
        if all(counts[k] >= n for k, n in expected.items()):
            return entries
        assert time.monotonic() < deadline, f"only {counts} of {expected}: {entries}"
        await asyncio.sleep(0.2)


async def test_activity_shows_sign_ins_failures_and_sign_outs(edge: httpx.AsyncClient,
                                                              mesh: Mesh) -> None:
    user = await member(edge, mesh)  # signed in once
    assert (await login(edge, user.tenant_id, user.email, "wrong " + PASSWORD)).status_code \
        == 401
    other = await second_device(edge, user)
    assert (await edge.post("/api/v1/auth/logout", headers=other.headers,
                            json={})).status_code == 200

    entries = await wait_for_kinds(edge, user, user.user_id, {
        "ACTIVITY_KIND_LOGIN": 2, "ACTIVITY_KIND_LOGIN_FAILED": 1, "ACTIVITY_KIND_LOGOUT": 1})
    times = [e["createTime"] for e in entries]
    assert times == sorted(times, reverse=True)  # newest first
    assert len({e["name"] for e in entries}) == len(entries)
    failed = next(e for e in entries if e["kind"] == "ACTIVITY_KIND_LOGIN_FAILED")
    assert failed["attributes"]["reason"] == "INVALID_CREDENTIALS"
    logout = next(e for e in entries if e["kind"] == "ACTIVITY_KIND_LOGOUT")
    assert logout["sessionId"] == other.session_id
    logins = [e for e in entries if e["kind"] == "ACTIVITY_KIND_LOGIN"]
    assert {e["sessionId"] for e in logins} >= {user.session_id, other.session_id}
    assert all(e["attributes"]["method"] == "password" for e in logins)
    assert all(e["name"].startswith(f"users/{user.user_id}/activities/") for e in entries)

    # The consumer also keeps the profile's last sign-in time.
    profile = (await edge.get(profile_path("me"), headers=user.headers)).json()["user"]
    assert profile["lastLoginTime"] == max(e["createTime"] for e in logins)


async def test_activity_is_paginated_and_filtered_by_kind_and_time(edge: httpx.AsyncClient,
                                                                   mesh: Mesh) -> None:
    user = await member(edge, mesh)
    for _ in range(3):
        await second_device(edge, user)
    await login(edge, user.tenant_id, user.email, "wrong " + PASSWORD)
    everything = await wait_for_kinds(edge, user, user.user_id, {
        "ACTIVITY_KIND_LOGIN": 4, "ACTIVITY_KIND_LOGIN_FAILED": 1})

    one_by_one = await activities(edge, user, user.user_id, pageSize=1)
    assert [e["name"] for e in one_by_one] == [e["name"] for e in everything]

    logins = await activities(edge, user, user.user_id, kinds="ACTIVITY_KIND_LOGIN",
                              pageSize=2)
    assert len(logins) == 4 and {e["kind"] for e in logins} == {"ACTIVITY_KIND_LOGIN"}
    both = await activities(edge, user, user.user_id,
                            kinds=["ACTIVITY_KIND_LOGIN", "ACTIVITY_KIND_LOGIN_FAILED"])
    assert len(both) == 5

    oldest = datetime.fromisoformat(logins[-1]["createTime"].replace("Z", "+00:00"))
    later = await activities(edge, user, user.user_id, kinds="ACTIVITY_KIND_LOGIN",
                             startTime=_rfc3339(oldest + timedelta(microseconds=1)))
    assert [e["name"] for e in later] == [e["name"] for e in logins[:-1]]
    earlier = await activities(edge, user, user.user_id, kinds="ACTIVITY_KIND_LOGIN",
                               endTime=_rfc3339(oldest + timedelta(microseconds=1)))
    assert [e["name"] for e in earlier] == [logins[-1]["name"]]

    backwards = await edge.get(f"/api/v1/users/{user.user_id}/activities",
                               headers=user.headers,
                               params={"startTime": _rfc3339(oldest),
                                       "endTime": _rfc3339(oldest - timedelta(seconds=1))})
    assert backwards.status_code == 400
    forged = await edge.get(f"/api/v1/users/{user.user_id}/activities", headers=user.headers,
                            params={"pageToken": "bm90LWEtdG9rZW4"})
    assert forged.status_code == 400


async def test_profile_preference_and_session_changes_are_in_the_activity(
        edge: httpx.AsyncClient, mesh: Mesh) -> None:
    user = await member(edge, mesh)
    other = await second_device(edge, user)
    await put_profile(edge, user, user.user_id, "locale", locale="de-DE")
    await put_preferences(edge, user, 0, {"theme": "dark"})
    ended = await edge.delete(f"/api/v1/sessions/{other.session_id}", headers=user.headers)
    assert ended.status_code == 200, ended.text

    entries = await wait_for_kinds(edge, user, user.user_id, {
        "ACTIVITY_KIND_PROFILE_UPDATED": 1, "ACTIVITY_KIND_PREFERENCES_UPDATED": 1,
        "ACTIVITY_KIND_LOGOUT": 1})
    profile = next(e for e in entries if e["kind"] == "ACTIVITY_KIND_PROFILE_UPDATED")
    assert profile["attributes"]["fields"] == "locale"
    assert profile["description"] == "Profile updated: locale"
    preferences = next(e for e in entries if e["kind"] == "ACTIVITY_KIND_PREFERENCES_UPDATED")
    assert preferences["attributes"]["changedKeys"] == "theme"
    assert preferences["sessionId"] == user.session_id
    revoked = next(e for e in entries if e["kind"] == "ACTIVITY_KIND_LOGOUT")
    assert revoked["attributes"]["reason"] == "revoked_by_user"
    assert revoked["sessionId"] == other.session_id


async def test_mfa_changes_and_password_resets_are_in_the_activity(edge: httpx.AsyncClient,
                                                                   mesh: Mesh) -> None:
    user = await member(edge, mesh)
    enrolled = await edge.post("/api/v1/auth/mfa/enroll", headers=user.headers,
                               json={"password": PASSWORD})
    assert enrolled.status_code == 200, enrolled.text
    confirmed = await edge.post("/api/v1/auth/mfa/confirm", headers=user.headers, json={
        "totpCode": pyotp.TOTP(enrolled.json()["secret"]).now()})
    assert confirmed.status_code == 200, confirmed.text
    # Being asked for the second factor is a prompt, not a failed sign-in.
    prompted = await login(edge, user.tenant_id, user.email)
    assert prompted.json()["error"]["code"] == "MFA_REQUIRED"

    await wait_for_kinds(edge, user, user.user_id, {"ACTIVITY_KIND_MFA_CHANGED": 1})
    profile = (await edge.get(profile_path("me"), headers=user.headers)).json()["user"]
    assert profile["mfaEnabled"] is True

    asked = await edge.post("/api/v1/auth/reset-password",
                            json={"tenantId": user.tenant_id, "email": user.email})
    assert asked.status_code == 200
    token = await latest_mail_token(mesh.database_url, user.email, "password_reset")
    reset = await edge.post("/api/v1/auth/reset-password/confirm", json={
        "tenantId": user.tenant_id, "token": token, "newPassword": "a brand new horse 42"})
    assert reset.status_code == 200, reset.text
    signed_in = await login(edge, user.tenant_id, user.email, "a brand new horse 42",
                            recoveryCode=confirmed.json()["recoveryCodes"][0])
    assert signed_in.status_code == 200, signed_in.text
    fresh = User(user.tenant_id, user.user_id, user.email, "a brand new horse 42",
                 signed_in.json()["accessToken"], signed_in.json()["refreshToken"],
                 signed_in.json()["sessionId"])
    entries = await wait_for_kinds(edge, fresh, user.user_id, {
        "ACTIVITY_KIND_PASSWORD_CHANGED": 1, "ACTIVITY_KIND_LOGIN": 2})
    assert not any(e["kind"] == "ACTIVITY_KIND_LOGIN_FAILED" for e in entries)
    mfa = next(e for e in entries if e["kind"] == "ACTIVITY_KIND_MFA_CHANGED")
    assert mfa["description"] == "Two-factor sign-in turned on"
    reset_entry = next(e for e in entries if e["kind"] == "ACTIVITY_KIND_PASSWORD_CHANGED")
    assert int(reset_entry["attributes"]["revokedSessions"]) >= 1
    assert all("secret" not in json.dumps(e).lower() for e in entries)


async def test_activity_of_others_is_for_admins_only(edge: httpx.AsyncClient,
                                                     mesh: Mesh) -> None:
    admin = await admin_of_new_tenant(edge, mesh)
    colleague = await member(edge, mesh, admin.tenant_id)
    refused = await edge.get(f"/api/v1/users/{admin.user_id}/activities",
                             headers=colleague.headers)
    assert refused.status_code == 403
    entries = await wait_for_kinds(edge, admin, colleague.user_id, {"ACTIVITY_KIND_LOGIN": 1})
    assert {e["kind"] for e in entries} == {"ACTIVITY_KIND_LOGIN"}


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
