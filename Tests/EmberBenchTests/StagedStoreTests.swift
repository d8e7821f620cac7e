import CSQLite
import EmberBench
import EmberUtils
import Foundation
import Testing

/// A first import builds its SQLite store in a temporary file beside the target and links
/// it into place (`BenchStore.staged`): the result must be the store the usual path makes,
/// and nothing may be left behind or replaced.
@Suite struct StagedStoreTests {
    /// Runs that exercise the writer's batching: full 16-row statements, a rest, process
    /// sizes (uniform and not), units, directions, a second run over the same names.
    static func runs() -> [NewRun] {
        var first: [BenchmarkSamples] = []
        for i in 0..<37 {
            first.append(BenchmarkSamples(name: "suite/b\(i)", samples: (0..<(i % 5 + 1)).map { Double(i) + Double($0) / 7 }))
        }
        first.append(.onePerProcess(name: "cmd/x", unit: "ns", samples: [3, 1, 2, 5]))
        first.append(BenchmarkSamples(name: "cmd/x [peak RSS]", unit: "B", direction: .higherIsBetter, samples: [10, 20, 30], batch: 3))
        var uneven = BenchmarkSamples(name: "suite/uneven", samples: [])
        uneven.appendProcess([1, 2, 3])
        uneven.appendProcess([4])
        first.append(uneven)
        let second = (0..<20).map { BenchmarkSamples(name: "suite/b\($0 * 2)", samples: [Double($0)]) } + [
            BenchmarkSamples(name: "suite/new", samples: [9])
        ]
        return [newRun(first), newRun(second, commit: "beef", branch: "feature")]
    }

    @Test func aStagedStoreIsTheStoreTheUsualPathMakes() throws {
        let dir = temporaryDirectory()
        let usual = dir.appendingPathComponent("usual.sqlite").path
        let target = dir.appendingPathComponent("staged.sqlite").path
        do {
            let store = try BenchStore(path: usual)
            for run in Self.runs() { try store.insert(run) }
        }
        let staged = try #require(BenchStore.staged(path: target))
        #expect(staged.store.path == target)
        #expect(!FileManager.default.fileExists(atPath: target), "nothing at the target while it is built")
        for run in Self.runs() { try staged.store.insert(run) }
        #expect(try staged.publish())
        // (Before anything reads them: a read-only connection leaves -wal and -shm files.)
        let listing = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(listing == ["staged.sqlite", "usual.sqlite"], "\(listing)")
        #expect(try sqliteDump(usual) == sqliteDump(target))
        #expect(try sqliteDump(target).contains("journal_mode 'wal'"))
        let reopened = try BenchStore(path: target, mode: .readOnly)
        #expect(try reopened.integrityCheck() == "ok")
        #expect(try reopened.samples(runID: 1)["suite/uneven"]?.processSizes == [3, 1])
        #expect(try reopened.samples(runID: 1)["cmd/x"]?.processSizes == [1, 1, 1, 1])
    }

    @Test func aStoreThatAppearedMeanwhileIsNeitherReplacedNorTouched() throws {
        let dir = temporaryDirectory()
        let target = dir.appendingPathComponent("s.sqlite").path
        let staged = try #require(BenchStore.staged(path: target))
        try staged.store.insert(newRun([series("mine", median: 1)]))
        // Another process creates the store and writes its run first.
        do {
            let other = try BenchStore(path: target)
            try other.insert(newRun([series("theirs", median: 2)]))
        }
        let before = try sqliteDump(target)
        #expect(try staged.publish() == false)
        #expect(try sqliteDump(target) == before)
        #expect(try BenchStore(path: target, mode: .readOnly).benchmarkNames() == ["theirs"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).allSatisfy { $0.hasPrefix("s.sqlite") })
    }

