"""Environment (issue #6): readings ingest through the batch endpoint, and mode selection.

Both measured in-process with DRF's APIClient (no network: what is timed is Django, DRF,
the services, PostgreSQL and Redis), authenticated as a device with
``Authorization: Device <credential>``.

- Ingest: 100 requests of 1000 readings to ``POST /api/environment/device/readings/``,
  against ``ConditionReading.objects.bulk_create`` of the same 100,000 rows (same values,
  same device, 1000 rows per transaction like the service) in the same run. The two are
  interleaved batch by batch, alternating which goes first, so table growth and
  background noise fall on both alike. psycopg ``COPY`` of the same rows is measured too
  and printed on stderr only: it is the floor of PostgreSQL, not what Django can reach.
- Mode selection: ``GET /api/environment/device-modes/modes/`` for a device at a site with
  an active rule set and recent readings; the baseline is the same request with the
  per-process rule-set cache emptied before it (outside the timed span), so the rule set
  is read from PostgreSQL as after every invalidation.

Everything the bench creates (two devices, their readings) is deleted at the end; the site
and its rule set are kept and reused.
"""

import json
import random
import time
from datetime import UTC, datetime, timedelta

import psycopg
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from attendance.models import Device
from attendance.services import device_create, device_delete
from bench.env import BenchEnv, bench_admin
from bench.report import emit, note, percentile
from employees.models import Site
from employees.services import site_create
from environment import selectors
from environment.api import ReadingBatchSerializer, ReadingInputSerializer
from environment.models import READING_FIELDS, ConditionReading, RuleSet
from environment.services import (
    condition_readings_record,
    device_modes_refresh,
    rule_set_activate,
    rule_set_create,
)

NAME = "environment_perf"
SITE_NAME = "bench-environment"
SITE_ZONE = "Europe/Berlin"
READINGS_URL = "/api/environment/device/readings/"
MODES_URL = "/api/environment/device-modes/modes/"

BATCHES = 100
BATCH_SIZE = 1000
# The readings' recorded_at lie in [now - SPREAD, now - 1 min]: a backlog of recent hours.
SPREAD = timedelta(hours=6)
INGEST_BUDGET_SECONDS = 240
INGEST_TARGET_RATIO = 0.25
# Stage breakdown of the endpoint, on this many extra batches (stderr only).
BREAKDOWN_BATCHES = 5

MODE_REQUESTS = 200
MODE_WARMUP_REQUESTS = 20
MODES_BUDGET_SECONDS = 60
MODE_TARGET_MS = 5.0
# The trivial authenticated device endpoint: the floor of any device request (stderr only).
ME_URL = "/api/attendance/device/me/"
FLOOR_REQUESTS = 100

# The example of docs/environment.md: a realistic site rule set.
RULES = {
    "modes": [
        {"mode": "face_liveness", "when": {"light_lux": {"min": 50}, "camera_available": True}},
        {"mode": "face", "when": {"light_lux": {"min": 300}, "camera_available": True}},
        {"mode": "voice", "when": {"noise_db": {"max": 60}, "microphone_available": True}},
        {"mode": "qr", "when": {"camera_available": True}},
        {"mode": "pin", "when": {}},
    ],
    "hysteresis": {"light_lux": 20, "noise_db": 3},
}


def run(env: BenchEnv) -> None:
    admin = bench_admin()
    site = _site_ensure(admin)
    rule_set = _rule_set_ensure(admin, site)
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    ingest_device = device_create(actor=admin, fields={"site": site, "name": f"bench-env-ingest-{stamp}"})
    modes_device = device_create(actor=admin, fields={"site": site, "name": f"bench-env-modes-{stamp}"})
    devices = [ingest_device.device, modes_device.device]
    try:
        _ingest(env, _device_client(ingest_device.credential), ingest_device.device)
        _modes(_device_client(modes_device.credential), modes_device.device, rule_set)
    finally:
        _cleanup(admin, devices)


# --- Setup and cleanup ----------------------------------------------------------------


def _site_ensure(admin) -> Site:
    return Site.objects.filter(name=SITE_NAME).first() or site_create(
        actor=admin, fields={"name": SITE_NAME, "timezone": SITE_ZONE}
    )


