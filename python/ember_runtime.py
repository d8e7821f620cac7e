"""Ember runtime: the module layer that code migrated by ``ember-migrate`` runs on.

One file, standard library only, Python 3.9 or later.

Two parts:

* The guide's API, with the semantics of the Swift core: ``module``, ``chain``,
  ``ensemble``, ``retry``, ``cache``, ``vmap``, ``jit`` and the adapter
  ``migrate_operator_to_module``.
* The legacy-contract bridge, ``module.operator``: it turns a converted legacy
  operator (a function) back into a class whose instances behave like the legacy
  ``Operator`` subclass did: the same ``__call__`` contract (input validation,
  output conversion, error wrapping), ``forward``, ``specification``,
  attributes (read, set and deleted after construction), ``vars()``, equality,
  hashing, ``repr``, the errors of bad constructor calls, and the same exception
  classes.

Exception classes: when a module named in ``LEGACY_EXCEPTION_MODULES`` is already
imported, errors are raised with its ``OperatorExecutionError`` and
``OperatorSpecificationError``, so migrated code that still catches the legacy
classes keeps working. Otherwise the runtime's own classes below are used; their
messages are formatted the way the legacy ones are. The legacy package itself is
never imported.

See python/README.md for the API and the differences that remain from the legacy
classes.
"""

import collections
import contextvars
import functools
import inspect
import math
import os
import random
import sys
import threading
import time
import types
from concurrent.futures import ThreadPoolExecutor

# ember-migrate rewrites the next line when it writes this file into a project.
LEGACY_EXCEPTION_MODULES = ("ember.core.exceptions",)

# The legacy base's own __init__, which a class without one inherited: a bad
# construction names it in its TypeError, as the legacy classes did.
LEGACY_BASE_INIT = "EmberModule.__init__"

__version__ = "0.1.0"

__all__ = [
    "CacheInfo",
    "LEGACY_EXCEPTION_MODULES",
    "Module",
    "OperatorError",
    "OperatorExecutionError",
    "OperatorModule",
    "OperatorSpecificationError",
    "__version__",
    "cache",
    "chain",
    "ensemble",
    "jit",
    "migrate_operator_to_module",
    "module",
    "retry",
    "vmap",
]


# ---------------------------------------------------------------------------
# Exceptions
# ---------------------------------------------------------------------------


class OperatorError(Exception):
    """Base of the runtime's operator errors (used when no legacy module is loaded).

    Built and formatted like the legacy ``EmberError``: ``str(error)`` is
    ``[Error CODE] message [Recovery: hint] [Context: k=v, ...]`` with the context
    keys sorted. The context records the cause's type and message when there is a
    cause, and where the error was built (``caller_file``, ``caller_function``,
    ``caller_lineno``: the code that called the constructor).
    """

    DEFAULT_ERROR_CODE = 2000
    DEFAULT_RECOVERY_HINT = "Check operator configuration and usage"

    def __init__(
        self,
        message,
        error_code=None,
        context=None,
        cause=None,
        recovery_hint=None,
    ):
        self.message = message
        self.error_code = (
            error_code if error_code is not None else self.DEFAULT_ERROR_CODE
        )
        self.context = context or {}
        self.recovery_hint = recovery_hint or self.DEFAULT_RECOVERY_HINT
        self.__cause__ = cause
        if cause:
            self.add_context(cause_type=type(cause).__name__, cause_message=str(cause))
        if type(self).DEFAULT_ERROR_CODE is not None:
            frame = inspect.currentframe()
            try:
                caller = frame.f_back if frame is not None else None
                if caller is not None:
                    info = inspect.getframeinfo(caller)
                    self.add_context(
                        caller_file=info.filename,
                        caller_function=info.function,
                        caller_lineno=info.lineno,
                    )
            finally:
                del frame
        super().__init__(self._format_message())

    def add_context(self, **context):
        """Adds key-value pairs to the context; returns the error."""
        self.context.update(context)
        return self

    def get_context(self):
        """A copy of the context."""
        return dict(self.context)

    def _format_message(self):
        parts = []
        if self.error_code is not None:
            parts.append("[Error {}]".format(self.error_code))
        parts.append(self.message)
        if self.recovery_hint:
            parts.append("[Recovery: {}]".format(self.recovery_hint))
        if self.context:
            pairs = ", ".join(
                "{}={!r}".format(key, value)
                for key, value in sorted(self.context.items())
            )
            parts.append("[Context: {}]".format(pairs))
        return " ".join(parts)

    @classmethod
    def with_context(cls, message, **context):
        """An error with this message and context."""
        return cls(message=message, context=context)


class OperatorSpecificationError(OperatorError):
    """An operator's specification is missing or unusable."""

    DEFAULT_ERROR_CODE = 2001
    DEFAULT_RECOVERY_HINT = "Check operator specification definition"


class OperatorExecutionError(OperatorError):
    """An operator failed while running; the original error is the cause."""

    DEFAULT_ERROR_CODE = 2002
    DEFAULT_RECOVERY_HINT = "Check operator inputs and execution environment"

    @classmethod
    def for_operator(cls, operator_name, message=None, cause=None, **context):
        """An execution error of the named operator, with ``operator_name`` in the context."""
        if message is None:
            message = "Execution error in operator '{}'".format(operator_name)
            if cause:
                message += ": {}".format(str(cause))
        context_dict = dict(context)
        context_dict["operator_name"] = operator_name
        return cls(message=message, context=context_dict, cause=cause)


