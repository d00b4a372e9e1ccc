"""What engagement may point at in processes: citizens follow a process (imported by
``init_app``, see ``participation.engagement.services.targets``)."""

from participation.engagement.models import TargetType
from participation.engagement.services import page_url, register_target
from participation.processes.models import Process

register_target(
    TargetType.PROCESS,
    Process,
    url=page_url("processes.show", "process_id"),
    followable=True,
)
