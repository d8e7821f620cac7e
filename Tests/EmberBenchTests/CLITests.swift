import EmberBench
import EmberTestSupport
import EmberUtils
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The built `ember-bench`, wherever the build put it.
let emberBenchBinary = ToolBinary.path("ember-bench")

struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

@discardableResult
func cli(_ args: [String], in dir: URL) throws -> CLIResult {
    try cliWithEnvironment(args, [:], in: dir)
}

/// Compares with fixtures/bench/golden/NAME; EMBER_RECORD=1 rewrites the file instead.
func expectGolden(_ text: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let url = fixture("golden/\(name)")
    if ProcessInfo.processInfo.environment["EMBER_RECORD"] == "1" {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return
    }
    let expected = (try? String(contentsOf: url, encoding: .utf8)) ?? "<missing golden file \(name); run with EMBER_RECORD=1>"
    #expect(text == expected, "golden \(name) differs", sourceLocation: sourceLocation)
}

/// A store with five repetitions (processes) of the real pytest-benchmark job as run 1,
/// named baseline "main", and five repetitions of the derived candidate as run 2: fib
/// 1.5× slower, sorted 0.6×, join unchanged.
func goldenStore() throws -> URL {
    let dir = temporaryDirectory()
    let base = (1...5).map { fixture("pytest-reps/base-\($0).json").path }
    let cand = (1...5).map { fixture("pytest-reps/candidate-\($0).json").path }
    let r1 = try cli(["import", "--db", "b.sqlite", "--one-run", "--commit", "aaaa1111", "--branch", "main"] + base, in: dir)
    #expect(r1.status == 0, "\(r1.stderr)")
    try cli(["baseline", "set", "main", "--db", "b.sqlite", "--run", "1"], in: dir)
    let r2 = try cli(["import", "--db", "b.sqlite", "--one-run"] + cand, in: dir)
    #expect(r2.status == 0, "\(r2.stderr)")
    return dir
}

/// The bytes of a store file, and of its WAL when that holds anything (a reader of a
/// WAL store may leave SQLite's empty companion files behind), to show a command wrote
/// nothing.
func storeBytes(_ dir: URL, _ name: String) -> [Data?] {
    let main = try? Data(contentsOf: dir.appendingPathComponent(name))
    let wal = try? Data(contentsOf: dir.appendingPathComponent(name + "-wal"))
    return [main, wal?.isEmpty == false ? wal : nil]
}

/// An ember-bench "build" that is this one with a slowdown injected into one benchmark.
func slowedBuild(_ spec: String, in dir: URL) throws -> String {
    let url = dir.appendingPathComponent("slowed-ember-bench")
    try Data("#!/bin/sh\nEMBER_BENCH_SLOWDOWN='\(spec)' exec '\(emberBenchBinary)' \"$@\"\n".utf8).write(to: url)
    chmod(url.path, 0o755)
    return url.path
}

@Suite(.serialized) struct CLITests {
    @Test func binaryIsBuilt() {
        #expect(FileManager.default.isExecutableFile(atPath: emberBenchBinary), "build ember-bench first: \(emberBenchBinary)")
    }

    @Test(arguments: OutputFormat.allCases)
    func compareOutputMatchesGolden(_ format: OutputFormat) throws {
        let dir = try goldenStore()
        let r = try cli(["compare", "--db", "b.sqlite", "--baseline", "main", "--format", format.rawValue], in: dir)
        #expect(r.status == ToolExit.failure.rawValue, "\(r.stderr)")
        let ext = ["table": "txt", "markdown": "md", "json": "json", "junit": "xml"][format.rawValue]!
        try expectGolden(r.stdout, "compare-regression.\(ext)")
    }

