"""The legacy contract, checked against the REAL legacy operator base from the snapshot.

The same scenarios as test_legacy_contract, on the snapshot's own ``Operator``,
``Specification`` and ``EmberModel`` (loaded by tests/real_legacy.py). Skipped
where the snapshot or pydantic is absent (CI).

Where the snapshot differs from what the runtime does on purpose, the scenario
says so (``real_difference``) and the difference itself is asserted, so a change
on either side shows up.
"""

import dataclasses
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
    real_base = True

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
class RealBaseDocumentedDifferences(unittest.TestCase):
    """Differences the runtime keeps on purpose, asserted against the snapshot."""

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

    def test_legacy_instances_without_fields_compare_equal_ours_by_identity(self):
        self.assertEqual(self.legacy_class(), self.legacy_class())
        self.assertNotEqual(self.converted_class(), self.converted_class())
        op = self.converted_class()
        self.assertEqual(op, op)

    def test_repr(self):
        self.assertEqual(repr(self.legacy_class()), "Plain({})")
        self.assertEqual(repr(self.converted_class()), "Plain()")

    def test_legacy_instances_change_ours_refuse(self):
        legacy = self.legacy_class()
        legacy.note = "changed"
        self.assertEqual(legacy.note, "changed")
        with self.assertRaises(dataclasses.FrozenInstanceError):
            self.converted_class().note = "changed"

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


del _RealBase

if __name__ == "__main__":
    unittest.main()
