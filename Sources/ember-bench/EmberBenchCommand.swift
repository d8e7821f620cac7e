import ArgumentParser
import EmberBench
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `ember-bench --compare [options]` is the CI gate's one-line form; it is the hidden
/// `gate` subcommand. (Options on the root command would shadow the subcommands' own
/// options of the same name, so the root has none.)
@main
enum Entry {
    static func main() async {
        var args = Array(CommandLine.arguments.dropFirst())
        let subcommands = Set(EmberBenchCommand.configuration.subcommands.map { $0._commandName })
        let beforeTerminator = args.prefix { $0 != "--" }
        if let first = args.first, !subcommands.contains(first), let i = beforeTerminator.firstIndex(of: "--compare") {
            args.remove(at: i)
            args.insert("gate", at: 0)
        } else if args.first == "--compare" {
            args[0] = "gate"
        }
        await EmberBenchCommand.main(args)
    }
}

struct EmberBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ember-bench",
        abstract: "Benchmark runner, SQLite baseline store and regression gate.",
        usage: """
            ember-bench --compare [--db <db>] [--baseline <spec>] [--filter <name>] [--format <format>] ...
            ember-bench <subcommand>
            """,
        discussion: """
            `ember-bench --compare` is the one-line CI gate: it runs the registered suites, stores the run, \
            compares it with the baseline (default: the last 5 runs on branch main from this machine), \
            re-measures flagged benchmarks once, and exits non-zero on a confirmed regression. \
            `ember-bench gate --help` lists its options.

            Exit codes: 0 pass, 1 regression (or JIT rule rejected), 2 error, 3 no baseline, \
            4 incomparable (no baseline from a matching machine), 64 usage error.
            """,
        subcommands: [
            RunCommand.self, CompareCommand.self, ImportCommand.self, BaselineCommand.self, HistoryCommand.self,
            ReportCommand.self, GateCommand.self, MeasureStoreCommand.self, SimulateGateCommand.self,
        ])
}

struct GateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate", abstract: "Run the suites, store the run and gate it (what `ember-bench --compare` runs).")

    @OptionGroup var store: StoreOptions
    @OptionGroup var selection: SelectionOptions
    @OptionGroup var gate: GateOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var revision: RevisionOptions

    func run() async throws {
        try await guarded {
            let benchStore = try store.open()
            let selected = try selection.selected()
            let candidate = try await Workflow.measureSuites(
                selected, options: selection.runnerOptions, progress: output.progress)
            let machine = MachineFingerprint.current()
            let runID = try benchStore.insert(
                NewRun(revision: revision.resolve(nil), machine: machine, source: "ember-bench", results: candidate))
            let resolution = try benchStore.resolveBaseline(
                try gate.spec(), machineDigest: machine.digest, lastK: gate.last, excludingRun: runID,
                ignoreMachine: gate.ignoreMachine)
            let byName = Dictionary(uniqueKeysWithValues: candidate.map { ($0.name, $0) })
            let runner = BenchmarkRunner(options: selection.runnerOptions)
            let remeasure: ((String) async throws -> BenchmarkSamples?)? =
                gate.noConfirm
                ? nil
                : { name in
                    guard let entry = selected.first(where: { $0.name == name }) else { return nil }
                    return try await runner.measure(entry.benchmark, fullName: name)
                }
            let report = try await Workflow.gate(
                candidate: byName, baseline: resolution, policy: try gate.policy(),
                candidateLabel: try benchStore.run(id: runID)!.shortDescription, remeasure: remeasure)
            try output.emit(report)
            throw ExitCode(report.outcome.exitCode.rawValue)
        }
    }
}

/// Runs `body`, turning a BenchError into a message on stderr and its exit code.
func guarded(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let e as BenchError {
        FileHandle.standardError.write(Data("ember-bench: error: \(e.message)\n".utf8))
        throw ExitCode(e.exitCode.rawValue)
    }
}

// MARK: option groups

struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: "The SQLite store (default: $EMBER_BENCH_DB or ./ember-bench.sqlite).")
    var path: String?

    var resolvedPath: String { path ?? ProcessInfo.processInfo.environment["EMBER_BENCH_DB"] ?? "ember-bench.sqlite" }

    func open() throws -> BenchStore { try BenchStore(path: resolvedPath) }
}

