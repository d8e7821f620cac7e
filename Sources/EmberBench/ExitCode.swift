import EmberUtils
// ember-bench's exit codes are the tools' shared table (`ToolExit`, docs/cli.md): 0 pass,
// 1 regression (or the JIT rule rejected), 2 error, 3 no baseline, 4 incomparable,
// 5 insufficient data.

/// An error a user can cause, with what to do about it. Every one exits 2 unless it
/// names another code (no baseline, incomparable).
public struct BenchError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public var exitCode: ToolExit

    public init(_ message: String, exitCode: ToolExit = .error) {
        self.message = message
        self.exitCode = exitCode
    }

    public var description: String { message }
}
