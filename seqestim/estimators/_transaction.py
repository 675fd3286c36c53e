"""All-or-nothing ``fit``: a failed fit leaves the estimator exactly as it was."""

from __future__ import annotations

import functools

__all__ = ["transactional"]


def transactional(fit):
    """Make a ``fit`` method all-or-nothing: on any exception the estimator is left as it was.

    Input checks set attributes (``n_features_in_``, ``classes_``, ...) before training; if
    training then fails (divergence, a callback raising, Ctrl-C), a refit would otherwise mix
    the new attributes with the old network. The estimator's attributes are restored to their
    state before the call, and the exception propagates.
    """

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        before = dict(vars(self))
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            vars(self).clear()
            vars(self).update(before)
            raise

    return wrapper
