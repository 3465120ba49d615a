"""Bulk loading for the benchmark: rows go straight through the driver (executemany on
SQLite, COPY on PostgreSQL), with explicit ids so that children need no round trip."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import Table
from sqlalchemy.engine import Engine

BATCH = 20_000


class Loader:
    def __init__(self, engine: Engine, metadata) -> None:
        self.engine = engine
        self.tables: dict[str, Table] = metadata.tables
        self.is_sqlite = engine.dialect.name == "sqlite"
        self.counts: dict[str, int] = {}
        self.connection = engine.raw_connection()
        if self.is_sqlite:
            cursor = self.connection.cursor()
            # A throw-away benchmark database: speed over durability while loading.
            cursor.execute("PRAGMA foreign_keys=OFF")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.close()

    def insert(self, table_name: str, rows: Iterable[dict]) -> int:
        """Insert dict rows; columns left out get the model's Python default."""
        table = self.tables[table_name]
        columns = [c for c in table.columns]
        names = [c.name for c in columns]
        defaults = [_default_of(c) for c in columns]
        written = 0
        batch: list[tuple] = []
        for row in rows:
            values = []
            for name, default in zip(names, defaults, strict=True):
                value = row[name] if name in row else (default() if callable(default) else default)
                values.append(self._adapt(value))
            batch.append(tuple(values))
            if len(batch) >= BATCH:
                self._write(table_name, names, batch)
                written += len(batch)
                batch = []
        if batch:
            self._write(table_name, names, batch)
            written += len(batch)
        self.counts[table_name] = self.counts.get(table_name, 0) + written
        return written

    def _adapt(self, value):
        if isinstance(value, dict | list):
            return json.dumps(value, ensure_ascii=False)
        if not self.is_sqlite:
            return value
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, bool):
            return int(value)
        return value

    def _write(self, table_name: str, names: list[str], batch: list[tuple]) -> None:
        cursor = self.connection.cursor()
        column_list = ", ".join(f'"{n}"' for n in names)
        if self.is_sqlite:
            marks = ", ".join("?" for _ in names)
            cursor.executemany(f'INSERT INTO "{table_name}" ({column_list}) VALUES ({marks})', batch)
        else:
            with cursor.copy(f'COPY "{table_name}" ({column_list}) FROM STDIN') as copy:
                for row in batch:
                    copy.write_row(row)
        cursor.close()
        self.connection.commit()

    def execute(self, statements) -> None:
        """Run SQLAlchemy statements in one transaction of their own (tables derived from
        the rows written, which are committed)."""
        with self.engine.begin() as connection:
            for statement in statements:
                connection.execute(statement)

    def finish(self) -> None:
        """Move PostgreSQL sequences past the explicit ids, refresh planner statistics (and, on
        PostgreSQL, the visibility map)."""
        cursor = self.connection.cursor()
        if self.is_sqlite:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("ANALYZE")
        else:
            for name in self.counts:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM \"{name}\"), 1))")
            self.connection.commit()
            # As autovacuum leaves a server in use: statistics, and the visibility map without
            # which no index-only scan is planned after a bulk load. Without it, autovacuum
            # ran during the measure itself, and the export read the heap (5.2 s, not 2.8).
            # VACUUM runs outside a transaction; the connection goes back to a pool after.
            driver = self.connection.dbapi_connection
            driver.autocommit = True
            try:
                cursor.execute("VACUUM (ANALYZE)")
            finally:
                driver.autocommit = False
        self.connection.commit()
        cursor.close()
        self.connection.close()


def _default_of(column):
    default = column.default
    if default is None:
        return None
    if default.is_callable:
        return lambda: default.arg(None)
    return default.arg
