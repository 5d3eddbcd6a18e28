"""The local Mixpeek backend (needs the ``mixops[local]`` extra).

Public interface (import from the submodules; this package imports nothing so that
``mixops.local.engine`` stays usable without the web stack):

- ``mixops.local.app.create_app(db_path, api_keys=None, seed_files=(), fault_rate=0.0,
  strict_extra_keys=False, *, seed_namespace="default", fault_seed=None) -> FastAPI``
- ``mixops.local.inprocess.local_transport(db_path, namespace, seed_files=(), api_key="sk_local")
  -> httpx.AsyncBaseTransport`` (closing it closes the database)
- ``mixops.local.seed.load_seed(app | LocalState | Database, path, namespace) -> counts``
  (raises ``SeedError``); ``reset_namespace(db_path, namespace, seed_files)`` (``mixops local reset``)
- ``mixops.local.api.namespaces.ensure_namespace(db, name) -> namespace_id``
- ``mixops.cli.serve.serve``: the ``mixops serve`` click command.

Layout: ``db`` (SQLite storage), ``sqlite_store`` (the engines' DocumentStore),
``api/`` (routes, one module per kind; ``api/resources`` holds the
lookup, delete and list handlers they share; ``api/apply_taxonomy`` the backfill task),
``rules`` (update surfaces), ``applications`` (a collection's taxonomy applications and
retriever enrichments, run on every written document), ``seed`` / ``seeded`` (seed files,
and seed documents kept in line with them), ``listing`` (pagination), ``problems`` (error
envelope), ``engine/`` (pure computation).
"""
