"""CSV import of customers, orders and activity events (`fission import …`).

`import_csv` is the one entry point; the CLI only formats what it returns. Modules: `reader`
(encodings, streaming), `headers` (the header names read as each column), `values` (one
cell), `kinds` (one row per kind), `prepare` (staging-level steps before the merge), `staging`
(temporary tables, bulk load), `merge` (set-based upsert), `rejects` (the rejects file).
"""

from models.importing.kinds import IMPORT_KINDS
from models.importing.messages import RowError, UnusableInput
from models.importing.reader import ENCODINGS
from models.importing.rejects import RejectedRow, rejects_path_for
from models.importing.runner import ImportResult, import_csv
from models.importing.values import normalize_phone

__all__ = [
    "ENCODINGS",
    "IMPORT_KINDS",
    "ImportResult",
    "RejectedRow",
    "RowError",
    "UnusableInput",
    "import_csv",
    "normalize_phone",
    "rejects_path_for",
]
