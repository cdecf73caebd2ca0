"""``python -m aurora_xr.cli``: the ``aurora-xr`` command."""

import sys

from .program import main

sys.exit(main())
