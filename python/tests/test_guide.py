"""The guide's API: module, chain, ensemble, retry, cache, vmap, jit, migrate_operator_to_module.

Properties (with hypothesis, where installed) and examples (everywhere).
Concurrency is in test_concurrency.
"""

import collections
import functools
import inspect
import random
import unittest

import ember_runtime
from ember_runtime import (
    CacheInfo,
    Module,
    OperatorModule,
    cache,
    chain,
    ensemble,
    jit,
    migrate_operator_to_module,
    module,
    retry,
    vmap,
)

from ._hypothesis import given, st
from .support import PassSpecification


# -- helpers ---------------------------------------------------------------

_OPERATIONS = {
    "add": lambda k: (lambda x: x + k),
    "mul": lambda k: (lambda x: x * k),
    "sub_from": lambda k: (lambda x: k - x),
    "mod": lambda k: (lambda x: x % (abs(k) + 1)),
}


def _function(spec):
    name, k = spec
    return _OPERATIONS[name](k)


_function_specs = st.lists(
    st.tuples(st.sampled_from(sorted(_OPERATIONS)), st.integers(-5, 5)), max_size=6
)


def reference_majority(results):
    """Most common; ties to the first seen (the Counter.most_common rule for hashables)."""
    counts = collections.Counter(results)
    return counts.most_common(1)[0][0]


class Failure(Exception):
    """A retryable failure with an attempt number."""


def failing_then(value, failures):
    """A function that raises Failure ``failures`` times, then returns ``value``; records calls."""
    raised = []

    def fn(*args, **kwargs):
        fn.calls.append((args, kwargs))
        if len(raised) < failures:
            raised.append(Failure(len(raised) + 1))
            raise raised[-1]
        return value

    fn.calls = []
    fn.raised = raised
    return fn


class FixedRandom:
    """An rng whose random() returns the given values in turn."""

    def __init__(self, values):
        self.values = list(values)

    def random(self):
        return self.values.pop(0)


# -- module ------------------------------------------------------------------


class ModuleTests(unittest.TestCase):
    def test_bare_decorator(self):
        def greet(name, *, punctuation="!"):
            """Says hello."""
            return f"hello {name}{punctuation}"

        decorated = module(greet)
        self.assertIsInstance(decorated, Module)
        self.assertEqual(decorated("ann"), "hello ann!")
        self.assertEqual(decorated("bo", punctuation="?"), "hello bo?")
        self.assertEqual(decorated.name, "greet")
        self.assertEqual(decorated.__name__, "greet")
        self.assertEqual(decorated.__doc__, "Says hello.")
        self.assertEqual(decorated.__module__, __name__)
        self.assertIs(decorated.__wrapped__, greet)
        self.assertEqual(inspect.signature(decorated), inspect.signature(greet))
        self.assertEqual(repr(decorated), "<Module greet>")

    def test_with_arguments(self):
        def base(x):
            """Original."""
            return x

        named = module(name="renamed", doc="Replaced.")(base)
        self.assertEqual(named.name, "renamed")
        self.assertEqual(named.__name__, "base")
        self.assertEqual(named.__doc__, "Replaced.")
        self.assertIs(named.__wrapped__, base)
        self.assertEqual(named(5), 5)

    def test_errors_pass_through(self):
        @module
        def broken():
            raise LookupError("nope")

        with self.assertRaises(LookupError):
            broken()
        with self.assertRaises(TypeError):
            broken(1)

    def test_binds_like_a_function_on_a_class(self):
        class Greeter:
            prefix = "hi"

            @module
            def greet(self, name):
                return f"{self.prefix} {name}"

        self.assertEqual(Greeter().greet("cy"), "hi cy")
        self.assertIsInstance(Greeter.greet, Module)

    def test_not_callable(self):
        with self.assertRaises(TypeError):
            module(42)

    def test_operator_and_state_are_attributes_of_module(self):
        self.assertTrue(callable(module.operator))
        self.assertTrue(callable(module.state))

    def test_public_names(self):
        self.assertEqual(ember_runtime.__version__, "0.1.0")
        for name in ember_runtime.__all__:
            self.assertTrue(hasattr(ember_runtime, name), name)
        for name in ("module", "chain", "ensemble", "retry", "cache", "vmap", "jit",
                     "migrate_operator_to_module", "OperatorModule", "OperatorError",
                     "OperatorExecutionError", "OperatorSpecificationError"):
            self.assertIn(name, ember_runtime.__all__)


