"""Dagster orchestration of helpdesk-etl: assets, partitions, checks, schedules, resources, CLI."""

import os
import warnings

# dlt reports anonymous usage to telemetry.scalevector.ai unless told not to; a pipeline
# holding customers' data makes no outbound call nobody configured (docs/security.md).
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

# BackfillPolicy.single_run is what lets one run extract a whole backfill range; Dagster
# still labels the parameter beta and would print that on every load of the definitions.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", module="dagster")
