"""SQL that turns raw landed data into the canonical staging model and the marts.

Layers (one query per file, named after the table it builds):
- `staging/<source>/<table>.sql`: one source's rows of canonical table `staging.<table>`;
  the canonical table is the UNION ALL of every configured source's query.
- `intermediate/<table>.sql`: one reusable computation each, built into `staging.<table>`.
- `marts/<table>.sql`: what BI reads, built into `marts.<table>`.
"""

from transforms.models import (
    ALL_MODELS,
    INTERMEDIATE_MODELS,
    MART_MODELS,
    STAGING_MODELS,
    Model,
    staging_sql,
)
from transforms.runner import ColumnsChanged, replace_date_range, replace_table, replace_view

__all__ = [
    "ALL_MODELS",
    "ColumnsChanged",
    "INTERMEDIATE_MODELS",
    "MART_MODELS",
    "STAGING_MODELS",
    "Model",
    "replace_date_range",
    "replace_table",
    "replace_view",
    "staging_sql",
]
