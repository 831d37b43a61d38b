"""Matching tables: stored embeddings, needs asked, demand subscriptions and notifications."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from scishare.core.database import Base, UTCDateTime


class TextVector(Base):
    """A sentence embedding, stored once per distinct text (float32 bytes, little-endian).

    Many instruments share a model name and description, so the index embeds each distinct text
    once and later builds read the vectors back instead of running the model again.
    """

    __tablename__ = "matching_text_vector"

    model: Mapped[str] = mapped_column(String(64), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class NeedRecord(Base):
    """A need someone asked, with how well the platform could answer it (unmet-demand monitor)."""

    __tablename__ = "matching_need"
    __table_args__ = (Index("ix_matching_need_unmet_asked", "is_unmet", "asked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(2))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    organisation_type: Mapped[str | None] = mapped_column(String(16))
    # The region the need is about: the one asked for, else the asker's organisation's.
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)
    technique_code: Mapped[str | None] = mapped_column(ForeignKey("technique.code"))
    industry_code: Mapped[str | None] = mapped_column(ForeignKey("kg_industry.code"))
    best_score: Mapped[float] = mapped_column(Float)
    offer_count: Mapped[int] = mapped_column(Integer)
    is_unmet: Mapped[bool] = mapped_column(Boolean)
    chosen_instrument_id: Mapped[int | None] = mapped_column(
        ForeignKey("instrument.id", ondelete="SET NULL"))
    chosen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DemandSubscription(Base):
    """A saved need (需求订阅): new matching capacity is pushed to its owner."""

    __tablename__ = "demand_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"),
                                            index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    need: Mapped[str] = mapped_column(Text)
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))
    budget_fen: Mapped[int | None] = mapped_column(BigInteger)
    user_category: Mapped[str] = mapped_column(String(12))
    require_cma: Mapped[bool] = mapped_column(Boolean, default=False)
    require_cnas: Mapped[bool] = mapped_column(Boolean, default=False)
    threshold: Mapped[float] = mapped_column(Float)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Catalog changes up to this moment have been matched against the subscription.
    checked_until: Mapped[datetime] = mapped_column(UTCDateTime())


class DemandNotification(Base):
    """An offer that newly matches a subscription; one per subscription and instrument."""

    __tablename__ = "demand_notification"
    __table_args__ = (UniqueConstraint("subscription_id", "instrument_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("demand_subscription.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"),
                                            index=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.id", ondelete="CASCADE"))
    service_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_item.id", ondelete="SET NULL"))
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(32))
    explanation: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class NotificationEmail(Base):
    """The e-mail outbox: a worker sends pending rows when SMTP is configured."""

    __tablename__ = "notification_email"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("demand_notification.id", ondelete="SET NULL"), unique=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(400), default="")
