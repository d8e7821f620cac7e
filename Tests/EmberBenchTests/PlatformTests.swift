import EmberTestSupport
@testable import EmberBench
import Foundation
import Testing

/// What ember-bench does with plain system calls instead of Foundation's Process, Pipe,
/// ISO8601DateFormatter and removingPercentEncoding (so its static binary needs no ICU).
@Suite struct PlatformTests {
    /// Expected values from Python's datetime.fromisoformat (naive times are UTC).
    @Test(arguments: [
        ("2026-11-26T19:23:28.123456", Int64(1_795_721_008_123_456_000)),
        ("2026-11-26T19:23:28+02:00", 1_795_713_808_000_000_000),
        ("2026-11-26 19:23:28.5-05:30", 1_795_740_808_500_000_000),
        ("2026-11-26T19:23:28.5-0530", 1_795_740_808_500_000_000),
        ("1969-12-31T23:59:59Z", -1_000_000_000),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000_000_000),
    ])
    func timestampsAsPythonReadsThem(text: String, ns: Int64) {
        #expect(parseTimestamp(text) == ns)
    }

    @Test(arguments: ["", "2026-11-26", "2026-13-01T00:00:00", "2026-11-26T19:23", "2026-11-26T19:23:28+2", "2026-11-26T19:23:28.", "2026-11-26T19:23:28 junk"])
    func notTimestamps(text: String) {
        #expect(parseTimestamp(text) == nil)
    }

    @Test func percentDecoding() {
        #expect(StoreLocation.percentDecoded("se%20cr%C3%A9t") == "se crét")
        #expect(StoreLocation.percentDecoded("plain") == "plain")
        #expect(StoreLocation.percentDecoded("bad%2") == nil)
        #expect(StoreLocation.percentDecoded("bad%zz") == nil)
        #expect(StoreLocation.percentDecoded("%FF") == nil)  // not UTF-8
    }

    /// A child that writes far more than a pipe holds to both streams finishes, and both
    /// outputs arrive whole, with its status and the added environment variable.
    @Test func childProcessKeepsBothStreams() throws {
        let script = #"i=0; while [ $i -lt 20000 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done; echo "$EMBER_TEST_VALUE"; exit 3"#
        let outcome = try ChildProcess.run(["/bin/sh", "-c", script], environment: ["EMBER_TEST_VALUE": "seen"])
        #expect(outcome.status == 3)
        let out = String(decoding: outcome.output, as: UTF8.self).split(separator: "\n")
        let err = String(decoding: outcome.errors, as: UTF8.self).split(separator: "\n")
        #expect(out.count == 20_001)
        #expect(out.last == "seen")
        #expect(err.count == 20_000)
        #expect(err.last == "err 19999")
    }

    @Test func childProcessThatCannotStart() {
        #expect(throws: ChildProcess.StartError.self) {
            _ = try ChildProcess.run(["/nonexistent/ember-bench-test-binary"])
        }
    }
}
