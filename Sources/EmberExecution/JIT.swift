import EmberCore
import EmberUtils
import Synchronization

/// The two ways `jit` speeds a module up (exactly two, as the guide sets).
public enum JITStrategy: String, Sendable, Hashable, CaseIterable, Codable {
    /// Memoization of a deterministic module's results plus coalescing of identical calls
    /// in flight: one execution, every waiter gets its result.
    case basic
    /// Tree-aware: flattens a nested input into leaves, computes each distinct leaf once
    /// (memoized when deterministic), runs the leaf computations concurrently, and rebuilds
    /// the input's structure around the results.
    case advanced

    /// The guide's `_has_nested_inputs` heuristic: `advanced` when the jitted function's
    /// input nests the module's inputs (an array, dictionary, optional or record of them),
    /// `basic` when it is a single input.
    public static func heuristic<Tree: TreeFlattenable>(forInput _: Tree.Type) -> JITStrategy {
        Tree.isNestedTree ? .advanced : .basic
    }
}

/// A jitted module: callable like the module, plus what `jit` decided about it.
public struct JITModule<Input: Sendable, Output: Sendable>: Sendable {
    /// The strategy in use: the one asked for, or the heuristic's choice.
    public let strategy: JITStrategy
    /// What the wrapped module declared, or what the `jit` call overrode it with.
    public let determinism: Determinism
    /// The jitted function as a plain module, for `chain`, `ensemble`, `vmap`, ...
    public let module: Module<Input, Output>
    /// Counts of calls, underlying executions and replayed results.
    public let statistics: JITStatistics

    /// Whether results are replayed (memoized, coalesced, deduplicated): only for
    /// `.deterministic` modules.
    public var replaysResults: Bool { determinism.allowsReplay }

    public var name: String { module.name }

    public func callAsFunction(_ input: Input) async throws -> Output {
        try await module(input)
    }
}

/// Counters kept by a jitted module (relaxed atomics: cheap, exact once calls finish).
public final class JITStatistics: Sendable {
    private let callCount = Atomic<Int>(0)
    private let executionCount = Atomic<Int>(0)
    private let requestCount = Atomic<Int>(0)

    public init() {}

    /// Calls of the jitted function.
    public var calls: Int { callCount.load(ordering: .relaxed) }
    /// Executions of the wrapped module (leaf computations for `advanced`).
    public var executions: Int { executionCount.load(ordering: .relaxed) }
    /// Results that were needed: one per call for `basic`, one per leaf for `advanced`.
    public var requests: Int { requestCount.load(ordering: .relaxed) }
    /// Requests served without an execution of their own (memo hits, coalesced waiters,
    /// duplicate leaves).
    public var replayed: Int { max(requests - executions, 0) }

    func countCall(requests: Int) {
        callCount.add(1, ordering: .relaxed)
        requestCount.add(requests, ordering: .relaxed)
    }
    func countExecution() { executionCount.add(1, ordering: .relaxed) }
}

/// Compiles a module for repeated calls on single inputs.
///
/// The strategy defaults to `basic` (the input is a single value, not a tree of the
/// module's inputs; use `jit(_:over:)` for trees). `advanced` on a single input has one
/// leaf to compute and so behaves like `basic`.
///
/// Results are replayed only when the module is `.deterministic` (declared by the module,
/// or by `determinism:` here, which overrides it): then equal inputs are computed once
/// (memoized in an LRU of `maxEntries`, coalesced while in flight) and a failure is never
/// memoized. Otherwise every call runs the module, side effects included, so the jitted
/// module's results always equal the module's.
public func jit<Input: Hashable & Sendable, Output: Sendable>(
    _ m: Module<Input, Output>,
    strategy: JITStrategy? = nil,
    determinism: Determinism? = nil,
    maxEntries: Int = 4096
) -> JITModule<Input, Output> {
    precondition(maxEntries >= 1, "jit maxEntries must be at least 1, got \(maxEntries)")
    let chosen = strategy ?? .basic
    let declared = determinism ?? m.determinism
    let stats = JITStatistics()
    let store = LRUCacheStore<Input, Output>(maxSize: maxEntries)
    let name = "jit(\(m.name))"
    let replay = declared.allowsReplay
    let body = Module.recordingOwnMetrics(name: name, documentation: m.documentation, determinism: declared) {
        (input: Input) in
        stats.countCall(requests: 1)
        let recording = MetricsRecorder.shared.isEnabled
        let start = recording ? MonotonicClock.nanoseconds() : 0
        let output: Output
        let hit: Bool
        if replay {
            (output, hit) = try await store.value(for: input) {
                stats.countExecution()
                return try await m(input)
            }
        } else {
            stats.countExecution()
            output = try await m(input)
            hit = false
        }
        if recording {
            recordJITMetrics(name: name, strategy: chosen, start: start, input: input, output: output, hit: hit)
        }
        return output
    }
    return JITModule(strategy: chosen, determinism: declared, module: body, statistics: stats)
}