def _legacy_exception_class(name):
    """The class ``name`` from the first loaded legacy exceptions module that has it."""
    for module_name in LEGACY_EXCEPTION_MODULES:
        loaded = sys.modules.get(module_name)
        candidate = getattr(loaded, name, None) if loaded is not None else None
        if isinstance(candidate, type) and issubclass(candidate, BaseException):
            return candidate
    return None


def _execution_error_class():
    return _legacy_exception_class("OperatorExecutionError") or OperatorExecutionError


def _specification_error_class():
    return (
        _legacy_exception_class("OperatorSpecificationError")
        or OperatorSpecificationError
    )


def _specification_error_classes():
    """Every class counted as a specification error: the legacy one, if loaded, and ours."""
    legacy = _legacy_exception_class("OperatorSpecificationError")
    if legacy is None or legacy is OperatorSpecificationError:
        return (OperatorSpecificationError,)
    return (legacy, OperatorSpecificationError)


# ---------------------------------------------------------------------------
# The calling rule, shared by chain, ensemble, vmap, retry and cache
# ---------------------------------------------------------------------------


def _takes_inputs_keyword(member):
    """True for operators: callables with a keyword-only ``inputs`` and no positional parameters.

    ``OperatorModule`` instances and legacy ``Operator`` instances
    (``__call__(self, *, inputs=None, **kwargs)``) are such callables, and so is a
    plain ``def f(*, inputs)``.
    """
    if isinstance(member, OperatorModule):
        return True
    try:
        signature = inspect.signature(member)
    except (TypeError, ValueError):
        return False
    has_inputs = False
    for parameter in signature.parameters.values():
        if parameter.kind in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            return False
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and parameter.name == "inputs":
            has_inputs = True
    return has_inputs


def _adapt(member):
    """A callable that applies ``member`` to a value by the calling rule.

    Operators (see ``_takes_inputs_keyword``) called with one positional value are
    called as ``member(inputs=value)``; any other call, and any other callable, is
    passed through unchanged.
    """
    if not callable(member):
        raise TypeError("expected a callable, got {!r}".format(member))
    if not _takes_inputs_keyword(member):
        return member

    def call_operator(*args, **kwargs):
        if len(args) == 1 and not kwargs:
            return member(inputs=args[0])
        return member(*args, **kwargs)

    return call_operator


def _display_name(member):
    if isinstance(member, OperatorModule):
        return type(member).__name__
    name = getattr(member, "name", None)
    if isinstance(name, str):
        return name
    name = getattr(member, "__name__", None)
    if isinstance(name, str):
        return name
    return type(member).__name__


# ---------------------------------------------------------------------------
# Running calls on threads
# ---------------------------------------------------------------------------


class _Run:
    """Shared state of one concurrent run: the first failure, and whether to stop."""

    def __init__(self):
        self._lock = threading.Lock()
        self._stopped = False
        self.error = None

    def stopped(self):
        return self._stopped

    def fail(self, error):
        with self._lock:
            if self.error is None:
                self.error = error
            self._stopped = True

    def stop(self):
        with self._lock:
            self._stopped = True


def _run_ordered(call, items, max_in_flight):
    """``[call(item) for item in items]``, with at most ``max_in_flight`` calls running at once.

    Each call runs on a worker thread in a copy of the caller's ``contextvars``
    context. The first call to fail (in completion order) stops the run: calls not
    yet started are never started, calls already running are waited for (threads
    cannot be interrupted), and then its error is raised.
    """
    count = len(items)
    if count == 0:
        return []
    results = [None] * count
    run = _Run()

    def run_one(index):
        if run.stopped():
            return
        try:
            results[index] = call(items[index])
        except BaseException as error:  # re-raised in the calling thread below
            run.fail(error)

    pool = ThreadPoolExecutor(
        max_workers=min(count, max_in_flight), thread_name_prefix="ember"
    )
    try:
        try:
            for index in range(count):
                if run.stopped():
                    break
                pool.submit(contextvars.copy_context().run, run_one, index)
        finally:
            pool.shutdown(wait=True)
    except BaseException:
        # Interrupted while submitting or waiting: start nothing more.
        run.stop()
        raise
    if run.error is not None:
        raise run.error
    return results


# ---------------------------------------------------------------------------
# module
# ---------------------------------------------------------------------------


class Module:
    """A function marked as an Ember module.

    Calls go straight to the function, with its own signature
    (``inspect.signature`` follows ``__wrapped__``). ``name`` is the module's name
    (the function's name unless given); ``__name__``, ``__qualname__``,
    ``__module__`` and ``__doc__`` are the function's (``__doc__`` replaced when a
    ``doc`` is given). Equality is identity. Used as a class attribute, it binds
    like a function.
    """

    def __init__(self, fn, *, name=None, doc=None):
        if not callable(fn):
            raise TypeError("module() expects a callable, got {!r}".format(fn))
        functools.update_wrapper(self, fn)
        self.name = name if name is not None else _display_name(fn)
        if doc is not None:
            self.__doc__ = doc

    def __call__(self, *args, **kwargs):
        return self.__wrapped__(*args, **kwargs)

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return types.MethodType(self, instance)

    def __repr__(self):
        return "<Module {}>".format(self.name)


