"""Catalog benchmark: CSV import speed on SQLite and PostgreSQL, filter API latency.

1. Builds a 50,000-instrument catalog with the demo builder, exports it to CSV, and imports
   that file into a fresh SQLite and a fresh PostgreSQL database holding the same regions and
   organisations (all-or-nothing import, validation included): rows/s for each.
2. Builds a 100,000-instrument SQLite database, serves it with uvicorn, and times the catalog
   filter API over a fixed mix of filters; a trivial endpoint timed in the same run gives the
   HTTP floor to compare against.

Last line: `BENCH catalog sqlite_rows_per_s=… postgres_rows_per_s=… filter_p50_ms=… filter_p95_ms=…`
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa

from scishare.accounts.schemas import OrganisationCreate
from scishare.accounts.service import SYSTEM, list_organisations, register_organisation
from scishare.catalog.importing import import_catalog
from scishare.catalog.service import sync_reference_data
from scishare.core.database import make_engine, session_scope
from scishare.core.migrations import upgrade
from scishare.regions.schemas import RegionCreate
from scishare.regions.service import list_regions, register_region

IMPORT_ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "50000"))
FILTER_INSTRUMENTS = int(os.environ.get("BENCH_FILTER_INSTRUMENTS", "100000"))
FILTER_REQUESTS = int(os.environ.get("BENCH_FILTER_REQUESTS", "600"))
POSTGRES_ADMIN_URL = os.environ.get("SCISHARE_TEST_POSTGRES_URL",
                                    "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SCISHARE = str(Path(sys.executable).with_name("scishare"))

# A fixed mix of what people filter by: class, region, technique, text, open flag, price.
FILTERS: list[dict[str, str]] = [
    {},
    {"page": "7"},
    {"class_code": "01"},
    {"class_code": "0103"},
    {"class_code": "0102", "is_open_external": "true"},
    {"region_code": "410000"},
    {"region_code": "410300"},
    {"technique_code": "XRD"},
    {"technique_code": "NMR", "region_code": "410100"},
    {"technique_code": "SEM_EDS", "is_open_external": "true"},
    {"q": "扫描电子显微镜"},
    {"q": "质谱"},
    {"q": "Bruker"},
    {"q": "D8"},
    {"price_min_fen": "50000", "price_max_fen": "100000"},
    {"price_max_fen": "20000", "class_code": "01"},
    {"q": "衍射", "region_code": "410100", "is_open_external": "true"},
    {"lifecycle_state": "idle"},
]


def run(*args: str, env: dict[str, str]) -> None:
    subprocess.run([SCISHARE, *args], env=env, check=True, stdout=subprocess.DEVNULL)


def env_for(url: str) -> dict[str, str]:
    return {**os.environ, "SCISHARE_DATABASE_URL": url}


def build_catalog(url: str, scale: int) -> None:
    env = env_for(url)
    run("db", "upgrade", env=env)
    run("demo", "build", "--scale", str(scale), env=env)


def fresh_postgres(name: str) -> str:
    admin = make_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(
        hide_password=False)


def copy_parties(source_url: str, target_url: str) -> None:
    """Give the target database the source's regions and organisations, through services."""
    source = make_engine(source_url)
    with session_scope(source) as session:
        regions = [RegionCreate.model_validate(r, from_attributes=True)
                   for r in list_regions(session)]
        organisations = [OrganisationCreate.model_validate(o, from_attributes=True)
                         for o in list_organisations(session)]
    source.dispose()
    target = make_engine(target_url)
    upgrade(target_url)
    now = datetime.now(UTC)
    with session_scope(target) as session:
        sync_reference_data(session)
        # Provinces before their cities.
        for region in sorted(regions, key=lambda r: (r.parent_code is not None, r.code)):
            register_region(session, region)
        for organisation in organisations:
            register_organisation(session, organisation, now=now)
    target.dispose()


def time_import(target_url: str, csv_bytes: bytes) -> tuple[int, float]:
    engine = make_engine(target_url)
    started = time.perf_counter()
    with session_scope(engine) as session:
        report = import_catalog(session, csv_bytes, filename="catalog.csv", actor=SYSTEM,
                                now=datetime.now(UTC))
    elapsed = time.perf_counter() - started
    engine.dispose()
    return report.instruments, elapsed


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def time_requests(client: httpx.Client, path: str, params_list: list[dict[str, str]],
                  count: int) -> list[float]:
    timings = []
    for i in range(count):
        params = params_list[i % len(params_list)]
        started = time.perf_counter()
        response = client.get(path, params=params)
        timings.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return timings


def filter_latency(url: str) -> tuple[list[float], list[float], int]:
    port = free_port()
    server = subprocess.Popen(
        [SCISHARE, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env_for(url),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    client.get("/api/regions").raise_for_status()
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            total = client.get("/api/instruments").json()["total"]
            time_requests(client, "/api/instruments", FILTERS, len(FILTERS) * 2)  # warm up
            floor = time_requests(client, "/api/regions", [{}], FILTER_REQUESTS // 3)
            timings = time_requests(client, "/api/instruments", FILTERS, FILTER_REQUESTS)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return timings, floor, int(total)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-catalog-") as tmp:
        work = Path(tmp)
        source_url = f"sqlite:///{work / 'source.db'}"
        print(f"building a {IMPORT_ROWS:,}-instrument catalog to export…", flush=True)
        build_catalog(source_url, IMPORT_ROWS)
        csv_path = work / "catalog.csv"
        run("catalog", "export", str(csv_path), env=env_for(source_url))
        csv_bytes = csv_path.read_bytes()
        print(f"exported {csv_path.stat().st_size / 1e6:.1f} MB of CSV", flush=True)

        rates: dict[str, float] = {}
        for backend, target_url in (("sqlite", f"sqlite:///{work / 'target.db'}"),
                                    ("postgres", fresh_postgres("scishare_bench_catalog"))):
            copy_parties(source_url, target_url)
            stored, seconds = time_import(target_url, csv_bytes)
            rates[backend] = stored / seconds
            print(f"import into {backend}: {stored:,} rows in {seconds:.1f} s = "
                  f"{rates[backend]:,.0f} rows/s", flush=True)

        filter_url = f"sqlite:///{work / 'filter.db'}"
        print(f"building a {FILTER_INSTRUMENTS:,}-instrument catalog for the filter API…",
              flush=True)
        build_catalog(filter_url, FILTER_INSTRUMENTS)
        timings, floor, total = filter_latency(filter_url)
        p50, p95 = statistics.median(timings), percentile(timings, 0.95)
        print(f"filter API over {total:,} instruments, {len(timings)} requests, "
              f"{len(FILTERS)} filter kinds: p50 {p50:.1f} ms, p95 {p95:.1f} ms "
              f"(HTTP floor in the same run: GET /api/regions p50 "
              f"{statistics.median(floor):.1f} ms, p95 {percentile(floor, 0.95):.1f} ms)")
        slowest = sorted(zip(timings, [FILTERS[i % len(FILTERS)] for i in range(len(timings))],
                             strict=True), key=lambda pair: pair[0])[-3:]
        for ms, params in reversed(slowest):
            print(f"  slow: {ms:.1f} ms {params}")
    print(f"BENCH catalog sqlite_rows_per_s={rates['sqlite']:.0f} "
          f"postgres_rows_per_s={rates['postgres']:.0f} filter_p50_ms={p50:.1f} "
          f"filter_p95_ms={p95:.1f}")


if __name__ == "__main__":
    main()