/// Compiles a leaf module for calls on trees of its inputs: `Tree` is the nested input type
/// (say `[String]` or a record of prompts), `Out` the same structure around the leaf
/// module's outputs. The un-jitted meaning is `treeMap`: the leaf module applied to every
/// leaf in flattening order, one after another.
///
/// The strategy defaults to the heuristic (`advanced` for a nested `Tree`):
/// - `advanced` flattens the tree, computes each distinct leaf once (memoized across calls
///   and coalesced in flight) when the module is deterministic, runs at most
///   `maxConcurrency` leaf computations at a time, and rebuilds the structure. For a
///   non-deterministic module every leaf is computed, duplicates included, still
///   concurrently; the first failure cancels the rest and is rethrown.
/// - `basic` memoizes and coalesces whole trees (when deterministic) and computes a new
///   tree exactly as `treeMap` does.
public func jit<Tree: TreeFlattenable & Sendable, Out: TreeRebuildable & Sendable>(
    _ leaf: Module<Tree.Leaf, Out.RebuiltLeaf>,
    over _: Tree.Type,
    producing _: Out.Type = Out.self,
    strategy: JITStrategy? = nil,
    determinism: Determinism? = nil,
    maxEntries: Int = 4096,
    maxConcurrency: Int = 64
) -> JITModule<Tree, Out> {
    precondition(maxEntries >= 1, "jit maxEntries must be at least 1, got \(maxEntries)")
    precondition(maxConcurrency >= 1, "jit maxConcurrency must be at least 1, got \(maxConcurrency)")
    let chosen = strategy ?? JITStrategy.heuristic(forInput: Tree.self)
    let declared = determinism ?? leaf.determinism
    let replay = declared.allowsReplay
    let stats = JITStatistics()
    let name = "jit(\(leaf.name))"

    let body: Module<Tree, Out>
    switch chosen {
    case .basic:
        let store = LRUCacheStore<FlatTree<Tree.Leaf>, Out>(maxSize: maxEntries)
        body = Module.recordingOwnMetrics(name: name, documentation: leaf.documentation, determinism: declared) {
            (tree: Tree) in
            let recording = MetricsRecorder.shared.isEnabled
            let start = recording ? MonotonicClock.nanoseconds() : 0
            let flat = FlatTree(tree.flattened())
            stats.countCall(requests: 1)
            let sequential: @Sendable () async throws -> Out = {
                stats.countExecution()
                var outs: [Out.RebuiltLeaf] = []
                outs.reserveCapacity(flat.leaves.count)
                for l in flat.leaves { outs.append(try await leaf(l)) }
                return try Out.rebuild(shape: flat.shape, leaves: outs)
            }
            let (output, hit) = replay ? try await store.value(for: flat, compute: sequential) : (try await sequential(), false)
            if recording {
                recordJITMetrics(name: name, strategy: .basic, start: start, input: tree, output: output, hit: hit)
            }
            return output
        }
    case .advanced:
        let store = LRUCacheStore<Tree.Leaf, Out.RebuiltLeaf>(maxSize: maxEntries)
        body = Module.recordingOwnMetrics(name: name, documentation: leaf.documentation, determinism: declared) {
            (tree: Tree) in
            let recording = MetricsRecorder.shared.isEnabled
            let start = recording ? MonotonicClock.nanoseconds() : 0
            let (leaves, shape) = tree.flattened()
            stats.countCall(requests: leaves.count)
            let outs: [Out.RebuiltLeaf]
            var allHits = !leaves.isEmpty
            if replay {
                // Distinct leaves in first-seen order; `slots[i]` says which one leaf i is.
                var firstSeen: [Tree.Leaf: Int] = [:]
                var distinct: [Tree.Leaf] = []
                var slots: [Int] = []
                slots.reserveCapacity(leaves.count)
                for l in leaves {
                    if let k = firstSeen[l] {
                        slots.append(k)
                    } else {
                        firstSeen[l] = distinct.count
                        slots.append(distinct.count)
                        distinct.append(l)
                    }
                }
                let results = try await runBounded(distinct, maxConcurrency: maxConcurrency) { l in
                    try await store.value(for: l) {
                        stats.countExecution()
                        return try await leaf(l)
                    }
                }
                allHits = allHits && results.allSatisfy(\.hit)
                outs = slots.map { results[$0].0 }
            } else {
                allHits = false
                outs = try await runBounded(leaves, maxConcurrency: maxConcurrency) { l in
                    stats.countExecution()
                    return try await leaf(l)
                }
            }
            let output = try Out.rebuild(shape: shape, leaves: outs)
            if recording {
                recordJITMetrics(name: name, strategy: .advanced, start: start, input: tree, output: output, hit: allHits)
            }
            return output
        }
    }
    return JITModule(strategy: chosen, determinism: declared, module: body, statistics: stats)
}

