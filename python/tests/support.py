"""Small helpers shared by the runtime's unit tests."""


class PassSpecification:
    """A specification with no models: inputs and outputs pass unchanged.

    Records what it validated, to show that a call went through the contract.
    """

    input_model = None
    structured_output = None

    def __init__(self):
        self.validated = []

    def validate_inputs(self, *, inputs):
        self.validated.append(("inputs", inputs))
        return inputs

    def validate_output(self, *, output):
        self.validated.append(("output", output))
        return output
