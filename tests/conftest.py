"""Shared fixtures: the PyTorch oracle, and seeded random generators."""

import os

import numpy as np
import pytest


@pytest.fixture(scope="session")
def torch():
    """PyTorch as a test oracle.

    Skips cleanly where torch is not installed; under ``CI=true`` a missing torch is a
    failure, because CI installs it and a silent skip would hide every parity test.
    """
    try:
        import torch as torch_module
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but torch is not installed: .ci/run must install torch==2.13.0")
        pytest.skip("torch is not installed (parity tests need torch==2.13.0)")
    torch_module.set_num_threads(1)
    return torch_module


@pytest.fixture
def rng():
    return np.random.default_rng(0)