struct SelectionOptions: ParsableArguments {
    @Option(name: .customLong("filter"), help: "Run only benchmarks whose name contains this (repeatable).")
    var filters: [String] = []
    @Option(help: "Timed samples per benchmark.") var iterations = 50
    @Option(help: "Untimed warm-up calls per benchmark.") var warmup = 5

    var runnerOptions: RunnerOptions { RunnerOptions(iterations: iterations, warmup: warmup) }

    func selected() throws -> [(name: String, benchmark: Benchmark)] {
        guard iterations >= 1 else { throw BenchError("--iterations must be at least 1", exitCode: .usage) }
        let s = BenchmarkSelection.select(BenchmarkRegistry.suites, filters: filters)
        if s.isEmpty {
            let all = BenchmarkSelection.select(BenchmarkRegistry.suites, filters: []).map(\.name)
            throw BenchError(
                "no benchmark matches --filter \(filters.joined(separator: ", ")); known: \(all.joined(separator: ", "))",
                exitCode: .usage)
        }
        return s
    }
}

struct GateOptions: ParsableArguments {
    @Option(help: "Baseline: a name, run:ID, commit:SHA or branch:NAME.") var baseline = "branch:main"
    @Option(help: "Ratio beyond which a significant change counts.") var threshold = 1.2
    @Option(
        name: .customLong("threshold-for"),
        help: "Per-benchmark threshold, NAME=RATIO (repeatable).") var thresholdOverrides: [String] = []
    @Option(help: "Ratio estimate: hodges-lehmann or median.") var estimator = "hodges-lehmann"
    @Option(help: "Significance test: mann-whitney or bootstrap.") var test = "mann-whitney"
    @Option(help: "Confidence of the significance test.") var confidence = 0.99
    @Option(help: "Use the median of the last K matching runs of a branch baseline.") var last = 5
    @Flag(help: "Compare with runs from another machine fingerprint too.") var ignoreMachine = false
    @Flag(help: "Do not re-measure flagged benchmarks before failing.") var noConfirm = false

    func spec() throws -> BaselineSpec { try BaselineSpec.parse(baseline) }

    func validate() throws {
        do {
            _ = try spec()
            _ = try policy()
        } catch let e as BenchError { throw ValidationError(e.message) }
    }

    func policy() throws -> GatePolicy {
        var p = GatePolicy()
        guard threshold > 1 else { throw BenchError("--threshold must be above 1 (e.g. 1.2), got \(threshold)", exitCode: .usage) }
        p.threshold = threshold
        for item in thresholdOverrides {
            guard let eq = item.lastIndex(of: "="), let value = Double(item[item.index(after: eq)...]), value > 1 else {
                throw BenchError("--threshold-for \"\(item)\": expected NAME=RATIO with RATIO above 1", exitCode: .usage)
            }
            p.thresholdOverrides[String(item[..<eq])] = value
        }
        guard let e = RatioEstimator(rawValue: estimator) else {
            throw BenchError("--estimator \(estimator): expected hodges-lehmann or median", exitCode: .usage)
        }
        guard let t = SignificanceTest(rawValue: test) else {
            throw BenchError("--test \(test): expected mann-whitney or bootstrap", exitCode: .usage)
        }
        guard confidence > 0.5 && confidence < 1 else {
            throw BenchError("--confidence must be between 0.5 and 1, got \(confidence)", exitCode: .usage)
        }
        p.estimator = e
        p.test = t
        p.confidence = confidence
        return p
    }
}

struct OutputOptions: ParsableArguments {
    @Option(help: "Output on stdout: table, markdown, json or junit.") var format = "table"
    @Option(name: .customLong("junit-out"), help: "Also write JUnit XML to this file.") var junitOut: String?
    @Option(name: .customLong("markdown-out"), help: "Also write Markdown to this file.") var markdownOut: String?
    @Option(name: .customLong("json-out"), help: "Also write JSON to this file.") var jsonOut: String?
    @Flag(help: "No progress bar even on a terminal.") var quiet = false

    var progress: ProgressLine { quiet ? ProgressLine(enabled: false) : ProgressLine() }

    func validate() throws {
        do { _ = try outputFormat() } catch let e as BenchError { throw ValidationError(e.message) }
    }

    func outputFormat() throws -> OutputFormat {
        guard let f = OutputFormat(rawValue: format) else {
            throw BenchError("--format \(format): expected table, markdown, json or junit", exitCode: .usage)
        }
        return f
    }

