"""``python -m haralick_learn.cli``: the haralick-learn command."""

import sys

from . import main

sys.exit(main())
