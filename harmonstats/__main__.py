"""``python -m harmonstats`` runs the ``harmonstats`` command."""

import sys

from harmonstats.cli import main

sys.exit(main())
