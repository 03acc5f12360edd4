"""``python -m aisc``."""

from aisc.cli import main

raise SystemExit(main())
