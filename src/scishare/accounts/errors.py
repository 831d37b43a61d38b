from scishare.core.errors import Conflict, Forbidden, InvalidInput, Unauthenticated


class DuplicateOrganisation(Conflict):
    pass


class DuplicateAccount(Conflict):
    pass


class BadCredentials(Unauthenticated):
    pass


class NotAllowed(Forbidden):
    pass


class BadRoleGrant(InvalidInput):
    pass
