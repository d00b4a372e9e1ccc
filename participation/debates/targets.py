"""What engagement may point at in debates: citizens follow a debate, report an argument,
moderators hide it (imported by ``init_app``, see ``participation.engagement.services.targets``).
Comments are engagement's own target."""

from core.db import db
from participation.debates.models import Argument, Debate
from participation.engagement.models import TargetType
from participation.engagement.services import page_url, register_target, target_url


def _argument_url(argument_id: int) -> str | None:
    """The debate's page, scrolled to the argument."""
    argument = db.session.get(Argument, argument_id)
    if argument is None:
        return None
    page = target_url(TargetType.DEBATE, argument.debate_id)
    return f"{page}#argument-{argument_id}" if page else None


register_target(
    TargetType.DEBATE, Debate, url=page_url("debates.show", "debate_id"), followable=True
)
register_target(TargetType.ARGUMENT, Argument, url=_argument_url, reportable=True, moderated=True)
