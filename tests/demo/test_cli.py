"""`scishare demo build` as `make demo` runs it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scishare.cli import app
from scishare.core.database import get_engine
from scishare.core.migrations import upgrade
from scishare.core.settings import get_settings

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh SQLite database at head, made the CLI's database for this test."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    monkeypatch.setenv("SCISHARE_DATABASE_URL", url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield url
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


class TestDemoBuild:
    def test_builds_then_leaves_a_built_demo_alone(self, database: str) -> None:
        first = runner.invoke(app, ["demo", "build", "--scale", "300"])
        again = runner.invoke(app, ["demo", "build", "--scale", "300"])
        stats = runner.invoke(app, ["catalog", "stats", "--json"])

        assert first.exit_code == 0, first.output
        assert "demo built" in first.output
        assert "scishare-demo" in first.output
        assert again.exit_code == 0, again.output
        assert "already holds the demo" in again.output
        assert json.loads(stats.output)["instruments"] == 300

    def test_rejects_a_scale_below_one(self, database: str) -> None:
        result = runner.invoke(app, ["demo", "build", "--scale", "0"])
        assert result.exit_code != 0
