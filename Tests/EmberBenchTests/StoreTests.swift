import CSQLite
import EmberBench
import Foundation
import Testing
import EmberUtils

let testMachine = MachineFingerprint(
    cpuModel: "Test CPU", cpuCount: 2, memoryBytes: 8 << 30, os: "TestOS 1", kernel: "6.1", toolchain: "Swift 6.3",
    buildConfig: "debug")
let otherMachine = MachineFingerprint(
    cpuModel: "Other CPU", cpuCount: 64, memoryBytes: 256 << 30, os: "TestOS 1", kernel: "6.1", toolchain: "Swift 6.3",
    buildConfig: "release")

func newRun(
    _ results: [BenchmarkSamples], commit: String = "c0ffee", branch: String = "main", machine: MachineFingerprint = testMachine
) -> NewRun {
    NewRun(
        revision: SourceRevision(commit: commit, branch: branch, dirty: false), machine: machine, source: "test",
        createdNs: 1, results: results)
}

func series(_ name: String, median: Double, count: Int = 20) -> BenchmarkSamples {
    BenchmarkSamples(name: name, samples: (0..<count).map { median * (0.95 + 0.1 * Double($0) / Double(count - 1)) })
}

@Suite struct StoreTests {
    @Test func freshStoreIsMigratedAndReopens() throws {
        let dir = temporaryDirectory()
        let path = dir.appendingPathComponent("s.sqlite").path
        do {
            let store = try BenchStore(path: path)
            #expect(try store.schemaVersion == BenchStore.migrations.count)
            try store.insert(newRun([series("a/x", median: 100)]))
        }
        let again = try BenchStore(path: path)
        #expect(try again.runs().count == 1)
        #expect(try again.integrityCheck() == "ok")
    }

    @Test func samplesRoundTripExactlyAndNamesAreBoundParameters() throws {
        let store = try BenchStore(path: temporaryDirectory().appendingPathComponent("s.sqlite").path)
        let hostile = "x'); DROP TABLE runs; --\u{0}é \"quoted\""
        let samples = [1.5, 2.25, 1e-9, 3.0e12, 0]
        let id = try store.insert(newRun([BenchmarkSamples(name: hostile, unit: "B", direction: .higherIsBetter, samples: samples, batch: 7)]))
        let back = try store.samples(runID: id)
        #expect(back[hostile]?.samples == samples)
        #expect(back[hostile]?.unit == "B")
        #expect(back[hostile]?.direction == .higherIsBetter)
        #expect(back[hostile]?.batch == 7)
        #expect(try store.runs().count == 1)  // the runs table survived
        #expect(try store.history(benchmark: hostile).count == 1)
    }

    @Test func duplicateNamesInOneRunAreRejectedAndNothingIsWritten() throws {
        let store = try BenchStore(path: temporaryDirectory().appendingPathComponent("s.sqlite").path)
        #expect(throws: BenchError.self) {
            try store.insert(newRun([series("a", median: 1), series("a", median: 2)]))
        }
        #expect(try store.runs().isEmpty)
    }

    @Test func newerSchemaIsRefusedAndTheFileIsUntouched() throws {
        let path = temporaryDirectory().appendingPathComponent("s.sqlite").path
        do {
            let store = try BenchStore(path: path)
            try store.insert(newRun([series("a", median: 1)]))
        }
        // Simulate a store written by a future ember-bench.
        var db: OpaquePointer?
        sqlite3_open(path, &db)
        sqlite3_exec(db, "PRAGMA user_version = 99; PRAGMA wal_checkpoint(TRUNCATE)", nil, nil, nil)
        sqlite3_close(db)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        do {
            _ = try BenchStore(path: path)
            Issue.record("a newer schema must be refused")
        } catch let e as BenchError {
            #expect(e.message.contains(path))
            #expect(e.message.contains("schema version 99"))
            #expect(e.message.contains("newer ember-bench"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test func nonSQLiteFileGivesAClearErrorNamingIt() throws {
        let path = temporaryDirectory().appendingPathComponent("notes.txt").path
        try Data(String(repeating: "this is not a database\n", count: 200).utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try BenchStore(path: path)
            Issue.record("must fail")
        } catch let e as BenchError {
            #expect(e.message.contains(path))
            #expect(e.message.contains("not a usable ember-bench store"))
        }
    }

    @Test func corruptStoreGivesAClearError() throws {
        let path = temporaryDirectory().appendingPathComponent("s.sqlite").path
        do {
            let store = try BenchStore(path: path)
            for i in 0..<20 { try store.insert(newRun([series("b\(i)", median: Double(i + 1), count: 200)])) }
        }
        var db: OpaquePointer?
        sqlite3_open(path, &db)
        sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE", nil, nil, nil)
        sqlite3_close(db)
        // Keep the header, scribble over every page after the first.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        for i in 4096..<bytes.count { bytes[i] = UInt8(truncatingIfNeeded: i &* 31) }
        try bytes.write(to: URL(fileURLWithPath: path))
        do {
            let store = try BenchStore(path: path)
            _ = try store.runs()
            if try store.integrityCheck() == "ok" { Issue.record("corruption went unnoticed") }
        } catch let e as BenchError {
            #expect(e.message.contains(path))
        }
    }

    @Test func foreignSQLiteDatabaseIsRefused() throws {
        let path = temporaryDirectory().appendingPathComponent("other.sqlite").path
        var db: OpaquePointer?
        sqlite3_open(path, &db)
        sqlite3_exec(db, "CREATE TABLE customers(id INTEGER PRIMARY KEY)", nil, nil, nil)
        sqlite3_close(db)
        #expect {
            _ = try BenchStore(path: path)
        } throws: { error in
            let message = (error as? BenchError)?.message ?? ""
            return message.contains(path) && message.contains("not an ember-bench store")
        }
    }

    @Test func twoConcurrentWritersLoseNothing() async throws {
        let path = temporaryDirectory().appendingPathComponent("s.sqlite").path
        _ = try BenchStore(path: path)
        let perWriter = 40
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<2 {
                group.addTask {
                    let store = try BenchStore(path: path)  // its own connection
                    for i in 0..<perWriter {
                        try store.insert(
                            newRun((0..<25).map { series("w\(w)/b\($0)", median: Double(i + 1), count: 50) }, commit: "w\(w)-\(i)"))
                    }
                }
            }
            try await group.waitForAll()
        }
        let store = try BenchStore(path: path)
        let runs = try store.runs()
        #expect(runs.count == 2 * perWriter)
        #expect(Set(runs.compactMap(\.revision.commit)).count == 2 * perWriter)
        #expect(try store.incompleteRuns().isEmpty)
        #expect(try store.integrityCheck() == "ok")
    }

    @Test func namedBaselinesCanBeSetReplacedAndRemoved() throws {
        let store = try BenchStore(path: temporaryDirectory().appendingPathComponent("s.sqlite").path)
        let a = try store.insert(newRun([series("x", median: 1)]))
        let b = try store.insert(newRun([series("x", median: 2)]))
        try store.setBaseline("main", runID: a)
        try store.setBaseline("main", runID: b)
        #expect(try store.baseline(named: "main")?.id == b)
        #expect(try store.baselines().count == 1)
        #expect(throws: BenchError.self) { try store.setBaseline("ghost", runID: 999) }
        #expect(try store.removeBaseline("main"))
        #expect(try store.baseline(named: "main") == nil)
    }
}

