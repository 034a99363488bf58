"""``python -m dcep``: the same as the ``dcep`` command."""

import sys

from dcep._cli import main

sys.exit(main())
