"""Import batches: what a bulk change did to each row it touched, the list of batches, and an exact undo.

(A little over 400 lines on purpose: the snapshot format written by the journal and read back by the undo
must change together, so they stay in one module.)

Recording (:class:`Journal`): before it writes, an importer names the rows it may touch
(:meth:`Journal.track`, :meth:`Journal.track_in`); when it is done, :meth:`Journal.record` reads the same
rows again and keeps every row that differs, whole, as it was before and after (JSON by column name).
Snapshots rather than ORM hooks, because the enrollment code changes classes with guarded ``UPDATE``
statements and the outbox is written with multi-row ``INSERT``s that the ORM never sees (an import's
notices are the outbox rows labelled with its batch). A change that changed nothing records no batch.

Undoing (:func:`undo_batch`) is refused, with the reason, when a later batch that is still applied changed
one of the same rows, or rows of the same class (undo that one first), or when a row changed since outside
imports in a way the undo would overwrite or destroy (a column the batch changed has another value now; a
row the batch added is referred to by rows added since, such as enrollments in a class it created).
Otherwise every row the batch inserted is deleted, every row it deleted is inserted again with its id, and
every row it updated gets back the values of the columns the batch changed: right after the batch that is
the state before it, byte for byte, and later changes to other columns are kept. Notices the batch queued
are withdrawn unless a delivery worker has taken them already (those people were told; the result counts
them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, ColumnElement, Date, DateTime, Numeric, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeDecorator

from bot.db.base import Base
from bot.db.models.imports import ImportBatch, ImportChange

CHUNK = 500
"""Values per ``IN (…)``: well under SQLite's and asyncpg's bind-parameter limits."""
SHOWN = 5
"""Conflicting rows named in a refusal (then a count)."""
Row = dict[str, Any]

_NOTICE_TABLE = "outbox"


def _delivered(row: Row) -> bool:
    """A queued notice a delivery worker has already taken (sent, being sent, or tried): it cannot be withdrawn."""
    return row.get("status") in ("sent", "sending") or bool(row.get("attempts"))


# ---------------------------------------------------------------------------------------------- values


def encode(value: Any) -> Any:
    """A column value as JSON (decimals and dates as text)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    return value


def _kind(column: Column[Any]) -> Any:
    return column.type.impl if isinstance(column.type, TypeDecorator) else column.type


