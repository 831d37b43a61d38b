"""The demo's innovation vouchers: Zhengzhou's programme and the demo enterprise's quota, so
that booking forms show a voucher part and the voucher and programme pages have something.

Made through the billing services by the demo's own people: the bureau officer defines the
programme and approves, the enterprise's demander applies.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from scishare.accounts.service import Actor, actor_for, find_account_by_email, get_account
from scishare.billing.models import RedemptionMode, VoucherProgramme
from scishare.billing.vouchers import apply_for_quota, approve_quota, define_programme

OFFICER_EMAIL = "bureau@demo.scishare.cn"
ENTERPRISE_EMAIL = "demander@demo.scishare.cn"
PROGRAMME_CODE = "ZZ-KJCXQ-2026"
# Half of each fee, at most 50,000 yuan an order and 300,000 an enterprise a year, from a
# budget of 50 million yuan: the usual shape of Henan's city voucher schemes.
BUDGET_FEN = 50_000_000 * 100
RATIO_BPS = 5_000
PER_ORDER_CAP_FEN = 50_000 * 100
PER_ENTERPRISE_YEAR_CAP_FEN = 300_000 * 100
QUOTA_FEN = 200_000 * 100
YEARS = (2026, 2027)


def _actor(session: Session, email: str) -> Actor:
    account = find_account_by_email(session, email)
    if account is None:
        raise LookupError(f"the demo has no account {email}")
    return actor_for(get_account(session, account.id))


def build_vouchers(session: Session, *, now: datetime) -> VoucherProgramme:
    """Zhengzhou's programme for 2026–2027 and the demo enterprise's approved quotas."""
    officer = _actor(session, OFFICER_EMAIL)
    enterprise = _actor(session, ENTERPRISE_EMAIL)
    programme = define_programme(
        session, code=PROGRAMME_CODE, region_code="410100", name_zh="郑州市科技创新券",
        name_en="Zhengzhou innovation vouchers", budget_fen=BUDGET_FEN, ratio_bps=RATIO_BPS,
        per_order_cap_fen=PER_ORDER_CAP_FEN,
        per_enterprise_year_cap_fen=PER_ENTERPRISE_YEAR_CAP_FEN,
        valid_from=date(YEARS[0], 1, 1), valid_until=date(YEARS[-1], 12, 31),
        mode=RedemptionMode.DIRECT, actor=officer, now=now)
    for year in YEARS:
        quota = apply_for_quota(session, programme=programme, year=year,
                                requested_fen=QUOTA_FEN, is_sme=True, actor=enterprise,
                                now=now)
        approve_quota(session, quota, approved_fen=QUOTA_FEN, actor=officer, now=now)
    return programme
