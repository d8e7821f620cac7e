import ArgumentParser
import EmberUtils
import EmberBench
import EmberCommandLine
import EmberProject
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// `ember-bench --compare [options]` is the CI gate's one-line form; it is the `gate`
/// subcommand (the root's `--compare` flag only shows it in help and completions).
///
/// The entry point is synchronous: an `async` main parks the main thread with
/// `pthread_exit`, and in a static executable that unwind makes the unwinder sort the frame
/// descriptions of the whole binary first, about 17 ms at every start (and every worker
/// process starts the executable again). The command runs in a task; the main thread waits
/// until it exits the process.
@main
enum Entry {
    static func main() {
        var args = Array(CommandLine.arguments.dropFirst())
        // The external-command helper runs before anything else touches memory: its
        // size when it forks is the floor of the command's peak RSS.
        if args.first == "__measure-child" {
            ExternalCommand.helperMain(Array(args.dropFirst(args.count > 1 && args[1] == "--" ? 2 : 1)))
        }
        let subcommands = Set(EmberBenchCommand.configuration.subcommands.map { $0._commandName })
        let beforeTerminator = args.prefix { $0 != "--" }
        if let first = args.first, !subcommands.contains(first), let i = beforeTerminator.firstIndex(of: "--compare") {
            args.remove(at: i)
            args.insert("gate", at: 0)
        } else if args.first == "--compare" {
            args[0] = "gate"
        }
        let arguments = args
        Task.detached { await ToolCommandLine.main(EmberBenchCommand.self, tool: "ember-bench", arguments: arguments) }
        // ToolCommandLine.main ends the process with the command's exit code; nothing signals this.
        DispatchSemaphore(value: 0).wait()
    }
}

struct EmberBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ember-bench",
        abstract: "Benchmark runner, SQLite baseline store and regression gate.",
        usage: """
            ember-bench --compare [--db <db>] [--baseline <spec>] [--filter <name>] [--processes <n>] [--format <format>] ...
            ember-bench ab --base <ember-bench build> --head <ember-bench build> [options]
            ember-bench <subcommand>
            """,
        discussion: """
            `ember-bench --compare` is the one-line gate against stored history: it runs the registered suites \
            in fresh worker processes, stores the run, and compares it with the baseline (default: the baseline \
            named main, else the last 5 runs on branch main from this machine). `ember-bench ab` measures two \
            builds (or two commands) in alternating processes in one job: the recommended CI gate. \
            `ember-bench gate --help` and `ember-bench ab --help` list the options.

            Exit codes: 0 pass, 1 regression (or JIT rule rejected), 2 error (usage, setup, input, store), \
            3 no baseline yet, 4 incomparable (no baseline from a matching machine), 5 insufficient data.
            """,
        version: ToolCommandLine.versionText("ember-bench"),
        subcommands: [
            RunCommand.self, CompareCommand.self, ABCommand.self, ImportCommand.self, BaselineCommand.self,
            HistoryCommand.self, ReportCommand.self, GateCommand.self, WorkerCommand.self, StoreCommand.self,
        ])

    // `--compare` is rewritten to the `gate` subcommand before parsing (Entry); declared
    // here so that help and the shell completions show it.
    @Flag(help: "The CI gate: run the suites, store the run and gate it against stored history (`gate`; its options follow).")
    var compare = false
}

/// Runs `body`, turning an error into a message on stderr and its exit code: a
/// BenchError carries its code; anything else unexpected is an error (2), never the
/// regression code.
func guarded(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let e as BenchError {
        StandardStream.writeAll(ToolCommandLine.errorText("ember-bench", e.message), to: 2)
        throw ExitCode(e.exitCode.rawValue)
    } catch let e as ExitCode {
        throw e
    } catch let e as CleanExit {
        throw e
    } catch {
        StandardStream.writeAll(ToolCommandLine.errorText("ember-bench", "\(error)"), to: 2)
        throw ExitCode(ToolExit.error.rawValue)
    }
}

/// This executable, for worker processes and the external-command helper.
func selfExecutable() throws -> String {
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return exe }
    throw BenchError("cannot find this executable (/proc/self/exe) to start worker processes")
}

// MARK: option groups

struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: "The store: a SQLite file (or sqlite:PATH), or a PostgreSQL URL / keyword string (default: $EMBER_BENCH_DB or ./ember-bench.sqlite).")
    var path: String?

    var resolvedPath: String { path ?? ProcessInfo.processInfo.environment["EMBER_BENCH_DB"] ?? "ember-bench.sqlite" }

    func open(_ mode: BenchStore.OpenMode) throws -> BenchStore { try BenchStore(path: resolvedPath, mode: mode) }
}

struct MeasureOptions: ParsableArguments {
    @Option(name: .customLong("filter"), help: "Only benchmarks whose name contains this (repeatable).")
    var filters: [String] = []
    @Option(name: [.customLong("samples"), .customLong("iterations")], help: "Timed samples per benchmark per process (at most).")
    var samples = 50
    @Option(help: "Untimed samples per benchmark per process, after calibration.") var warmup = 1
    @Option(help: "Fresh worker processes per benchmark (each is one observation of the run-to-run spread).")
    var processes = 5
    @Option(name: .customLong("min-sample-time"), help: "Calibrate each sample to at least this many milliseconds.")
    var minSampleTime = 1.0
    @Option(name: .customLong("max-process-time"), help: "Time budget in milliseconds per benchmark per process.")
    var maxProcessTime = 300.0

