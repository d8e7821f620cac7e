"""Loads the operator base of the real legacy Ember snapshot, without its package init.

The snapshot's ``ember/__init__.py`` imports heavy optional dependencies
(datasets, model providers, ...). The operator base itself needs only pydantic
and typing_extensions, so the parent packages are put in ``sys.modules`` as
empty stubs (``types.ModuleType`` with ``__path__`` pointing at the right
folder) and the four modules are imported beneath them:
``ember.core.exceptions``, ``ember.core.types.ember_model``,
``ember.core.registry.specification.specification`` and
``ember.core.registry.operator.base.operator_base`` (``ember.core.types`` runs its
own ``__init__``, which needs nothing more).

The snapshot is looked for in ``$EMBER_LEGACY_SRC`` (default
``/tmp/corpus/ember-legacy-d10ac755/src``); it is absent in CI, and the tests
that use it are skipped there.
"""

import importlib
import logging
import os
import sys
import types

LEGACY_SRC = os.environ.get("EMBER_LEGACY_SRC", "/tmp/corpus/ember-legacy-d10ac755/src")

_STUB_PACKAGES = [
    ("ember", ""),
    ("ember.core", "core"),
    ("ember.core.registry", "core/registry"),
    ("ember.core.registry.operator", "core/registry/operator"),
    ("ember.core.registry.operator.base", "core/registry/operator/base"),
    ("ember.core.registry.specification", "core/registry/specification"),
    ("ember.xcs", "xcs"),
    ("ember.xcs.utils", "xcs/utils"),
]


def unavailable_reason():
    """Why the snapshot cannot be loaded here, or None."""
    base = os.path.join(LEGACY_SRC, "ember", "core", "registry", "operator", "base", "operator_base.py")
    if not os.path.isfile(base):
        return f"the legacy snapshot is not at {LEGACY_SRC} (set EMBER_LEGACY_SRC)"
    for dependency in ("pydantic", "typing_extensions"):
        try:
            importlib.import_module(dependency)
        except ImportError:
            return f"the legacy operator base needs {dependency}, not installed for this Python"
    return None


class LoadedLegacy:
    """The loaded snapshot modules; ``unload()`` puts ``sys.modules`` and logging back."""

    def __init__(self):
        self._saved_modules = {
            name: module for name, module in sys.modules.items() if _is_ember(name)
        }
        root = logging.getLogger()
        self._saved_root = (list(root.handlers), root.level)
        self._saved_disable = logging.root.manager.disable
        for name in self._saved_modules:
            del sys.modules[name]
        try:
            self._load()
        except BaseException:
            self.unload()
            raise
        # The snapshot's _module.py calls logging.basicConfig(level=DEBUG) and the
        # specification logs every validation failure: keep the test output quiet.
        root.handlers[:] = self._saved_root[0]
        root.setLevel(self._saved_root[1])
        logging.disable(logging.CRITICAL)

    def _load(self):
        package_root = os.path.join(LEGACY_SRC, "ember")
        for name, folder in _STUB_PACKAGES:
            stub = types.ModuleType(name)
            stub.__path__ = [os.path.join(package_root, folder)]
            sys.modules[name] = stub
        self.exceptions = importlib.import_module("ember.core.exceptions")
        self.ember_model = importlib.import_module("ember.core.types.ember_model")
        self.specification = importlib.import_module(
            "ember.core.registry.specification.specification"
        )
        self.operator_base = importlib.import_module(
            "ember.core.registry.operator.base.operator_base"
        )

    def namespace(self):
        """The base namespace that ``shapes.build_shapes`` takes."""
        return types.SimpleNamespace(
            Operator=self.operator_base.Operator,
            Specification=self.specification.Specification,
            EmberModel=self.ember_model.EmberModel,
            exceptions=self.exceptions,
        )

    def unload(self):
        for name in [name for name in sys.modules if _is_ember(name)]:
            del sys.modules[name]
        sys.modules.update(self._saved_modules)
        root = logging.getLogger()
        root.handlers[:] = self._saved_root[0]
        root.setLevel(self._saved_root[1])
        logging.disable(self._saved_disable)


def _is_ember(name):
    return name == "ember" or name.startswith("ember.")
