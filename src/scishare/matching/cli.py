"""`scishare match …` and `scishare eval matching …`."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from scishare.core.cli import cli_session, fail
from scishare.core.errors import SciShareError
from scishare.core.money import Money
from scishare.matching.evaluation import evaluate, read_cases
from scishare.matching.schemas import MatchRequest, RegionMode, UserCategory
from scishare.matching.service import build_engine, match
from scishare.matching.tuning import fit

eval_app = typer.Typer(help="Quality measurements.", no_args_is_help=True)


def match_command(
        need: str = typer.Argument(..., help="The need in plain Chinese or English."),
        region: str | None = typer.Option(None, help="Region code (e.g. 410100)."),
        nearest: bool = typer.Option(False, help="Nearest first instead of only inside the "
                                                 "region."),
        top: int = typer.Option(10, help="How many offers."),
        budget: str | None = typer.Option(None, help="Most you pay per unit, in yuan."),
        category: UserCategory = typer.Option(UserCategory.ENTERPRISE,
                                              help="Whose price applies."),
        cma: bool = typer.Option(False, help="Only CMA-accredited instruments."),
        cnas: bool = typer.Option(False, help="Only CNAS-accredited instruments."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Ranked, explained offers for a need."""
    try:
        budget_fen = Money.parse(budget, record="need", field="budget_fen").fen \
            if budget is not None else None
    except SciShareError as error:
        fail([str(error)])
        return
    request = MatchRequest(need=need, region_code=region, top=top, budget_fen=budget_fen,
                           region_mode=RegionMode.NEAREST if nearest else RegionMode.WITHIN,
                           user_category=category, require_cma=cma, require_cnas=cnas)
    with cli_session() as session:
        result = match(session, request)
    if as_json:
        typer.echo(json.dumps(result.model_dump(exclude={"need_id", "lang"}),
                              ensure_ascii=False))
        return
    typer.echo(f"{len(result.offers)} offers in {result.took_ms} ms")
    for offer in result.offers:
        price = (f"¥{Money(offer.service.price_fen)}/{offer.service.unit}" if offer.service
                 else "no price")
        typer.echo(f"{offer.rank:>2}. {offer.score:.2f}  {offer.instrument.id}  "
                   f"{offer.instrument.name_zh}  {offer.instrument.model}  "
                   f"[{', '.join(offer.techniques)}]  {price}  {offer.instrument.organisation}")
        for line in offer.explanation:
            typer.echo(f"      {line}")
        if offer.matched:
            typer.echo(f"      matched: {', '.join(offer.matched)}")


@eval_app.command("matching")
def eval_matching(
        file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                    help="Labelled needs, one JSON object per line."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        refit: bool = typer.Option(False, "--fit", help="Fit the ranking weights on FILE and "
                                                        "print them (with cross-validation)."),
) -> None:
    """nDCG@10, hit@1, hit@5, MRR and latency of the matcher and of plain BM25."""
    with cli_session() as session:
        cases = read_cases(file)
        started = time.perf_counter()
        engine = build_engine(session)
        build_s = time.perf_counter() - started
        if refit:
            weights, fitted = fit(engine, cases)
            typer.echo(json.dumps(fitted))
            typer.echo(repr(weights))
            return
        report = evaluate(session, cases, engine=engine)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
        return
    typer.echo(f"{report['n']} needs over {report['catalog']} (index built in {build_s:.1f} s)")
    by_lang = report["by_lang"]
    assert isinstance(by_lang, dict)
    header = f"{'':<22}{'nDCG@10':>8}{'hit@1':>7}{'hit@5':>7}{'MRR':>7}{'mean ms':>9}{'p95 ms':>8}"
    typer.echo(header)
    rows = [("all", "system", report["system"]), ("all", "baseline_bm25",
                                                  report["baseline_bm25"])]
    for lang, figures in by_lang.items():
        rows += [(lang, "system", figures["system"]),
                 (lang, "baseline_bm25", figures["baseline_bm25"])]
    for lang, name, figures in rows:
        assert isinstance(figures, dict)
        typer.echo(f"{lang + ' ' + name:<22}{figures['ndcg@10']:>8.3f}{figures['hit@1']:>7.2f}"
                   f"{figures['hit@5']:>7.2f}{figures['mrr']:>7.3f}{figures['mean_ms']:>9.1f}"
                   f"{figures['p95_ms']:>8.1f}")


matching_app = typer.Typer(help="The matching index, demand subscriptions and notifications.",
                           no_args_is_help=True)


@matching_app.command()
def index() -> None:
    """Build the matching index now, storing the vectors of every text not seen before.

    The server would otherwise embed them on the first need asked, which on a new database
    keeps that first person waiting for a minute or two.
    """
    with cli_session() as session:
        engine = build_engine(session)
    seconds = engine.build_seconds
    typer.echo(f"matching index built: knowledge {seconds['knowledge']:.1f} s, "
               f"catalog {seconds['catalog']:.1f} s")


@matching_app.command()
def worker(once: bool = typer.Option(False, help="One round, then exit."),
           interval: float = typer.Option(30.0, help="Seconds between rounds.")) -> None:
    """Match catalog changes against demand subscriptions and send queued e-mail."""
    from scishare.core.clock import utcnow
    from scishare.matching.outbox import send_pending, smtp_sender
    from scishare.matching.subscriptions import check_subscriptions

    send = smtp_sender()
    if send is None:
        typer.echo("SMTP not configured (SCISHARE_SMTP_HOST, SCISHARE_SMTP_SENDER): e-mail "
                   "stays in the outbox")
    while True:
        with cli_session() as session:
            notified = check_subscriptions(session, now=utcnow())
            mailed = send_pending(session, send=send, now=utcnow())
        typer.echo(f"{len(notified)} notifications, {mailed} e-mails sent")
        if once:
            return
        time.sleep(interval)
