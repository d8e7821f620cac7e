import Foundation
import Testing

/// A task executor on threads of its own. Timing tests run on it (`withTaskExecutorPreference`),
/// so CPU-bound suites running in parallel in the same process, which can hold every thread
/// of Swift's cooperative pool (2 on a 2-core machine) for seconds, do not stall them: their
/// figures measure the HTTP path, not the neighbours.
final class DedicatedThreadsExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var head = 0

    init(threads: Int) {
        for i in 0..<threads {
            let t = Thread { [self] in run() }
            t.name = "dedicated-executor-\(i)"
            t.start()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let j = UnownedJob(job)
        condition.lock()
        jobs.append(j)
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while head == jobs.count { condition.wait() }
            let j = jobs[head]
            head += 1
            if head > 1024 && head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            j.runSynchronously(on: asUnownedTaskExecutor())
        }
    }

    static let shared = DedicatedThreadsExecutor(threads: 8)
}

/// `@Suite(.onDedicatedThreads)`: every test of the suite runs with `DedicatedThreadsExecutor`
/// as its task executor preference (its child tasks too; unstructured tasks must ask for it).
/// The HTTP tests have deadlines; in `swift test --parallel`, other packages' CPU-bound
/// suites can hold Swift's two cooperative threads for seconds, and a deadline would then
/// measure them.
struct DedicatedThreadsTrait: TestTrait, SuiteTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        try await withTaskExecutorPreference(DedicatedThreadsExecutor.shared) { try await function() }
    }
}

extension Trait where Self == DedicatedThreadsTrait {
    static var onDedicatedThreads: Self { Self() }
}
