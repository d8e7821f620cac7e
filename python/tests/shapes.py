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

    mode: "exact" (same result, or same exception type and message), "type"
    (same exception type only: the message names the class that defines
    ``__call__``), "prefix" (same type and the message up to its first colon).
    needs_legacy_exceptions: the scenario raises a legacy exception class from
    operator code, so it is meaningful only while the legacy exceptions module is
    loaded under its real name.
    real_difference: the real snapshot behaves differently here, for the reason
    given (a documented difference, checked as such).
    """

    name: str
    run: object
    mode: str = "exact"
    needs_legacy_exceptions: bool = False
    real_difference: Optional[str] = None


@dataclasses.dataclass
class Shape:
    name: str
    make_legacy: object
    make_converted: object
    scenarios: List[Scenario]
    # Constructor calls that must fail the same way: (args, kwargs) pairs, made on
    # legacy_class and converted_class.
    legacy_class: object = None
    converted_class: object = None
    bad_constructions: List[tuple] = dataclasses.field(default_factory=list)


_MUTABLE_REAL = (
    "the snapshot's Operator subclasses are not dataclasses themselves, so the "
    "frozen __setattr__/__delattr__ generated for EmberModule lets instances change"
)


def _attribute_scenarios(names):
    return [Scenario(f"read {name}", lambda op, name=name: getattr(op, name)) for name in names]


def _immutability_scenarios(existing):
    def assign(op):
        op.brand_new = 1

    def reassign(op):
        setattr(op, existing, "changed")

    def delete(op):
        delattr(op, existing)

    return [
        Scenario("assign a new attribute", assign, real_difference=_MUTABLE_REAL),
        Scenario(f"reassign {existing}", reassign, real_difference=_MUTABLE_REAL),
        Scenario(f"delete {existing}", delete, real_difference=_MUTABLE_REAL),
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
                Scenario("positional call", lambda op: op({"x": 1}), mode="type"),
                Scenario("positional and keyword call", lambda op: op({"x": 1}, inputs={"x": 1}), mode="type"),
                Scenario("specification is the class's", lambda op: op.specification is doubler_spec),
                Scenario("render prompt", lambda op: op.specification.render_prompt(inputs={"x": 3})),
                Scenario("missing placeholder", lambda op: op.specification.render_prompt(inputs={})),
                Scenario("class name", lambda op: type(op).__name__),
                Scenario("class doc", lambda op: type(op).__doc__),
                Scenario("missing attribute", lambda op: op.not_there),
            ]
            + _attribute_scenarios(["prompt_template"])
            + _immutability_scenarios("prompt_template"),
            legacy_class=Doubler,
            converted_class=doubler,
            bad_constructions=[((1,), {}), ((), {"x": 1})],
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
            ]
            + _attribute_scenarios(
                ["num_units", "model_name", "temperature", "max_tokens", "lm_modules"]
            )
            + _immutability_scenarios("num_units"),
            legacy_class=UniformEnsemble,
            converted_class=uniform_ensemble,
            bad_constructions=[
                ((), {}),
                ((), dict(config, extra=1)),
                ((3, "m", 0.5), {}),
                ((), {"num_units": 3}),
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

    shapes.append(
        Shape(
            "Scaler",
            lambda: Scaler(factor=3),
            lambda: scaler(factor=3),
            [
                Scenario("call", lambda op: op(inputs={"n": 2})),
                Scenario("class attribute on the class", lambda op: type(op).factor),
            ]
            + _attribute_scenarios(["factor", "offset", "label", "history_size", "total"]),
            legacy_class=Scaler,
            converted_class=scaler,
            bad_constructions=[((), {}), ((3,), {}), ((), {"factor": 3, "scale": 2})],
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
