"""categories partnerships

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 03:21:50.749244
"""
from alembic import op
import sqlalchemy as sa
import exchange.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


# The taxonomy as shipped: (id, sector, 中文, English). Later changes are new migrations.
CATEGORIES = [
    ("stroller", "mother_baby", "童车/婴儿推车", "Strollers & prams"),
    ("maternity", "mother_baby", "孕产用品", "Maternity products"),
    ("baby_care", "mother_baby", "婴童护理", "Baby care"),
    ("baby_formula", "mother_baby", "奶粉辅食", "Formula & baby food"),
    ("toys", "mother_baby", "玩具", "Toys"),
    ("kids_clothing", "mother_baby", "童装童鞋", "Children's clothing"),
    ("hardware", "home_building", "五金工具", "Hardware & tools"),
    ("building_materials", "home_building", "建材", "Building materials"),
    ("tiles", "home_building", "瓷砖地板", "Tiles & flooring"),
    ("paint", "home_building", "涂料油漆", "Paint & coatings"),
    ("home_decoration", "home_building", "家装设计", "Home decoration & design"),
    ("furniture", "home_building", "家具", "Furniture"),
    ("lighting", "home_building", "灯具照明", "Lighting"),
    ("home_textiles", "home_building", "家纺", "Home textiles"),
    ("kitchen_bath", "home_building", "厨卫", "Kitchen & bath"),
    ("bakery", "food", "烘焙蛋糕", "Bakery & cakes"),
    ("tea", "food", "茶叶茶具", "Tea"),
    ("fresh_fruit", "food", "水果生鲜", "Fruit & fresh food"),
    ("restaurant", "food", "餐厅", "Restaurant"),
    ("wine_spirits", "food", "酒类", "Wine & spirits"),
    ("cosmetics", "beauty", "化妆品", "Cosmetics"),
    ("hair_salon", "beauty", "美发", "Hair salon"),
    ("nail_salon", "beauty", "美甲", "Nail salon"),
    ("spa", "beauty", "美容养生", "Beauty spa"),
    ("early_education", "education", "早教", "Early education"),
    ("tutoring", "education", "课外辅导", "Tutoring"),
    ("language_school", "education", "语言培训", "Language school"),
    ("art_school", "education", "艺术培训", "Art & music school"),
    ("bookstore", "education", "书店", "Bookstore"),
    ("pet_supplies", "pets", "宠物用品", "Pet supplies"),
    ("pet_grooming", "pets", "宠物美容", "Pet grooming"),
    ("vet_clinic", "pets", "宠物医院", "Veterinary clinic"),
    ("sporting_goods", "sports", "体育用品", "Sporting goods"),
    ("gym", "sports", "健身房", "Gym & fitness"),
    ("bicycles", "sports", "自行车", "Bicycles"),
    ("outdoor_gear", "sports", "户外装备", "Outdoor gear"),
    ("car_wash", "auto", "洗车美容", "Car wash & detailing"),
    ("auto_repair", "auto", "汽车维修", "Car repair"),
    ("auto_parts", "auto", "汽车用品", "Car parts & accessories"),
    ("driving_school", "auto", "驾校", "Driving school"),
    ("mobile_phones", "electronics", "手机数码", "Phones & gadgets"),
    ("computers", "electronics", "电脑办公", "Computers"),
    ("appliances", "electronics", "家用电器", "Home appliances"),
    ("wedding", "services", "婚庆", "Wedding services"),
    ("photography", "services", "摄影写真", "Photography studio"),
    ("kids_photography", "services", "儿童摄影", "Children's photography"),
    ("moving", "services", "搬家", "Moving"),
    ("housekeeping", "services", "家政保洁", "Housekeeping & cleaning"),
    ("laundry", "services", "洗衣", "Laundry"),
]

