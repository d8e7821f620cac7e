"""module.operator and OperatorModule: the class it makes, attributes, errors, exception classes.

The comparisons with legacy classes are in test_legacy_contract; these tests pin
the runtime's own rules.
"""

import copy
import dataclasses
import inspect
import os
import re
import sys
import types
import unittest

import ember_runtime
from ember_runtime import (
    OperatorError,
    OperatorExecutionError,
    OperatorModule,
    OperatorSpecificationError,
    module,
)

from .support import PassSpecification

RUNTIME_FILE = ember_runtime.__file__


@module.operator("TopLevel", specification=PassSpecification(), version=2)
def top_level(*, inputs):
    """Top-level converted operator."""
    return inputs


class LegacyExceptionsModule:
    """Registers a stand-in legacy exceptions module in sys.modules for a test."""

    def __init__(self, test, name="ember.core.exceptions", **classes):
        self.module = types.ModuleType(name)
        for key, value in classes.items():
            setattr(self.module, key, value)
        saved = sys.modules.get(name)
        sys.modules[name] = self.module

        def restore():
            if saved is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = saved

        test.addCleanup(restore)


class ClassShapeTests(unittest.TestCase):
    def test_names_module_and_doc(self):
        self.assertIsInstance(top_level, type)
        self.assertTrue(issubclass(top_level, OperatorModule))
        self.assertEqual(top_level.__name__, "TopLevel")
        self.assertEqual(top_level.__qualname__, "TopLevel")
        self.assertEqual(top_level.__module__, __name__)
        self.assertEqual(top_level.__doc__, "Top-level converted operator.")
        self.assertEqual(top_level.version, 2)
        op = top_level()
        self.assertIsInstance(op, top_level)
        self.assertEqual(type(op).__name__, "TopLevel")
        self.assertEqual(op.version, 2)

    def test_nested_qualname(self):
        @module.operator("Inner")
        def inner(*, inputs):
            return inputs

        self.assertEqual(
            inner.__qualname__, "ClassShapeTests.test_nested_qualname.<locals>.Inner"
        )

    def test_specification_not_given_means_none_of_its_own(self):
        @module.operator("Bare")
        def bare(*, inputs):
            return inputs

        self.assertNotIn("specification", bare.__dict__)
        self.assertIsInstance(bare.specification, property)
        with self.assertRaises(OperatorSpecificationError):
            bare().specification

    def test_forward_form_takes_no_arguments(self):
        for args, kwargs in (((1,), {}), ((), {"x": 1})):
            with self.assertRaises(TypeError) as caught:
                top_level(*args, **kwargs)
            self.assertTrue(str(caught.exception).startswith("Error initializing TopLevel: "))
            self.assertTrue(str(caught.exception).endswith("Ensure __init__ accepts the correct parameters."))

    def test_forward_form_detected_by_an_inputs_parameter(self):
        @module.operator("Positional", specification=PassSpecification())
        def positional(inputs, scale=2):
            return inputs * scale

        op = positional()
        self.assertEqual(op(inputs=3), 6)
        self.assertEqual(op.forward(3, scale=3), 9)

    def test_name_must_be_a_string(self):
        with self.assertRaises(TypeError):
            module.operator(top_level)

    def test_reserved_class_attributes(self):
        for name in ("forward", "__init__", "__call__", "_ember_function", "__slots__"):
            with self.subTest(name=name), self.assertRaises(TypeError) as caught:
                module.operator("X", **{name: 1})
            self.assertIn(name, str(caught.exception))

    def test_operator_module_itself_is_not_instantiated(self):
        with self.assertRaises(TypeError):
            OperatorModule()


