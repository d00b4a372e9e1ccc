"""Development tools: what a developer's machine and the test suite need, never production.

- ``embedded``: the embedded PostgreSQL and Redis that ``make run`` starts when no server is
  configured, and the servers the test suite uses.

Nothing in the application imports this package; it imports no other part of Pnyx and no
Flask, so ``scripts/run.py`` can use it before the app exists.
"""
