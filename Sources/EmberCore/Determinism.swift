/// Whether a module's result may be replayed instead of recomputed.
///
/// `jit` memoizes and coalesces only `.deterministic` modules: those whose output depends on
/// their input alone and whose side effects (logging, counters, writes) need not happen on
/// every call. Everything else runs on every call, side effects included.
///
/// - `.deterministic`: declared pure by its author (a parser, a formatter, a model call at
///   temperature 0).
/// - `.nondeterministic`: declared impure (sampling at temperature > 0, a clock, I/O whose
///   effect must happen each time). `jit` never replays it.
/// - `.undeclared` (the default): nobody said. `jit` treats it as nondeterministic: being
///   slow is recoverable, replaying a sample that should have been fresh is a silent bug.
///   Composites (`chain`, `retry`, ...) are undeclared too; declare them with
///   `declaring(.deterministic)` when every part is.
public enum Determinism: String, Sendable, Hashable, CaseIterable {
    case deterministic
    case nondeterministic
    case undeclared

    /// Whether `jit` may memoize and coalesce calls.
    public var allowsReplay: Bool { self == .deterministic }
}
