"""The guarded UPDATEs every change to a class's people starts with: the person lock, the class lock, seats.

Concurrency (see docs/enrollment.md):

* Every operation that changes the enrollments of a class first UPDATEs that class's row (the
  "class lock"): on PostgreSQL this row lock serialises changes per class, on SQLite the first write
  takes the database write lock. ``SELECT … FOR UPDATE`` is never used (SQLite ignores it).
* An enrollment first takes the person's lock (:func:`lock_person`), then the class lock, always in
  that order, so clash and cap checks see the person's other enrollments as committed.
* A seat is taken only by ``UPDATE classes SET taken = taken + 1 WHERE id = … AND taken < capacity``;
  ``CHECK (taken <= capacity + over_capacity)`` and ``UNIQUE (class_id, employee_id)`` back it up.
* Waitlist order is ``seq``, handed out by the same UPDATE that takes the class lock (``next_seq + 1``),
  so it is the order in which attempts got the lock. Gaps are normal (a refused attempt keeps its number).
"""

from __future__ import annotations

from sqlalchemy import Table, case, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.classes import TrainingClass
from bot.db.models.core import Employee

CLASSES: Table = TrainingClass.__table__  # type: ignore[assignment]


async def lock_class(session: AsyncSession, class_id: int, *, next_seq: bool = False,
                     only_open: bool = False) -> int | None:
    """UPDATE the class row (taking its lock); with ``next_seq``, hand out the next sequence number.

    Returns the class's ``next_seq`` after the update, or None when no row matched (gone, or not
    ``open`` with ``only_open``).
    """
    stmt = update(CLASSES).where(CLASSES.c.id == class_id)
    if only_open:
        stmt = stmt.where(CLASSES.c.status == "open")
    stmt = stmt.values(next_seq=CLASSES.c.next_seq + (1 if next_seq else 0)).returning(CLASSES.c.next_seq)
    value = (await session.execute(stmt)).scalar_one_or_none()
    return None if value is None else int(value)


async def lock_person(session: AsyncSession, employee_id: int) -> None:
    """Serialise one person's enrollment decisions: a no-op UPDATE of their employee row.

    Clash and cap checks read the person's other enrollments; without this, the same person pressing
    "enroll" on two clashing classes at once could pass both checks. On PostgreSQL the UPDATE takes the
    row's FOR NO KEY UPDATE lock (foreign-key checks of other rows are not blocked); on SQLite it takes
    the database write lock. Taken before the class lock, always in that order.
    """
    await session.execute(update(Employee).where(Employee.id == employee_id)
                          .values(updated_at=Employee.updated_at)
                          .execution_options(synchronize_session=False))


async def take_seat(session: AsyncSession, class_id: int) -> bool:
    """The one guarded update that takes a seat: ``taken + 1`` only while ``taken < capacity``."""
    stmt = (update(CLASSES).where(CLASSES.c.id == class_id, CLASSES.c.taken < CLASSES.c.capacity)
            .values(taken=CLASSES.c.taken + 1).returning(CLASSES.c.taken))
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def release_seat(session: AsyncSession, class_id: int) -> None:
    """Give a seat back; ``over_capacity`` shrinks with it (it is always ``max(0, taken - capacity)``)."""
    over = case((CLASSES.c.taken - 1 > CLASSES.c.capacity, CLASSES.c.taken - 1 - CLASSES.c.capacity), else_=0)
    await session.execute(update(CLASSES).where(CLASSES.c.id == class_id, CLASSES.c.taken > 0)
                          .values(taken=CLASSES.c.taken - 1, over_capacity=over))
