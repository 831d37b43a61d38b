from scishare.core.errors import Conflict, InvalidInput


class DuplicateInstrument(Conflict):
    pass


class UnknownClassCode(InvalidInput):
    pass


class UnknownTechnique(InvalidInput):
    pass


class BadLifecycleMove(InvalidInput):
    pass
