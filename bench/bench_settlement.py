"""Settlement at scale on PostgreSQL: 1,000,000 completed sample-testing orders settled through
`billing.settlement.settle_batch`, in batches, with every guarantee in force (programme and
quota rows locked FOR UPDATE before counting, unique settlement and journal keys, the
service's balance check, the commit-time check and PostgreSQL's deferred balance trigger).

Set-up through the services: two regions (Zhengzhou, Shanghai), 20 providers with 100
instruments, 3,000 enterprises with one account each, four voucher programmes (two per
region, each taking the other region's providers) and approved quotas for a third of the
enterprises.

Seeding the orders (bench-only path, documented): one million orders driven one by one
through `order_test` … `complete_order` would take hours, so the completed orders are written
with COPY straight into `sample_order` — the same row the booking service leaves behind
(status completed, its price category and the estimate `booking.pricing.estimate` gives, the
times of each step) — without the `order_event` history rows, which settlement never reads.
A fifth of the orders go to the other region's providers, so clearing has work.

Settlement never relies on fresh planner statistics: the ledger tables are analyzed once,
while still empty, and grow by a million rows before autovacuum (off on the development
server) would look at them, so the per-batch queries bound themselves by id ranges and keep
O(batch) plans whatever the statistics say. Every 100,000 orders the rate of the last stretch
is printed beside the overall one, so that a rate falling as the tables grow shows at once.

Prints orders/s, time and the trial balance (must be 0). Last line:
`BENCH settlement orders=… seconds=… orders_per_s=… trial_balance_fen=…`.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

import scishare.accounts.service as accounts_service
from scishare.accounts.models import OrganisationType, Role
from scishare.accounts.schemas import AccountCreate, OrganisationCreate
from scishare.accounts.service import (
    SYSTEM,
    actor_for,
    get_account,
    register_account,
    register_organisation,
)
from scishare.billing import ledger
from scishare.billing.clearing import reconcile, run_clearing
from scishare.billing.models import SourceKind
from scishare.billing.settlement import settle_batch
from scishare.billing.vouchers import apply_for_quota, approve_quota, define_programme
from scishare.booking.models import OrderStatus, PriceCategory
from scishare.booking.pricing import estimate
from scishare.catalog.models import ServiceUnit
from scishare.catalog.schemas import InstrumentCreate, ServiceItemCreate
from scishare.catalog.service import register_instrument, sync_reference_data
from scishare.core.database import make_engine
from scishare.core.migrations import upgrade
from scishare.regions.schemas import RegionCreate
from scishare.regions.service import register_region

ADMIN_URL = os.environ.get("SCISHARE_BENCH_ADMIN_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DATABASE = "scishare_bench_settlement"
WHEN = datetime(2026, 11, 1, tzinfo=UTC)
REGIONS = ("410100", "310100")


def fresh_database() -> str:
    admin = make_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    return sa.make_url(ADMIN_URL).set(database=DATABASE).render_as_string(hide_password=False)


def set_up(session: Session, *, enterprises: int,
           budget_fen: int = 20_000_000_000) -> dict[str, Any]:
    """Regions, providers, instruments, enterprises, programmes and quotas, via the services."""
    # The benchmark creates thousands of accounts and never signs in: cheapest Argon2.
    accounts_service._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    sync_reference_data(session)
    for code, parent, name in (("410000", None, "河南省"), ("410100", "410000", "郑州市"),
                               ("310000", None, "上海市"), ("310100", "310000", "上海市辖区")):
        register_region(session, RegionCreate(code=code, name_zh=name, name_en=name,
                                              parent_code=parent, latitude=31.0,
                                              longitude=120.0))
    rng = random.Random(6)
    items: dict[str, list[tuple[int, int, int]]] = {region: [] for region in REGIONS}
    for p in range(20):
        region = REGIONS[p % 2]
        provider = register_organisation(session, OrganisationCreate(
            code=f"PRV{p:03d}", name_zh=f"共享单位{p}", name_en=f"Provider {p}",
            org_type=OrganisationType.UNIVERSITY, region_code=region), now=WHEN)
        for i in range(5):
            price = rng.choice([15_000, 30_000, 48_000, 80_000])
            instrument = register_instrument(session, InstrumentCreate.model_validate({
                "exchange_id": f"BS-{p:03d}{i:02d}", "organisation_id": provider.id,
                "name_zh": "X射线衍射仪", "name_en": "XRD", "model": "D8", "manufacturer": "Bruker",
                "class_code": "0103", "technique_codes": ["XRD"],
                "original_value_fen": 150_000_000, "region_code": region,
                "service_items": [ServiceItemCreate(
                    name_zh="送样测试", name_en="Sample test", unit=ServiceUnit.SAMPLE,
                    price_internal_fen=price // 3, price_nonprofit_fen=price // 2,
                    price_enterprise_fen=price)]}), actor=SYSTEM, now=WHEN)
            item = instrument.service_items[0]
            items[region].append((instrument.id, item.id, item.price_enterprise_fen))
    officers = {}
    for region in REGIONS:
        account = register_account(session, AccountCreate(
            email=f"officer{region}@bench.cn", display_name="officer", password="x" * 12,
            organisation_id=session.scalar(sa.text(
                "SELECT id FROM organisation WHERE region_code = :r LIMIT 1"), {"r": region})),
            now=WHEN, roles=(Role.BUREAU_OFFICER,), region_code=region)
        officers[region] = actor_for(get_account(session, account.id))
    programmes = {region: [define_programme(
        session, code=f"P{region}-{n}", region_code=region, name_zh=f"创新券{n}",
        name_en=f"Vouchers {n}", budget_fen=budget_fen, ratio_bps=[5_000, 3_000][n],
        per_order_cap_fen=2_000_000, per_enterprise_year_cap_fen=50_000_000,
        valid_from=date(2026, 1, 1), valid_until=date(2027, 12, 31),
        partner_regions=[r for r in REGIONS if r != region], actor=officers[region], now=WHEN)
        for n in range(2)] for region in REGIONS}
    customers: list[tuple[int, str]] = []
    for e in range(enterprises):
        region = REGIONS[e % 2]
        enterprise = register_organisation(session, OrganisationCreate(
            code=f"ENT{e:05d}", name_zh=f"企业{e}", name_en=f"Enterprise {e}",
            org_type=OrganisationType.ENTERPRISE, region_code=region), now=WHEN)
        account = register_account(session, AccountCreate(
            email=f"user{e}@bench.cn", display_name=f"用户{e}", password="x" * 12,
            organisation_id=enterprise.id), now=WHEN, roles=(Role.DEMANDER,))
        customers.append((account.id, region))
        if e % 3 == 0:
            actor = actor_for(get_account(session, account.id))
            programme = programmes[region][(e // 2) % 2]
            quota = apply_for_quota(session, programme=programme, year=2026,
                                    requested_fen=50_000_000, is_sme=True, actor=actor, now=WHEN)
            approve_quota(session, quota, approved_fen=50_000_000, actor=officers[region],
                          now=WHEN)
    return {"items": items, "customers": customers, "officers": officers}


def seed_orders(engine: sa.Engine, world: dict[str, Any], *, orders: int) -> None:
    """Bench-only: COPY completed orders into `sample_order` (see the module docstring)."""
    rng = random.Random(7)
    items: dict[str, list[tuple[int, int, int]]] = world["items"]
    customers: list[tuple[int, str]] = world["customers"]
    columns = ("instrument_id", "service_item_id", "requester_id", "sample_count",
               "sample_description", "requested_tests", "status", "idempotency_key",
               "price_category", "price_estimate_fen", "submitted_at", "accepted_at",
               "samples_received_at", "testing_started_at", "report_issued_at", "closed_at",
               "response_seconds", "turnaround_seconds", "reason")
    start = datetime(2026, 11, 2, 1, tzinfo=UTC)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY sample_order ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for n in range(orders):
                account_id, region = customers[rng.randrange(len(customers))]
                other = REGIONS[1] if region == REGIONS[0] else REGIONS[0]
                instrument_id, item_id, price = rng.choice(
                    items[other if rng.random() < 0.2 else region])
                samples = rng.randint(1, 6)
                # The estimate the booking service computes for this item and category.
                fen = price * samples
                submitted = start + timedelta(seconds=n % 2_000_000)
                closed = submitted + timedelta(days=3)
                copy.write_row((instrument_id, item_id, account_id, samples, "样品", "XRD 物相",
                                OrderStatus.COMPLETED.value, f"bench-{n}",
                                PriceCategory.ENTERPRISE.value, fen, submitted,
                                submitted + timedelta(hours=2), submitted + timedelta(days=1),
                                submitted + timedelta(days=1), closed - timedelta(hours=1),
                                closed, 7200, 2 * 86400 - 3600, ""))
        raw.commit()
    finally:
        raw.close()
    # Kept honest: the estimate written equals booking's own for a sample (price × samples).
    assert estimate(_item(price=80_000), PriceCategory.ENTERPRISE, samples=3).total_fen == 240_000


def _item(*, price: int) -> Any:
    from scishare.catalog.models import ServiceItem

    return ServiceItem(id=0, unit=ServiceUnit.SAMPLE, price_internal_fen=price,
                       price_nonprofit_fen=price, price_enterprise_fen=price)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--enterprises", type=int, default=3_000)
    args = parser.parse_args()

    url = fresh_database()
    upgrade(url)
    engine = make_engine(url)
    t0 = time.perf_counter()
    with Session(engine) as session:
        world = set_up(session, enterprises=args.enterprises)
        session.commit()
    seed_orders(engine, world, orders=args.orders)
    with engine.begin() as connection:
        connection.execute(sa.text("ANALYZE"))
    print(f"set-up and seeding: {time.perf_counter() - t0:.1f} s "
          f"({args.orders} completed orders)", flush=True)

    now = datetime(2026, 12, 1, 2, tzinfo=UTC)
    cursor: dict[SourceKind, int] = {}
    settled = 0
    started = lap = time.perf_counter()
    while True:
        with Session(engine, expire_on_commit=False) as session:
            run = settle_batch(session, actor=SYSTEM, now=now, limit=args.batch,
                               platform_fee_bps=100, cursor=cursor)
            session.commit()
        if not run.settled:
            break
        cursor = run.cursor
        settled += run.settled
        if settled % (args.batch * 20) == 0:
            # The rate of the last stretch as well as the overall one: a rate that falls as
            # the ledger grows shows in the first long before it shows in the second.
            clock = time.perf_counter()
            print(f"  {settled} settled, {settled / (clock - started):.0f} orders/s overall, "
                  f"{args.batch * 20 / (clock - lap):.0f} orders/s over the last "
                  f"{args.batch * 20}", flush=True)
            lap = clock
    seconds = time.perf_counter() - started

    with Session(engine) as session:
        trial = ledger.trial_balance(session)
        unbalanced = len(ledger.unbalanced_journals(session))
        vouchers, cross = session.execute(sa.text(
            "SELECT count(*) FILTER (WHERE voucher_fen > 0), "
            "(SELECT count(*) FROM cross_region_item) FROM settlement")).one()
        statements = [s for region in REGIONS for s in run_clearing(
            session, fund_region_code=region, period_start=date(2026, 11, 1),
            period_end=date(2027, 1, 1), actor=world["officers"][region], now=now)]
        agree = all(reconcile(session, s).agrees for s in statements)
        session.commit()
        trial_after = ledger.trial_balance(session)
    engine.dispose()
    rate = settled / seconds if seconds else 0.0
    print(f"settled {settled} orders in {seconds:.1f} s: {rate:.0f} orders/s; "
          f"{vouchers} with vouchers, {cross} across regions; unbalanced journals {unbalanced}; "
          f"clearing statements {len(statements)} reconcile={agree}; "
          f"trial balance after clearing {trial_after}")
    print(f"BENCH settlement orders={settled} seconds={seconds:.1f} orders_per_s={rate:.0f} "
          f"trial_balance_fen={trial}")


if __name__ == "__main__":
    main()
