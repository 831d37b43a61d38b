"""Matching at scale: index build time and memory, per-need latency of the matcher (split into
query embedding, retrieval and ranking) and of plain BM25, over a demo catalog of N instruments.

    python bench/bench_matching.py [--scale 100000] [--db sqlite:///path.db] [--keep]

Builds the demo region at `--scale` into a fresh SQLite database (or reuses `--db` if it
already holds one), imports the knowledge seed, builds the matching index from scratch in this
process (stored vectors are read back; texts never embedded before are embedded), then runs
every need of the development set once to warm up and once measured. The last line is

    BENCH matching instruments=… queries=… p50_ms=… p95_ms=… baseline_p95_ms=… build_s=… rss_mb=…
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from scishare.accounts.service import SYSTEM
from scishare.catalog.service import sync_reference_data
from scishare.core.clock import utcnow
from scishare.core.database import make_engine, session_scope
from scishare.core.migrations import upgrade
from scishare.core.reference import data_path
from scishare.demo.builder import build_demo, demo_present
from scishare.knowledge.service import import_seed
from scishare.matching.evaluation import bm25_baseline, read_cases
from scishare.matching.ranking import Constraints, eligible
from scishare.matching.schemas import MatchRequest
from scishare.matching.service import build_engine, match


def rss_mb() -> float:
    """Current resident memory of this process."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepare(url: str, scale: int) -> float:
    """Migrate, load reference data and the seed, build the demo; returns seconds taken."""
    started = time.perf_counter()
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        sync_reference_data(session)
        import_seed(session, actor=SYSTEM, now=utcnow())
        if not demo_present(session):
            print(f"building the demo region at scale {scale:,} …", flush=True)
            build_demo(session, scale=scale)
    engine.dispose()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100_000)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--cases", type=Path, default=data_path("eval", "matching_dev.jsonl"))
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="bench-matching-")
    url = args.db or f"sqlite:///{workdir}/bench.db"
    print(f"database {url}", flush=True)
    demo_s = prepare(url, args.scale)
    print(f"demo and seed ready in {demo_s:.1f} s", flush=True)

    engine = make_engine(url)
    cases = read_cases(args.cases)
    rss_before = rss_mb()
    with session_scope(engine) as session:
        started = time.perf_counter()
        matcher = build_engine(session)
        build_s = time.perf_counter() - started
    rss_after = rss_mb()
    catalog = matcher.catalog
    print(f"index: {len(catalog):,} offerable instruments, {catalog.document_count:,} distinct "
          f"lexical documents, {catalog.vectors.shape[0]:,} distinct embedded texts; "
          f"built in {build_s:.1f} s (knowledge {matcher.build_seconds['knowledge']:.1f} s, "
          f"catalog {matcher.build_seconds['catalog']:.1f} s); "
          f"RSS {rss_before:.0f} -> {rss_after:.0f} MB", flush=True)

    mask = eligible(catalog, Constraints())
    timings: dict[str, list[float]] = {"total": [], "embed": [], "retrieve": [], "rank": [],
                                       "baseline": []}
    with session_scope(engine) as session:
        for case in cases:  # warm-up: caches, branch predictors, the model's first calls
            match(session, MatchRequest(need=case.query), engine=matcher)
        for case in cases:
            result = match(session, MatchRequest(need=case.query), engine=matcher)
            timings["total"].append(result.took_ms)
            for part in ("embed", "retrieve", "rank"):
                timings[part].append(result.timings_ms[part])
            _, baseline_ms = bm25_baseline(catalog, case.query, mask)
            timings["baseline"].append(baseline_ms)

    def p(name: str, q: float) -> float:
        return round(float(np.percentile(timings[name], q)), 1)

    for name in ("embed", "retrieve", "rank", "total", "baseline"):
        print(f"{name:<9} p50 {p(name, 50):7.1f} ms   p95 {p(name, 95):7.1f} ms   "
              f"mean {float(np.mean(timings[name])):7.1f} ms")
    print(json.dumps({"load_average": [round(x, 2) for x in _load()],
                      "peak_rss_mb": round(peak_rss_mb(), 1)}))
    print(f"BENCH matching instruments={len(catalog)} queries={len(cases)} "
          f"p50_ms={p('total', 50)} p95_ms={p('total', 95)} "
          f"baseline_p95_ms={p('baseline', 95)} build_s={build_s:.1f} "
          f"rss_mb={rss_after:.0f} embed_p95_ms={p('embed', 95)} "
          f"retrieve_p95_ms={p('retrieve', 95)} rank_p95_ms={p('rank', 95)} "
          f"baseline_p50_ms={p('baseline', 50)}")
    engine.dispose()


def _load() -> tuple[float, float, float]:
    try:
        parts = Path("/proc/loadavg").read_text().split()
        return float(parts[0]), float(parts[1]), float(parts[2])
    except OSError:
        return (0.0, 0.0, 0.0)


if __name__ == "__main__":
    main()