    func validated() throws -> RunnerOptions {
        guard samples >= 1 else { throw BenchError("--samples must be at least 1") }
        guard warmup >= 0 else { throw BenchError("--warmup cannot be negative") }
        guard processes >= 1 else { throw BenchError("--processes must be at least 1") }
        guard minSampleTime >= 0, minSampleTime <= 10_000 else { throw BenchError("--min-sample-time: 0 to 10000 ms") }
        guard maxProcessTime > 0 else { throw BenchError("--max-process-time must be positive") }
        var o = RunnerOptions(iterations: samples, warmup: warmup)
        o.minimumSampleNs = UInt64(minSampleTime * 1e6)
        o.maximumProcessNs = UInt64(maxProcessTime * 1e6)
        o.minimumIterations = min(o.minimumIterations, samples)
        return o
    }

    func selected() throws -> [(name: String, benchmark: Benchmark)] {
        let s = BenchmarkSelection.select(BenchmarkRegistry.suites, filters: filters)
        if s.isEmpty {
            let all = BenchmarkSelection.select(BenchmarkRegistry.suites, filters: []).map(\.name)
            throw BenchError("no benchmark matches --filter \(filters.joined(separator: ", ")); known: \(all.joined(separator: ", "))")
        }
        return s
    }

    /// Checks the options and sets every selected benchmark up once in this process:
    /// a setup error (missing fixtures) exits 2 before anything is measured or stored.
    func prepare() async throws -> (options: RunnerOptions, names: [String]) {
        let options = try validated()
        let selected = try selected()
        _ = try BenchmarkRunner.slowdownsFromEnvironment()
        try await Workflow.preflight(selected)
        return (options, selected.map(\.name))
    }

    /// `processes` fresh worker processes of this executable.
    func measure(_ prepared: (options: RunnerOptions, names: [String]), progress: ProgressLine) throws -> [BenchmarkSamples] {
        let pool = WorkerPool(executable: try selfExecutable(), options: prepared.options)
        return try Workflow.measureInWorkers(prepared.names, pool: pool, processes: processes, progress: progress)
    }
}

struct GateOptions: ParsableArguments {
    @Option(help: "Baseline: a name (set with `baseline set`, else a branch), name:N, branch:B, commit:SHA or run:ID (default: main).")
    var baseline: String?
    @Option(help: "Ratio beyond which a significant change counts.") var threshold = 1.2
    @Option(
        name: .customLong("threshold-for"),
        help: "Per-benchmark threshold, NAME=RATIO (repeatable).") var thresholdOverrides: [String] = []
    @Option(help: "Error rate over all benchmarks of a compare (Holm: the chance that an unchanged compare fails).") var alpha = 0.01
    @Option(help: "Multiple-testing correction: holm (family-wise), fdr (Benjamini–Hochberg) or none.")
    var correction = "holm"
    @Option(help: "A branch baseline is its last K matching runs.") var last = 5
    @Option(help: "Runs of the baseline's branch used for the run-to-run spread.") var history = 10
    @Flag(help: "Compare with runs from another machine fingerprint too.") var ignoreMachine = false
    @Flag(help: "Too little data to decide is a pass (exit 0) instead of exit 5.") var allowInsufficient = false

    func spec() throws -> (spec: BaselineSpec, isDefault: Bool) {
        (try BaselineSpec.parse(baseline ?? BaselineSpec.defaultText), baseline == nil)
    }

    func validate() throws {
        do {
            _ = try spec()
            _ = try policy()
        } catch let e as BenchError { throw ValidationError(e.message) }
    }

    func policy() throws -> GatePolicy {
        var p = GatePolicy()
        guard threshold > 1 else { throw BenchError("--threshold must be above 1 (e.g. 1.2), got \(threshold)") }
        p.threshold = threshold
        for item in thresholdOverrides {
            guard let eq = item.lastIndex(of: "="), let value = Double(item[item.index(after: eq)...]), value > 1 else {
                throw BenchError("--threshold-for \"\(item)\": expected NAME=RATIO with RATIO above 1")
            }
            p.thresholdOverrides[String(item[..<eq])] = value
        }
        guard alpha > 0 && alpha < 0.5 else { throw BenchError("--alpha must be between 0 and 0.5, got \(alpha)") }
        guard let c = MultipleTestingCorrection(rawValue: correction) else {
            throw BenchError("--correction \(correction): expected holm, fdr or none")
        }
        guard last >= 1, history >= 0 else { throw BenchError("--last must be at least 1 and --history not negative") }
        p.alpha = alpha
        p.correction = c
        p.allowInsufficient = allowInsufficient
        return p
    }
}

struct OutputOptions: ParsableArguments {
    @Option(help: "Output on stdout: table, markdown, json or junit.") var format = "table"
    @Option(name: .customLong("junit-out"), help: "Also write JUnit XML to this file.") var junitOut: String?
    @Option(name: .customLong("markdown-out"), help: "Also write Markdown to this file.") var markdownOut: String?
    @Option(name: .customLong("json-out"), help: "Also write JSON to this file.") var jsonOut: String?
    @Flag(help: "No progress bar even on a terminal.") var quiet = false

