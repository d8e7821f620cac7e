import EmberCore

/// Maps a module over a list with at most `batchSize` calls in flight. Outputs are in
/// input order and equal a sequential map; an empty list gives an empty list; the first
/// failure cancels the calls still running and is rethrown; cancelling the caller stops
/// the remaining work.
public func vmap<Input: Sendable, Output: Sendable>(
    _ m: Module<Input, Output>,
    batchSize: Int = 32
) -> Module<[Input], [Output]> {
    precondition(batchSize >= 1, "vmap batchSize must be at least 1, got \(batchSize)")
    return Module(name: "vmap(\(m.name))") { inputs in
        if inputs.isEmpty { return [] }
        return try await withThrowingTaskGroup(of: (Int, Output).self) { group in
            var slots = [Output?](repeating: nil, count: inputs.count)
            var nextIndex = 0
            let firstWave = min(batchSize, inputs.count)
            while nextIndex < firstWave {
                let i = nextIndex
                group.addTask { (i, try await m(inputs[i])) }
                nextIndex += 1
            }
            do {
                while let (i, out) = try await group.next() {
                    slots[i] = out
                    if nextIndex < inputs.count {
                        try Task.checkCancellation()
                        let j = nextIndex
                        group.addTask { (j, try await m(inputs[j])) }
                        nextIndex += 1
                    }
                }
            } catch {
                group.cancelAll()
                throw error
            }
            return slots.map { $0! }
        }
    }
}
