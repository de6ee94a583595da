"""``python -m tools.simulator``."""

import sys

from .cli import main

sys.exit(main())