# -- chain -------------------------------------------------------------------


class ChainTests(unittest.TestCase):
    def test_left_to_right(self):
        self.assertEqual(chain(lambda x: x + 1, lambda x: x * 10)(2), 30)
        self.assertEqual(chain(lambda x: x * 10, lambda x: x + 1)(2), 21)

    def test_empty_is_identity(self):
        marker = object()
        self.assertIs(chain()(marker), marker)

    def test_operators_are_called_with_inputs(self):
        seen = []

        class LegacyStyle:
            def __call__(self, *, inputs=None, **kwargs):
                seen.append(inputs)
                return inputs + 1

        specification = PassSpecification()

        @module.operator("Double", specification=specification)
        def double(*, inputs):
            return inputs * 2

        pipeline = chain(LegacyStyle(), double(), lambda x: x * 3)
        self.assertEqual(pipeline(1), 12)
        self.assertEqual(seen, [1])
        self.assertEqual(specification.validated, [("output", 4)])

    def test_keyword_only_inputs_function_is_an_operator(self):
        def keyword_only(*, inputs):
            return inputs + "!"

        def positional(inputs):
            return inputs + "?"

        self.assertEqual(chain(keyword_only, positional)("a"), "a!?")

    def test_members_must_be_callable(self):
        with self.assertRaises(TypeError):
            chain(lambda x: x, 3)

    def test_is_a_module_with_a_name(self):
        def inc(x):
            return x + 1

        pipeline = chain(inc, inc)
        self.assertIsInstance(pipeline, Module)
        self.assertEqual(pipeline.name, "chain(inc, inc)")

    @given(_function_specs, st.integers(-100, 100))
    def test_property_chain_is_the_fold(self, specs, x):
        functions = [_function(spec) for spec in specs]
        expected = x
        for f in functions:
            expected = f(expected)
        self.assertEqual(chain(*functions)(x), expected)

    @given(_function_specs, _function_specs, _function_specs, st.integers(-100, 100))
    def test_property_associative(self, a, b, c, x):
        fa = chain(*[_function(s) for s in a])
        fb = chain(*[_function(s) for s in b])
        fc = chain(*[_function(s) for s in c])
        left = chain(chain(fa, fb), fc)(x)
        right = chain(fa, chain(fb, fc))(x)
        self.assertEqual(left, right)
        self.assertEqual(left, chain(fa, fb, fc)(x))

    def test_associative_examples(self):
        fa, fb, fc = (lambda x: x + 1), (lambda x: x * 3), (lambda x: 7 - x)
        for x in range(-3, 4):
            self.assertEqual(chain(chain(fa, fb), fc)(x), chain(fa, chain(fb, fc))(x))
            self.assertEqual(chain(fa, fb, fc)(x), fc(fb(fa(x))))


# -- ensemble ----------------------------------------------------------------