def module(fn=None, *, name=None, doc=None):
    """Marks a function as a module: ``@module`` or ``@module(name=..., doc=...)``.

    ``module.operator`` and ``module.state`` are the legacy-operator bridge.
    """
    if fn is None:

        def decorate(function):
            return Module(function, name=name, doc=doc)

        return decorate
    return Module(fn, name=name, doc=doc)


# ---------------------------------------------------------------------------
# The legacy-operator bridge: module.operator, module.state, OperatorModule
# ---------------------------------------------------------------------------


class _OperatorState:
    """What a factory returns with ``module.state``: the behaviour and extra attributes."""

    __slots__ = ("behaviour", "attributes")

    def __init__(self, behaviour, attributes):
        self.behaviour = behaviour
        self.attributes = attributes


def _state(behaviour, **attributes):
    """Returned by a factory: the behaviour, plus attributes readable on the instance.

    For what a legacy ``__init__`` stored on ``self`` and the behaviour does not
    close over: ``return module.state(forward, lm_modules=lm_modules)``.
    """
    if not callable(behaviour):
        raise TypeError(
            "module.state() expects the behaviour (a callable) first, got {!r}".format(
                behaviour
            )
        )
    return _OperatorState(behaviour, types.MappingProxyType(dict(attributes)))


def _class_attribute(cls, name):
    """``name`` as found on ``cls`` or its bases (without descriptors applied), or ``_MISSING``."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return _MISSING


_MISSING = object()


def _is_data_descriptor(value):
    kind = type(value)
    return hasattr(kind, "__set__") or hasattr(kind, "__delete__")


def _bound_arguments(function, args, kwargs):
    """The factory's parameters as bound for this call, defaults applied.

    Empty when the reported signature does not accept a call that the function
    itself accepted (a decorator that hides the real signature): there is then
    no reliable name for each argument.
    """
    try:
        bound = inspect.signature(function).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return {}
    bound.apply_defaults()
    return dict(bound.arguments)


def _closure_cells(behaviour, factory):
    """The behaviour's closure cells by variable name, for the factory's own variables.

    A behaviour defined in a factory that is itself nested also closes over the
    enclosing function's variables; those belong to that function, not to the
    instance (the legacy method read them the same way), so they are left out.
    Empty for a behaviour that is not a Python function.
    """
    code = getattr(behaviour, "__code__", None)
    closure = getattr(behaviour, "__closure__", None)
    if code is None or not closure:
        return {}
    cells = dict(zip(code.co_freevars, closure))
    factory_code = getattr(inspect.unwrap(factory), "__code__", None)
    if factory_code is None:
        return cells
    own = set(factory_code.co_cellvars)
    return {name: cell for name, cell in cells.items() if name in own}


_INIT_HINT = "\nEnsure __init__ accepts the correct parameters."


def _construct(cls, args, kwargs):
    """Calls the factory with the constructor's arguments and returns what it made (for
    a class without ``__init__``, checks that there are none and returns None).

    A ``TypeError`` is reported as the legacy metaclass reported one from ``__init__``:
    ``Error initializing Name: ...``, raised from it. A call that the legacy
    ``__init__``'s signature (``cls._ember_init_check``) refuses fails with CPython's
    error for that ``__init__``: it names ``Name.__init__``, counts ``self``, and
    refuses a keyword named ``self`` even where the factory takes ``**kwargs``.

    When the factory is a plain function, the check is exact and runs first, as
    CPython bound the legacy call before running ``__init__``. Otherwise (a wrapped
    factory, or one with a ``__signature__``) the reported signature may be narrower
    than what the factory accepts, so the factory runs first and the check only
    words its ``TypeError``.
    """
    check = cls._ember_init_check
    exact = cls._ember_forward_form or _signature_is_its_own(cls._ember_function)
    if check is not None and exact:
        refusal = _refusal(check, args, kwargs)
        if refusal is not None:
            raise TypeError(_init_message(cls, refusal)) from refusal
    if cls._ember_forward_form:
        return None
    try:
        return cls._ember_function(*args, **kwargs)
    except TypeError as error:
        failure = error
    if check is not None and not exact:
        failure = _refusal(check, args, kwargs) or failure
    raise TypeError(_init_message(cls, failure)) from failure


def _init_message(cls, error):
    return "Error initializing {}: {}{}".format(cls.__name__, error, _INIT_HINT)


def _signature_is_its_own(function):
    """True for a plain function whose reported signature is that of its own code."""
    return (
        isinstance(function, types.FunctionType)
        and not hasattr(function, "__wrapped__")
        and not hasattr(function, "__signature__")
    )


def _refusal(check, args, kwargs):
    """The TypeError that calling ``check(None, *args, **kwargs)`` raises, or None."""
    try:
        check(None, *args, **kwargs)
    except TypeError as error:
        return error
    return None


class _OperatorModuleType(type):
    """Metaclass of ``OperatorModule``: a subclass written as a class statement (a plain
    legacy subclass, or the class a legacy ``@jit`` builds) gets no ``__dict__`` slot of
    its own, so ``vars()`` keeps showing the instance's attributes."""

    def __new__(mcs, name, bases, namespace, **kwargs):
        namespace.setdefault("__slots__", ())
        return super().__new__(mcs, name, bases, namespace, **kwargs)