# Pairs whose customers need each other's goods next (stored in both directions).
COMPLEMENTS = [
    ("stroller", "maternity"), ("stroller", "baby_care"), ("stroller", "baby_formula"),
    ("stroller", "toys"), ("stroller", "kids_clothing"), ("stroller", "kids_photography"),
    ("stroller", "early_education"),
    ("maternity", "baby_care"), ("maternity", "baby_formula"), ("maternity", "kids_photography"),
    ("maternity", "housekeeping"), ("maternity", "kids_clothing"),
    ("baby_care", "baby_formula"), ("toys", "kids_clothing"), ("toys", "early_education"),
    ("toys", "bookstore"), ("toys", "kids_photography"), ("kids_clothing", "kids_photography"),
    ("early_education", "bookstore"),
    ("hardware", "home_decoration"), ("hardware", "furniture"), ("hardware", "lighting"),
    ("building_materials", "home_decoration"), ("tiles", "home_decoration"),
    ("paint", "home_decoration"), ("furniture", "home_decoration"), ("lighting", "home_decoration"),
    ("kitchen_bath", "home_decoration"), ("appliances", "home_decoration"),
    ("home_textiles", "furniture"), ("kitchen_bath", "appliances"), ("moving", "furniture"),
    ("housekeeping", "home_decoration"), ("moving", "housekeeping"),
    ("bakery", "tea"), ("bakery", "fresh_fruit"), ("restaurant", "wine_spirits"), ("tea", "bookstore"),
    ("cosmetics", "hair_salon"), ("cosmetics", "nail_salon"), ("cosmetics", "spa"),
    ("hair_salon", "nail_salon"), ("spa", "gym"),
    ("tutoring", "bookstore"), ("language_school", "bookstore"), ("art_school", "bookstore"),
    ("pet_supplies", "pet_grooming"), ("pet_supplies", "vet_clinic"), ("pet_grooming", "vet_clinic"),
    ("gym", "sporting_goods"), ("bicycles", "outdoor_gear"), ("gym", "cosmetics"),
    ("car_wash", "auto_parts"), ("car_wash", "auto_repair"), ("driving_school", "auto_parts"),
    ("driving_school", "car_wash"),
    ("mobile_phones", "appliances"),
    ("wedding", "photography"), ("wedding", "furniture"), ("wedding", "home_textiles"),
    ("wedding", "wine_spirits"), ("wedding", "bakery"), ("wedding", "cosmetics"),
    ("laundry", "housekeeping"), ("laundry", "home_textiles"),
]

# Different categories whose shops sell to the same need (stored in both directions).
COMPETITORS = [
    ("hardware", "building_materials"), ("tiles", "building_materials"),
    ("paint", "building_materials"), ("sporting_goods", "outdoor_gear"),
    ("mobile_phones", "computers"), ("photography", "kids_photography"),
    ("auto_parts", "auto_repair"), ("tutoring", "language_school"), ("hair_salon", "spa"),
]


def _load_taxonomy():
    categories = sa.table("categories", sa.column("id"), sa.column("sector"), sa.column("name_zh"),
                          sa.column("name_en"))
    relations = sa.table("category_relations", sa.column("category_id"), sa.column("related_id"),
                         sa.column("kind"))
    op.bulk_insert(categories, [dict(id=i, sector=s, name_zh=zh, name_en=en)
                                for i, s, zh, en in CATEGORIES])
    rows = []
    for kind, pairs in (("complements", COMPLEMENTS), ("competitors", COMPETITORS)):
        for a, b in pairs:
            rows += [dict(category_id=a, related_id=b, kind=kind),
                     dict(category_id=b, related_id=a, kind=kind)]
    op.bulk_insert(relations, rows)


