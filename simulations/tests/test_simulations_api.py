"""Simulation runs through the API: uploads (JSON and CSV), refusals, scope, analysis, drafts."""

import csv
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditLogEntry
from attendance_site.registry import registry
from environment.models import RuleSet
from environment.rules import rules_validate
from simulations.models import SimulationResult, SimulationRun
from simulations.selectors import fallback_modes
from simulations.services import simulation_run_create

RUNS = "/api/simulations/runs/"


def row(method="face", outcome="success", light=200.0, noise=45.0, duration=900):
    return {"light_lux": light, "noise_db": noise, "method": method, "outcome": outcome, "duration_ms": duration}


def upload(client, site, results, **extra):
    body = {"site": site.pk, "scenario": "lobby", "parameters": {"seed": 1}, "generator_version": "test-1"}
    return client.post(RUNS, {**body, **extra, "results": results}, format="json")


def csv_file(rows) -> io.BytesIO:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=["light_lux", "noise_db", "method", "outcome", "duration_ms"])
    writer.writeheader()
    writer.writerows(rows)
    data = io.BytesIO(text.getvalue().encode())
    data.name = "results.csv"
    return data


def errors_by_attr(response) -> dict:
    return {error["attr"]: error["detail"] for error in response.json()["errors"]}


@pytest.fixture
def make_run(admin_user):
    def make(site, results, scenario="hand-made"):
        return simulation_run_create(
            actor=admin_user, site=site, scenario=scenario, parameters={}, generator_version="test-1", results=results
        )

    return make


def test_admin_uploads_a_run_as_json_and_it_is_audited(admin_a_client, site_a, admin_a):
    response = upload(admin_a_client, site_a, [row(), row(method="pin", outcome="false_reject")])

    assert response.status_code == 201, response.json()
    run = SimulationRun.objects.get()
    assert (response.json()["row_count"], run.created_by, run.parameters) == (2, admin_a, {"seed": 1})
    assert list(run.results.values_list("method", "outcome")) == [("face", "success"), ("pin", "false_reject")]
    assert AuditLogEntry.objects.filter(object_id=str(run.pk), action=AuditLogEntry.Action.CREATE).exists()


def test_twelve_thousand_rows_upload_as_csv_in_one_request(admin_a_client, site_a):
    rows = [row(light=index % 1500, noise=30 + index % 60, duration=index) for index in range(12_000)]

    with CaptureQueriesContext(connection) as queries:
        response = admin_a_client.post(
            RUNS,
            {
                "site": site_a.pk,
                "scenario": "big",
                "generator_version": "csv-1",
                "parameters": '{"rows": 12000}',
                "results": csv_file(rows),
            },
            format="multipart",
        )

    assert response.status_code == 201, response.json()
    assert response.json()["row_count"] == 12_000
    assert response.json()["parameters"] == {"rows": 12000}
    assert SimulationResult.objects.filter(run_id=response.json()["id"]).count() == 12_000
    # Rows go in batched INSERTs (their number depends on the database's parameter limit);
    # everything else is a handful of queries, whatever the number of rows.
    inserts = [query for query in queries if query["sql"].startswith('INSERT INTO "simulations_simulationresult"')]
    assert len(queries) - len(inserts) <= 20
    assert len(inserts) <= 12_000 / 100


def test_malformed_rows_are_reported_by_index_and_nothing_is_stored(admin_a_client, site_a):
    rows = [
        row(),
        row(light=-1),
        row(method="iris"),
        row(),
        {**row(noise="loud"), "duration_ms": -5},
        {**row(), "noise_db": "nan"},
    ]

    response = upload(admin_a_client, site_a, rows)

    assert response.status_code == 400
    errors = errors_by_attr(response)
    assert errors["results"].startswith("4 of 6 rows are malformed")
    assert set(errors) == {
        "results",
        "results.1.light_lux",
        "results.2.method",
        "results.4.noise_db",
        "results.4.duration_ms",
        "results.5.noise_db",
    }
    assert not SimulationRun.objects.exists()
    assert not SimulationResult.objects.exists()


