"""The legacy contract, checked against the miniature legacy base (tests/legacy_base.py).

Every scenario of tests/shapes.py runs on the legacy class and on its conversion;
outcomes must match. Run twice: with the miniature loaded as
``ember.core.exceptions`` (the runtime must raise those very classes) and without
(the runtime raises its own classes, with the same messages).
"""

import unittest

from . import legacy_base
from .contract import ContractTestCase, contract_test_case, miniature_namespace


class _MiniatureBase(ContractTestCase):
    @classmethod
    def load_base(cls):
        return miniature_namespace(legacy_base)

    @classmethod
    def exceptions_module(cls):
        return legacy_base


MiniatureWithLegacyExceptionsLoaded = contract_test_case(
    "MiniatureWithLegacyExceptionsLoaded", _MiniatureBase, registered=True
)
MiniatureWithoutLegacyExceptions = contract_test_case(
    "MiniatureWithoutLegacyExceptions", _MiniatureBase, registered=False
)

del _MiniatureBase

if __name__ == "__main__":
    unittest.main()
