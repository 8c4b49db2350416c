"""Every API operation, fuzzed with Schemathesis against the project's own OpenAPI document.

Each generated request (valid ones and invalid ones, with the real ids and values of
seeded data mixed in) is sent three times: as an admin of every site, as a viewer of
site A and as a device of site A. The test fails on:

- a server error: any 5xx, except a 503 the document lists (Redis or database outages);
- a schema violation: a status code the document does not list for the operation, a
  body that does not match the documented schema, an undocumented content type, a
  missing documented header;
- a refused request (4xx) that left rows behind: every table is counted before and after.

Each request runs in a savepoint that is rolled back afterwards, so every request meets
the same seeded data. Requests go through ``attendance_site.wsgi.application`` in this
process, on the test's database connection: SQLite locally, PostgreSQL where
DATABASE_URL points to it. ``FUZZ_EXAMPLES`` sets the generated requests per operation
(default 5, the bounded run of ``make test``); ``make fuzz`` runs a longer one.

Nothing is left out. Two kinds of operation start work elsewhere and are fuzzed all the same:
- ``POST /api/streams/`` and ``POST /api/streams/{id}/start/`` queue a camera pipeline
  after commit; the savepoint never commits, so no pipeline starts (no camera exists),
  while everything up to the queueing (URL, allowlist, capacity checks) runs for real.
- ``POST /api/biometrics/device/face-check/`` hands recognition to a worker and waits;
  tests run Celery tasks eagerly, so recognition runs in-process on the generated image.
"""

import os

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from attendance_site.testing.openapi import api_operation
from tests.fuzzing import (
    fuzz_statistics,
    fuzz_world_seed,
    no_name_resolution,
    operation_labels,
    process_caches_clear,
    requests_on_test_transaction,
    row_count_changes,
    table_row_counts,
)
from tests.world import admin_b_fixture, fast_password_hashing_fixture, world_fixture  # noqa: F401 (fixtures)

# Unordered pages repeat or skip rows: a bug the fuzzer should report, not a warning to scroll past.
pytestmark = pytest.mark.filterwarnings("error::django.core.paginator.UnorderedObjectListWarning")

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance, response_headers_conformance]

# The tables a refused request of an operation may write to, and why.
WRITES_ALLOWED_WHEN_REFUSED: dict[str, dict[str, str]] = {
    "POST /api/auth/token/": {
        "axes_accessattempt": "A failed login is counted, so that guessing a password ends in a lockout (django-axes).",
    },
}


@pytest.fixture
def fuzz_world(world, admin_user):
    return fuzz_world_seed(world, admin=admin_user)


@pytest.fixture
def authorizations(world, admin_user, device_a, client_for, device_client_for) -> dict[str, str]:
    """The Authorization header of each role, as the shared fixtures issue it: an admin of
    every site, a viewer of site A, a device of site A."""
    clients = {
        "admin": client_for(admin_user),
        "viewer": client_for(world.viewer_a),
        "device": device_client_for(device_a),
    }
    return {role: client._credentials["HTTP_AUTHORIZATION"] for role, client in clients.items()}


def with_real_values(draw, case, world):
    """Now and then swap generated ids, values and bodies for seeded or well-formed ones (with
    some generated fields mixed back in), so that requests get past lookups and validation."""
    bodies = world.bodies.get(case.operation.label)
    if bodies and case.media_type == "application/json" and draw(st.booleans()):
        generated = case.body if isinstance(case.body, dict) else {}
        kept = draw(st.sets(st.sampled_from(sorted(generated)), max_size=2)) if generated else set()
        case.body = {**draw(st.sampled_from(bodies)), **{name: generated[name] for name in kept}}
    if "id" in (case.path_parameters or {}):
        ids = world.ids_for(case.operation.path)
        if ids and draw(st.integers(min_value=0, max_value=3)):
            case.path_parameters["id"] = draw(st.sampled_from(ids))
    for container in (case.query, case.body):
        if not isinstance(container, dict):
            continue
        for name in sorted(container):
            values = world.values_by_field.get(name)
            if values and draw(st.booleans()):
                container[name] = draw(st.sampled_from(values))
    return case


def request_and_check(case, role: str, authorization: str) -> None:
    """Send the case as one role in a savepoint, check the answer, and roll it back."""
    headers = {"Authorization": authorization}
    savepoint = transaction.savepoint()
    try:
        before = table_row_counts()
        response = case.call(headers=headers)
        fuzz_statistics[(role, response.status_code)] += 1
        # The document lists 500 on every operation (bugs happen); only an outage's 503 is an answer.
        outage = response.status_code == 503 and "503" in case.operation.definition.raw["responses"]
        if response.status_code >= 500 and not outage:
            pytest.fail(f"As {role}: server error {response.status_code}\n{_exchange(case, response, headers)}")
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as failures:
            pytest.fail(f"As {role}: {failures.message}")
        if 400 <= response.status_code < 500:
            written = {
                table: change
                for table, change in row_count_changes(before, table_row_counts()).items()
                if table not in WRITES_ALLOWED_WHEN_REFUSED.get(case.operation.label, {})
            }
            if written:
                pytest.fail(
                    f"As {role}: refused with {response.status_code} but changed rows {written}\n"
                    f"{_exchange(case, response, headers)}"
                )
    finally:
        transaction.savepoint_rollback(savepoint)
        process_caches_clear()


def _exchange(case, response, headers) -> str:
    body = response.content[:3000].decode(errors="replace")
    return f"Request: {case.as_curl_command(headers=headers)}\nResponse {response.status_code}: {body}"


@pytest.mark.parametrize("label", operation_labels())
def test_operation_answers_as_documented_and_refusals_write_nothing(label, fuzz_world, authorizations):
    operation = api_operation(label)
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(data=st.data())
    def fuzz(data):
        case = with_real_values(data.draw, data.draw(cases), fuzz_world)
        for role, authorization in authorizations.items():
            request_and_check(case, role, authorization)

    with requests_on_test_transaction(), no_name_resolution():
        fuzz()
