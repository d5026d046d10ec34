"""``python -m wfnb``: the same as the ``wfnb`` command."""

from wfnb.cli import main

raise SystemExit(main())
