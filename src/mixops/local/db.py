"""SQLite storage of the local backend: one file, WAL, safe for several processes.

Tables:

- ``resources``: namespaces, collections, retrievers, taxonomies, clusters. One JSON
  body per row, with indexed ``kind``/``namespace_id``/``id``/``name`` columns. Names
  and ids are unique per (namespace, kind): the UNIQUE indexes, not Python checks,
  decide races between processes.
- ``documents`` and ``vectors``: document bodies and one float32 blob per (document,
  vector index). ``generations`` counts writes per collection, so the in-memory caches
  of any process can tell when another process changed a collection.
- ``records``: append-mostly rows that hang off a resource: retriever executions,
  ad-hoc executions, taxonomy versions, cluster runs, tasks.

Concurrency: every write runs in ``BEGIN IMMEDIATE`` with a generous busy_timeout, so a
second writer waits instead of failing; readers never block in WAL mode. Connections
come from a small pool (one per thread at a time) and are closed by :meth:`Database.close`.
"""

from __future__ import annotations

import builtins
import json
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mixops.errors import DatabaseFileError

BUSY_TIMEOUT_MS = 30_000


class WouldWait(Exception):
    """A write attempted on the event loop found another writer holding the database."""


@dataclass
class LoopAttempt:
    """Set (in `ON_LOOP`) while a route runs on the event loop (api/deps.loop_first).

    Its first write transaction must not wait for the lock: it raises `WouldWait`
    instead, before anything was written, and the route re-runs in the thread pool.
    Later transactions of the same route wait as usual: by then it has written, so
    it can no longer start over (the window is one transaction long).
    """

    wrote: bool = False


ON_LOOP: ContextVar[LoopAttempt | None] = ContextVar("mixops_local_on_loop", default=None)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    namespace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS resources_id ON resources(namespace_id, kind, id);
CREATE UNIQUE INDEX IF NOT EXISTS resources_name ON resources(namespace_id, kind, name);