def test_thousands_of_bad_rows_list_the_first_hundred_problems_with_the_total(admin_a_client, site_a):
    rows = [row(outcome="maybe") for _ in range(300)]

    response = admin_a_client.post(
        RUNS,
        {"site": site_a.pk, "scenario": "bad", "generator_version": "csv-1", "results": csv_file(rows)},
        format="multipart",
    )

    errors = errors_by_attr(response)
    assert response.status_code == 400
    assert len(errors) == 101
    assert "300 of 300 rows are malformed (300 problems, the first 100 listed)" in errors["results"]
    assert not SimulationRun.objects.exists()


def test_a_csv_with_a_wrong_header_is_refused(admin_a_client, site_a):
    bad = io.BytesIO(b"light,noise,method\n1,2,face\n")
    bad.name = "results.csv"

    response = admin_a_client.post(
        RUNS,
        {"site": site_a.pk, "scenario": "bad", "generator_version": "csv-1", "results": bad},
        format="multipart",
    )

    assert response.status_code == 400
    assert "header" in errors_by_attr(response)["results"]


def test_viewer_reads_but_cannot_upload_draft_or_delete(viewer_a_client, site_a, make_run):
    run = make_run(site_a, [row()])

    assert viewer_a_client.get(RUNS).json()["count"] == 1
    assert viewer_a_client.get(f"{RUNS}{run.pk}/results/").status_code == 200
    assert viewer_a_client.get(f"{RUNS}{run.pk}/analysis/").status_code == 200
    assert upload(viewer_a_client, site_a, [row()]).status_code == 403
    assert viewer_a_client.post(f"{RUNS}{run.pk}/recommendation/draft/", {}, format="json").status_code == 403
    assert viewer_a_client.delete(f"{RUNS}{run.pk}/").status_code == 403
    assert SimulationRun.objects.count() == 1
    assert not RuleSet.objects.exists()


def test_another_sites_runs_are_invisible(admin_a_client, site_a, site_b, make_run):
    other = make_run(site_b, [row()])

    assert admin_a_client.get(RUNS).json()["count"] == 0
    for suffix in ("", "results/", "analysis/"):
        assert admin_a_client.get(f"{RUNS}{other.pk}/{suffix}").status_code == 404
    assert admin_a_client.post(f"{RUNS}{other.pk}/recommendation/draft/", {}, format="json").status_code == 404
    assert admin_a_client.get(RUNS, {"site": site_b.pk}).status_code == 400
    refused = upload(admin_a_client, site_b, [row()])
    assert refused.status_code == 400
    assert "site" in errors_by_attr(refused)


def test_runs_and_results_are_filtered(admin_client, site_a, site_b, make_run):
    run = make_run(site_a, [row(light=10), row(light=500), row(method="voice", outcome="false_reject", noise=85)])
    make_run(site_b, [row()], scenario="other")

    listed = admin_client.get(RUNS, {"site": site_a.pk, "scenario": "hand-made"}).json()
    bright_face = admin_client.get(f"{RUNS}{run.pk}/results/", {"method": "face", "light_min": 100}).json()
    loud = admin_client.get(f"{RUNS}{run.pk}/results/", {"noise_min": 80, "outcome": "false_reject"}).json()

    assert [item["id"] for item in listed["results"]] == [run.pk]
    assert [item["light_lux"] for item in bright_face["results"]] == [500.0]
    assert [(item["method"], item["noise_db"]) for item in loud["results"]] == [("voice", 85.0)]


def hand_made_rows() -> list[dict]:
    """Face: 40 dim attempts (10 lux), 40 bright ones (200 lux); voice: 40 quiet (45 dB), 40 loud (85 dB)."""
    rows = []
    rows += [row(light=10, outcome="success")] * 20 + [row(light=10, outcome="false_reject")] * 16
    rows += [row(light=10, outcome="false_accept")] * 4
    rows += [row(light=200, outcome="success")] * 38 + [row(light=200, outcome="false_reject")] * 2
    rows += [row(method="voice", noise=45, outcome="success")] * 36 + [
        row(method="voice", noise=45, outcome="false_reject")
    ] * 4
    rows += [row(method="voice", noise=85, outcome="success")] * 10
    rows += [row(method="voice", noise=85, outcome="failure_to_acquire")] * 29
    rows += [row(method="voice", noise=85, outcome="false_accept")]
    rows += [row(method="qr", light=1, noise=70)] * 5
    return rows