    var progress: ProgressLine { ProgressLine(tool: "ember-bench", quiet: quiet, after: 0) }

    func validate() throws {
        do { _ = try outputFormat() } catch let e as BenchError { throw ValidationError(e.message) }
    }

    func outputFormat() throws -> OutputFormat {
        guard let f = OutputFormat(rawValue: format) else {
            throw BenchError("--format \(format): expected table, markdown, json or junit")
        }
        return f
    }

    func emit(_ render: (OutputFormat) -> String) throws {
        let f = try outputFormat()
        StandardStream.writeAll(render(f), to: 1)
        for (path, extra) in [(junitOut, OutputFormat.junit), (markdownOut, .markdown), (jsonOut, .json)] {
            guard let path else { continue }
            do {
                try Data(render(extra).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                throw BenchError("cannot write \(path): \(error)")
            }
        }
    }

    func emit(_ report: ComparisonReport) throws { try emit { report.render($0) } }
}

struct RevisionOptions: ParsableArguments {
    @Option(help: "Commit to record (default: git HEAD, or the imported file's).") var commit: String?
    @Option(help: "Branch to record (default: the git branch, or the imported file's).") var branch: String?

    func resolve(_ fromFile: SourceRevision?) -> SourceRevision {
        // Both given: git is not asked (nor is the tree's dirty state).
        var r = fromFile ?? (commit != nil && branch != nil ? SourceRevision(commit: nil, branch: nil, dirty: false) : SourceRevision.current())
        if let commit { r.commit = commit }
        if let branch { r.branch = branch }
        return r
    }

    /// `resolve(nil)`, started now on a thread of its own: git runs while files are read.
    func resolveInBackground() -> BackgroundValue<SourceRevision> {
        let options = self
        return BackgroundValue { options.resolve(nil) }
    }
}

/// A value computed on a thread of its own; `value` waits for it.
final class BackgroundValue<T: Sendable>: Sendable {
    private let result = Monitor<T?>(nil)

    init(_ body: @escaping @Sendable () -> T) {
        let result = self.result
        ProjectParallel.detach { let v = body(); result.update { $0 = v } }.detach()
    }

    var value: T { result.wait { $0 } }
}

// MARK: gate (--compare)

struct GateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate", abstract: "Run the suites in worker processes, store the run and gate it against stored history (what `ember-bench --compare` runs).")

    @OptionGroup var store: StoreOptions
    @OptionGroup var measure: MeasureOptions
    @OptionGroup var gate: GateOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var revision: RevisionOptions

    func run() async throws {
        try await guarded {
            let policy = try gate.policy()
            let (spec, isDefault) = try gate.spec()
            // Setup, then the store, then measuring: a bad fixture folder or a file that
            // is not a store fails before anything is measured.
            let prepared = try await measure.prepare()
            let benchStore = try store.open(.create)
            let candidate = try measure.measure(prepared, progress: output.progress)
            let machine = MachineFingerprint.current()
            let runID = try benchStore.insert(
                NewRun(revision: revision.resolve(nil), machine: machine, source: "ember-bench", results: candidate))
            let resolution = try benchStore.resolveBaseline(
                spec, machineDigest: machine.digest, lastK: gate.last, history: gate.history, excludingRun: runID,
                ignoreMachine: gate.ignoreMachine, isDefault: isDefault)
            let byName = Dictionary(candidate.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            let report = Workflow.gate(
                candidate: byName, baseline: resolution, policy: policy,
                candidateLabel: try benchStore.run(id: runID)!.shortDescription)
            try output.emit(report)
            throw ExitCode(report.outcome.exitCode.rawValue)
        }
    }
}

// MARK: run

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the registered suites in worker processes, or time a command given after --, and store the run.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var measure: MeasureOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var revision: RevisionOptions
    @Flag(help: "Print the results without storing them.") var noStore = false
    @Flag(help: "Let the external command's output through.") var showOutput = false
    @Flag(help: "Accept a non-zero exit status of the external command.") var ignoreFailure = false
    @Option(help: "Runs of the external command (each is a fresh process).") var runs = 20
    @Option(help: "Benchmark name for the external command.") var name: String?
    @Flag(help: "List the registered benchmarks and exit.") var list = false
    @Flag(help: "Print every raw sample as JSON.") var rawJSON = false
    @Argument(parsing: .postTerminator, help: "A command to time instead of the suites.") var command: [String] = []

    func run() async throws {
        try await guarded {
            if list {
                for entry in BenchmarkSelection.select(BenchmarkRegistry.suites, filters: measure.filters) {
                    print(entry.name)
                }
                return
            }
            let format = try output.outputFormat()
            let prepared = command.isEmpty ? try await measure.prepare() : nil
            // Open (or create) the store before measuring: a bad --db fails at once.
            let s = noStore ? nil : try store.open(.create)
            let results: [BenchmarkSamples]
            let source: String
            if let prepared {
                results = try measure.measure(prepared, progress: output.progress)
                source = "ember-bench"
            } else {
                guard runs >= 1 else { throw BenchError("--runs must be at least 1") }
                results = try ExternalCommand(arguments: command, showOutput: showOutput).measure(
                    runs: runs, warmup: measure.warmup, ignoreFailure: ignoreFailure, name: name, progress: output.progress)
                source = "command"
            }
            var runID: Int64?
            var label = "not stored"
            if let s {
                let id = try s.insert(
                    NewRun(revision: revision.resolve(nil), machine: .current(), source: source, results: results))
                runID = id
                label = "stored as \(try s.run(id: id)!.shortDescription) in \(s.path)"
            }
            if rawJSON {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                StandardStream.writeAll(bytes: try encoder.encode(results), to: 1)
                StandardStream.writeAll("\n", to: 1)
                return
            }
            let summary = RunSummary(label: label, runID: runID, benchmarks: results)
            StandardStream.writeAll(summary.render(format), to: 1)
        }
    }
}

