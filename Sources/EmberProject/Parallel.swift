#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The project model's parallel map over files: `workers` threads of their own (with the
/// stack size asked for: deeply nested Python makes tree walks recurse), each calling
/// `body(worker)`; returns when all are done. Worker 0 runs on the calling thread, or on a
/// thread of its own when a stack size is asked for (the caller's may be smaller).
public enum ProjectParallel {
    public static var defaultWorkers: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    public static func run(workers: Int, stackSize: Int = 0, _ body: @escaping @Sendable (Int) -> Void) {
        let count = max(1, workers)
        // One worker runs on the calling thread, unless it needs a stack of its own.
        guard count > 1 || stackSize > 0 else { body(0); return }
        var threads: [ThreadHandle] = []
        for w in 1..<count { threads.append(detach(stackSize: stackSize) { body(w) }) }
        // The calling thread's stack may be small: with a stack size, worker 0 gets a thread too.
        if stackSize > 0 { threads.append(detach(stackSize: stackSize) { body(0) }) } else { body(0) }
        for t in threads { t.join() }
    }

    /// Starts `body` on a thread of its own (with `stackSize` when asked for, else the
    /// system's default) and returns at once; `join()` on the handle waits for it. When no
    /// thread can be made, `body` runs here before this returns.
    public static func detach(stackSize: Int = 0, _ body: @escaping @Sendable () -> Void) -> ThreadHandle {
        final class Job: @unchecked Sendable {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        if stackSize > 0 { pthread_attr_setstacksize(&attributes, stackSize) }
        let job = Unmanaged.passRetained(Job(body)).toOpaque()
        var thread = pthread_t()
        let made = pthread_create(&thread, &attributes, { raw in
            Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, job)
        pthread_attr_destroy(&attributes)
        guard made == 0 else {
            Unmanaged<Job>.fromOpaque(job).release()
            body()
            return ThreadHandle(thread: nil)
        }
        return ThreadHandle(thread: thread)
    }

    /// Calls `body(i)` for every index in `0..<count`, spread over `workers` threads that
    /// take `chunk` indices at a time.
    public static func forEach(_ count: Int, workers: Int, chunk: Int = 1, stackSize: Int = 0, _ body: @escaping @Sendable (Int) -> Void) {
        guard count > 0 else { return }
        let next = IndexCounter()
        run(workers: min(workers, (count + chunk - 1) / chunk), stackSize: stackSize) { _ in
            while true {
                let begin = next.take(chunk)
                guard begin < count else { return }
                for i in begin..<min(count, begin + chunk) { body(i) }
            }
        }
    }
}

/// A thread started by `ProjectParallel.detach`.
public struct ThreadHandle: @unchecked Sendable {
    let thread: pthread_t?

    /// Waits until the thread's body has returned (at once when it ran on the caller).
    public func join() {
        if let thread { pthread_join(thread, nil) }
    }

    /// Lets the thread run on unwaited for: its resources go when its body returns.
    public func detach() {
        if let thread { pthread_detach(thread) }
    }
}

/// Hands out indices to worker threads.
public final class IndexCounter: Sendable {
    private let value = Atomic<Int>(0)
    public init() {}
    /// Adds `n` and returns the value before.
    public func take(_ n: Int) -> Int { value.wrappingAdd(n, ordering: .relaxed).oldValue }
}