class EnsembleTests(unittest.TestCase):
    def test_results_in_member_order(self):
        run = ensemble(lambda x: x + 1, lambda x: x + 2, lambda x: x + 3)
        self.assertEqual(run(10), [11, 12, 13])

    def test_operators_keyword(self):
        self.assertEqual(ensemble(operators=[str, repr])(1), ["1", "1"])
        with self.assertRaises(TypeError):
            ensemble(str, operators=[repr])

    def test_aggregator(self):
        self.assertEqual(ensemble(lambda x: x, lambda x: -x, aggregator=sum)(5), 0)

    def test_empty(self):
        self.assertEqual(ensemble()(1), [])
        self.assertEqual(ensemble(aggregator=len)(1), 0)
        with self.assertRaises(ValueError):
            ensemble(voting=True)(1)

    def test_voting_majority_and_ties(self):
        self.assertEqual(ensemble(*(lambda x, r=r: r for r in "abb"), voting=True)(0), "b")
        self.assertEqual(ensemble(*(lambda x, r=r: r for r in "abab"), voting=True)(0), "a")
        self.assertEqual(ensemble(*(lambda x, r=r: r for r in "baab"), voting=True)(0), "b")

    def test_voting_unhashable_results(self):
        members = [lambda x: [1], lambda x: {"a": 1}, lambda x: {"a": 1}, lambda x: [1]]
        self.assertEqual(ensemble(*members, voting=True)(0), [1])
        members.append(lambda x: {"a": 1})
        self.assertEqual(ensemble(*members, voting=True)(0), {"a": 1})

    def test_voting_and_aggregator_exclusive(self):
        with self.assertRaises(ValueError):
            ensemble(str, aggregator=len, voting=True)

    def test_each_member_called_once_with_the_input(self):
        calls = collections.Counter()

        def member(tag):
            def call(x):
                calls[(tag, x)] += 1
                return tag

            return call

        self.assertEqual(ensemble(*(member(t) for t in "xyz"))(7), ["x", "y", "z"])
        self.assertEqual(calls, {("x", 7): 1, ("y", 7): 1, ("z", 7): 1})

    def test_error_is_raised(self):
        def bad(x):
            raise KeyError("member")

        with self.assertRaises(KeyError):
            ensemble(lambda x: x, bad)(1)

    @given(st.lists(st.integers(-3, 3), max_size=12), st.integers(-50, 50))
    def test_property_member_order(self, offsets, x):
        members = [lambda value, k=k: value + k for k in offsets]
        self.assertEqual(ensemble(*members)(x), [x + k for k in offsets])

    @given(st.lists(st.integers(0, 3), min_size=1, max_size=12))
    def test_property_voting_is_most_common_first_seen(self, values):
        members = [lambda x, v=v: v for v in values]
        self.assertEqual(ensemble(*members, voting=True)(None), reference_majority(values))

    @given(st.lists(st.integers(0, 3), min_size=1, max_size=10))
    def test_property_voting_unhashable_equals_hashable(self, values):
        members = [lambda x, v=v: [v] for v in values]
        self.assertEqual(ensemble(*members, voting=True)(None), [reference_majority(values)])


# -- retry -------------------------------------------------------------------