// MARK: compare

struct CompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Gate a stored candidate run against a baseline (read-only), or two builds/commands measured in one job (--interleave: see `ab`).")

    @OptionGroup var store: StoreOptions
    @OptionGroup var gate: GateOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "Candidate run id, or latest.") var candidate = "latest"
    @Option(help: "Gate kind: regression (per benchmark) or jit (p20 of speedups ≥ 2.0 over ≥ 25 cases).")
    var kind = "regression"
    @Option(name: .customLong("filter"), help: "Only benchmarks whose name contains this (repeatable).")
    var filters: [String] = []
    @Flag(help: "Same-job A/B, as `ember-bench ab`: --build-a/--build-b or --command-a/--command-b.")
    var interleave = false
    @Option(name: .customLong("command-a"), help: "Baseline command line (with --interleave; run by /bin/sh -c).")
    var commandA: String?
    @Option(name: .customLong("command-b"), help: "Candidate command line (with --interleave).") var commandB: String?
    @Option(name: .customLong("build-a"), help: "Baseline ember-bench build (with --interleave).") var buildA: String?
    @Option(name: .customLong("build-b"), help: "Candidate ember-bench build (with --interleave).") var buildB: String?
    @Option(help: "Processes per side with --build-a/--build-b.") var processes = 10
    @Option(name: [.customLong("samples"), .customLong("iterations")], help: "Samples per benchmark per process with --build-a/--build-b.")
    var samples = 50
    @Option(help: "Runs per command with --command-a/--command-b.") var runs = 20
    @Option(help: "Warm-up per command or per process.") var warmup = 1
    @Flag(help: "Accept non-zero exit statuses of the interleaved commands.") var ignoreFailure = false

    func run() async throws {
        try await guarded {
            if interleave {
                var ab = ABSettings()
                ab.base = buildA
                ab.head = buildB
                ab.baseCommand = commandA
                ab.headCommand = commandB
                ab.filters = filters
                ab.processes = processes
                ab.samples = samples
                ab.runs = runs
                ab.warmup = warmup
                ab.ignoreFailure = ignoreFailure
                try await ab.run(gate: gate, output: output, storePath: nil)
                return
            }
            let s = try store.open(.readOnly)
            let candidateRun: RunRecord
            if candidate == "latest" {
                guard let latest = try s.runs(limit: 1).first else {
                    throw BenchError("\(s.path) has no runs yet; run `ember-bench run` or `ember-bench import` first", exitCode: .noBaseline)
                }
                candidateRun = latest
            } else {
                guard let id = Int64(candidate.hasPrefix("run:") ? String(candidate.dropFirst(4)) : candidate) else {
                    throw BenchError("--candidate \(candidate): expected a run id or latest")
                }
                guard let r = try s.run(id: id) else {
                    throw BenchError("no run \(candidate) in \(s.path); `ember-bench history` lists runs")
                }
                candidateRun = r
            }
            func keep(_ n: String) -> Bool { filters.isEmpty || filters.contains { n.contains($0) } }
            let candidateSamples = try s.samples(runID: candidateRun.id).filter { keep($0.key) }
            let (spec, isDefault) = try gate.spec()
            var resolution = try s.resolveBaseline(
                spec, machineDigest: candidateRun.machineDigest, lastK: gate.last, history: gate.history,
                excludingRun: candidateRun.id, ignoreMachine: gate.ignoreMachine, isDefault: isDefault)
            if case .found(var data) = resolution {
                data.runs = data.runs.map { $0.filter { keep($0.key) } }
                data.spread = data.spread.map { $0.filter { keep($0.key) } }
                resolution = .found(data)
            }
            switch kind {
            case "regression":
                let report = Workflow.gate(
                    candidate: candidateSamples, baseline: resolution, policy: try gate.policy(),
                    candidateLabel: candidateRun.shortDescription)
                try output.emit(report)
                throw ExitCode(report.outcome.exitCode.rawValue)
            case "jit":
                switch resolution {
                case .noBaseline(let why): throw BenchError(why, exitCode: .noBaseline)
                case .incomparable(let why): throw BenchError(why, exitCode: .incomparable)
                case .found(let data):
                    let speedups = Workflow.speedups(baseline: data.runs[0], candidate: candidateSamples)
                    let rule = JITAcceptance.evaluate(speedups: speedups.map(\.1))
                    try output.emit { rule.render($0, speedups: speedups, baselineLabel: data.label, candidateLabel: candidateRun.shortDescription) }
                    throw ExitCode(rule.accepted ? ToolExit.success.rawValue : ToolExit.failure.rawValue)
                }
            default:
                throw BenchError("--kind \(kind): expected regression or jit")
            }
        }
    }
}