def test_analysis_rates_per_method_and_condition_band(admin_client, site_a, make_run):
    run = make_run(site_a, hand_made_rows())

    response = admin_client.get(
        f"{RUNS}{run.pk}/analysis/", {"light_bins": "0,50,150,300", "noise_bins": "0,60,90", "max_false_accept": 0.02}
    )

    assert response.status_code == 200, response.json()
    cells = {(cell["method"], cell["light_band"][0], cell["noise_band"][0]): cell for cell in response.json()["cells"]}
    dim_face = cells[("face", 0.0, 0.0)]
    assert (dim_face["attempts"], dim_face["success_rate"]) == (40, 0.5)
    assert (dim_face["false_reject_rate"], dim_face["false_accept_rate"]) == (0.4, 0.1)
    bright_face = cells[("face", 150.0, 0.0)]
    assert (bright_face["attempts"], bright_face["success_rate"], bright_face["false_reject_rate"]) == (40, 0.95, 0.05)
    loud_voice = cells[("voice", 150.0, 60.0)]
    assert (loud_voice["attempts"], loud_voice["success_rate"], loud_voice["false_accept_rate"]) == (40, 0.25, 0.025)
    assert loud_voice["failure_to_acquire_rate"] == pytest.approx(29 / 40)
    assert cells[("qr", 0.0, 60.0)]["attempts"] == 5
    assert set(cells) == {
        ("face", 0.0, 0.0),
        ("face", 150.0, 0.0),
        ("voice", 150.0, 0.0),
        ("voice", 150.0, 60.0),
        ("qr", 0.0, 60.0),
    }
    assert response.json()["outside_bins"] == 0


def test_recommendation_keeps_false_accepts_within_the_bound(admin_client, site_a, make_run):
    run = make_run(site_a, hand_made_rows())

    body = admin_client.get(
        f"{RUNS}{run.pk}/analysis/", {"light_bins": "0,50,150,300", "noise_bins": "0,60,90", "max_false_accept": 0.02}
    ).json()

    methods = {item["method"]: item for item in body["recommendation"]["methods"]}
    # Face from 0 lux would admit 4 false accepts in 80 (5%); from 50 lux none.
    assert methods["face"]["status"] == "recommended"
    assert methods["face"]["threshold"] == {"min": 50.0}
    assert (methods["face"]["attempts"], methods["face"]["success_rate"]) == (40, 0.95)
    # Voice up to 90 dB: 1 false accept in 80 (1.25%) and 46 successes, more than the 36 up to 60 dB.
    assert methods["voice"]["threshold"] == {"max": 90.0}
    assert methods["voice"]["false_accept_rate"] == pytest.approx(1 / 80)
    assert methods["face_liveness"]["status"] == "not_enough_data"
    assert (methods["qr"]["status"], methods["pin"]["status"]) == ("fallback", "fallback")
    rules = body["recommendation"]["rules"]
    rules_validate(rules, modes=registry.checkin_methods.modes())
    # Then any enabled plugin's fallback methods, as the registry lists them.
    plugin_fallbacks = [{"mode": mode, "when": {}} for mode in fallback_modes() if mode not in ("qr", "pin")]
    assert rules["modes"] == [
        {"mode": "face", "when": {"light_lux": {"min": 50.0}}},
        {"mode": "voice", "when": {"noise_db": {"max": 90.0}}},
        {"mode": "qr", "when": {}},
        {"mode": "pin", "when": {}},
        *plugin_fallbacks,
    ]


def test_a_strict_bound_leaves_a_method_out(admin_client, site_a, make_run):
    run = make_run(site_a, hand_made_rows())

    body = admin_client.get(f"{RUNS}{run.pk}/analysis/", {"noise_bins": "0,60,90", "max_false_accept": 0.01}).json()

    methods = {item["method"]: item for item in body["recommendation"]["methods"]}
    assert methods["voice"]["threshold"] == {"max": 60.0}
    demanding = admin_client.get(f"{RUNS}{run.pk}/analysis/", {"min_success_rate": 0.99}).json()
    assert {item["method"]: item["status"] for item in demanding["recommendation"]["methods"]}["face"] == (
        "success_too_low"
    )
    rules = admin_client.get(f"{RUNS}{run.pk}/analysis/", {"max_false_accept": 0, "min_samples": 1000}).json()
    assert rules["recommendation"]["rules"] is None


