"""The sklearn layer: the task bases, the training engine and the named estimators.

Importing this package imports every paper's estimator module, each of which registers its
named estimators (``S5Classifier``, ...) with their task; :func:`named_estimators`,
:func:`make_estimator` and :func:`list_tasks` read that catalogue.
"""

from __future__ import annotations

from seqestim.estimators._base import SequenceEstimator, transactional
from seqestim.estimators._catalogue import list_tasks, make_estimator, named_estimators
from seqestim.estimators._panel import PanelTask, PoolingParams
from seqestim.estimators._series import BaseForecaster
from seqestim.estimators._training import TrainingDivergedError, TrainingParams
from seqestim.estimators.arma_cell import ARMACellForecaster, ARMACellRegressor
from seqestim.estimators.block_recurrent import (
    BlockRecurrentTransformerClassifier,
    BlockRecurrentTransformerLanguageModel,
)
from seqestim.estimators.cdil import (
    CDILClassifier,
    CDILForecaster,
    CDILRegressor,
    DILClassifier,
    DILRegressor,
)
from seqestim.estimators.classifier import SequenceClassifier
from seqestim.estimators.conv_arma import ConvARMAForecaster
from seqestim.estimators.conv_s2s import ConvS2STranslator
from seqestim.estimators.deq import DEQLanguageModel
from seqestim.estimators.forecaster import SequenceForecaster, WindowParams
from seqestim.estimators.frames import FrameForecaster, FrameParams
from seqestim.estimators.gated_conv import GatedConvClassifier, GatedConvLanguageModel
from seqestim.estimators.gated_rnn import (
    GRUClassifier,
    GRUForecaster,
    GRULanguageModel,
    GRUPolyphonicModel,
    GRURegressor,
    LSTMClassifier,
    LSTMForecaster,
    LSTMLanguageModel,
    LSTMPolyphonicModel,
    LSTMRegressor,
    RNNClassifier,
    RNNForecaster,
    RNNLanguageModel,
    RNNPolyphonicModel,
    RNNRegressor,
)
from seqestim.estimators.gnmt import GNMTTranslator
from seqestim.estimators.language_model import LanguageModel, LanguageModelParams
from seqestim.estimators.nc_gru import NCGRUClassifier, NCGRUForecaster, NCGRURegressor
from seqestim.estimators.polyphonic import PolyphonicModel
from seqestim.estimators.regressor import SequenceRegressor
from seqestim.estimators.rnnsearch import RNNSearchTranslator
from seqestim.estimators.s5 import S5Classifier, S5Forecaster, S5LanguageModel, S5Regressor
from seqestim.estimators.seq2seq import Seq2Seq, Seq2SeqParams
from seqestim.estimators.tcn import (
    TCNClassifier,
    TCNForecaster,
    TCNLanguageModel,
    TCNRegressor,
)

__all__ = [
    "ARMACellForecaster",
    "ARMACellRegressor",
    "BaseForecaster",
    "BlockRecurrentTransformerClassifier",
    "BlockRecurrentTransformerLanguageModel",
    "CDILClassifier",
    "CDILForecaster",
    "CDILRegressor",
    "ConvARMAForecaster",
    "ConvS2STranslator",
    "DEQLanguageModel",
    "DILClassifier",
    "DILRegressor",
    "FrameForecaster",
    "FrameParams",
    "GNMTTranslator",
    "GRUClassifier",
    "GRUForecaster",
    "GRULanguageModel",
    "GRUPolyphonicModel",
    "GRURegressor",
    "GatedConvClassifier",
    "GatedConvLanguageModel",
    "LSTMClassifier",
    "LSTMForecaster",
    "LSTMLanguageModel",
    "LSTMPolyphonicModel",
    "LSTMRegressor",
    "LanguageModel",
    "LanguageModelParams",
    "NCGRUClassifier",
    "NCGRUForecaster",
    "NCGRURegressor",
    "PanelTask",
    "PolyphonicModel",
    "PoolingParams",
    "RNNClassifier",
    "RNNForecaster",
    "RNNLanguageModel",
    "RNNPolyphonicModel",
    "RNNRegressor",
    "RNNSearchTranslator",
    "S5Classifier",
    "S5Forecaster",
    "S5LanguageModel",
    "S5Regressor",
    "Seq2Seq",
    "Seq2SeqParams",
    "SequenceClassifier",
    "SequenceEstimator",
    "SequenceForecaster",
    "SequenceRegressor",
    "TCNClassifier",
    "TCNForecaster",
    "TCNLanguageModel",
    "TCNRegressor",
    "TrainingDivergedError",
    "TrainingParams",
    "WindowParams",
    "list_tasks",
    "make_estimator",
    "named_estimators",
    "transactional",
]
