"""``python -m svhnx.train TASK [flags]``; see ``--help``."""

from svhnx.train.cli import main

raise SystemExit(main())