    @Test func oneProcessPerSideIsInsufficientNotAPass() throws {
        let dir = temporaryDirectory()
        try cli(["import", "--db", "b.sqlite", "--commit", "aaaa1111", "--branch", "main", fixture("pytest-benchmark.json").path], in: dir)
        try cli(["import", "--db", "b.sqlite", fixture("pytest-benchmark-candidate.json").path], in: dir)
        let r = try cli(["compare", "--db", "b.sqlite", "--baseline", "run:1"], in: dir)
        #expect(r.status == ToolExit.insufficient.rawValue, "\(r.stdout)\(r.stderr)")
        try expectGolden(r.stdout, "compare-insufficient.txt")
        let allowed = try cli(["compare", "--db", "b.sqlite", "--baseline", "run:1", "--allow-insufficient"], in: dir)
        #expect(allowed.status == ToolExit.success.rawValue)
        // Google Benchmark's default single repetition, 100 ns → 200 ns: never a silent pass.
        for (i, t) in [100.0, 200.0].enumerated() {
            let doc = #"{"context": {"host_name": "h", "num_cpus": 2}, "benchmarks": [{"name": "BM_x", "run_type": "iteration", "iterations": 1000, "real_time": \#(t), "cpu_time": \#(t), "time_unit": "ns"}]}"#
            try Data(doc.utf8).write(to: dir.appendingPathComponent("g\(i).json"))
            try cli(["import", "--db", "g.sqlite", "--branch", i == 0 ? "main" : "pr", "g\(i).json"], in: dir)
        }
        let g = try cli(["compare", "--db", "g.sqlite"], in: dir)
        #expect(g.status == ToolExit.insufficient.rawValue, "\(g.stdout)\(g.stderr)")
        #expect(g.stdout.contains("insufficient"))
    }

    @Test func extraOutputFilesAreWritten() throws {
        let dir = try goldenStore()
        let r = try cli(["compare", "--db", "b.sqlite", "--baseline", "main", "--junit-out", "j.xml", "--markdown-out", "m.md", "--json-out", "r.json"], in: dir)
        #expect(r.status == 1)
        let junit = try String(contentsOf: dir.appendingPathComponent("j.xml"), encoding: .utf8)
        #expect(junit.contains("<failure message=\"regression"))
        #expect(junit.components(separatedBy: "<testcase ").count - 1 == 3)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("r.json"))) as! [String: Any]
        #expect(json["exitCode"] as? Int == 1)
    }

    @Test func exitCodePass() throws {
        let dir = try goldenStore()
        let r = try cli(["compare", "--db", "b.sqlite", "--baseline", "main", "--candidate", "1"], in: dir)
        #expect(r.status == ToolExit.success.rawValue)
        try expectGolden(r.stdout, "compare-pass.txt")
    }

    @Test func compareFilterSelectsBenchmarks() throws {
        let dir = try goldenStore()
        let r = try cli(["compare", "--db", "b.sqlite", "--baseline", "main", "--filter", "join", "--format", "json"], in: dir)
        #expect(r.status == ToolExit.success.rawValue)
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let rows = (doc["report"] as! [String: Any])["comparisons"] as! [[String: Any]]
        #expect(rows.map { $0["name"] as! String } == ["pytest/test_sample_bench.py::test_join_strings"])
    }

    @Test func ciGateFormRunsSuitesInProcessesStoresAndGates() throws {
        let dir = temporaryDirectory()
        let args = ["--db", "g.sqlite", "--filter", "module-call", "--samples", "5", "--processes", "3", "--min-sample-time", "0.2"]
        let first = try cli(["--compare"] + args + ["--branch", "main"], in: dir)
        #expect(first.status == ToolExit.noBaseline.rawValue, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("a first run"))
        // The second run finds the first on branch main from this machine: a verdict, not "no baseline".
        let second = try cli(["--compare"] + args + ["--format", "json"], in: dir)
        #expect(second.status == ToolExit.success.rawValue || second.status == ToolExit.failure.rawValue, "\(second.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as! [String: Any]
        let rows = (doc["report"] as! [String: Any])["comparisons"] as! [[String: Any]]
        #expect(rows.map { $0["name"] as! String } == ["core/module-call", "metrics/module-call"])
        #expect(rows.allSatisfy { $0["candidateProcesses"] as? Int == 3 && $0["baselineProcesses"] as? Int == 3 })
        let store = try BenchStore(path: dir.appendingPathComponent("g.sqlite").path)
        #expect(try store.runs().count == 2)
        let stored = try store.samples(runID: 2)["core/module-call"]!
        #expect(stored.processSizes == [5, 5, 5], "raw samples are kept per process")
    }

