import dataclasses

import pytest

import seqestim
from seqestim.estimators import list_tasks, make_estimator, named_estimators
from seqestim.registry import get_spec, list_models, register_model


def test_list_and_get():
    names = list_models()
    assert {"rnn", "gru", "lstm", "s5", "cdil", "tcn", "conv_arma"} <= set(names)
    assert names == sorted(names)
    for name in names:
        spec = get_spec(name)
        assert spec.name == name and spec.paper and spec.url.startswith("http")
        assert dataclasses.is_dataclass(spec.params) and len(spec.test_params) >= 2
        assert get_spec(spec.cls) is spec
    assert "conv_arma" in list_models(inputs="frames") and "conv_arma" not in list_models("float")


def test_tasks_derive_from_the_estimators():
    assert {"classifier", "regressor", "forecaster", "frame_forecaster"} <= set(list_tasks())
    for cls in named_estimators():
        assert cls._task in list_tasks()
        assert make_estimator(cls._model_name(), cls._task).__class__ is cls
    assert {c.__name__ for c in named_estimators("forecaster", model="arma_cell")} == {
        "ARMACellForecaster"
    }


def test_unknown_names_are_clear_errors():
    with pytest.raises(KeyError, match="registered models"):
        get_spec("nope")
    with pytest.raises(ValueError, match="Unknown task"):
        named_estimators("translator")
    with pytest.raises(ValueError, match="Unknown input kind"):
        list_models("audio")
    with pytest.raises(ValueError, match="not offered as a classifier"):
        make_estimator("arma_cell", "classifier")


def test_make_estimator_builds_the_named_estimator():
    clf = make_estimator("gru", "classifier", d_model=7, max_epochs=2)
    assert type(clf) is seqestim.GRUClassifier and clf.d_model == 7
    assert seqestim.make_estimator is make_estimator
    with pytest.raises(TypeError):
        make_estimator("gru", "classifier", not_a_param=1)


def test_register_model_rejects_duplicates_and_bad_specs():
    params = get_spec("gru").params
    with pytest.raises(ValueError, match="already registered"):
        register_model("gru", params=params, paper="p", url="u", test_params=({}, {}))(
            type("Other", (), {})
        )
    with pytest.raises(ValueError, match="Unknown input kind"):
        register_model(
            "x", params=params, paper="p", url="u", inputs=("audio",), test_params=({}, {})
        )
    with pytest.raises(ValueError, match="two test parameter sets"):
        register_model("x", params=params, paper="p", url="u", test_params=({},))
    with pytest.raises(ValueError, match="not fields"):
        register_model("x", params=params, paper="p", url="u", test_params=({}, {"nope": 1}))
    with pytest.raises(ValueError, match="parameter group"):
        register_model("x", params=dict, paper="p", url="u", test_params=({}, {}))