# Named like the legacy metaclass: code that prints type(SomeOperator).__name__ sees the
# same name.
_OperatorModuleType.__name__ = _OperatorModuleType.__qualname__ = "EmberModuleMeta"


class OperatorModule(metaclass=_OperatorModuleType):
    """Base of the classes that ``module.operator`` makes from converted legacy operators.

    An instance behaves like an instance of the legacy ``Operator`` subclass:

    * ``op(*, inputs=None, **kwargs)`` applies the legacy ``Operator.__call__``
      contract (see ``__call__``).
    * ``op.forward(inputs=...)`` calls the behaviour directly.
    * ``op.specification`` is the class's specification; without one of its own,
      reading it raises ``OperatorSpecificationError``, as the legacy property did.
    * Attribute reads find, in this order: attributes set since construction,
      ``module.state`` attributes, the factory's variables that the behaviour closes
      over (read when accessed), and the constructor's arguments (defaults
      applied). As with an instance ``__dict__``, these come after data descriptors
      of the class and before its other attributes; only attributes set since
      construction can hide the runtime's own names (``forward``,
      ``specification``) or dunder names.
    * Attributes can be set and deleted after construction, as on the legacy
      instances; setting a closure variable's name changes what the behaviour sees,
      deleting an attribute removes it from every layer above. ``vars(op)`` gives
      the instance's attributes (a new dict): with ``module.state``, the state
      (which also takes every attribute set since); without, the constructor's
      arguments and the closure variables, then what was set since.
    * Like the legacy operators (dataclasses without fields of their own), instances
      of one class are all equal and all instances hash alike; ``repr`` is
      ``ClassName({})``. ``copy.copy`` and ``copy.deepcopy`` return the instance.
    """

    __slots__ = (
        "_ember_behaviour",
        "_ember_state",
        "_ember_cells",
        "_ember_arguments",
        "_ember_extra",
        "__weakref__",
    )

    # Set on each generated class by module.operator.
    _ember_function = None
    _ember_forward_form = False
    # A function with the legacy __init__'s name and signature (called with
    # (None, *args, **kwargs)): a bad call fails with CPython's own message for it.
    _ember_init_check = None

    def __init__(self, /, *args, **kwargs):  # self=... is a constructor argument, refused as legacy did
        cls = type(self)
        function = cls._ember_function
        if function is None:
            raise TypeError(
                "{} instances are made by classes from module.operator".format(cls.__name__)
            )
        made = _construct(cls, args, kwargs)
        if cls._ember_forward_form:
            behaviour, state, cells, arguments = function, None, {}, {}
        else:
            if isinstance(made, _OperatorState):
                behaviour, state = made.behaviour, dict(made.attributes)
            elif callable(made):
                behaviour, state = made, None
            else:
                raise TypeError(
                    "{}: the factory {} must return the behaviour (a callable) or "
                    "module.state(...), not {!r}".format(
                        cls.__name__, function.__qualname__, made
                    )
                )
            cells = _closure_cells(behaviour, function)
            arguments = _bound_arguments(function, args, kwargs)
        object.__setattr__(self, "_ember_behaviour", behaviour)
        object.__setattr__(self, "_ember_state", state)
        object.__setattr__(self, "_ember_cells", cells)
        object.__setattr__(self, "_ember_arguments", arguments)
        object.__setattr__(self, "_ember_extra", {})

    # -- the legacy contract -------------------------------------------------

    @property
    def specification(self):
        """The class's own specification; raises ``OperatorSpecificationError`` without one.

        A ``specification`` given to ``module.operator`` is a class attribute and
        takes the place of this property, as in the legacy classes.
        """
        cls = type(self)
        own = cls.__dict__.get("specification", None)
        if own is None or own is OperatorModule.__dict__.get("specification"):
            raise _specification_error_class().with_context(
                "Operator specification must be explicitly defined in the concrete class.",
                operator_name=cls.__name__,
                operator_type=cls.__module__,
                operator_class=cls.__name__,
            )
        return own

    def forward(self, *args, **kwargs):
        """Calls the behaviour directly: no validation, no error wrapping."""
        behaviour = object.__getattribute__(self, "_ember_behaviour")
        return behaviour(*args, **kwargs)

    def __call__(self, *, inputs=None, **kwargs):
        """Runs the operator with the legacy ``Operator.__call__`` contract.

        1. The specification (none of its own: ``OperatorSpecificationError``).
        2. Inputs: a dict is validated with ``specification.validate_inputs``; any
           other non-None value is passed as it is; keyword fields with an
           ``input_model`` build ``input_model(**kwargs)``; otherwise the keyword
           dict (``{}`` when empty).
        3. ``forward(inputs=...)``.
        4. A dict result with a ``structured_output`` becomes
           ``structured_output.model_validate(result)``; then
           ``specification.validate_output(output=...)``.
        5. Any error other than ``OperatorSpecificationError`` is raised as
           ``OperatorExecutionError.for_operator(...)`` from it.
        """
        cls = type(self)
        specification_errors = _specification_error_classes()
        try:
            specification = self.specification
        except specification_errors as error:
            raise _specification_error_class().with_context(
                "Operator specification must be defined.",
                operator_name=cls.__name__,
                operator_type=cls.__module__,
            ) from error

        try:
            if inputs is not None:
                if isinstance(inputs, dict):
                    validated_inputs = specification.validate_inputs(inputs=inputs)
                else:
                    validated_inputs = inputs
            elif kwargs and specification.input_model:
                validated_inputs = specification.input_model(**kwargs)
            else:
                validated_inputs = kwargs if kwargs else {}

            output = self.forward(inputs=validated_inputs)

            if (
                isinstance(output, dict)
                and hasattr(specification, "structured_output")
                and specification.structured_output
            ):
                output = specification.structured_output.model_validate(output)

            return specification.validate_output(output=output)
        except Exception as error:
            if not isinstance(error, specification_errors):
                raise _execution_error_class().for_operator(
                    operator_name=cls.__name__,
                    message="Error executing operator: {}".format(str(error)),
                    cause=error,
                    operator_type=cls.__module__,
                ) from error
            raise

    # -- attributes --------------------------------------------------------

    def __getattribute__(self, name):
        found = _class_attribute(type(self), name)
        if found is _MISSING or not _is_data_descriptor(found):
            present, value = _instance_value(self, name)
            if present:
                return value
        return object.__getattribute__(self, name)

    def __setattr__(self, name, value):
        # Legacy operators could be changed after construction. A change is seen by the
        # behaviour when it closes over the name, as forward saw self.x.
        if name.startswith("_ember_"):
            raise AttributeError(
                "cannot set {!r} on {}: it is the runtime's own".format(name, type(self).__name__)
            )
        found = _class_attribute(type(self), name)
        if found is not _MISSING and _is_data_descriptor(found):
            # A property, for one: its setter runs, or CPython's error for it.
            object.__setattr__(self, name, value)
            return
        if _inferred(name):
            cell = object.__getattribute__(self, "_ember_cells").get(name)
            if cell is not None:
                cell.cell_contents = value
            state = object.__getattribute__(self, "_ember_state")
            if state is not None:
                # With module.state, the state is the instance's __dict__.
                state[name] = value
                return
            if cell is not None:
                return
        object.__getattribute__(self, "_ember_extra")[name] = value

    def __delattr__(self, name):
        if name.startswith("_ember_"):
            raise AttributeError(
                "cannot delete {!r} on {}: it is the runtime's own".format(name, type(self).__name__)
            )
        found = _class_attribute(type(self), name)
        if found is not _MISSING and _is_data_descriptor(found):
            object.__delattr__(self, name)
            return
        deleted = object.__getattribute__(self, "_ember_extra").pop(name, _MISSING) is not _MISSING
        if _inferred(name):
            state = object.__getattribute__(self, "_ember_state")
            if state is not None and state.pop(name, _MISSING) is not _MISSING:
                deleted = True
            cell = object.__getattribute__(self, "_ember_cells").get(name)
            if cell is not None and _bound(cell):
                del cell.cell_contents
                deleted = True
            arguments = object.__getattribute__(self, "_ember_arguments")
            if arguments.pop(name, _MISSING) is not _MISSING:
                deleted = True
        if not deleted:
            # CPython's message for deleting an attribute an instance does not have.
            if sys.version_info >= (3, 11):
                raise AttributeError(
                    "{!r} object has no attribute {!r}".format(type(self).__name__, name)
                )
            raise AttributeError(name)

    @property
    def __dict__(self):
        """What a legacy instance held in its ``__dict__``, as a new dict: the
        ``module.state`` attributes (without ``module.state``: the constructor's
        arguments and the factory's variables the behaviour closes over), then
        what else was set since construction."""
        state = object.__getattribute__(self, "_ember_state")
        out = {}
        if state is not None:
            out.update(state)
        else:
            out.update(object.__getattribute__(self, "_ember_arguments"))
            for key, cell in object.__getattribute__(self, "_ember_cells").items():
                try:
                    out[key] = cell.cell_contents
                except ValueError:
                    pass
        out.update(object.__getattribute__(self, "_ember_extra"))
        return out

    def __dir__(self):
        names = set(object.__dir__(self))
        names.update(object.__getattribute__(self, "__dict__"))
        names.update(object.__getattribute__(self, "_ember_arguments"))
        names.update(object.__getattribute__(self, "_ember_cells"))
        return sorted(names)

    # Legacy operators were dataclasses without fields of their own: an instance equals
    # every instance of its class and nothing else (not even an object whose __eq__
    # says otherwise), all instances hash alike, and repr shows the (empty) fields.
    def __eq__(self, other):
        return isinstance(other, OperatorModule) and type(self) is type(other)

    def __hash__(self):
        return hash(())

    def __repr__(self):
        return "{}({{}})".format(type(self).__name__)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


