"""``python -m analysis`` is the same as the ``quotacast`` console script."""

from analysis.cli import main

raise SystemExit(main())
