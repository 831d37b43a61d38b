"""`scishare billing statement ORG --from --to --out` writes XLSX or PDF."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from scishare.billing import ledger
from scishare.billing.models import JournalKind
from scishare.cli import app
from scishare.core.database import get_engine, session_scope
from scishare.core.migrations import upgrade
from scishare.core.settings import get_settings
from tests.accounts.factories import an_organisation

runner = CliRunner()


@pytest.fixture
def org_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh SQLite database at head, made the CLI's, with one organisation that paid the
    platform 12.34 yuan on 2 December 2026."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    monkeypatch.setenv("SCISHARE_DATABASE_URL", url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    with session_scope() as session:
        organisation = an_organisation(session, name_zh="郑州测试科技有限公司")
        ledger.post(session, ledger.Entry(
            key="cli-test:1", kind=JournalKind.SETTLEMENT, memo="test",
            lines=((ledger.customer(organisation.id), 1_234),
                   (ledger.platform(), -1_234))),
            actor_id=None, now=datetime(2026, 12, 2, 3, 0, tzinfo=UTC))
        code = organisation.code
    yield code
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


class TestStatementCommand:
    def test_writes_xlsx(self, org_code: str, tmp_path: Path) -> None:
        out = tmp_path / "s.xlsx"
        result = runner.invoke(app, ["billing", "statement", org_code, "--from", "2026-12-01",
                                     "--to", "2027-01-01", "--out", str(out)])

        assert result.exit_code == 0, result.output
        assert "1 lines" in result.output
        rows = list(load_workbook(io.BytesIO(out.read_bytes())).active  # type: ignore[union-attr]
                    .iter_rows(values_only=True))
        assert "郑州测试科技有限公司" in str(rows[0][0])
        assert rows[-1][7] == "12.34"

    def test_writes_pdf(self, org_code: str, tmp_path: Path) -> None:
        out = tmp_path / "s.pdf"
        result = runner.invoke(app, ["billing", "statement", org_code, "--from", "2026-12-01",
                                     "--to", "2027-01-01", "--out", str(out)])

        assert result.exit_code == 0, result.output
        assert out.read_bytes().startswith(b"%PDF-")

    @pytest.mark.parametrize(("args", "words"), [
        (["NOPE", "--from", "2026-12-01", "--to", "2027-01-01"], "no organisation"),
        ([None, "--from", "2026-12-31", "--to", "2026-12-01"], "end after it starts"),
        ([None, "--from", "1 Dec", "--to", "2026-12-01"], "not a date"),
    ])
    def test_refuses_bad_input_with_status_2(self, org_code: str, tmp_path: Path,
                                             args: list[str | None], words: str) -> None:
        out = tmp_path / "s.xlsx"
        argv = [org_code if arg is None else arg for arg in args]
        result = runner.invoke(app, ["billing", "statement", *argv, "--out", str(out)])

        assert result.exit_code == 2
        assert words in result.output
        assert not out.exists()

    def test_refuses_other_file_types(self, org_code: str, tmp_path: Path) -> None:
        result = runner.invoke(app, ["billing", "statement", org_code, "--from", "2026-12-01",
                                     "--to", "2027-01-01", "--out", str(tmp_path / "s.csv")])

        assert result.exit_code == 2
        assert "use .xlsx or .pdf" in result.output
