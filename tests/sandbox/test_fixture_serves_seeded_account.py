"""The ``sandbox`` fixture starts a real sandbox with the seeded account."""

from tests.support.sandbox import SandboxProcess


def test_users_lists_the_seeded_extensions(fresh_sandbox: SandboxProcess) -> None:
    users = {u["extension_number"]: u for u in fresh_sandbox.users()}
    assert sorted(users) == ["101", "102", "103", "104", "105"]
    assert users["101"]["is_admin"] is True
    assert [users[n]["is_admin"] for n in ("102", "103", "104", "105")] == [False] * 4
    for number, user in users.items():
        assert user["extension_id"] == f"400000{number}"
        assert user["direct_number"] == f"+165055501{number[-2:]}"
        assert user["password"] == "ringcentral"
        assert user["email"].endswith("@example.com")
        assert user["name"] and user["jwt"].count(".") == 2


def test_extension_reads_back_the_signed_in_user(fresh_sandbox: SandboxProcess) -> None:
    with fresh_sandbox.api("103") as client:
        body = client.get("/restapi/v1.0/account/~/extension/~").json()
    assert body["id"] == 400000103
    assert body["extensionNumber"] == "103"
    assert body["account"]["id"] == "400000001"
