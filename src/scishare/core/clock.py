"""Time: aware UTC in storage, Asia/Shanghai for people."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

DISPLAY_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_display(moment: datetime) -> datetime:
    return moment.astimezone(DISPLAY_TZ)
