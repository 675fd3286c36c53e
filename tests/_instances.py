"""Small instances of every named estimator, shared by the common tests."""

from seqestim import estimators
from seqestim.estimators._base import BaseSequenceEstimator
from seqestim.registry import get_spec

# Budgets for the common checks: small networks, few epochs, a learning rate that lets them
# pass sklearn's classifier accuracy check on its toy data.
TEST_TRAINING = {"max_epochs": 5, "lr": 0.02, "batch_size": 16, "random_state": 0}


def named_estimator_classes(task=None):
    classes = []
    for name in estimators.__all__:
        obj = getattr(estimators, name)
        if (
            isinstance(obj, type)
            and issubclass(obj, BaseSequenceEstimator)
            and obj._model_name
            and (task is None or obj._task == task)
        ):
            classes.append(obj)
    return classes


def small_instance(cls, params_index=0, **overrides):
    spec = get_spec(cls._model_name)
    params = {**spec.test_params[params_index], **TEST_TRAINING, **overrides}
    return cls(**params)
