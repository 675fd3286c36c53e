"""The recurrent normalizations and NC-GRU's options through the sklearn estimators."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from seqestim.estimators import (
    GRUClassifier,
    GRURegressor,
    LSTMClassifier,
    NCGRUClassifier,
    NCGRURegressor,
    RNNClassifier,
)
from tests._instances import TEST_TRAINING

SMALL = {**TEST_TRAINING, "max_epochs": 3}


@pytest.mark.parametrize("normalization", ["batch", "batch_layer"])
def test_batch_statistics_predictions_do_not_depend_on_batch_composition(panel_data, normalization):
    X, y = panel_data
    est = LSTMClassifier(d_model=6, normalization=normalization, bln_batch_size=16, **SMALL)
    est.fit(X, y)
    buffers = dict(est.module_.named_buffers())
    assert any(name.endswith("running_mean") and b.shape[0] == 12 for name, b in buffers.items())
    proba = est.predict_proba(X)
    order = np.random.RandomState(0).permutation(len(X))
    np.testing.assert_allclose(est.predict_proba(X[order]), proba[order], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(est.predict_proba(X[5:6]), proba[5:6], rtol=1e-6, atol=1e-7)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(restored.predict_proba(X), proba, rtol=1e-6, atol=1e-7)
    assert clone(est).get_params()["normalization"] == normalization


def test_ncgru_neumann_estimator_keeps_the_matrix_orthogonal(panel_data):
    X, y = panel_data
    # the series' drift grows like (lr * d_model)^3 per update: keep lr at the paper's 1e-3
    params = {**SMALL, "lr": 1e-3, "scaling": None}  # the module is fed raw values below
    est = NCGRUClassifier(d_model=8, orthogonal_update="neumann", orthogonal_reset=True, **params)
    est.fit(X, y)
    backbone = est.module_.backbone
    orthogonal = backbone.layers[0][0].cell.candidate_orthogonal
    # 3 epochs x 3 batches = 9 optimiser steps; the last is seen by the next forward pass
    assert int(orthogonal.n_updates) == 8
    proba = est.predict_proba(X)  # predicts with a float64 copy: the fitted module is untouched
    assert int(orthogonal.n_updates) == 8
    with torch.no_grad():
        logits = est.module_(torch.as_tensor(X.transpose(0, 2, 1)), None)
    assert int(orthogonal.n_updates) == 9  # the next forward pass sees the last update
    np.testing.assert_allclose(torch.softmax(logits, -1).numpy(), proba, atol=1e-5)
    for W in backbone.orthogonal_matrices():
        W = W.double()
        assert float((W.T @ W - torch.eye(8, dtype=W.dtype)).norm()) < 1e-5


CHECKED = [
    NCGRUClassifier(d_model=5, orthogonal_update="neumann", orthogonal_reset=True, **SMALL),
    NCGRURegressor(d_model=5, n_neg_ones=1, **SMALL),
    LSTMClassifier(d_model=6, normalization="batch", **SMALL),
    GRURegressor(d_model=6, normalization="batch_layer", bln_batch_size=16, **SMALL),
    LSTMClassifier(d_model=6, normalization="assorted_time", atn_window=3, **SMALL),
    RNNClassifier(d_model=6, normalization="layer", **SMALL),
    GRUClassifier(d_model=6, normalization="batch", n_layers=2, bidirectional=True, **SMALL),
]


@pytest.mark.slow
@parametrize_with_checks(CHECKED)
def test_sklearn_checks_for_the_options(estimator, check):
    check(estimator)