def upgrade():
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table('categories',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('sector', sa.String(length=20), nullable=False),
    sa.Column('name_zh', sa.String(length=40), nullable=False),
    sa.Column('name_en', sa.String(length=60), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_categories'))
    )
    op.create_table('category_relations',
    sa.Column('category_id', sa.String(length=40), nullable=False),
    sa.Column('related_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.CheckConstraint("kind IN ('complements', 'competitors')", name=op.f('ck_category_relations_kind_known')),
    sa.CheckConstraint('category_id <> related_id', name=op.f('ck_category_relations_not_self')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_category_relations_category_id_categories')),
    sa.ForeignKeyConstraint(['related_id'], ['categories.id'], name=op.f('fk_category_relations_related_id_categories')),
    sa.PrimaryKeyConstraint('category_id', 'related_id', name=op.f('pk_category_relations'))
    )
    op.create_table('merchant_categories',
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_merchant_categories_category_id_categories')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_merchant_categories_merchant_id_merchants')),
    sa.PrimaryKeyConstraint('merchant_id', 'category_id', name=op.f('pk_merchant_categories'))
    )
    with op.batch_alter_table('merchant_categories', schema=None) as batch_op:
        batch_op.create_index('ix_merchant_categories_category_merchant', ['category_id', 'merchant_id'], unique=False)

    op.create_table('partnerships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposer_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('low_id', sa.Integer(), nullable=False),
    sa.Column('high_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('paused_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', exchange.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', exchange.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("paused_by_id IS NULL OR status = 'paused'", name=op.f('ck_partnerships_paused_by_only_when_paused')),
    sa.CheckConstraint("status IN ('proposed', 'active', 'declined', 'paused', 'terminated')", name=op.f('ck_partnerships_status_known')),
    sa.CheckConstraint('low_id < high_id', name=op.f('ck_partnerships_pair_ordered')),
    sa.ForeignKeyConstraint(['high_id'], ['merchants.id'], name=op.f('fk_partnerships_high_id_merchants')),
    sa.ForeignKeyConstraint(['low_id'], ['merchants.id'], name=op.f('fk_partnerships_low_id_merchants')),
    sa.ForeignKeyConstraint(['partner_id'], ['merchants.id'], name=op.f('fk_partnerships_partner_id_merchants')),
    sa.ForeignKeyConstraint(['paused_by_id'], ['merchants.id'], name=op.f('fk_partnerships_paused_by_id_merchants')),
    sa.ForeignKeyConstraint(['proposer_id'], ['merchants.id'], name=op.f('fk_partnerships_proposer_id_merchants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partnerships'))
    )
    with op.batch_alter_table('partnerships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partnerships_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_partnerships_proposer_id'), ['proposer_id'], unique=False)
        batch_op.create_index('uq_partnerships_live_pair', ['low_id', 'high_id'], unique=True, sqlite_where=sa.text("status IN ('proposed', 'active', 'paused')"), postgresql_where=sa.text("status IN ('proposed', 'active', 'paused')"))

    op.create_table('partnership_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=False),
    sa.Column('commission_type', sa.String(length=8), nullable=False),
    sa.Column('rate_bps', sa.Integer(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('monthly_cap', sa.BigInteger(), nullable=True),
    sa.Column('starts_at', exchange.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ends_at', exchange.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('proposed_at', exchange.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', exchange.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('effective_from', exchange.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('effective_until', exchange.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(commission_type = 'percent' AND rate_bps BETWEEN 0 AND 10000 AND amount IS NULL) OR (commission_type = 'fixed' AND amount >= 0 AND rate_bps IS NULL)", name=op.f('ck_partnership_terms_commission_shape')),
    sa.CheckConstraint("status IN ('proposed', 'accepted', 'declined', 'withdrawn', 'superseded')", name=op.f('ck_partnership_terms_status_known')),
    sa.CheckConstraint('ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at', name=op.f('ck_partnership_terms_window')),
    sa.CheckConstraint('monthly_cap IS NULL OR monthly_cap > 0', name=op.f('ck_partnership_terms_cap_positive')),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_partnership_terms_partnership_id_partnerships')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['merchants.id'], name=op.f('fk_partnership_terms_proposed_by_id_merchants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partnership_terms')),
    sa.UniqueConstraint('partnership_id', 'version', name=op.f('uq_partnership_terms_partnership_id_version'))
    )
    with op.batch_alter_table('partnership_terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partnership_terms_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('partner_search_index',
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.String(length=40), nullable=False),
    sa.Column('city', sa.String(length=60), nullable=False),
    sa.Column('price_tier', sa.Integer(), nullable=False),
    sa.Column('scale_rank', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('categories', sa.String(length=250), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_partner_search_index_category_id_categories')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_partner_search_index_merchant_id_merchants')),
    sa.PrimaryKeyConstraint('merchant_id', 'category_id', name=op.f('pk_partner_search_index'))
    )
    with op.batch_alter_table('partner_search_index', schema=None) as batch_op:
        batch_op.create_index('ix_partner_search_category', ['category_id', 'active', 'merchant_id', 'city', 'price_tier', 'scale_rank', 'categories'], unique=False)

    # ### end Alembic commands ###
    _load_taxonomy()


def downgrade():
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('partner_search_index', schema=None) as batch_op:
        batch_op.drop_index('ix_partner_search_category')

    op.drop_table('partner_search_index')
    with op.batch_alter_table('partnership_terms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partnership_terms_partnership_id'))

    op.drop_table('partnership_terms')
    with op.batch_alter_table('partnerships', schema=None) as batch_op:
        batch_op.drop_index('uq_partnerships_live_pair', sqlite_where=sa.text("status IN ('proposed', 'active', 'paused')"), postgresql_where=sa.text("status IN ('proposed', 'active', 'paused')"))
        batch_op.drop_index(batch_op.f('ix_partnerships_proposer_id'))
        batch_op.drop_index(batch_op.f('ix_partnerships_partner_id'))

    op.drop_table('partnerships')
    with op.batch_alter_table('merchant_categories', schema=None) as batch_op:
        batch_op.drop_index('ix_merchant_categories_category_merchant')

    op.drop_table('merchant_categories')
    op.drop_table('category_relations')
    op.drop_table('categories')
    # ### end Alembic commands ###
