import numpy as np
import pytest
import torch


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


@pytest.fixture
def panel_data():
    """A small two-class, two-channel panel where the class is visible in channel 0."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(48, 2, 12)).astype(np.float32)
    y = np.where(X[:, 0].mean(axis=1) > 0, "up", "down")
    return X, y