class FactoryTests(unittest.TestCase):
    def make(self):
        calls = []

        @module.operator("Configured", specification=PassSpecification(), label="class-level")
        def configured(prefix, *rest, scale=2, label="arg", **extra):
            calls.append((prefix, rest, scale, label, extra))

            def forward(*, inputs):
                return f"{prefix}{inputs * scale}"

            return forward

        return configured, calls

    def test_arguments_are_passed_as_given(self):
        configured, calls = self.make()
        op = configured("p", 1, 2, scale=3, flag=True)
        self.assertEqual(calls, [("p", (1, 2), 3, "arg", {"flag": True})])
        self.assertEqual(op(inputs=2), "p6")
        self.assertEqual(op.forward(inputs=1), "p3")

    def test_bound_arguments_with_defaults_are_attributes(self):
        configured, _ = self.make()
        op = configured("p")
        self.assertEqual((op.prefix, op.rest, op.scale, op.extra), ("p", (), 2, {}))
        # An instance value hides a plain class attribute, as an instance dict would.
        self.assertEqual(op.label, "arg")
        self.assertEqual(configured.label, "class-level")

    def test_bad_constructor_calls(self):
        configured, calls = self.make()
        for args, kwargs in (((), {}), (("p",), {"scale": 1, "prefix": "q"})):
            with self.subTest(args=args, kwargs=kwargs), self.assertRaises(TypeError) as caught:
                configured(*args, **kwargs)
            self.assertTrue(str(caught.exception).startswith("Error initializing Configured: "))
            self.assertIsInstance(caught.exception.__cause__, TypeError)
        self.assertEqual(calls, [])

    def test_type_error_inside_the_factory_is_reported_like_legacy_init(self):
        @module.operator("Fragile")
        def fragile(*, n):
            return len(n)  # TypeError for an int, as a legacy __init__ body might raise

        with self.assertRaises(TypeError) as caught:
            fragile(n=3)
        self.assertIn("Error initializing Fragile: object of type 'int' has no len()", str(caught.exception))

    def test_other_factory_errors_pass_unchanged(self):
        @module.operator("Picky")
        def picky(*, n):
            raise ValueError(f"bad n {n}")

        with self.assertRaises(ValueError):
            picky(n=1)

    def test_factory_must_return_a_callable(self):
        @module.operator("Broken")
        def broken():
            return 42

        with self.assertRaises(TypeError) as caught:
            broken()
        self.assertIn("must return the behaviour", str(caught.exception))

    def test_factory_hiding_its_signature_exposes_no_arguments(self):
        def hides_signature(factory):
            def wrapper(*args, **kwargs):
                return factory(*args, **kwargs)

            wrapper.__signature__ = inspect.Signature()
            return wrapper

        @module.operator("Hidden", specification=PassSpecification())
        @hides_signature
        def hidden(*, level):
            return lambda *, inputs: inputs * 2

        op = hidden(level=4)
        self.assertEqual(op(inputs=1), 2)
        with self.assertRaises(AttributeError):
            op.level

    def test_behaviour_may_be_any_callable(self):
        class Behaviour:
            def __call__(self, *, inputs):
                return ("called", inputs)

        @module.operator("Delegating", specification=PassSpecification())
        def delegating():
            return Behaviour()

        self.assertEqual(delegating()(inputs=1), ("called", 1))


class AttributeTests(unittest.TestCase):
    def test_closure_variables_read_at_access_time(self):
        @module.operator("Counter", specification=PassSpecification())
        def counter():
            count = 0

            def forward(*, inputs):
                nonlocal count
                count += 1
                return count

            return forward

        op = counter()
        self.assertEqual(op.count, 0)
        op(inputs={})
        op(inputs={})
        self.assertEqual(op.count, 2)

    def test_late_bound_and_unbound_cells(self):
        @module.operator("Late")
        def late():
            def forward(*, inputs):
                return (assigned_later, never_assigned)

            assigned_later = "set after forward"
            return forward
            never_assigned = None  # noqa: F841 (makes an empty cell)

        op = late()
        self.assertEqual(op.assigned_later, "set after forward")
        with self.assertRaises(AttributeError):
            op.never_assigned

    def test_precedence_state_then_closure_then_arguments(self):
        @module.operator("Layers")
        def layers(*, a, b, c):
            b = "closure b"
            c = "closure c"

            def forward(*, inputs):
                return (b, c)

            return module.state(forward, c="state c")

        op = layers(a="arg a", b="arg b", c="arg c")
        self.assertEqual((op.a, op.b, op.c), ("arg a", "closure b", "state c"))

    def test_instance_values_never_hide_the_runtime_names(self):
        specification = PassSpecification()

        @module.operator("Shadowing", specification=specification)
        def shadowing(*, specification=None, forward="an argument"):
            def behaviour(*, inputs):
                return inputs

            return behaviour

        op = shadowing(specification="not the specification")
        self.assertIs(op.specification, specification)
        self.assertTrue(callable(op.forward))
        self.assertEqual(op(inputs=5), 5)

    def test_missing_attribute(self):
        with self.assertRaises(AttributeError) as caught:
            top_level().nothing_here
        self.assertEqual(str(caught.exception), "'TopLevel' object has no attribute 'nothing_here'")

    def test_state_needs_a_callable(self):
        with self.assertRaises(TypeError):
            module.state("not callable", x=1)

    def test_dir_lists_instance_values(self):
        @module.operator("Listed")
        def listed(*, alpha):
            beta = alpha + 1

            def forward(*, inputs):
                return beta

            return module.state(forward, gamma=3)

        names = dir(listed(alpha=1))
        for name in ("alpha", "beta", "gamma", "forward", "specification"):
            self.assertIn(name, names)


