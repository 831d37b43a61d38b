"""The billing domain's use cases: the one module other packages (web, CLI, evaluation) call.
The functions live in modules by use case; this module gathers them."""

from scishare.billing.audit import audit_trail
from scishare.billing.clearing import lines_of, reconcile, run_clearing, statements_of
from scishare.billing.fees import CostBuildUp, Purpose, propose_nonprofit_price, set_fee_rule
from scishare.billing.insurance import assess_claim, file_claim, get_claim, require_cover
from scishare.billing.ledger import balance, trial_balance, unbalanced_journals
from scishare.billing.settlement import (
    SettlementRun,
    get_settlement,
    refund,
    reimburse,
    reverse_settlement,
    settle,
    settle_batch,
)
from scishare.billing.statements import Statement, statement, statement_pdf, statement_xlsx
from scishare.billing.vouchers import (
    apply_for_quota,
    approve_quota,
    define_programme,
    get_programme,
    get_quota,
    list_programmes,
    quotas_of,
    reject_quota,
)

__all__ = [
    "CostBuildUp",
    "Purpose",
    "SettlementRun",
    "Statement",
    "apply_for_quota",
    "approve_quota",
    "assess_claim",
    "audit_trail",
    "balance",
    "define_programme",
    "file_claim",
    "get_claim",
    "get_programme",
    "get_quota",
    "get_settlement",
    "lines_of",
    "list_programmes",
    "propose_nonprofit_price",
    "quotas_of",
    "reconcile",
    "refund",
    "reimburse",
    "reject_quota",
    "require_cover",
    "reverse_settlement",
    "run_clearing",
    "set_fee_rule",
    "settle",
    "settle_batch",
    "statement",
    "statement_pdf",
    "statement_xlsx",
    "statements_of",
    "trial_balance",
    "unbalanced_journals",
]
