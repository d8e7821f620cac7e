import EmberTestSupport
@testable import EmberBench
import EmberUtils
import Foundation
import Testing

@Suite struct ImporterTests {
    @Test func pytestBenchmarkRealFile() throws {
        let run = try Importer.load(path: fixture("pytest-benchmark.json").path)
        #expect(run.format == .pytestBenchmark)
        #expect(run.benchmarks.map(\.name) == [
            "pytest/test_sample_bench.py::test_fib_15", "pytest/test_sample_bench.py::test_sorted_1000",
            "pytest/test_sample_bench.py::test_join_strings",
        ])
        #expect(run.benchmarks.allSatisfy { $0.samples.count == 25 })
        #expect(run.benchmarks[2].batch == 4)
        // stats.median in the file (seconds) equals our median of the raw data (ns).
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: fixture("pytest-benchmark.json"))) as! [String: Any]
        let rows = doc["benchmarks"] as! [[String: Any]]
        for (row, imported) in zip(rows, run.benchmarks) {
            let median = (row["stats"] as! [String: Any])["median"] as! Double
            #expect(close(Statistics.median(imported.samples), median * 1e9, 1e-9))
        }
        #expect(run.revision?.commit?.count == 40)
        #expect(run.machine?.cpuCount ?? 0 > 0)
    }

    @Test func googleBenchmarkRealFileKeepsIterationRowsOnly() throws {
        let run = try Importer.load(path: fixture("google-benchmark.json").path)
        #expect(run.format == .googleBenchmark)
        #expect(run.benchmarks.map(\.name) == ["gbench/BM_SortVector/64", "gbench/BM_SortVector/1024", "gbench/BM_Accumulate"])
        #expect(run.benchmarks.allSatisfy { $0.samples.count == 12 })
        #expect(run.benchmarks.allSatisfy { $0.batch > 1 })
    }

    @Test func importedValuesEqualPythonsParse() throws {
        // python3 -c "import json; d=json.load(open('fixtures/bench/hyperfine.json')); print(repr(d['results'][0]['times'][1]*1e9))"
        let run = try Importer.load(path: fixture("hyperfine.json").path)
        #expect(run.benchmarks[0].samples[1] == 15228680.000000002)
        #expect(run.benchmarks[3].samples[0] == 889401.0000000001)
    }

    @Test func hyperfineRealFile() throws {
        let run = try Importer.load(path: fixture("hyperfine.json").path)
        #expect(run.format == .hyperfine)
        let wall = run.benchmarks.filter { !$0.name.contains("[") }
        #expect(wall.map(\.name) == ["hyperfine/sleep 0.01", "hyperfine/true"])
        #expect(wall.allSatisfy { $0.samples.count == 12 })
        #expect(Statistics.median(wall[0].samples) > 9e6)  // sleep 0.01 takes ≥ 10 ms
    }

    @Test(arguments: ["pytest-benchmark.json", "pytest-benchmark-candidate.json", "google-benchmark.json", "hyperfine.json"])
    func typedFastPathEqualsThePathTrackingReader(_ name: String) throws {
        let data = try Data(contentsOf: fixture(name))
        let fast = try #require(FastImport.decode(data, format: nil), "the fast path must accept the real file \(name)")
        let checked = try Importer.loadChecked(path: name, data: data, format: nil)
        #expect(fast.format == checked.format)
        // JSONSerialization (the checked path) can be off by one ulp after its Decimal
        // detour; JSONDecoder parses exactly as Python does. Names, units, batches equal.
        #expect(fast.benchmarks.map(\.name) == checked.benchmarks.map(\.name))
        #expect(fast.benchmarks.map(\.batch) == checked.benchmarks.map(\.batch))
        for (f, c) in zip(fast.benchmarks, checked.benchmarks) {
            #expect(f.samples.count == c.samples.count)
            for (x, y) in zip(f.samples, c.samples) { #expect(close(x, y, 1e-12), "\(f.name): \(x) vs \(y)") }
        }
        #expect(fast.revision == checked.revision)
        #expect(fast.machine == checked.machine)
    }

    func failure(_ json: String, format: ImportFormat? = nil) -> String {
        let url = temporaryDirectory().appendingPathComponent("bad.json")
        try! Data(json.utf8).write(to: url)
        do {
            _ = try Importer.load(path: url.path, format: format)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func malformedFilesNameTheJSONPath() {
        let m1 = failure(#"{"machine_info": {}, "benchmarks": [{"name": "a", "stats": {"data": [1e-6]}}, {"name": "b", "stats": {"data": [1e-6, "fast", 2e-6]}}]}"#)
        #expect(m1.contains("$.benchmarks[1].stats.data[1]") && m1.contains("expected a number, found a string"), "\(m1)")
        #expect(m1.contains("nothing was imported"))
        let m2 = failure(#"{"machine_info": {}, "benchmarks": [{"name": "a", "stats": {"min": 1}}]}"#)
        #expect(m2.contains("$.benchmarks[0].stats") && m2.contains("no raw samples"), "\(m2)")
        let m3 = failure(#"{"results": [{"command": "x", "times": []}]}"#)
        #expect(m3.contains("$.results[0].times") && m3.contains("empty"), "\(m3)")
        let m4 = failure(#"{"context": {}, "benchmarks": [{"name": "BM", "run_type": "iteration", "real_time": 3, "time_unit": "fortnights"}]}"#)
        #expect(m4.contains("$.benchmarks[0].time_unit") && m4.contains("fortnights"), "\(m4)")
        let m5 = failure("{\"results\": [\n{\"command\": \"x\",, }]}")
        #expect(m5.contains("not valid JSON") && m5.contains("line 2"), "\(m5)")
        let m6 = failure(#"{"something": 1}"#)
        #expect(m6.contains("not a pytest-benchmark, Google Benchmark or hyperfine"), "\(m6)")
        let m7 = failure(#"[1, 2]"#)
        #expect(m7.contains("$: expected an object, found an array"), "\(m7)")
        let m8 = failure(#"{"results": [{"command": "x", "times": [0.1, -0.2]}]}"#)
        #expect(m8.contains("$.results[0].times[1]") && m8.contains("negative"), "\(m8)")
    }
}

@Suite struct RunnerTests {
    @Test func subMicrosecondBodiesAreBatchedAndEverySampleKept() async throws {
        let b = Benchmark("noop") { { } }
        let samples = try await BenchmarkRunner(options: RunnerOptions(iterations: 17, warmup: 2)).measure(b, fullName: "t/noop")
        #expect(samples.samples.count == 17)
        #expect(samples.batch > 1)
        #expect(samples.name == "t/noop")
    }

    @Test func throughputBenchmarksReportMBPerSecondHigherIsBetter() async throws {
        let b = Benchmark("sleep-1MB", bytesPerOperation: 1_000_000) { { try await Task.sleep(nanoseconds: 1_000_000) } }
        let s = try await BenchmarkRunner(options: RunnerOptions(iterations: 3, warmup: 0)).measure(b, fullName: "t/tp")
        #expect(s.unit == "MB/s" && s.direction == .higherIsBetter)
        // 10^6 bytes in at least 1 ms: at most 1000 MB/s.
        #expect(s.samples.allSatisfy { $0 > 0 && $0 <= 1_000 })
    }

    @Test func slowBodiesAreNotBatched() async throws {
        let b = Benchmark("sleep") { { try await Task.sleep(nanoseconds: 200_000) } }
        let samples = try await BenchmarkRunner(options: RunnerOptions(iterations: 3, warmup: 0)).measure(b, fullName: "t/sleep")
        #expect(samples.batch == 1)
        #expect(samples.samples.allSatisfy { $0 >= 200_000 })
    }

    @Test func registryHasTheCoreSuiteAndFilterSelects() {
        let all = BenchmarkSelection.select(BenchmarkRegistry.suites, filters: [])
        #expect(all.map(\.name).contains("core/model-call-offline"))
        #expect(Set(all.map(\.name)).count == all.count)
        let some = BenchmarkSelection.select(BenchmarkRegistry.suites, filters: ["chain", "cache"])
        #expect(some.map(\.name) == ["core/chain-10", "core/cache-hit", "metrics/cache-hit"])
    }

    @Test func everyRegisteredBenchmarkRuns() async throws {
        let runner = BenchmarkRunner(options: RunnerOptions(iterations: 2, warmup: 0))
        // Benchmarks switch the process-wide metrics recorder; hold it like other tests do.
        try await ExclusiveMetrics.with(enabled: false) {
            for entry in BenchmarkSelection.select(BenchmarkRegistry.suites, filters: []) {
                let s = try await runner.measure(entry.benchmark, fullName: entry.name)
                #expect(s.samples.count == 2 && s.samples.allSatisfy { $0 > 0 }, "\(entry.name)")
            }
        }
    }

    @Test func externalCommandReportsWallUserSysAndPeakRSS() throws {
        let results = try ExternalCommand(arguments: ["/bin/sh", "-c", "head -c 3000000 /dev/zero | wc -c"]).measure(runs: 3, warmup: 1)
        #expect(results.map(\.name).count == 4)
        #expect(results[0].samples.count == 3 && results[0].samples.allSatisfy { $0 > 0 })
        #expect(results[3].unit == "B" && results[3].samples.allSatisfy { $0 > 100_000 })
    }

    @Test func failingOrMissingCommandIsAnError() {
        #expect(throws: BenchError.self) { try ExternalCommand(arguments: ["/bin/false"]).measure(runs: 1, warmup: 0) }
        #expect(throws: BenchError.self) { try ExternalCommand(arguments: ["/no/such/program"]).measure(runs: 1, warmup: 0) }
        #expect(throws: Never.self) { try ExternalCommand(arguments: ["/bin/false"]).measure(runs: 1, warmup: 0, ignoreFailure: true) }
    }
}

@Suite struct ImporterRobustnessTests {
    /// Deterministic mutations of the real files: every one either imports or throws a
    /// BenchError naming the file; none crashes, none throws anything else.
    @Test(arguments: ["pytest-benchmark.json", "google-benchmark.json", "hyperfine.json"])
    func mutatedFilesNeverCrash(_ name: String) throws {
        let original = Array(try Data(contentsOf: fixture(name)))
        let replacements: [[UInt8]] = ["null", "true", "\"x\"", "-1", "[]", "{}", "1e999", "", "\"", "]", "}", ","].map { Array($0.utf8) }
        var g = SeededGenerator(seed: StableHash.of(name))
        let dir = temporaryDirectory()
        let url = dir.appendingPathComponent("mutated.json")
        var imported = 0
        var rejected = 0
        for _ in 0..<150 {
            var bytes = original
            for _ in 0..<(1 + Int(g.next() % 3)) {
                let at = Int(g.next() % UInt64(bytes.count))
                let length = min(Int(g.next() % 12), bytes.count - at)
                bytes.replaceSubrange(at..<(at + length), with: replacements[Int(g.next() % UInt64(replacements.count))])
            }
            try Data(bytes).write(to: url)
            do {
                let run = try Importer.load(path: url.path)
                #expect(!run.benchmarks.isEmpty)
                imported += 1
            } catch let e as BenchError {
                #expect(e.message.contains(url.path), "\(e.message)")
                rejected += 1
            }
        }
        #expect(imported + rejected == 150)
        #expect(rejected > 0)
    }
}
