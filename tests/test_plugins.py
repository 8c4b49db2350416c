"""The plugin framework: start-up validation, routes and registry from file names, a frozen registry.

Enabling a plugin changes INSTALLED_APPS, so those tests start ``manage.py`` in a child
process with PLUGINS set to the small plugins in tests/plugin_examples/.
"""

import json
import os
import subprocess
import sys
import tomllib
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

import attendance_site
from attendance_site.events.handlers import EventHandler
from attendance_site.plugins import PluginConfig
from attendance_site.registry import CheckInMethod, FrozenRegistryError, MenuItem, registry

EXAMPLES = "tests.plugin_examples"
GREETER = f"{EXAMPLES}.greeter"
GREETER_CONFIG = json.dumps({GREETER: {"greeting": "Hello"}})


def manage(*arguments: str, **environment: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "attendance_site.settings", **environment}
    return subprocess.run(  # noqa: S603 (this interpreter, our manage.py)
        [sys.executable, "manage.py", *arguments],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def plugin_class(**attributes: Any) -> type[PluginConfig]:
    return type("ExampleConfig", (PluginConfig,), {"name": "example.plugin", **attributes})


# --- Validation, on PluginConfig classes built here ----------------------------------


def test_plugin_needing_a_newer_platform_is_refused_naming_plugin_and_min_version():
    config = plugin_class(min_version="2.0")

    with pytest.raises(ImproperlyConfigured) as refused:
        config.validate({}, "1.4.0")

    assert str(refused.value) == (
        "Plugin example.plugin requires platform version at least 2.0 (min_version),"
        " and this platform is version 1.4.0."
    )


def test_plugin_for_an_older_platform_is_refused_naming_plugin_and_max_version():
    config = plugin_class(min_version="0.1", max_version="1.2")

    with pytest.raises(ImproperlyConfigured, match=r"example\.plugin requires platform version at most 1\.2 \(max_"):
        config.validate({}, "1.3")


def test_plugin_runs_on_the_ends_of_its_version_range():
    config = plugin_class(min_version="1.0", max_version="1.3")

    assert config.validate({}, "1.0") == {}
    assert config.validate({}, "1.3") == {}


def test_plugin_with_an_unreadable_version_bound_is_refused():
    with pytest.raises(ImproperlyConfigured, match=r"example\.plugin: min_version 'soon' is not a version number"):
        plugin_class(min_version="soon").validate({}, "1.0")


def test_plugin_missing_a_required_setting_is_refused_naming_plugin_and_setting():
    config = plugin_class(required_settings=("reader_url", "secret"))

    with pytest.raises(ImproperlyConfigured) as refused:
        config.validate({"secret": "s"}, "1.0")

    assert str(refused.value).startswith(
        "Plugin example.plugin requires the setting 'reader_url': set it in PLUGINS_CONFIG"
    )


def test_plugin_settings_that_are_not_an_object_are_refused():
    with pytest.raises(ImproperlyConfigured, match=r"PLUGINS_CONFIG\['example\.plugin'\] must be a JSON object"):
        plugin_class().validate(["reader_url"], "1.0")  # type: ignore[arg-type]


def test_default_settings_fill_in_what_the_operator_left_out():
    config = plugin_class(default_settings={"timeout": 5, "retries": 3}, required_settings=("url",))

    merged = config.validate({"url": "http://reader", "retries": 1}, "1.0")

    assert merged == {"timeout": 5, "retries": 1, "url": "http://reader"}


def test_platform_version_is_the_one_in_pyproject():
    pyproject = tomllib.loads((django_settings.BASE_DIR / "pyproject.toml").read_text())

    assert attendance_site.__version__ == pyproject["project"]["version"]


# --- Start-up with real plugins, in a child process -------------------------------------


def test_start_up_stops_for_a_plugin_needing_a_newer_platform():
    result = manage("check", PLUGINS=f"{EXAMPLES}.too_new")

    assert result.returncode != 0
    assert (
        f"Plugin {EXAMPLES}.too_new requires platform version at least 99.0 (min_version), "
        f"and this platform is version {attendance_site.__version__}." in result.stderr
    )


def test_start_up_stops_for_a_plugin_missing_a_required_setting():
    result = manage("check", PLUGINS=GREETER, PLUGINS_CONFIG="{}")

    assert result.returncode != 0
    assert f"Plugin {GREETER} requires the setting 'greeting'" in result.stderr


def test_start_up_stops_when_two_plugins_register_one_key_naming_both():
    result = manage("check", PLUGINS=f"{GREETER},{EXAMPLES}.twin", PLUGINS_CONFIG=GREETER_CONFIG)

    assert result.returncode != 0
    assert f"registry.checkin_methods: 'wave' is registered by both {GREETER} and {EXAMPLES}.twin" in result.stderr


def test_start_up_stops_for_a_misspelt_store_in_extensions():
    result = manage("check", PLUGINS=f"{EXAMPLES}.misspelt")

    assert result.returncode != 0
    assert f"{EXAMPLES}.misspelt: extensions.menu_item is no registry store" in result.stderr


def test_start_up_stops_for_a_plugin_that_does_not_exist():
    result = manage("check", PLUGINS=f"{EXAMPLES}.nowhere")

    assert result.returncode != 0
    assert f"Plugin {EXAMPLES}.nowhere (PLUGINS): no module '{EXAMPLES}.nowhere'" in result.stderr


def test_start_up_stops_for_an_unknown_configured_face_matcher_naming_it():
    result = manage("check", BIOMETRIC_FACE_MATCHER="eigenfaces")

    assert result.returncode != 0
    assert (
        "BIOMETRIC_BACKENDS['face_matcher']: no face_matcher backend 'eigenfaces' is registered (registered: face)."
        in result.stderr
    )


def test_start_up_stops_for_a_backend_of_another_kind_configured_as_face_matcher():
    result = manage("check", BIOMETRIC_FACE_MATCHER="voice")

    assert result.returncode != 0
    assert "BIOMETRIC_BACKENDS['face_matcher']: no face_matcher backend 'voice' is registered" in result.stderr


ENABLED_PROBE = """
import json
from django.test import Client
from accounts.services import ROLE_MANAGED_APPS
from attendance_site.registry import registry
client = Client()
page = client.get("/plugins/hello/")
api = client.get("/api/plugins/hello/greeting/")
print(json.dumps({
    "page": [page.status_code, page.content.decode()],
    "api": [api.status_code, api.json()],
    "methods": registry.checkin_methods.keys(),
    "method_owner": registry.checkin_methods.owner_of("wave"),
    "menu": registry.menu_items.keys(),
    "role_managed_apps": ROLE_MANAGED_APPS,
}))
"""


def test_enabled_plugin_serves_its_page_and_api_and_registers_its_extensions():
    result = manage("shell", "-c", ENABLED_PROBE, PLUGINS=GREETER, PLUGINS_CONFIG=GREETER_CONFIG)

    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["page"] == [200, "Hello!"]  # the default punctuation merged in
    assert seen["api"] == [200, {"greeting": "Hello"}]
    assert seen["methods"][-1] == "wave" and seen["method_owner"] == GREETER
    assert "greeter" in seen["menu"]
    assert seen["role_managed_apps"][-1] == "greeter"  # its models get Admin and Viewer permissions


# --- In this process: no plugin of tests/plugin_examples enabled ---------------------


def test_plugin_not_enabled_leaves_no_route_method_or_menu_entry(client):
    page = client.get("/plugins/hello/")
    api = client.get("/api/plugins/hello/greeting/")

    assert page.status_code == 404
    assert api.status_code == 404 and api["Content-Type"] == "application/json"
    assert "wave" not in registry.checkin_methods
    assert "greeter" not in registry.menu_items


def test_registry_is_frozen_after_start_up():
    assert registry.frozen
    with pytest.raises(FrozenRegistryError, match=r"registry\.menu_items is frozen after start-up"):
        registry.menu_items.register(MenuItem("late", "Late", "/late/"))
    with pytest.raises(FrozenRegistryError):
        registry.checkin_methods.register(CheckInMethod(key="late", label="Late"))
    with pytest.raises(TypeError):
        registry.late_store = []


def test_built_in_apps_register_through_their_extensions_files():
    def owners(store: Any) -> dict[str, str]:
        # Only the built-ins: the tests run with the example plugin enabled too.
        return {key: store.owner_of(key) for key in store.keys() if store.owner_of(key) not in django_settings.PLUGINS}

    assert owners(registry.dashboard_panels) == {
        "presence": "dashboard",
        "feed": "dashboard",
        "devices": "dashboard",
        "charts": "dashboard",
        "cameras": "streaming",
    }
    assert owners(registry.menu_items) == {"dashboard": "dashboard", "api-docs": "dashboard", "admin": "dashboard"}
    assert registry.event_handlers.owner_of("dashboard.live") == "dashboard"
    assert isinstance(registry.event_handlers["dashboard.live"], EventHandler)
    assert registry.checkin_methods.keys()[:4] == ["face", "voice", "qr", "pin"]
    assert {key: backend.kind for key, backend in registry.biometric_backends.items()} == {
        "face": "face_matcher",
        "voice": "voice_verifier",
        "liveness": "liveness",
    }


def test_role_managed_apps_are_the_project_apps_without_the_platform():
    from accounts.services import ROLE_MANAGED_APPS

    assert ROLE_MANAGED_APPS[:8] == (
        "accounts",
        "employees",
        "attendance",
        "dashboard",
        "biometrics",
        "environment",
        "simulations",
        "streaming",
    )
    assert "events" not in ROLE_MANAGED_APPS and "admin" not in ROLE_MANAGED_APPS


def test_an_item_of_the_wrong_type_is_refused_naming_the_store():
    from attendance_site.testing.registry import registered

    with pytest.raises(ImproperlyConfigured, match=r"tests: registry\.menu_items takes MenuItem, not"):
        not_a_menu_item: Any = CheckInMethod(key="x", label="X")
        with registered(registry.menu_items, not_a_menu_item):
            pass
