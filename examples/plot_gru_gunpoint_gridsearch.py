"""
GRU on GunPoint: a Pipeline, a grid search and the training curve
=================================================================

:class:`~seqestim.GRUClassifier` is a scikit-learn estimator, so it composes with the usual
tools. Here it sits at the end of a :class:`~sklearn.pipeline.Pipeline` that shortens every
series, and :class:`~sklearn.model_selection.GridSearchCV` picks its width ``d_model`` and
learning rate on the GunPoint training split (50 series of 150 steps, shipped with sktime, no
download). The fitted network's per-epoch losses live in ``history_``.

The settings are kept small so that the example runs in well under a minute on a CPU.
"""

# %%
# Load the data
# -------------
# :func:`~seqestim.datasets.ucr.load_ucr` returns channels-first arrays ``(n, C, T)``.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from seqestim import GRUClassifier
from seqestim.datasets.ucr import load_ucr

X_train, y_train = load_ucr("GunPoint", split="train")
X_test, y_test = load_ucr("GunPoint", split="test")
print(X_train.shape, X_test.shape, np.unique(y_train))


# %%
# A pipeline: piecewise aggregate approximation, then the GRU
# -----------------------------------------------------------
# The first step averages every 5 consecutive steps (150 -> 30 steps): a classic
# time-series reduction (PAA) that makes the recurrence 5x shorter, hence faster to train and
# easier to optimise. Plain functions keep the pipeline picklable.
def paa(X, window=5):
    n, channels, length = X.shape
    usable = length - length % window
    return X[..., :usable].reshape(n, channels, usable // window, window).mean(axis=-1)


pipe = Pipeline(
    [
        ("paa", FunctionTransformer(paa)),
        ("gru", GRUClassifier(pooling="mean", max_epochs=30, batch_size=16, random_state=0)),
    ]
)

# %%
# Grid search over the model width and the learning rate
# ------------------------------------------------------
# Parameters of the estimator are addressed as ``gru__<name>``, as for any sklearn step.
grid = GridSearchCV(
    pipe,
    param_grid={"gru__d_model": [8, 16], "gru__lr": [1e-2, 3e-2]},
    cv=StratifiedKFold(n_splits=2, shuffle=True, random_state=0),
)
grid.fit(X_train, y_train)
print("best parameters:", grid.best_params_)
print(f"cross-validated accuracy: {grid.best_score_:.3f}")
print(f"test accuracy of the refitted best pipeline: {grid.score(X_test, y_test):.3f}")

# %%
# The training curve
# ------------------
# ``history_`` is skorch's history: one entry per epoch with the training loss and the
# epoch's duration.
history = grid.best_estimator_.named_steps["gru"].history_
epochs = history[:, "epoch"]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(epochs, history[:, "train_loss"], marker="o")
ax.set_xlabel("epoch")
ax.set_ylabel("training cross-entropy")
ax.set_title("GRUClassifier on GunPoint (best grid point, refitted)")
fig.tight_layout()
plt.show()
