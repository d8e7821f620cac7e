"""hypothesis where it is installed; elsewhere the property tests are skipped.

The example-based tests beside each property still run on every Python.
"""

import unittest

try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:
    HAVE_HYPOTHESIS = False

    def given(*args, **kwargs):
        def decorate(test):
            return unittest.skip("hypothesis is not installed for this Python")(test)

        return decorate

    def settings(*args, **kwargs):
        def decorate(test):
            return test

        return decorate

    class _NoStrategies:
        """Stands in for hypothesis.strategies so that @given(...) lines still evaluate."""

        def __getattr__(self, name):
            def strategy(*args, **kwargs):
                return None

            return strategy

    st = _NoStrategies()
else:
    HAVE_HYPOTHESIS = True
    # Threads make timings vary: no per-example deadline. Few examples keep the
    # suite quick; each property is simple.
    settings.register_profile(
        "ember-runtime", deadline=None, max_examples=60, database=None
    )
    settings.load_profile("ember-runtime")

__all__ = ["HAVE_HYPOTHESIS", "given", "settings", "st"]
