import Ember
import EmberTestSupport
import Foundation
import Testing

/// These tests switch the process-wide recorder through `ExclusiveMetrics`, which runs
/// them one at a time across all suites and restores the setting.
@Suite(.serialized) struct MetricsTests {
    private func withMetrics<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        try await ExclusiveMetrics.with(enabled: true, body)
    }

    @Test func recordsNameTimeSizesAndTimestamp() async throws {
        let name = "metrics.echo.\(UUID().uuidString)"
        let echo = module(name) { (s: String) in s + s }
        let before = WallClock.nanosecondsSinceEpoch()
        _ = try await withMetrics { try await echo("abc") }
        let mine = MetricsRecorder.shared.snapshot().filter { $0.name == name }
        #expect(mine.count == 1)
        let m = try #require(mine.first)
        #expect(m.inputSizeBytes == 3)
        #expect(m.outputSizeBytes == 6)
        #expect(m.cacheHit == false)
        #expect(m.jitStrategy == nil)
        #expect(m.timestampNs >= before)
    }

    @Test func recordsNothingWhenOff() async throws {
        let name = "metrics.off.\(UUID().uuidString)"
        try await ExclusiveMetrics.with(enabled: false) {
            _ = try await module(name) { (x: Int) in x }(1)
        }
        #expect(MetricsRecorder.shared.snapshot().allSatisfy { $0.name != name })
    }

    @Test func cacheRecordsHitsAndMisses() async throws {
        let inner = "metrics.inner.\(UUID().uuidString)"
        let cached = cache(module(inner) { (x: Int) in x + 1 })
        try await withMetrics {
            _ = try await cached(1)
            _ = try await cached(1)
        }
        let mine = MetricsRecorder.shared.snapshot().filter { $0.name == "cache(\(inner))" }
        #expect(mine.map(\.cacheHit) == [false, true])
    }

    @Test func bufferIsBoundedAndDropsOldest() {
        let r = MetricsRecorder(capacity: 3)
        for i in 0..<5 {
            r.record(OperatorMetrics(name: "m\(i)", executionTimeNs: 1, inputSizeBytes: 0, outputSizeBytes: 0,
                                     cacheHit: false, jitStrategy: nil, timestampNs: UInt64(i)))
        }
        #expect(r.snapshot().map(\.name) == ["m2", "m3", "m4"])
        #expect(r.droppedCount == 2)
        #expect(r.drain().count == 3)
        #expect(r.count == 0)
        #expect(MetricsRecorder.shared.capacity == 10_000)
    }

    @Test func exporterWritesJSONLines() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ember-metrics-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        let r = MetricsRecorder(capacity: 10)
        let exporter = MetricsExporter(recorder: r, sink: try JSONLinesMetricsSink(url: url))
        r.record(OperatorMetrics(name: "a", executionTimeNs: 10, inputSizeBytes: 1, outputSizeBytes: 2,
                                 cacheHit: true, jitStrategy: "basic", timestampNs: 5))
        exporter.flush()
        r.record(OperatorMetrics(name: "b", executionTimeNs: 20, inputSizeBytes: 3, outputSizeBytes: 4,
                                 cacheHit: false, jitStrategy: nil, timestampNs: 6))
        exporter.stop()
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        let decoded = try lines.map { try JSONDecoder().decode(OperatorMetrics.self, from: Data($0.utf8)) }
        #expect(decoded.map(\.name) == ["a", "b"])
        #expect(decoded[0].jitStrategy == "basic")
        #expect(lines[0] == #"{"cacheHit":true,"executionTimeNs":10,"inputSizeBytes":1,"jitStrategy":"basic","name":"a","outputSizeBytes":2,"timestampNs":5}"#)
        #expect(exporter.exportErrors.isEmpty)
    }

    @Test func unwritableMetricsPathNamesTheKey() {
        #expect(throws: EmberError.self) {
            _ = try JSONLinesMetricsSink(url: URL(fileURLWithPath: "/nonexistent-dir/metrics.jsonl"))
        }
    }
}

@Suite struct LegacyAdapterTests {
    final class Summarizer: Operator {
        let maxWords: Int
        init(maxWords: Int) { self.maxWords = maxWords }
        var documentation: String { "Keeps the first words of a text." }
        func forward(_ input: String) async throws -> String {
            input.split(separator: " ").prefix(maxWords).joined(separator: " ")
        }
    }