    @Test func anInjectedSlowdownIsCaughtAndUnchangedCodePasses() throws {
        let dir = temporaryDirectory()
        let args = [
            "--db", "g.sqlite", "--filter", "core/module-call", "--filter", "core/cache-hit", "--filter", "core/chain-10", "--samples", "10",
            "--processes", "4", "--min-sample-time", "0.5",
        ]
        for _ in 0..<4 { try cli(["run"] + args + ["--branch", "main", "--quiet"], in: dir) }
        let slowed = try cliWithEnvironment(["--compare"] + args + ["--branch", "pr"], ["EMBER_BENCH_SLOWDOWN": "core/cache-hit=3"], in: dir)
        #expect(slowed.status == ToolExit.failure.rawValue, "\(slowed.stdout)\(slowed.stderr)")
        #expect(slowed.stdout.contains("core/cache-hit") && slowed.stdout.contains("▲ regression"))
        let bad = try cliWithEnvironment(["run", "--no-store"] + args, ["EMBER_BENCH_SLOWDOWN": "core/cache-hit"], in: dir)
        #expect(bad.status == ToolExit.error.rawValue)
    }

    @Test func exitCodeRegressionOnlyForTheSlowerBenchmark() throws {
        let dir = try goldenStore()
        let r = try cli(["compare", "--db", "b.sqlite", "--baseline", "main", "--threshold-for", "pytest/test_sample_bench.py::test_fib_15=2.0"], in: dir)
        #expect(r.status == ToolExit.success.rawValue, "a per-benchmark threshold of 2.0 lets 1.5× pass")
    }

    @Test func noBaselineUnknownNamesAndMissingStores() throws {
        let dir = try goldenStore()
        // The default (main) with nothing behind it is a first run: exit 3.
        let fresh = temporaryDirectory()
        try cli(["import", "--db", "f.sqlite", "--branch", "feature", fixture("hyperfine.json").path], in: fresh)
        let first = try cli(["compare", "--db", "f.sqlite"], in: fresh)
        #expect(first.status == ToolExit.noBaseline.rawValue, "\(first.stdout)\(first.stderr)")
        try expectGolden(first.stdout, "compare-no-baseline.txt")
        // A name the user gave that matches nothing is an error that lists what exists.
        let typo = try cli(["compare", "--db", "b.sqlite", "--baseline", "nosuch"], in: dir)
        #expect(typo.status == ToolExit.error.rawValue)
        #expect(typo.stderr.contains("unknown baseline \"nosuch\""), "\(typo.stderr)")
        #expect(typo.stderr.contains("baseline names: main") && typo.stderr.contains("branches with runs: feature, main"), "\(typo.stderr)")
        // A store that does not exist is an error and is not created.
        let missing = try cli(["compare", "--db", "empty.sqlite"], in: dir)
        #expect(missing.status == ToolExit.error.rawValue)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("empty.sqlite").path))
    }

    @Test func baselineSetMainIsWhatTheDefaultComparesWith() throws {
        let dir = temporaryDirectory()
        // Runs on a feature branch only; naming one "main" makes it the default baseline.
        try cli(["import", "--db", "s.sqlite", "--one-run", "--branch", "feature"] + (1...5).map { fixture("pytest-reps/base-\($0).json").path }, in: dir)
        let set = try cli(["baseline", "set", "main", "--db", "s.sqlite"], in: dir)
        #expect(set.status == 0 && set.stdout.contains("baseline main = run 1"))
        try cli(["import", "--db", "s.sqlite", "--one-run", "--branch", "feature"] + (1...5).map { fixture("pytest-reps/candidate-\($0).json").path }, in: dir)
        let r = try cli(["compare", "--db", "s.sqlite"], in: dir)
        #expect(r.status == ToolExit.failure.rawValue, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("baseline:  baseline main = run 1"))
        let list = try cli(["baseline", "list", "--db", "s.sqlite"], in: dir)
        #expect(list.stdout.hasPrefix("main\trun 1"))
        let bad = try cli(["baseline", "set", "a:b", "--db", "s.sqlite"], in: dir)
        #expect(bad.status == ToolExit.error.rawValue)
        let gone = try cli(["baseline", "remove", "nosuch", "--db", "s.sqlite"], in: dir)
        #expect(gone.status == ToolExit.error.rawValue && gone.stderr.contains("baseline names: main"))
    }

