"""`python -m asl_live ...` is `asl-live ...`."""

import sys

from asl_live.cli import main

sys.exit(main())
