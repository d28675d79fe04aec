"""`python -m agent` is the `gpiot` command."""

import sys

from agent.cli import main

sys.exit(main())
