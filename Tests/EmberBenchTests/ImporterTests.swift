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

    @Test func googleBenchmarkRealFileKeepsIterationRowsAndCPUTime() throws {
        let run = try Importer.load(path: fixture("google-benchmark.json").path)
        #expect(run.format == .googleBenchmark)
        #expect(run.benchmarks.map(\.name) == [
            "gbench/BM_SortVector/64", "gbench/BM_SortVector/64 [cpu]", "gbench/BM_SortVector/1024",
            "gbench/BM_SortVector/1024 [cpu]", "gbench/BM_Accumulate", "gbench/BM_Accumulate [cpu]",
        ])
        #expect(run.benchmarks.allSatisfy { $0.samples.count == 12 })
        #expect(run.benchmarks.allSatisfy { $0.batch > 1 })
        // One file is one process: its repetitions ran in it.
        #expect(run.benchmarks.allSatisfy { $0.processCount == 1 })
        #expect(run.benchmarks[1].samples[0] == 1.4973833761612968e+02)
    }

    @Test func importedValuesEqualPythonsParse() throws {
        // python3 -c "import json; d=json.load(open('fixtures/bench/hyperfine.json')); print(repr(d['results'][0]['times'][1]*1e9))"
        let run = try Importer.load(path: fixture("hyperfine.json").path)
        #expect(run.benchmarks[0].samples[1] == 15228680.000000002)
        let t = run.benchmarks.first { $0.name == "hyperfine/true" }!
        #expect(t.samples[0] == 889401.0000000001)
    }

    @Test func hyperfineRealFile() throws {
        let run = try Importer.load(path: fixture("hyperfine.json").path)
        #expect(run.format == .hyperfine)
        #expect(run.benchmarks.map(\.name) == [
            "hyperfine/sleep 0.01", "hyperfine/sleep 0.01 [user]", "hyperfine/sleep 0.01 [sys]",
            "hyperfine/true", "hyperfine/true [user]", "hyperfine/true [sys]",
        ])
        let wall = run.benchmarks.filter { !$0.name.contains("[") }
        #expect(wall.allSatisfy { $0.samples.count == 12 && $0.processCount == 12 }, "every hyperfine run is its own process")
        #expect(Statistics.median(wall[0].samples) > 9e6)  // sleep 0.01 takes ≥ 10 ms
        #expect(run.benchmarks[1].samples == [0.0009924999999999997 * 1e9])
    }

    @Test func hyperfineMemoryPerRunIsPeakRSS() throws {
        let json = #"{"results": [{"command": "x", "times": [0.1, 0.2], "user": 0.01, "system": 0.0, "memory_usage_byte": [1700000, 1800000], "exit_codes": [0, 0]}]}"#
        let run = try Importer.load(bytes: Array(json.utf8), name: "m.json")
        let rss = try #require(run.benchmarks.first { $0.name == "hyperfine/x [peak RSS]" })
        #expect(rss.unit == "B" && rss.samples == [1_700_000, 1_800_000] && rss.processCount == 2)
    }

    @Test func severalFilesFormOneRunOneProcessEach() throws {
        let a = try Importer.load(path: fixture("pytest-benchmark.json").path)
        let b = try Importer.load(path: fixture("pytest-benchmark.json").path)
        let h = try Importer.load(path: fixture("hyperfine.json").path)
        let merged = try Importer.merge([a, b], files: ["a", "b"])
        #expect(merged.benchmarks.count == 3)
        #expect(merged.benchmarks.allSatisfy { $0.processSizes == [25, 25] })
        let hh = try Importer.merge([h, h, h], files: ["1", "2", "3"])
        let user = try #require(hh.benchmarks.first { $0.name == "hyperfine/true [user]" })
        #expect(user.processSizes == [1, 1, 1], "the mean user time of each file is one observation")
        #expect(hh.benchmarks.first { $0.name == "hyperfine/true" }?.processCount == 36)
        #expect(throws: BenchError.self) { try Importer.merge([a, h], files: ["a", "h"]) }
    }

    @Test(arguments: ["pytest-benchmark.json", "pytest-benchmark-candidate.json", "google-benchmark.json", "hyperfine.json"])
    func streamingReaderEqualsFoundationsParse(_ name: String) throws {
        // An independent parse of the same file: names and every value agree.
        let run = try Importer.load(path: fixture(name).path)
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: fixture(name))) as! [String: Any]
        var expected: [Double] = []
        if let results = doc["results"] as? [[String: Any]] {
            for r in results { expected += (r["times"] as! [Double]).map { $0 * 1e9 } }
            let got = run.benchmarks.filter { !$0.name.contains("[") }.flatMap(\.samples)
            #expect(zip(got, expected).allSatisfy { close($0, $1, 1e-12) } && got.count == expected.count)
        } else if doc["context"] != nil {
            let rows = (doc["benchmarks"] as! [[String: Any]]).filter { ($0["run_type"] as? String) == "iteration" }
            expected = rows.map { $0["real_time"] as! Double }
            let got = run.benchmarks.filter { !$0.name.contains("[") }.flatMap(\.samples)
            #expect(got.count == expected.count && zip(got, expected).allSatisfy { close($0, $1, 1e-12) })
        } else {
            for (row, b) in zip(doc["benchmarks"] as! [[String: Any]], run.benchmarks) {
                let data = ((row["stats"] as! [String: Any])["data"] as! [Double]).map { $0 * 1e9 }
                #expect(zip(data, b.samples).allSatisfy { close($0, $1, 1e-12) } && data.count == b.samples.count)
            }
        }
    }

    @Test func chunkBoundariesDoNotMatter() throws {
        // Strings, escapes and numbers cut at every position of a 1 MiB chunk boundary:
        // a document padded so its interesting part straddles the first refill.
        let tail = #"{"command": "a \"quoted\" \u00e9 name", "times": [0.011171145, 1.5e-3, 2E+0, 0.015228680000000001]}"#
        for pad in stride(from: 0, to: 120, by: 3) {
            let lead = String(repeating: " ", count: JSONStream.chunk - 110 + pad)
            let json = "{\"results\": [" + lead + tail + "]}"
            let url = temporaryDirectory().appendingPathComponent("c.json")
            try Data(json.utf8).write(to: url)
            let run = try Importer.load(path: url.path)
            #expect(run.benchmarks[0].name == "hyperfine/a \"quoted\" é name", "pad \(pad)")
            #expect(run.benchmarks[0].samples == [0.011171145 * 1e9, 1.5e-3 * 1e9, 2e9, 0.015228680000000001 * 1e9], "pad \(pad)")
        }
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
        var o = RunnerOptions(iterations: 17, warmup: 2)
        o.minimumSampleNs = 20_000
        let samples = try await BenchmarkRunner(options: o).measure(b, fullName: "t/noop")
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

    @Test func aSlowdownRunsTheBodyThatMuchMoreOften() async throws {
        let counter = CallCounter()
        let b = Benchmark("count") { { counter.add() } }
        var o = RunnerOptions(iterations: 4, warmup: 0)
        o.minimumSampleNs = 0
        _ = try await BenchmarkRunner(options: o, slowdowns: ["t/count": 1.5]).measure(b, fullName: "t/count", batch: 10)
        #expect(counter.value == 60, "4 samples × 10 calls × 1.5")
    }

    @Test func slowBodiesGetFewerSamplesWithinTheProcessBudget() async throws {
        let b = Benchmark("sleep") { { try await Task.sleep(nanoseconds: 2_000_000) } }
        var o = RunnerOptions(iterations: 50, warmup: 0)
        o.maximumProcessNs = 10_000_000
        o.minimumIterations = 3
        let s = try await BenchmarkRunner(options: o).measure(b, fullName: "t/sleep")
        #expect(s.samples.count >= 3 && s.samples.count < 50)
    }

    @Test func everyRegisteredBenchmarkRuns() async throws {
        var options = RunnerOptions(iterations: 2, warmup: 0)
        options.minimumSampleNs = 10_000
        let runner = BenchmarkRunner(options: options)
        // Benchmarks switch the process-wide metrics recorder; hold it like other tests do.
        try await ExclusiveMetrics.with(enabled: false) {
            for entry in BenchmarkSelection.select(BenchmarkRegistry.suites, filters: []) {
                let s = try await runner.measure(entry.benchmark, fullName: entry.name)
                #expect(s.samples.count == 2 && s.samples.allSatisfy { $0 > 0 }, "\(entry.name)")
            }
        }
    }

    @Test func externalCommandReportsWallUserSysAndTheCommandsOwnPeakRSS() throws {
        // Without the helper (library use) no peak RSS is recorded: it would be ours.
        let plain = try ExternalCommand(arguments: ["/bin/true"], helper: nil).measure(runs: 2, warmup: 0)
        #expect(plain.map(\.name) == ["command//bin/true", "command//bin/true [user]", "command//bin/true [sys]"])
        // Through the ember-bench binary as helper: the command's own peak, far below
        // this test process's.
        let results = try ExternalCommand(
            arguments: ["/bin/sh", "-c", "head -c 3000000 /dev/zero | wc -c"], helper: emberBenchBinary
        ).measure(runs: 3, warmup: 1)
        #expect(results.map(\.name).count == 4)
        #expect(results[0].samples.count == 3 && results[0].processCount == 3 && results[0].samples.allSatisfy { $0 > 0 })
        #expect(results[3].unit == "B" && results[3].samples.allSatisfy { $0 > 100_000 })
        let ours = Double(ProcessInfo.processInfo.physicalMemory > 0 ? peakRSSOfThisProcess() : 0)
        #expect(results[3].samples.allSatisfy { $0 < ours }, "\(results[3].samples) vs ours \(ours)")
    }

    @Test func failingOrMissingCommandIsAnError() {
        for helper in [nil, emberBenchBinary] {
            #expect(throws: BenchError.self) { try ExternalCommand(arguments: ["/bin/false"], helper: helper).measure(runs: 1, warmup: 0) }
            #expect(throws: BenchError.self) { try ExternalCommand(arguments: ["/no/such/program"], helper: helper).measure(runs: 1, warmup: 0) }
            #expect(throws: Never.self) { try ExternalCommand(arguments: ["/bin/false"], helper: helper).measure(runs: 1, warmup: 0, ignoreFailure: true) }
        }
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

final class CallCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

/// VmHWM of this test process, in bytes.
func peakRSSOfThisProcess() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }
    return 0
}