# A positional call fails as the legacy base's did: "Operator.__call__() takes 1
# positional argument but 2 were given".
OperatorModule.__call__.__qualname__ = "Operator.__call__"

# The runtime's own names (forward, specification, ...): never taken from the
# instance's inferred values (module.state, closure variables, constructor arguments).
_OPERATOR_MODULE_NAMES = frozenset(OperatorModule.__dict__)


def _bound(cell):
    """True when the closure variable has a value."""
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


def _inferred(name):
    """True when ``name`` may come from the instance's inferred values."""
    return name not in _OPERATOR_MODULE_NAMES and not (
        name.startswith("__") and name.endswith("__")
    )


def _instance_value(instance, name):
    """(True, value) for an attribute set since construction, a state attribute, a
    closure variable, or a constructor argument; (False, None) otherwise."""
    extra = object.__getattribute__(instance, "_ember_extra")
    if name in extra:
        return True, extra[name]
    if not _inferred(name):
        return False, None
    state = object.__getattribute__(instance, "_ember_state")
    if state is not None and name in state:
        return True, state[name]
    cell = object.__getattribute__(instance, "_ember_cells").get(name)
    if cell is not None:
        try:
            return True, cell.cell_contents
        except ValueError:  # the variable is not bound (yet)
            pass
    arguments = object.__getattribute__(instance, "_ember_arguments")
    if name in arguments:
        return True, arguments[name]
    return False, None


