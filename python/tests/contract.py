"""Runs the shapes' scenarios on legacy and converted operators and compares outcomes.

``contract_test_case(...)`` makes a ``unittest.TestCase`` class with one test per
(shape, scenario) and one per shape for the bad constructor calls.

Two modes:

* ``registered=True``: the legacy exceptions module is loaded under its real name
  (``ember.core.exceptions``), so the runtime must raise the legacy classes
  themselves: same exception types, same messages, character for character.
* ``registered=False``: it is not, so the runtime must raise its own classes
  (from ``ember_runtime``, with the legacy class names) whose messages equal the
  legacy ones except where they record where the error was built
  (``caller_file`` and ``caller_lineno``: the runtime's file, not the legacy one).
"""

import re
import sys
import types
import unittest

import ember_runtime

from .shapes import build_shapes

LEGACY_EXCEPTIONS = "ember.core.exceptions"

_BUILT_AT = re.compile(r"(caller_file=\\?')[^'\\]*(\\?')|(caller_lineno=)\d+")


def normalize_location(text):
    """The message without the file and line where the error object was built."""
    return _BUILT_AT.sub(
        lambda m: (m.group(1) + "<file>" + m.group(2)) if m.group(1) else m.group(3) + "<line>",
        text,
    )


class Outcome:
    def __init__(self, value=None, error=None):
        self.value = value
        self.error = error

    def __repr__(self):
        if self.error is not None:
            return f"raised {type(self.error).__name__}: {self.error}"
        return f"returned {self.value!r}"


def run(action):
    try:
        return Outcome(value=action())
    except Exception as error:  # the outcome under comparison
        return Outcome(error=error)


class OutcomeComparison:
    """Assertions that a converted operator's outcome matches the legacy one."""

    def __init__(self, test, registered):
        self.test = test
        self.registered = registered

    def same(self, legacy, converted):
        test = self.test
        context = f"\nlegacy:    {legacy!r}\nconverted: {converted!r}"
        test.assertEqual(legacy.error is None, converted.error is None, context)
        if legacy.error is None:
            test.assertIs(type(legacy.value), type(converted.value), context)
            test.assertEqual(legacy.value, converted.value, context)
            return
        self.same_error(legacy.error, converted.error, context)

    def same_error(self, legacy, converted, context):
        """Same class, same message, same cause (compared the same way), both raised
        ``from`` something or neither."""
        test = self.test
        self.same_class(type(legacy), type(converted), context)
        legacy_text, converted_text = str(legacy), str(converted)
        if not self.registered:
            legacy_text = normalize_location(legacy_text)
            converted_text = normalize_location(converted_text)
        test.assertEqual(legacy_text, converted_text, context)
        test.assertEqual(
            legacy.__suppress_context__, converted.__suppress_context__, "raise ... from" + context
        )
        test.assertEqual(legacy.__cause__ is None, converted.__cause__ is None, context)
        if legacy.__cause__ is not None:
            self.same_error(legacy.__cause__, converted.__cause__, context + "\n(causes)")

    def same_class(self, legacy_class, converted_class, context):
        """The same class; or, without the legacy module loaded, the runtime's own
        class of the same name in place of a legacy operator error.

        (An error raised by legacy code, such as a legacy Sequential around
        converted operators, has the legacy class on both sides.)
        """
        if converted_class is legacy_class:
            return
        self.test.assertFalse(self.registered, "different classes" + context)
        self.test.assertIn(
            legacy_class.__name__, ("OperatorExecutionError", "OperatorSpecificationError"), context
        )
        self.test.assertIs(converted_class, getattr(ember_runtime, legacy_class.__name__), context)


def _scenario_test(shape_index, scenario_index):
    def test(self):
        shape = self.shapes[shape_index]
        scenario = shape.scenarios[scenario_index]
        if scenario.needs_legacy_exceptions and not self.registered:
            self.skipTest("raises a legacy exception class, meaningful only while it is loaded")
        legacy = run(lambda: scenario.run(shape.make_legacy()))
        converted = run(lambda: scenario.run(shape.make_converted()))
        OutcomeComparison(self, self.registered).same(legacy, converted)

    return test


def _construction_test(shape_index):
    def test(self):
        shape = self.shapes[shape_index]
        for args, kwargs in shape.bad_constructions:
            with self.subTest(args=args, kwargs=kwargs):
                legacy = run(lambda: shape.legacy_class(*args, **kwargs))
                converted = run(lambda: shape.converted_class(*args, **kwargs))
                self.assertIsInstance(legacy.error, TypeError, legacy)
                OutcomeComparison(self, self.registered).same(legacy, converted)

    return test


class ContractTestCase(unittest.TestCase):
    """Base of the generated classes; subclasses provide ``load_base``."""

    registered = True
    shapes = None

    @classmethod
    def load_base(cls):
        raise NotImplementedError

    @classmethod
    def exceptions_module(cls):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shapes = build_shapes(cls.load_base())

    def setUp(self):
        saved = sys.modules.get(LEGACY_EXCEPTIONS)

        def restore():
            if saved is None:
                sys.modules.pop(LEGACY_EXCEPTIONS, None)
            else:
                sys.modules[LEGACY_EXCEPTIONS] = saved

        self.addCleanup(restore)
        if self.registered:
            sys.modules[LEGACY_EXCEPTIONS] = self.exceptions_module()
        else:
            sys.modules.pop(LEGACY_EXCEPTIONS, None)


def contract_test_case(name, base_class, registered):
    """A TestCase class named ``name`` from ``base_class`` with one test per scenario.

    The scenario list is taken from the shapes built on the miniature base (the
    same builder makes the same scenarios on any base).
    """
    from . import legacy_base

    catalogue = build_shapes(miniature_namespace(legacy_base))
    namespace = {"registered": registered, "__module__": base_class.__module__}
    for shape_index, shape in enumerate(catalogue):
        for scenario_index, scenario in enumerate(shape.scenarios):
            method = "test_" + _identifier(f"{shape.name} {scenario.name}")
            namespace[method] = _scenario_test(shape_index, scenario_index)
        if shape.bad_constructions:
            method = "test_" + _identifier(f"{shape.name} bad constructor calls")
            namespace[method] = _construction_test(shape_index)
    return type(name, (base_class,), namespace)


def _identifier(text):
    return re.sub(r"\W+", "_", text).strip("_")


def miniature_namespace(legacy_base):
    """The base namespace for ``build_shapes`` made of the miniature legacy base."""
    return types.SimpleNamespace(
        Operator=legacy_base.Operator,
        Specification=legacy_base.Specification,
        EmberModel=legacy_base.EmberModel,
        exceptions=legacy_base,
    )
