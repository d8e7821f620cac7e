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
    @Test(arguments: StoreKind.testable)
    func freshStoreIsMigratedAndReopens(_ kind: StoreKind) throws {
        let path = try kind.freshLocation()
        do {
            let store = try BenchStore(path: path)
            #expect(try store.schemaVersion == (kind == .sqlite ? BenchStore.migrations : BenchStore.postgresMigrations).count)
            try store.insert(newRun([series("a/x", median: 100)]))
        }
        let again = try BenchStore(path: path)
        #expect(try again.runs().count == 1)
        #expect(try again.integrityCheck() == "ok")
    }

    @Test(arguments: StoreKind.testable)
    func samplesRoundTripExactlyAndNamesAreBoundParameters(_ kind: StoreKind) throws {
        let store = try kind.freshStore()
        // PostgreSQL text holds no NUL (refused with a clear error, below).
        let hostile = "x'); DROP TABLE runs; --\(kind == .sqlite ? "\u{0}" : "\\")é \"quoted\"\t{a,b}"
        let samples = [1.5, 2.25, 1e-9, 3.0e12, 0]
        let id = try store.insert(newRun([BenchmarkSamples(name: hostile, unit: "B", direction: .higherIsBetter, samples: samples, batch: 7)]))
        let back = try store.samples(runID: id)
        #expect(back[hostile]?.samples == samples)
        #expect(back[hostile]?.unit == "B")
        #expect(back[hostile]?.direction == .higherIsBetter)
        #expect(back[hostile]?.batch == 7)
        #expect(try store.runs().count == 1)  // the runs table survived
        #expect(try store.history(benchmark: hostile).count == 1)
        if kind == .postgres {
            #expect {
                try store.insert(newRun([BenchmarkSamples(name: "nul\u{0}name", samples: [1])]))
            } throws: { ($0 as? BenchError)?.message.contains("NUL character") == true }
            #expect(try store.runs().count == 1)
        }
    }

    @Test(arguments: StoreKind.testable)
    func duplicateNamesInOneRunAreRejectedAndNothingIsWritten(_ kind: StoreKind) throws {
        let store = try kind.freshStore()
        #expect(throws: BenchError.self) {
            try store.insert(newRun([series("a", median: 1), series("a", median: 2)]))
        }
        #expect(try store.runs().isEmpty)
    }

    @Test(arguments: [BenchStore.OpenMode.create, .readWrite, .readOnly])
    func newerSchemaIsRefusedAndTheFileIsUntouched(_ mode: BenchStore.OpenMode) throws {
        let path = temporaryDirectory().appendingPathComponent("s.sqlite").path
        do {
            let store = try BenchStore(path: path)
            try store.insert(newRun([series("a", median: 1)]))
        }
        // A store written by a future ember-bench, in rollback-journal mode.
        var db: OpaquePointer?
        sqlite3_open(path, &db)
        sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE; PRAGMA user_version = 99", nil, nil, nil)
        sqlite3_close(db)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        do {
            _ = try BenchStore(path: path, mode: mode)
            Issue.record("a newer schema must be refused")
        } catch let e as BenchError {
            #expect(e.message.contains(path))
            #expect(e.message.contains("schema version 99"))
            #expect(e.message.contains("newer ember-bench"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before, "not a byte changed (the journal mode neither)")
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
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

    @Test(arguments: [BenchStore.OpenMode.create, .readWrite, .readOnly])
    func foreignSQLiteDatabaseIsRefusedBeforeAnythingIsWritten(_ mode: BenchStore.OpenMode) throws {
        for appID in [0, 0x1234] {
            let path = temporaryDirectory().appendingPathComponent("other.sqlite").path
            var db: OpaquePointer?
            sqlite3_open(path, &db)
            sqlite3_exec(db, "PRAGMA application_id = \(appID); CREATE TABLE customers(id INTEGER PRIMARY KEY)", nil, nil, nil)
            sqlite3_close(db)
            let before = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect {
                _ = try BenchStore(path: path, mode: mode)
            } throws: { error in
                let message = (error as? BenchError)?.message ?? ""
                return message.contains(path) && (message.contains("not an ember-bench store") || message.contains("another application"))
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before, "the foreign file was changed (journal mode?)")
            #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        }
    }

    @Test func readOnlyOpeningNeverCreatesOrMigrates() throws {
        let dir = temporaryDirectory()
        let missing = dir.appendingPathComponent("typo.sqlite").path
        #expect(throws: BenchError.self) { _ = try BenchStore(path: missing, mode: .readOnly) }
        #expect(throws: BenchError.self) { _ = try BenchStore(path: missing, mode: .readWrite) }
        #expect(!FileManager.default.fileExists(atPath: missing))
        // A version-1 store is read as it is, not migrated.
        let old = dir.appendingPathComponent("v1.sqlite").path
        var db: OpaquePointer?
        sqlite3_open(old, &db)
        sqlite3_exec(db, BenchStore.migrations[0] + "; PRAGMA user_version = 1; PRAGMA application_id = 1162691154;", nil, nil, nil)
        sqlite3_exec(
            db,
            """
            INSERT INTO machines VALUES (1, 'd', 'cpu', 1, 1, 'os', 'k', 't', 'b');
            INSERT INTO runs VALUES (1, 1, 'c', 'main', 0, 1, 'test', NULL, 1);
            INSERT INTO benchmarks VALUES (1, 'x');
            INSERT INTO results VALUES (1, 1, 'ns', 'lower', 1, 1, 5.0, x'0000000000001440');
            """, nil, nil, nil)
        sqlite3_close(db)
        let before = try Data(contentsOf: URL(fileURLWithPath: old))
        let store = try BenchStore(path: old, mode: .readOnly)
        #expect(try store.schemaVersion == 1)
        #expect(try store.samples(runID: 1)["x"]?.samples == [5.0])
        #expect(try Data(contentsOf: URL(fileURLWithPath: old)) == before)
    }

    @Test(arguments: StoreKind.testable)
    func processSizesRoundTrip(_ kind: StoreKind) throws {
        let store = try kind.freshStore()
        var b = BenchmarkSamples(name: "x", samples: [1, 2, 3], batch: 4)
        b.appendProcess([4, 5])
        let id = try store.insert(newRun([b, BenchmarkSamples(name: "y", samples: [1, 2])]))
        let back = try store.samples(runID: id)
        #expect(back["x"]?.processSizes == [3, 2])
        #expect(back["x"]?.processes().map(Array.init) == [[1, 2, 3], [4, 5]])
        #expect(back["y"]?.processCount == 1)
        // Equal process sizes are stored as one value and read back whole.
        let uniform = BenchmarkSamples(name: "u", samples: Array(repeating: 1, count: 15), processSizes: [5, 5, 5])
        let u = try store.insert(newRun([uniform]))
        #expect(try store.samples(runID: u)["u"]?.processSizes == [5, 5, 5])
        let each = BenchmarkSamples.onePerProcess(name: "e", samples: [1, 2, 3, 4])
        let e = try store.insert(newRun([each]))
        #expect(try store.samples(runID: e)["e"]?.processSizes == [1, 1, 1, 1])
        #expect(throws: BenchError.self) {
            try store.insert(newRun([BenchmarkSamples(name: "z", samples: [1, 2, 3], processSizes: [1, 1])]))
        }
    }

    @Test(arguments: StoreKind.testable)
    func twoConcurrentWritersLoseNothing(_ kind: StoreKind) async throws {
        let path = try kind.freshLocation()
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

    @Test(arguments: StoreKind.testable)
    func namedBaselinesCanBeSetReplacedAndRemoved(_ kind: StoreKind) throws {
        let store = try kind.freshStore()
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
    func found(_ r: BaselineResolution) -> BaselineData? {
        if case .found(let d) = r { return d }
        return nil
    }

    @Test(arguments: StoreKind.testable)
    func namedCommitRunAndBareSpecsResolve(_ kind: StoreKind) throws {
        let store = try kind.freshStore()
        let r1 = try store.insert(newRun([series("x", median: 10)], commit: "abc123"))
        try store.setBaseline("release", runID: r1)
        for spec in [BaselineSpec.named("release"), .auto("release"), .commit("abc"), .run(r1), .auto("main"), .branch("main")] {
            guard let data = found(try store.resolveBaseline(spec, machineDigest: testMachine.digest)) else {
                Issue.record("\(spec) did not resolve")
                continue
            }
            #expect(data.runs[0]["x"] != nil)
            #expect(data.runIDs == [r1])
        }
        guard case .noBaseline = try store.resolveBaseline(.commit("fff"), machineDigest: testMachine.digest) else {
            Issue.record("a missing commit is no-baseline")
            return
        }
        guard case .noBaseline = try store.resolveBaseline(.branch("feature"), machineDigest: testMachine.digest) else {
            Issue.record("a branch without runs is no-baseline (a first run)")
            return
        }
    }

    @Test(arguments: StoreKind.testable)
    func anUnknownNameIsAnErrorListingTheNamesUnlessItIsTheDefault(_ kind: StoreKind) throws {
        let store = try kind.freshStore()
        let r = try store.insert(newRun([series("x", median: 10)], branch: "feature"))
        try store.setBaseline("release", runID: r)
        for spec in [BaselineSpec.auto("nosuch"), .named("nosuch")] {
            do {
                _ = try store.resolveBaseline(spec, machineDigest: testMachine.digest)
                Issue.record("\(spec) must be an error")
            } catch let e as BenchError {
                #expect(e.exitCode == .error)
                #expect(e.message.contains("unknown baseline \"nosuch\""))
                #expect(e.message.contains("baseline names: release"))
                #expect(e.message.contains("branches with runs: feature"))
            }
        }
        guard case .noBaseline = try store.resolveBaseline(.auto("main"), machineDigest: testMachine.digest, isDefault: true) else {
            Issue.record("the default baseline with nothing behind it is a first run")
            return
        }
        #expect(throws: BenchError.self) { try BaselineSpec.parse("run:x") }
        #expect(throws: BenchError.self) { try store.setBaseline("a:b", runID: r) }
    }

    @Test(arguments: StoreKind.testable)
    func aNameWinsOverABranchOfTheSameName(_ kind: StoreKind) throws {
        let store = try kind.freshStore()
        let named = try store.insert(newRun([series("x", median: 10)], branch: "feature"))
        _ = try store.insert(newRun([series("x", median: 20)], branch: "main"))
        try store.setBaseline("main", runID: named)
        let data = try #require(found(try store.resolveBaseline(.auto("main"), machineDigest: testMachine.digest, isDefault: true)))
        #expect(data.runIDs == [named])
        #expect(data.label.contains("baseline main"))
        let branch = try #require(found(try store.resolveBaseline(.branch("main"), machineDigest: testMachine.digest)))
        #expect(branch.runIDs != [named])
    }

    @Test(arguments: StoreKind.testable)
    func anotherMachinesRunIsIncomparableUnlessIgnored(_ kind: StoreKind) throws {
        let store = try kind.freshStore()
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
        #expect(found(try store.resolveBaseline(.named("main"), machineDigest: testMachine.digest, ignoreMachine: true)) != nil)
    }

    @Test(arguments: StoreKind.testable)
    func branchBaselineIsTheLastKMatchingRunsAndTheSpreadGoesFurtherBack(_ kind: StoreKind) throws {
        let store = try kind.freshStore()
        var ids: [Int64] = []
        for m in [100.0, 10, 50, 30, 20, 40] { ids.append(try store.insert(newRun([series("x", median: m)]))) }
        try store.insert(newRun([series("x", median: 1)], machine: otherMachine))
        try store.insert(newRun([series("x", median: 7)], branch: "feature"))
        let data = try #require(found(try store.resolveBaseline(.branch("main"), machineDigest: testMachine.digest, lastK: 5, history: 10)))
        #expect(data.runIDs == Array(ids.suffix(5).reversed()))
        #expect(data.spread.count == 1, "the sixth run (median 100) only informs the spread")
        #expect(data.label.contains("last 5 runs"))
        let single = try #require(found(try store.resolveBaseline(.run(ids[3]), machineDigest: testMachine.digest, history: 3)))
        #expect(single.runs.count == 1 && single.spread.count == 2)
    }
}

@Suite struct MigrationPinTests {
    /// FNV-1a of each shipped migration's SQL. A shipped migration is never edited: a
    /// schema change is a new migration appended to `BenchStore.migrations`, and a new
    /// hash appended here.
    static let shipped: [UInt64] = [0x84359aadb88b4bc2, 0xe94eb9e2cc4749c9]

    @Test func shippedMigrationsAreUnchanged() {
        #expect(BenchStore.migrations.count >= Self.shipped.count)
        for (i, expected) in Self.shipped.enumerated() {
            #expect(StableHash.of(BenchStore.migrations[i]) == expected, "migration \(i + 1) was edited; add a new one instead")
        }
    }
}