def _init_check(factory, class_qualname):
    """A do-nothing function with the signature of the legacy ``__init__`` (``self`` plus
    the factory's parameters) named ``<class qualname>.__init__``: calling it with a bad call
    raises the TypeError CPython raised for the legacy class. Without a factory (the
    class had no ``__init__``), the legacy base's own ``__init__``, which took no
    arguments. None when the factory's signature cannot be read."""
    if factory is None:
        def __init__(self):  # the name CPython 3.9 puts in its messages
            pass

        __init__.__qualname__ = LEGACY_BASE_INIT
        return __init__
    try:
        parameters = list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):
        return None
    defaults = {}
    positional_only, ordinary, keyword_only = [], [], []
    star, double_star = None, None
    for index, parameter in enumerate(parameters):
        text = parameter.name
        if parameter.default is not inspect.Parameter.empty:
            placeholder = "_ember_default_{}".format(index)
            defaults[placeholder] = parameter.default
            text += "=" + placeholder
        if parameter.kind is inspect.Parameter.POSITIONAL_ONLY:
            positional_only.append(text)
        elif parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
            ordinary.append(text)
        elif parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            star = "*" + text
        elif parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            keyword_only.append(text)
        else:
            double_star = "**" + text
    pieces = []
    if positional_only:
        pieces += ["self"] + positional_only + ["/"]
    else:
        pieces.append("self")
    pieces += ordinary
    if star:
        pieces.append(star)
    elif keyword_only:
        pieces.append("*")
    pieces += keyword_only
    if double_star:
        pieces.append(double_star)
    namespace = dict(defaults)
    try:
        exec("def __init__({}):\n    pass\n".format(", ".join(pieces)), namespace)
    except SyntaxError:
        return None
    check = namespace["__init__"]
    check.__qualname__ = class_qualname + ".__init__"
    return check


def _reserved_class_attribute(name):
    if name == "specification":
        return False
    return (
        (name.startswith("__") and name.endswith("__"))
        or name.startswith("_ember_")
        or name in OperatorModule.__dict__
    )


def _operator(name, /, *bases, **class_attributes):
    """Makes a legacy-compatible operator class named ``name`` from a converted function.

    Used as ``@module.operator("LegacyName", specification=..., other=...)``. The
    keyword arguments become class attributes. A function with a parameter named
    ``inputs`` is the behaviour itself and the class takes no constructor
    arguments; any other function is a factory: constructing the class calls it
    with the constructor's arguments, and it returns the behaviour (or
    ``module.state(behaviour, **attributes)``).

    Positional arguments after the name are the classes of converted base operators
    (``@module.operator("Mean", base_statistic)`` for ``class Mean(BaseStatistic)``,
    whose members the codemod copied into the function): instances are instances of
    them too, and class attributes not given here come from them, as in the legacy
    class hierarchy.
    """
    if not isinstance(name, str):
        raise TypeError("module.operator() expects the legacy class name first, got {!r}".format(name))
    for base in bases:
        if not (isinstance(base, type) and issubclass(base, OperatorModule)):
            raise TypeError(
                "module.operator({!r}): a base must be a class made by module.operator, got {!r}".format(name, base)
            )
    reserved = sorted(key for key in class_attributes if _reserved_class_attribute(key))
    if reserved:
        raise TypeError(
            "module.operator({!r}): these class attributes would replace the "
            "runtime's own: {}".format(name, ", ".join(reserved))
        )

    def make_class(function):
        if not callable(function):
            raise TypeError("module.operator() decorates a function, got {!r}".format(function))
        forward_form = "inputs" in inspect.signature(function).parameters
        prefix, _, _ = getattr(function, "__qualname__", name).rpartition(".")
        qualname = prefix + "." + name if prefix else name
        namespace = dict(class_attributes)
        namespace.update(
            __module__=getattr(function, "__module__", None),
            __qualname__=qualname,
            __doc__=getattr(function, "__doc__", None),
            __slots__=(),
            _ember_function=staticmethod(function),
            _ember_forward_form=forward_form,
            _ember_init_check=staticmethod(
                _init_check(None if forward_form else function, qualname)
            ),
        )
        return type(name, tuple(bases) or (OperatorModule,), namespace)

    return make_class


module.operator = _operator
module.state = _state


