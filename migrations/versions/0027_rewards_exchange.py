"""嘉许回馈 (reward items, the redemption ledger) and the platform-of-record exchange (batches, sent marks)

Revision ID: 0027_rewards_exchange
Revises: 0022_self_service
Create Date: 2026-12-07 03:58:21.483452

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0027_rewards_exchange'
down_revision = '0022_self_service'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('exchange_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system', sa.String(length=32), nullable=False),
    sa.Column('direction', sa.Enum('export', 'import', name='direction', native_enum=False, length=8), nullable=False),
    sa.Column('dataset', sa.Enum('volunteers', 'records', name='dataset', native_enum=False, length=16), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('include_sent', sa.Boolean(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("dataset IN ('volunteers', 'records')", name=op.f('ck_exchange_batch_dataset_enum')),
    sa.CheckConstraint("direction IN ('export', 'import')", name=op.f('ck_exchange_batch_direction_enum')),
    sa.CheckConstraint('rows >= 0', name=op.f('ck_exchange_batch_rows_nonneg')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_exchange_batch_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_exchange_batch_region_id_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_batch')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('exchange_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_batch_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_exchange_batch_region_id'), ['region_id'], unique=False)

    op.create_table('reward_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.Enum('service', 'benefit', 'priority', name='rewardkind', native_enum=False, length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('cost', sa.Numeric(precision=8, scale=1), nullable=False),
    sa.Column('min_star', sa.Integer(), nullable=False),
    sa.Column('core_only', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('service', 'benefit', 'priority')", name=op.f('ck_reward_item_kind_enum')),
    sa.CheckConstraint('(organization_id IS NULL) <> (region_id IS NULL)', name=op.f('ck_reward_item_one_provider')),
    sa.CheckConstraint('cost >= 0', name=op.f('ck_reward_item_cost_nonneg')),
    sa.CheckConstraint('min_star >= 0 AND min_star <= 5', name=op.f('ck_reward_item_min_star_range')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_reward_item_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_reward_item_organization_id_organization')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_reward_item_region_id_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reward_item')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('reward_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reward_item_active'), ['active'], unique=False)
        batch_op.create_index(batch_op.f('ix_reward_item_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reward_item_region_id'), ['region_id'], unique=False)

    op.create_table('reward_redemption',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('points', sa.Numeric(precision=8, scale=1), nullable=False),
    sa.Column('redeemed_on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('(organization_id IS NULL) <> (region_id IS NULL)', name=op.f('ck_reward_redemption_one_provider')),
    sa.CheckConstraint('(reverses_id IS NULL AND points >= 0) OR (reverses_id IS NOT NULL AND points <= 0)', name=op.f('ck_reward_redemption_points_sign')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_reward_redemption_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['reward_item.id'], name=op.f('fk_reward_redemption_item_id_reward_item')),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_reward_redemption_organization_id_organization')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_reward_redemption_region_id_region')),
    sa.ForeignKeyConstraint(['reverses_id'], ['reward_redemption.id'], name=op.f('fk_reward_redemption_reverses_id_reward_redemption')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_reward_redemption_volunteer_id_volunteer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reward_redemption')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_reward_redemption_reverses_id')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('reward_redemption', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reward_redemption_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reward_redemption_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reward_redemption_redeemed_on'), ['redeemed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_reward_redemption_region_id'), ['region_id'], unique=False)
        batch_op.create_index('ix_reward_redemption_volunteer', ['volunteer_id', 'id'], unique=False)

    op.create_table('exchange_mark',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system', sa.String(length=32), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=True),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('(volunteer_id IS NULL) <> (record_id IS NULL)', name=op.f('ck_exchange_mark_one_subject')),
    sa.ForeignKeyConstraint(['batch_id'], ['exchange_batch.id'], name=op.f('fk_exchange_mark_batch_id_exchange_batch'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['record_id'], ['service_record.id'], name=op.f('fk_exchange_mark_record_id_service_record'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_exchange_mark_volunteer_id_volunteer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_mark')),
    sa.UniqueConstraint('system', 'record_id', name='uq_exchange_mark_system_record'),
    sa.UniqueConstraint('system', 'volunteer_id', name='uq_exchange_mark_system_volunteer'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('exchange_mark', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_mark_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exchange_mark_record_id'), ['record_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exchange_mark_volunteer_id'), ['volunteer_id'], unique=False)



def downgrade():
    with op.batch_alter_table('exchange_mark', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchange_mark_volunteer_id'))
        batch_op.drop_index(batch_op.f('ix_exchange_mark_record_id'))
        batch_op.drop_index(batch_op.f('ix_exchange_mark_batch_id'))

    op.drop_table('exchange_mark')
    with op.batch_alter_table('reward_redemption', schema=None) as batch_op:
        batch_op.drop_index('ix_reward_redemption_volunteer')
        batch_op.drop_index(batch_op.f('ix_reward_redemption_region_id'))
        batch_op.drop_index(batch_op.f('ix_reward_redemption_redeemed_on'))
        batch_op.drop_index(batch_op.f('ix_reward_redemption_organization_id'))
        batch_op.drop_index(batch_op.f('ix_reward_redemption_item_id'))

    op.drop_table('reward_redemption')
    with op.batch_alter_table('reward_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reward_item_region_id'))
        batch_op.drop_index(batch_op.f('ix_reward_item_organization_id'))
        batch_op.drop_index(batch_op.f('ix_reward_item_active'))

    op.drop_table('reward_item')
    with op.batch_alter_table('exchange_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchange_batch_region_id'))
        batch_op.drop_index(batch_op.f('ix_exchange_batch_created_at'))

    op.drop_table('exchange_batch')