def decode(column: Column[Any], value: Any) -> Any:
    """A value of :func:`encode` back as the column's Python value."""
    if value is None:
        return None
    kind = _kind(column)
    if isinstance(kind, Numeric):
        return Decimal(value)
    if isinstance(kind, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    return value


def _table(model: Any) -> Table:
    table = model if isinstance(model, Table) else model.__table__
    assert isinstance(table, Table)
    return table


def _pk(table: Table) -> Column[Any]:
    [pk] = list(table.primary_key.columns)
    return pk


async def _read(session: AsyncSession, table: Table,
                conditions: Sequence[ColumnElement[bool] | None]) -> dict[int, Row]:
    """Rows of ``table`` matching any of ``conditions`` (None = every row), by primary key, encoded.

    Only decimal and date columns are encoded (a roster of 30,000 is read twice per import).
    """
    columns = list(table.columns)
    names = [c.name for c in columns]
    at = names.index(_pk(table).name)
    coded = [i for i, c in enumerate(columns) if isinstance(_kind(c), Numeric | Date | DateTime)]
    out: dict[int, Row] = {}
    for condition in conditions:
        stmt = select(*columns)
        if condition is not None:
            stmt = stmt.where(condition)
        for r in (await session.execute(stmt)).all():
            values = list(r)
            for i in coded:
                if values[i] is not None:
                    values[i] = encode(values[i])
            out[int(values[at])] = dict(zip(names, values, strict=True))
    return out


async def _read_ids(session: AsyncSession, table: Table, ids: Iterable[int]) -> dict[int, Row]:
    wanted = sorted(set(ids))
    pk = _pk(table)
    return await _read(session, table, [pk.in_(wanted[i:i + CHUNK]) for i in range(0, len(wanted), CHUNK)])


# ---------------------------------------------------------------------------------------------- recording


@dataclass(frozen=True)
class Change:
    """One row a batch changed: ``before`` is None for an insert, ``after`` None for a delete."""

    table: str
    row_id: int
    action: str
    before: Row | None
    after: Row | None


@dataclass
class _Tracked:
    table: Table
    conditions: list[ColumnElement[bool] | None] = field(default_factory=list)
    before: dict[int, Row] = field(default_factory=dict)


class Journal:
    """Records what one bulk change does to the rows it names, as one :class:`ImportBatch`.

    Use: ``journal = Journal(session)``; ``await journal.track…(…)`` for every set of rows the change may
    touch, *before* writing; write; ``await journal.record(kind=…, …)``. A row the change adds must match
    its table's condition (rows that move out of it are read again by id).
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._tracked: dict[str, _Tracked] = {}

    async def track(self, model: Any, where: ColumnElement[bool] | None = None) -> None:
        """Track the rows of ``model``'s table that match ``where`` (every row when None)."""
        await self._add(_table(model), [where])

    async def track_in(self, model: Any, column: Any, values: Iterable[Any]) -> None:
        """Track the rows whose ``column`` is one of ``values`` (read in chunks)."""
        wanted = sorted(set(values))
        if wanted:
            await self._add(_table(model), [column.in_(wanted[i:i + CHUNK]) for i in range(0, len(wanted), CHUNK)])

    async def _add(self, table: Table, conditions: list[ColumnElement[bool] | None]) -> None:
        await self.session.flush()
        tracked = self._tracked.setdefault(table.name, _Tracked(table))
        for pk, row in (await _read(self.session, table, conditions)).items():
            tracked.before.setdefault(pk, row)
        tracked.conditions.extend(conditions)

    async def changes(self) -> list[Change]:
        """Every tracked row that differs from its snapshot."""
        await self.session.flush()
        out: list[Change] = []
        for tracked in self._tracked.values():
            table = tracked.table
            after = await _read(self.session, table, tracked.conditions)
            if moved := [pk for pk in tracked.before if pk not in after]:
                after.update(await _read_ids(self.session, table, moved))
            for pk in sorted(set(tracked.before) | set(after)):
                before, now = tracked.before.get(pk), after.get(pk)
                if before != now:
                    action = "insert" if before is None else "delete" if now is None else "update"
                    out.append(Change(table.name, pk, action, before, now))
        return out

    async def record(self, *, kind: str, actor: str, now: datetime, counts: dict[str, Any], file: str = "",
                     digest: str = "", label: str = "", note: str = "") -> ImportBatch | None:
        """Write the batch and its changes in the session's transaction; None (nothing written) when nothing changed."""
        changes = await self.changes()
        if not changes:
            return None
        batch = ImportBatch(kind=kind, label=label[:64], file=file[:500], digest=digest[:64], actor=actor[:64],
                            at=now, counts=counts, changes=len(changes), note=note[:200], status="applied")
        self.session.add(batch)
        await self.session.flush()
        rows = [{"batch_id": batch.id, "table_name": c.table, "row_id": c.row_id, "action": c.action,
                 "before": c.before, "after": c.after} for c in changes]
        for start in range(0, len(rows), CHUNK):
            await self.session.execute(insert(ImportChange), rows[start:start + CHUNK])
        return batch


# ---------------------------------------------------------------------------------------------- listing


async def list_batches(session: AsyncSession, *, limit: int = 50) -> list[ImportBatch]:
    """The latest batches, newest first."""
    return list((await session.execute(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(limit))).scalars())


async def get_batch(session: AsyncSession, batch_id: int) -> ImportBatch | None:
    """One batch by id."""
    return await session.get(ImportBatch, batch_id)


# ---------------------------------------------------------------------------------------------- undo


@dataclass
class UndoResult:
    """What an undo did (or, refused or in a dry run, would do)."""

    batch_id: int
    ok: bool = False
    reason: str = ""
    blocked_by: list[int] = field(default_factory=list)
    restored: int = 0
    removed: int = 0
    reinserted: int = 0
    notices_withdrawn: int = 0
    notices_delivered: int = 0
    kind: str = ""
    file: str = ""

    def summary(self) -> str:
        """One line for HR."""
        parts = [f"{self.restored} row(s) set back", f"{self.removed} added row(s) removed",
                 f"{self.reinserted} removed row(s) put back"]
        if self.notices_withdrawn:
            parts.append(f"{self.notices_withdrawn} unsent notice(s) withdrawn")
        if self.notices_delivered:
            parts.append(f"{self.notices_delivered} notice(s) already delivered (those people are not told "
                         "of the undo)")
        return ", ".join(parts)


_LABELS = {
    "employees": "employee {employee_no}",
    "classes": "class {code}",
    "learning_records": "learning record #{id}",
    "enrollments": "enrollment #{id} (class #{class_id}, employee #{employee_id})",
    "employee_roles": "role {role} {agency} of employee #{employee_id}",
    "class_meetings": "a meeting of class #{class_id}",
}


def describe(table: str, row: Row) -> str:
    """A row as HR would name it in a refusal (no names: numbers and codes only)."""
    return _LABELS.get(table, table + " #{id}").format_map(defaultdict(lambda: "?", row))


_CLASS_OF: dict[str, Callable[[ImportChange], Any]] = {
    "classes": lambda c: c.row_id,
    "class_meetings": lambda c: (c.after or c.before or {}).get("class_id"),
    "enrollments": lambda c: (c.after or c.before or {}).get("class_id"),
}
"""Rows derived together count as one: a class, its meetings and its enrollments (whose attendance and the
class's hours make the learning records). A later attendance import in a class blocks undoing an earlier
change of that class's hours, and the other way round, though they changed different rows."""


async def _later_batches(session: AsyncSession, batch_id: int) -> list[int]:
    """Later batches, still applied, that changed a row this batch changed (or the same class's rows)."""
    mine, theirs = ImportChange.__table__.alias("mine"), ImportChange.__table__.alias("theirs")
    stmt = (select(theirs.c.batch_id).distinct()
            .join(mine, (mine.c.table_name == theirs.c.table_name) & (mine.c.row_id == theirs.c.row_id))
            .join(ImportBatch, ImportBatch.id == theirs.c.batch_id)
            .where(mine.c.batch_id == batch_id, theirs.c.batch_id > batch_id, ImportBatch.status == "applied"))
    later = {int(b) for b in (await session.execute(stmt)).scalars()}
    in_classes = select(ImportChange).where(ImportChange.table_name.in_(list(_CLASS_OF)))
    classes = {_CLASS_OF[c.table_name](c) for c in (await session.execute(
        in_classes.where(ImportChange.batch_id == batch_id))).scalars()} - {None}
    if classes:
        for c in (await session.execute(in_classes.join(ImportBatch, ImportBatch.id == ImportChange.batch_id).where(
                ImportChange.batch_id > batch_id, ImportBatch.status == "applied"))).scalars():
            if _CLASS_OF[c.table_name](c) in classes:
                later.add(c.batch_id)
    return sorted(later, reverse=True)


async def _dependents(session: AsyncSession, table: Table, ids: set[int],
                      removing: dict[str, set[int]]) -> dict[int, str]:
    """Rows added since that refer to rows the undo would delete: {row id: what refers to it}."""
    found: dict[int, str] = {}
    for other in Base.metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column.table is not table or not ids:
                continue
            column, pk = fk.parent, _pk(other)
            own = removing.get(other.name, set())
            wanted = sorted(ids)
            for start in range(0, len(wanted), CHUNK):
                rows = await session.execute(select(column, pk).where(column.in_(wanted[start:start + CHUNK])))
                for target, row_id in rows.all():
                    if int(row_id) not in own:
                        found.setdefault(int(target), f"{other.name} #{row_id}")
    return found


async def undo_batch(session: AsyncSession, batch_id: int, *, now: datetime, actor: str,
                     dry_run: bool = False) -> UndoResult:
    """Undo one batch in the caller's transaction (see the module docstring); refused with a reason when unsafe."""
    result = UndoResult(batch_id=batch_id)
    batch = await get_batch(session, batch_id)
    if batch is None:
        result.reason = f"there is no import batch {batch_id} (abc-bot import history lists them)"
        return result
    result.kind, result.file = batch.kind, batch.file
    if batch.status == "undone":
        when = batch.undone_at.isoformat(timespec="seconds") if batch.undone_at else "?"
        result.reason = f"batch {batch_id} was already undone ({when}, {batch.undone_by or '?'})"
        return result
    result.blocked_by = await _later_batches(session, batch_id)
    if result.blocked_by:
        first = result.blocked_by[0]
        later = ", ".join(str(b) for b in result.blocked_by)
        result.reason = (f"later batch(es) {later} changed some of the same rows; undo them first, newest first "
                         f"(abc-bot import undo {first})")
        return result
    changes = list((await session.execute(select(ImportChange).where(ImportChange.batch_id == batch_id)
                                          .order_by(ImportChange.id))).scalars())
    tables = {t.name: t for t in Base.metadata.sorted_tables}
    current: dict[str, dict[int, Row]] = {}
    for name in {c.table_name for c in changes}:
        current[name] = await _read_ids(session, tables[name], (c.row_id for c in changes if c.table_name == name))
    removing: dict[str, set[int]] = {}
    conflicts: list[str] = []
    plan: list[tuple[str, ImportChange]] = []  # ("delete" | "insert" | "update", change)
    for c in changes:
        now_row = current[c.table_name].get(c.row_id)
        label = describe(c.table_name, c.after or c.before or {"id": c.row_id})
        if c.action == "insert":
            if now_row is None:
                continue  # gone already (e.g. a pruned notice)
            if c.table_name == _NOTICE_TABLE and _delivered(now_row):
                result.notices_delivered += 1
                continue
            if now_row != c.after:
                conflicts.append(f"{label} changed since the batch")
                continue
            removing.setdefault(c.table_name, set()).add(c.row_id)
            plan.append(("delete", c))
        elif c.action == "delete":
            if now_row is not None:
                conflicts.append(f"{label} exists again")
                continue
            plan.append(("insert", c))
        else:
            assert c.before is not None and c.after is not None
            changed = [k for k in c.after if c.before.get(k) != c.after[k]]
            if now_row is None:
                conflicts.append(f"{label} was deleted since the batch")
            elif moved := [k for k in changed if now_row.get(k) != c.after[k]]:
                conflicts.append(f"{label}: {', '.join(moved)} changed since the batch")
            else:
                plan.append(("update", c))
    for name, ids in removing.items():
        for row_id, what in (await _dependents(session, tables[name], ids, removing)).items():
            row = current[name][row_id]
            conflicts.append(f"{describe(name, row)} has {what} added since the batch")
    if conflicts:
        more = f" (and {len(conflicts) - SHOWN} more)" if len(conflicts) > SHOWN else ""
        result.reason = ("rows changed since the batch, outside imports, and undoing it would overwrite or destroy "
                         f"that: {'; '.join(conflicts[:SHOWN])}{more}")
        return result
    order = {name: i for i, name in enumerate(tables)}
    deletes = sorted((c for a, c in plan if a == "delete"), key=lambda c: -order[c.table_name])
    inserts = sorted((c for a, c in plan if a == "insert"), key=lambda c: order[c.table_name])
    updates = [c for a, c in plan if a == "update"]
    result.notices_withdrawn = sum(c.table_name == _NOTICE_TABLE for c in deletes)
    result.removed = len(deletes) - result.notices_withdrawn
    result.reinserted, result.restored = len(inserts), len(updates)
    if not dry_run:
        try:
            async with session.begin_nested():
                await _apply(session, tables, deletes, inserts, updates)
        except IntegrityError:
            result.reason = ("the database refused to put a row back (a row added since takes its place); "
                             "nothing was undone")
            return result
        batch.status, batch.undone_at, batch.undone_by = "undone", now, actor[:64]
        await session.flush()
    result.ok = True
    return result


async def _apply(session: AsyncSession, tables: dict[str, Table], deletes: Sequence[ImportChange],
                 inserts: Sequence[ImportChange], updates: Sequence[ImportChange]) -> None:
    """Deletes (children first) and inserts (parents first) a table at a time, in chunks; updates row by row."""
    for name, group in _runs(deletes):
        table = tables[name]
        ids = [c.row_id for c in group]
        for start in range(0, len(ids), CHUNK):
            await session.execute(delete(table).where(_pk(table).in_(ids[start:start + CHUNK])))
    for name, group in _runs(inserts):
        table = tables[name]
        rows = [{k: decode(table.c[k], v) for k, v in (c.before or {}).items()} for c in group]
        for start in range(0, len(rows), CHUNK):
            await session.execute(insert(table), rows[start:start + CHUNK])
    for c in updates:
        table = tables[c.table_name]
        assert c.before is not None and c.after is not None
        values = {k: decode(table.c[k], c.before[k]) for k in c.after if c.before.get(k) != c.after[k]}
        await session.execute(update(table).where(_pk(table) == c.row_id).values(values))


def _runs(changes: Sequence[ImportChange]) -> list[tuple[str, list[ImportChange]]]:
    """Consecutive changes of the same table, in order."""
    out: list[tuple[str, list[ImportChange]]] = []
    for c in changes:
        if out and out[-1][0] == c.table_name:
            out[-1][1].append(c)
        else:
            out.append((c.table_name, [c]))
    return out