@Suite struct BaselineResolutionTests {
    @Test func namedCommitAndRunSpecsResolve() throws {
        let store = try BenchStore(path: temporaryDirectory().appendingPathComponent("s.sqlite").path)
        let r1 = try store.insert(newRun([series("x", median: 10)], commit: "abc123"))
        try store.setBaseline("release", runID: r1)
        for spec in [BaselineSpec.named("release"), .commit("abc"), .run(r1)] {
            guard case .found(let samples, _) = try store.resolveBaseline(spec, machineDigest: testMachine.digest) else {
                Issue.record("\(spec) did not resolve")
                continue
            }
            #expect(samples["x"] != nil)
        }
        guard case .noBaseline = try store.resolveBaseline(.named("nope"), machineDigest: testMachine.digest) else {
            Issue.record("a missing name is no-baseline")
            return
        }
        guard case .noBaseline = try store.resolveBaseline(.commit("fff"), machineDigest: testMachine.digest) else {
            Issue.record("a missing commit is no-baseline")
            return
        }
    }

    @Test func anotherMachinesRunIsIncomparableUnlessIgnored() throws {
        let store = try BenchStore(path: temporaryDirectory().appendingPathComponent("s.sqlite").path)
        let r = try store.insert(newRun([series("x", median: 10)], machine: otherMachine))
        try store.setBaseline("main", runID: r)
        guard case .incomparable(let why) = try store.resolveBaseline(.named("main"), machineDigest: testMachine.digest) else {
            Issue.record("must be incomparable")
            return
        }
        #expect(why.contains("another machine"))
        guard case .incomparable = try store.resolveBaseline(.branch("main"), machineDigest: testMachine.digest) else {
            Issue.record("branch runs from other machines only: incomparable")
            return
        }
        guard case .found = try store.resolveBaseline(.named("main"), machineDigest: testMachine.digest, ignoreMachine: true) else {
            Issue.record("--ignore-machine must allow it")
            return
        }
    }

    @Test func branchBaselineIsTheMedianOfTheLastKMatchingRuns() throws {
        let store = try BenchStore(path: temporaryDirectory().appendingPathComponent("s.sqlite").path)
        // Oldest first: 100 (outside K), then 10, 50, 30, 20, 40 on this machine, 1 on another machine.
        for m in [100.0, 10, 50, 30, 20, 40] { try store.insert(newRun([series("x", median: m)])) }
        try store.insert(newRun([series("x", median: 1)], machine: otherMachine))
        try store.insert(newRun([series("x", median: 7)], branch: "feature"))
        guard case .found(let samples, let label) = try store.resolveBaseline(.branch("main"), machineDigest: testMachine.digest, lastK: 5)
        else {
            Issue.record("must resolve")
            return
        }
        // Last five matching: 10, 50, 30, 20, 40 → median 30.
        #expect(abs(Statistics.median(samples["x"]!.samples) - 30) < 1e-9)
        #expect(label.contains("median of last 5 runs"))
    }
}

@Suite struct MigrationPinTests {
    /// FNV-1a of each shipped migration's SQL. A shipped migration is never edited: a
    /// schema change is a new migration appended to `BenchStore.migrations`, and a new
    /// hash appended here.
    static let shipped: [UInt64] = [0x84359aadb88b4bc2]

    @Test func shippedMigrationsAreUnchanged() {
        #expect(BenchStore.migrations.count >= Self.shipped.count)
        for (i, expected) in Self.shipped.enumerated() {
            #expect(StableHash.of(BenchStore.migrations[i]) == expected, "migration \(i + 1) was edited; add a new one instead")
        }
    }
}
