"""``python -m tvm_trt.cli``."""
from .main import main

raise SystemExit(main())