// MARK: ab (same-job A/B)

struct ABSettings {
    var base: String?
    var head: String?
    var baseCommand: String?
    var headCommand: String?
    var filters: [String] = []
    var processes = 10
    var samples = 50
    var runs = 20
    var warmup = 1
    var minSampleTime = 1.0
    var maxProcessTime = 300.0
    var ignoreFailure = false

    func run(gate: GateOptions, output: OutputOptions, storePath: String?, revision: RevisionOptions? = nil) async throws {
        let policy = try gate.policy()
        // Open the store for the head run before measuring: a bad --db fails at once.
        let store = try storePath.map { try BenchStore(path: $0, mode: .create) }
        let baseSide: [String: BenchmarkSamples]
        let headSide: [String: BenchmarkSamples]
        let baseLabel: String
        let headLabel: String
        let source: String
        if let base, let head {
            guard baseCommand == nil && headCommand == nil else {
                throw BenchError("give two builds (--base/--head) or two commands (--base-command/--head-command), not both")
            }
            guard processes >= 2 else { throw BenchError("--processes must be at least 2 per side for a same-job A/B") }
            var options = RunnerOptions(iterations: samples, warmup: warmup)
            guard samples >= 1, warmup >= 0 else { throw BenchError("--samples must be at least 1 and --warmup not negative") }
            options.minimumSampleNs = UInt64(minSampleTime * 1e6)
            options.maximumProcessNs = UInt64(maxProcessTime * 1e6)
            options.minimumIterations = min(options.minimumIterations, samples)
            for path in [base, head] where !FileManager.default.isExecutableFile(atPath: path) {
                throw BenchError("\(path) is not an executable; give the path of an ember-bench build")
            }
            (baseSide, headSide) = try Workflow.measureAB(
                base: WorkerPool(executable: base, options: options), head: WorkerPool(executable: head, options: options),
                filters: filters, processes: processes, progress: output.progress)
            baseLabel = "base \(base) (same job, \(processes) processes alternating with head)"
            headLabel = "head \(head)"
            source = "ember-bench ab"
        } else if let a = baseCommand, let b = headCommand {
            guard base == nil && head == nil else {
                throw BenchError("give two builds (--base/--head) or two commands (--base-command/--head-command), not both")
            }
            guard runs >= 2 else { throw BenchError("--runs must be at least 2 per side") }
            let (ma, mb) = try ExternalCommand.interleave(
                .shell(a), .shell(b), runs: runs, warmup: warmup, ignoreFailure: ignoreFailure, progress: output.progress)
            func byName(_ ms: [CommandMeasurement]) -> [String: BenchmarkSamples] {
                Dictionary(ExternalCommand.samples(name: "command", ms).map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
            }
            baseSide = byName(ma)
            headSide = byName(mb)
            baseLabel = "A: \(a) (same job, \(runs) runs alternating with B)"
            headLabel = "B: \(b)"
            source = "command ab"
        } else {
            throw BenchError(
                "same-job A/B needs two ember-bench builds (--base and --head; compare --interleave: --build-a/--build-b) "
                    + "or two commands (--base-command and --head-command; compare --interleave: --command-a/--command-b)")
        }
        var candidateLabel = headLabel
        if let store {
            let id = try store.insert(
                NewRun(
                    revision: (revision ?? RevisionOptions()).resolve(nil), machine: .current(), source: source,
                    label: "head of a same-job A/B", results: headSide.keys.sorted().map { headSide[$0]! }))
            candidateLabel += "; stored as \(try store.run(id: id)!.shortDescription) in \(store.path)"
        }
        let report = Gate.compare(
            candidate: headSide, baseline: BaselineData(runs: [baseSide], label: baseLabel, sameJob: true), policy: policy,
            candidateLabel: candidateLabel)
        try output.emit(report)
        throw ExitCode(report.outcome.exitCode.rawValue)
    }
}

struct ABCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ab",
        abstract: "Same-job A/B: measure a base and a head build (or two commands) in alternating processes and gate head against base.",
        discussion: """
            The recommended CI gate: both builds run in the same job, worker processes alternating \
            (base, head, head, base, …), so whatever slows the machine during the job slows both sides. \
            With --db the head run is also stored, for `history` and `report` trends (keep the store \
            between jobs as an artifact or cache).
            """)

    @Option(help: "The base ember-bench build (e.g. the merge base's .build/release/ember-bench).") var base: String?
    @Option(help: "The head ember-bench build.") var head: String?
    @Option(name: .customLong("base-command"), help: "Base command line (run by /bin/sh -c), instead of builds.")
    var baseCommand: String?
    @Option(name: .customLong("head-command"), help: "Head command line.") var headCommand: String?
    @Option(name: .customLong("filter"), help: "Only benchmarks whose name contains this (repeatable).")
    var filters: [String] = []
    @Option(help: "Worker processes per side (10: the gate's detection needs them, see docs/ember-bench.md).")
    var processes = 10
    @Option(name: [.customLong("samples"), .customLong("iterations")], help: "Samples per benchmark per process (at most).")
    var samples = 50
    @Option(help: "Runs per side for commands (each a fresh process).") var runs = 20
    @Option(help: "Warm-up samples per benchmark per process, or warm-up runs per command.") var warmup = 1
    @Option(name: .customLong("min-sample-time"), help: "Calibrate each sample to at least this many milliseconds.")
    var minSampleTime = 1.0
    @Option(name: .customLong("max-process-time"), help: "Time budget in milliseconds per benchmark per process.")
    var maxProcessTime = 300.0
    @Flag(help: "Accept non-zero exit statuses of the commands.") var ignoreFailure = false
    @Option(name: .customLong("db"), help: "Also store the head run in this store (for trends).") var db: String?
    @OptionGroup var gate: GateOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var revision: RevisionOptions

    func run() async throws {
        try await guarded {
            var ab = ABSettings()
            ab.base = base
            ab.head = head
            ab.baseCommand = baseCommand
            ab.headCommand = headCommand
            ab.filters = filters
            ab.processes = processes
            ab.samples = samples
            ab.runs = runs
            ab.warmup = warmup
            ab.minSampleTime = minSampleTime
            ab.maxProcessTime = maxProcessTime
            ab.ignoreFailure = ignoreFailure
            if gate.baseline != nil { throw BenchError("ab compares head with base; --baseline does not apply") }
            try await ab.run(gate: gate, output: output, storePath: db, revision: revision)
        }
    }
}