# ---------------------------------------------------------------------------
# Composition: chain, ensemble, vmap
# ---------------------------------------------------------------------------


def chain(*modules):
    """``chain(a, b)(x) == b(a(x))``; ``chain()`` is the identity.

    Operators in the chain are called as ``m(inputs=x)``, other callables as ``m(x)``.
    """
    callers = tuple(_adapt(member) for member in modules)

    def chained(value):
        for caller in callers:
            value = caller(value)
        return value

    label = "chain({})".format(", ".join(_display_name(member) for member in modules))
    return Module(chained, name=label, doc=chain.__doc__)


def _majority(results):
    """The most common result; ties go to the one that appears first. Compares by equality."""
    if not results:
        raise ValueError("voting needs at least one result")
    tallies = []  # [value, count] in order of first appearance
    for result in results:
        for tally in tallies:
            if tally[0] is result or tally[0] == result:
                tally[1] += 1
                break
        else:
            tallies.append([result, 1])
    best = tallies[0]
    for tally in tallies[1:]:
        if tally[1] > best[1]:
            best = tally
    return best[0]


def ensemble(*modules, operators=None, aggregator=None, voting=False):
    """Calls every member once with the same input, concurrently; results in member order.

    ``ensemble(a, b)`` or ``ensemble(operators=[a, b])``. The result is the list of
    member results, or ``aggregator(results)`` when an aggregator is given, or the
    majority result when ``voting=True`` (ties: first in member order; unhashable
    results are fine; no members raises ValueError). An empty ensemble returns
    ``[]`` (``aggregator([])`` with an aggregator).

    Each call runs on its own thread. The first member to fail (in completion
    order) stops the run: members not yet started are not started, running ones
    are waited for (threads cannot be interrupted), then its error is raised.
    """
    if operators is not None:
        if modules:
            raise TypeError("ensemble() takes its members positionally or as operators=, not both")
        modules = tuple(operators)
    if voting and aggregator is not None:
        raise ValueError("ensemble() takes aggregator= or voting=True, not both")
    callers = tuple(_adapt(member) for member in modules)
    combine = _majority if voting else aggregator

    def run(value):
        results = _run_ordered(lambda caller: caller(value), callers, len(callers))
        return combine(results) if combine is not None else results

    label = "ensemble({})".format(", ".join(_display_name(member) for member in modules))
    return Module(run, name=label, doc=ensemble.__doc__)


def vmap(fn, *, batch_size=None):
    """A function over an iterable equal to ``[fn(x) for x in xs]``, computed concurrently.

    At most ``batch_size`` calls are in flight (None: all at once, one thread per
    item). The first call to fail stops the map like an ensemble does.
    """
    if batch_size is not None and batch_size < 1:
        raise ValueError("batch_size must be at least 1, got {!r}".format(batch_size))
    caller = _adapt(fn)

    def mapped(xs):
        items = list(xs)
        return _run_ordered(caller, items, batch_size if batch_size is not None else len(items))

    return Module(mapped, name="vmap({})".format(_display_name(fn)), doc=vmap.__doc__)


# ---------------------------------------------------------------------------
# retry
# ---------------------------------------------------------------------------


def _retry_any_exception(error):
    return True


