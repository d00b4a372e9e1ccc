"""Work done for nobody, so that an answer's timing tells nothing.

A password-reset request for an address without an account must cost what one for a real
account costs (measured before: 47 ms against 79 ms, enough to sort addresses into known and
unknown). :func:`send_decoy_mail` does what ``core.mail.send_mail`` does in the request —
render the mail, build the message, enqueue a job after the commit — but the job,
:func:`discard_mail`, sends nothing. The mail is addressed to a reserved ``.invalid`` address:
the typed address, maybe someone's, never reaches a queue.
"""

from __future__ import annotations

import dataclasses

from flask import current_app

from core.jobs import enqueue_after_commit, job
from core.mail import _domain_of, build_email, render_mail

DECOY_ADDRESS = "personne@pnyx.invalid"


def send_decoy_mail(template: str, **context) -> None:
    from email.utils import formatdate, make_msgid

    message = render_mail(template, to=DECOY_ADDRESS, **context)
    mail_from = current_app.config["MAIL_FROM"]
    headers = {
        "Message-ID": make_msgid(domain=_domain_of(mail_from)),
        "Date": formatdate(localtime=True),
    }
    message = dataclasses.replace(message, headers=headers)
    build_email(message, mail_from)
    enqueue_after_commit(
        discard_mail, message.to_dict(), queue="default", description=f"discard_mail({template})"
    )


@job
def discard_mail(message: dict) -> None:
    """The twin of ``core.mail.deliver_mail`` for a decoy: nothing to send."""
