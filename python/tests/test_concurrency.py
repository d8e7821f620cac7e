"""Concurrency of ensemble, vmap and cache, shown with events and barriers.

No assertion depends on wall-clock time. Waits have generous timeouts only so
that a bug fails the test instead of hanging it; the one short sleep
(``_SETTLE``) gives a failing thread time to record its failure before another
thread moves on.
"""

import contextvars
import threading
import time
import unittest

from ember_runtime import OperatorModule, cache, ensemble, module, vmap

from .support import PassSpecification

TIMEOUT = 10.0
_SETTLE = 0.05


def wait_until(condition, timeout=TIMEOUT):
    """Polls ``condition`` until it holds (True) or the timeout passes (False)."""
    deadline = time.monotonic() + timeout
    event = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            return False
        event.wait(0.001)
    return True


class InFlight:
    """Counts calls in flight and remembers the largest count seen."""

    def __init__(self):
        self._lock = threading.Lock()
        self.current = 0
        self.maximum = 0

    def __enter__(self):
        with self._lock:
            self.current += 1
            self.maximum = max(self.maximum, self.current)
        return self

    def __exit__(self, *exc):
        with self._lock:
            self.current -= 1


class EnsembleConcurrencyTests(unittest.TestCase):
    def test_members_run_concurrently(self):
        for size in (2, 5, 12):
            with self.subTest(size=size):
                barrier = threading.Barrier(size, timeout=TIMEOUT)

                def member(x, i):
                    barrier.wait()  # completes only if all members are running at once
                    return (x, i)

                members = [lambda x, i=i: member(x, i) for i in range(size)]
                self.assertEqual(ensemble(*members)("q"), [("q", i) for i in range(size)])

    def test_first_error_in_completion_order_wins(self):
        second_failed = threading.Event()

        def slow_failure(x):
            second_failed.wait(TIMEOUT)
            time.sleep(_SETTLE)
            raise ValueError("finished second")

        def fast_failure(x):
            second_failed.set()
            raise KeyError("finished first")

        with self.assertRaises(KeyError):
            ensemble(slow_failure, fast_failure)(1)

    def test_running_members_are_waited_for(self):
        finished = threading.Event()
        release = threading.Event()

        def long_member(x):
            release.wait(TIMEOUT)
            finished.set()
            return x

        def failing(x):
            release.set()
            raise RuntimeError("fail")

        with self.assertRaises(RuntimeError):
            ensemble(long_member, failing)(0)
        self.assertTrue(finished.is_set(), "the ensemble returned before a running member ended")

    def test_context_variables_reach_the_members(self):
        request = contextvars.ContextVar("request")
        token = request.set("r-1")
        try:
            self.assertEqual(ensemble(lambda x: request.get(), lambda x: request.get())(0), ["r-1", "r-1"])
        finally:
            request.reset(token)

    def test_one_operator_instance_called_concurrently(self):
        size = 8
        barrier = threading.Barrier(size, timeout=TIMEOUT)

        @module.operator("Tagger", specification=PassSpecification())
        def tagger(*, tag):
            def forward(*, inputs):
                barrier.wait()
                return f"{tag}:{inputs}"

            return forward

        op = tagger(tag="t")
        self.assertIsInstance(op, OperatorModule)
        self.assertEqual(ensemble(*[op] * size)("x"), ["t:x"] * size)


class VmapConcurrencyTests(unittest.TestCase):
    def test_bounded_concurrency(self):
        for batch_size in (1, 2, 3, 4):
            with self.subTest(batch_size=batch_size):
                flight = InFlight()
                barrier = threading.Barrier(batch_size, timeout=TIMEOUT)
                items = list(range(batch_size * 4))

                def f(x):
                    with flight:
                        barrier.wait()  # every call waits for batch_size calls in flight
                        return x * 2

                self.assertEqual(vmap(f, batch_size=batch_size)(items), [x * 2 for x in items])
                self.assertEqual(flight.maximum, batch_size)

    def test_unbounded_runs_all_at_once(self):
        size = 9
        barrier = threading.Barrier(size, timeout=TIMEOUT)
        self.assertEqual(vmap(lambda x: (barrier.wait(), x)[1])(range(size)), list(range(size)))

    def test_first_error_stops_calls_not_started_sequential(self):
        started = []

        def f(x):
            started.append(x)
            if x == 2:
                raise ValueError(x)
            return x

        with self.assertRaises(ValueError) as caught:
            vmap(f, batch_size=1)(range(10))
        self.assertEqual(caught.exception.args, (2,))
        self.assertEqual(started, [0, 1, 2])

    def test_first_error_stops_calls_not_started_concurrent(self):
        started = []
        lock = threading.Lock()
        failed = threading.Event()

        def f(x):
            with lock:
                started.append(x)
            if x == 0:
                failed.wait(TIMEOUT)
                time.sleep(_SETTLE)
                return x
            if x == 1:
                failed.set()
                raise LookupError("item 1")
            return x

        with self.assertRaises(LookupError):
            vmap(f, batch_size=2)(range(20))
        self.assertEqual(sorted(started), [0, 1])


class CacheSingleFlightTests(unittest.TestCase):
    def run_callers(self, cached, count, argument):
        outcomes = [None] * count

        def caller(i):
            try:
                outcomes[i] = ("value", cached(argument))
            except Exception as error:  # collected for the assertions
                outcomes[i] = ("error", error)

        threads = [threading.Thread(target=caller, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        return threads, outcomes

    def test_concurrent_callers_share_one_call(self):
        size = 8
        release = threading.Event()
        calls = []

        def slow(x):
            calls.append(x)
            release.wait(TIMEOUT)
            return {"x": x}

        cached = cache(slow)
        threads, outcomes = self.run_callers(cached, size, 5)
        # Every other caller has joined the call in flight once it counts as a hit.
        self.assertTrue(wait_until(lambda: cached.cache_info().hits == size - 1))
        self.assertEqual(calls, [5])
        release.set()
        for thread in threads:
            thread.join(TIMEOUT)
        self.assertEqual(calls, [5])
        values = [value for kind, value in outcomes]
        self.assertEqual({kind for kind, value in outcomes}, {"value"})
        self.assertTrue(all(value is values[0] for value in values))
        self.assertEqual(cached.cache_info().misses, 1)

    def test_failure_reaches_waiters_and_is_not_cached(self):
        size = 5
        release = threading.Event()
        calls = []

        def flaky(x):
            calls.append(x)
            if len(calls) == 1:
                release.wait(TIMEOUT)
                raise ConnectionError("first call fails")
            return "second call works"

        cached = cache(flaky)
        threads, outcomes = self.run_callers(cached, size, "k")
        self.assertTrue(wait_until(lambda: cached.cache_info().hits == size - 1))
        release.set()
        for thread in threads:
            thread.join(TIMEOUT)
        self.assertEqual(len(calls), 1)
        errors = [value for kind, value in outcomes]
        self.assertTrue(all(isinstance(error, ConnectionError) for error in errors))
        self.assertTrue(all(error is errors[0] for error in errors))
        self.assertEqual(cached("k"), "second call works")
        self.assertEqual(len(calls), 2)

    def test_different_keys_run_concurrently(self):
        barrier = threading.Barrier(3, timeout=TIMEOUT)
        cached = cache(lambda x: (barrier.wait(), x)[1])
        self.assertEqual(vmap(cached)([1, 2, 3]), [1, 2, 3])


if __name__ == "__main__":
    unittest.main()
