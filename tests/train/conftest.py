"""Shared by the training tests: torch's thread count is put back after each test that changes it (``--threads``)."""

import pytest
import torch


@pytest.fixture(autouse=True)
def restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