/// The un-jitted meaning of a leaf module over trees: every leaf, in flattening order, one
/// call after another, rebuilt into `Out`. `jit(_:over:)` always returns what this returns.
public func treeMap<Tree: TreeFlattenable & Sendable, Out: TreeRebuildable & Sendable>(
    _ leaf: Module<Tree.Leaf, Out.RebuiltLeaf>,
    over _: Tree.Type,
    producing _: Out.Type = Out.self
) -> Module<Tree, Out> {
    Module(name: "treeMap(\(leaf.name))", documentation: leaf.documentation, determinism: leaf.determinism) {
        (tree: Tree) in
        let (leaves, shape) = tree.flattened()
        var outs: [Out.RebuiltLeaf] = []
        outs.reserveCapacity(leaves.count)
        for l in leaves { outs.append(try await leaf(l)) }
        return try Out.rebuild(shape: shape, leaves: outs)
    }
}

/// A flattened tree as a hashable memo key.
struct FlatTree<Leaf: Hashable & Sendable>: Hashable, Sendable {
    let leaves: [Leaf]
    let shape: TreeShape
    init(_ parts: (leaves: [Leaf], shape: TreeShape)) {
        leaves = parts.leaves
        shape = parts.shape
    }
}

@inline(__always)
func recordJITMetrics<I, O>(
    name: String, strategy: JITStrategy, start: UInt64, input: I, output: O, hit: Bool
) {
    MetricsRecorder.shared.record(
        OperatorMetrics(
            name: name, executionTimeNs: MonotonicClock.nanoseconds() &- start,
            inputSizeBytes: estimatedSizeOf(input), outputSizeBytes: estimatedSizeOf(output),
            cacheHit: hit, jitStrategy: strategy.rawValue,
            timestampNs: WallClock.nanosecondsSinceEpoch()))
}

/// `work` over `items` with at most `maxConcurrency` in flight; results in item order;
/// the first failure cancels the rest and is rethrown.
func runBounded<Item: Sendable, Result: Sendable>(
    _ items: [Item], maxConcurrency: Int,
    _ work: @escaping @Sendable (Item) async throws -> Result
) async throws -> [Result] {
    if items.isEmpty { return [] }
    if items.count == 1 { return [try await work(items[0])] }
    return try await withThrowingTaskGroup(of: (Int, Result).self) { group in
        var slots = [Result?](repeating: nil, count: items.count)
        var next = 0
        while next < min(maxConcurrency, items.count) {
            let i = next
            group.addTask { (i, try await work(items[i])) }
            next += 1
        }
        do {
            while let (i, r) = try await group.next() {
                slots[i] = r
                if next < items.count {
                    try Task.checkCancellation()
                    let j = next
                    group.addTask { (j, try await work(items[j])) }
                    next += 1
                }
            }
        } catch {
            group.cancelAll()
            throw error
        }
        return slots.map { $0! }
    }
}
