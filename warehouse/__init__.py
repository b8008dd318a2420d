"""The warehouse: one SQLAlchemy URL gives both the SQL engine and the dlt destination.

DuckDB (an embedded file, the default) and PostgreSQL share one code path: the
transforms read exactly the database dlt loaded into.
"""

from warehouse.bi_role import BiRoleResult, drop_bi_role, grant_bi_role
from warehouse.core import DEFAULT_WAREHOUSE_URL, SCHEMAS, Warehouse

__all__ = [
    "DEFAULT_WAREHOUSE_URL",
    "SCHEMAS",
    "BiRoleResult",
    "Warehouse",
    "drop_bi_role",
    "grant_bi_role",
]
