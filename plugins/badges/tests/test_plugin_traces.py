"""Disabling the plugin removes every trace of it: routes, schema, menu, panel, method, handler, admin.

Enabling a plugin changes INSTALLED_APPS, so each side runs in a child process with
PLUGINS set; the probe is the same, so the enabled run proves it can see each trace.
"""

import json
import subprocess
import sys

from django.conf import settings

from attendance_site.testing.processes import child_process_env


def traces_with(plugins: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "plugins.badges.tests.trace_probe"],
        cwd=settings.BASE_DIR,
        env=child_process_env(PLUGINS=plugins),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_disabled_badge_plugin_leaves_no_trace_and_enabled_it_leaves_each():
    enabled, disabled = traces_with("plugins.badges"), traces_with("")

    assert enabled["installed"] is True
    assert enabled["routes"] == {
        "/api/plugins/badges/": 401,
        "/api/plugins/badges/badges/": 401,
        "/api/plugins/badges/device/check-in/": 401,
    }
    assert "/api/plugins/badges/device/check-in/" in enabled["schema_paths"]
    assert "badges" in enabled["menu_items"]
    assert "badges" in enabled["dashboard_panels"]
    assert "badge" in enabled["checkin_methods"]
    assert "badge" in enabled["modes"]
    assert "badges.Badge" in enabled["admin_models"]

    assert disabled["installed"] is False
    assert set(disabled["routes"].values()) == {404}
    assert disabled["schema_paths"] == []
    assert "badges" not in disabled["menu_items"]
    assert "badges" not in disabled["dashboard_panels"]
    assert "badge" not in disabled["checkin_methods"]
    assert "badge" not in disabled["modes"]
    assert not [name for name in disabled["event_handlers"] if name.startswith("badges.")]
    assert "badges.Badge" not in disabled["admin_models"]
