import EmberCore

/// Tests that switch the process-wide `MetricsRecorder` run one at a time across every
/// suite and target, and leave it as they found it (the guide's DeterministicTestCase
/// idea, for the one piece of global state the core has).
public actor ExclusiveMetrics {
    public static let shared = ExclusiveMetrics()
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    private func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
    }

    /// Runs `body` with metrics switched `enabled`, then restores the previous setting.
    public static func with<T: Sendable>(
        enabled: Bool, _ body: @Sendable () async throws -> T
    ) async rethrows -> T {
        await shared.acquire()
        let was = MetricsRecorder.shared.isEnabled
        MetricsRecorder.shared.setEnabled(enabled)
        do {
            let value = try await body()
            MetricsRecorder.shared.setEnabled(was)
            await shared.release()
            return value
        } catch {
            MetricsRecorder.shared.setEnabled(was)
            await shared.release()
            throw error
        }
    }
}