@Suite struct NumberParsingTests {
    /// The streaming reader's number fast paths against glibc's correctly rounded strtod,
    /// on many random decimals of the shapes Python's repr and hyperfine write.
    @Test func everyNumberEqualsStrtod() throws {
        var g = SeededGenerator(seed: 42)
        var texts: [String] = []
        for i in 0..<60_000 {
            let digits = 1 + Int(g.next() % 19)
            var mantissa = String(1 + g.next() % 9)
            for _ in 1..<digits { mantissa += String(g.next() % 10) }
            let exponent = Int(g.next() % 60) - 40
            switch i % 3 {
            case 0: texts.append("\(mantissa)e\(exponent)")
            case 1:
                // 0.000ddd…: a fraction with leading zeros.
                texts.append("0." + String(repeating: "0", count: Int(g.next() % 6)) + mantissa)
            default:
                let cut = Int(g.next() % UInt64(digits))
                let a = mantissa.prefix(cut)
                texts.append((a.isEmpty ? "0" : String(a)) + "." + mantissa.dropFirst(cut))
            }
        }
        let json = "[" + texts.joined(separator: ",") + "]"
        #expect(try Self.mismatchesWithStrtod(JSONStream(bytes: Array(json.utf8)), texts) == 0)
    }

    /// Reads the JSON array `texts` were written into back from `stream` and counts the
    /// numbers whose bits differ from `strtod`'s (the first few are recorded as issues).
    static func mismatchesWithStrtod(_ stream: JSONStream, _ texts: [String]) throws -> Int {
        try stream.beginArray()
        var first = true
        var k = 0
        var wrong = 0
        while try stream.nextElement(first: &first) {
            let got = try stream.readNumber()
            let expected = strtod(texts[k], nil)
            if got.bitPattern != expected.bitPattern {
                wrong += 1
                if wrong < 5 { Issue.record("\(texts[k]): \(got) vs strtod \(expected)") }
            }
            k += 1
        }
        try stream.expectEnd()
        #expect(k == texts.count)
        return wrong
    }

