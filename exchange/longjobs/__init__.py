"""Long work run as tasks: CSV exports and the decisions import, with their progress.

A task is a row (``long_tasks``): who asked, what, how far it got, and its result (the CSV,
kept in the database: workers run on several hosts, so no local files). A job on the
``tasks`` queue does the work in batches and writes its progress after each one.
See docs/tasks.md.
"""