class RetryTests(unittest.TestCase):
    def make(self, fn, **options):
        self.sleeps = []
        options.setdefault("sleep", self.sleeps.append)
        options.setdefault("rng", FixedRandom([0.5] * 100))
        return retry(fn, **options)

    def test_success_after_failures(self):
        fn = failing_then("ok", failures=2)
        self.assertEqual(self.make(fn, max_attempts=3)(1, key="v"), "ok")
        self.assertEqual(fn.calls, [((1,), {"key": "v"})] * 3)
        self.assertEqual(self.sleeps, [0.1, 0.2])

    def test_gives_up_with_the_last_error_unchanged(self):
        fn = failing_then("ok", failures=5)
        with self.assertRaises(Failure) as caught:
            self.make(fn, max_attempts=3)()
        self.assertIs(caught.exception, fn.raised[2])
        self.assertEqual(caught.exception.args, (3,))
        self.assertEqual(len(fn.calls), 3)
        self.assertEqual(len(self.sleeps), 2)

    def test_one_attempt_means_no_retry(self):
        fn = failing_then("ok", failures=1)
        with self.assertRaises(Failure):
            self.make(fn, max_attempts=1)()
        self.assertEqual(len(fn.calls), 1)
        self.assertEqual(self.sleeps, [])

    def test_retry_if_decides(self):
        fn = failing_then("ok", failures=2)
        with self.assertRaises(Failure) as caught:
            self.make(fn, retry_if=lambda error: error.args[0] < 2)()
        self.assertEqual(caught.exception.args, (2,))
        self.assertEqual(len(fn.calls), 2)

    def test_base_exceptions_are_never_caught(self):
        for kind in (KeyboardInterrupt, SystemExit, GeneratorExit):
            calls = []

            def fn():
                calls.append(1)
                raise kind()

            with self.assertRaises(kind):
                self.make(fn, max_attempts=5, retry_if=lambda error: True)()
            self.assertEqual(calls, [1])

    def test_backoff_is_capped_and_jittered(self):
        fn = failing_then("ok", failures=5)
        rng = FixedRandom([0.0, 1.0, 0.5, 0.25, 0.75])
        self.make(fn, max_attempts=6, initial_delay=1.0, multiplier=3.0, max_delay=5.0,
                  jitter=0.2, rng=rng)()
        expected = [1.0 * 0.8, 3.0 * 1.2, 5.0 * 1.0, 5.0 * 0.9, 5.0 * 1.1]
        for actual, wanted in zip(self.sleeps, expected):
            self.assertAlmostEqual(actual, wanted)
        self.assertEqual(len(self.sleeps), 5)

    def test_huge_attempt_counts_do_not_overflow(self):
        fn = failing_then("ok", failures=1200)
        self.make(fn, max_attempts=1201, initial_delay=1.0, multiplier=10.0, max_delay=2.0,
                  jitter=0.0, rng=random.Random(1))()
        self.assertEqual(self.sleeps[-1], 2.0)
        fn = failing_then("ok", failures=1200)
        self.make(fn, max_attempts=1201, initial_delay=0.0, multiplier=10.0, jitter=0.0,
                  rng=random.Random(1))()
        self.assertEqual(set(self.sleeps), {0.0})

    def test_default_rng_is_seeded_per_wrapper(self):
        def delays():
            sleeps = []
            fn = failing_then("ok", failures=3)
            retry(fn, max_attempts=4, jitter=0.5, sleep=sleeps.append)()
            return sleeps

        self.assertNotEqual(delays(), delays())

    def test_validation(self):
        for options in ({"max_attempts": 0}, {"max_attempts": -1}, {"initial_delay": -1},
                        {"max_delay": -0.5}, {"multiplier": -2}, {"jitter": 1.5},
                        {"jitter": -0.1}):
            with self.subTest(options=options), self.assertRaises(ValueError):
                retry(lambda: None, **options)

    def test_keeps_metadata_and_operator_calling_rule(self):
        def fetch(url):
            """Fetches."""
            return url

        wrapped = retry(fetch)
        self.assertEqual((wrapped.__name__, wrapped.__doc__), ("fetch", "Fetches."))

        def operator_like(*, inputs):
            return inputs * 2

        self.assertEqual(retry(operator_like)(4), 8)
        self.assertEqual(retry(operator_like)(inputs=5), 10)

    @given(st.integers(1, 6), st.integers(0, 8))
    def test_property_call_counts(self, max_attempts, failures):
        fn = failing_then("done", failures)
        wrapped = self.make(fn, max_attempts=max_attempts)
        if failures < max_attempts:
            self.assertEqual(wrapped(), "done")
            self.assertEqual(len(fn.calls), failures + 1)
        else:
            with self.assertRaises(Failure) as caught:
                wrapped()
            self.assertIs(caught.exception, fn.raised[-1])
            self.assertEqual(len(fn.calls), max_attempts)
        self.assertEqual(len(self.sleeps), len(fn.calls) - 1)

    @given(
        st.integers(2, 8),
        st.floats(0, 5),
        st.floats(0.5, 4),
        st.floats(0, 20),
        st.floats(0, 1),
        st.lists(st.floats(0, 1, exclude_max=True), min_size=8, max_size=8),
    )
    def test_property_delays(self, attempts, initial, multiplier, cap, jitter, draws):
        fn = failing_then("done", attempts - 1)
        self.make(fn, max_attempts=attempts, initial_delay=initial, multiplier=multiplier,
                  max_delay=cap, jitter=jitter, rng=FixedRandom(draws))()
        self.assertEqual(len(self.sleeps), attempts - 1)
        for n, (delay, draw) in enumerate(zip(self.sleeps, draws), start=1):
            base = min(cap, initial * multiplier ** (n - 1))
            self.assertAlmostEqual(delay, base * (1 + jitter * (2 * draw - 1)))
            self.assertGreaterEqual(delay, base * (1 - jitter) - 1e-9)
            self.assertLessEqual(delay, base * (1 + jitter) + 1e-9)


# -- cache -------------------------------------------------------------------


