import EmberCore

/// Calls every member exactly once, concurrently, and returns their outputs in member
/// order. The first failure cancels the members still running and is rethrown.
public func ensemble<Input: Sendable, Output: Sendable>(
    operators: [Module<Input, Output>],
    name: String = "ensemble"
) -> Module<Input, [Output]> {
    Module(name: name) { input in
        try await runConcurrently(operators, on: input)
    }
}

/// An ensemble whose outputs are combined by `aggregator` (majority vote, a judge, ...).
public func ensemble<Input: Sendable, Output: Sendable, Result: Sendable>(
    operators: [Module<Input, Output>],
    aggregator: Module<[Output], Result>,
    name: String = "ensemble"
) -> Module<Input, Result> {
    Module(name: name) { input in
        try await aggregator(try await runConcurrently(operators, on: input))
    }
}

/// The same with a plain closure as aggregator.
public func ensemble<Input: Sendable, Output: Sendable, Result: Sendable>(
    operators: [Module<Input, Output>],
    name: String = "ensemble",
    aggregator: @escaping @Sendable ([Output]) async throws -> Result
) -> Module<Input, Result> {
    ensemble(operators: operators, aggregator: Module(name: "\(name).aggregator", aggregator), name: name)
}

/// A heterogeneous ensemble: members with different output types, results as a tuple.
///
/// `let both = ensemble(counter, labeler)` gives `Module<String, (Int, String)>`.
public func ensemble<Input: Sendable, each Output: Sendable>(
    _ members: repeat Module<Input, each Output>
) -> Module<Input, (repeat each Output)> {
    var erased: [Module<Input, any Sendable>] = []
    for member in repeat each members { erased.append(member.erased()) }
    let all = erased
    return Module(name: "ensemble(" + all.map { $0.name }.joined(separator: ", ") + ")") { input in
        let results = try await runConcurrently(all, on: input)
        var cursor = ResultCursor(results)
        return (repeat cursor.take((each Output).self))
    }
}

/// Reads type-erased results back in member order.
struct ResultCursor {
    private let values: [any Sendable]
    private var index = 0
    init(_ values: [any Sendable]) { self.values = values }
    mutating func take<T>(_: T.Type) -> T {
        defer { index += 1 }
        // The values were produced by Module<_, T> in this order, so the cast holds.
        return values[index] as! T
    }
}

@usableFromInline
func runConcurrently<Input: Sendable, Output: Sendable>(
    _ members: [Module<Input, Output>], on input: Input
) async throws -> [Output] {
    if members.isEmpty { return [] }
    return try await withThrowingTaskGroup(of: (Int, Output).self) { group in
        for (i, m) in members.enumerated() {
            group.addTask { (i, try await m(input)) }
        }
        var slots = [Output?](repeating: nil, count: members.count)
        do {
            for try await (i, out) in group { slots[i] = out }
        } catch {
            group.cancelAll()
            throw error
        }
        return slots.map { $0! }
    }
}
