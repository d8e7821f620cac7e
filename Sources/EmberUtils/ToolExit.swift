/// The exit codes of ember-lint, ember-migrate and ember-bench: one table for the three
/// tools, each number meaning one thing (docs/cli.md).
///
/// | code | meaning | tools |
/// |---:|---|---|
/// | 0 | success: nothing found, nothing to change, no regression | all |
/// | 1 | the check failed: findings, files that would change, a regression | all |
/// | 2 | error: usage, configuration, input or runtime; the result cannot be trusted | all |
/// | 3 | no baseline yet to compare with (a first run) | ember-bench |
/// | 4 | incomparable: baselines exist, none from a matching machine | ember-bench |
/// | 5 | insufficient data to decide, no regression | ember-bench |
/// | 6 | some files were skipped (unreadable, undecodable, unparsable, or a rewrite abandoned); the others were done | ember-migrate |
///
/// When several apply, the more serious wins: 2, then 6, then 1, then 0.
public enum ToolExit: Int32, Sendable, CaseIterable {
    case success = 0
    case failure = 1
    case error = 2
    case noBaseline = 3
    case incomparable = 4
    case insufficient = 5
    case filesSkipped = 6

    public var meaning: String {
        switch self {
        case .success: "success"
        case .failure: "check failed (findings, changes or regression)"
        case .error: "error (usage, configuration, input or runtime)"
        case .noBaseline: "no baseline"
        case .incomparable: "incomparable (machine fingerprint differs)"
        case .insufficient: "insufficient data"
        case .filesSkipped: "files skipped"
        }
    }

    /// How serious an outcome is, for combining several: error, files skipped, failure,
    /// then the rest.
    var severity: Int {
        switch self {
        case .error: 4
        case .filesSkipped: 3
        case .failure: 2
        case .success: 0
        default: 1
        }
    }

    /// The more serious of two outcomes.
    public func combined(with other: ToolExit) -> ToolExit { other.severity > severity ? other : self }
}