    @Test func exitCodeIncomparable() throws {
        let dir = try goldenStore()
        // hyperfine files carry no machine: they get this machine, unlike the pytest file's.
        let imp = try cli(["import", "--db", "b.sqlite", "--branch", "feature", "--commit", "cccc3333", fixture("hyperfine.json").path], in: dir)
        #expect(imp.status == 0)
        let r = try cli(["compare", "--db", "b.sqlite", "--baseline", "main"], in: dir)
        #expect(r.status == ToolExit.incomparable.rawValue, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("another machine"))
        let junit = try cli(["compare", "--db", "b.sqlite", "--baseline", "main", "--format", "junit"], in: dir)
        #expect(junit.stdout.contains("<error message=\"incomparable\">"))
    }

    @Test func exitCodeErrorOnNonSQLiteStore() throws {
        let dir = temporaryDirectory()
        try Data("hello, I am a text file, not a database at all..............................................".utf8)
            .write(to: dir.appendingPathComponent("notes.txt"))
        let r = try cli(["compare", "--db", "notes.txt"], in: dir)
        #expect(r.status == ToolExit.error.rawValue)
        #expect(r.stderr.contains("notes.txt is not a usable ember-bench store"), "\(r.stderr)")
    }

    @Test func usageErrorsExit2LikeTheOtherTools() throws {
        let dir = temporaryDirectory()
        #expect(try cli(["compare", "--format", "yaml"], in: dir).status == ToolExit.error.rawValue)
        #expect(try cli(["compare", "--no-such-flag"], in: dir).status == ToolExit.error.rawValue)
        #expect(try cli(["--compare", "--filter", "no-such-benchmark"], in: dir).status == ToolExit.error.rawValue)
        #expect(try cli(["--compare", "--correction", "bonferroni"], in: dir).status == ToolExit.error.rawValue)
        let help = try cli(["--help"], in: dir)
        #expect(help.status == 0 && help.stdout.contains("Exit codes"))
    }

    @Test func setupErrorsExit2BeforeMeasuringAndStoreNothing() throws {
        // A folder without this package's fixtures: the tools suite cannot be set up.
        let dir = temporaryDirectory()
        for args in [["--compare", "--db", "s.sqlite"], ["run", "--db", "s.sqlite", "--filter", "tools/tokenize"]] {
            let r = try cliWithEnvironment(args, ["EMBER_BENCH_FIXTURES": dir.appendingPathComponent("nope").path], in: dir)
            #expect(r.status == ToolExit.error.rawValue, "\(args): \(r.stderr)")
            #expect(r.stderr.contains("cannot be set up") && r.stderr.contains("fixtures"), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("s.sqlite").path), "nothing stored, no store made")
        }
    }

