"""A read-only PostgreSQL login role for a BI tool: schema `marts` and nothing else.

Why a role of its own: `raw_<source>` and `staging` hold personal data (requesters' names,
emails, phone numbers, and comment bodies when `LAND_FREE_TEXT=true`); a BI tool needs only
the aggregated `marts` tables. And a dashboard credential leaks more easily than the
pipeline's, so it must not be able to change anything.

What `grant_bi_role` leaves behind (the same state however often it runs):

* a `LOGIN` role with no attributes (no superuser, createdb, createrole, replication,
  bypassrls) and `default_transaction_read_only = on`;
* `CONNECT` on the database, `USAGE` on `marts` and `SELECT` on every table in it;
* default privileges of the pipeline's role in `marts` granting `SELECT` on tables it creates
  later: the transforms drop and re-create whole marts tables, which would lose per-table
  grants after the next run;
* nothing in the pipeline's other schemas (`raw_*`, `staging`), no `CREATE` on `marts` or
  `public`, and no `TEMPORARY` on the database (taken from `PUBLIC`, which holds it by
  default, and given explicitly to the pipeline's role so the pipeline keeps it).

Identifiers reach SQL only through `Warehouse.quote`; the password never reaches SQL in
clear: it is hashed client-side (libpq's `PQencryptPasswordConn`, the server's
`password_encryption` algorithm) and sent as a bind parameter, so server statement logs hold
the hash at most.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warehouse.core import Warehouse, WarehouseError

#: The schema a BI tool reads.
MARTS_SCHEMA = "marts"
#: PostgreSQL's limit on identifier length (longer names are silently truncated).
MAX_IDENTIFIER_BYTES = 63


@dataclass(frozen=True)
class BiRoleResult:
    """What `grant_bi_role` did, for the command line to report."""

    role: str
    created: bool
    password_set: bool
    pipeline_role: str
    marts_tables: int
    revoked_public_create: bool
    #: Whether the role can still create temporary tables: only when the warehouse URL's
    #: role may not revoke TEMPORARY from PUBLIC (neither the database's owner nor superuser).
    temporary_allowed: bool


def _check_role_name(role: str) -> None:
    """Refuse names PostgreSQL would truncate or reserves, before any SQL runs."""
    if not role or not role.strip():
        raise WarehouseError("the BI role name is empty")
    if len(role.encode()) > MAX_IDENTIFIER_BYTES:
        raise WarehouseError(
            f"the BI role name is longer than {MAX_IDENTIFIER_BYTES} bytes (PostgreSQL would "
            "truncate it)"
        )
    if role.lower().startswith("pg_"):
        raise WarehouseError("role names starting with pg_ are reserved by PostgreSQL")


def _password_verifier(connection: Connection, role: str, password: str) -> str:
    """The password hashed for `role` by libpq, in the server's `password_encryption` format."""
    from psycopg2.extensions import encrypt_password

    raw = connection.connection.dbapi_connection
    return encrypt_password(password, role, scope=raw)


def _other_schemas(connection: Connection) -> list[str]:
    """The pipeline's schemas other than marts: `staging` and each `raw_<source>`."""
    rows = connection.exec_driver_sql(
        "SELECT nspname FROM pg_namespace "
        "WHERE nspname = 'staging' OR nspname LIKE %(raw)s ORDER BY nspname",
        {"raw": "raw\\_%"},
    )
    return [row[0] for row in rows]


def grant_bi_role(
    warehouse: Warehouse,
    role: str,
    password: str | None = None,
    pipeline_role: str | None = None,
) -> BiRoleResult:
    """Create or update `role` as a read-only login that can read schema `marts` only.

    `password` (None: leave the current one; a new role then has none, which only trust,
    peer or certificate authentication accept) is hashed before it is sent.
    `pipeline_role` is the role whose future marts tables the default privileges cover:
    the role the pipeline connects as (default: the warehouse URL's own role, i.e.
    `current_user`). Everything runs in one transaction. Raises `WarehouseError` on DuckDB,
    which has no roles.
    """
    if warehouse.is_duckdb:
        raise WarehouseError(
            "DuckDB has no roles: whoever can open the file can read every schema in it. "
            "Give the BI tool a read-only copy of marts or use PostgreSQL "
            "(see docs/security.md)"
        )
    _check_role_name(role)
    try:
        return _grant(warehouse, role, password, pipeline_role)
    except sa.exc.DBAPIError as exc:
        # The driver's own message only: SQLAlchemy's would add the statement's parameters.
        message = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
        raise WarehouseError(
            f"could not set up BI role {role!r}: {message or type(exc.orig).__name__} (the "
            "warehouse URL's role needs CREATEROLE, or be superuser, and own the marts schema)"
        ) from None


