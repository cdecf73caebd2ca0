"""``python -m aurora_xr.cli``: the ``aurora-xr`` command."""

import sys

from .main import main

sys.exit(main())
