import Foundation

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

    static let shared = DedicatedThreadsExecutor(threads: 4)
}
