"""HTTP routes of the local backend, one module per resource kind.

Which routes are `async def`: those whose work is one or two indexed SQLite
statements on a single resource (create, get, patch, delete, clone of one
retriever, taxonomy, cluster...). They run on the event loop, because FastAPI's
hop to its thread pool and back costs more than the work itself (measured: 1,000
retriever creates at 16 in flight, 3.1 s -> 2.5 s). Everything whose cost grows
with the data (lists, executions, clustering, documents, deleting a collection
or namespace with its contents) stays a plain `def` and runs in the thread pool,
so it never stalls other requests. HAZARD: an async route must not wait on
anything slow; SQLite in WAL mode never makes a reader wait, and a writer waits
only for another writer's short transaction.
"""
