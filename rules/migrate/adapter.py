"""Compatibility adapter written by `ember-migrate --emit-adapter PATH`.

For projects whose Ember lacks `migrate_operator_to_module`: it turns a legacy
class-based operator (a class or an instance) into a module-style callable.
"""

import functools

__all__ = ["migrate_operator_to_module"]


def migrate_operator_to_module(operator):
    """Returns a module-style callable for a legacy operator.

    Given an instance, calls it. Given a class, builds an instance from the
    configuration keywords and calls it with the remaining arguments, so
    `functools.partial(adapted, **config)` behaves like `Class(**config)`.
    """
    if isinstance(operator, type):
        cls = operator

        @functools.wraps(cls, updated=())
        def adapted(*args, **kwargs):
            inputs = {k: kwargs.pop(k) for k in ("inputs",) if k in kwargs}
            return cls(**kwargs)(*args, **inputs)

        return adapted

    @functools.wraps(type(operator), updated=())
    def call(*args, **kwargs):
        return operator(*args, **kwargs)

    return call