    @Test func aDiscardedStagedStoreLeavesNothing() throws {
        let dir = temporaryDirectory()
        let target = dir.appendingPathComponent("s.sqlite").path
        let staged = try #require(BenchStore.staged(path: target))
        #expect(throws: BenchError.self) {
            try staged.store.write {
                let writer = try staged.store.beginRun(newRun([]))
                for i in 0..<40 { try writer.add(series("x\(i)", median: 1)) }
                throw BenchError("the file had a problem")
            }
        }
        staged.discard()
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func onlyAMissingSQLiteFileIsStaged() throws {
        let dir = temporaryDirectory()
        let existing = dir.appendingPathComponent("s.sqlite").path
        _ = try BenchStore(path: existing)
        #expect(BenchStore.staged(path: existing) == nil)
        #expect(BenchStore.staged(path: "sqlite:" + existing) == nil)
        let orphanWAL = dir.appendingPathComponent("w.sqlite").path
        _ = FileManager.default.createFile(atPath: orphanWAL + "-wal", contents: Data())
        #expect(BenchStore.staged(path: orphanWAL) == nil, "a journal of the target: left to SQLite")
        #expect(BenchStore.staged(path: dir.appendingPathComponent("no/such/dir.sqlite").path) == nil)
        #expect(BenchStore.staged(path: "postgresql://localhost/none") == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["s.sqlite", "w.sqlite-wal"])
    }

    /// A staged store's writer inserts 16 rows per statement: a name given twice is reported
    /// by name wherever the two fall (one statement, two statements, the rest), on a store
    /// with or without earlier benchmarks, and nothing is written; the same on a usual store
    /// (one row per statement).
    @Test(arguments: [(3, 5), (2, 30), (33, 34), (0, 40)])
    func aNameGivenTwiceIsNamedWhereverItFalls(_ first: Int, _ second: Int) throws {
        for (existing, staged) in [(false, false), (true, false), (false, true), (true, true)] {
            let path = temporaryDirectory().appendingPathComponent("s.sqlite").path
            let stage = staged ? BenchStore.staged(path: path) : nil
            defer { stage?.discard() }
            let store = try stage?.store ?? BenchStore(path: path)
            if existing { try store.insert(newRun((0..<50).map { series("b\($0)", median: 1) })) }
            var results = (0..<41).map { series("b\($0)", median: 1) }
            results[second] = series("b\(first)", median: 2)
            #expect {
                try store.insert(newRun(results))
            } throws: { ($0 as? BenchError)?.message.contains("benchmark \"b\(first)\" appears twice in one run") == true }
            // (A staged store is discarded after a failure: its state then is no promise.)
            if !staged {
                #expect(try store.runs().count == (existing ? 1 : 0))
                #expect(try store.incompleteRuns().isEmpty)
            }
        }
    }
}

@Suite struct FirstImportTests {
    /// `ember-bench import` into a missing store: the staged store, the same content as an
    /// import into an existing empty store, and nothing beside it; a failed first import
    /// leaves nothing at all.
    @Test func aFirstImportAppearsWholeAndAFailedOneLeavesNothing() throws {
        let dir = temporaryDirectory()
        func files() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() }
        try Data(bigHyperfineDocument(commands: 100).utf8).write(to: dir.appendingPathComponent("ok.json"))
        try Data(#"{"results": [{"command": "a", "times": [1, 2]}, {"command": "a", "times": [3]}]}"#.utf8)
            .write(to: dir.appendingPathComponent("dup.json"))
        let bad = try cli(["import", "--db", "new.sqlite", "--commit", "c1", "--branch", "b", "dup.json"], in: dir)
        #expect(bad.status == ToolExit.error.rawValue, "\(bad.stderr)")
        #expect(bad.stderr.contains("appears twice"), "\(bad.stderr)")
        #expect(try files() == ["dup.json", "ok.json"])
        let good = try cli(["import", "--db", "new.sqlite", "--commit", "c1", "--branch", "b", "ok.json"], in: dir)
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("imported ok.json (hyperfine, 100 benchmarks) as run 1 (c1 on b)"), "\(good.stdout)")
        #expect(try files() == ["dup.json", "new.sqlite", "ok.json"])
        // The usual path: a store that exists (empty) before the import.
        _ = try BenchStore(path: dir.appendingPathComponent("old.sqlite").path)
        #expect(try cli(["import", "--db", "old.sqlite", "--commit", "c1", "--branch", "b", "ok.json"], in: dir).status == 0)
        /// The import time differs: runs.created_ns is left out.
        func content(_ name: String) throws -> [String] {
            try sqliteDump(dir.appendingPathComponent(name).path).map { line in
                guard line.hasPrefix("runs: ") else { return line }
                var fields = line.split(separator: " ", omittingEmptySubsequences: false)
                fields.remove(at: 2)
                return fields.joined(separator: " ")
            }
        }
        #expect(try content("new.sqlite") == content("old.sqlite"))
        #expect(try content("new.sqlite").contains("journal_mode 'wal'"))
        // A second import goes into the now existing store, as before.
        #expect(try cli(["import", "--db", "new.sqlite", "ok.json"], in: dir).status == 0)
        #expect(try BenchStore(path: dir.appendingPathComponent("new.sqlite").path, mode: .readOnly).runs().count == 2)
    }
}

