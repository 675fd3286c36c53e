"""Small instances of every named estimator, shared by the common tests."""

from seqestim.estimators import named_estimators
from seqestim.registry import get_spec

# Budgets for the common checks: small networks, few epochs, a learning rate that lets them
# pass sklearn's classifier accuracy check on its toy data.
TEST_TRAINING = {"max_epochs": 5, "lr": 0.02, "batch_size": 16, "random_state": 0}


def named_estimator_classes(task=None):
    return named_estimators(task)


def small_instance(cls, params_index=0, **overrides):
    spec = get_spec(cls._backbone)
    params = {**spec.test_params[params_index], **TEST_TRAINING, **overrides}
    return cls(**params)
