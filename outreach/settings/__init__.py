"""Settings, split by concern. Every value that differs between machines comes from the environment.

`outreach.settings` is what `make run` and `make test` use; `outreach.settings.production` adds the
hardening and refuses to start with development conveniences switched on.
"""

from .core import *  # noqa: F403
from .integrations import *  # noqa: F403
from .observability import *  # noqa: F403
from .security import *  # noqa: F403
from .tasks import *  # noqa: F403
