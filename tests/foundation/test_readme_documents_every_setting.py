"""Every environment variable the settings read is documented in README.md."""

from __future__ import annotations

import re

from .helpers import ROOT

SETTING_READ = re.compile(r"""env(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def settings_variables() -> set[str]:
    source = (ROOT / "crm_cti" / "settings.py").read_text()
    return set(SETTING_READ.findall(source))


def test_settings_read_at_least_the_core_variables():
    core = {"DATABASE_URL", "REDIS_URL", "RC_SERVER_URL", "WEBHOOK_BASE_URL"}
    assert core <= settings_variables()


def test_readme_documents_every_setting():
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in settings_variables() if f"`{name}`" not in readme)
    assert not missing, f"README.md does not document: {', '.join(missing)}"