def _grant(
    warehouse: Warehouse, role: str, password: str | None, pipeline_role: str | None
) -> BiRoleResult:
    """`grant_bi_role` itself, in one transaction."""
    q = warehouse.quote
    with warehouse.transaction() as connection:
        current_user, database = connection.exec_driver_sql(
            "SELECT current_user, current_database()"
        ).one()
        owner = pipeline_role or current_user
        if owner == role:
            raise WarehouseError("the BI role cannot be the pipeline's own role")
        exists = connection.exec_driver_sql(
            "SELECT 1 FROM pg_roles WHERE rolname = %(role)s", {"role": role}
        ).scalar() is not None
        memberships = [row[0] for row in connection.exec_driver_sql(
            "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
            "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = %(role)s ORDER BY 1",
            {"role": role},
        )]
        if memberships:
            # A member inherits (or can SET ROLE to) its groups' privileges: "marts only"
            # could not be promised.
            raise WarehouseError(
                f"role {role!r} is a member of {', '.join(memberships)}; revoke those "
                "memberships first (a BI role must hold only its own grants)"
            )
        attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
        connection.exec_driver_sql(
            f"{'ALTER' if exists else 'CREATE'} ROLE {q(role)} {attributes}"
        )
        if password is not None:
            verifier = _password_verifier(connection, role, password)
            connection.exec_driver_sql(
                f"ALTER ROLE {q(role)} PASSWORD %(verifier)s", {"verifier": verifier}
            )
        connection.exec_driver_sql(f"ALTER ROLE {q(role)} SET default_transaction_read_only = on")

        # The database: connect, but no temporary tables. TEMPORARY is PUBLIC's by default,
        # so it is taken from PUBLIC and given back explicitly to the pipeline's role.
        db = q(database)
        connection.exec_driver_sql(f"GRANT CONNECT ON DATABASE {db} TO {q(role)}")
        connection.exec_driver_sql(f"GRANT TEMPORARY ON DATABASE {db} TO {q(owner)}")
        connection.exec_driver_sql(f"REVOKE TEMPORARY ON DATABASE {db} FROM PUBLIC")
        connection.exec_driver_sql(f"REVOKE TEMPORARY, CREATE ON DATABASE {db} FROM {q(role)}")

        # public: no CREATE for the role, nor for PUBLIC where the server still grants it
        # (PostgreSQL 14 and older do by default; 15 and later do not).
        public_creates = connection.exec_driver_sql(
            "SELECT count(*) FROM pg_namespace n, aclexplode(n.nspacl) a "
            "WHERE n.nspname = 'public' AND a.grantee = 0 AND a.privilege_type = 'CREATE'"
        ).scalar()
        if public_creates:
            connection.exec_driver_sql("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        if connection.exec_driver_sql(
            "SELECT 1 FROM pg_namespace WHERE nspname = 'public'"
        ).scalar():
            connection.exec_driver_sql(f"REVOKE CREATE ON SCHEMA public FROM {q(role)}")

        # The personal-data schemas: nothing (undoing any earlier grant).
        for schema in _other_schemas(connection):
            connection.exec_driver_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA {q(schema)} "
                                       f"FROM {q(role)}")
            connection.exec_driver_sql(f"REVOKE ALL ON SCHEMA {q(schema)} FROM {q(role)}")

        # marts: read what is there now and whatever the pipeline creates later.
        marts = q(MARTS_SCHEMA)
        connection.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {marts}")
        connection.exec_driver_sql(f"REVOKE ALL ON SCHEMA {marts} FROM {q(role)}")
        connection.exec_driver_sql(f"GRANT USAGE ON SCHEMA {marts} TO {q(role)}")
        connection.exec_driver_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA {marts} FROM {q(role)}")
        connection.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA {marts} TO {q(role)}")
        default = f"ALTER DEFAULT PRIVILEGES FOR ROLE {q(owner)} IN SCHEMA {marts}"
        connection.exec_driver_sql(f"{default} REVOKE ALL ON TABLES FROM {q(role)}")
        connection.exec_driver_sql(f"{default} GRANT SELECT ON TABLES TO {q(role)}")
        tables = connection.exec_driver_sql(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'v', 'm', 'p', 'f')",
            {"schema": MARTS_SCHEMA},
        ).scalar()
        temporary = connection.exec_driver_sql(
            "SELECT has_database_privilege(%(role)s, current_database(), 'TEMPORARY')",
            {"role": role},
        ).scalar()
    return BiRoleResult(
        role=role,
        created=not exists,
        password_set=password is not None,
        pipeline_role=owner,
        marts_tables=int(tables),
        revoked_public_create=bool(public_creates),
        temporary_allowed=bool(temporary),
    )


def drop_bi_role(warehouse: Warehouse, role: str) -> None:
    """Drop `role` and everything granted to it in this database (tests; decommissioning).

    Roles are cluster-wide: a role with grants in other databases must be cleaned there
    first (`DROP OWNED BY` there), else PostgreSQL refuses the `DROP ROLE`.
    """
    if warehouse.is_duckdb:
        raise WarehouseError("DuckDB has no roles")
    q = warehouse.quote
    with warehouse.transaction() as connection:
        if connection.exec_driver_sql(
            "SELECT 1 FROM pg_roles WHERE rolname = %(role)s", {"role": role}
        ).scalar():
            connection.exec_driver_sql(f"DROP OWNED BY {q(role)}")
            connection.exec_driver_sql(f"DROP ROLE {q(role)}")
