"""A miniature of the legacy Ember operator base, for checking the runtime against.

Written for these tests from the behaviour of the legacy snapshot (no code copied):

* the exceptions (``EmberError`` formatting, ``with_context``,
  ``OperatorExecutionError.for_operator``), with the legacy error codes and hints;
* ``EmberModel``: a pydantic model when pydantic is importable, else a small
  annotation-driven class with the same surface (``model_validate``,
  ``model_fields``, ``as_dict``, dict equality, extra fields forbidden);
* ``Specification``: ``validate_inputs``, ``validate_output``, ``render_prompt``
  and the template check, as the snapshot does them;
* ``EmberModule`` and ``Operator`` built the way the snapshot builds them: only
  ``EmberModule`` is made a frozen dataclass (without fields), so ``Operator``
  subclasses inherit its dataclass machinery without being frozen themselves:
  their instances can be changed after construction, all instances of one class
  are equal and hash alike (equality compares the type and the field values, and
  there are none), ``repr`` is ``ClassName({})``, a class without ``__init__``
  takes no constructor arguments (``EmberModule.__init__``), and a constructor
  ``TypeError`` is reported as ``Error initializing <Class>: ...``; then the
  ``specification`` property and the ``__call__`` contract.

Tests register this module as ``ember.core.exceptions`` to check that the runtime
then raises these very classes.
"""

import abc
import dataclasses
import inspect
import typing
from typing import Dict, Optional, Type

try:
    import pydantic
except ImportError:  # the plain-class backend below
    pydantic = None

HAVE_PYDANTIC = pydantic is not None


# ---------------------------------------------------------------------------
# Exceptions
# ---------------------------------------------------------------------------


class EmberError(Exception):
    DEFAULT_ERROR_CODE = None
    DEFAULT_RECOVERY_HINT = None

    def __init__(
        self, message, error_code=None, context=None, cause=None, recovery_hint=None
    ):
        self.message = message
        self.error_code = error_code if error_code is not None else self.DEFAULT_ERROR_CODE
        self.context = context or {}
        self.recovery_hint = recovery_hint or self.DEFAULT_RECOVERY_HINT
        self.__cause__ = cause
        if cause:
            self.add_context(cause_type=type(cause).__name__, cause_message=str(cause))
        if type(self).DEFAULT_ERROR_CODE is not None:
            caller = inspect.currentframe().f_back
            info = inspect.getframeinfo(caller)
            self.add_context(
                caller_file=info.filename,
                caller_function=info.function,
                caller_lineno=info.lineno,
            )
        super().__init__(self._format_message())

    def add_context(self, **context):
        self.context.update(context)
        return self

    def _format_message(self):
        parts = []
        if self.error_code is not None:
            parts.append(f"[Error {self.error_code}]")
        parts.append(self.message)
        if self.recovery_hint:
            parts.append(f"[Recovery: {self.recovery_hint}]")
        if self.context:
            pairs = ", ".join(f"{k}={v!r}" for k, v in sorted(self.context.items()))
            parts.append(f"[Context: {pairs}]")
        return " ".join(parts)

    @classmethod
    def with_context(cls, message, **context):
        return cls(message=message, context=context)


class InvalidArgumentError(EmberError):
    DEFAULT_ERROR_CODE = 1001
    DEFAULT_RECOVERY_HINT = "Check the function signature and provide valid arguments"


class InvalidPromptError(EmberError):
    DEFAULT_ERROR_CODE = 3040
    DEFAULT_RECOVERY_HINT = "Check prompt format and template variables"


class OperatorError(EmberError):
    DEFAULT_ERROR_CODE = 2000
    DEFAULT_RECOVERY_HINT = "Check operator configuration and usage"


class OperatorSpecificationError(OperatorError):
    DEFAULT_ERROR_CODE = 2001
    DEFAULT_RECOVERY_HINT = "Check operator specification definition"


class OperatorExecutionError(OperatorError):
    DEFAULT_ERROR_CODE = 2002
    DEFAULT_RECOVERY_HINT = "Check operator inputs and execution environment"

    @classmethod
    def for_operator(cls, operator_name, message=None, cause=None, **context):
        if message is None:
            message = f"Execution error in operator '{operator_name}'"
            if cause:
                message += f": {cause}"
        fields = dict(context)
        fields["operator_name"] = operator_name
        return cls(message=message, context=fields, cause=cause)


class SpecificationValidationError(OperatorError):
    DEFAULT_ERROR_CODE = 2010
    DEFAULT_RECOVERY_HINT = "Ensure inputs match the operator's specification"


# ---------------------------------------------------------------------------
# EmberModel
# ---------------------------------------------------------------------------


class _DictLike:
    """The dict-like surface shared by both EmberModel backends."""

    def as_dict(self):
        return self.model_dump()

    def __getitem__(self, key):
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def keys(self):
        return list(type(self).model_fields)

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(self.keys())

    def __eq__(self, other):
        if isinstance(other, dict):
            return self.model_dump() == other
        if isinstance(other, EmberModel):
            return self.model_dump() == other.model_dump()
        return NotImplemented

    __hash__ = None


