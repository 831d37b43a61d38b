"""Who may do what, as one table.

Each role maps each action to the scope in which it holds. A platform admin acts anywhere; a
bureau officer acts within the region granted; provider admins and operators act on their own
organisation's records; demanders act for themselves only. Adding an action means adding one
column here and one row per role to the authorisation test.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from scishare.accounts.models import Role


class Action(StrEnum):
    VIEW_CATALOG = "view_catalog"
    """Browse instruments and organisations (public)."""
    REGISTER_INSTRUMENT = "register_instrument"
    """Add an instrument to an organisation."""
    EDIT_INSTRUMENT = "edit_instrument"
    """Change an instrument's fields and service items."""
    CHANGE_LIFECYCLE = "change_lifecycle"
    """Move an instrument between in service, maintenance, idle, transfer, retired."""
    IMPORT_CATALOG = "import_catalog"
    """Import a CSV/XLSX catalog file for an organisation."""
    EDIT_ORGANISATION = "edit_organisation"
    """Change an organisation's profile and accreditation."""
    MANAGE_ACCOUNTS = "manage_accounts"
    """Create accounts and grant roles in an organisation."""
    VIEW_REGION_REPORTS = "view_region_reports"
    """See a region's sharing figures and unmet demand."""
    EDIT_KNOWLEDGE = "edit_knowledge"
    """Import the knowledge seed; add aliases and links to the graph."""
    SUBSCRIBE_DEMAND = "subscribe_demand"
    """Save a need as a demand subscription and read its notifications."""
    BOOK_INSTRUMENT = "book_instrument"
    """Reserve machine time or order a sample test on an instrument."""
    RUN_BOOKING_QUEUE = "run_booking_queue"
    """Approve, move and cancel reservations, move orders, upload reports, qualify users."""
    SET_AVAILABILITY = "set_availability"
    """Set an instrument's booking rules, opening hours, holidays and blackouts."""
    DEFINE_PROGRAMME = "define_programme"
    """Define an innovation voucher programme of a region."""
    APPLY_FOR_QUOTA = "apply_for_quota"
    """Apply for an enterprise's voucher quota in a programme."""
    APPROVE_QUOTA = "approve_quota"
    """Approve or reject quota applications; reimburse pay-then-reimburse vouchers."""
    SETTLE_ORDER = "settle_order"
    """Settle completed orders of a provider; refund and correct their settlements."""
    VIEW_STATEMENTS = "view_statements"
    """Read an organisation's ledger statements and voucher history."""
    RUN_CLEARING = "run_clearing"
    """Run cross-region voucher clearing for a region's fund."""
    MANAGE_INSURANCE = "manage_insurance"
    """Require shared-use cover on a provider's instruments; file damage claims."""
    ASSESS_CLAIM = "assess_claim"
    """Assess a damage claim and pay it out."""


class Scope(StrEnum):
    ANYWHERE = "anywhere"
    OWN_REGION = "own_region"
    OWN_ORGANISATION = "own_organisation"
    NOWHERE = "nowhere"


A, R, OWN, N = Scope.ANYWHERE, Scope.OWN_REGION, Scope.OWN_ORGANISATION, Scope.NOWHERE

