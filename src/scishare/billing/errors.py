"""Errors of the billing domain; each names the record, the field and the reason."""

from scishare.core.errors import Conflict, Forbidden, InvalidInput, NotFound


class BadAmount(InvalidInput):
    """An amount that is not a whole, non-negative number of fen (or a cap below zero)."""


class BadRatio(InvalidInput):
    """A rate in basis points outside 0–10,000 (0–100%)."""


class BadPeriod(InvalidInput):
    """A validity or clearing period that ends before it starts."""


class UnknownProgramme(NotFound):
    """No voucher programme with that code."""


class UnknownSettlement(NotFound):
    """No settlement of that order."""


class UnknownQuota(NotFound):
    """No quota application with that id."""


class UnknownPolicy(NotFound):
    """No insurance policy with that code."""


class UnknownClaim(NotFound):
    """No insurance claim with that id."""


class VoucherExpired(InvalidInput):
    """The programme is not valid on the day of service."""


class ForeignVoucher(Forbidden):
    """The enterprise holds no approved quota in the programme named."""


class IneligibleEnterprise(Forbidden):
    """The user is not an enterprise of the programme's region (or not an SME when required)."""


class IneligibleProvider(Forbidden):
    """The provider or service is outside the programme's regions or services."""


class NotCompleted(Conflict):
    """Only a completed reservation or order is settled."""


class AlreadySettled(Conflict):
    """The order was settled before; it is settled exactly once."""


class AlreadyPosted(Conflict):
    """A journal with that idempotency key exists: the money source was posted before."""


class RefundTooLarge(Conflict):
    """More would be refunded than the user paid."""


class NotReversible(Conflict):
    """A settlement with refunds, a reimbursement or a reversal cannot be reversed again."""


class QuotaAlreadyDecided(Conflict):
    """A quota application is approved or rejected once."""


class DuplicateProgramme(Conflict):
    """A programme code is unique."""


class DuplicateQuota(Conflict):
    """One quota application per programme, enterprise and year."""


class ClaimNotCovered(Conflict):
    """The claimed booking carried no shared-use cover, or the claim was assessed already."""


class UnbalancedJournal(InvalidInput):
    """A journal whose postings do not sum to zero."""