if HAVE_PYDANTIC:

    class EmberModel(_DictLike, pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="forbid")

else:

    class ModelValidationError(ValueError):
        """What the plain backend raises for data that does not fit a model."""

    class _Field:
        def __init__(self, default):
            self.default = default

        def is_required(self):
            return self.default is _REQUIRED

    _REQUIRED = object()

    class EmberModel(_DictLike):
        model_fields: Dict[str, _Field] = {}

        def __init_subclass__(cls, **kwargs):
            super().__init_subclass__(**kwargs)
            hints = typing.get_type_hints(cls)
            cls._types = {name: hints[name] for name in cls.__dict__.get("__annotations__", {})}
            cls.model_fields = {
                name: _Field(cls.__dict__.get(name, _REQUIRED)) for name in cls._types
            }

        def __init__(self, **data):
            fields = type(self).model_fields
            extra = sorted(set(data) - set(fields))
            if extra:
                raise ModelValidationError(
                    f"{type(self).__name__}: extra fields not permitted: {extra}"
                )
            for name, field in fields.items():
                if name in data:
                    value = data[name]
                elif field.is_required():
                    raise ModelValidationError(f"{type(self).__name__}: {name} is required")
                else:
                    value = field.default
                expected = type(self)._types[name]
                if isinstance(expected, type) and not isinstance(value, expected):
                    raise ModelValidationError(
                        f"{type(self).__name__}: {name} should be {expected.__name__}, "
                        f"got {type(value).__name__}"
                    )
                object.__setattr__(self, name, value)

        @classmethod
        def model_validate(cls, data):
            if isinstance(data, cls):
                return data
            if isinstance(data, dict):
                return cls(**data)
            raise ModelValidationError(f"{cls.__name__}: expected a dict, got {type(data).__name__}")

        def model_dump(self):
            return {name: getattr(self, name) for name in type(self).model_fields}

        def __repr__(self):
            pairs = ", ".join(f"{k}={v!r}" for k, v in self.model_dump().items())
            return f"{type(self).__name__}({pairs})"


# ---------------------------------------------------------------------------
# Specification
# ---------------------------------------------------------------------------


class _SpecificationBehaviour:
    """The specification's methods, shared by both backends."""

    def _get_required_fields(self):
        if self.input_model is None:
            return []
        return [
            name for name, field in self.input_model.model_fields.items() if field.is_required()
        ]

    def _check_template(self):
        if (
            self.prompt_template is not None
            and self.input_model is not None
            and self.check_all_placeholders
        ):
            required = self._get_required_fields()
            missing = [name for name in required if "{" + name + "}" not in self.prompt_template]
            if missing:
                raise InvalidPromptError.with_context(
                    f"Missing placeholders in prompt_template: {', '.join(missing)}",
                    missing_placeholders=missing,
                    required_fields=required,
                    template=self.prompt_template,
                )

    def render_prompt(self, *, inputs):
        if self.check_all_placeholders and self.input_model is None:
            raise InvalidPromptError.with_context(
                "Missing input_model for placeholder validation.",
                validation_enabled=self.check_all_placeholders,
                input_model=None,
            )
        values = inputs.as_dict() if isinstance(inputs, EmberModel) else inputs
        if self.prompt_template is not None:
            try:
                return self.prompt_template.format(**values)
            except KeyError as error:
                raise InvalidPromptError.with_context(
                    f"Missing input for placeholder: {error}",
                    missing_placeholder=str(error),
                    available_keys=list(values.keys()),
                    template=self.prompt_template,
                ) from error
        if self.input_model is not None:
            return "\n".join(str(values.get(name, "")) for name in self._get_required_fields())
        raise InvalidPromptError.with_context(
            "No prompt_template or input_model defined for rendering prompt.",
            prompt_template=self.prompt_template,
            input_model=self.input_model,
        )

    def _validate_data(self, *, data, model, model_label):
        if isinstance(data, dict):
            return model.model_validate(data)
        if isinstance(data, EmberModel):
            if not isinstance(data, model):
                raise SpecificationValidationError.with_context(
                    f"{model_label} model mismatch. Expected {model.__name__}, "
                    f"got {type(data).__name__}.",
                    error_type="model_mismatch",
                    expected_model=model.__name__,
                    actual_model=type(data).__name__,
                    model_label=model_label,
                )
            return data
        raise InvalidArgumentError.with_context(
            f"{model_label} must be a dict or an EmberModel, got {type(data).__name__}.",
            error_type="invalid_input_type",
            expected_types=["dict", "EmberModel"],
            actual_type=type(data).__name__,
            model_label=model_label,
        )

    def validate_inputs(self, *, inputs):
        if self.input_model is not None:
            return self._validate_data(data=inputs, model=self.input_model, model_label="Input")
        if isinstance(inputs, (dict, EmberModel)):
            return inputs
        raise InvalidArgumentError.with_context(
            f"Inputs must be a dict or an EmberModel, got {type(inputs).__name__}.",
            error_type="invalid_input_type",
            expected_types=["dict", "EmberModel"],
            actual_type=type(inputs).__name__,
            model_available=self.input_model is not None,
        )

    def validate_output(self, *, output):
        if self.structured_output is not None:
            return self._validate_data(
                data=output, model=self.structured_output, model_label="Output"
            )
        return output


