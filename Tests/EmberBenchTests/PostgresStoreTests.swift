import EmberBench
import EmberUtils
import Foundation
import Testing

/// `--db` strings and what messages show of them (no server needed).
@Suite struct StoreLocationTests {
    @Test func theDbStringSelectsTheBackend() {
        #expect(StoreLocation("ember-bench.sqlite") == .sqlite(path: "ember-bench.sqlite"))
        #expect(StoreLocation("/tmp/a b/s.sqlite") == .sqlite(path: "/tmp/a b/s.sqlite"))
        #expect(StoreLocation("sqlite:host=x.sqlite") == .sqlite(path: "host=x.sqlite"))
        #expect(StoreLocation("postgresql://ci@db/bench") == .postgres(conninfo: "postgresql://ci@db/bench"))
        #expect(StoreLocation("postgres://db/bench") == .postgres(conninfo: "postgres://db/bench"))
        #expect(StoreLocation("host=db dbname=bench") == .postgres(conninfo: "host=db dbname=bench"))
        #expect(StoreLocation("dbname=bench") == .postgres(conninfo: "dbname=bench"))
        #expect(StoreLocation("./x=y.sqlite") == .sqlite(path: "./x=y.sqlite"))
    }

    @Test func passwordsAreRedacted() {
        #expect(StoreLocation.redact("postgresql://ci:s3cr%40t@db:5432/bench?sslmode=require") == "postgresql://ci:***@db:5432/bench?sslmode=require")
        #expect(StoreLocation.redact("postgres://ci@db/bench?password=s3cret&sslmode=verify-full") == "postgres://ci@db/bench?password=***&sslmode=verify-full")
        #expect(StoreLocation.redact("postgresql://db/bench") == "postgresql://db/bench")
        #expect(StoreLocation.redact("host=db password=s3cret dbname=bench") == "host=db password=*** dbname=bench")
        #expect(StoreLocation.redact("host=db password = 'se cr\\'et' dbname=bench") == "host=db password=*** dbname=bench")
        #expect(!StoreLocation("postgresql://u:hunter2@h/d").redacted.contains("hunter2"))
        #expect(StoreLocation.passwords(in: "postgresql://ci:s3cr%40t@db/bench?password=x2&a=b") == ["s3cr%40t", "s3cr@t", "x2"])
        #expect(StoreLocation.passwords(in: "host=db password='a b' dbname=x") == ["'a b'", "a b"])
        #expect(StoreLocation.passwords(in: "host=db dbname=x").isEmpty)
    }
}