    /// Random number tokens (the shapes above, signs, exponents with signs, runs of zeros
    /// that fill whole 8-digit steps, tokens longer than the one-pass window) as JSON text.
    static func randomNumberTexts(_ count: Int, seed: UInt64) -> [String] {
        var g = SeededGenerator(seed: seed)
        var texts: [String] = []
        for i in 0..<count {
            let digits = 1 + Int(g.next() % (i % 50 == 0 ? 90 : 21))
            var mantissa = String(1 + g.next() % 9)
            for _ in 1..<digits { mantissa += String(g.next() % 10 < 3 ? 0 : g.next() % 10) }
            let sign = g.next() % 4 == 0 ? "-" : ""
            let zeros = String(repeating: "0", count: Int(g.next() % 20))
            switch i % 4 {
            case 0: texts.append(sign + mantissa + ["e", "E", "e+", "e-", "E-"][Int(g.next() % 5)] + String(g.next() % 40))
            case 1: texts.append(sign + "0." + zeros + mantissa)
            case 2:
                let cut = Int(g.next() % UInt64(digits))
                let a = mantissa.prefix(cut)
                texts.append(sign + (a.isEmpty ? "0" : String(a)) + "." + mantissa.dropFirst(cut) + zeros)
            default: texts.append(sign + "0." + zeros + mantissa + "e-" + String(g.next() % 12))
            }
        }
        return texts
    }

