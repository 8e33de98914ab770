"""places in the rules (issue 18): the kind of a county-level region, a station's closing date, the
station an activity takes place at

Revision ID: 0025_rules_places
Revises: 0027_rewards_exchange
Create Date: 2026-12-07 04:30:00

- region.kind (区 / 县 / 县级市), filled for the existing county-level regions from their names
  ("…县" 县, "…市" 县级市, otherwise 区), with its CHECK like every enum column;
- station.closed_on, filled for stopped stations with the day they were last changed;
- activity.station_id (nullable, SET NULL when a station is deleted).
"""
from alembic import op
import sqlalchemy as sa


revision = '0025_rules_places'
down_revision = '0027_rewards_exchange'
branch_labels = None
depends_on = None


def _rebuild() -> dict:
    """SQLite rebuilds a table for a CHECK or a foreign key: keep its AUTOINCREMENT (ids never reused)."""
    return {"table_kwargs": {"sqlite_autoincrement": True}} if op.get_bind().dialect.name == "sqlite" else {}


def upgrade():
    with op.batch_alter_table('region', **_rebuild()) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=True))
        batch_op.create_check_constraint(op.f('ck_region_kind_enum'),
                                         sa.text("kind IN ('urban', 'county', 'county_city')"))
    op.execute("UPDATE region SET kind = CASE WHEN name LIKE '%县' THEN 'county' WHEN name LIKE '%市' THEN 'county_city' "
               "ELSE 'urban' END WHERE level = 'district'")
    with op.batch_alter_table('station') as batch_op:
        batch_op.add_column(sa.Column('closed_on', sa.Date(), nullable=True))
    # SQLite keeps dates as 'YYYY-MM-DD' text (its CAST AS DATE would give a number).
    day = "date(updated_at)" if op.get_bind().dialect.name == "sqlite" else "CAST(updated_at AS DATE)"
    op.execute(f"UPDATE station SET closed_on = {day} WHERE NOT active")
    with op.batch_alter_table('activity', **_rebuild()) as batch_op:
        batch_op.add_column(sa.Column('station_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_activity_station_id'), ['station_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_activity_station_id_station'), 'station', ['station_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('activity', **_rebuild()) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_activity_station_id_station'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_activity_station_id'))
        batch_op.drop_column('station_id')
    with op.batch_alter_table('station') as batch_op:
        batch_op.drop_column('closed_on')
    with op.batch_alter_table('region', **_rebuild()) as batch_op:
        batch_op.drop_constraint(op.f('ck_region_kind_enum'), type_='check')
        batch_op.drop_column('kind')