    func emit(_ render: (OutputFormat) -> String) throws {
        let f = try outputFormat()
        FileHandle.standardOutput.write(Data(render(f).utf8))
        for (path, extra) in [(junitOut, OutputFormat.junit), (markdownOut, .markdown), (jsonOut, .json)] {
            guard let path else { continue }
            do {
                try Data(render(extra).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                throw BenchError("cannot write \(path): \(error.localizedDescription)")
            }
        }
    }

    func emit(_ report: ComparisonReport) throws { try emit { report.render($0) } }
}

struct RevisionOptions: ParsableArguments {
    @Option(help: "Commit to record (default: git HEAD, or the imported file's).") var commit: String?
    @Option(help: "Branch to record (default: the git branch, or the imported file's).") var branch: String?

    func resolve(_ fromFile: SourceRevision?) -> SourceRevision {
        var r = fromFile ?? SourceRevision.current()
        if let commit { r.commit = commit }
        if let branch { r.branch = branch }
        return r
    }
}

// MARK: run

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the registered suites, or time a command given after --, and store the run.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var selection: SelectionOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var revision: RevisionOptions
    @Flag(help: "Print the results without storing them.") var noStore = false
    @Flag(help: "Let the external command's output through.") var showOutput = false
    @Flag(help: "Accept a non-zero exit status of the external command.") var ignoreFailure = false
    @Option(help: "Benchmark name for the external command.") var name: String?
    @Flag(help: "List the registered benchmarks and exit.") var list = false
    @Flag(help: "Print every raw sample as JSON (what `compare --interleave --build-a/--build-b` reads).")
    var rawJSON = false
    @Argument(parsing: .postTerminator, help: "A command to time instead of the suites.") var command: [String] = []

    func run() async throws {
        try await guarded {
            if list {
                for entry in BenchmarkSelection.select(BenchmarkRegistry.suites, filters: selection.filters) {
                    print(entry.name)
                }
                return
            }
            let format = try output.outputFormat()
            let results: [BenchmarkSamples]
            let source: String
            if command.isEmpty {
                results = try await Workflow.measureSuites(
                    try selection.selected(), options: selection.runnerOptions, progress: output.progress)
                source = "ember-bench"
            } else {
                results = try ExternalCommand(arguments: command, showOutput: showOutput).measure(
                    runs: selection.iterations, warmup: selection.warmup, ignoreFailure: ignoreFailure, name: name,
                    progress: output.progress)
                source = "command"
            }
            var runID: Int64?
            var label = "not stored"
            if !noStore {
                let s = try store.open()
                let id = try s.insert(
                    NewRun(revision: revision.resolve(nil), machine: .current(), source: source, results: results))
                runID = id
                label = "stored as \(try s.run(id: id)!.shortDescription) in \(s.path)"
            }
            if rawJSON {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                FileHandle.standardOutput.write(try encoder.encode(results))
                FileHandle.standardOutput.write(Data("\n".utf8))
                return
            }
            let summary = RunSummary(label: label, runID: runID, benchmarks: results)
            FileHandle.standardOutput.write(Data(summary.render(format).utf8))
        }
    }
}

// MARK: compare

