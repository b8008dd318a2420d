"""``python -m sandbox``: serve a simulated Zendesk API."""

import sys

from sandbox.cli import main

sys.exit(main())