class CountingFunction:
    def __init__(self, fn=lambda *args, **kwargs: (args, sorted(kwargs.items()))):
        self.fn = fn
        self.calls = []

    def __call__(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        return self.fn(*args, **kwargs)


class CacheTests(unittest.TestCase):
    def test_hits_and_misses(self):
        fn = CountingFunction(lambda x: x * 2)
        cached = cache(fn)
        self.assertEqual([cached(1), cached(2), cached(1), cached(1)], [2, 4, 2, 2])
        self.assertEqual(len(fn.calls), 2)
        self.assertEqual(cached.cache_info(), CacheInfo(hits=2, misses=2, size=2))

    def test_keyword_order_does_not_matter(self):
        fn = CountingFunction()
        cached = cache(fn)
        cached(1, a=1, b=2)
        cached(1, b=2, a=1)
        self.assertEqual(len(fn.calls), 1)
        cached(a=1, b=2)
        self.assertEqual(len(fn.calls), 2)

    def test_positional_and_keyword_are_separate(self):
        fn = CountingFunction(lambda x=None: x)
        cached = cache(fn)
        cached(1)
        cached(x=1)
        self.assertEqual(len(fn.calls), 2)

    def test_unhashable_arguments_bypass(self):
        fn = CountingFunction(lambda items: len(items))
        cached = cache(fn)
        self.assertEqual(cached([1, 2]), 2)
        self.assertEqual(cached([1, 2]), 2)
        self.assertEqual(len(fn.calls), 2)
        self.assertEqual(cached.cache_info(), CacheInfo(0, 0, 0))

    def test_lru_eviction(self):
        fn = CountingFunction(lambda x: x)
        cached = cache(fn, max_size=2)
        for x in (1, 2, 1, 3):  # 3 evicts 2, the least recently used
            cached(x)
        self.assertEqual(cached.cache_info().size, 2)
        cached(1)
        self.assertEqual(len(fn.calls), 3)
        cached(2)
        self.assertEqual(len(fn.calls), 4)

    def test_failures_are_not_cached(self):
        fn = failing_then("ok", failures=1)
        cached = cache(fn)
        with self.assertRaises(Failure):
            cached(1)
        self.assertEqual(cached(1), "ok")
        self.assertEqual(cached(1), "ok")
        self.assertEqual(len(fn.calls), 2)

    def test_clear(self):
        fn = CountingFunction(lambda x: x)
        cached = cache(fn)
        cached(1)
        cached.cache_clear()
        self.assertEqual(cached.cache_info(), CacheInfo(0, 0, 0))
        cached(1)
        self.assertEqual(len(fn.calls), 2)

    def test_method_binds_and_keys_on_the_instance(self):
        class Scaler:
            def __init__(self, factor):
                self.factor = factor

            @cache
            def scale(self, x):
                calls.append((self.factor, x))
                return self.factor * x

        calls = []
        two, three = Scaler(2), Scaler(3)
        self.assertEqual([two.scale(5), three.scale(5), two.scale(5)], [10, 15, 10])
        self.assertEqual(calls, [(2, 5), (3, 5)])

    def test_validation(self):
        for size in (0, -1):
            with self.assertRaises(ValueError):
                cache(len, max_size=size)

    def test_metadata_and_operator_rule(self):
        def area(w, h):
            """Area."""
            return w * h

        cached = cache(area)
        self.assertEqual((cached.__name__, cached.__doc__), ("area", "Area."))
        self.assertIs(cached.__wrapped__, area)

        calls = []

        @module.operator("Square", specification=PassSpecification())
        def square(*, inputs):
            calls.append(inputs)
            return inputs * inputs

        cached_op = cache(square())
        self.assertEqual([cached_op(3), cached_op(3), cached_op(inputs=3)], [9, 9, 9])
        self.assertEqual(calls, [3, 3])  # f(3) and f(inputs=3) are separate keys

    @given(st.lists(st.integers(0, 6), max_size=40), st.integers(1, 5))
    def test_property_equals_the_function_and_a_reference_lru(self, calls, max_size):
        fn = CountingFunction(lambda x: x * x - 1)
        cached = cache(fn, max_size=max_size)
        reference = collections.OrderedDict()
        reference_misses = 0
        for x in calls:
            self.assertEqual(cached(x), x * x - 1)
            if x in reference:
                reference.move_to_end(x)
            else:
                reference_misses += 1
                reference[x] = True
                if len(reference) > max_size:
                    reference.popitem(last=False)
        info = cached.cache_info()
        self.assertEqual(info.misses, reference_misses)
        self.assertEqual(len(fn.calls), reference_misses)
        self.assertEqual(info.hits + info.misses, len(calls))
        self.assertEqual(info.size, len(reference))
        self.assertLessEqual(info.size, max_size)


# -- vmap --------------------------------------------------------------------


class VmapTests(unittest.TestCase):
    def test_equals_sequential_map(self):
        for batch_size in (None, 1, 2, 3, 100):
            with self.subTest(batch_size=batch_size):
                mapped = vmap(lambda x: x * x, batch_size=batch_size)
                self.assertEqual(mapped(range(10)), [x * x for x in range(10)])
                self.assertEqual(mapped([]), [])

    def test_any_iterable(self):
        self.assertEqual(vmap(str.upper)(iter("ab")), ["A", "B"])
        self.assertEqual(vmap(len)(x for x in ["a", "bb"]), [1, 2])

    def test_validation(self):
        for size in (0, -3):
            with self.assertRaises(ValueError):
                vmap(len, batch_size=size)

    def test_error_is_raised(self):
        def f(x):
            if x == 3:
                raise ZeroDivisionError("three")
            return x

        with self.assertRaises(ZeroDivisionError):
            vmap(f, batch_size=2)(range(6))

    def test_operators_get_inputs(self):
        def keyword_only(*, inputs):
            return inputs + 1

        self.assertEqual(vmap(keyword_only)([1, 2]), [2, 3])

    @given(st.lists(st.integers(-1000, 1000), max_size=30), st.one_of(st.none(), st.integers(1, 8)))
    def test_property_equals_sequential_map(self, xs, batch_size):
        f = lambda x: (x, x % 7, -x)  # noqa: E731
        self.assertEqual(vmap(f, batch_size=batch_size)(xs), [f(x) for x in xs])


# -- jit ---------------------------------------------------------------------


class JitTests(unittest.TestCase):
    def test_passes_through(self):
        def f(x):
            return x

        class C:
            pass

        self.assertIs(jit(f), f)
        self.assertIs(jit(C), C)
        self.assertIs(jit()(f), f)
        self.assertIs(jit(strategy="trace")(f), f)


# -- migrate_operator_to_module ---------------------------------------------


class LegacyLike:
    """A legacy-style operator class that stays a class."""

    def __init__(self, *, prefix="p"):
        self.prefix = prefix

    def __call__(self, *, inputs=None, **kwargs):
        return f"{self.prefix}:{inputs}:{sorted(kwargs.items())}"


class MigrateOperatorToModuleTests(unittest.TestCase):
    def test_instance(self):
        instance = LegacyLike(prefix="i")
        adapted = migrate_operator_to_module(instance)
        self.assertEqual(adapted(inputs="x"), "i:x:[]")
        self.assertEqual(adapted(inputs="x", k=1), "i:x:[('k', 1)]")
        self.assertEqual((adapted.__name__, adapted.__doc__), ("LegacyLike", LegacyLike.__doc__))
        self.assertEqual(chain(adapted)("c"), "i:c:[]")

    def test_class(self):
        adapted = migrate_operator_to_module(LegacyLike)
        self.assertEqual(adapted(inputs="x", prefix="q"), "q:x:[]")
        self.assertEqual(adapted(inputs="y"), "p:y:[]")
        configured = functools.partial(adapted, prefix="z")
        self.assertEqual(configured(inputs="w"), "z:w:[]")
        self.assertEqual(chain(configured)("v"), "z:v:[]")
        self.assertEqual((adapted.__name__, adapted.__doc__), ("LegacyLike", LegacyLike.__doc__))
        with self.assertRaises(TypeError):
            adapted(inputs="x", unknown=1)

    def test_converted_operator_class(self):
        @module.operator("Shout", specification=None)
        def shout(*, volume):
            def forward(*, inputs):
                return inputs.upper() + "!" * volume

            return forward

        adapted = migrate_operator_to_module(shout)
        with self.assertRaises(ember_runtime.OperatorExecutionError):
            adapted(inputs="a", volume=2)  # specification None: AttributeError, wrapped
        self.assertEqual(shout(volume=2).forward(inputs="a"), "A!!")
        self.assertIsInstance(shout(volume=1), OperatorModule)

    def test_not_callable(self):
        with self.assertRaises(TypeError):
            migrate_operator_to_module(3)


if __name__ == "__main__":
    unittest.main()
