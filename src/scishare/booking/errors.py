"""Errors of the booking domain; each names the record, the field at fault and the reason."""

from scishare.core.errors import Conflict, Forbidden, InvalidInput, NotFound


class UnknownInstrument(NotFound):
    """No instrument under the given exchange id."""


class UnknownReservation(NotFound):
    pass


class UnknownOrder(NotFound):
    pass


class BadPeriod(InvalidInput):
    """The period ends before it starts, has no length, or is not in aware time."""


class PeriodInPast(InvalidInput):
    pass


class TooShortNotice(InvalidInput):
    """The period starts sooner than the instrument's lead time allows."""


class BeyondHorizon(InvalidInput):
    """The period ends later than the instrument takes bookings for."""


class BadDuration(InvalidInput):
    """Shorter or longer than the instrument allows."""


class OffGrid(InvalidInput):
    """A start or end that is not on the instrument's slot grid."""


class OutsideOpeningHours(InvalidInput):
    pass


class BadPolicy(InvalidInput):
    pass


class BadServiceItem(InvalidInput):
    """The service item is not this instrument's, inactive, or of the wrong unit."""


class NotAPdf(InvalidInput):
    pass


class ReportTooLarge(InvalidInput):
    pass


class NotOpenToExternalUsers(Forbidden):
    pass


class NotQualified(Forbidden):
    """Self-operation without a valid qualification on the instrument."""


class NotYours(Forbidden):
    """Acting on someone else's reservation or order without running the instrument's queue."""


class InstrumentNotInService(Conflict):
    pass


class SlotTaken(Conflict):
    """The period overlaps an active reservation (with its buffer) or a blackout."""


class DuplicateSubmission(Conflict):
    """The same request, by its idempotency key, was already submitted."""


class RulesChanging(Conflict):
    """The instrument's booking rules changed each time the request was about to be written."""


class CancellationDeadlinePassed(Conflict):
    pass


class BadTransition(Conflict):
    """A reservation or order cannot move from its present state to the one asked for."""


class HolidayClash(Conflict):
    """A holiday on a day with active reservations."""


class ReportTampered(Conflict):
    """The stored report no longer matches its checksum, or is missing."""
