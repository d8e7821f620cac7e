"""module.operator and OperatorModule: the class it makes, attributes, errors, exception classes.

The comparisons with legacy classes are in test_legacy_contract and
test_real_legacy; these tests pin the runtime's own rules. Where a rule is "what
CPython does for the legacy class", the expected value comes from a plain class
written like the legacy one (an oracle), so the tests hold on every Python version.
"""

import copy
import functools
import inspect
import os
import re
import sys
import types
import unittest
import weakref

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
INIT_HINT = "\nEnsure __init__ accepts the correct parameters."


class EmberModule:
    """Oracle: the legacy base's own __init__, inherited by classes without one."""

    def __init__(self):
        pass


class Operator(EmberModule):
    """Oracle: the legacy base's __call__."""

    def __call__(self, *, inputs=None, **kwargs):
        pass


def type_error_of(call):
    """The message of the TypeError that ``call()`` raises (the oracle's message)."""
    try:
        call()
    except TypeError as error:
        return str(error)
    raise AssertionError("the oracle accepted the call")


def attribute_error_of(action):
    try:
        action()
    except AttributeError as error:
        return str(error)
    raise AssertionError("no AttributeError")


class AlwaysEqual:
    def __eq__(self, other):
        return True

    __hash__ = None


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
        for args, kwargs in (((1,), {}), ((), {"x": 1}), ((1,), {"x": 1}), ((), {"self": 1})):
            with self.subTest(args=args, kwargs=kwargs), self.assertRaises(TypeError) as caught:
                top_level(*args, **kwargs)
            inner = type_error_of(lambda: EmberModule(*args, **kwargs))
            self.assertEqual(str(caught.exception), "Error initializing TopLevel: " + inner + INIT_HINT)
            self.assertIsInstance(caught.exception.__cause__, TypeError)
            self.assertEqual(str(caught.exception.__cause__), inner)
            self.assertTrue(caught.exception.__suppress_context__)

    def test_forward_form_messages_name_the_legacy_base(self):
        if sys.version_info < (3, 10):
            self.skipTest("CPython 3.9 names the function without its class")
        with self.assertRaises(TypeError) as caught:
            top_level(a=1)
        self.assertEqual(
            str(caught.exception),
            "Error initializing TopLevel: EmberModule.__init__() got an unexpected keyword "
            "argument 'a'\nEnsure __init__ accepts the correct parameters.",
        )
        with self.assertRaises(TypeError) as caught:
            top_level(1)
        self.assertEqual(
            str(caught.exception.__cause__),
            "EmberModule.__init__() takes 1 positional argument but 2 were given",
        )

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

        class Configured:  # oracle: the legacy class, as CPython saw its __init__
            def __init__(self, prefix, *rest, scale=2, label="arg", **extra):
                pass

        self.legacy = Configured
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
        Configured = self.legacy
        self.assertEqual(configured.__qualname__, Configured.__qualname__)
        for args, kwargs in (
            ((), {}),
            (("p",), {"scale": 1, "prefix": "q"}),
            ((), {"scale": 1}),
            (("p",), {"self": 1}),  # **extra would take it; the legacy self did not
        ):
            with self.subTest(args=args, kwargs=kwargs), self.assertRaises(TypeError) as caught:
                configured(*args, **kwargs)
            inner = type_error_of(lambda: Configured(*args, **kwargs))
            self.assertEqual(str(caught.exception), "Error initializing Configured: " + inner + INIT_HINT)
            self.assertIsInstance(caught.exception.__cause__, TypeError)
            self.assertEqual(str(caught.exception.__cause__), inner)
            self.assertIsNone(caught.exception.__cause__.__cause__)
        self.assertEqual(calls, [], "a refused call never runs the factory")

    def test_bad_calls_of_each_parameter_kind(self):
        @module.operator("Kinds")
        def kinds(a, /, b, *, c, d=4):
            return lambda *, inputs: inputs

        class Kinds:
            def __init__(self, a, /, b, *, c, d=4):
                pass

        for args, kwargs in (
            ((), {}),
            ((1,), {}),
            ((1, 2), {}),
            ((1, 2, 3), {"c": 3}),
            ((), {"a": 1, "b": 2, "c": 3}),
            ((1,), {"b": 2, "c": 3, "e": 5}),
            ((1, 2), {"b": 2, "c": 3}),
        ):
            with self.subTest(args=args, kwargs=kwargs), self.assertRaises(TypeError) as caught:
                kinds(*args, **kwargs)
            inner = type_error_of(lambda: Kinds(*args, **kwargs))
            self.assertEqual(str(caught.exception), "Error initializing Kinds: " + inner + INIT_HINT)
        self.assertEqual(kinds(1, 2, c=3).d, 4)

    def test_messages_name_the_class_init(self):
        if sys.version_info < (3, 10):
            self.skipTest("CPython 3.9 names the function without its class")

        @module.operator("Named")
        def named(*, n):
            return lambda *, inputs: inputs

        with self.assertRaises(TypeError) as caught:
            named(1)
        self.assertEqual(
            str(caught.exception),
            "Error initializing Named: FactoryTests.test_messages_name_the_class_init."
            "<locals>.Named.__init__() takes 1 positional argument but 2 were given"
            "\nEnsure __init__ accepts the correct parameters.",
        )

    def test_wrapped_factory_runs_before_its_refusal_is_worded(self):
        calls = []

        def logged(factory):
            @functools.wraps(factory)
            def wrapper(*args, **kwargs):
                calls.append((args, kwargs))
                return factory(*args, **kwargs)

            return wrapper

        @module.operator("Logged")
        @logged
        def logged_operator(*, n):
            return lambda *, inputs: inputs

        class Logged:
            def __init__(self, *, n):
                pass

        with self.assertRaises(TypeError) as caught:
            logged_operator(m=1)
        inner = type_error_of(lambda: Logged(m=1))
        self.assertEqual(str(caught.exception), "Error initializing Logged: " + inner + INIT_HINT)
        self.assertEqual(str(caught.exception.__cause__), inner)
        # As the legacy decorated __init__ did, the wrapper ran first.
        self.assertEqual(calls, [((), {"m": 1})])

    def test_type_error_inside_the_factory_is_reported_like_legacy_init(self):
        @module.operator("Fragile")
        def fragile(*, n):
            return len(n)  # TypeError for an int, as a legacy __init__ body might raise

        with self.assertRaises(TypeError) as caught:
            fragile(n=3)
        self.assertEqual(
            str(caught.exception),
            "Error initializing Fragile: object of type 'int' has no len()" + INIT_HINT,
        )
        self.assertEqual(str(caught.exception.__cause__), "object of type 'int' has no len()")

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


