"""Every named estimator saves and loads exactly, through the meta-device check."""

import numpy as np
import pytest

import seqestim
from seqestim.estimators import named_estimators
from seqestim.estimators._persistence import _build_module_on_meta, declared_fitted_attributes
from tests.reliability.conftest import small_named, task_data


@pytest.mark.parametrize("cls", named_estimators(), ids=lambda c: c.__name__)
def test_every_named_estimator_round_trips(cls, tmp_path):
    args, outputs = task_data(cls._task)
    estimator = small_named(cls).fit(*args)
    # the network can be built without memory, so load checks sizes before allocating
    assert _build_module_on_meta(estimator, 10_000) is not None
    loaded = seqestim.load(estimator.save(tmp_path / "m"))
    assert type(loaded) is cls and loaded.get_params() == estimator.get_params()
    np.testing.assert_array_equal(outputs(loaded), outputs(estimator))
    params = estimator.get_params(deep=False)
    fitted = {k for k in vars(estimator) if k not in params and k != "net_"}
    assert fitted <= declared_fitted_attributes(cls)


@pytest.mark.parametrize("cls", named_estimators(), ids=lambda c: c.__name__)
def test_declared_fitted_attributes_are_documented(cls):
    public = {name for name in declared_fitted_attributes(cls) if not name.startswith("_")}
    undocumented = sorted(name for name in public if name not in (cls.__doc__ or ""))
    assert not undocumented, f"{cls.__name__} does not document {undocumented}"