def retry(
    fn,
    *,
    max_attempts=3,
    initial_delay=0.1,
    multiplier=2.0,
    max_delay=10.0,
    jitter=0.1,
    retry_if=None,
    sleep=time.sleep,
    rng=None,
):
    """``fn`` retried with exponential backoff.

    A call makes at most ``max_attempts`` attempts. An attempt that raises an
    ``Exception`` for which ``retry_if(error)`` is true (by default: any
    ``Exception``) is followed by a sleep and another attempt; the last attempt's
    error, or one ``retry_if`` rejects, is re-raised unchanged.
    ``KeyboardInterrupt``, ``SystemExit`` and other ``BaseException``s that are not
    ``Exception``s are never caught.

    The sleep before attempt n+1 is ``min(max_delay, initial_delay * multiplier**(n-1))``
    times a factor drawn uniformly from ``[1 - jitter, 1 + jitter]`` with
    ``rng.random()`` (default: a ``random.Random`` seeded from ``os.urandom``, so
    separate processes do not retry in lockstep).
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1, got {!r}".format(max_attempts))
    if initial_delay < 0 or max_delay < 0:
        raise ValueError("delays must not be negative")
    if multiplier < 0:
        raise ValueError("multiplier must not be negative, got {!r}".format(multiplier))
    if not 0 <= jitter <= 1:
        raise ValueError("jitter must be between 0 and 1, got {!r}".format(jitter))
    should_retry = retry_if if retry_if is not None else _retry_any_exception
    generator = rng if rng is not None else random.Random(os.urandom(16))
    call = _adapt(fn)

    def delay_before(next_attempt):
        raw = 0.0
        if initial_delay:
            try:
                raw = initial_delay * multiplier ** (next_attempt - 2)
            except OverflowError:
                raw = math.inf
        base = min(max_delay, raw)
        return base * (1.0 + jitter * (2.0 * generator.random() - 1.0))

    def retrying(*args, **kwargs):
        attempt = 1
        while True:
            try:
                return call(*args, **kwargs)
            except Exception as error:
                if attempt >= max_attempts or not should_retry(error):
                    raise
            attempt += 1
            sleep(delay_before(attempt))

    functools.update_wrapper(retrying, fn)
    return retrying


# ---------------------------------------------------------------------------
# cache
# ---------------------------------------------------------------------------


CacheInfo = collections.namedtuple("CacheInfo", ["hits", "misses", "size"])


class _Flight:
    """One underlying call in progress; its waiters block on ``done``."""

    __slots__ = ("done", "value", "error")

    def __init__(self):
        self.done = threading.Event()
        self.value = None
        self.error = None


class _CachedFunction:
    """The callable that ``cache`` returns; see ``cache``."""

    def __init__(self, fn, max_size):
        functools.update_wrapper(self, fn)
        self._call = _adapt(fn)
        self._max_size = max_size
        self._lock = threading.Lock()
        self._entries = collections.OrderedDict()
        self._flights = {}
        self._hits = 0
        self._misses = 0

    def __call__(self, *args, **kwargs):
        key = (args, tuple(sorted(kwargs.items())))
        try:
            hash(key)
        except TypeError:
            return self._call(*args, **kwargs)

        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self._hits += 1
                return self._entries[key]
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                flight = self._flights[key] = _Flight()
                self._misses += 1
            else:
                self._hits += 1

        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return flight.value

        try:
            value = self._call(*args, **kwargs)
        except BaseException as error:
            with self._lock:
                del self._flights[key]
            flight.error = error
            flight.done.set()
            raise
        with self._lock:
            del self._flights[key]
            self._entries[key] = value
            while len(self._entries) > self._max_size:
                self._entries.popitem(last=False)
        flight.value = value
        flight.done.set()
        return value

    def __get__(self, instance, owner=None):
        """Binds like a function when used as a class attribute (the instance is part of the key)."""
        if instance is None:
            return self
        return types.MethodType(self, instance)

    def cache_info(self):
        """``CacheInfo(hits, misses, size)``.

        ``misses`` counts underlying calls; ``hits`` counts calls answered without
        one (from the cache, or by waiting for a concurrent call of the same
        arguments). Calls with unhashable arguments are not counted.
        """
        with self._lock:
            return CacheInfo(self._hits, self._misses, len(self._entries))

    def cache_clear(self):
        """Empties the cache and resets the counts (calls in flight still finish)."""
        with self._lock:
            self._entries.clear()
            self._hits = 0
            self._misses = 0

    def __repr__(self):
        return "<cached {}>".format(_display_name(self.__wrapped__))


def cache(fn, *, max_size=1024):
    """``fn`` with an LRU cache of at most ``max_size`` results.

    The key is the positional arguments and the keyword arguments sorted by name
    (``f(1)`` and ``f(x=1)`` are separate entries; ``f(1)`` and ``f(1.0)`` are one,
    as in a dict). Calls with an unhashable argument bypass the cache. Concurrent
    calls with one key make one underlying call; the others wait for its result.
    A call that raises is not cached: its waiters get the same exception and the
    next call tries again. Cached results are shared, not copied.
    """
    if max_size < 1:
        raise ValueError("max_size must be at least 1, got {!r}".format(max_size))
    return _CachedFunction(fn, max_size)


# ---------------------------------------------------------------------------
# jit and the adapter for classes that stay classes
# ---------------------------------------------------------------------------


def jit(fn=None, *, strategy=None):
    """Returns the function (or class) unchanged: ``@jit`` or ``@jit(strategy=...)``.

    It exists so that migrated code keeps its ``@jit`` lines. It compiles nothing
    and memoizes nothing; memoization is ``cache``.
    """
    if fn is None:

        def keep(function):
            return function

        return keep
    return fn


_ADAPTED_CLASS_SIGNATURE = inspect.Signature(
    [
        inspect.Parameter("args", inspect.Parameter.VAR_POSITIONAL),
        inspect.Parameter("inputs", inspect.Parameter.KEYWORD_ONLY, default=None),
        inspect.Parameter("config", inspect.Parameter.VAR_KEYWORD),
    ]
)


def migrate_operator_to_module(operator):
    """A module-style callable for a legacy operator class or instance.

    Given an instance: a function that calls it. Given a class: a function that
    builds an instance from the keyword arguments other than ``inputs`` and calls
    it with ``inputs`` and any positional arguments, so
    ``functools.partial(adapted, **config)`` behaves like ``Class(**config)``.
    Either way the function carries the class's ``__name__``, ``__qualname__``,
    ``__module__`` and ``__doc__``.
    """
    if isinstance(operator, type):
        cls = operator

        @functools.wraps(cls, updated=())
        def build_and_call(*args, **kwargs):
            call_kwargs = {}
            if "inputs" in kwargs:
                call_kwargs["inputs"] = kwargs.pop("inputs")
            return cls(**kwargs)(*args, **call_kwargs)

        build_and_call.__signature__ = _ADAPTED_CLASS_SIGNATURE
        return build_and_call

    if not callable(operator):
        raise TypeError(
            "migrate_operator_to_module() expects an operator class or instance, got {!r}".format(
                operator
            )
        )

    @functools.wraps(type(operator), updated=())
    def call(*args, **kwargs):
        return operator(*args, **kwargs)

    call.__wrapped__ = operator
    return call