def make_scaled():
    """A factory-form class: a closure variable, a state attribute, an argument only."""

    @module.operator("Scaled", specification=PassSpecification(), label="class label", unit="cm")
    def scaled(*, factor, unit="m", note=None):
        def forward(*, inputs):
            return (inputs * factor, unit)

        return module.state(forward, unit=unit, history=[])

    return scaled


class MutationTests(unittest.TestCase):
    """Legacy instances could be changed after construction; so can ours."""

    def test_assign_a_new_attribute(self):
        op = top_level()
        op.note = "added"
        self.assertEqual(op.note, "added")
        self.assertEqual(vars(op), {"note": "added"})
        op.note = "again"
        self.assertEqual((op.note, vars(op)), ("again", {"note": "again"}))

    def test_a_closure_variable_set_is_what_forward_sees(self):
        op = make_scaled()(factor=2)
        self.assertEqual(op(inputs=3), (6, "m"))
        op.factor = 10
        self.assertEqual(op.factor, 10)
        self.assertEqual(op(inputs=3), (30, "m"))
        self.assertEqual(op.forward(inputs=1), (10, "m"))

    def test_a_state_attribute_that_forward_closes_over_changes_both(self):
        op = make_scaled()(factor=2)
        op.unit = "km"
        self.assertEqual(op.unit, "km")
        self.assertEqual(vars(op)["unit"], "km")
        self.assertEqual(op(inputs=1), (2, "km"))

    def test_with_state_new_attributes_join_vars_in_order(self):
        op = make_scaled()(factor=2)
        op.extra = 1
        op.factor = 5  # a closure variable that was not in the state
        self.assertEqual(list(vars(op)), ["unit", "history", "extra", "factor"])
        self.assertEqual(vars(op)["factor"], 5)

    def test_without_state_vars_is_arguments_then_closure_variables_then_sets(self):
        @module.operator("Plain")
        def plain(a, *, b=2):
            c = a + b

            def forward(*, inputs):
                return c

            return forward

        op = plain(1)
        self.assertEqual(vars(op), {"a": 1, "b": 2, "c": 3})
        op.d = 4
        op.a = 0  # an argument that forward does not use: set on the instance
        self.assertEqual(vars(op), {"a": 0, "b": 2, "c": 3, "d": 4})
        op.c = 30
        self.assertEqual(op.forward(inputs=None), 30)

    def test_delete_an_argument(self):
        op = make_scaled()(factor=2, note="n")
        self.assertEqual(op.note, "n")
        del op.note
        self.assertEqual(
            attribute_error_of(lambda: op.note), "'Scaled' object has no attribute 'note'"
        )
        self.assertNotIn("note", dir(op))

    def test_delete_shows_the_class_attribute(self):
        op = make_scaled()(factor=2)
        self.assertEqual(op.unit, "m")
        del op.unit  # a state attribute, an argument and a closure variable at once
        self.assertEqual(op.unit, "cm")
        self.assertNotIn("unit", vars(op))
        op.unit = "mm"
        self.assertEqual(op(inputs=1), (2, "mm"))
        self.assertEqual(list(vars(op)), ["history", "unit"])

    def test_delete_a_closure_variable(self):
        op = make_scaled()(factor=2)
        del op.factor
        self.assertFalse(hasattr(op, "factor"))
        with self.assertRaises(OperatorExecutionError) as caught:
            op(inputs=1)
        self.assertIsInstance(caught.exception.__cause__, NameError)
        op.factor = 3
        self.assertEqual(op(inputs=1), (3, "m"))

    def test_delete_a_closure_variable_twice(self):
        class Counted:  # oracle
            pass

        @module.operator("Counted")
        def counted():
            count = 0

            def forward(*, inputs):
                return count

            return forward

        op = counted()
        del op.count
        with self.assertRaises(AttributeError) as caught:
            del op.count
        self.assertEqual(str(caught.exception), attribute_error_of(lambda: delattr(Counted(), "count")))

    def test_delete_what_is_not_there(self):
        class Scaled:  # oracle: CPython's message for a plain instance
            label = "class label"

        for name in ("missing", "label", "forward", "specification"):
            with self.subTest(name=name):
                op = make_scaled()(factor=2)
                with self.assertRaises(AttributeError) as caught:
                    delattr(op, name)
                self.assertEqual(
                    str(caught.exception), attribute_error_of(lambda: delattr(Scaled(), name))
                )
        op = make_scaled()(factor=2)
        del op.history
        with self.assertRaises(AttributeError) as caught:
            del op.history
        self.assertEqual(str(caught.exception), attribute_error_of(lambda: delattr(Scaled(), "history")))

    def test_set_and_delete_through_a_property_without_setter_or_deleter(self):
        class Bare:  # oracle
            @property
            def specification(self):
                return None

        @module.operator("Bare")
        def bare(*, inputs):
            return inputs

        op = bare()
        with self.assertRaises(AttributeError) as caught:
            op.specification = PassSpecification()
        self.assertEqual(
            str(caught.exception),
            attribute_error_of(lambda: setattr(Bare(), "specification", 1)),
        )
        with self.assertRaises(AttributeError) as caught:
            del op.specification
        self.assertEqual(
            str(caught.exception), attribute_error_of(lambda: delattr(Bare(), "specification"))
        )

    def test_set_on_an_instance_hides_forward_and_a_class_specification(self):
        op = top_level()
        op.forward = lambda *, inputs: ("replaced", inputs)
        self.assertEqual(op(inputs=1), ("replaced", 1))
        other = PassSpecification()
        op.specification = other
        self.assertIs(op.specification, other)
        op(inputs={"v": 2})
        self.assertEqual(other.validated, [("inputs", {"v": 2}), ("output", ("replaced", {"v": 2}))])
        self.assertEqual(set(vars(op)), {"forward", "specification"})
        del op.forward, op.specification
        self.assertEqual(op(inputs=3), 3)
        self.assertIs(op.specification, top_level.specification)

    def test_the_runtime_internals_are_refused(self):
        op = top_level()
        for action in (
            lambda: setattr(op, "_ember_behaviour", None),
            lambda: delattr(op, "_ember_state"),
        ):
            with self.assertRaises(AttributeError) as caught:
                action()
            self.assertIn("the runtime's own", str(caught.exception))
        self.assertEqual(op(inputs=1), 1)

    def test_state_without_attributes_means_no_instance_attributes(self):
        @module.operator("Stateless")
        def stateless(*, level=1):
            doubled = level * 2

            def forward(*, inputs):
                return doubled

            return module.state(forward)

        op = stateless()
        self.assertEqual(vars(op), {})
        self.assertEqual((op.level, op.doubled), (1, 2))  # still readable
        op.added = 1
        self.assertEqual(vars(op), {"added": 1})

    def test_data_descriptors_of_the_class_come_before_instance_values(self):
        @module.operator("Described", shown=property(lambda self: "from the property"))
        def described(*, shown, hidden=0):
            def forward(*, inputs):
                return shown

            return forward

        op = described(shown="argument")
        self.assertEqual(op.shown, "from the property")
        self.assertEqual(op.forward(inputs=None), "argument")
        self.assertEqual(op.hidden, 0)

    def test_vars_is_a_new_dict(self):
        op = make_scaled()(factor=2)
        first = vars(op)
        self.assertIsNot(first, vars(op))
        first["unit"] = "changed"
        self.assertEqual(op.unit, "m")

    def test_weak_references(self):
        op = top_level()
        reference = weakref.ref(op)
        self.assertIs(reference(), op)

    def test_copies_are_the_instance(self):
        op = top_level()
        self.assertIs(copy.copy(op), op)
        self.assertIs(copy.deepcopy({"op": op})["op"], op)


