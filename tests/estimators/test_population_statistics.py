"""Batch-norm population statistics are recomputed with the final weights after fit."""

import numpy as np
import torch

from seqestim import S5Classifier
from seqestim.nn.s5 import MaskedBatchNorm


def test_running_statistics_are_those_of_the_final_network():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(32, 2, 10)).astype(np.float32)
    y = (X[:, 0].sum(axis=1) > 0).astype(int)
    clf = S5Classifier(
        d_model=8,
        d_state=4,
        blocks=1,
        n_layers=1,
        norm="batch",
        batch_size=16,
        max_epochs=3,
        lr=0.05,
        scaling=None,  # the module below is fed the raw values
        random_state=0,
    ).fit(X, y)
    norm = next(m for m in clf.module_.modules() if isinstance(m, MaskedBatchNorm))
    captured = []
    handle = norm.register_forward_hook(lambda m, args, out: captured.append(args[0].detach()))
    module = clf.module_.train()
    with torch.no_grad():
        module(torch.from_numpy(X.transpose(0, 2, 1).copy()))  # the whole training set
    handle.remove()
    module.eval()
    features = captured[0].reshape(-1, captured[0].shape[-1])
    # equal-size batches: the average of the batch means is the mean over all steps
    torch.testing.assert_close(norm.running_mean, features.mean(dim=0), atol=1e-5, rtol=1e-4)
    assert norm.momentum == 0.95  # restored after the recalibration pass
