"""Runtime settings, read once from the environment (prefix ``SCISHARE_``)."""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path(".scishare")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SCISHARE_", extra="ignore")

    database_url: str = f"sqlite:///{DEFAULT_DATA_DIR / 'scishare.db'}"
    data_dir: Path = DEFAULT_DATA_DIR
    # Lifetime of a browser sign-in; API tokens carry their own expiry.
    session_days: int = 14
    cookie_secure: bool = False
    # Sample-testing reports (PDF) are stored here under their SHA-256, at most this large.
    reports_dir: Path = DEFAULT_DATA_DIR / "reports"
    report_max_bytes: int = 20 * 1024 * 1024


@lru_cache
def get_settings() -> Settings:
    return Settings()
