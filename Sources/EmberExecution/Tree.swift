/// Nested values as trees of leaves: the Swift form of the guide's PyTree idea.
///
/// An input tree (`TreeFlattenable`) flattens into its leaves, in a fixed order, plus a
/// `TreeShape` that records everything else (array lengths, dictionary keys, which
/// optionals are `nil`, record fields). An output tree (`TreeRebuildable`) is rebuilt from a
/// shape and leaves of another type, so `[String]` of prompts can become
/// `[ModelResponse]` of answers with the same structure.
///
/// Conformances ship for arrays, dictionaries and optionals of trees, and for `String`,
/// `Int`, `Double` and `Bool` leaves. A struct of leaves conforms by listing its fields:
///
/// ```swift
/// struct Question<L: Sendable>: Sendable { var prompt: L; var contexts: [L]; var followUp: L? }
/// extension Question: TreeFlattenable where L: TreeLeaf {
///     func flattenTree(into leaves: inout [L]) -> TreeShape {
///         .record("Question", [prompt.flattenTree(into: &leaves),
///                              contexts.flattenTree(into: &leaves),
///                              followUp.flattenTree(into: &leaves)])
///     }
/// }
/// extension Question: TreeRebuildable where L: TreeRebuildableLeaf {
///     init(rebuildingShape shape: TreeShape, leaves: inout TreeLeafCursor<L>) throws {
///         let f = try shape.recordFields("Question", count: 3)
///         self.init(prompt: try L(rebuildingShape: f[0], leaves: &leaves),
///                   contexts: try [L](rebuildingShape: f[1], leaves: &leaves),
///                   followUp: try L?(rebuildingShape: f[2], leaves: &leaves))
///     }
/// }
/// ```

/// The structure of a tree with its leaves taken out.
public indirect enum TreeShape: Hashable, @unchecked Sendable {
    case leaf
    case none
    case some(TreeShape)
    case sequence([TreeShape])
    /// Keys in the order their values were flattened. (`AnyHashable` is not `Sendable`, but
    /// every key here came from a `Sendable & Hashable` dictionary key, hence unchecked.)
    case dictionary(keys: [AnyHashable], values: [TreeShape])
    case record(String, [TreeShape])

    /// The number of leaves a tree of this shape holds.
    public var leafCount: Int {
        switch self {
        case .leaf: return 1
        case .none: return 0
        case .some(let s): return s.leafCount
        case .sequence(let xs), .dictionary(_, let xs), .record(_, let xs):
            return xs.reduce(0) { $0 + $1.leafCount }
        }
    }

    /// The field shapes of a record named `name` with `count` fields, or a shape-mismatch error.
    public func recordFields(_ name: String, count: Int) throws -> [TreeShape] {
        guard case .record(let n, let fields) = self, n == name, fields.count == count else {
            throw TreeShapeMismatch(expected: "record \(name) with \(count) fields", found: self)
        }
        return fields
    }

    var kind: String {
        switch self {
        case .leaf: return "leaf"
        case .none: return "nil"
        case .some: return "optional value"
        case .sequence(let xs): return "array of \(xs.count)"
        case .dictionary(let ks, _): return "dictionary of \(ks.count)"
        case .record(let n, let xs): return "record \(n) with \(xs.count) fields"
        }
    }
}

/// A tree was rebuilt into a type whose structure differs from the shape it was given
/// (a conformance that flattens and rebuilds its fields differently).
public struct TreeShapeMismatch: Error, CustomStringConvertible, Sendable {
    public let expected: String
    public let found: TreeShape
    public init(expected: String, found: TreeShape) {
        self.expected = expected
        self.found = found
    }
    public var description: String {
        "cannot rebuild a tree: expected \(expected), found \(found.kind); "
            + "check that flattenTree and init(rebuildingShape:) list the same fields in the same order"
    }
}

/// Reads rebuilt leaves in flattening order.
public struct TreeLeafCursor<Leaf> {
    private let leaves: [Leaf]
    private var index = 0
    public init(_ leaves: [Leaf]) { self.leaves = leaves }
    public mutating func next() throws -> Leaf {
        guard index < leaves.count else {
            throw TreeShapeMismatch(expected: "leaf \(index + 1)", found: .none)
        }
        defer { index += 1 }
        return leaves[index]
    }
    public var isAtEnd: Bool { index == leaves.count }
}

/// A value that flattens into leaves and a shape. (Not `Sendable` itself, so that
/// dictionaries conform whatever their keys; `jit` asks for `Sendable` where it needs it.)
public protocol TreeFlattenable {
    associatedtype Leaf: Hashable & Sendable
    /// `false` for a leaf itself, `true` for any container: the `_has_nested_inputs` test.
    static var isNestedTree: Bool { get }
    /// Appends this value's leaves to `leaves` in a fixed order and returns its shape.
    func flattenTree(into leaves: inout [Leaf]) -> TreeShape
}

extension TreeFlattenable {
    public static var isNestedTree: Bool { true }

