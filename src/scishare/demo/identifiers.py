"""Well-formed but fictional identifiers for demo organisations.

Credit codes follow GB 32100-2015 (registration authority and category, 6-digit division code,
9-character organisation code with its GB 11714 check character, and a final check character),
so that validation written against real codes accepts them; they are derived from the
organisation's demo code and belong to no real unit.
"""

from __future__ import annotations

import hashlib

from scishare.accounts.models import OrganisationType

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# Registration authority + category (GB 32100 table 1): organs of state, public institutions
# (universities, public institutes and hospitals), and companies registered with market
# regulation.
GOVERNMENT_ORGAN = "11"
PUBLIC_INSTITUTION = "12"
COMPANY = "91"


def registration_category(*, org_type: OrganisationType, name_zh: str) -> str:
    """The first two characters of a unit's credit code, read from its type and name."""
    if org_type is OrganisationType.ENTERPRISE or name_zh.endswith("公司"):
        return COMPANY
    if name_zh.endswith("局"):
        return GOVERNMENT_ORGAN
    return PUBLIC_INSTITUTION


def organisation_code(body: str) -> str:
    """The 9-character GB 11714 code: 8 digits and their check character (0-9 or X)."""
    total = sum(int(char) * weight for char, weight in zip(body, _ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def credit_code(*, category: str, division_code: str, body: str) -> str:
    """A GB 32100 unified social credit code with a valid check character."""
    stem = category + division_code + organisation_code(body)
    total = sum(_USCC_ALPHABET.index(char) * weight
                for char, weight in zip(stem, _USCC_WEIGHTS, strict=True))
    return stem + _USCC_ALPHABET[(31 - total % 31) % 31]


def code_body(key: str, attempt: int = 0) -> str:
    """Eight digits derived from `key`: stable across runs and machines, unlike hash()."""
    digest = hashlib.sha256(f"{key}/{attempt}".encode()).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**8:08d}"


def is_valid_credit_code(code: str) -> bool:
    """The final GB 32100 check character is right, and so is the GB 11714 one of an
    all-digit organisation code (the only kind this module makes)."""
    if len(code) != 18 or any(char not in _USCC_ALPHABET for char in code):
        return False
    total = sum(_USCC_ALPHABET.index(char) * weight
                for char, weight in zip(code[:17], _USCC_WEIGHTS, strict=True))
    if _USCC_ALPHABET[(31 - total % 31) % 31] != code[17]:
        return False
    body = code[8:16]
    return not body.isdigit() or organisation_code(body) == code[8:17]


def cma_number(*, year: int, province_cma_code: str, serial: int) -> str:
    """A CMA certificate number: issue year, the province's CMA code, an 8-digit serial."""
    return f"{year % 100:02d}{province_cma_code}{serial:08d}"


def cnas_number(*, org_type: OrganisationType, serial: int) -> str:
    """CNAS accreditation number: medical laboratories are MT (ISO 15189), others L."""
    kind = "MT" if org_type is OrganisationType.HOSPITAL else "L"
    return f"CNAS {kind}{serial:04d}"
