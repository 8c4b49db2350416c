"""A NUL character in a run's parameters is refused, on every database.

PostgreSQL stores no NUL in jsonb: the upload failed with a 500 there, and was stored on SQLite.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from simulations.models import SimulationRun

ROW = {"light_lux": 120, "noise_db": 40, "method": "face", "outcome": "success", "duration_ms": 800}
CSV_ROWS = b"light_lux,noise_db,method,outcome,duration_ms\n120,40,face,success,800\n"


def run_body(site, parameters) -> dict:
    return {"site": site.pk, "scenario": "dusk", "generator_version": "g-1", "parameters": parameters}


@pytest.mark.parametrize("parameters", [{"seed": "1\x002"}, {"se\x00ed": 1}, {"steps": [{"note": "\x00"}]}])
def test_run_parameters_with_a_null_character_are_refused_and_nothing_is_stored(admin_client, site_a, parameters):
    response = admin_client.post(
        "/api/simulations/runs/", {**run_body(site_a, parameters), "results": [ROW]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"code": "null_characters_not_allowed", "detail": "Null characters are not allowed.", "attr": "parameters"}
    ]
    assert not SimulationRun.objects.exists()


def test_csv_run_parameters_with_a_null_character_are_refused(admin_client, site_a):
    body = {**run_body(site_a, '{"seed": "\\u0000"}'), "results": SimpleUploadedFile("rows.csv", CSV_ROWS)}

    response = admin_client.post("/api/simulations/runs/", body, format="multipart")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "parameters"
    assert not SimulationRun.objects.exists()
