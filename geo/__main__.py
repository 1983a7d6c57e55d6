"""``python -m geo``: the same as the ``flankmap`` command."""

import sys

from geo.cli import main

sys.exit(main())
