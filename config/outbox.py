"""`[outbox]`: how the delivery workers drain the campaign outbox (jobs/delivery.py).

```toml
[outbox]
concurrency = 2          # workers per `fission serve` process on PostgreSQL (SQLite: always 1)
batch_size = 100         # deliveries one worker claims at a time
lease_seconds = 60       # a claim lapses this long after the last heartbeat (a dead worker's rows)
poll_seconds = 2         # look for due rows this often (PostgreSQL also wakes on NOTIFY)
retry_base_seconds = 30  # back-off after a transient failure: full jitter up to base·2ⁿ …
retry_cap_seconds = 3600 # … capped here, until the delivery's deadline
senders = ["mypackage.sms:build_senders"]   # extra route senders, see below
```

`senders` names factories `module:function` called with the settings that return route senders
(models/campaigns/outcomes.RouteSender) for a channel Fission does not ship — an SMS gateway, a
CRM's webhook, or a test's stand-in of a platform.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

_FACTORY = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class OutboxSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    concurrency: int = Field(2, ge=1, le=64)
    batch_size: int = Field(100, ge=1, le=1000)
    lease_seconds: float = Field(60.0, ge=1.0, le=3600.0)
    poll_seconds: float = Field(2.0, gt=0, le=300.0)
    retry_base_seconds: float = Field(30.0, gt=0)
    retry_cap_seconds: float = Field(3600.0, gt=0)
    # A sender that has not answered for a chunk after this long is given up on (the chunk is
    # retried later: the platform may or may not have taken it).
    send_timeout_seconds: float = Field(120.0, gt=0)
    # How long a stopping worker waits for sends in flight before it abandons them to the lease.
    shutdown_seconds: float = Field(10.0, ge=0)
    senders: list[str] = Field(default_factory=list)

    @field_validator("senders")
    @classmethod
    def _factories(cls, value: list[str]) -> list[str]:
        for name in value:
            if not _FACTORY.match(name):
                raise ValueError(f"{name!r} is not module:function (e.g. mypackage.sms:build)")
        return value