// MARK: import

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Store pytest-benchmark, Google Benchmark or hyperfine JSON files as runs (each file one run, or all one run with --one-run).")

    @OptionGroup var store: StoreOptions
    @OptionGroup var revision: RevisionOptions
    @Option(name: .customLong("input-format"), help: "The files' format: pytest-benchmark, google-benchmark or hyperfine (default: detected).")
    var inputFormat: String?
    @Option(name: .customLong("format"), help: ArgumentHelp("Old name of --input-format.", visibility: .hidden)) var oldFormat: String?
    @Flag(
        name: .customLong("one-run"),
        help: "All files are repetitions of one job (one process each) and form one run.") var oneRun = false
    @Flag(help: "Read and check the files, store nothing.") var check = false
    @Argument(help: "JSON files to import.") var files: [String] = []

    func run() async throws {
        try await guarded {
            guard !files.isEmpty else { throw BenchError("give at least one JSON file to import") }
            var chosen: ImportFormat?
            if oldFormat != nil {
                StandardStream.writeAll("ember-bench: warning: import --format is now --input-format (--format names output formats); the old name will go\n", to: 2)
            }
            if let format = inputFormat ?? oldFormat {
                guard let f = ImportFormat(rawValue: format) else {
                    throw BenchError("--input-format \(format): expected pytest-benchmark, google-benchmark or hyperfine")
                }
                chosen = f
            }
            if check || oneRun {
                // Every file parsed before anything is written: --one-run merges them.
                let loaded = try files.map { try Importer.load(path: $0, format: chosen) }
                if check {
                    for (file, run) in zip(files, loaded) {
                        print("\(file): \(run.format.rawValue), \(run.benchmarks.count) benchmarks, \(run.benchmarks.reduce(0) { $0 + $1.samples.count }) samples")
                    }
                    return
                }
                let s = try store.open(.create)
                let merged = try Importer.merge(loaded, files: files)
                let id = try s.insert(
                    NewRun(
                        revision: revision.resolve(merged.revision), machine: merged.machine ?? .current(),
                        source: merged.format.rawValue, label: "\(files.count) files", createdNs: merged.createdNs,
                        results: merged.benchmarks))
                print(
                    "imported \(files.count) files (\(merged.format.rawValue), \(merged.benchmarks.count) benchmarks, one process per file) as \(try s.run(id: id)!.shortDescription)")
                return
            }
            // Streaming: each file is parsed on another thread while its benchmarks are
            // written; all files are one transaction, so one bad file imports nothing.
            // A store that does not exist yet is built beside its place and appears whole.
            // The first file is parsed, and git asked, while the store opens.
            var firstReading: Importer.Reading? = Importer.startReading(path: files[0], format: chosen)
            let gitRevision = revision.resolveInBackground()
            if let staged = BenchStore.staged(path: store.resolvedPath) {
                let lines: [String]
                do {
                    lines = try importStreaming(into: staged.store, format: chosen, first: &firstReading, git: gitRevision)
                } catch {
                    staged.discard()
                    throw error
                }
                if try staged.publish() {
                    for line in lines { print(line) }
                    return
                }
                // Another process created the store meanwhile (or the file system cannot
                // link): import the usual way.
            }
            let existed = FileManager.default.fileExists(atPath: store.resolvedPath)
            let s = try store.open(.create)
            do {
                for line in try importStreaming(into: s, format: chosen, first: &firstReading, git: gitRevision) { print(line) }
            } catch {
                if !existed { BenchStore.removeIfEmpty(path: s.path) }
                throw error
            }
        }
    }

    /// Imports every file as one run, all in one transaction; returns the lines to print.
    /// `first`: the first file's reading, when started already (taken).
    func importStreaming(
        into s: BenchStore, format chosen: ImportFormat?, first: inout Importer.Reading?, git gitRevision: BackgroundValue<SourceRevision>
    ) throws -> [String] {
        var started = first.take()
        let machine = MachineFingerprint.current()
        let imported = try s.write { () throws -> [(Int64, ImportedRun, Int)] in
            var out: [(Int64, ImportedRun, Int)] = []
            for file in files {
                let writer = try s.beginRun(
                    NewRun(
                        revision: SourceRevision(commit: nil, branch: nil, dirty: false), machine: machine,
                        source: "import", label: ProjectPath.lastComponent(file), results: []))
                let meta: ImportedRun
                do {
                    let reading = started.take() ?? Importer.startReading(path: file, format: chosen)
                    meta = try reading.consume { batch, medians in
                        try writer.add(contentsOf: batch, medians: medians)
                    }
                    let fileRevision: SourceRevision
                    if let r = meta.revision {
                        fileRevision = revision.resolve(r)
                    } else {
                        fileRevision = gitRevision.value
                    }
                    // (The writer's last rows go in here: a name given twice may show now.)
                    try writer.finish(
                        revision: fileRevision, machine: meta.machine ?? machine,
                        createdNs: meta.createdNs ?? Int64(Date().timeIntervalSince1970 * 1e9), source: meta.format.rawValue)
                } catch let e as BenchError where !e.message.hasPrefix(file) {
                    throw BenchError("\(file): \(e.message); nothing was imported")
                }
                out.append((writer.runID, meta, writer.written))
            }
            return out
        }
        return try imported.enumerated().map { i, entry in
            let (id, meta, count) = entry
            return "imported \(files[i]) (\(meta.format.rawValue), \(count) benchmarks) as \(try s.run(id: id)!.shortDescription)"
        }
    }
}

