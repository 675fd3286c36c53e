"""
An sktime classification pipeline around ``GRUClassifier``
==========================================================

JapaneseVowels has 12 channels and utterances of 7 to 29 steps: an unequal-length panel, which
the seqestim adapters take as is (padding and masking happen inside). The pipeline puts an
sktime transformer in front of the classifier: each utterance is standardised channel by
channel, then ``GRUClassifier`` (in :class:`seqestim.sktime.SeqestimClassifier`) classifies
the speaker.
"""

from sklearn.metrics import accuracy_score
from sklearn.preprocessing import StandardScaler
from sktime.classification.dummy import DummyClassifier
from sktime.datasets import load_japanese_vowels
from sktime.transformations.compose import FitInTransform
from sktime.transformations.series.adapt import TabularToSeriesAdaptor

from seqestim import GRUClassifier
from seqestim.sktime import SeqestimClassifier

X_train, y_train = load_japanese_vowels(split="train", return_type="nested_univ")
X_test, y_test = load_japanese_vowels(split="test", return_type="nested_univ")
lengths = X_train.iloc[:, 0].map(len)
print(
    f"{len(X_train)} training utterances, {X_train.shape[1]} channels, "
    f"{lengths.min()}-{lengths.max()} steps, {len(set(y_train))} speakers"
)

# %%
# ``transformer * classifier`` builds sktime's ``ClassifierPipeline``. The scaler is fitted on
# each utterance on its own (``FitInTransform``), so test utterances need no training statistics.
scaler = FitInTransform(TabularToSeriesAdaptor(StandardScaler()))
classifier = GRUClassifier(d_model=32, max_epochs=15, lr=0.01, random_state=0)
pipeline = scaler * SeqestimClassifier(classifier)
pipeline.fit(X_train, y_train)
accuracy = accuracy_score(y_test, pipeline.predict(X_test))
baseline = accuracy_score(y_test, DummyClassifier().fit(X_train, y_train).predict(X_test))
print(f"test accuracy: GRU pipeline {accuracy:.3f}, majority class {baseline:.3f}")