struct CompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Gate a stored candidate run against a baseline, or two commands measured interleaved.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var gate: GateOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "Candidate run id, or latest.") var candidate = "latest"
    @Option(help: "Gate kind: regression (per benchmark) or jit (p20 of speedups ≥ 2.0 over ≥ 25 cases).")
    var kind = "regression"
    @Option(name: .customLong("filter"), help: "Only benchmarks whose name contains this (repeatable).")
    var filters: [String] = []
    @Flag(help: "Measure --command-a (baseline) and --command-b (candidate) alternately, ABAB…, in this job.")
    var interleave = false
    @Option(name: .customLong("command-a"), help: "Baseline command line (with --interleave; run by /bin/sh -c).")
    var commandA: String?
    @Option(name: .customLong("command-b"), help: "Candidate command line (with --interleave).") var commandB: String?
    @Option(name: .customLong("build-a"), help: "Baseline ember-bench binary (with --interleave): its suites are measured.")
    var buildA: String?
    @Option(name: .customLong("build-b"), help: "Candidate ember-bench binary (with --interleave).") var buildB: String?
    @Option(help: "A/B rounds with --build-a/--build-b.") var rounds = 5
    @Option(help: "Samples per benchmark per round with --build-a/--build-b.") var iterations = 10
    @Option(help: "Runs per command with --interleave.") var runs = 30
    @Option(help: "Warm-up runs per command with --interleave.") var warmup = 2
    @Flag(help: "Accept non-zero exit statuses of the interleaved commands.") var ignoreFailure = false

    func run() async throws {
        try await guarded {
            if interleave {
                try await runInterleaved()
                return
            }
            let s = try store.open()
            let candidateRun: RunRecord
            if candidate == "latest" {
                guard let latest = try s.runs(limit: 1).first else {
                    throw BenchError("\(s.path) has no runs yet; run `ember-bench run` or `ember-bench import` first", exitCode: .noBaseline)
                }
                candidateRun = latest
            } else {
                guard let id = Int64(candidate.hasPrefix("run:") ? String(candidate.dropFirst(4)) : candidate),
                    let r = try s.run(id: id)
                else {
                    throw BenchError("no run \(candidate) in \(s.path); `ember-bench history` lists runs")
                }
                candidateRun = r
            }
            var candidateSamples = try s.samples(runID: candidateRun.id)
            if !filters.isEmpty { candidateSamples = candidateSamples.filter { n, _ in filters.contains { n.contains($0) } } }
            let resolution = try s.resolveBaseline(
                try gate.spec(), machineDigest: candidateRun.machineDigest, lastK: gate.last, excludingRun: candidateRun.id,
                ignoreMachine: gate.ignoreMachine)
            switch kind {
            case "regression":
                var res = resolution
                if case .found(let samples, let label) = resolution, !filters.isEmpty {
                    res = .found(samples: samples.filter { n, _ in filters.contains { n.contains($0) } }, label: label)
                }
                let report = try await Workflow.gate(
                    candidate: candidateSamples, baseline: res, policy: try gate.policy(),
                    candidateLabel: candidateRun.shortDescription)
                try output.emit(report)
                throw ExitCode(report.outcome.exitCode.rawValue)
            case "jit":
                switch resolution {
                case .noBaseline(let why): throw BenchError(why, exitCode: .noBaseline)
                case .incomparable(let why): throw BenchError(why, exitCode: .incomparable)
                case .found(let samples, let label):
                    let speedups = Workflow.speedups(baseline: samples, candidate: candidateSamples)
                    let rule = JITAcceptance.evaluate(speedups: speedups.map(\.1))
                    try output.emit { rule.render($0, speedups: speedups, baselineLabel: label, candidateLabel: candidateRun.shortDescription) }
                    throw ExitCode(rule.accepted ? BenchExitCode.pass.rawValue : BenchExitCode.regression.rawValue)
                }
            default:
                throw BenchError("--kind \(kind): expected regression or jit", exitCode: .usage)
            }
        }
    }

    func runInterleavedBuilds(_ a: String, _ b: String) async throws {
        guard rounds >= 1, iterations >= 1 else { throw BenchError("--rounds and --iterations must be at least 1", exitCode: .usage) }
        let builds = InterleavedBuilds(binaryA: a, binaryB: b, rounds: rounds, iterations: iterations, warmup: warmup, filters: filters)
        let (sa, sb) = try builds.measure(progress: output.progress)
        let report = try await Workflow.gate(
            candidate: sb, baseline: .found(samples: sa, label: "A: \(a) (interleaved ABAB, \(rounds) rounds × \(iterations) samples)"),
            policy: try gate.policy(), candidateLabel: "B: \(b)",
            remeasure: gate.noConfirm
                ? nil
                : { name in
                    let again = InterleavedBuilds(binaryA: a, binaryB: b, rounds: rounds, iterations: iterations, warmup: warmup, filters: [name])
                    return try again.measure().b[name]
                })
        try output.emit(report)
        throw ExitCode(report.outcome.exitCode.rawValue)
    }

    func runInterleaved() async throws {
        if let a = buildA, let b = buildB {
            try await runInterleavedBuilds(a, b)
            return
        }
        guard let a = commandA, let b = commandB else {
            throw BenchError(
                "--interleave needs --command-a and --command-b (two commands) or --build-a and --build-b (two ember-bench builds)",
                exitCode: .usage)
        }
        guard runs >= 1 else { throw BenchError("--runs must be at least 1", exitCode: .usage) }
        let cmdA = ExternalCommand.shell(a)
        let cmdB = ExternalCommand.shell(b)
        let (ma, mb) = try ExternalCommand.interleave(
            cmdA, cmdB, runs: runs, warmup: warmup, ignoreFailure: ignoreFailure, progress: output.progress)
        let name = "command"
        let base = [name: BenchmarkSamples(name: name, samples: ma.map(\.wallNs))]
        let cand = [name: BenchmarkSamples(name: name, samples: mb.map(\.wallNs))]
        let policy = try gate.policy()
        let report = try await Workflow.gate(
            candidate: cand, baseline: .found(samples: base, label: "A: \(a) (interleaved ABAB, \(runs) runs each)"),
            policy: policy, candidateLabel: "B: \(b)",
            remeasure: gate.noConfirm
                ? nil
                : { _ in
                    let (_, again) = try ExternalCommand.interleave(
                        cmdA, cmdB, runs: runs, warmup: 0, ignoreFailure: ignoreFailure)
                    return BenchmarkSamples(name: name, samples: again.map(\.wallNs))
                })
        try output.emit(report)
        throw ExitCode(report.outcome.exitCode.rawValue)
    }
}

