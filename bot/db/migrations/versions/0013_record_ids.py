"""Learning-record ids are never reused on SQLite: the table gets AUTOINCREMENT (issue 15).

Audit lines and import batches name records by id (`hours delete 12`, a batch's change rows), so an id
must never come back for another record after an undo or a delete. SQLite's plain ``INTEGER PRIMARY KEY``
hands out max(id) + 1, which reuses the id of a deleted newest record; ``AUTOINCREMENT`` keeps the highest
id ever used in ``sqlite_sequence``. SQLite cannot add it to an existing table, so the table is recreated in
batch mode (copying the rows with their ids, indexes included), and the counter starts above every id a
batch ever recorded for the table (a record deleted before this migration is not reused either).
PostgreSQL's sequences never go back: nothing to do there.

Revision ID: 0013_record_ids
Revises: 0009_reminders
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013_record_ids'
down_revision: str | Sequence[str] | None = '0009_reminders'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rebuild(autoincrement: bool) -> None:
    with op.batch_alter_table('learning_records', recreate='always',
                              table_kwargs={'sqlite_autoincrement': autoincrement}):
        pass


def upgrade() -> None:
    """SQLite: recreate learning_records with AUTOINCREMENT and start its counter above every id used."""
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    _rebuild(True)
    used = bind.execute(sa.text(
        "SELECT max(n) FROM (SELECT max(id) AS n FROM learning_records UNION ALL "
        "SELECT max(row_id) FROM import_changes WHERE table_name = 'learning_records')")).scalar()
    if used:
        bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = 'learning_records'"))
        bind.execute(sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('learning_records', :n)"), {"n": used})


def downgrade() -> None:
    """SQLite: the table as before (ids may be reused again)."""
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild(False)
