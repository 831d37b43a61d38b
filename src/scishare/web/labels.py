"""How enum values read in the UI; the ids are translated when a page is rendered."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from scishare.accounts.models import OrganisationType, Role
from scishare.catalog.models import LifecycleState, ServiceUnit


def N_(message: str) -> str:  # noqa: N802 - the name gettext tools look for
    """Mark a message id for extraction; it is translated later, in the reader's language."""
    return message


ORGANISATION_TYPES: dict[OrganisationType, str] = {
    OrganisationType.UNIVERSITY: N_("University"),
    OrganisationType.INSTITUTE: N_("Research institute"),
    OrganisationType.ENTERPRISE: N_("Enterprise"),
    OrganisationType.TESTING_BODY: N_("Testing body"),
    OrganisationType.HOSPITAL: N_("Hospital"),
    OrganisationType.OTHER: N_("Other"),
}

LIFECYCLE_STATES: dict[LifecycleState, str] = {
    LifecycleState.IN_SERVICE: N_("In service"),
    LifecycleState.UNDER_MAINTENANCE: N_("Under maintenance"),
    LifecycleState.IDLE: N_("Idle"),
    LifecycleState.OFFERED_FOR_TRANSFER: N_("Offered for transfer"),
    LifecycleState.RETIRED: N_("Retired"),
}

SERVICE_UNITS: dict[ServiceUnit, str] = {
    ServiceUnit.HOUR: N_("per hour"),
    ServiceUnit.SAMPLE: N_("per sample"),
}

ROLES: dict[Role, str] = {
    Role.PLATFORM_ADMIN: N_("Platform administrator"),
    Role.BUREAU_OFFICER: N_("Science bureau officer"),
    Role.PROVIDER_ADMIN: N_("Provider administrator"),
    Role.OPERATOR: N_("Operator"),
    Role.DEMANDER: N_("Demander"),
}


def _merged(*tables: Iterable[tuple[StrEnum, str]]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for table in tables:
        for member, label in table:
            # One lookup by value serves every enum, so values must not repeat across them.
            assert member.value not in merged, f"enum value {member.value!r} is ambiguous"
            merged[member.value] = label
    return merged


# Keyed by the plain value, since rows read from the database carry strings, not members.
LABELS: dict[str, str] = _merged(ORGANISATION_TYPES.items(), LIFECYCLE_STATES.items(),
                                 SERVICE_UNITS.items(), ROLES.items())

# Reasons the services write into the lifecycle history themselves; people's reasons are
# shown as they typed them.
SYSTEM_REASONS: dict[str, str] = {
    "registered": N_("Registered"),
    "imported": N_("Imported"),
}
