"""``SANDBOX_EXTRA_EXTENSIONS`` seeds more agents (106, 107, ...) for benchmarks."""

from tests.support.sandbox import sandbox_start


def test_extra_agents_are_seeded_and_can_sign_in() -> None:
    running = sandbox_start({"SANDBOX_EXTRA_EXTENSIONS": "3"})
    try:
        users = {u["extension_number"]: u for u in running.users()}
        assert sorted(users) == ["101", "102", "103", "104", "105", "106", "107", "108"]
        assert users["108"]["direct_number"] == "+16505550108"
        assert users["108"]["is_admin"] is False
        assert running.token("108")["owner_id"] == "400000108"
    finally:
        running.close()
