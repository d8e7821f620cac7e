"""The legacy contract, checked against the REAL legacy operator base from the snapshot.

The same scenarios as test_legacy_contract, on the snapshot's own ``Operator``,
``Specification`` and ``EmberModel`` (loaded by tests/real_legacy.py): every one
must give the same outcome on the snapshot's class and on its conversion,
mutation, ``vars()``, equality, hashing, ``repr`` and bad constructor calls
included. Skipped where the snapshot or pydantic is absent (CI).

``RealBaseRemainingDifferences`` asserts, on both sides, the differences that
python/README.md lists, so that a change on either side shows up.
"""

import copy
import pickle
import sys
import unittest

import ember_runtime
from ember_runtime import OperatorModule, module

from . import real_legacy
from .contract import ContractTestCase, contract_test_case

UNAVAILABLE = real_legacy.unavailable_reason()
_loaded = None


def setUpModule():
    global _loaded
    if UNAVAILABLE is None:
        _loaded = real_legacy.LoadedLegacy()


def tearDownModule():
    global _loaded
    if _loaded is not None:
        _loaded.unload()
        _loaded = None


class _RealBase(ContractTestCase):
    @classmethod
    def load_base(cls):
        return _loaded.namespace()

    @classmethod
    def exceptions_module(cls):
        return _loaded.exceptions


_skip = unittest.skipIf(UNAVAILABLE is not None, UNAVAILABLE or "")

RealWithLegacyExceptionsLoaded = _skip(
    contract_test_case("RealWithLegacyExceptionsLoaded", _RealBase, registered=True)
)
RealWithoutLegacyExceptions = _skip(
    contract_test_case("RealWithoutLegacyExceptions", _RealBase, registered=False)
)


@_skip
class RealBaseChecks(unittest.TestCase):
    """What the scenarios cannot express: exception classes and isinstance."""

    def setUp(self):
        base = _loaded.namespace()

        class Plain(base.Operator):
            specification = base.Specification()

            def forward(self, *, inputs):
                return inputs

        @module.operator("Plain", specification=Plain.specification)
        def plain(*, inputs):
            return inputs

        self.legacy_class, self.converted_class = Plain, plain

    def test_runtime_raises_the_snapshot_classes_while_they_are_loaded(self):
        @module.operator("Broken", specification=self.legacy_class.specification)
        def broken(*, inputs):
            raise RuntimeError("boom")

        with self.assertRaises(_loaded.exceptions.OperatorExecutionError) as caught:
            broken()(inputs={})
        self.assertIsInstance(caught.exception, _loaded.exceptions.EmberError)
        self.assertNotIsInstance(caught.exception, ember_runtime.OperatorExecutionError)

    def test_isinstance_rewrite_accepts_both(self):
        kinds = (_loaded.operator_base.Operator, OperatorModule)
        self.assertIsInstance(self.legacy_class(), kinds)
        self.assertIsInstance(self.converted_class(), kinds)

    def test_legacy_and_converted_instances_are_unequal(self):
        legacy, converted = self.legacy_class(), self.converted_class()
        self.assertFalse(legacy == converted)
        self.assertFalse(converted == legacy)
        self.assertEqual(hash(legacy), hash(converted))


@_skip
class RealBaseRemainingDifferences(unittest.TestCase):
    """The differences python/README.md lists, each asserted on both sides."""

    def setUp(self):
        base = _loaded.namespace()
        spec = base.Specification()

        class Tagged(base.Operator):
            specification = spec

            def __init__(self, prefix, *, unused=0):
                self.prefix = prefix

            def forward(self, *, inputs):
                return self.prefix + inputs["s"]

        @module.operator("Tagged", specification=spec)
        def tagged(prefix, *, unused=0):
            def forward(*, inputs):
                return prefix + inputs["s"]

            return module.state(forward, prefix=prefix)

        self.legacy, self.converted = Tagged("p"), tagged("p")

    def test_copies(self):
        legacy_copy = copy.copy(self.legacy)
        self.assertIsNot(legacy_copy, self.legacy)
        self.assertEqual(legacy_copy, self.legacy)
        legacy_copy.prefix = "q"
        self.assertEqual(self.legacy.prefix, "p")
        self.assertIsNot(copy.deepcopy(self.legacy), self.legacy)

        self.assertIs(copy.copy(self.converted), self.converted)
        self.assertIs(copy.deepcopy(self.converted), self.converted)

    def test_vars_is_a_snapshot(self):
        self.assertIs(vars(self.legacy), vars(self.legacy))
        vars(self.legacy)["added"] = 1
        self.assertEqual(self.legacy.added, 1)

        self.assertIsNot(vars(self.converted), vars(self.converted))
        vars(self.converted)["added"] = 1
        self.assertFalse(hasattr(self.converted, "added"))

    def test_constructor_arguments_the_legacy_init_did_not_store(self):
        self.assertFalse(hasattr(self.legacy, "unused"))
        self.assertEqual(self.converted.unused, 0)

    def test_deleting_what_forward_uses(self):
        del self.legacy.prefix
        del self.converted.prefix
        errors = []
        for op in (self.legacy, self.converted):
            with self.assertRaises(_loaded.exceptions.OperatorExecutionError) as caught:
                op(inputs={"s": "x"})
            errors.append(caught.exception.__cause__)
        self.assertIsInstance(errors[0], AttributeError)
        self.assertIsInstance(errors[1], NameError)

    def test_bad_calls_of_forward(self):
        messages = []
        for op in (self.legacy, self.converted):
            with self.assertRaises(TypeError) as caught:
                op.forward({"s": "x"})
            messages.append(str(caught.exception))
        self.assertTrue(messages[0].endswith("Tagged.forward() takes 1 positional argument but 2 were given"))
        self.assertTrue(messages[1].endswith("forward() takes 0 positional arguments but 1 was given"))

    def test_pickling(self):
        # A legacy class reachable by its qualified name pickles; a converted one does not.
        legacy_class = type(self.legacy)
        legacy_class.__qualname__ = "PicklableTagged"
        legacy_class.__module__ = __name__
        setattr(sys.modules[__name__], "PicklableTagged", legacy_class)
        self.addCleanup(delattr, sys.modules[__name__], "PicklableTagged")
        self.assertEqual(pickle.loads(pickle.dumps(self.legacy)).prefix, "p")

        converted_class = type(self.converted)
        converted_class.__qualname__ = "PicklableConverted"
        setattr(sys.modules[__name__], "PicklableConverted", converted_class)
        self.addCleanup(delattr, sys.modules[__name__], "PicklableConverted")
        with self.assertRaises((pickle.PicklingError, TypeError, AttributeError)):
            pickle.dumps(self.converted)


del _RealBase

if __name__ == "__main__":
    unittest.main()
