"""Legacy operator classes side by side with their ember-migrate conversions.

``build_shapes(base)`` defines, on a given legacy base (the miniature in
``legacy_base`` or the real snapshot), legacy ``Operator`` subclasses and the
converted functions that ember-migrate writes for them, and the scenarios to run
on both. The contract tests run every scenario on a legacy instance and on a
converted instance and require the same outcome.

``base`` provides ``Operator``, ``Specification``, ``EmberModel`` and
``exceptions`` (the module holding ``OperatorSpecificationError``).
"""

import dataclasses
import weakref
from typing import List, Optional

from ember_runtime import module


@dataclasses.dataclass(frozen=True)
class FakeLM:
    """A deterministic stand-in for an LM module (compares by value)."""

    model_name: str
    temperature: float
    max_tokens: Optional[int] = None

    def __call__(self, *, prompt):
        return f" {self.model_name}@{self.temperature}:{prompt} "


@dataclasses.dataclass
class Scenario:
    """One use of an operator instance.

    The outcome (the value returned, or the exception raised: type, message,
    cause) must be the same on the legacy instance and on the converted one.
    needs_legacy_exceptions: the scenario raises a legacy exception class from
    operator code, so it is meaningful only while the legacy exceptions module is
    loaded under its real name.
    """

    name: str
    run: object
    needs_legacy_exceptions: bool = False


@dataclasses.dataclass
class Shape:
    name: str
    make_legacy: object
    make_converted: object
    scenarios: List[Scenario]
    # Constructor calls that must fail the same way, message and cause included:
    # (args, kwargs) pairs, made on legacy_class and converted_class.
    legacy_class: object = None
    converted_class: object = None
    bad_constructions: List[tuple] = dataclasses.field(default_factory=list)


class AlwaysEqual:
    """Claims to equal everything (as ``unittest.mock.ANY`` does)."""

    def __eq__(self, other):
        return True

    __hash__ = None


def _attribute_scenarios(names):
    return [Scenario(f"read {name}", lambda op, name=name: getattr(op, name)) for name in names]


def _mutation_scenarios(existing, vars_complete=True):
    """Instances can be changed after construction: ``existing`` is an attribute that
    the instance (or its class) has.

    vars_complete: False when the conversion's ``module.state`` lists only some of
    the legacy instance attributes (ember-migrate lists them all when the program
    uses ``vars()`` or ``__dict__``), so ``vars(op)`` is not compared for
    ``existing``.
    """

    def assign(op):
        op.brand_new = [1]
        return op.brand_new, "brand_new" in vars(op), op.__dict__["brand_new"]

    def reassign(op):
        setattr(op, existing, "changed")
        if not vars_complete:
            return getattr(op, existing)
        return getattr(op, existing), vars(op)[existing]

    def delete(op):
        delattr(op, existing)
        return getattr(op, existing)  # the class attribute, or AttributeError

    def delete_twice(op):
        delattr(op, existing)
        delattr(op, existing)

    def reassign_then_delete(op):
        setattr(op, existing, "changed")
        delattr(op, existing)
        return getattr(op, existing, "gone"), vars_complete and existing in vars(op)

    def assign_then_delete(op):
        op.brand_new = 1
        del op.brand_new
        return hasattr(op, "brand_new"), "brand_new" in vars(op)

    def delete_missing(op):
        del op.not_there

    return [
        Scenario("assign a new attribute", assign),
        Scenario(f"reassign {existing}", reassign),
        Scenario(f"delete {existing}", delete),
        Scenario(f"delete {existing} twice", delete_twice),
        Scenario(f"reassign then delete {existing}", reassign_then_delete),
        Scenario("assign then delete a new attribute", assign_then_delete),
        Scenario("delete a missing attribute", delete_missing),
    ]


def _instance_scenarios():
    """What every instance has: a ``__dict__``, weak references, the Operator call rule."""
    return [
        Scenario("has a __dict__", lambda op: (hasattr(op, "__dict__"), type(vars(op)).__name__)),
        Scenario("weak reference", lambda op: weakref.ref(op)() is op),
        Scenario("positional call", lambda op: op({"x": 1})),
        Scenario("positional and keyword call", lambda op: op({"x": 1}, inputs={"x": 1})),
        Scenario("repr", lambda op: (repr(op), str(op), f"{op}", repr([op]))),
        Scenario("equal to itself", lambda op: (op == op, op != op, hash(op) == hash(()))),
    ]