def test_too_few_samples_is_not_enough_data(admin_client, site_a, make_run):
    run = make_run(site_a, [row()] * 29)

    body = admin_client.get(f"{RUNS}{run.pk}/analysis/").json()

    assert {item["method"]: item["status"] for item in body["recommendation"]["methods"]}["face"] == "not_enough_data"
    assert body["recommendation"]["rules"] is None
    refused = admin_client.post(f"{RUNS}{run.pk}/recommendation/draft/", {}, format="json")
    assert refused.status_code == 400
    assert not RuleSet.objects.exists()


@pytest.mark.parametrize(
    "params",
    [
        {"light_bins": "0,50,50"},
        {"light_bins": "-10,50"},
        {"noise_bins": "10"},
        {"noise_bins": "a,b"},
        {"max_false_accept": 2},
    ],
)
def test_bad_analysis_parameters_are_refused(admin_client, site_a, make_run, params):
    run = make_run(site_a, [row()])

    assert admin_client.get(f"{RUNS}{run.pk}/analysis/", params).status_code == 400


def test_admin_turns_the_recommendation_into_a_draft_that_is_not_activated(admin_a_client, site_a, make_run, admin_a):
    run = make_run(site_a, hand_made_rows())

    response = admin_a_client.post(
        f"{RUNS}{run.pk}/recommendation/draft/",
        {"light_bins": "0,50,150,300", "noise_bins": [0, 60, 90], "max_false_accept": 0.02},
        format="json",
    )
    again = admin_a_client.post(f"{RUNS}{run.pk}/recommendation/draft/", {}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["site"], body["status"], body["version"]) == (site_a.pk, "draft", 1)
    assert f"simulation run {run.pk}" in body["note"]
    assert body["rules"]["modes"][0] == {"mode": "face", "when": {"light_lux": {"min": 50.0}}}
    assert again.json()["version"] == 2
    assert not RuleSet.objects.filter(status=RuleSet.Status.ACTIVE).exists()
    assert RuleSet.objects.get(version=1).created_by == admin_a


def test_admin_deletes_a_run_with_its_rows(admin_a_client, site_a, make_run):
    run = make_run(site_a, [row()] * 3)

    assert admin_a_client.delete(f"{RUNS}{run.pk}/").status_code == 204
    assert not SimulationResult.objects.exists()


def test_generated_data_set_is_analysable_and_drafts_a_valid_rule_set(admin_client, site_a):
    output = io.StringIO()
    call_command("simulations_generate", site=site_a.name, rows=20_000, seed=7, stdout=output)
    run = SimulationRun.objects.get()

    body = admin_client.get(f"{RUNS}{run.pk}/analysis/").json()
    draft = admin_client.post(f"{RUNS}{run.pk}/recommendation/draft/", {}, format="json")

    assert f"Created simulation run {run.pk} with 20000 rows" in output.getvalue()
    assert run.generator_version == "synthetic-1" and run.parameters["seed"] == 7
    methods = {item["method"]: item for item in body["recommendation"]["methods"]}
    assert {item["status"] for item in methods.values()} <= {"recommended", "fallback"}
    # Light makes face better, noise makes voice worse: the thresholds must exclude the bad ends.
    assert methods["face"]["threshold"]["min"] > 0
    assert methods["voice"]["threshold"]["max"] < 120
    assert all(item["false_accept_rate"] <= 0.01 for item in methods.values() if item["status"] == "recommended")
    dim = [c for c in body["cells"] if c["method"] == "face" and c["light_band"] == [0.0, 50.0] and c["attempts"]]
    bright = [c for c in body["cells"] if c["method"] == "face" and c["light_band"] == [300.0, 1000.0]]
    assert sum(c["success_rate"] * c["attempts"] for c in dim) / sum(c["attempts"] for c in dim) < min(
        c["success_rate"] for c in bright
    )
    rules_validate(body["recommendation"]["rules"], modes=registry.checkin_methods.modes())
    assert draft.status_code == 201 and draft.json()["status"] == "draft"


def test_generation_is_reproducible_from_its_seed(site_a):
    call_command("simulations_generate", site=str(site_a.pk), rows=500, seed=3, stdout=io.StringIO())
    call_command("simulations_generate", site=str(site_a.pk), rows=500, seed=3, stdout=io.StringIO())
    first, second = SimulationRun.objects.order_by("id")

    fields = ("light_lux", "noise_db", "method", "outcome", "duration_ms")
    assert list(first.results.values_list(*fields)) == list(second.results.values_list(*fields))
