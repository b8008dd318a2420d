"""Performance benchmarks of helpdesk-etl (issue #6): `python -m benchmarks.run --help`.

Nothing here is imported by the pipeline; docs/performance.md explains the figures.
"""