extension FirstImportTests {
    /// SIGTERM while a first import builds its store: the temporary file goes too (the
    /// signal still ends the process).
    @Test func aTerminatedFirstImportLeavesNothing() throws {
        let dir = temporaryDirectory()
        try Data(bigHyperfineDocument(commands: 20_000).utf8).write(to: dir.appendingPathComponent("big.json"))
        var caught = 0
        var seen: [String] = []
        for _ in 0..<5 where caught == 0 {
            let pid = try spawnWithDefaultSignals(
                emberBenchBinary, ["import", "--db", dir.appendingPathComponent("s.sqlite").path, dir.appendingPathComponent("big.json").path])
            var staging = false
            for _ in 0..<20_000 {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
                if names.contains(where: { $0.hasPrefix(".s.sqlite.new-") }) {
                    staging = true
                    break
                }
                if names.contains("s.sqlite") { break }
                usleep(100)
            }
            if staging { kill(pid, SIGTERM) }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            let signaled = (status & 0x7F) != 0 && (status & 0x7F) != 0x7F
            seen.append("staging \(staging), wait status \(status)")
            if staging && signaled {
                caught += 1
                #expect(status & 0x7F == SIGTERM)
                #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["big.json"])
            }
            try? FileManager.default.removeItem(at: dir.appendingPathComponent("s.sqlite"))
        }
        #expect(caught > 0, "no SIGTERM landed while the store was staged: \(seen)")
    }
}

/// Starts `path args…` with every signal at its default disposition and none blocked (a
/// test runner may block or ignore some, and a child inherits that); output to /dev/null.
func spawnWithDefaultSignals(_ path: String, _ args: [String]) throws -> pid_t {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var all = sigset_t()
    sigfillset(&all)
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setsigmask(&attributes, &none)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + args).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
    if rc != 0 { throw BenchError("cannot start \(path): \(String(cString: strerror(rc)))") }
    return pid
}

/// Everything an SQLite store holds, as comparable lines: the schema, the pragmas that
/// shape the file, and every row of every table in key order.
func sqliteDump(_ path: String) throws -> [String] {
    var db: OpaquePointer?
    guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK else {
        sqlite3_close(db)
        throw BenchError("cannot open \(path)")
    }
    defer { sqlite3_close(db) }
    func rows(_ sql: String) throws -> [String] {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK else {
            throw BenchError("\(sql): \(String(cString: sqlite3_errmsg(db)))")
        }
        defer { sqlite3_finalize(stmt) }
        var out: [String] = []
        while sqlite3_step(stmt) == SQLITE_ROW {
            var fields: [String] = []
            for c in 0..<sqlite3_column_count(stmt) {
                switch sqlite3_column_type(stmt, c) {
                case SQLITE_NULL: fields.append("NULL")
                case SQLITE_INTEGER: fields.append(String(sqlite3_column_int64(stmt, c)))
                case SQLITE_FLOAT: fields.append(String(sqlite3_column_double(stmt, c).bitPattern, radix: 16))
                case SQLITE_BLOB:
                    let n = Int(sqlite3_column_bytes(stmt, c))
                    let p = sqlite3_column_blob(stmt, c)
                    let bytes = p.map { Array(UnsafeRawBufferPointer(start: $0, count: n)) } ?? []
                    fields.append("x'" + bytes.map { String($0, radix: 16) }.joined(separator: ".") + "'")
                default: fields.append("'" + String(cString: sqlite3_column_text(stmt, c)) + "'")
                }
            }
            out.append(fields.joined(separator: " "))
        }
        return out
    }
    var out: [String] = []
    for pragma in ["user_version", "application_id", "page_size", "journal_mode", "encoding", "auto_vacuum"] {
        out += try rows("PRAGMA \(pragma)").map { "\(pragma) \($0)" }
    }
    out += try rows("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name")
    for table in try rows("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") {
        let name = String(table.dropFirst().dropLast())
        out += try rows("SELECT * FROM \(name) ORDER BY 1, 2").map { "\(name): \($0)" }
    }
    return out
}
