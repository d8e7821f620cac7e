/// The exit codes of `ember-bench`, one per outcome a CI script must tell apart.
///
/// | code | meaning |
/// |---|---|
/// | 0 | pass: no regression, every benchmark decided (or `--allow-insufficient`) |
/// | 1 | regression: at least one regression, or the JIT rule rejected |
/// | 2 | error: bad command line, setup or input (missing fixtures, malformed import, unknown baseline name, unusable store, failing command) |
/// | 3 | no baseline: nothing stored yet to compare against (a first run) |
/// | 4 | incomparable: baseline runs exist but none from a matching machine |
/// | 5 | insufficient: no regression, but some benchmark had too little data to decide |
public enum BenchExitCode: Int32, Sendable, CaseIterable {
    case pass = 0
    case regression = 1
    case error = 2
    case noBaseline = 3
    case incomparable = 4
    case insufficient = 5

    public var meaning: String {
        switch self {
        case .pass: "pass"
        case .regression: "regression"
        case .error: "error"
        case .noBaseline: "no baseline"
        case .incomparable: "incomparable (machine fingerprint differs)"
        case .insufficient: "insufficient data"
        }
    }
}

/// An error a user can cause, with what to do about it. Every one exits 2 unless it
/// names another code (no baseline, incomparable).
public struct BenchError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public var exitCode: BenchExitCode

    public init(_ message: String, exitCode: BenchExitCode = .error) {
        self.message = message
        self.exitCode = exitCode
    }

    public var description: String { message }
}