// MARK: import

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Store pytest-benchmark, Google Benchmark or hyperfine JSON files as runs (each file one run).")

    @OptionGroup var store: StoreOptions
    @OptionGroup var revision: RevisionOptions
    @Option(help: "pytest-benchmark, google-benchmark or hyperfine (default: detected).") var format: String?
    @Argument(help: "JSON files to import.") var files: [String]

    func run() async throws {
        try await guarded {
            guard !files.isEmpty else { throw BenchError("give at least one JSON file to import", exitCode: .usage) }
            var chosen: ImportFormat?
            if let format {
                guard let f = ImportFormat(rawValue: format) else {
                    throw BenchError("--format \(format): expected pytest-benchmark, google-benchmark or hyperfine", exitCode: .usage)
                }
                chosen = f
            }
            // Parse every file before writing anything: one bad file imports nothing.
            let loaded = try files.map { try Importer.load(path: $0, format: chosen) }
            let s = try store.open()
            for (file, run) in zip(files, loaded) {
                let id = try s.insert(
                    NewRun(
                        revision: revision.resolve(run.revision), machine: run.machine ?? .current(),
                        source: run.format.rawValue, label: (file as NSString).lastPathComponent, results: run.benchmarks))
                print("imported \(file) (\(run.format.rawValue), \(run.benchmarks.count) benchmarks) as \(try s.run(id: id)!.shortDescription)")
            }
        }
    }
}

// MARK: baseline

