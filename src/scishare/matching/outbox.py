"""The e-mail outbox: notifications are queued in a table and a worker sends them.

Nothing is sent unless SMTP is configured (`SCISHARE_SMTP_HOST` and `SCISHARE_SMTP_SENDER`);
until then mail waits in the outbox and the in-app list still shows every notification. A
failed send is retried on later rounds, up to `MAX_ATTEMPTS`, with the last error kept.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from scishare.matching.models import NotificationEmail

MAX_ATTEMPTS = 5
Send = Callable[[EmailMessage], None]


class SmtpSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SCISHARE_SMTP_", extra="ignore")

    host: str | None = None
    port: int = 25
    username: str | None = None
    password: str | None = None
    sender: str | None = None
    starttls: bool = False
    timeout_s: float = 10.0


def smtp_sender(settings: SmtpSettings | None = None) -> Send | None:
    """A function that sends one message through the configured server, or None if SMTP is
    not configured."""
    settings = settings or SmtpSettings()
    if not settings.host or not settings.sender:
        return None
    host, sender = settings.host, settings.sender

    def send(message: EmailMessage) -> None:
        message["From"] = sender
        with smtplib.SMTP(host, settings.port, timeout=settings.timeout_s) as server:
            if settings.starttls:
                server.starttls()
            if settings.username and settings.password:
                server.login(settings.username, settings.password)
            server.send_message(message)

    return send


def pending(session: Session, *, limit: int = 100) -> list[NotificationEmail]:
    return list(session.scalars(select(NotificationEmail).where(
        NotificationEmail.sent_at.is_(None), NotificationEmail.attempts < MAX_ATTEMPTS)
        .order_by(NotificationEmail.id).limit(limit)))


def send_pending(session: Session, *, send: Send | None, now: datetime,
                 limit: int = 100) -> int:
    """Send queued e-mail; returns how many went out. With no sender nothing changes."""
    if send is None:
        return 0
    sent = 0
    for row in pending(session, limit=limit):
        message = EmailMessage()
        message["To"] = row.to_address
        message["Subject"] = row.subject
        message.set_content(row.body)
        row.attempts += 1
        try:
            send(message)
        except (OSError, smtplib.SMTPException) as error:
            row.last_error = f"{type(error).__name__}: {error}"[:400]
            continue
        row.sent_at = now
        row.last_error = ""
        sent += 1
    session.flush()
    return sent
