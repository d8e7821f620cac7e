import EmberBench
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The built `ember-bench` next to the test bundle.
let emberBenchBinary: String = {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
    if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
    let candidates = [dir.appendingPathComponent("ember-bench").path, packageRoot.appendingPathComponent(".build/debug/ember-bench").path]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
}()

struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

@discardableResult
func cli(_ args: [String], in dir: URL) throws -> CLIResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: emberBenchBinary)
    p.arguments = args
    p.currentDirectoryURL = dir
    var env = ProcessInfo.processInfo.environment
    env["CI"] = "1"
    env.removeValue(forKey: "EMBER_BENCH_DB")
    p.environment = env
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return CLIResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
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

/// A store with the real pytest-benchmark file as baseline "main" (run 1) and the derived
/// candidate (run 2): fib 1.5× slower, sorted 0.6×, join unchanged.
func goldenStore() throws -> URL {
    let dir = temporaryDirectory()
    let r1 = try cli(["import", "--db", "b.sqlite", "--commit", "aaaa1111", "--branch", "main", fixture("pytest-benchmark.json").path], in: dir)
    #expect(r1.status == 0, "\(r1.stderr)")
    try cli(["baseline", "set", "main", "--db", "b.sqlite", "--run", "1"], in: dir)
    let r2 = try cli(["import", "--db", "b.sqlite", fixture("pytest-benchmark-candidate.json").path], in: dir)
    #expect(r2.status == 0, "\(r2.stderr)")
    return dir
}

@Suite(.serialized) struct CLITests {
    @Test func binaryIsBuilt() {
        #expect(FileManager.default.isExecutableFile(atPath: emberBenchBinary), "build ember-bench first: \(emberBenchBinary)")
    }

    @Test(arguments: OutputFormat.allCases)
    func compareOutputMatchesGolden(_ format: OutputFormat) throws {
        let dir = try goldenStore()
        let r = try cli(["compare", "--db", "b.sqlite", "--baseline", "main", "--format", format.rawValue], in: dir)
        #expect(r.status == BenchExitCode.regression.rawValue, "\(r.stderr)")
        let ext = ["table": "txt", "markdown": "md", "json": "json", "junit": "xml"][format.rawValue]!
        try expectGolden(r.stdout, "compare-regression.\(ext)")
    }

    @Test func bootstrapTestOutputMatchesGolden() throws {
        let dir = try goldenStore()
        let r = try cli(["compare", "--db", "b.sqlite", "--baseline", "main", "--test", "bootstrap", "--estimator", "median"], in: dir)
        #expect(r.status == BenchExitCode.regression.rawValue)
        try expectGolden(r.stdout, "compare-bootstrap.txt")
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
        #expect(r.status == BenchExitCode.pass.rawValue)
        try expectGolden(r.stdout, "compare-pass.txt")
    }

    @Test func compareFilterSelectsBenchmarks() throws {
        let dir = try goldenStore()
        let r = try cli(["compare", "--db", "b.sqlite", "--baseline", "main", "--filter", "join", "--format", "json"], in: dir)
        #expect(r.status == BenchExitCode.pass.rawValue)
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let rows = (doc["report"] as! [String: Any])["comparisons"] as! [[String: Any]]
        #expect(rows.map { $0["name"] as! String } == ["pytest/test_sample_bench.py::test_join_strings"])
    }

    @Test func ciGateFormRunsSuitesStoresAndGates() throws {
        let dir = temporaryDirectory()
        let first = try cli(["--compare", "--db", "g.sqlite", "--filter", "module-call", "--iterations", "5", "--branch", "main"], in: dir)
        #expect(first.status == BenchExitCode.noBaseline.rawValue, "\(first.stdout)\(first.stderr)")
        // The second run finds the first on branch main from this machine: a verdict, not "no baseline".
        let second = try cli(["--compare", "--db", "g.sqlite", "--filter", "module-call", "--iterations", "5", "--format", "json"], in: dir)
        #expect(second.status == BenchExitCode.pass.rawValue || second.status == BenchExitCode.regression.rawValue, "\(second.stderr)")
        #expect(second.stdout.contains("core/module-call"))
        let store = try BenchStore(path: dir.appendingPathComponent("g.sqlite").path)
        #expect(try store.runs().count == 2)
    }

    @Test func exitCodeRegressionOnlyForTheSlowerBenchmark() throws {
        let dir = try goldenStore()
        let r = try cli(["compare", "--db", "b.sqlite", "--baseline", "main", "--threshold-for", "pytest/test_sample_bench.py::test_fib_15=2.0"], in: dir)
        #expect(r.status == BenchExitCode.pass.rawValue, "a per-benchmark threshold of 2.0 lets 1.5× pass")
    }

