"""`python -m asl_live ...` is `asl-live ...`."""

import sys

from .cli import main

sys.exit(main())
