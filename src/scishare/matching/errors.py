from scishare.core.errors import InvalidInput, NotFound, SciShareError


class EmbeddingUnavailable(SciShareError):
    """The embedding model could not be loaded; matching refuses to run without it."""

    category = "unavailable"


class BadNeed(InvalidInput):
    pass


class UnknownSubscription(NotFound):
    pass


class UnknownNeed(NotFound):
    pass
