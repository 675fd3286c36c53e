"""Many fits on a cluster through joblib (Dask, Ray): the same results as a local run."""

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from seqestim import GRUClassifier
from seqestim.datasets import make_xor_sequences


def _grid_search() -> GridSearchCV:
    grid = {"d_model": [8, 16], "lr": [3e-3, 1e-2]}
    estimator = GRUClassifier(max_epochs=4, batch_size=32, random_state=0)
    cv = StratifiedKFold(n_splits=2, shuffle=True, random_state=0)
    return GridSearchCV(estimator, grid, cv=cv, n_jobs=-1)


def test_grid_search_on_a_local_cluster_equals_the_local_run():
    distributed = pytest.importorskip("distributed")
    X, y = make_xor_sequences(n_samples=64, seq_len=12, random_state=0)
    local = _grid_search()
    with joblib.parallel_backend("sequential"):
        local.fit(X, y)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        with joblib.parallel_backend("dask"):
            remote = _grid_search().fit(X, y)
    assert remote.best_params_ == local.best_params_
    for key in ("mean_test_score", "split0_test_score", "split1_test_score"):
        np.testing.assert_allclose(
            remote.cv_results_[key], local.cv_results_[key], rtol=0, atol=1e-12
        )
    np.testing.assert_array_equal(remote.predict(X), local.predict(X))


def test_grid_search_on_ray_equals_the_local_run():
    ray = pytest.importorskip("ray")
    from ray.util.joblib import register_ray

    X, y = make_xor_sequences(n_samples=64, seq_len=12, random_state=0)
    local = _grid_search()
    with joblib.parallel_backend("sequential"):
        local.fit(X, y)
    register_ray()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        with joblib.parallel_backend("ray"):
            remote = _grid_search().fit(X, y)
    finally:
        ray.shutdown()
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )


def test_a_fitted_estimator_pickles_and_predicts_the_same_elsewhere():
    # what a cluster does with every estimator: pickle it, ship it, unpickle it in a worker
    import pickle

    X, y = make_xor_sequences(n_samples=32, seq_len=12, random_state=0)
    clf = GRUClassifier(max_epochs=2, random_state=0).fit(X, y)
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))
    unfitted = pickle.loads(pickle.dumps(GRUClassifier(max_epochs=2, random_state=0)))
    np.testing.assert_array_equal(unfitted.fit(X, y).predict_proba(X), clf.predict_proba(X))
