"""``python -m dcep``: the same as the ``dcep`` command."""

import sys

from dcep.cli import main

sys.exit(main())