// MARK: baseline

struct BaselineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline", abstract: "Name runs as baselines (`--baseline NAME` then compares with them).",
        subcommands: [Set.self, List.self, Remove.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Name a run (default: the latest) as baseline NAME.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Baseline name, e.g. main.") var name: String
        @Option(help: "Run id, or latest.") var run = "latest"

        func run() async throws {
            try await guarded {
                try BaselineSpec.validateName(name)
                let s = try store.open(.readWrite)
                let id: Int64
                if run == "latest" {
                    guard let latest = try s.runs(limit: 1).first else {
                        throw BenchError("\(s.path) has no runs yet; nothing to name")
                    }
                    id = latest.id
                } else {
                    guard let parsed = Int64(run.hasPrefix("run:") ? String(run.dropFirst(4)) : run) else {
                        throw BenchError("--run \(run): expected a run id or latest")
                    }
                    id = parsed
                }
                try s.setBaseline(name, runID: id)
                print("baseline \(name) = \(try s.run(id: id)!.shortDescription)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List named baselines.")
        @OptionGroup var store: StoreOptions
        func run() async throws {
            try await guarded {
                for (name, run) in try store.open(.readOnly).baselines() { print("\(name)\t\(run.shortDescription)") }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Forget a baseline name (the run stays).")
        @OptionGroup var store: StoreOptions
        @Argument var name: String
        func run() async throws {
            try await guarded {
                let s = try store.open(.readWrite)
                if try !s.removeBaseline(name) { throw try s.unknownBaselineError(name) }
            }
        }
    }
}

// MARK: history

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "One benchmark across runs with its change points (without NAME: list runs). Read-only.")
    @OptionGroup var store: StoreOptions
    @Argument(help: "Benchmark name.") var name: String?
    @Option(help: "At most this many runs.") var limit = 50
    @Option(help: "table or json.") var format = "table"
    @Option(name: .customLong("min-step"), help: "Smallest step (ratio) marked as a change point.") var minStep = 1.02

    func run() async throws {
        try await guarded {
            guard format == "table" || format == "json" else { throw BenchError("--format \(format): expected table or json") }
            guard minStep > 1 else { throw BenchError("--min-step must be above 1, e.g. 1.02") }
            let s = try store.open(.readOnly)
            guard let name else {
                let rows = try s.runs(limit: limit).map { r in
                    [
                        String(r.id), HistoryText.date(r.createdNs), r.revision.commit.map { String($0.prefix(10)) } ?? "–",
                        r.revision.branch ?? "–", r.source, String(r.benchmarkCount), String(r.machineDigest.prefix(8)),
                    ]
                }
                print(HistoryText.table(["run", "date", "commit", "branch", "source", "benchmarks", "machine"], rows), terminator: "")
                return
            }
            let history = try s.history(benchmark: name, limit: limit)
            if history.isEmpty {
                let known = try s.benchmarkNames()
                let near = known.filter { $0.contains(name) }.prefix(5)
                throw BenchError(
                    "no benchmark named \"\(name)\" in \(s.path)"
                        + (near.isEmpty ? "" : "; did you mean: \(near.joined(separator: ", "))"))
            }
            let baselines = try s.baselines()
            StandardStream.writeAll(
                HistoryText.render(name: name, history: history, baselines: baselines, json: format == "json", minimumStep: minStep), to: 1)
        }
    }
}

// MARK: report

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Write a self-contained HTML page with a trend chart and change points per benchmark. Read-only.")
    @OptionGroup var store: StoreOptions
    @Option(help: "Output file.") var html: String
    @Option(help: "Runs per benchmark to chart.") var last = 30
    @Option(help: "Baseline the latest run is compared with and marked (default: main).") var baseline: String?
    @Option(name: .customLong("filter"), help: "Only benchmarks whose name contains this (repeatable).")
    var filters: [String] = []

    func run() async throws {
        try await guarded {
            let s = try store.open(.readOnly)
            let page = try HTMLReport.build(
                store: s, lastRuns: last, baseline: try BaselineSpec.parse(baseline ?? BaselineSpec.defaultText),
                isDefaultBaseline: baseline == nil, filters: filters)
            do {
                try Data(page.utf8).write(to: URL(fileURLWithPath: html), options: .atomic)
            } catch {
                throw BenchError("cannot write \(html): \(error)")
            }
            print("wrote \(html)")
        }
    }
}

