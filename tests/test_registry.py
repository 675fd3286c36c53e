import pytest

import seqestim
from seqestim.registry import TASKS, get_spec, list_models, make_estimator, register_model


def test_list_and_get():
    names = list_models()
    assert {"rnn", "gru", "lstm"} <= set(names)
    assert names == sorted(names)
    for name in names:
        spec = get_spec(name)
        assert spec.name == name and spec.paper and spec.url.startswith("http")
        assert set(spec.tasks) <= set(TASKS) and len(spec.test_params) >= 2
    assert set(list_models("regressor")) <= set(names)


def test_unknown_names_are_clear_errors():
    with pytest.raises(KeyError, match="registered models"):
        get_spec("nope")
    with pytest.raises(ValueError, match="Unknown task"):
        list_models("translator")


def test_make_estimator_builds_the_named_estimator():
    clf = make_estimator("gru", "classifier", d_model=7, max_epochs=2)
    assert type(clf) is seqestim.GRUClassifier and clf.d_model == 7
    with pytest.raises(TypeError):
        make_estimator("gru", "classifier", not_a_param=1)


def test_register_model_rejects_duplicates_and_bad_specs():
    with pytest.raises(ValueError, match="already registered"):
        register_model(
            "gru",
            paper="p",
            url="u",
            tasks=("classifier",),
            estimator_prefix="X",
            test_params=({}, {}),
        )(type("Other", (), {}))
    with pytest.raises(ValueError, match="Unknown task"):
        register_model(
            "x", paper="p", url="u", tasks=("lm",), estimator_prefix="X", test_params=({}, {})
        )
    with pytest.raises(ValueError, match="two test parameter sets"):
        register_model(
            "x", paper="p", url="u", tasks=("classifier",), estimator_prefix="X", test_params=({},)
        )
