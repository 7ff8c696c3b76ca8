"""Spec -> TensorRT network: the registry's converters add layers (``builder``); FP16 copies of specs (``precision``)."""