    @Test func readOnlyCommandsNeitherCreateNorChangeAStore() throws {
        let dir = try goldenStore()
        // Checkpoint so the main file holds everything, then compare bytes before and after.
        do { let s = try BenchStore(path: dir.appendingPathComponent("b.sqlite").path); _ = s }
        let before = storeBytes(dir, "b.sqlite")
        for args in [
            ["history", "--db", "b.sqlite"], ["history", "--db", "b.sqlite", "pytest/test_sample_bench.py::test_fib_15"],
            ["compare", "--db", "b.sqlite", "--baseline", "main"], ["baseline", "list", "--db", "b.sqlite"],
            ["report", "--db", "b.sqlite", "--html", "r.html"],
        ] {
            _ = try cli(args, in: dir)
            #expect(storeBytes(dir, "b.sqlite") == before, "\(args) changed the store")
        }
        for args in [["history", "--db", "typo.sqlite"], ["report", "--db", "typo.sqlite", "--html", "x.html"], ["baseline", "list", "--db", "typo.sqlite"]] {
            let r = try cli(args, in: dir)
            #expect(r.status == ToolExit.error.rawValue, "\(args)")
            #expect(r.stderr.contains("no store at typo.sqlite"))
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("typo.sqlite").path))
    }

    @Test func importIsAllOrNothing() throws {
        let dir = temporaryDirectory()
        try Data(#"{"results": [{"command": "x", "times": [0.1, "slow"]}]}"#.utf8).write(to: dir.appendingPathComponent("bad.json"))
        let r = try cli(["import", "--db", "s.sqlite", fixture("hyperfine.json").path, "bad.json"], in: dir)
        #expect(r.status == ToolExit.error.rawValue)
        #expect(r.stderr.contains("bad.json: $.results[0].times[1]: expected a number, found a string; nothing was imported"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("s.sqlite").path))
        // Streamed rows already written are rolled back: a duplicate late in a file.
        try Data(#"{"results": [{"command": "a", "times": [0.1]}, {"command": "a", "times": [0.2]}]}"#.utf8).write(to: dir.appendingPathComponent("dup.json"))
        let d = try cli(["import", "--db", "s.sqlite", fixture("hyperfine.json").path, "dup.json"], in: dir)
        #expect(d.status == ToolExit.error.rawValue)
        #expect(d.stderr.contains("dup.json: benchmark \"hyperfine/a\" appears twice"), "\(d.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("s.sqlite").path))
        try Data("{\"results\": [\n{\"command\": \"x\",, }]}".utf8).write(to: dir.appendingPathComponent("syntax.json"))
        let s = try cli(["import", "--db", "s.sqlite", "syntax.json"], in: dir)
        #expect(s.status == ToolExit.error.rawValue && s.stderr.contains("line 2, column"), "\(s.stderr)")
    }

    @Test func historyShowsChangePoints() throws {
        let dir = try goldenStore()
        let r = try cli(["history", "--db", "b.sqlite", "pytest/test_sample_bench.py::test_fib_15"], in: dir)
        #expect(r.status == 0)
        try expectGolden(r.stdout, "history.txt")
        let miss = try cli(["history", "--db", "b.sqlite", "test_fib"], in: dir)
        #expect(miss.status == ToolExit.error.rawValue)
        #expect(miss.stderr.contains("did you mean: pytest/test_sample_bench.py::test_fib_15"))
        // Four runs at one level, four 1.5× slower: one change point, at run 5.
        let steps = temporaryDirectory()
        for k in 0..<8 {
            let t = (k < 4 ? 0.010 : 0.015) * (1 + 0.002 * Double(k % 3))
            let doc = #"{"results": [{"command": "step", "times": [\#(t), \#(t * 1.01), \#(t * 0.99)]}]}"#
            try Data(doc.utf8).write(to: steps.appendingPathComponent("h\(k).json"))
            try cli(["import", "--db", "s.sqlite", "--commit", String(format: "%07x", k + 1), "h\(k).json"], in: steps)
        }
        let h = try cli(["history", "--db", "s.sqlite", "hyperfine/step"], in: steps)
        #expect(h.stdout.contains("▲ change point +50"), "\(h.stdout)")
        #expect(h.stdout.contains("1 change point"))
        let json = try cli(["history", "--db", "s.sqlite", "hyperfine/step", "--format", "json"], in: steps)
        let doc = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        #expect((doc["changePoints"] as! [[String: Any]]).map { $0["runID"] as! Int } == [5])
    }

    @Test func jitGateKind() throws {
        let dir = try goldenStore()
        // Three cases only: the rule needs 25, so it rejects whatever the speedups.
        let r = try cli(["compare", "--db", "b.sqlite", "--baseline", "main", "--kind", "jit"], in: dir)
        #expect(r.status == ToolExit.failure.rawValue)
        #expect(r.stdout.contains("only 3 cases; the rule needs at least 25"))
    }

    @Test func htmlReportMarksTheVerdictsBaselineAndChangePoints() throws {
        let dir = try goldenStore()
        // Run 3 on main, run 4 (the latest) on a feature branch. The default baseline is
        // the name main (run 1), so only run 1 is marked, not run 3.
        try cli(["import", "--db", "b.sqlite", "--one-run", "--branch", "main"] + (1...5).map { fixture("pytest-reps/base-\($0).json").path }, in: dir)
        try cli(["import", "--db", "b.sqlite", "--one-run", "--branch", "feature"] + (1...5).map { fixture("pytest-reps/candidate-\($0).json").path }, in: dir)
        let r = try cli(["report", "--db", "b.sqlite", "--html", "out.html"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let html = try String(contentsOf: dir.appendingPathComponent("out.html"), encoding: .utf8)
        #expect(html.contains("<svg"))
        #expect(!html.contains("http://") || html.components(separatedBy: "http://").dropFirst().allSatisfy { $0.hasPrefix("www.w3.org/2000/svg") })
        #expect(!html.contains("<script"))
        #expect(html.contains(">baseline</text>"))
        #expect(html.contains("baseline: baseline main = run 1"))
        let marked = html.components(separatedBy: "class=\"baseline-run\"><title>run ").dropFirst().map { $0.prefix(2) }
        #expect(Set(marked) == ["1 "], "only the verdict's baseline run is marked: \(marked)")
        #expect(html.contains("aaaa111"), "commits on the x axis")
        #expect(html.range(of: #"\d{4}-\d\d-\d\d"#, options: .regularExpression) != nil, "dates on the x axis")
        // Against branch main's history instead: runs 1 and 3 are the baseline.
        let b = try cli(["report", "--db", "b.sqlite", "--html", "b.html", "--baseline", "branch:main"], in: dir)
        #expect(b.status == 0)
        let bh = try String(contentsOf: dir.appendingPathComponent("b.html"), encoding: .utf8)
        let bm = Set(bh.components(separatedBy: "class=\"baseline-run\"><title>run ").dropFirst().map { String($0.prefix(1)) })
        #expect(bm == ["1", "3"])
    }

    @Test func markdownEscapesPipesInNames() throws {
        let dir = temporaryDirectory()
        for k in 0..<2 {
            let doc = #"{"results": [{"command": "grep a | wc -l", "times": [0.01, 0.011, 0.0105, 0.0102]}]}"#
            try Data(doc.utf8).write(to: dir.appendingPathComponent("h\(k).json"))
            try cli(["import", "--db", "s.sqlite", "--branch", k == 0 ? "main" : "pr", "h\(k).json"], in: dir)
        }
        let r = try cli(["compare", "--db", "s.sqlite", "--format", "markdown"], in: dir)
        let row = try #require(r.stdout.split(separator: "\n").first { $0.contains("grep a") })
        #expect(row.contains("`hyperfine/grep a \\| wc -l`"), "\(row)")
        // Every table row has the header's number of unescaped cell separators.
        let header = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("| benchmark") })
        func cells(_ s: Substring) -> Int { s.replacingOccurrences(of: "\\|", with: "").filter { $0 == "|" }.count }
        #expect(cells(row) == cells(header))
    }

    @Test func runTimesAnExternalCommandWithItsOwnPeakRSS() throws {
        let dir = temporaryDirectory()
        let r = try cli(["run", "--db", "s.sqlite", "--runs", "3", "--warmup", "0", "--name", "cmd/sleep", "--format", "json", "--", "sleep", "0.01"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let rows = doc["benchmarks"] as! [[String: Any]]
        let rss = try #require(rows.first { $0["name"] as? String == "cmd/sleep [peak RSS]" })
        let peak = ((rss["statistics"] as! [String: Any])["max"] as! Double)
        // sleep's own peak is under 2 MB; ember-bench's is over 15 MB.
        #expect(peak > 500_000 && peak < 4_000_000, "peak RSS \(peak)")
        #expect(rows.first { $0["name"] as? String == "cmd/sleep" }?["processes"] as? Int == 3)
        let fail = try cli(["run", "--db", "s.sqlite", "--runs", "1", "--", "/bin/false"], in: dir)
        #expect(fail.status == ToolExit.error.rawValue)
        #expect(fail.stderr.contains("exited with status 1"))
    }

    @Test func sameJobABOfTwoCommands() throws {
        let dir = temporaryDirectory()
        // A 200 ms sleep against `true`: a ~200× difference, beyond the tens of milliseconds a
        // loaded machine adds to a run now and then (30 ms failed once under load).
        let slower = try cli(["ab", "--base-command", "true", "--head-command", "sleep 0.2", "--runs", "6", "--warmup", "1"], in: dir)
        #expect(slower.status == ToolExit.failure.rawValue, "\(slower.stdout)\(slower.stderr)")
        #expect(slower.stdout.contains("same job"))
        let faster = try cli(["compare", "--interleave", "--command-a", "sleep 0.2", "--command-b", "true", "--runs", "6", "--warmup", "1", "--format", "json"], in: dir)
        #expect(faster.status == ToolExit.success.rawValue, "\(faster.stdout)\(faster.stderr)")
        #expect(faster.stdout.contains("\"verdict\" : \"improvement\""))
        let missing = try cli(["ab", "--base-command", "true"], in: dir)
        #expect(missing.status == ToolExit.error.rawValue)
    }

    @Test func sameJobABOfTwoBuildsAlternatesProcesses() throws {
        let dir = temporaryDirectory()
        let common = ["--filter", "core/module-call", "--filter", "core/cache-hit", "--processes", "4", "--samples", "8", "--min-sample-time", "0.5"]
        let same = try cli(["ab", "--base", emberBenchBinary, "--head", emberBenchBinary, "--format", "json", "--db", "ab.sqlite"] + common, in: dir)
        #expect(same.status == ToolExit.success.rawValue || same.status == ToolExit.failure.rawValue, "\(same.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(same.stdout.utf8)) as! [String: Any]
        let rows = (doc["report"] as! [String: Any])["comparisons"] as! [[String: Any]]
        #expect(rows.map { $0["name"] as! String } == ["core/cache-hit", "core/module-call"])
        #expect(rows.allSatisfy { $0["baselineProcesses"] as? Int == 4 && $0["candidateProcesses"] as? Int == 4 && $0["spread"] as? String == "process" })
        // The head run is stored for trends.
        let stored = try BenchStore(path: dir.appendingPathComponent("ab.sqlite").path, mode: .readOnly)
        #expect(try stored.samples(runID: 1)["core/module-call"]?.processSizes.count == 4)
        // A head build with a 3× slowdown in one benchmark.
        let slow = try cli(["ab", "--base", emberBenchBinary, "--head", try slowedBuild("core/cache-hit=3", in: dir)] + common, in: dir)
        #expect(slow.status == ToolExit.failure.rawValue, "\(slow.stdout)\(slow.stderr)")
        let line = try #require(slow.stdout.split(separator: "\n").first { $0.hasPrefix("core/cache-hit") })
        #expect(line.contains("regression"))
        let bad = try cli(["ab", "--base", "/bin/true", "--head", emberBenchBinary, "--processes", "2"], in: dir)
        #expect(bad.status == ToolExit.error.rawValue)
        #expect(bad.stderr.contains("no list of benchmark names"), "\(bad.stderr)")
    }

    @Test func twoProcessesImportingConcurrentlyLoseNothing() throws {
        let dir = temporaryDirectory()
        _ = try cli(["import", "--db", "s.sqlite", fixture("google-benchmark.json").path], in: dir)  // create the store
        let rounds = 15
        let group = DispatchGroup()
        let failures = FailureCount()
        for w in 0..<2 {
            DispatchQueue.global().async(group: group) {
                for i in 0..<rounds {
                    let r = try? cli(["import", "--db", "s.sqlite", "--commit", "w\(w)r\(i)", fixture("google-benchmark.json").path], in: dir)
                    if r?.status != 0 { failures.add() }
                }
            }
        }
        group.wait()
        #expect(failures.value == 0)
        let store = try BenchStore(path: dir.appendingPathComponent("s.sqlite").path)
        #expect(try store.runs().count == 2 * rounds + 1)
        #expect(try store.incompleteRuns().isEmpty)
    }

    @Test func killDashNineMidWriteLeavesOnlyWholeRuns() throws {
        let dir = temporaryDirectory()
        // 20,000 benchmarks × 10 samples: the write transaction spills pages into the WAL
        // before it commits, which is when the test kills the process.
        try Data(bigHyperfineDocument(commands: 20_000).utf8).write(to: dir.appendingPathComponent("big.json"))
        let db = dir.appendingPathComponent("s.sqlite").path
        #expect(try cli(["import", "--db", "s.sqlite", "big.json"], in: dir).status == 0)
        var killedMidWrite = 0
        for attempt in 0..<6 {
            let walBefore = fileSize(db + "-wal")
            let p = Process()
            p.executableURL = URL(fileURLWithPath: emberBenchBinary)
            p.arguments = ["import", "--db", db, dir.appendingPathComponent("big.json").path]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            // Wait until the transaction is writing (the WAL grows), then kill -9.
            var writing = false
            for _ in 0..<20_000 where p.isRunning {
                if fileSize(db + "-wal") > walBefore { writing = true; break }
                usleep(200)
            }
            if writing || attempt % 2 == 1 {
                kill(p.processIdentifier, SIGKILL)
            }
            p.waitUntilExit()
            if p.terminationReason == .uncaughtSignal && writing { killedMidWrite += 1 }
            let store = try BenchStore(path: db)
            #expect(try store.integrityCheck() == "ok")
            #expect(try store.incompleteRuns().isEmpty, "attempt \(attempt)")
            for run in try store.runs() { #expect(run.benchmarkCount == 20_000) }
        }
        #expect(killedMidWrite > 0, "no kill landed during a write; the WAL never grew")
        let before = try BenchStore(path: db).runs().count
        #expect(try cli(["import", "--db", "s.sqlite", "big.json"], in: dir).status == 0)
        #expect(try BenchStore(path: db).runs().count == before + 1)

        // The suites too: kill `ember-bench run` at spread-out moments of its life.
        let runDB = dir.appendingPathComponent("run.sqlite").path
        let selected = ["--filter", "core/", "--filter", "metrics/"]
        for delay in [20_000, 80_000, 160_000, 320_000] as [UInt32] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: emberBenchBinary)
            p.arguments = ["run", "--db", runDB, "--samples", "5", "--processes", "1", "--min-sample-time", "0.2", "--quiet"] + selected
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            usleep(delay)
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            let store = try BenchStore(path: runDB)
            #expect(try store.integrityCheck() == "ok")
            #expect(try store.incompleteRuns().isEmpty)
            let expected = BenchmarkSelection.select(BenchmarkRegistry.suites, filters: ["core/", "metrics/"]).count
            for run in try store.runs() { #expect(run.benchmarkCount == expected + 1, "the suites and the machine probe") }
        }
    }
}

/// `cli` with extra environment variables.
@discardableResult
func cliWithEnvironment(_ args: [String], _ extra: [String: String], in dir: URL) throws -> CLIResult {
    // CI set: no progress bar; no store or slowdown leaking in from the caller's environment.
    var environment: [String: String?] = ["CI": "1", "EMBER_BENCH_DB": nil, "EMBER_BENCH_SLOWDOWN": nil]
    if ProcessInfo.processInfo.environment["EMBER_BENCH_FIXTURES"] == nil {
        environment["EMBER_BENCH_FIXTURES"] = packageRoot.appendingPathComponent("fixtures").path
    }
    for (k, v) in extra { environment[k] = v }
    let r = try ToolBinary.run("ember-bench", args, in: dir.path, environment: environment)
    return CLIResult(status: r.status, stdout: r.stdout, stderr: r.stderr)
}

final class FailureCount: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

func fileSize(_ path: String) -> Int {
    var st = stat()
    return stat(path, &st) == 0 ? Int(st.st_size) : 0
}