class ImmutabilityTests(unittest.TestCase):
    def test_set_and_delete_raise_frozen_instance_error(self):
        op = top_level()
        with self.assertRaises(dataclasses.FrozenInstanceError) as caught:
            op.version = 3
        self.assertEqual(str(caught.exception), "cannot assign to field 'version'")
        with self.assertRaises(dataclasses.FrozenInstanceError) as caught:
            del op.version
        self.assertEqual(str(caught.exception), "cannot delete field 'version'")
        with self.assertRaises(dataclasses.FrozenInstanceError):
            object.__getattribute__(op, "__class__")  # reading is fine
            op._ember_behaviour = None
        self.assertFalse(hasattr(op, "__dict__"))

    def test_copies_are_the_instance(self):
        op = top_level()
        self.assertIs(copy.copy(op), op)
        self.assertIs(copy.deepcopy({"op": op})["op"], op)

    def test_equality_is_identity(self):
        self.assertNotEqual(top_level(), top_level())
        op = top_level()
        self.assertEqual(op, op)
        self.assertEqual(len({top_level(), top_level()}), 2)


class ReprTests(unittest.TestCase):
    def test_shows_the_constructor_call(self):
        @module.operator("Shown")
        def shown(size, *, name, flag=False):
            return lambda *, inputs: inputs

        self.assertEqual(repr(shown(3, name="n")), "Shown(3, name='n')")
        self.assertEqual(repr(top_level()), "TopLevel()")

    def test_recursive_structures(self):
        @module.operator("Holder")
        def holder(items):
            return lambda *, inputs: inputs

        items = []
        op = holder(items)
        items.append(op)
        self.assertEqual(repr(op), "Holder([...])")


class CallContractTests(unittest.TestCase):
    def test_positional_call_is_a_type_error(self):
        with self.assertRaises(TypeError):
            top_level()({"a": 1})

    def test_runtime_specification_error_from_forward_is_not_wrapped(self):
        @module.operator("Raiser", specification=PassSpecification())
        def raiser(*, inputs):
            raise OperatorSpecificationError.with_context("inner", where="forward")

        with self.assertRaises(OperatorSpecificationError) as caught:
            raiser()(inputs={})
        self.assertIn("inner", str(caught.exception))

    def test_base_exceptions_are_not_wrapped(self):
        @module.operator("Interrupted", specification=PassSpecification())
        def interrupted(*, inputs):
            raise KeyboardInterrupt

        with self.assertRaises(KeyboardInterrupt):
            interrupted()(inputs={})

    def test_execution_error_fields(self):
        @module.operator("Exploding", specification=PassSpecification())
        def exploding(*, inputs):
            raise ValueError("kaboom")

        with self.assertRaises(OperatorExecutionError) as caught:
            exploding()(inputs={})
        error = caught.exception
        self.assertIsInstance(error, OperatorError)
        self.assertIsInstance(error.__cause__, ValueError)
        self.assertTrue(error.__suppress_context__)
        self.assertEqual(error.message, "Error executing operator: kaboom")
        self.assertEqual(error.error_code, 2002)
        context = error.get_context()
        self.assertEqual(context["operator_name"], "Exploding")
        self.assertEqual(context["operator_type"], __name__)
        self.assertEqual(context["cause_type"], "ValueError")
        self.assertEqual(context["caller_function"], "for_operator")
        self.assertEqual(os.path.normcase(context["caller_file"]), os.path.normcase(RUNTIME_FILE))
        context["operator_name"] = "changed"
        self.assertEqual(error.context["operator_name"], "Exploding")