def _rule_set_ensure(admin, site: Site) -> RuleSet:
    """The site's active rule set: reused when it has RULES, else a new version activated."""
    active = RuleSet.objects.filter(site=site, status=RuleSet.Status.ACTIVE).first()
    if active is not None and active.rules == RULES:
        note(f"reusing active rule set {active.pk} (v{active.version}) of site {site.pk}")
        return active
    draft = rule_set_create(actor=admin, site=site, rules=RULES, note="environment_perf benchmark")
    rule_set = rule_set_activate(actor=admin, rule_set=draft)
    note(f"activated rule set {rule_set.pk} (v{rule_set.version}) for site {site.pk}")
    return rule_set


def _device_client(credential: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {credential}")
    return client


def _cleanup(admin, devices: list[Device]) -> None:
    """Delete the bench readings by device, then the devices (mode states cascade)."""
    started = time.monotonic()
    deleted, _ = ConditionReading.objects.filter(device__in=devices).delete()
    for device in devices:
        device_delete(actor=admin, device=device)
    note(f"cleanup: deleted {deleted} readings and {len(devices)} devices in {time.monotonic() - started:.1f} s")


# --- Readings --------------------------------------------------------------------------


def _readings(rng: random.Random, count: int, start: datetime, end: datetime) -> list[tuple[dict, dict]]:
    """``count`` readings in time order over [start, end): (API payload, canonical values).

    The canonical values are computed with the API's own conversions, so the baseline
    stores exactly the rows the endpoint stores.
    """
    step = (end - start) / count
    pairs = []
    for n in range(count):
        recorded_at = start + step * n + timedelta(microseconds=rng.randrange(int(step.total_seconds() * 1e6)))
        payload: dict = {"recorded_at": recorded_at.isoformat()}
        values: dict = dict.fromkeys(READING_FIELDS)

        lux = round(rng.uniform(20, 900), 1)
        payload["light"] = {"value": lux, "unit": rng.choice(("lux", "lux", "lux", "lx"))}
        values["light_lux"] = lux

        db = round(rng.uniform(35, 72), 1)
        payload["noise"] = {"value": db, "unit": rng.choice(("dB", "dB", "dBA"))}
        values["noise_db"] = db

        celsius = round(rng.uniform(18, 27), 1)
        if rng.random() < 0.2:
            fahrenheit = round(celsius * 9 / 5 + 32, 1)
            payload["temperature"] = {"value": fahrenheit, "unit": "F"}
            values["temperature_c"] = (fahrenheit - 32) * 5 / 9
        else:
            payload["temperature"] = {"value": celsius, "unit": "C"}
            values["temperature_c"] = celsius

        online = rng.random() > 0.02
        network: dict = {"online": online}
        values["network_online"] = online
        if online:
            latency_ms = round(rng.lognormvariate(3.8, 0.5), 1)
            if rng.random() < 0.1:
                seconds = round(latency_ms / 1000, 4)
                network["latency"] = {"value": seconds, "unit": "s"}
                values["network_latency_ms"] = seconds * 1000
            else:
                network["latency"] = {"value": latency_ms, "unit": "ms"}
                values["network_latency_ms"] = latency_ms
            loss = round(min(100.0, rng.expovariate(2)), 2)
            network["loss"] = {"value": loss, "unit": "%"}
            values["network_loss_pct"] = loss
            mbps = round(rng.uniform(2, 80), 1)
            network["bandwidth"] = {"value": mbps, "unit": "Mbps"}
            values["network_bandwidth_kbps"] = mbps * 1000
        payload["network"] = network

        payload["camera_available"] = values["camera_available"] = rng.random() > 0.01
        payload["microphone_available"] = values["microphone_available"] = rng.random() > 0.01
        pairs.append((payload, {"recorded_at": recorded_at, **values}))
    return pairs


def _batches(rng: random.Random, batches: int, now: datetime) -> list[tuple[bytes, list[dict]]]:
    """(JSON body, canonical rows) per batch; consecutive batches cover consecutive times."""
    start, end = now - SPREAD, now - timedelta(minutes=1)
    span = (end - start) / batches
    out = []
    for n in range(batches):
        pairs = _readings(rng, BATCH_SIZE, start + span * n, start + span * (n + 1))
        body = json.dumps({"readings": [payload for payload, _ in pairs]}).encode()
        out.append((body, [values for _, values in pairs]))
    return out


def _post(client: APIClient, body: bytes) -> None:
    response = client.post(READINGS_URL, data=body, content_type="application/json")
    if response.status_code != 201 or response.json().get("stored") != BATCH_SIZE:
        raise RuntimeError(f"readings answered {response.status_code}: {response.content[:500]!r}")


def _bulk_insert(device: Device, rows: list[dict]) -> None:
    with transaction.atomic():
        ConditionReading.objects.bulk_create(
            [ConditionReading(device=device, site_id=device.site_id, **row) for row in rows], batch_size=BATCH_SIZE
        )


def _copy_insert(conn: psycopg.Connection, device: Device, rows: list[dict]) -> None:
    columns = ", ".join(("device_id", "site_id", "recorded_at", "received_at", *READING_FIELDS))
    now = timezone.now()
    statement = f"COPY {ConditionReading._meta.db_table} ({columns}) FROM STDIN"
    with conn.transaction(), conn.cursor().copy(statement) as copy:
        for row in rows:
            copy.write_row(
                (device.pk, device.site_id, row["recorded_at"], now, *(row[field] for field in READING_FIELDS))
            )


def _ingest(env: BenchEnv, client: APIClient, device: Device) -> None:
    rng = random.Random(6)  # Fixed seed: every machine ingests the same readings.
    now = timezone.now()
    started = time.monotonic()
    first, warmup, *batches = _batches(rng, BATCHES + 2, now)
    note(f"generated {len(batches)} batches of {BATCH_SIZE} readings in {time.monotonic() - started:.1f} s")

    with psycopg.connect(env.database_url) as conn:
        # Warm-up, untimed: first-request caches, the COPY connection, the insert plans.
        # Queries are counted on the second request: the first also creates the mode state.
        _post(client, first[0])
        with CaptureQueriesContext(connection) as capture:
            _post(client, warmup[0])
        queries = list(capture.captured_queries)
        _bulk_insert(device, warmup[1])
        _copy_insert(conn, device, warmup[1])

        timed: dict[str, float] = {"endpoint": 0.0, "bulk_create": 0.0, "copy": 0.0}
        ways = {
            "endpoint": lambda body, rows: _post(client, body),
            "bulk_create": lambda body, rows: _bulk_insert(device, rows),
            "copy": lambda body, rows: _copy_insert(conn, device, rows),
        }
        order = list(ways)
        done = 0
        deadline = time.monotonic() + INGEST_BUDGET_SECONDS
        for n, (body, rows) in enumerate(batches):
            if time.monotonic() > deadline:
                note(f"ingest time budget of {INGEST_BUDGET_SECONDS} s spent after {done} batches")
                break
            # Rotate who goes first, so drift and the growing table fall on all three alike.
            for way in order[n % 3 :] + order[: n % 3]:
                begun = time.perf_counter()
                ways[way](body, rows)
                timed[way] += time.perf_counter() - begun
            done += 1

    rows_done = done * BATCH_SIZE
    rate = {way: rows_done / seconds for way, seconds in timed.items()}
    note(
        f"ingest of {rows_done} rows: endpoint {timed['endpoint']:.1f} s ({rate['endpoint']:.0f} rows/s), "
        f"bulk_create {timed['bulk_create']:.1f} s ({rate['bulk_create']:.0f} rows/s), "
        f"COPY {timed['copy']:.1f} s ({rate['copy']:.0f} rows/s); "
        f"endpoint/COPY ratio {rate['endpoint'] / rate['copy']:.3f}"
    )
    note(f"queries per ingest request: {len(queries)}\n  " + "\n  ".join(q["sql"][:140] for q in queries))
    _ingest_breakdown(rng, device, now)
    emit(
        bench=NAME,
        metric="readings_ingest_rows_per_s",
        value=rate["endpoint"],
        unit="rows/s",
        baseline=rate["bulk_create"],
        target=f">= {INGEST_TARGET_RATIO}",
        met=done == len(batches) and rate["endpoint"] / rate["bulk_create"] >= INGEST_TARGET_RATIO,
    )


def _ingest_breakdown(rng: random.Random, device: Device, now: datetime) -> None:
    """Where an ingest request's time goes: parsing, validation, the service (stderr only)."""
    stages = {"json": 0.0, "validate": 0.0, "convert": 0.0, "service": 0.0}
    for body, _ in _batches(rng, BREAKDOWN_BATCHES, now):
        begun = time.perf_counter()
        data = json.loads(body)
        parsed = time.perf_counter()
        batch = ReadingBatchSerializer(data=data)
        batch.is_valid(raise_exception=True)
        validated = time.perf_counter()
        converter = ReadingInputSerializer()
        readings = [converter.to_reading(item) for item in batch.validated_data["readings"]]
        converted = time.perf_counter()
        condition_readings_record(device=device, readings=readings)
        stored = time.perf_counter()
        stages["json"] += parsed - begun
        stages["validate"] += validated - parsed
        stages["convert"] += converted - validated
        stages["service"] += stored - converted
    note(
        f"per {BATCH_SIZE}-reading batch (mean of {BREAKDOWN_BATCHES}): "
        + ", ".join(f"{stage} {seconds / BREAKDOWN_BATCHES * 1000:.1f} ms" for stage, seconds in stages.items())
    )


# --- Mode selection --------------------------------------------------------------------


def _modes_get(client: APIClient) -> dict:
    response = client.get(MODES_URL)
    if response.status_code != 200:
        raise RuntimeError(f"modes answered {response.status_code}: {response.content[:500]!r}")
    return response.json()


def _modes_cache_defeat() -> None:
    # The per-process cache only; the version key in Redis stays, so the request still
    # pays its Redis read and then reads the rule set from PostgreSQL.
    selectors.active_rule_sets.clear()


def _modes(client: APIClient, device: Device, rule_set: RuleSet) -> None:
    # An hour of recent readings, one a minute, posted through the endpoint like a device.
    now = timezone.now()
    pairs = _readings(random.Random(7), 60, now - timedelta(hours=1), now - timedelta(seconds=30))
    response = client.post(READINGS_URL, data={"readings": [payload for payload, _ in pairs]}, format="json")
    if response.status_code != 201:
        raise RuntimeError(f"readings answered {response.status_code}: {response.content[:500]!r}")

    answer = _modes_get(client)
    if answer["rule_set"] != rule_set.pk:
        raise RuntimeError(f"modes came from rule set {answer['rule_set']}, not the active {rule_set.pk}")
    note(f"modes of the device: {answer['allowed_modes']} (reading at {answer['reading_at']})")
    for _ in range(MODE_WARMUP_REQUESTS):
        _modes_get(client)
        _modes_cache_defeat()
        _modes_get(client)

    with CaptureQueriesContext(connection) as capture:
        _modes_get(client)
    cached_queries = list(capture.captured_queries)
    _modes_cache_defeat()
    with CaptureQueriesContext(connection) as capture:
        _modes_get(client)
    uncached_queries = list(capture.captured_queries)

    cached: list[float] = []
    uncached: list[float] = []
    deadline = time.monotonic() + MODES_BUDGET_SECONDS
    # Interleaved: one cached request, then one with the cache emptied just before it.
    while len(cached) < MODE_REQUESTS and time.monotonic() < deadline:
        begun = time.perf_counter()
        _modes_get(client)
        cached.append((time.perf_counter() - begun) * 1000)
        _modes_cache_defeat()
        begun = time.perf_counter()
        _modes_get(client)
        uncached.append((time.perf_counter() - begun) * 1000)

    note(f"{len(cached)} + {len(uncached)} mode requests after {MODE_WARMUP_REQUESTS} warm-up pairs")
    for label, queries in (("cached", cached_queries), ("cache emptied", uncached_queries)):
        note(f"queries per modes request, {label}: {len(queries)}\n  " + "\n  ".join(q["sql"][:140] for q in queries))
    _modes_floor(client, device)
    complete = len(cached) == MODE_REQUESTS
    for pct in (50, 95):
        value, baseline = percentile(cached, pct), percentile(uncached, pct)
        emit(
            bench=NAME,
            metric=f"mode_selection_p{pct}",
            value=value,
            unit="ms",
            baseline=baseline,
            target=f"<= {MODE_TARGET_MS:g} ms",
            met=complete and value <= MODE_TARGET_MS,
        )


def _modes_floor(client: APIClient, device: Device) -> None:
    """What bounds the figure (stderr only): the cheapest device request, and the service alone."""
    samples: dict[str, list[float]] = {ME_URL: [], "device_modes_refresh": []}
    calls = {
        ME_URL: lambda: client.get(ME_URL),
        "device_modes_refresh": lambda: device_modes_refresh(device=device),
    }
    for label, call in calls.items():
        for n in range(MODE_WARMUP_REQUESTS + FLOOR_REQUESTS):
            begun = time.perf_counter()
            call()
            if n >= MODE_WARMUP_REQUESTS:
                samples[label].append((time.perf_counter() - begun) * 1000)
    note(
        f"for comparison, p50 of {FLOOR_REQUESTS}: GET {ME_URL} (trivial authenticated device request) "
        f"{percentile(samples[ME_URL], 50):.2f} ms; device_modes_refresh() called directly "
        f"{percentile(samples['device_modes_refresh'], 50):.2f} ms"
    )