CREATE TABLE IF NOT EXISTS documents (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace_id TEXT NOT NULL,
    collection_id TEXT NOT NULL,
    document_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS documents_id ON documents(namespace_id, collection_id, document_id);

CREATE TABLE IF NOT EXISTS vectors (
    namespace_id TEXT NOT NULL,
    collection_id TEXT NOT NULL,
    index_name TEXT NOT NULL,
    document_id TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vec BLOB NOT NULL,
    PRIMARY KEY (namespace_id, collection_id, index_name, document_id)
);
-- Replacing or deleting a document drops its vectors of every index: without this
-- index each such delete scans the collection's vectors (quadratic bulk loads).
CREATE INDEX IF NOT EXISTS vectors_doc ON vectors(namespace_id, collection_id, document_id);

CREATE TABLE IF NOT EXISTS generations (
    namespace_id TEXT NOT NULL,
    collection_id TEXT NOT NULL,
    gen INTEGER NOT NULL,
    PRIMARY KEY (namespace_id, collection_id)
);

CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    namespace_id TEXT NOT NULL,
    parent_id TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS records_id ON records(kind, namespace_id, id);
CREATE INDEX IF NOT EXISTS records_parent ON records(kind, namespace_id, parent_id, seq);
-- Deleting a retriever, taxonomy or cluster drops its records of every kind.
CREATE INDEX IF NOT EXISTS records_owner ON records(namespace_id, parent_id);
"""

# Namespaces are resources of the pseudo-namespace "" (they scope everything else).
ROOT = ""


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class UniqueViolation(Exception):
    """A row with the same (namespace, kind, id) or (namespace, kind, name) exists."""

    def __init__(self, column: str) -> None:
        super().__init__(column)
        self.column = column  # "id" or "name"


@dataclass(frozen=True)
class Row:
    kind: str
    namespace_id: str
    id: str
    name: str
    body: dict[str, Any]
    created_at: str
    updated_at: str
    seq: int


@dataclass(frozen=True)
class StoredDocument:
    document_id: str
    body: dict[str, Any]
    created_at: str
    updated_at: str


def _loads(text: str) -> dict[str, Any]:
    value = json.loads(text)
    assert isinstance(value, dict)
    return value


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _row(r: sqlite3.Row) -> Row:
    return Row(
        kind=r["kind"],
        namespace_id=r["namespace_id"],
        id=r["id"],
        name=r["name"],
        body=_loads(r["body"]),
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        seq=r["seq"],
    )


def _given_or(
    conn: sqlite3.Connection | None, own: Callable[[], AbstractContextManager[sqlite3.Connection]]
) -> AbstractContextManager[sqlite3.Connection]:
    """The caller's connection when it passes one (its transaction commits), else ``own()``."""
    return nullcontext(conn) if conn is not None else own()


class Database:
    """One SQLite file. Thread-safe; cheap to share across an app's requests."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._pool: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        try:
            with self.connection() as conn:
                conn.execute("PRAGMA journal_mode=WAL")
                with self._write(conn):
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement)
        except sqlite3.DatabaseError as exc:  # "file is not a database", a locked or read-only file
            self.close()
            raise DatabaseFileError(
                f"{self.path}: not usable as the local backend's SQLite database ({exc}); point the "
                "environment's `db:` (or `mixops serve --db`) at a new file, or move this one away"
            ) from exc

    # -- connections ---------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves (BEGIN IMMEDIATE for writes).
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous=NORMAL")
        with self._lock:
            self._all.append(conn)
        return conn

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = self._pool.get_nowait()
        except queue.Empty:
            conn = self._open()
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.rollback()
            self._pool.put(conn)

    @staticmethod
    @contextmanager
    def _write(conn: sqlite3.Connection) -> Iterator[None]:
        attempt = ON_LOOP.get()
        if attempt is not None and not attempt.wrote:
            conn.execute("PRAGMA busy_timeout=0")
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                    raise WouldWait() from exc
                raise
            finally:
                conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            attempt.wrote = True
        else:
            conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE): all or nothing, serialised across processes."""
        with self.connection() as conn, self._write(conn):
            yield conn

    def close(self) -> None:
        """Close every idle connection. The object stays usable: a later call reconnects
        (an ASGI lifespan may shut down and start up again around the same app)."""
        with self._lock:
            while True:
                try:
                    conn = self._pool.get_nowait()
                except queue.Empty:
                    break
                conn.close()
                self._all.remove(conn)

    # -- resources -----------------------------------------------------------------

    def insert(
        self,
        namespace_id: str,
        kind: str,
        id_: str,
        name: str,
        body: dict[str, Any],
        conn: sqlite3.Connection | None = None,
    ) -> Row:
        ts = now_iso()
        body = {**body, "created_at": body.get("created_at") or ts, "updated_at": ts}
        sql = (
            "INSERT INTO resources(kind, namespace_id, id, name, body, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        args = (kind, namespace_id, id_, name, _dumps(body), body["created_at"], ts)
        try:
            with _given_or(conn, self.transaction) as c:
                cur = c.execute(sql, args)
        except sqlite3.IntegrityError as exc:
            raise UniqueViolation("name" if "name" in str(exc) else "id") from exc
        return Row(kind, namespace_id, id_, name, body, body["created_at"], ts, cur.lastrowid or 0)

    def get(self, namespace_id: str, kind: str, identifier: str, conn: sqlite3.Connection | None = None) -> Row | None:
        """By id first, then by name (the API accepts either in most paths)."""
        sql = (
            "SELECT * FROM resources WHERE namespace_id = ? AND kind = ? AND (id = ? OR name = ?)"
            " ORDER BY (id = ?) DESC LIMIT 1"
        )
        r = self._first(sql, (namespace_id, kind, identifier, identifier, identifier), conn)
        return _row(r) if r else None

    def _first(self, sql: str, args: tuple[Any, ...], conn: sqlite3.Connection | None = None) -> sqlite3.Row | None:
        """The first row ``sql`` reads (on the caller's connection when it passes one), or None."""
        with _given_or(conn, self.connection) as c:
            row: sqlite3.Row | None = c.execute(sql, args).fetchone()
        return row

    def get_by_id(self, namespace_id: str, kind: str, id_: str) -> Row | None:
        with self.connection() as c:
            return self._by_id(c, namespace_id, kind, id_)

    @staticmethod
    def _by_id(conn: sqlite3.Connection, namespace_id: str, kind: str, id_: str) -> Row | None:
        r = conn.execute(
            "SELECT * FROM resources WHERE namespace_id = ? AND kind = ? AND id = ?",
            (namespace_id, kind, id_),
        ).fetchone()
        return _row(r) if r else None

    def list(self, namespace_id: str, kind: str) -> builtins.list[Row]:
        with self.connection() as c:
            rows = c.execute(
                "SELECT * FROM resources WHERE namespace_id = ? AND kind = ? ORDER BY seq",
                (namespace_id, kind),
            ).fetchall()
        return [_row(r) for r in rows]

    def update(
        self, row: Row, body: dict[str, Any], *, name: str | None = None, conn: sqlite3.Connection | None = None
    ) -> Row:
        """Store ``body`` (and ``name``, when renamed) for the resource ``row`` was read from.

        Taking the row, not its key, keeps a write from landing on another namespace's or
        kind's resource through a mixed-up argument.
        """
        ts = now_iso()
        body = {**body, "updated_at": ts}
        sql = "UPDATE resources SET name = ?, body = ?, updated_at = ? WHERE namespace_id = ? AND kind = ? AND id = ?"
        args = (row.name if name is None else name, _dumps(body), ts, row.namespace_id, row.kind, row.id)
        try:
            with _given_or(conn, self.transaction) as c:
                c.execute(sql, args)
                updated = self._by_id(c, row.namespace_id, row.kind, row.id)
        except sqlite3.IntegrityError as exc:
            raise UniqueViolation("name") from exc
        if updated is None:
            raise KeyError(row.id)
        return updated

    def delete(self, namespace_id: str, kind: str, id_: str) -> bool:
        """Delete a resource and everything that hangs off it (documents, records)."""
        with self.transaction() as c:
            cur = c.execute(
                "DELETE FROM resources WHERE namespace_id = ? AND kind = ? AND id = ?",
                (namespace_id, kind, id_),
            )
            if not cur.rowcount:
                return False
            if kind == "namespace":
                for table in ("resources", "documents", "vectors", "generations", "records"):
                    c.execute(f"DELETE FROM {table} WHERE namespace_id = ?", (id_,))
            elif kind == "collection":
                for table in ("documents", "vectors"):
                    c.execute(
                        f"DELETE FROM {table} WHERE namespace_id = ? AND collection_id = ?",
                        (namespace_id, id_),
                    )
                self._bump(c, namespace_id, id_)
            else:
                c.execute("DELETE FROM records WHERE namespace_id = ? AND parent_id = ?", (namespace_id, id_))
        return True

    # -- documents -----------------------------------------------------------------

    @staticmethod
    def _bump(conn: sqlite3.Connection, namespace_id: str, collection_id: str) -> None:
        conn.execute(
            "INSERT INTO generations(namespace_id, collection_id, gen) VALUES (?, ?, 1)"
            " ON CONFLICT(namespace_id, collection_id) DO UPDATE SET gen = gen + 1",
            (namespace_id, collection_id),
        )

    def generation(self, namespace_id: str, collection_id: str) -> int:
        sql = "SELECT gen FROM generations WHERE namespace_id = ? AND collection_id = ?"
        r = self._first(sql, (namespace_id, collection_id))
        return int(r["gen"]) if r else 0

    def put_documents(
        self,
        namespace_id: str,
        collection_id: str,
        documents: Sequence[tuple[str, dict[str, Any], dict[str, npt.NDArray[np.float32]]]],
        replace_vectors: bool = True,
    ) -> builtins.list[StoredDocument]:
        """Insert or replace documents ``(document_id, body, {index_name: vector})`` at once.

        ``replace_vectors`` drops a replaced document's vectors that are not given again.
        """
        ts = now_iso()
        out: builtins.list[StoredDocument] = []
        with self.transaction() as c:
            for document_id, body, vecs in documents:
                old = c.execute(
                    "SELECT created_at FROM documents WHERE namespace_id = ? AND collection_id = ? AND document_id = ?",
                    (namespace_id, collection_id, document_id),
                ).fetchone()
                created = old["created_at"] if old else ts
                c.execute(
                    "INSERT INTO documents(namespace_id, collection_id, document_id, body, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(namespace_id, collection_id, document_id)"
                    " DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
                    (namespace_id, collection_id, document_id, _dumps(body), created, ts),
                )
                if replace_vectors:
                    c.execute(
                        "DELETE FROM vectors WHERE namespace_id = ? AND collection_id = ? AND document_id = ?",
                        (namespace_id, collection_id, document_id),
                    )
                c.executemany(
                    "INSERT OR REPLACE INTO vectors(namespace_id, collection_id, index_name, document_id, dim, vec)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (
                            namespace_id,
                            collection_id,
                            index,
                            document_id,
                            int(v.shape[0]),
                            np.ascontiguousarray(v, dtype=np.float32).tobytes(),
                        )
                        for index, v in vecs.items()
                    ],
                )
                out.append(StoredDocument(document_id, body, created, ts))
            self._bump(c, namespace_id, collection_id)
        return out

    def get_document(self, namespace_id: str, collection_id: str, document_id: str) -> StoredDocument | None:
        sql = "SELECT * FROM documents WHERE namespace_id = ? AND collection_id = ? AND document_id = ?"
        r = self._first(sql, (namespace_id, collection_id, document_id))
        if r is None:
            return None
        return StoredDocument(r["document_id"], _loads(r["body"]), r["created_at"], r["updated_at"])

    def documents(self, namespace_id: str, collection_id: str) -> builtins.list[StoredDocument]:
        with self.connection() as c:
            rows = c.execute(
                "SELECT document_id, body, created_at, updated_at FROM documents"
                " WHERE namespace_id = ? AND collection_id = ? ORDER BY seq",
                (namespace_id, collection_id),
            ).fetchall()
        return [StoredDocument(r[0], _loads(r[1]), r[2], r[3]) for r in rows]

    def count_documents(self, namespace_id: str, collection_id: str) -> int:
        r = self._first(
            "SELECT COUNT(*) FROM documents WHERE namespace_id = ? AND collection_id = ?", (namespace_id, collection_id)
        )
        return int(r[0]) if r else 0

    def document_vectors(
        self, namespace_id: str, collection_id: str, document_id: str
    ) -> dict[str, builtins.list[float]]:
        with self.connection() as c:
            rows = c.execute(
                "SELECT index_name, vec FROM vectors WHERE namespace_id = ? AND collection_id = ? AND document_id = ?",
                (namespace_id, collection_id, document_id),
            ).fetchall()
        return {r[0]: np.frombuffer(r[1], dtype=np.float32).tolist() for r in rows}

    def delete_document(self, namespace_id: str, collection_id: str, document_id: str) -> bool:
        with self.transaction() as c:
            cur = c.execute(
                "DELETE FROM documents WHERE namespace_id = ? AND collection_id = ? AND document_id = ?",
                (namespace_id, collection_id, document_id),
            )
            c.execute(
                "DELETE FROM vectors WHERE namespace_id = ? AND collection_id = ? AND document_id = ?",
                (namespace_id, collection_id, document_id),
            )
            if cur.rowcount:
                self._bump(c, namespace_id, collection_id)
        return bool(cur.rowcount)

    def vectors(
        self, namespace_id: str, collection_id: str, index_name: str
    ) -> tuple[builtins.list[str], npt.NDArray[np.float32]]:
        with self.connection() as c:
            rows = c.execute(
                "SELECT document_id, dim, vec FROM vectors WHERE namespace_id = ? AND collection_id = ?"
                " AND index_name = ? ORDER BY document_id",
                (namespace_id, collection_id, index_name),
            ).fetchall()
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32)
        dim = int(rows[0][1])
        # Dimensions are checked on write; a mismatch here would be a corrupted row, skip it.
        kept = [r for r in rows if int(r[1]) == dim]
        matrix = np.frombuffer(b"".join(r[2] for r in kept), dtype=np.float32).reshape(len(kept), dim)
        return [r[0] for r in kept], matrix

    # -- records -------------------------------------------------------------------

    def put_record(self, namespace_id: str, kind: str, parent_id: str, id_: str, body: dict[str, Any]) -> None:
        """Insert or replace one record (executions, versions, runs, tasks)."""
        with self.transaction() as c:
            c.execute(
                "INSERT INTO records(kind, namespace_id, parent_id, id, body, created_at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(kind, namespace_id, id) DO UPDATE SET body = excluded.body",
                (kind, namespace_id, parent_id, id_, _dumps(body), now_iso()),
            )

    def get_record(self, namespace_id: str | None, kind: str, id_: str) -> dict[str, Any] | None:
        """One record; ``namespace_id=None`` looks across namespaces (tasks)."""
        if namespace_id is None:
            r = self._first("SELECT body FROM records WHERE kind = ? AND id = ?", (kind, id_))
        else:
            r = self._first(
                "SELECT body FROM records WHERE kind = ? AND namespace_id = ? AND id = ?", (kind, namespace_id, id_)
            )
        return _loads(r[0]) if r else None

    def find_record(self, kind: str, id_: str) -> tuple[str, str, dict[str, Any]] | None:
        """(namespace id, parent id, body) of the record ``id_`` of ``kind`` in any namespace (tasks)."""
        r = self._first("SELECT namespace_id, parent_id, body FROM records WHERE kind = ? AND id = ?", (kind, id_))
        return (str(r[0]), str(r[1]), _loads(r[2])) if r else None

    def list_records(self, namespace_id: str, kind: str, parent_id: str | None) -> builtins.list[dict[str, Any]]:
        """Records of a kind (optionally under one parent), oldest first."""
        with self.connection() as c:
            if parent_id is None:
                rows = c.execute(
                    "SELECT body FROM records WHERE kind = ? AND namespace_id = ? ORDER BY seq",
                    (kind, namespace_id),
                ).fetchall()
            else:
                rows = c.execute(
                    "SELECT body FROM records WHERE kind = ? AND namespace_id = ? AND parent_id = ? ORDER BY seq",
                    (kind, namespace_id, parent_id),
                ).fetchall()
        return [_loads(r[0]) for r in rows]