class EnclosingScopeTests(unittest.TestCase):
    """Variables of the scope around a converted operator are not instance attributes."""

    def test_factory_form(self):
        outer = "outer value"

        @module.operator("Nested")
        def nested(*, own):
            def forward(*, inputs):
                return (outer, own)

            return forward

        op = nested(own=1)
        self.assertEqual(vars(op), {"own": 1})
        with self.assertRaises(AttributeError):
            op.outer
        op.outer = "set on the instance"
        self.assertEqual(op.forward(inputs=None), ("outer value", 1))
        self.assertEqual(outer, "outer value")
        self.assertEqual(op.outer, "set on the instance")

    def test_forward_form(self):
        outer = "outer value"

        @module.operator("NestedForward")
        def nested_forward(*, inputs):
            return outer

        op = nested_forward()
        self.assertEqual(vars(op), {})
        with self.assertRaises(AttributeError):
            op.outer
        op.outer = "set on the instance"
        self.assertEqual(op.forward(inputs=None), "outer value")


class EqualityTests(unittest.TestCase):
    """Legacy operators were dataclasses without fields: equality is the class."""

    def setUp(self):
        scaled = make_scaled()
        self.a, self.b = scaled(factor=1), scaled(factor=2, unit="km")
        self.other = top_level()

    def test_instances_of_one_class_are_equal(self):
        self.assertTrue(self.a == self.b)
        self.assertFalse(self.a != self.b)
        self.assertTrue(top_level() == top_level())
        self.a.factor = 99
        self.a.extra = 1
        self.assertEqual(self.a, self.b)

    def test_instances_of_two_classes_are_unequal(self):
        self.assertFalse(self.a == self.other)
        self.assertTrue(self.a != self.other)
        # Two classes with one name are two classes.
        self.assertNotEqual(make_scaled()(factor=1), self.a)

    def test_other_objects_are_unequal_even_if_they_say_otherwise(self):
        for other in (None, 0, "Scaled({})", {}, AlwaysEqual()):
            with self.subTest(other=other):
                self.assertIs(self.a == other, False)
                self.assertIs(self.a != other, True)
                self.assertIs(self.a.__eq__(other), False)

    def test_all_instances_hash_alike(self):
        self.assertEqual({hash(self.a), hash(self.b), hash(self.other)}, {hash(())})
        self.assertEqual(len({self.a, self.b}), 1)
        self.assertEqual(len({self.a, self.b, self.other}), 2)
        self.assertEqual({self.a: "found"}[self.b], "found")


class ReprTests(unittest.TestCase):
    def test_class_name_and_empty_fields(self):
        @module.operator("Shown")
        def shown(size, *, name, flag=False):
            return lambda *, inputs: inputs

        op = shown(3, name="n")
        self.assertEqual(repr(op), "Shown({})")
        self.assertEqual(str(op), "Shown({})")
        op.size = 4
        self.assertEqual(repr(op), "Shown({})")
        self.assertEqual(repr(top_level()), "TopLevel({})")
        self.assertEqual(repr([top_level()]), "[TopLevel({})]")


class CallContractTests(unittest.TestCase):
    def test_positional_call_is_a_type_error_naming_operator_call(self):
        for args, kwargs in ((({"a": 1},), {}), (({"a": 1}, 2), {"inputs": 1})):
            with self.subTest(args=args), self.assertRaises(TypeError) as caught:
                top_level()(*args, **kwargs)
            self.assertEqual(
                str(caught.exception), type_error_of(lambda: Operator()(*args, **kwargs))
            )

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
