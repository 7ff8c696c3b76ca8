"""``python -m tvm_trt.cli``."""

from .entry import main

raise SystemExit(main())
