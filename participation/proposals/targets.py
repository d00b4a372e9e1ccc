"""What engagement may point at in proposals: citizens follow and report a proposal,
moderators hide it (imported by ``init_app``, see ``participation.engagement.services.targets``)."""

from core.markdown import plain_text
from participation.engagement.models import TargetType
from participation.engagement.services import page_url, register_target
from participation.proposals.models import Proposal


def _preview(proposal: Proposal, limit: int) -> str:
    return plain_text(f"**{proposal.title}**\n\n{proposal.body}", limit)


register_target(
    TargetType.PROPOSAL,
    Proposal,
    url=page_url("proposals.show", "proposal_id"),
    followable=True,
    reportable=True,
    moderated=True,
    preview=_preview,
)
