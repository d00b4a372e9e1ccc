"""Schedule of the verification data's retention (gathered by core/cron.py)."""

from rq import cron

from core.db import db
from core.jobs import job


@job
def purge_verification_data() -> int:
    """Requesters' and claimants' names, phones, e-mails and proofs go
    VERIFICATION_RETENTION_DAYS after the decision (docs/features/verification.md)."""
    from tenants.verification_retention import anonymise_expired

    count = anonymise_expired()
    db.session.commit()
    return count


# Every day at 04:10.
cron.register(purge_verification_data, "low", cron="10 4 * * *", job_timeout=900)
