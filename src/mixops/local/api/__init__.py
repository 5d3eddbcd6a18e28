"""HTTP routes of the local backend, one module per resource kind.

Routes whose work is one or two indexed SQLite statements on a single resource
(create, get, patch, delete, clone of one retriever, taxonomy or cluster) are
wrapped in `deps.loop_first`: they run on the event loop unless they would wait
for the write lock. Everything whose cost grows with the data (lists, executions,
clustering, documents, collections and namespaces, whose views count documents)
stays a plain `def`, which FastAPI runs in its thread pool.
"""
