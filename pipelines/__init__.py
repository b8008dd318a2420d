"""Dagster orchestration of helpdesk-etl: assets, partitions, checks, schedules, resources, CLI."""

import warnings

# BackfillPolicy.single_run is what lets one run extract a whole backfill range; Dagster
# still labels the parameter beta and would print that on every load of the definitions.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", module="dagster")
