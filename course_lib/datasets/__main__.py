"""``python -m course_lib.datasets`` (see :mod:`course_lib.datasets.cli`)."""
import sys

from .cli import main

sys.exit(main())