    /// Read from a file of more than two buffer chunks with uneven whitespace, numbers fall
    /// on every position relative to the chunk ends (one pass, refill, two passes): each
    /// equals strtod's, and the stream ends where it should.
    @Test func numbersAcrossBufferChunksEqualStrtod() throws {
        let texts = Self.randomNumberTexts(150_000, seed: 7)
        var json = "["
        for (i, t) in texts.enumerated() {
            if i > 0 { json += "," }
            json += String(repeating: " ", count: i % 7) + (i % 11 == 0 ? "\n" : "") + t
        }
        json += "]"
        #expect(json.utf8.count > 2 * JSONStream.chunk + 100)
        let url = temporaryDirectory().appendingPathComponent("numbers.json")
        try Data(json.utf8).write(to: url)
        for stream in [try JSONStream(path: url.path), JSONStream(bytes: Array(json.utf8))] {
            #expect(try Self.mismatchesWithStrtod(stream, texts) == 0)
        }
    }

    @Test func malformedNumbersAreRejectedOnEveryPath() throws {
        for bad in ["01", "1.", "1e", "1e+", "1.5.3", "-", "--1", "1-2", "1.e5", "-01.5", "0.1e5e", "1+"] {
            for padding in [0, JSONStream.chunk - 3] {
                // With padding, the token starts three bytes before the first chunk ends.
                let json = "[" + String(repeating: " ", count: padding) + bad + "]"
                let url = temporaryDirectory().appendingPathComponent("bad.json")
                try Data(json.utf8).write(to: url)
                for stream in [try JSONStream(path: url.path), JSONStream(bytes: Array(json.utf8))] {
                    try stream.beginArray()
                    var first = true
                    _ = try stream.nextElement(first: &first)
                    #expect(throws: JSONSyntaxError.self, "\(bad)") {
                        _ = try stream.readNumber()
                        try stream.expectEnd()
                    }
                }
            }
        }
    }

    /// The Eisel–Lemire range (≤ 19 digits, exponents -27…27) against strtod: random
    /// mantissas at every exponent, and integers exactly halfway between two doubles (round
    /// to even), written plain and as scaled decimals.
    @Test func eiselLemireRangeEqualsStrtod() throws {
        var g = SeededGenerator(seed: 19)
        var texts: [String] = []
        for q in -27...27 {
            for _ in 0..<2_000 {
                let digits = 1 + Int(g.next() % 19)
                var m = String(1 + g.next() % 9)
                for _ in 1..<digits { m += String(g.next() % 10) }
                texts.append("\(m)e\(q)")
            }
        }
        for _ in 0..<20_000 {
            // k·2^s + 2^(s-1) with a 53-bit k: halfway between two neighbouring doubles.
            let s = 1 + Int(g.next() % 11)
            let k = (UInt64(1) << 52) | (g.next() & ((UInt64(1) << 52) - 1))
            let (v, overflow) = (k << UInt64(s)).addingReportingOverflow(UInt64(1) << UInt64(s - 1))
            if overflow { continue }
            let digits = String(v)
            texts.append(digits)
            let cut = 1 + Int(g.next() % UInt64(digits.count - 1))
            // The same value as d.ddd…eN.
            texts.append(String(digits.prefix(digits.count - cut)) + "." + digits.suffix(cut) + "e\(cut)")
            // And one unit in the last digit on either side.
            texts.append(String(v - 1))
            texts.append(String(v + 1))
        }
        let json = "[" + texts.joined(separator: ",") + "]"
        #expect(try Self.mismatchesWithStrtod(JSONStream(bytes: Array(json.utf8)), texts) == 0)
        // The table itself: 5^q exact for q ≥ 0, and 2^b / 5^-q rounded up below.
        #expect(JSONStream.powersOfFive128[27] == (UInt64(1) << 63, 0))
        #expect(JSONStream.powersOfFive128[27 + 1] == (UInt64(5) << 61, 0))
        #expect(JSONStream.powersOfFive128[27 - 1] == (0xCCCC_CCCC_CCCC_CCCC, 0xCCCC_CCCC_CCCC_CCCD))
    }

    /// The import's median (branch-free quickselect up to 64 values) equals
    /// `Statistics.median` bit for bit: random sizes, ties, runs of equal values.
    @Test func fastMedianEqualsStatisticsMedian() {
        var g = SeededGenerator(seed: 11)
        for trial in 0..<20_000 {
            let n = 1 + Int(g.next() % 130)
            let distinct = trial % 3 == 0 ? 1 + Int(g.next() % 4) : 1_000_000
            let values = (0..<n).map { _ in Double(g.next() % UInt64(distinct)) * 1e-3 + (trial % 5 == 0 ? 0 : 1e-9) }
            var copy = values
            let fast = copy.withUnsafeMutableBufferPointer { ImportBatch.median($0) }
            #expect(fast.bitPattern == Statistics.median(values).bitPattern, "\(values)")
        }
    }

    @Test func eightDigitsAtOnce() {
        var g = SeededGenerator(seed: 3)
        for _ in 0..<10_000 {
            let value = g.next() % 100_000_000
            var text = Array(String(value).utf8)
            text = Array(repeating: UInt8(ascii: "0"), count: 8 - text.count) + text
            #expect(text.withUnsafeBufferPointer { JSONStream.eightDigits($0.baseAddress!) } == value)
            // Any one byte that is not a digit refuses the eight.
            var bad = text
            bad[Int(g.next() % 8)] = [UInt8(ascii: "/"), UInt8(ascii: ":"), UInt8(ascii: "."), UInt8(ascii: "e"), 0, 0xB0, 0xFF][Int(g.next() % 7)]
            #expect(bad.withUnsafeBufferPointer { JSONStream.eightDigits($0.baseAddress!) } == nil)
        }
    }
}
