"""Evaluate a trained run or checkpoint: ``python -m svhnx.evaluate RUN_OR_CHECKPOINT``."""