    final class Plain: Operator {
        func forward(_ input: Int) async throws -> Int { input + 1 }
    }

    @Test func adapterKeepsNameDocumentationAndBehaviour() async throws {
        let m = migrateOperatorToModule(Summarizer(maxWords: 2))
        #expect(m.name == "Summarizer")
        #expect(m.documentation == "Keeps the first words of a text.")
        #expect(try await m("one two three") == "one two")
        let composed = chain(m, module("count") { (s: String) in s.count })
        #expect(try await composed("ab cd ef") == 5)
    }

    @Test func defaultNameIsTheTypeName() async throws {
        let m = migrateOperatorToModule(Plain())
        #expect(m.name == "Plain")
        #expect(m.documentation == "")
        #expect(try await m(1) == 2)
    }
}

@Suite struct EmberErrorTests {
    @Test(arguments: [
        (EmberError.transient(module: "m", message: "x"), true),
        (.timeout(module: "m", seconds: 1), true),
        (.rateLimited(provider: "openai", model: "gpt-4o", retryAfter: 1, message: "x"), true),
        (.http(provider: "openai", model: "gpt-4o", status: 503, message: "x"), true),
        (.http(provider: "openai", model: "gpt-4o", status: 404, message: "x"), false),
        (.authentication(provider: "openai", model: "gpt-4o", status: 401, message: "x"), false),
        (.transport(provider: "openai", model: "gpt-4o", message: "x"), true),
        (.malformedResponse(provider: "openai", model: "gpt-4o", message: "x"), false),
        (.missingAPIKey(provider: "openai", variable: "OPENAI_API_KEY"), false),
        (.permanent(module: "m", message: "x"), false),
    ])
    func retryabilityIsPartOfTheCase(error: EmberError, retryable: Bool) {
        #expect(error.isRetryable == retryable)
        #expect(RetryClassification.isRetryable(error) == retryable)
    }

    @Test func messagesNameTheirSubject() {
        #expect("\(EmberError.transient(module: "summarize", message: "x"))".contains("'summarize'"))
        #expect("\(EmberError.missingAPIKey(provider: "openai", variable: "OPENAI_API_KEY"))".contains("OPENAI_API_KEY"))
        #expect("\(EmberError.http(provider: "anthropic", model: "claude", status: 529, message: "overloaded"))"
            == "anthropic returned HTTP 529 for model 'claude': overloaded")
    }

    @Test func urlErrorsAreClassified() {
        #expect(RetryClassification.isRetryable(URLError(.timedOut)))
        #expect(!RetryClassification.isRetryable(URLError(.cancelled)))
        #expect(RetryClassification.isCancellation(URLError(.cancelled)))
        #expect(!RetryClassification.isRetryable(URLError(.badURL)))
    }
}

@Suite struct UtilsTests {
    @Test func lineTableHandlesLFCRLFAndCR() {
        let t = LineTable(Array("a\nbc\r\nd\re".utf8))
        #expect(t.lineStarts == [0, 2, 6, 8])
        #expect(t.location(of: 0) == (1, 0))
        #expect(t.location(of: 3) == (2, 1))
        #expect(t.location(of: 6) == (3, 0))
        #expect(t.location(of: 8) == (4, 0))
        #expect(t.offset(line: 2, column: 1) == 3)
    }

    @Test func lruListTouchesAndEvictsInOrder() {
        var l = LRUList<Int>()
        for k in [1, 2, 3] { l.touch(k) }
        l.touch(1)
        #expect(l.keysByRecency == [1, 3, 2])
        #expect(l.popLeastRecent() == 2)
        l.remove(3)
        #expect(l.keysByRecency == [1])
        l.touch(4)
        #expect(l.count == 2)
    }

    @Test func stableHashIsFNV1a() {
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c; the separator byte follows in `of`.
        var h = StableHash()
        h.combine(bytes: Array("a".utf8))
        #expect(h.value == 0xaf63_dc4c_8601_ec8c)
        #expect(StableHash.of("ab") != StableHash.of("ba"))
    }
}