struct BaselineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline", abstract: "Name runs as baselines.",
        subcommands: [Set.self, List.self, Remove.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Name a run (default: the latest) as baseline NAME.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Baseline name, e.g. main.") var name: String
        @Option(help: "Run id, or latest.") var run = "latest"

        func run() async throws {
            try await guarded {
                let s = try store.open()
                let id: Int64
                if run == "latest" {
                    guard let latest = try s.runs(limit: 1).first else {
                        throw BenchError("\(s.path) has no runs yet; nothing to name", exitCode: .noBaseline)
                    }
                    id = latest.id
                } else {
                    guard let parsed = Int64(run) else { throw BenchError("--run \(run): expected a run id or latest", exitCode: .usage) }
                    id = parsed
                }
                try s.setBaseline(name, runID: id)
                print("baseline \"\(name)\" = \(try s.run(id: id)!.shortDescription)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List named baselines.")
        @OptionGroup var store: StoreOptions
        func run() async throws {
            try await guarded {
                for (name, run) in try store.open().baselines() { print("\(name)\t\(run.shortDescription)") }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Forget a baseline name (the run stays).")
        @OptionGroup var store: StoreOptions
        @Argument var name: String
        func run() async throws {
            try await guarded {
                if try !store.open().removeBaseline(name) { throw BenchError("no baseline named \"\(name)\"") }
            }
        }
    }
}

// MARK: history

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "One benchmark across runs (without NAME: list runs).")
    @OptionGroup var store: StoreOptions
    @Argument(help: "Benchmark name.") var name: String?
    @Option(help: "At most this many runs.") var limit = 50
    @Option(help: "table or json.") var format = "table"

    func run() async throws {
        try await guarded {
            let s = try store.open()
            guard let name else {
                let rows = try s.runs(limit: limit).map { r in
                    [
                        String(r.id), r.revision.commit.map { String($0.prefix(10)) } ?? "–", r.revision.branch ?? "–",
                        r.source, String(r.benchmarkCount), String(r.machineDigest.prefix(8)),
                    ]
                }
                print(HistoryText.table(["run", "commit", "branch", "source", "benchmarks", "machine"], rows), terminator: "")
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
            FileHandle.standardOutput.write(Data(HistoryText.render(name: name, history: history, baselines: baselines, json: format == "json").utf8))
        }
    }
}

// MARK: report

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Write a self-contained HTML page with a trend chart per benchmark.")
    @OptionGroup var store: StoreOptions
    @Option(help: "Output file.") var html: String
    @Option(help: "Runs per benchmark to chart.") var last = 30
    @Option(help: "Baseline to mark and compare the latest run with.") var baseline = "branch:main"
    @Option(name: .customLong("filter"), help: "Only benchmarks whose name contains this (repeatable).")
    var filters: [String] = []

    func run() async throws {
        try await guarded {
            let s = try store.open()
            let page = try HTMLReport.build(store: s, lastRuns: last, baseline: try BaselineSpec.parse(baseline), filters: filters)
            do {
                try Data(page.utf8).write(to: URL(fileURLWithPath: html), options: .atomic)
            } catch {
                throw BenchError("cannot write \(html): \(error.localizedDescription)")
            }
            print("wrote \(html)")
        }
    }
}

// MARK: measurement helpers (hidden)

struct MeasureStoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "measure-store",
        abstract: "Measure ingest and compare speed of the two sample layouts (BLOB per benchmark vs row per sample).",
        shouldDisplay: false)
    @Option(help: "Directory for the scratch databases.") var directory = NSTemporaryDirectory()
    @Option(help: "Benchmarks in the ingest run.") var ingestBenchmarks = 20_000
    @Option(help: "Benchmarks in the compare runs.") var compareBenchmarks = 10_000
    @Option(help: "Samples per benchmark.") var samples = 50

    func run() async throws {
        try await guarded {
            let results = try StoreLayoutMeasurement.run(
                directory: directory, ingestBenchmarks: ingestBenchmarks, compareBenchmarks: compareBenchmarks,
                samplesPerBenchmark: samples)
            print(results)
        }
    }
}

struct SimulateGateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate-gate",
        abstract: "Gate-quality simulation: false positives and detection rate, rule by rule.", shouldDisplay: false)
    @Option(help: "Trials per cell.") var trials = 2000
    @Option(help: "Samples per side.") var samples = 50
    @Option(help: "Bootstrap resamples per trial.") var resamples = 1000
    @Option(help: "Seed.") var seed: UInt64 = 2026

    func run() async throws {
        let table = GateSimulation.run(trials: trials, samplesPerSide: samples, resamples: resamples, seed: seed)
        print(table.markdown)
    }
}

enum HistoryText {
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in c + String(repeating: " ", count: widths[i] - c.count) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        return ([line(header), widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ")] + rows.map(line))
            .joined(separator: "\n") + "\n"
    }

    static func render(
        name: String, history: [(run: RunRecord, samples: BenchmarkSamples)], baselines: [(name: String, run: RunRecord)],
        json: Bool
    ) -> String {
        let rows = history.map { entry -> [String] in
            let st = SampleStatistics(samples: entry.samples.samples)
            let u = entry.samples.unit
            let marks = baselines.filter { $0.run.id == entry.run.id }.map { "baseline \($0.name)" }
            return [
                String(entry.run.id), entry.run.revision.commit.map { String($0.prefix(10)) } ?? "–",
                entry.run.revision.branch ?? "–", formatQuantity(st.median, unit: u), formatQuantity(st.p95, unit: u),
                formatQuantity(st.p99, unit: u), String(st.count), String(st.outlierCount), marks.joined(separator: ", "),
            ]
        }
        if json {
            struct Row: Encodable {
                var run: Int64
                var commit: String?
                var branch: String?
                var unit: String
                var statistics: SampleStatistics
            }
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            let doc = history.map {
                Row(run: $0.run.id, commit: $0.run.revision.commit, branch: $0.run.revision.branch, unit: $0.samples.unit,
                    statistics: SampleStatistics(samples: $0.samples.samples))
            }
            return String(decoding: try! enc.encode(doc), as: UTF8.self) + "\n"
        }
        return "\(name)\n\n" + table(["run", "commit", "branch", "median", "p95", "p99", "n", "outliers", "note"], rows)
    }
}