@Suite(.enabled(if: PostgresTestServer.available, "\(PostgresTestServer.skipMessage)"))
struct PostgresStoreTests {
    @Test(arguments: [BenchStore.OpenMode.create, .readWrite, .readOnly])
    func newerSchemaIsRefusedAndTheDatabaseIsUntouched(_ mode: BenchStore.OpenMode) throws {
        let server = try PostgresTestServer.get()
        let url = try server.freshDatabase()
        try BenchStore(path: url).insert(newRun([series("a", median: 1)]))
        try server.psql(PostgresTestServer.database(of: url), "INSERT INTO ember_bench_migrations(version) VALUES (99)")
        let before = try server.dump(url)
        #expect {
            _ = try BenchStore(path: url, mode: mode)
        } throws: { error in
            let m = (error as? BenchError)?.message ?? ""
            return m.contains(url) && m.contains("schema version 99") && m.contains("newer ember-bench")
        }
        #expect(try server.dump(url) == before)
    }

    @Test(arguments: [BenchStore.OpenMode.create, .readWrite, .readOnly])
    func aDatabaseOfAnotherApplicationIsRefusedAndUntouched(_ mode: BenchStore.OpenMode) throws {
        let server = try PostgresTestServer.get()
        let url = try server.freshDatabase()
        // Even a table called runs: without ember_bench_migrations it is not ours.
        try server.psql(PostgresTestServer.database(of: url), "CREATE TABLE customers(id int); CREATE TABLE runs(x text); INSERT INTO runs VALUES ('theirs')")
        let before = try server.dump(url)
        #expect {
            _ = try BenchStore(path: url, mode: mode)
        } throws: { error in
            let m = (error as? BenchError)?.message ?? ""
            return m.contains("not an ember-bench store") && m.contains("2 other tables") && m.contains("was not changed")
        }
        #expect(try server.dump(url) == before)
    }

    @Test func readOnlyOpeningNeitherCreatesNorWrites() throws {
        let server = try PostgresTestServer.get()
        let url = try server.freshDatabase()
        #expect {
            _ = try BenchStore(path: url, mode: .readOnly)
        } throws: { ($0 as? BenchError)?.message.contains("empty, not an ember-bench store yet") == true }
        #expect(try server.psql(PostgresTestServer.database(of: url), "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "0\n")
        try BenchStore(path: url).insert(newRun([series("a", median: 1)]))
        let before = try server.dump(url)
        let reader = try BenchStore(path: url, mode: .readOnly)
        #expect(try reader.runs().count == 1)
        #expect(throws: BenchError.self) { try reader.insert(newRun([series("b", median: 1)])) }
        #expect(try server.dump(url) == before)
    }

    @Test func concurrentFirstOpensMigrateOnceUnderTheAdvisoryLock() async throws {
        let server = try PostgresTestServer.get()
        let url = try server.freshDatabase()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<8 {
                group.addTask { try BenchStore(path: url).insert(newRun([series("w\(w)", median: 1)])) }
            }
            try await group.waitForAll()
        }
        let db = PostgresTestServer.database(of: url)
        #expect(try server.psql(db, "SELECT string_agg(version::text, ',' ORDER BY version) FROM ember_bench_migrations")
            == (1...BenchStore.postgresMigrations.count).map(String.init).joined(separator: ",") + "\n")
        #expect(try BenchStore(path: url).runs().count == 8)
    }

    @Test func aLostConnectionIsAnErrorAndLeavesNoPartialRun() throws {
        let server = try PostgresTestServer.get()
        let url = try server.freshDatabase()
        let db = PostgresTestServer.database(of: url)
        let store = try BenchStore(path: url)
        try store.insert(newRun([series("first", median: 1)]))
        #expect {
            try store.write {
                let writer = try store.beginRun(newRun([]))
                for i in 0..<5_000 { try writer.add(series("b\(i)", median: 1)) }  // two COPY batches are in
                try server.psql("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(db)'")
                for i in 5_000..<5_100 { try writer.add(series("b\(i)", median: 1)) }
                try writer.finish(revision: SourceRevision(commit: "x", branch: "main", dirty: false), machine: testMachine, createdNs: 2)
            }
        } throws: { error in
            let m = (error as? BenchError)?.message ?? "\(error)"
            return m.contains("lost the connection") && m.contains("nothing of the unfinished run was stored")
        }
        let again = try BenchStore(path: url)
        #expect(try again.runs().count == 1)
        #expect(try again.integrityCheck() == "ok")
        try again.insert(newRun([series("next", median: 1)]))
        #expect(try again.runs().count == 2)
    }

    @Test func copyingBetweenSQLiteAndPostgreSQLIsIdempotent() throws {
        let sqlite = try BenchStore(path: StoreKind.sqlite.freshLocation())
        var b = BenchmarkSamples(name: "x", samples: [1, 2, 3], batch: 4)
        b.appendProcess([4, 5])
        let r1 = try sqlite.insert(newRun([b, series("y", median: 3)], commit: "aaa"))
        try sqlite.insert(newRun([series("y", median: 4)], commit: "bbb", branch: "feature", machine: otherMachine))
        try sqlite.setBaseline("main", runID: r1)
        let pg = try BenchStore(path: try PostgresTestServer.get().freshDatabase())
        let first = try StoreCopy.copy(from: sqlite, to: pg)
        #expect(first.copied == 2 && first.present == 0 && first.baselinesSet == 1)
        let again = try StoreCopy.copy(from: sqlite, to: pg)
        #expect(again.copied == 0 && again.present == 2 && again.baselinesUnchanged == 1)
        let main = try #require(try pg.baseline(named: "main"))
        #expect(main.revision.commit == "aaa" && main.machineDigest == testMachine.digest)
        #expect(try pg.samples(runID: main.id) == sqlite.samples(runID: r1))
        // And back into a new SQLite store: the same runs, samples and baselines.
        let back = try BenchStore(path: StoreKind.sqlite.freshLocation())
        #expect(try StoreCopy.copy(from: pg, to: back).copied == 2)
        #expect(try back.runs().map(\.revision) == sqlite.runs().map(\.revision))
        #expect(try back.samples(runID: back.baseline(named: "main")!.id) == sqlite.samples(runID: r1))
    }
}

@Suite struct PostgresMigrationPinTests {
    /// FNV-1a of each shipped PostgreSQL migration, as `MigrationPinTests` for SQLite.
    static let shipped: [UInt64] = [0x94512b3671180955]

    @Test func shippedMigrationsAreUnchanged() {
        #expect(BenchStore.postgresMigrations.count >= Self.shipped.count)
        for (i, expected) in Self.shipped.enumerated() {
            #expect(StableHash.of(BenchStore.postgresMigrations[i]) == expected, "migration \(i + 1) was edited; add a new one instead")
        }
    }
}
