"""Preset ``partition_for_tensorrt`` options shipped with the package, by name.

    options = tvm_trt.configs.load("jetson-orin")      # or a path to a JSON file
    mod, config = tvm_trt.partition_for_tensorrt(mod, params, **options)

Each preset is a JSON object in this directory (``<name>.json``); ``tvm-trt --config NAME`` uses them.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from typing import Dict, List


def names() -> List[str]:
    """The preset names, sorted."""
    return sorted(e.name[: -len(".json")] for e in resources.files(__name__).iterdir() if e.name.endswith(".json"))


def load(name_or_path: str) -> Dict:
    """The options of preset ``name_or_path`` (e.g. ``"server"``) or of a JSON file at that path.

    A name ending in ``.json`` or holding a path separator is a file (OSError when it cannot be read). Raises
    ValueError naming the presets when the name is unknown, or when the file does not hold a JSON object.
    """
    if os.path.isfile(name_or_path) or name_or_path.endswith(".json") or os.sep in name_or_path:
        with open(name_or_path) as f:  # a missing file raises FileNotFoundError
            text, what = f.read(), repr(name_or_path)
    else:
        entry = resources.files(__name__).joinpath(f"{name_or_path}.json")
        if not entry.is_file():
            raise ValueError(f"no config file or preset named {name_or_path!r}; the presets are {names()}")
        text, what = entry.read_text(), f"preset {name_or_path!r}"
    try:
        config = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"config {what} is not valid JSON: {err}") from None
    if not isinstance(config, dict):
        raise ValueError(f"config {what} must hold a JSON object of partition_for_tensorrt options")
    from ..core.options import CompileOptions

    CompileOptions.from_kwargs(f"config {what}", **config)  # one line naming a bad option or value
    return config
