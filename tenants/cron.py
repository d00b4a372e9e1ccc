"""Schedule of the tenants package (gathered by core/cron.py)."""

from rq import cron

from tenants.sweeps import requeue_stuck_provisioning

# Every 5 minutes: tenants stuck in "provisioning" are provisioned again.
cron.register(requeue_stuck_provisioning, "low", interval=300, job_timeout=300)