def build_shapes(base):
    Operator = base.Operator
    Specification = base.Specification
    EmberModel = base.EmberModel
    exceptions = base.exceptions

    # -- models and specifications --------------------------------------------

    class DoublerIn(EmberModel):
        x: int

    class DoublerOut(EmberModel):
        y: int

    class LookalikeIn(EmberModel):
        x: int

    class EnsembleIn(EmberModel):
        query: str

    class EnsembleOut(EmberModel):
        responses: List[str]

    doubler_spec = Specification(
        input_model=DoublerIn, structured_output=DoublerOut, prompt_template="x: {x}"
    )
    ensemble_spec = Specification(input_model=EnsembleIn, structured_output=EnsembleOut)
    plain_spec = Specification()

    shapes = []

    # -- forward form: a class with no __init__ ------------------------------

    class Doubler(Operator):
        """Doubles x."""

        specification = doubler_spec
        prompt_template = "x: {x}"

        def forward(self, *, inputs):
            return {"y": inputs.x * 2}

    @module.operator("Doubler", specification=Doubler.specification, prompt_template="x: {x}")
    def doubler(*, inputs):
        """Doubles x."""
        return {"y": inputs.x * 2}

    def _replace_forward(op):
        op.forward = lambda *, inputs: {"y": -1}
        return op(inputs={"x": 2}), op.forward(inputs=None), "forward" in vars(op)

    def _replace_specification(op):
        op.specification = plain_spec
        return (
            op(inputs=DoublerIn(x=3)),
            op.specification is plain_spec,
            type(op).specification is doubler_spec,
        )

    shapes.append(
        Shape(
            "Doubler",
            Doubler,
            doubler,
            [
                Scenario("dict inputs", lambda op: op(inputs={"x": 2})),
                Scenario("model inputs", lambda op: op(inputs=DoublerIn(x=3))),
                Scenario("keyword inputs", lambda op: op(x=4)),
                Scenario("inputs win over keywords", lambda op: op(inputs={"x": 1}, x=9)),
                Scenario("invalid dict inputs", lambda op: op(inputs={"x": "seven"})),
                Scenario("extra dict key", lambda op: op(inputs={"x": 1, "z": 2})),
                Scenario("invalid keyword inputs", lambda op: op(z=1)),
                Scenario("another model passes unvalidated", lambda op: op(inputs=LookalikeIn(x=5))),
                Scenario("non-dict inputs pass as they are", lambda op: op(inputs=7)),
                Scenario("no inputs", lambda op: op()),
                Scenario("forward direct", lambda op: op.forward(inputs=DoublerIn(x=5))),
                Scenario("forward direct error", lambda op: op.forward(inputs={"x": 1})),
                Scenario("specification is the class's", lambda op: op.specification is doubler_spec),
                Scenario("render prompt", lambda op: op.specification.render_prompt(inputs={"x": 3})),
                Scenario("missing placeholder", lambda op: op.specification.render_prompt(inputs={})),
                Scenario("class name", lambda op: type(op).__name__),
                Scenario("class doc", lambda op: type(op).__doc__),
                Scenario("missing attribute", lambda op: op.not_there),
                Scenario("no instance attributes", lambda op: (vars(op), op.__dict__)),
                Scenario("replace forward on the instance", _replace_forward),
                Scenario("replace the specification on the instance", _replace_specification),
                Scenario("delete forward", lambda op: delattr(op, "forward")),
                Scenario("delete the specification", lambda op: delattr(op, "specification")),
            ]
            + _attribute_scenarios(["prompt_template"])
            + _instance_scenarios()
            + _mutation_scenarios("prompt_template"),
            legacy_class=Doubler,
            converted_class=doubler,
            bad_constructions=[
                ((1,), {}),
                ((), {"x": 1}),
                ((1,), {"x": 2}),
                ((), {"inputs": {"x": 1}}),
                ((), {"self": 1}),
            ],
        )
    )

    # -- factory form: __init__ with configuration, helpers, nested operators ---

    class EnsembleOperator(Operator):
        specification = ensemble_spec

        def __init__(self, *, lm_modules):
            self.lm_modules = lm_modules

        def forward(self, *, inputs):
            prompt = self.specification.render_prompt(inputs=inputs)
            return {"responses": [lm(prompt=prompt) for lm in self.lm_modules]}

    class UniformEnsemble(Operator):
        """Runs one model several times."""

        specification = EnsembleOperator.specification

        def __init__(self, *, num_units, model_name, temperature, max_tokens=None):
            self.num_units = num_units
            self.model_name = model_name
            self.temperature = temperature
            self.max_tokens = max_tokens
            self.lm_modules = [
                FakeLM(model_name, temperature, max_tokens) for _ in range(num_units)
            ]
            self._ensemble_op = EnsembleOperator(lm_modules=self.lm_modules)

        def _helper(self, text):
            return text.strip()

        def forward(self, *, inputs):
            rendered = self.specification.render_prompt(inputs=inputs)
            out = self._ensemble_op(inputs=inputs)
            return {"responses": [self._helper(r) + "|" + rendered for r in out.responses]}

    @module.operator("EnsembleOperator", specification=ensemble_spec)
    def ensemble_operator(*, lm_modules):
        def forward(*, inputs):
            prompt = ensemble_operator.specification.render_prompt(inputs=inputs)
            return {"responses": [lm(prompt=prompt) for lm in lm_modules]}

        return forward

    @module.operator("UniformEnsemble", specification=ensemble_operator.specification)
    def uniform_ensemble(*, num_units, model_name, temperature, max_tokens=None):
        """Runs one model several times."""
        lm_modules = [FakeLM(model_name, temperature, max_tokens) for _ in range(num_units)]
        _ensemble_op = ensemble_operator(lm_modules=lm_modules)

        def _helper(text):
            return text.strip()

        def forward(*, inputs):
            rendered = uniform_ensemble.specification.render_prompt(inputs=inputs)
            out = _ensemble_op(inputs=inputs)
            return {"responses": [_helper(r) + "|" + rendered for r in out.responses]}

        return module.state(forward, lm_modules=lm_modules)

    config = {"num_units": 3, "model_name": "m", "temperature": 0.5}

    def _replace_inner(op):
        op._ensemble_op = type(op._ensemble_op)(lm_modules=[FakeLM("z", 1.0)])
        return op(inputs={"query": "q"})

    def _replace_helper(op):
        op._helper = lambda text: text.strip().upper()
        return op(inputs={"query": "q"})

    def _reassign_lm_modules(op):
        op.lm_modules = []
        return op.lm_modules, op(inputs={"query": "q"})

    def _delete_lm_modules(op):
        del op.lm_modules
        return hasattr(op, "lm_modules"), op(inputs={"query": "q"})
    shapes.append(
        Shape(
            "UniformEnsemble",
            lambda: UniformEnsemble(**config),
            lambda: uniform_ensemble(**config),
            [
                Scenario("dict inputs", lambda op: op(inputs={"query": "q"})),
                Scenario("keyword inputs", lambda op: op(query="k")),
                Scenario("model inputs", lambda op: op(inputs=EnsembleIn(query="m"))),
                Scenario("missing field", lambda op: op(inputs={})),
                Scenario("wrong field type", lambda op: op(inputs={"query": 3})),
                Scenario("forward direct", lambda op: op.forward(inputs=EnsembleIn(query="f"))),
                Scenario("helper", lambda op: op._helper("  padded  ")),
                Scenario("inner operator", lambda op: op._ensemble_op(inputs={"query": "i"})),
                Scenario("class doc", lambda op: type(op).__doc__),
                Scenario("replace the inner operator, forward sees it", _replace_inner),
                Scenario("replace the helper, forward sees it", _replace_helper),
                Scenario("reassign lm_modules (not read by forward)", _reassign_lm_modules),
                Scenario("delete lm_modules", _delete_lm_modules),
                Scenario("enclosing variables are not attributes", lambda op: op.uniform_ensemble),
            ]
            + _attribute_scenarios(
                ["num_units", "model_name", "temperature", "max_tokens", "lm_modules"]
            )
            + _instance_scenarios()
            + _mutation_scenarios("num_units", vars_complete=False),
            legacy_class=UniformEnsemble,
            converted_class=uniform_ensemble,
            bad_constructions=[
                ((), {}),
                ((), dict(config, extra=1)),
                ((3, "m", 0.5), {}),
                ((), {"num_units": 3}),
                ((), dict(config, num_units=None)),
                ((), dict(config, self=None)),
            ],
        )
    )

    # -- no specification of its own -------------------------------------------

    class Echo(Operator):
        def forward(self, *, inputs):
            return inputs

    @module.operator("Echo")
    def echo(*, inputs):
        return inputs

    def _set_specification(op):
        op.specification = plain_spec

    shapes.append(
        Shape(
            "Echo (no specification)",
            Echo,
            echo,
            [
                Scenario("call", lambda op: op(inputs={"a": 1})),
                Scenario("call with keywords", lambda op: op(a=1)),
                Scenario("read specification", lambda op: op.specification),
                Scenario("forward direct", lambda op: op.forward(inputs=3)),
                Scenario("set a specification (a property without a setter)", _set_specification),
                Scenario("delete the specification (a property without a deleter)", lambda op: delattr(op, "specification")),
            ],
        )
    )

    class NullSpec(Operator):
        specification = None

        def forward(self, *, inputs):
            return inputs

    @module.operator("NullSpec", specification=None)
    def null_spec(*, inputs):
        return inputs

    shapes.append(
        Shape(
            "NullSpec (specification = None)",
            NullSpec,
            null_spec,
            [
                Scenario("dict inputs", lambda op: op(inputs={"a": 1})),
                Scenario("no inputs", lambda op: op()),
                Scenario("read specification", lambda op: op.specification),
            ],
        )
    )

    # -- errors raised in forward --------------------------------------------

    class Failing(Operator):
        specification = plain_spec

        def forward(self, *, inputs):
            kind = inputs["kind"]
            if kind == "value":
                raise ValueError("bad value")
            if kind == "key":
                raise KeyError("missing")
            if kind == "specification":
                raise exceptions.OperatorSpecificationError.with_context(
                    "inner specification problem", where="forward"
                )
            if kind == "nested":
                return Doubler()(inputs={"x": "not a number"})
            return {"ok": kind}

    @module.operator("Failing", specification=plain_spec)
    def failing(*, inputs):
        kind = inputs["kind"]
        if kind == "value":
            raise ValueError("bad value")
        if kind == "key":
            raise KeyError("missing")
        if kind == "specification":
            raise exceptions.OperatorSpecificationError.with_context(
                "inner specification problem", where="forward"
            )
        if kind == "nested":
            return doubler()(inputs={"x": "not a number"})
        return {"ok": kind}

    def _set_enclosing_name(op):
        # Sets an attribute; the enclosing variable forward uses stays as it was.
        op.doubler = None
        return op.doubler, op(inputs={"kind": "nested"})

    shapes.append(
        Shape(
            "Failing",
            Failing,
            failing,
            [
                Scenario("ValueError", lambda op: op(inputs={"kind": "value"})),
                Scenario("KeyError", lambda op: op(inputs={"kind": "key"})),
                Scenario("missing input key", lambda op: op(inputs={})),
                Scenario(
                    "specification error passes unwrapped",
                    lambda op: op(inputs={"kind": "specification"}),
                    needs_legacy_exceptions=True,
                ),
                Scenario("nested operator error", lambda op: op(inputs={"kind": "nested"})),
                Scenario("success", lambda op: op(inputs={"kind": "fine"})),
                Scenario("forward direct raises unwrapped", lambda op: op.forward(inputs={"kind": "value"})),
                Scenario("enclosing variables are not attributes", lambda op: op.exceptions),
                Scenario("enclosing variables are not in vars", lambda op: vars(op)),
                Scenario("setting a name of an enclosing variable", _set_enclosing_name),
            ],
        )
    )

    # -- a specification without models ---------------------------------------

    class Passthrough(Operator):
        specification = plain_spec

        def forward(self, *, inputs):
            return {"seen": inputs} if isinstance(inputs, dict) else [inputs]

    @module.operator("Passthrough", specification=plain_spec)
    def passthrough(*, inputs):
        return {"seen": inputs} if isinstance(inputs, dict) else [inputs]

    shapes.append(
        Shape(
            "Passthrough (no models)",
            Passthrough,
            passthrough,
            [
                Scenario("keywords become a dict", lambda op: op(a=1, b=2)),
                Scenario("dict inputs", lambda op: op(inputs={"k": "v"})),
                Scenario("list inputs", lambda op: op(inputs=[1, 2])),
                Scenario("zero inputs", lambda op: op(inputs=0)),
                Scenario("empty string inputs", lambda op: op(inputs="")),
                Scenario("no inputs", lambda op: op()),
                Scenario("render prompt without a model", lambda op: op.specification.render_prompt(inputs={})),
            ],
        )
    )

    # -- output validation ---------------------------------------------------

    class Outputs(Operator):
        specification = doubler_spec

        def forward(self, *, inputs):
            if inputs.x == 1:
                return {"y": "not an int"}
            if inputs.x == 2:
                return DoublerIn(x=1)
            if inputs.x == 3:
                return "text"
            if inputs.x == 4:
                return {"y": 4, "extra": True}
            return DoublerOut(y=inputs.x)

    @module.operator("Outputs", specification=doubler_spec)
    def outputs(*, inputs):
        if inputs.x == 1:
            return {"y": "not an int"}
        if inputs.x == 2:
            return DoublerIn(x=1)
        if inputs.x == 3:
            return "text"
        if inputs.x == 4:
            return {"y": 4, "extra": True}
        return DoublerOut(y=inputs.x)

    shapes.append(
        Shape(
            "Outputs",
            Outputs,
            outputs,
            [
                Scenario("invalid dict output", lambda op: op(x=1)),
                Scenario("wrong output model", lambda op: op(x=2)),
                Scenario("output neither dict nor model", lambda op: op(x=3)),
                Scenario("extra output key", lambda op: op(x=4)),
                Scenario("model output", lambda op: op(x=5)),
            ],
        )
    )

    # -- what the specification's validate_output receives ----------------------

    class RecordingSpecification(Specification):
        """Reports the type that validate_output was given instead of validating it."""

        def validate_output(self, *, output):
            return {"validate_output received": type(output).__name__}

    recording_spec = RecordingSpecification(input_model=DoublerIn, structured_output=DoublerOut)

    class Recorded(Operator):
        specification = recording_spec

        def forward(self, *, inputs):
            return {"y": inputs.x} if inputs.x else [inputs.x]

    @module.operator("Recorded", specification=recording_spec)
    def recorded(*, inputs):
        return {"y": inputs.x} if inputs.x else [inputs.x]

    shapes.append(
        Shape(
            "Recorded (dict output converted before validate_output)",
            Recorded,
            recorded,
            [
                Scenario("dict output", lambda op: op(x=1)),
                Scenario("other output", lambda op: op(x=0)),
            ],
        )
    )

    # -- attributes: class defaults, late-bound closures, module.state ----------

    class Scaler(Operator):
        specification = plain_spec
        factor = 1
        label = "scaler"

        def __init__(self, *, factor, offset=0):
            self.factor = factor
            self.offset = offset
            self.history_size = factor * 10
            self.total = factor + offset

        def forward(self, *, inputs):
            return {"value": inputs["n"] * self.factor + self.offset, "total": self.total}

    @module.operator("Scaler", specification=plain_spec, factor=1, label="scaler")
    def scaler(*, factor, offset=0):
        def forward(*, inputs):
            return {"value": inputs["n"] * factor + offset, "total": total}

        total = factor + offset
        return module.state(forward, history_size=factor * 10)

    def _reassign_factor(op):
        op.factor = 5
        return op.factor, op(inputs={"n": 2}), type(op).factor

    def _reassign_total(op):
        op.total = 100
        return op(inputs={"n": 2})

    def _delete_factor(op):
        del op.factor
        return op.factor

    def _delete_then_set_factor(op):
        del op.factor
        op.factor = 7
        return op(inputs={"n": 1})

    def _reassign_label(op):
        op.label = "changed"
        return op.label, type(op).label, vars(op)["label"]

    def _delete_history_size(op):
        del op.history_size
        return hasattr(op, "history_size"), "history_size" in vars(op), op(inputs={"n": 1})

    shapes.append(
        Shape(
            "Scaler",
            lambda: Scaler(factor=3),
            lambda: scaler(factor=3),
            [
                Scenario("call", lambda op: op(inputs={"n": 2})),
                Scenario("class attribute on the class", lambda op: type(op).factor),
                Scenario("reassign factor, forward sees it", _reassign_factor),
                Scenario("reassign total, forward sees it", _reassign_total),
                Scenario("delete factor: the class attribute shows", _delete_factor),
                Scenario("delete then set factor, forward sees it", _delete_then_set_factor),
                Scenario("reassign label (a class attribute only)", _reassign_label),
                Scenario("delete history_size", _delete_history_size),
            ]
            + _attribute_scenarios(["factor", "offset", "label", "history_size", "total"])
            + _mutation_scenarios("offset", vars_complete=False),
            legacy_class=Scaler,
            converted_class=scaler,
            bad_constructions=[
                ((), {}),
                ((3,), {}),
                ((), {"factor": 3, "scale": 2}),
                ((), {"factor": "3", "offset": 1}),
                ((1, 2), {"factor": 3}),
            ],
        )
    )

    # -- a program that uses vars(): every instance attribute in module.state ----

    class Tagged(Operator):
        specification = plain_spec
        mode = "class"

        def __init__(self, prefix, *, sep="-", mode="instance"):
            self.prefix = prefix
            self.sep = sep
            self.mode = mode

        def forward(self, *, inputs):
            return {"text": self.prefix + self.sep + inputs["s"], "mode": self.mode}

    @module.operator("Tagged", specification=plain_spec, mode="class")
    def tagged(prefix, *, sep="-", mode="instance"):
        def forward(*, inputs):
            return {"text": prefix + sep + inputs["s"], "mode": mode}

        return module.state(forward, prefix=prefix, sep=sep, mode=mode)

    def _vars_after_assign(op):
        op.extra = {"k": 1}
        return vars(op), list(vars(op))

    def _reassign_prefix(op):
        op.prefix = "P"
        return op(inputs={"s": "x"}), vars(op), op.__dict__

    def _reassign_mode(op):
        op.mode = "changed"
        return op.mode, type(op).mode, op(inputs={"s": "x"}), vars(op)

    def _delete_mode(op):
        del op.mode
        return op.mode, vars(op)

    def _delete_prefix(op):
        del op.prefix
        return hasattr(op, "prefix"), vars(op), list(op.__dict__)

    def _delete_then_set_sep(op):
        del op.sep
        op.sep = "+"
        return op(inputs={"s": "x"}), list(vars(op))

    def _vars_is_a_dict_of_the_values(op):
        values = vars(op)
        return type(values).__name__, sorted(values), values["prefix"] is op.prefix

    shapes.append(
        Shape(
            "Tagged (vars-form conversion)",
            lambda: Tagged("p", sep=":"),
            lambda: tagged("p", sep=":"),
            [
                Scenario("call", lambda op: op(inputs={"s": "x"})),
                Scenario("vars", lambda op: vars(op)),
                Scenario("__dict__", lambda op: op.__dict__),
                Scenario("vars keys in order", lambda op: list(vars(op))),
                Scenario("vars is a dict of the values", _vars_is_a_dict_of_the_values),
                Scenario("vars after assigning a new attribute", _vars_after_assign),
                Scenario("reassign prefix, forward sees it", _reassign_prefix),
                Scenario("reassign mode (also a class attribute)", _reassign_mode),
                Scenario("delete mode: the class attribute shows", _delete_mode),
                Scenario("delete prefix", _delete_prefix),
                Scenario("delete then set sep, forward sees it", _delete_then_set_sep),
            ]
            + _attribute_scenarios(["prefix", "sep", "mode"])
            + _instance_scenarios()
            + _mutation_scenarios("sep"),
            legacy_class=Tagged,
            converted_class=tagged,
            bad_constructions=[
                ((), {}),
                (("p", "q"), {}),
                (("p",), {"prefix": "q"}),
                (("p",), {"sep": "+", "unknown": 1}),
                ((), {"self": 1, "prefix": "p"}),
                ((), {"sep": "+"}),
            ],
        )
    )

    # -- *args, **kwargs and defaults, no module.state ------------------------

    class Collector(Operator):
        specification = plain_spec

        def __init__(self, first, *rest, scale=2, **options):
            self.first = first
            self.rest = rest
            self.scale = scale
            self.options = options

        def forward(self, *, inputs):
            items = [self.first, *self.rest]
            return {"items": items, "scale": self.scale, "options": self.options, "n": inputs["n"]}

    @module.operator("Collector", specification=plain_spec)
    def collector(first, *rest, scale=2, **options):
        def forward(*, inputs):
            items = [first, *rest]
            return {"items": items, "scale": scale, "options": options, "n": inputs["n"]}

        return forward

    def _reassign_scale(op):
        op.scale = 10
        return op(inputs={"n": 0}), vars(op)

    def _delete_options(op):
        del op.options
        return hasattr(op, "options"), vars(op)

    shapes.append(
        Shape(
            "Collector (*args, **kwargs)",
            lambda: Collector(1, 2, 3, scale=4, color="red"),
            lambda: collector(1, 2, 3, scale=4, color="red"),
            [
                Scenario("call", lambda op: op(inputs={"n": 5})),
                Scenario("vars", lambda op: vars(op)),
                Scenario("vars keys in order", lambda op: list(vars(op))),
                Scenario("reassign scale, forward sees it", _reassign_scale),
                Scenario("delete options", _delete_options),
            ]
            + _attribute_scenarios(["first", "rest", "scale", "options"])
            + _mutation_scenarios("first"),
            legacy_class=Collector,
            converted_class=collector,
            bad_constructions=[
                ((), {}),
                ((), {"scale": 3}),
                ((1,), {"first": 2}),
                ((), {"self": 1}),
                ((1,), {"self": 1}),
            ],
        )
    )

    # -- a positional-only parameter with a default after it ----------------------

    class Pair(Operator):
        specification = plain_spec

        def __init__(self, left, /, right=0):
            self.left = left
            self.right = right

        def forward(self, *, inputs):
            return {"sum": self.left + self.right + inputs["n"]}

    @module.operator("Pair", specification=plain_spec)
    def pair(left, /, right=0):
        def forward(*, inputs):
            return {"sum": left + right + inputs["n"]}

        return forward

    shapes.append(
        Shape(
            "Pair (positional-only)",
            lambda: Pair(1),
            lambda: pair(1),
            [
                Scenario("call", lambda op: op(inputs={"n": 5})),
                Scenario("vars", lambda op: vars(op)),
            ]
            + _attribute_scenarios(["left", "right"]),
            legacy_class=Pair,
            converted_class=pair,
            bad_constructions=[
                ((), {}),
                ((), {"left": 1}),
                ((1, 2, 3), {}),
                ((1,), {"right": 2, "left": 3}),
                ((1,), {"up": 2}),
            ],
        )
    )

    # -- __init__ without parameters; a TypeError raised inside __init__ ----------

    class Fixed(Operator):
        specification = plain_spec

        def __init__(self):
            self.level = 3

        def forward(self, *, inputs):
            return {"level": self.level}

    @module.operator("Fixed", specification=plain_spec)
    def fixed():
        level = 3

        def forward(*, inputs):
            return {"level": level}

        return forward

    def _reassign_level(op):
        op.level = 4
        return op(inputs={}), vars(op)

    shapes.append(
        Shape(
            "Fixed (__init__ without parameters)",
            Fixed,
            fixed,
            [
                Scenario("call", lambda op: op(inputs={})),
                Scenario("vars", lambda op: vars(op)),
                Scenario("reassign level, forward sees it", _reassign_level),
            ],
            legacy_class=Fixed,
            converted_class=fixed,
            bad_constructions=[((1,), {}), ((), {"level": 3}), ((), {"self": 1})],
        )
    )

    class Sized(Operator):
        specification = plain_spec

        def __init__(self, *, items):
            self.size = len(items)

        def forward(self, *, inputs):
            return {"size": self.size}

    @module.operator("Sized", specification=plain_spec)
    def sized(*, items):
        size = len(items)

        def forward(*, inputs):
            return {"size": size}

        return forward

    shapes.append(
        Shape(
            "Sized (TypeError inside __init__)",
            lambda: Sized(items=[1, 2]),
            lambda: sized(items=[1, 2]),
            [Scenario("call", lambda op: op(inputs={}))],
            legacy_class=Sized,
            converted_class=sized,
            bad_constructions=[((), {"items": 3}), ((), {"items": None}), ((), {})],
        )
    )

    # -- equality, hashing and repr across instances and classes -----------------

    def legacy_instances():
        return {
            "doubler": Doubler(),
            "doubler2": Doubler(),
            "echo": Echo(),
            "scaler3": Scaler(factor=3),
            "scaler4": Scaler(factor=4),
            "tagged": Tagged("p"),
        }

    def converted_instances():
        return {
            "doubler": doubler(),
            "doubler2": doubler(),
            "echo": echo(),
            "scaler3": scaler(factor=3),
            "scaler4": scaler(factor=4),
            "tagged": tagged("p"),
        }

    def _equal_after_a_change(ops):
        ops["scaler3"].factor = 9
        ops["tagged"].prefix = "changed"
        another_tagged = type(ops["tagged"])("q", sep="+")
        return ops["scaler3"] == ops["scaler4"], ops["tagged"] == another_tagged

    shapes.append(
        Shape(
            "Instances of several classes",
            legacy_instances,
            converted_instances,
            [
                Scenario("one class, no arguments: equal", lambda ops: (ops["doubler"] == ops["doubler2"], ops["doubler"] != ops["doubler2"])),
                Scenario("one class, other arguments: equal", lambda ops: (ops["scaler3"] == ops["scaler4"], ops["scaler3"] != ops["scaler4"])),
                Scenario("two classes: unequal", lambda ops: (ops["doubler"] == ops["echo"], ops["doubler"] != ops["echo"], ops["scaler3"] == ops["tagged"])),
                Scenario("equal after a change", _equal_after_a_change),
                Scenario("all hash alike", lambda ops: sorted({hash(op) for op in ops.values()})),
                Scenario("hash is hash(())", lambda ops: [hash(op) == hash(()) for op in ops.values()]),
                Scenario("set of two instances of one class", lambda ops: len({ops["doubler"], ops["doubler2"]})),
                Scenario("set of instances of two classes", lambda ops: len({ops["doubler"], ops["echo"]})),
                Scenario("set of all", lambda ops: len(set(ops.values()))),
                Scenario("dict key found through another instance", lambda ops: {ops["scaler3"]: "s"}.get(ops["scaler4"])),
                Scenario("membership", lambda ops: (ops["doubler2"] in [ops["doubler"]], ops["echo"] in [ops["doubler"]])),
                Scenario("list index", lambda ops: list(ops.values()).index(ops["scaler4"])),
                Scenario("list count", lambda ops: list(ops.values()).count(ops["doubler"])),
                Scenario("compared with other objects", lambda ops: [ops["doubler"] == other for other in (None, 0, "Doubler({})", {}, ())]),
                Scenario("not equal to other objects", lambda ops: [ops["doubler"] != other for other in (None, 0, "Doubler({})", {}, ())]),
                Scenario("compared with an object that equals everything", lambda ops: (ops["doubler"] == AlwaysEqual(), ops["doubler"] != AlwaysEqual())),
                Scenario("an object that equals everything, on the left", lambda ops: AlwaysEqual() == ops["doubler"]),
                Scenario("__eq__ called directly", lambda ops: (ops["doubler"].__eq__(ops["doubler2"]), ops["doubler"].__eq__(ops["echo"]), ops["doubler"].__eq__(1))),
                Scenario("ordering is not defined", lambda ops: ops["doubler"] < ops["doubler2"]),
                Scenario("reprs", lambda ops: [repr(op) for op in ops.values()]),
                Scenario("repr of the dict", lambda ops: repr(ops)),
            ],
        )
    )

    # -- instances handed to legacy code that calls op(inputs=...) -------------

    class Describe(Operator):
        specification = plain_spec

        def forward(self, *, inputs):
            return {"text": f"y={inputs.y}"}

    @module.operator("Describe", specification=plain_spec)
    def describe(*, inputs):
        return {"text": f"y={inputs.y}"}

    class Sequential(Operator):
        specification = plain_spec

        def __init__(self, *, operators):
            self.operators = operators

        def forward(self, *, inputs):
            current = inputs
            for op in self.operators:
                current = op(inputs=current)
            return current

    shapes.append(
        Shape(
            "Sequential of converted operators",
            lambda: Sequential(operators=[Doubler(), Describe()]),
            lambda: Sequential(operators=[doubler(), describe()]),
            [
                Scenario("pipeline", lambda op: op(inputs={"x": 21})),
                Scenario("pipeline error", lambda op: op(inputs={"x": "NaN"})),
            ],
        )
    )
    shapes.append(
        Shape(
            "Sequential mixing legacy and converted",
            lambda: Sequential(operators=[Doubler(), Describe()]),
            lambda: Sequential(operators=[Doubler(), describe()]),
            [Scenario("pipeline", lambda op: op(inputs={"x": 4}))],
        )
    )
    return shapes
