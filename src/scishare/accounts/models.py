from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scishare.core.database import Base, UTCDateTime


class OrganisationType(StrEnum):
    UNIVERSITY = "university"
    """高校 — a university or college."""
    INSTITUTE = "institute"
    """科研院所 — a research institute."""
    ENTERPRISE = "enterprise"
    """企业 — a company."""
    TESTING_BODY = "testing_body"
    """检验检测机构 — an accredited testing body."""
    HOSPITAL = "hospital"
    """医院 — a hospital."""
    OTHER = "other"
    """其他 — anything else."""


class Role(StrEnum):
    PLATFORM_ADMIN = "platform_admin"
    """平台管理员 — runs the platform; may do everything."""
    BUREAU_OFFICER = "bureau_officer"
    """科技局人员 — a science bureau officer, scoped to one region."""
    PROVIDER_ADMIN = "provider_admin"
    """共享单位管理员 — manages its organisation's instruments."""
    OPERATOR = "operator"
    """机组人员 — runs its organisation's instruments."""
    DEMANDER = "demander"
    """需求方 — finds, books and orders services."""


class TokenKind(StrEnum):
    SESSION = "session"
    """A browser sign-in, carried in a cookie."""
    API = "api"
    """A bearer token for scripts and integrations."""


class Organisation(Base):
    """A unit that owns instruments or uses them (单位)."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(128), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    org_type: Mapped[OrganisationType] = mapped_column(String(16))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    # 统一社会信用代码: 18 characters, known for most but not all units.
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    cma_number: Mapped[str | None] = mapped_column(String(32))
    cnas_number: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Account(Base):
    """A person who signs in; belongs to one organisation."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation] = relationship(lazy="raise")
    role_grants: Mapped[list["RoleGrant"]] = relationship(
        lazy="raise", cascade="all, delete-orphan", back_populates="account")


class RoleGrant(Base):
    """A role held by an account; bureau officers hold theirs for one region."""

    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("account_id", "role", "region_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(String(20))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())

    account: Mapped[Account] = relationship(lazy="raise", back_populates="role_grants")


class AccessToken(Base):
    """A sign-in session or an API token; only the SHA-256 of the secret is stored."""

    __tablename__ = "access_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True)
    kind: Mapped[TokenKind] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
