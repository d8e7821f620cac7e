import EmberBench
import EmberUtils
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The ember-bench binary on a PostgreSQL store: the same exit codes and output as on
/// SQLite, `store copy` both ways, passwords never printed, a dropped connection.
@Suite(.serialized, .enabled(if: PostgresTestServer.available, "\(PostgresTestServer.skipMessage)"))
struct PostgresCLITests {
    /// One command sequence on a store; each step's exit status and stdout, with the
    /// store's location replaced by <db>.
    func transcript(_ db: String, in dir: URL) throws -> [String] {
        let base = (1...5).map { fixture("pytest-reps/base-\($0).json").path }
        let cand = (1...5).map { fixture("pytest-reps/candidate-\($0).json").path }
        try Data(#"{"results": [{"command": "a", "times": [0.1]}, {"command": "a", "times": [0.2]}]}"#.utf8)
            .write(to: dir.appendingPathComponent("dup.json"))
        let steps: [[String]] = [
            ["history", "--db", db],
            ["import", "--db", db, "--one-run", "--commit", "aaaa1111", "--branch", "main"] + base,
            ["baseline", "set", "main", "--db", db, "--run", "1"],
            ["import", "--db", db, "--one-run"] + cand,
            ["compare", "--db", db, "--baseline", "main"],
            ["compare", "--db", db, "--baseline", "main", "--format", "json"],
            ["compare", "--db", db, "--baseline", "nosuch"],
            ["import", "--db", db, "--branch", "feature", "--commit", "cccc3333", fixture("hyperfine.json").path],
            ["compare", "--db", db, "--baseline", "main"],
            ["import", "--db", db, fixture("hyperfine.json").path, "dup.json"],
            ["history", "--db", db],
            ["history", "--db", db, "pytest/test_sample_bench.py::test_fib_15"],
            ["baseline", "list", "--db", db],
            ["baseline", "remove", "nosuch", "--db", db],
            ["report", "--db", db, "--html", "r.html"],
        ]
        return try steps.map { args in
            let r = try cli(args, in: dir)
            let noDates = r.stdout.replacingOccurrences(of: #"\d{4}-\d\d-\d\d \d\d:\d\d"#, with: "<date>", options: .regularExpression)
            return "\(args[0]) \(args.dropFirst().first ?? ""): exit \(r.status)\n" + noDates.replacingOccurrences(of: db, with: "<db>")
        }
    }

    @Test func everyCommandBehavesTheSameOnBothBackends() throws {
        let dir = temporaryDirectory()
        let sqlite = try transcript("s.sqlite", in: dir)
        let pg = try transcript(try PostgresTestServer.get().freshDatabase(), in: dir)
        #expect(sqlite.count == pg.count)
        for (a, b) in zip(sqlite, pg) { #expect(a == b) }
        #expect(sqlite[4].contains("exit 1"), "the golden candidate is a regression: \(sqlite[4])")
    }

    @Test func storeCopyBothWaysIsIdempotent() throws {
        let dir = try goldenStore()
        let pg = try PostgresTestServer.get().freshDatabase()
        let first = try cli(["store", "copy", "--from", "b.sqlite", "--to", pg], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("copied 2 runs") && first.stdout.contains("(0 already there)") && first.stdout.contains("1 set"), "\(first.stdout)")
        let again = try cli(["store", "copy", "--from", "b.sqlite", "--to", pg], in: dir)
        #expect(again.stdout.contains("copied 0 runs") && again.stdout.contains("(2 already there)") && again.stdout.contains("1 unchanged"), "\(again.stdout)")
        let onSQLite = try cli(["compare", "--db", "b.sqlite", "--baseline", "main"], in: dir)
        let onPG = try cli(["compare", "--db", pg, "--baseline", "main"], in: dir)
        #expect(onSQLite.status == onPG.status)
        #expect(onSQLite.stdout.replacingOccurrences(of: "b.sqlite", with: "<db>") == onPG.stdout.replacingOccurrences(of: pg, with: "<db>"))
        let back = try cli(["store", "copy", "--from", pg, "--to", "sqlite:back.sqlite"], in: dir)
        #expect(back.status == 0 && back.stdout.contains("copied 2 runs"), "\(back.stdout)\(back.stderr)")
        let missing = try cli(["store", "copy", "--from", "typo.sqlite", "--to", pg], in: dir)
        #expect(missing.status == ToolExit.error.rawValue && missing.stderr.contains("no store at typo.sqlite"))
    }

    @Test func thePasswordIsNeverPrinted() throws {
        let server = try PostgresTestServer.get()
        let dir = temporaryDirectory()
        for db in [
            "postgresql://postgres:hunter2@/nosuchdb?host=\(server.dir)",
            "host=\(server.dir) user=postgres password=hunter2 dbname=nosuchdb",
            "postgresql:///nosuchdb?host=\(server.dir)&user=postgres&password=hunter2",
            // libpq quotes a URL it cannot parse: the password is scrubbed from its message.
            "postgresql://postgres:hunter2@[::1/nosuchdb",
        ] {
            let r = try cli(["history", "--db", db], in: dir)
            #expect(r.status == ToolExit.error.rawValue)
            #expect(!r.stderr.contains("hunter2") && !r.stdout.contains("hunter2"), "\(r.stderr)")
            #expect(r.stderr.contains("***") && r.stderr.contains("nosuchdb"), "\(r.stderr)")
        }
        // EMBER_BENCH_DB selects the store as --db does.
        let db = try server.freshDatabase()
        let r = try cliWithEnvironment(["import", fixture("hyperfine.json").path], ["EMBER_BENCH_DB": db], in: dir)
        #expect(r.status == 0 && r.stdout.contains("in \(db)") || r.stdout.contains("imported"), "\(r.stdout)\(r.stderr)")
        #expect(try BenchStore(path: db, mode: .readOnly).runs().count == 1)
    }

    @Test func aConnectionDroppedMidImportExits2AndStoresNothing() throws {
        let server = try PostgresTestServer.get()
        let dir = temporaryDirectory()
        try Data(bigHyperfineDocument(commands: 40_000).utf8).write(to: dir.appendingPathComponent("big.json"))
        let url = try server.freshDatabase()
        let name = PostgresTestServer.database(of: url)
        #expect(try cli(["import", "--db", url, "big.json"], in: dir).status == 0)
        var dropped = 0
        for _ in 0..<3 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: emberBenchBinary)
            p.arguments = ["import", "--db", url, dir.appendingPathComponent("big.json").path]
            let err = Pipe()
            p.standardOutput = FileHandle.nullDevice
            p.standardError = err
            try p.run()
            // Once its transaction has written results, end its backend (as a server
            // restart or a network failure would).
            for _ in 0..<2_000 where p.isRunning {
                let busy = try server.psql(
                    "postgres",
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = '\(name)' AND backend_xid IS NOT NULL AND query LIKE 'COPY%'")
                if busy.hasPrefix("1") {
                    try server.psql("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)'")
                    break
                }
                usleep(2_000)
            }
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            if p.terminationStatus == ToolExit.error.rawValue {
                #expect(stderr.contains("lost the connection"), "\(stderr)")
                dropped += 1
            } else {
                #expect(p.terminationStatus == 0, "\(stderr)")
            }
            let store = try BenchStore(path: url, mode: .readOnly)
            #expect(try store.incompleteRuns().isEmpty)
            for run in try store.runs() { #expect(run.benchmarkCount == 40_000) }
        }
        #expect(dropped > 0, "no termination landed during the import")
        let before = try BenchStore(path: url).runs().count
        #expect(try cli(["import", "--db", url, "big.json"], in: dir).status == 0)
        #expect(try BenchStore(path: url).runs().count == before + 1)
    }
}
