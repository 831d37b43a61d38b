"""Importing this module registers every domain's tables on `Base.metadata`.

Alembic's autogenerate and the migration drift test need the whole schema at once; the
application itself imports models through the domains that own them.
"""

import scishare.accounts.models
import scishare.billing.models
import scishare.booking.models
import scishare.catalog.models
import scishare.knowledge.models
import scishare.matching.models
import scishare.regions.models  # noqa: F401
from scishare.core.database import Base

metadata = Base.metadata