if HAVE_PYDANTIC:

    class Specification(_SpecificationBehaviour, EmberModel):
        prompt_template: Optional[str] = None
        structured_output: Optional[Type[EmberModel]] = None
        input_model: Optional[Type[EmberModel]] = None
        check_all_placeholders: bool = True

        @pydantic.model_validator(mode="after")
        def _validate_template(self):
            self._check_template()
            return self

else:

    class Specification(_SpecificationBehaviour):
        def __init__(
            self,
            prompt_template=None,
            structured_output=None,
            input_model=None,
            check_all_placeholders=True,
        ):
            self.prompt_template = prompt_template
            self.structured_output = structured_output
            self.input_model = input_model
            self.check_all_placeholders = check_all_placeholders
            self._check_template()


# ---------------------------------------------------------------------------
# Operator
# ---------------------------------------------------------------------------


class _EmberModuleMeta(abc.ABCMeta):
    """Makes a class a frozen dataclass unless it already is one, and builds
    instances through a mutable subclass.

    Only ``EmberModule`` itself is decorated: its subclasses inherit
    ``__dataclass_fields__``, so ``dataclasses.is_dataclass`` is already true for
    them. They have no fields of their own, and the frozen ``__setattr__`` and
    ``__delattr__`` that ``dataclasses`` generates for ``EmberModule`` refuse only
    when ``type(self) is EmberModule``: subclass instances can be changed freely.
    """

    def __new__(mcs, name, bases, namespace, **kwargs):
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        if not dataclasses.is_dataclass(cls):
            cls = dataclasses.dataclass(frozen=True)(cls)
        return cls

    def __call__(cls, *args, **kwargs):
        initable = type(cls.__name__, (cls,), {"__setattr__": object.__setattr__})
        initable.__qualname__ = cls.__qualname__
        initable.__module__ = cls.__module__
        instance = object.__new__(initable)
        # Every class has an __init__ other than object's: at least the one that
        # dataclasses wrote for EmberModule, which takes no arguments.
        try:
            initable.__init__(instance, *args, **kwargs)
        except TypeError as error:
            raise TypeError(
                f"Error initializing {cls.__name__}: {error}\n"
                "Ensure __init__ accepts the correct parameters."
            ) from error
        object.__setattr__(instance, "__class__", cls)
        return instance


def _tree(module):
    """What equality compares: the type and the dataclass field values."""
    return type(module), [getattr(module, field.name) for field in dataclasses.fields(module)]


class EmberModule(metaclass=_EmberModuleMeta):
    """No fields; ``__init__`` (named ``EmberModule.__init__``), ``__setattr__`` and
    ``__delattr__`` come from ``dataclasses``. The methods below are kept by it."""

    def __eq__(self, other):
        if not isinstance(other, EmberModule):
            return False
        return _tree(self) == _tree(other)

    def __hash__(self):
        return hash(tuple(_tree(self)[1]))

    def __repr__(self):
        return f"{type(self).__name__}({dataclasses.asdict(self)})"


class Operator(EmberModule):
    @abc.abstractmethod
    def forward(self, *, inputs):
        raise NotImplementedError

    @property
    def specification(self):
        own = type(self).__dict__.get("specification", None)
        if own is None or own is Operator.__dict__.get("specification"):
            raise OperatorSpecificationError.with_context(
                "Operator specification must be explicitly defined in the concrete class.",
                operator_name=type(self).__name__,
                operator_type=type(self).__module__,
                operator_class=type(self).__name__,
            )
        return own

    def __call__(self, *, inputs=None, **kwargs):
        try:
            specification = self.specification
        except OperatorSpecificationError as error:
            raise OperatorSpecificationError.with_context(
                "Operator specification must be defined.",
                operator_name=type(self).__name__,
                operator_type=type(self).__module__,
            ) from error
        try:
            if inputs is not None:
                if isinstance(inputs, dict):
                    validated = specification.validate_inputs(inputs=inputs)
                else:
                    validated = inputs
            elif kwargs and specification.input_model:
                validated = specification.input_model(**kwargs)
            else:
                validated = kwargs if kwargs else {}
            output = self.forward(inputs=validated)
            if (
                isinstance(output, dict)
                and hasattr(specification, "structured_output")
                and specification.structured_output
            ):
                output = specification.structured_output.model_validate(output)
            return specification.validate_output(output=output)
        except Exception as error:
            if isinstance(error, OperatorSpecificationError):
                raise
            raise OperatorExecutionError.for_operator(
                operator_name=type(self).__name__,
                message=f"Error executing operator: {error}",
                cause=error,
                operator_type=type(self).__module__,
            ) from error


__all__ = [
    "EmberError",
    "EmberModel",
    "HAVE_PYDANTIC",
    "InvalidArgumentError",
    "InvalidPromptError",
    "Operator",
    "OperatorError",
    "OperatorExecutionError",
    "OperatorSpecificationError",
    "Specification",
    "SpecificationValidationError",
]
