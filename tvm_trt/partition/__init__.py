"""Partitioning: a Relax module -> offloaded ``tensorrt_N`` functions + the config they carry."""
