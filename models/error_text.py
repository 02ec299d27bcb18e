"""What is stored and shown of a failure (a job run's error, an inbound event's last error):
the exception's type and message, and nothing of the customer data the work touched.

- SQL parameters: of a statement error only the driver's own message is kept (the engine also
  hides parameters in its messages, models/db.py, so logged tracebacks hold none either);
- a password in a connection URL becomes `***`;
- a mainland mobile number anywhere in the message is masked (`138****5678`).
"""

from __future__ import annotations

import re

from sqlalchemy.exc import StatementError

_CREDENTIALS = re.compile(r"(\w+://[^:/@\s]+:)[^@\s]+@")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86)?(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def error_text(exc: BaseException, *, limit: int) -> str:
    if isinstance(exc, StatementError) and exc.orig is not None:
        exc = exc.orig
    message = _CREDENTIALS.sub(r"\1***@", str(exc))
    message = _MOBILE.sub(r"\1****\2", message).strip()
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return text[:limit]
