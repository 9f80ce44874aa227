"""A team's PostgreSQL database set up as README says: the role script of "A shared team database",
run as written, and connections as each of its roles for SQL of one's own (psql's place)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.conftest import PostgresServer

README = Path(__file__).parent.parent / "README.md"
ROLES = ("grafient_owner", "grafient_sync", "grafient_view")
DATABASE = "grafient"  # as README names it


def readme_role_script() -> list[str]:
    """The SQL statements of README's role script, in order (psql's `\\c grafient` kept as one)."""
    readme = README.read_text()
    match = re.search(r"## A shared team database.*?```sql\n(.*?)```", readme, re.S)
    assert match is not None, "README's role script is missing"
    statements: list[str] = []
    pending: list[str] = []
    for line in match.group(1).splitlines():
        line = line.split("--")[0].strip()
        if line.startswith("\\c "):
            statements.append(line)
            continue
        pending.append(line)
        if line.endswith(";"):
            statements.append(" ".join(" ".join(pending).rstrip(";").split()))
            pending = []
    assert not " ".join(pending).strip(), f"a statement without its semicolon: {pending}"
    return statements


def set_up_readme_team(pg: PostgresServer) -> str:
    """Run README's role script on the test server, as a superuser; the database's name."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    pg.sql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    for role in ROLES:
        pg.sql(f"DROP ROLE IF EXISTS {role}")
        pg.roles.append(role)
    in_database = None
    try:
        for statement in readme_role_script():
            if statement.startswith("\\c "):
                assert statement == f"\\c {DATABASE}", statement
                in_database = create_engine(pg.url_of(DATABASE), poolclass=NullPool, isolation_level="AUTOCOMMIT")
                continue
            if statement.startswith("CREATE DATABASE"):
                pg.made.append(DATABASE)
            if in_database is None:
                pg.sql(statement)
            else:
                with in_database.connect() as connection:
                    connection.execute(text(statement))
        assert in_database is not None, "README's role script never connects to the database"
    finally:
        if in_database is not None:
            in_database.dispose()
    return DATABASE


class As:
    """A plain connection as one role, for SQL a teammate might type in psql."""

    def __init__(self, pg: PostgresServer, database: str, role: str, **connect: Any) -> None:
        import psycopg

        url = pg.url.set(database=database)
        self.connection = psycopg.connect(
            host=url.host, port=url.port, dbname=database, user=role, autocommit=True, **connect
        )

    def run(self, statement: str, *params: object) -> list[tuple[Any, ...]]:
        cursor = self.connection.execute(statement, params or None)
        return list(cursor.fetchall()) if cursor.description else []

    def refusal(self, statement: str, *params: object) -> str:
        """The server's error for `statement` (which must fail), as it says it."""
        import psycopg

        try:
            self.run(statement, *params)
        except psycopg.Error as exc:
            return str(exc).splitlines()[0]
        raise AssertionError(f"the server accepted: {statement}")

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> As:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
