"""Datasets: MNIST digits, synthetic sequences, SVHN format 1."""

from svhnx.data.download import DatasetNotFoundError, RemoteFile, default_root

__all__ = ["DatasetNotFoundError", "RemoteFile", "default_root"]
