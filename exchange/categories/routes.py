from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from . import services

blp = Blueprint("categories", __name__, url_prefix="/api/v1", description="The category taxonomy")


class CategoryNameSchema(ma.Schema):
    zh_cn = ma.fields.String(data_key="zh-CN")
    en = ma.fields.String()


class CategorySchema(ma.Schema):
    id = ma.fields.String()
    sector = ma.fields.String()
    name = ma.fields.Nested(CategoryNameSchema)
    complements = ma.fields.List(ma.fields.String())
    competitors = ma.fields.List(ma.fields.String())


class CategoryListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CategorySchema))


@blp.route("/categories")
class Categories(MethodView):
    @blp.response(200, CategoryListSchema)
    def get(self):
        """Every category with the categories it complements and competes with (public)."""
        return {"items": services.list_categories()}