// MARK: hidden helpers

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Measure benchmarks once in this process and print the samples as JSON (started by the gate).",
        shouldDisplay: false)
    @Flag(help: "Print the registered benchmark names as JSON.") var list = false
    @Option(name: .customLong("benchmark"), help: "A benchmark to measure (repeatable), in order.") var benchmarks: [String] = []
    @Option(name: .customLong("batch"), help: "NAME=CALLS: reuse an inner-loop count.") var batches: [String] = []
    @Option var samples = 50
    @Option var warmup = 1
    @Option(name: .customLong("min-sample-ns")) var minSampleNs: UInt64 = 1_000_000
    @Option(name: .customLong("max-process-ns")) var maxProcessNs: UInt64 = 300_000_000

    func run() async throws {
        try await guarded {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            if list {
                let names = BenchmarkSelection.select(BenchmarkRegistry.suites, filters: []).map(\.name)
                StandardStream.writeAll(bytes: try encoder.encode(names), to: 1)
                return
            }
            var fixed: [String: Int] = [:]
            for item in batches {
                guard let eq = item.lastIndex(of: "="), let k = Int(item[item.index(after: eq)...]), k >= 1 else {
                    throw BenchError("--batch \(item): expected NAME=CALLS")
                }
                fixed[String(item[..<eq])] = k
            }
            var options = RunnerOptions(iterations: samples, warmup: warmup)
            options.minimumSampleNs = minSampleNs
            options.maximumProcessNs = maxProcessNs
            options.minimumIterations = min(options.minimumIterations, samples)
            let report = try await Worker.run(names: benchmarks, options: options, batches: fixed)
            StandardStream.writeAll(bytes: try encoder.encode(report), to: 1)
        }
    }
}

enum HistoryText {
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in c + String(repeating: " ", count: widths[i] - c.count) }
                .joined(separator: "  ").trimmingUnicodeSpaces()
        }
        return ([line(header), widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ")] + rows.map(line))
            .joined(separator: "\n") + "\n"
    }

    static func date(_ ns: Int64) -> String { HTMLReport.dateText(ns, time: true) }

    static func render(
        name: String, history: [(run: RunRecord, samples: BenchmarkSamples)], baselines: [(name: String, run: RunRecord)],
        json: Bool, minimumStep: Double
    ) -> String {
        let centers = history.map { ChangePointDetector.runCenter($0.samples) }
        let steps = ChangePointDetector.detect(centers, runIDs: history.map(\.run.id), minimumStep: minimumStep)
        let stepAt = Dictionary(steps.map { ($0.index, $0) }, uniquingKeysWith: { a, _ in a })
        if json {
            struct Row: Encodable {
                var run: Int64
                var date: String
                var commit: String?
                var branch: String?
                var unit: String
                var center: Double
                var processes: Int
                var statistics: SampleStatistics
                var changePoint: ChangePoint?
            }
            struct Doc: Encodable {
                var benchmark: String
                var runs: [Row]
                var changePoints: [ChangePoint]
            }
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            let rows = history.enumerated().map { i, e in
                Row(
                    run: e.run.id, date: date(e.run.createdNs), commit: e.run.revision.commit, branch: e.run.revision.branch,
                    unit: e.samples.unit, center: centers[i], processes: e.samples.processCount,
                    statistics: SampleStatistics(samples: e.samples.samples), changePoint: stepAt[i])
            }
            return String(decoding: try! enc.encode(Doc(benchmark: name, runs: rows, changePoints: steps)), as: UTF8.self) + "\n"
        }
        let rows = history.enumerated().map { i, entry -> [String] in
            let st = SampleStatistics(samples: entry.samples.samples)
            let u = entry.samples.unit
            var marks = baselines.filter { $0.run.id == entry.run.id }.map { "baseline \($0.name)" }
            if let s = stepAt[i] {
                let pct = (s.ratio - 1) * 100
                marks.insert((pct >= 0 ? "▲ change point +" : "▼ change point −") + String.printf("%.1f%%", abs(pct)), at: 0)
            }
            return [
                String(entry.run.id), date(entry.run.createdNs), entry.run.revision.commit.map { String($0.prefix(10)) } ?? "–",
                entry.run.revision.branch ?? "–", formatQuantity(centers[i], unit: u), formatQuantity(st.p95, unit: u),
                String(st.count), String(entry.samples.processCount), marks.joined(separator: ", "),
            ]
        }
        var out = "\(name)\n\n" + table(["run", "date", "commit", "branch", "centre", "p95", "n", "processes", "note"], rows)
        out += steps.isEmpty ? "\nno change points (steps of at least \(minimumStepText(minimumStep)))\n" : "\n\(steps.count) change point\(steps.count == 1 ? "" : "s")\n"
        return out
    }

    static func minimumStepText(_ s: Double) -> String { String.printf("%.0f%%", (s - 1) * 100) }
}
