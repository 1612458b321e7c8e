"""Evidence you can trust (issue 26, items 3 and 4): stored per-sample predictions, ``interlens verify``,
sealed committed studies, the test-look ledger and pre-registered plans."""

from .ledger import count_looks, ledger_path, looks, record_evaluation, record_look
from .plan import Plan, PlanViolation, load_plan
from .store import StoredPredictionsError, read_predictions, save_result, write_predictions
from .verify import VerifyReport, verify_path

__all__ = ["Plan", "PlanViolation", "StoredPredictionsError", "VerifyReport", "count_looks", "ledger_path",
           "load_plan", "looks", "read_predictions", "record_evaluation", "record_look", "save_result",
           "verify_path", "write_predictions"]