    public func flattened() -> (leaves: [Leaf], shape: TreeShape) {
        var leaves: [Leaf] = []
        let shape = flattenTree(into: &leaves)
        return (leaves, shape)
    }
}

/// A value that can be rebuilt from a shape and leaves (in flattening order).
public protocol TreeRebuildable {
    associatedtype RebuiltLeaf: Sendable
    init(rebuildingShape shape: TreeShape, leaves: inout TreeLeafCursor<RebuiltLeaf>) throws
}

extension TreeRebuildable {
    /// Rebuilds from all of `leaves`; leftover leaves are a mismatch too.
    public static func rebuild(shape: TreeShape, leaves: [RebuiltLeaf]) throws -> Self {
        var cursor = TreeLeafCursor(leaves)
        let value = try Self(rebuildingShape: shape, leaves: &cursor)
        guard cursor.isAtEnd else {
            throw TreeShapeMismatch(expected: "\(leaves.count) leaves consumed", found: shape)
        }
        return value
    }
}

/// A type that is a leaf of output trees (any answer type: text, a model response).
public protocol TreeRebuildableLeaf: TreeRebuildable, Sendable where RebuiltLeaf == Self {}

extension TreeRebuildableLeaf {
    public init(rebuildingShape shape: TreeShape, leaves: inout TreeLeafCursor<Self>) throws {
        guard shape == .leaf else { throw TreeShapeMismatch(expected: "leaf", found: shape) }
        self = try leaves.next()
    }
}

/// A type that is a leaf of both input and output trees.
public protocol TreeLeaf: TreeFlattenable, TreeRebuildableLeaf, Hashable where Leaf == Self {}

extension TreeLeaf {
    public static var isNestedTree: Bool { false }
    public func flattenTree(into leaves: inout [Self]) -> TreeShape {
        leaves.append(self)
        return .leaf
    }
}

extension String: TreeLeaf {}
extension Int: TreeLeaf {}
extension Double: TreeLeaf {}
extension Bool: TreeLeaf {}

extension Array: TreeFlattenable where Element: TreeFlattenable {
    public func flattenTree(into leaves: inout [Element.Leaf]) -> TreeShape {
        var shapes: [TreeShape] = []
        shapes.reserveCapacity(count)
        for element in self { shapes.append(element.flattenTree(into: &leaves)) }
        return .sequence(shapes)
    }
}

extension Array: TreeRebuildable where Element: TreeRebuildable {
    public init(rebuildingShape shape: TreeShape, leaves: inout TreeLeafCursor<Element.RebuiltLeaf>) throws {
        guard case .sequence(let shapes) = shape else {
            throw TreeShapeMismatch(expected: "array", found: shape)
        }
        var out: [Element] = []
        out.reserveCapacity(shapes.count)
        for s in shapes { out.append(try Element(rebuildingShape: s, leaves: &leaves)) }
        self = out
    }
}

extension Optional: TreeFlattenable where Wrapped: TreeFlattenable {
    public func flattenTree(into leaves: inout [Wrapped.Leaf]) -> TreeShape {
        switch self {
        case .none: return .none
        case .some(let w): return .some(w.flattenTree(into: &leaves))
        }
    }
}

extension Optional: TreeRebuildable where Wrapped: TreeRebuildable {
    public init(rebuildingShape shape: TreeShape, leaves: inout TreeLeafCursor<Wrapped.RebuiltLeaf>) throws {
        switch shape {
        case .none: self = .none
        case .some(let s): self = .some(try Wrapped(rebuildingShape: s, leaves: &leaves))
        default: throw TreeShapeMismatch(expected: "optional", found: shape)
        }
    }
}

/// Leaves in the dictionary's iteration order, keys kept in the shape. Two equal
/// dictionaries may iterate differently, so `basic`'s whole-tree memo can miss on them
/// (a recomputation, never a wrong answer); `advanced` memoizes leaves and is unaffected.
extension Dictionary: TreeFlattenable where Value: TreeFlattenable {
    public func flattenTree(into leaves: inout [Value.Leaf]) -> TreeShape {
        var keys: [AnyHashable] = []
        var shapes: [TreeShape] = []
        keys.reserveCapacity(count)
        shapes.reserveCapacity(count)
        for (k, v) in self {
            keys.append(AnyHashable(k))
            shapes.append(v.flattenTree(into: &leaves))
        }
        return .dictionary(keys: keys, values: shapes)
    }
}

extension Dictionary: TreeRebuildable where Value: TreeRebuildable {
    public init(rebuildingShape shape: TreeShape, leaves: inout TreeLeafCursor<Value.RebuiltLeaf>) throws {
        guard case .dictionary(let keys, let shapes) = shape else {
            throw TreeShapeMismatch(expected: "dictionary", found: shape)
        }
        var out: [Key: Value] = [:]
        out.reserveCapacity(keys.count)
        for (k, s) in zip(keys, shapes) {
            guard let key = k.base as? Key else {
                throw TreeShapeMismatch(expected: "dictionary keys of type \(Key.self)", found: shape)
            }
            out[key] = try Value(rebuildingShape: s, leaves: &leaves)
        }
        self = out
    }
}
