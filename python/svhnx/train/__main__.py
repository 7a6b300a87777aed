"""``python -m svhnx.train TASK [flags]``; see ``--help``. Under ``torchrun`` each process runs this."""

from svhnx.train import distributed
from svhnx.train.cli import main

try:
    raise SystemExit(main())
finally:
    distributed.teardown()