    @Test func exitCodeNoBaseline() throws {
        let dir = try goldenStore()
        let r = try cli(["compare", "--db", "b.sqlite", "--baseline", "release-9"], in: dir)
        #expect(r.status == BenchExitCode.noBaseline.rawValue)
        try expectGolden(r.stdout, "compare-no-baseline.txt")
        let empty = try cli(["compare", "--db", "empty.sqlite"], in: dir)
        #expect(empty.status == BenchExitCode.noBaseline.rawValue)
    }

    @Test func exitCodeIncomparable() throws {
        let dir = try goldenStore()
        // hyperfine files carry no machine: they get this machine, unlike the pytest file's.
        let imp = try cli(["import", "--db", "b.sqlite", "--branch", "feature", "--commit", "cccc3333", fixture("hyperfine.json").path], in: dir)
        #expect(imp.status == 0)
        let r = try cli(["compare", "--db", "b.sqlite", "--baseline", "main"], in: dir)
        #expect(r.status == BenchExitCode.incomparable.rawValue, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("another machine"))
        let junit = try cli(["compare", "--db", "b.sqlite", "--baseline", "main", "--format", "junit"], in: dir)
        #expect(junit.stdout.contains("<error message=\"incomparable\">"))
    }

    @Test func exitCodeErrorOnNonSQLiteStore() throws {
        let dir = temporaryDirectory()
        try Data("hello, I am a text file, not a database at all..............................................".utf8)
            .write(to: dir.appendingPathComponent("notes.txt"))
        let r = try cli(["compare", "--db", "notes.txt"], in: dir)
        #expect(r.status == BenchExitCode.error.rawValue)
        #expect(r.stderr.contains("notes.txt is not a usable ember-bench store"), "\(r.stderr)")
    }

    @Test func exitCodeUsage() throws {
        let dir = temporaryDirectory()
        #expect(try cli(["compare", "--format", "yaml"], in: dir).status == BenchExitCode.usage.rawValue)
        #expect(try cli(["compare", "--no-such-flag"], in: dir).status == BenchExitCode.usage.rawValue)
        #expect(try cli(["--compare", "--filter", "no-such-benchmark"], in: dir).status == BenchExitCode.usage.rawValue)
    }

