"""Import every tenant model so SQLAlchemy's registry knows them all (string relationships)."""

from participation.accounts.models import *  # noqa: F401,F403
from participation.debates.models import *  # noqa: F401,F403
from participation.engagement.comments import *  # noqa: F401,F403
from participation.engagement.models import *  # noqa: F401,F403
from participation.processes.models import *  # noqa: F401,F403
from participation.proposals.models import *  # noqa: F401,F403
from participation.surveys.models import *  # noqa: F401,F403
