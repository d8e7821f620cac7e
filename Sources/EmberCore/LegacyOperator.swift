/// The class-style operator of legacy Ember: an object whose behaviour is `forward`.
/// Kept so old operators keep working; new code defines modules.
public protocol Operator: AnyObject, Sendable {
    associatedtype Input: Sendable
    associatedtype Output: Sendable
    /// Defaults to the type name, as legacy Ember did.
    var name: String { get }
    /// Defaults to empty; legacy operators carried their docstring here.
    var documentation: String { get }
    func forward(_ input: Input) async throws -> Output
}

extension Operator {
    public var name: String { String(describing: Self.self) }
    public var documentation: String { "" }
}

/// Wraps a legacy operator as a module with the same name and documentation, so call
/// sites can move to the module form before the operator itself is rewritten.
public func migrateOperatorToModule<Op: Operator>(_ op: Op) -> Module<Op.Input, Op.Output> {
    Module(name: op.name, documentation: op.documentation) { input in
        try await op.forward(input)
    }
}