class ExceptionFormattingTests(unittest.TestCase):
    def test_str_format(self):
        error = OperatorExecutionError.for_operator(
            operator_name="Op", message="went wrong", cause=KeyError("k"), extra=[1]
        )
        text = re.sub(r"caller_lineno=\d+", "caller_lineno=N", str(error))
        expected = (
            "[Error 2002] went wrong "
            "[Recovery: Check operator inputs and execution environment] "
            "[Context: caller_file={!r}, caller_function='for_operator', caller_lineno=N, "
            "cause_message=\"'k'\", cause_type='KeyError', extra=[1], operator_name='Op']"
        ).format(RUNTIME_FILE)
        self.assertEqual(text, expected)

    def test_default_message(self):
        self.assertEqual(OperatorExecutionError.for_operator("Op").message, "Execution error in operator 'Op'")
        self.assertEqual(
            OperatorExecutionError.for_operator("Op", cause=ValueError("v")).message,
            "Execution error in operator 'Op': v",
        )

    def test_with_context_and_codes(self):
        error = OperatorSpecificationError.with_context("missing", operator_name="Op")
        self.assertEqual(error.error_code, 2001)
        self.assertTrue(str(error).startswith("[Error 2001] missing [Recovery: Check operator specification definition] [Context: "))
        self.assertEqual(error.context["caller_function"], "with_context")
        self.assertTrue(issubclass(OperatorSpecificationError, OperatorError))
        self.assertTrue(issubclass(OperatorError, Exception))

    def test_error_without_code_has_no_caller_context(self):
        class Uncoded(OperatorError):
            DEFAULT_ERROR_CODE = None

        self.assertEqual(str(Uncoded("plain")), "plain [Recovery: Check operator configuration and usage]")

    def test_configuration_line_has_the_form_ember_migrate_rewrites(self):
        with open(RUNTIME_FILE, encoding="utf-8") as source:
            lines = source.read().splitlines()
        matching = [line for line in lines if line.startswith("LEGACY_EXCEPTION_MODULES")]
        self.assertEqual(matching, ['LEGACY_EXCEPTION_MODULES = ("ember.core.exceptions",)'])
        self.assertLess(lines.index(matching[0]), 60, "keep it near the top of the file")


class ExceptionClassResolutionTests(unittest.TestCase):
    def failing_operator(self):
        @module.operator("Failing", specification=PassSpecification())
        def failing(*, inputs):
            raise ValueError("nope")

        return failing()

    def test_own_classes_without_a_legacy_module(self):
        saved = sys.modules.pop("ember.core.exceptions", None)
        if saved is not None:
            self.addCleanup(sys.modules.__setitem__, "ember.core.exceptions", saved)
        with self.assertRaises(OperatorExecutionError):
            self.failing_operator()(inputs={})

    def test_legacy_classes_when_loaded(self):
        class LegacyExecution(Exception):
            @classmethod
            def for_operator(cls, operator_name, message=None, cause=None, **context):
                return cls(operator_name, message, type(cause).__name__, sorted(context))

        LegacyExceptionsModule(self, OperatorExecutionError=LegacyExecution)
        with self.assertRaises(LegacyExecution) as caught:
            self.failing_operator()(inputs={})
        self.assertEqual(
            caught.exception.args,
            ("Failing", "Error executing operator: nope", "ValueError", ["operator_type"]),
        )

    def test_legacy_specification_error_class(self):
        class LegacySpecificationError(Exception):
            @classmethod
            def with_context(cls, message, **context):
                return cls(message, context)

        LegacyExceptionsModule(self, OperatorSpecificationError=LegacySpecificationError)

        @module.operator("Unspecified")
        def unspecified(*, inputs):
            return inputs

        with self.assertRaises(LegacySpecificationError) as caught:
            unspecified()(inputs={})
        self.assertEqual(caught.exception.args[0], "Operator specification must be defined.")
        self.assertIsInstance(caught.exception.__cause__, LegacySpecificationError)

        # Raised in forward, the legacy class passes unwrapped, and so does ours.
        @module.operator("RaisesLegacy", specification=PassSpecification())
        def raises_legacy(*, inputs):
            raise inputs

        for error in (LegacySpecificationError("legacy"), OperatorSpecificationError("ours")):
            with self.assertRaises(type(error)):
                raises_legacy()(inputs=error)

    def test_module_without_the_class_falls_back(self):
        LegacyExceptionsModule(self)
        with self.assertRaises(OperatorExecutionError):
            self.failing_operator()(inputs={})

    def test_modules_are_read_from_the_configuration_at_raise_time(self):
        class Other(Exception):
            @classmethod
            def for_operator(cls, operator_name, message=None, cause=None, **context):
                return cls(message)

        LegacyExceptionsModule(self, name="other.exceptions", OperatorExecutionError=Other)
        original = ember_runtime.LEGACY_EXCEPTION_MODULES
        self.addCleanup(setattr, ember_runtime, "LEGACY_EXCEPTION_MODULES", original)
        ember_runtime.LEGACY_EXCEPTION_MODULES = ("not.loaded", "other.exceptions")
        with self.assertRaises(Other):
            self.failing_operator()(inputs={})


class SignatureTests(unittest.TestCase):
    def test_call_signature_marks_an_operator(self):
        signature = inspect.signature(top_level())
        self.assertEqual(str(signature), "(*, inputs=None, **kwargs)")


if __name__ == "__main__":
    unittest.main()