POLICY: dict[Role, dict[Action, Scope]] = {
    Role.PLATFORM_ADMIN: dict.fromkeys(Action, A),
    Role.BUREAU_OFFICER: {
        Action.DEFINE_PROGRAMME: R, Action.APPLY_FOR_QUOTA: N, Action.APPROVE_QUOTA: R,
        Action.SETTLE_ORDER: N, Action.VIEW_STATEMENTS: R, Action.RUN_CLEARING: R,
        Action.MANAGE_INSURANCE: N, Action.ASSESS_CLAIM: N,
        Action.VIEW_CATALOG: A, Action.REGISTER_INSTRUMENT: N, Action.EDIT_INSTRUMENT: N,
        Action.CHANGE_LIFECYCLE: N, Action.IMPORT_CATALOG: N, Action.EDIT_ORGANISATION: N,
        Action.MANAGE_ACCOUNTS: N, Action.VIEW_REGION_REPORTS: R,
        Action.BOOK_INSTRUMENT: N, Action.RUN_BOOKING_QUEUE: N,
        Action.SET_AVAILABILITY: N,
        Action.EDIT_KNOWLEDGE: N, Action.SUBSCRIBE_DEMAND: N,
    },
    Role.PROVIDER_ADMIN: {
        Action.DEFINE_PROGRAMME: N, Action.APPLY_FOR_QUOTA: OWN, Action.APPROVE_QUOTA: N,
        Action.SETTLE_ORDER: OWN, Action.VIEW_STATEMENTS: OWN, Action.RUN_CLEARING: N,
        Action.MANAGE_INSURANCE: OWN, Action.ASSESS_CLAIM: N,
        Action.VIEW_CATALOG: A, Action.REGISTER_INSTRUMENT: OWN, Action.EDIT_INSTRUMENT: OWN,
        Action.CHANGE_LIFECYCLE: OWN, Action.IMPORT_CATALOG: OWN, Action.EDIT_ORGANISATION: OWN,
        Action.MANAGE_ACCOUNTS: OWN, Action.VIEW_REGION_REPORTS: N,
        Action.BOOK_INSTRUMENT: A, Action.RUN_BOOKING_QUEUE: OWN,
        Action.SET_AVAILABILITY: OWN,
        Action.EDIT_KNOWLEDGE: N, Action.SUBSCRIBE_DEMAND: OWN,
    },
    Role.OPERATOR: {
        Action.DEFINE_PROGRAMME: N, Action.APPLY_FOR_QUOTA: N, Action.APPROVE_QUOTA: N,
        Action.SETTLE_ORDER: OWN, Action.VIEW_STATEMENTS: N, Action.RUN_CLEARING: N,
        Action.MANAGE_INSURANCE: N, Action.ASSESS_CLAIM: N,
        Action.VIEW_CATALOG: A, Action.REGISTER_INSTRUMENT: N, Action.EDIT_INSTRUMENT: OWN,
        Action.CHANGE_LIFECYCLE: OWN, Action.IMPORT_CATALOG: N, Action.EDIT_ORGANISATION: N,
        Action.MANAGE_ACCOUNTS: N, Action.VIEW_REGION_REPORTS: N,
        Action.BOOK_INSTRUMENT: A, Action.RUN_BOOKING_QUEUE: OWN,
        Action.SET_AVAILABILITY: OWN,
        Action.EDIT_KNOWLEDGE: N, Action.SUBSCRIBE_DEMAND: N,
    },
    Role.DEMANDER: {
        Action.DEFINE_PROGRAMME: N, Action.APPLY_FOR_QUOTA: OWN, Action.APPROVE_QUOTA: N,
        Action.SETTLE_ORDER: N, Action.VIEW_STATEMENTS: OWN, Action.RUN_CLEARING: N,
        Action.MANAGE_INSURANCE: N, Action.ASSESS_CLAIM: N,
        Action.VIEW_CATALOG: A, Action.REGISTER_INSTRUMENT: N, Action.EDIT_INSTRUMENT: N,
        Action.CHANGE_LIFECYCLE: N, Action.IMPORT_CATALOG: N, Action.EDIT_ORGANISATION: N,
        Action.MANAGE_ACCOUNTS: N, Action.VIEW_REGION_REPORTS: N,
        Action.BOOK_INSTRUMENT: A, Action.RUN_BOOKING_QUEUE: N,
        Action.SET_AVAILABILITY: N,
        Action.EDIT_KNOWLEDGE: N, Action.SUBSCRIBE_DEMAND: OWN,
    },
}


@dataclass(frozen=True)
class Target:
    """Where an action lands: the organisation and region of the record acted on."""

    organisation_id: int | None = None
    region_code: str | None = None


@dataclass(frozen=True)
class Grant:
    role: Role
    organisation_id: int
    region_code: str | None


def grant_allows(grant: Grant, action: Action, target: Target) -> bool:
    scope = POLICY[grant.role][action]
    if scope is Scope.ANYWHERE:
        return True
    if scope is Scope.OWN_ORGANISATION:
        return target.organisation_id is not None and target.organisation_id == (
            grant.organisation_id)
    if scope is Scope.OWN_REGION:
        # A province officer also oversees its cities.
        return (target.region_code is not None and grant.region_code is not None and (
            target.region_code == grant.region_code
            or (grant.region_code.endswith("0000")
                and target.region_code[:2] == grant.region_code[:2])))
    return False
