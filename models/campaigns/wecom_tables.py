"""Which deliveries a WeCom mass-message task carries.

A delivery belongs to at most one task (the primary key), written before `add_msg_template`
is called: a delivery claimed again after its worker died finds its task here and is not put
into a second task that its staff member would have to confirm again.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class WecomTaskDelivery(Base):
    __tablename__ = "wecom_task_deliveries"
    __table_args__ = (Index("ix_wecom_task_deliveries_task_id", "task_id"),)

    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True
    )
    task_id: Mapped[int] = mapped_column(ForeignKey("wecom_mass_tasks.id", ondelete="CASCADE"))
