/// The exit codes of `ember-bench`, one per outcome a CI script must tell apart.
///
/// | code | meaning |
/// |---|---|
/// | 0 | pass: no regression (or nothing to gate) |
/// | 1 | regression: at least one confirmed regression, or the JIT rule rejected |
/// | 2 | error: bad input, unreadable store, a failing command |
/// | 3 | no baseline: nothing stored to compare against |
/// | 4 | incomparable: baseline runs exist but none from a matching machine |
/// | 64 | usage: bad command line (swift-argument-parser's validation code) |
public enum BenchExitCode: Int32, Sendable, CaseIterable {
    case pass = 0
    case regression = 1
    case error = 2
    case noBaseline = 3
    case incomparable = 4
    case usage = 64

    public var meaning: String {
        switch self {
        case .pass: "pass"
        case .regression: "regression"
        case .error: "error"
        case .noBaseline: "no baseline"
        case .incomparable: "incomparable (machine fingerprint differs)"
        case .usage: "usage error"
        }
    }
}

/// An error a user can cause, with what to do about it.
public struct BenchError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public var exitCode: BenchExitCode

    public init(_ message: String, exitCode: BenchExitCode = .error) {
        self.message = message
        self.exitCode = exitCode
    }

    public var description: String { message }
}