    @Test func importIsAllOrNothing() throws {
        let dir = temporaryDirectory()
        try Data(#"{"results": [{"command": "x", "times": [0.1, "slow"]}]}"#.utf8).write(to: dir.appendingPathComponent("bad.json"))
        let r = try cli(["import", "--db", "s.sqlite", fixture("hyperfine.json").path, "bad.json"], in: dir)
        #expect(r.status == BenchExitCode.error.rawValue)
        #expect(r.stderr.contains("bad.json: $.results[0].times[1]: expected a number, found a string; nothing was imported"), "\(r.stderr)")
        let history = try cli(["history", "--db", "s.sqlite"], in: dir)
        #expect(history.stdout.split(separator: "\n").count == 2, "only the header: \(history.stdout)")
    }

    @Test func historyListsABenchmarkAcrossRuns() throws {
        let dir = try goldenStore()
        let r = try cli(["history", "--db", "b.sqlite", "pytest/test_sample_bench.py::test_fib_15"], in: dir)
        #expect(r.status == 0)
        try expectGolden(r.stdout, "history.txt")
        let miss = try cli(["history", "--db", "b.sqlite", "test_fib"], in: dir)
        #expect(miss.status == BenchExitCode.error.rawValue)
        #expect(miss.stderr.contains("did you mean: pytest/test_sample_bench.py::test_fib_15"))
    }

    @Test func jitGateKind() throws {
        let dir = try goldenStore()
        // Three cases only: the rule needs 25, so it rejects whatever the speedups.
        let r = try cli(["compare", "--db", "b.sqlite", "--baseline", "main", "--kind", "jit"], in: dir)
        #expect(r.status == BenchExitCode.regression.rawValue)
        #expect(r.stdout.contains("only 3 cases; the rule needs at least 25"))
    }

    @Test func htmlReportIsSelfContained() throws {
        let dir = try goldenStore()
        let r = try cli(["report", "--db", "b.sqlite", "--html", "out.html", "--baseline", "main"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let html = try String(contentsOf: dir.appendingPathComponent("out.html"), encoding: .utf8)
        #expect(html.contains("<svg"))
        #expect(!html.contains("http://") || html.components(separatedBy: "http://").dropFirst().allSatisfy { $0.hasPrefix("www.w3.org/2000/svg") })
        #expect(!html.contains("<script"))
        #expect(html.contains("class=\"card regression\""))
        #expect(html.contains(">baseline</text>"))
    }

    @Test func runTimesAnExternalCommandAndStoresIt() throws {
        let dir = temporaryDirectory()
        let r = try cli(["run", "--db", "s.sqlite", "--iterations", "3", "--warmup", "0", "--name", "cmd/true", "--", "/bin/true"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("cmd/true [peak RSS]"))
        let fail = try cli(["run", "--db", "s.sqlite", "--iterations", "1", "--", "/bin/false"], in: dir)
        #expect(fail.status == BenchExitCode.error.rawValue)
        #expect(fail.stderr.contains("exited with status 1"))
    }

    @Test func interleavedCommandsAreGatedABAB() throws {
        let dir = temporaryDirectory()
        // A 30 ms sleep against `true`: a ~100× difference, far beyond any scheduling noise.
        let slower = try cli(["compare", "--interleave", "--command-a", "true", "--command-b", "sleep 0.03", "--runs", "8", "--warmup", "1", "--no-confirm"], in: dir)
        #expect(slower.status == BenchExitCode.regression.rawValue, "\(slower.stdout)\(slower.stderr)")
        #expect(slower.stdout.contains("interleaved ABAB"))
        let faster = try cli(["compare", "--interleave", "--command-a", "sleep 0.03", "--command-b", "true", "--runs", "8", "--warmup", "1", "--format", "json"], in: dir)
        #expect(faster.status == BenchExitCode.pass.rawValue)
        #expect(faster.stdout.contains("\"verdict\" : \"improvement\""))
        let missing = try cli(["compare", "--interleave", "--command-a", "true"], in: dir)
        #expect(missing.status == BenchExitCode.usage.rawValue)
    }

    @Test func interleavedBuildsPoolEveryRoundsSamples() throws {
        let dir = temporaryDirectory()
        let r = try cli([
            "compare", "--interleave", "--build-a", emberBenchBinary, "--build-b", emberBenchBinary, "--filter", "core/module-call",
            "--rounds", "3", "--iterations", "4", "--warmup", "1", "--format", "json",
        ], in: dir)
        #expect(r.status == BenchExitCode.pass.rawValue || r.status == BenchExitCode.regression.rawValue, "\(r.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let rows = (doc["report"] as! [String: Any])["comparisons"] as! [[String: Any]]
        #expect(rows.map { $0["name"] as! String } == ["core/module-call"])
        #expect((rows[0]["baseline"] as! [String: Any])["count"] as? Int == 12)
        #expect((rows[0]["candidate"] as! [String: Any])["count"] as? Int == 12)
        let bad = try cli(["compare", "--interleave", "--build-a", "/bin/true", "--build-b", emberBenchBinary, "--rounds", "1"], in: dir)
        #expect(bad.status == BenchExitCode.error.rawValue)
        #expect(bad.stderr.contains("not a list of samples"), "\(bad.stderr)")
    }

    @Test func twoProcessesImportingConcurrentlyLoseNothing() throws {
        let dir = temporaryDirectory()
        _ = try cli(["history", "--db", "s.sqlite"], in: dir)  // create the store
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
        #expect(try store.runs().count == 2 * rounds)
        #expect(try store.incompleteRuns().isEmpty)
    }

    @Test func killDashNineMidWriteLeavesOnlyWholeRuns() throws {
        let dir = temporaryDirectory()
        // 20,000 benchmarks × 10 samples: the write transaction spills pages into the WAL
        // before it commits, which is when the test kills the process.
        var doc = "{\"results\": ["
        for i in 0..<20_000 {
            if i > 0 { doc += "," }
            doc += "{\"command\": \"cmd \(i)\", \"times\": [0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0]}"
        }
        doc += "]}"
        try Data(doc.utf8).write(to: dir.appendingPathComponent("big.json"))
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
        for delay in [20_000, 80_000, 160_000, 320_000] as [UInt32] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: emberBenchBinary)
            p.arguments = ["run", "--db", runDB, "--iterations", "30", "--quiet"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            usleep(delay)
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            let store = try BenchStore(path: runDB)
            #expect(try store.integrityCheck() == "ok")
            #expect(try store.incompleteRuns().isEmpty)
            let expected = BenchmarkSelection.select(BenchmarkRegistry.suites, filters: []).count
            for run in try store.runs() { #expect(run.benchmarkCount == expected) }
        }
    }
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
