"""Named estimators inside sklearn's model-selection tools and pipelines."""

import numpy as np
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from seqestim import GRUClassifier, LSTMRegressor


def test_grid_search_over_named_hyperparameters(panel_data):
    X, y = panel_data
    search = GridSearchCV(
        GRUClassifier(max_epochs=2, random_state=0),
        {"d_model": [4, 8], "bidirectional": [False, True], "pooling": ["last", "mean"]},
        cv=2,
    ).fit(X, y)
    assert search.best_estimator_.d_model in (4, 8)
    assert search.predict(X).shape == (len(X),)


def test_cross_val_score(panel_data):
    X, y = panel_data
    scores = cross_val_score(GRUClassifier(d_model=4, max_epochs=2, random_state=0), X, y, cv=3)
    assert scores.shape == (3,) and ((0 <= scores) & (scores <= 1)).all()


def test_pipeline_with_tabular_and_panel_steps():
    rng = np.random.RandomState(0)
    X = rng.normal(loc=50, scale=10, size=(40, 12))  # 2D: univariate sequences
    y = (X[:, -1] > 50).astype(float)
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("model", LSTMRegressor(d_model=4, max_epochs=2, random_state=0)),
        ]
    ).fit(X, y)
    assert pipe.predict(X).shape == (40,)
    to_panel = FunctionTransformer(lambda a: a.reshape(len(a), 2, -1))  # 2D -> (n, 2, 6)
    grid = GridSearchCV(
        Pipeline([("panel", to_panel), ("model", GRUClassifier(max_epochs=1, random_state=0))]),
        {"model__d_model": [3, 5]},
        cv=2,
    ).fit(X, y.astype(int))
    assert grid.best_estimator_.named_steps["model"].n_channels_ == 2
