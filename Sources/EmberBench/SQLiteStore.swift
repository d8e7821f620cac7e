import CSQLite
import EmberUtils
import EmberProject
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The SQLite store of runs, raw samples and named baselines.
///
/// Samples are kept as one BLOB of little-endian Float64 per (run, benchmark): measured
/// against one row per sample (see `StoreLayoutMeasurement`), it ingests and loads
/// faster and is far smaller. A run and all its results are written in one
/// transaction, so a crash leaves whole runs only.
final class SQLiteStore: StoreBackend {
    /// Numbered migrations; migration i brings the schema to version i + 1. Never edit
    /// one that has shipped: append a new one.
    public static let migrations: [String] = [
        // 1
        """
        CREATE TABLE machines(
            id INTEGER PRIMARY KEY,
            digest TEXT NOT NULL UNIQUE,
            cpu_model TEXT NOT NULL,
            cpu_count INTEGER NOT NULL,
            memory_bytes INTEGER NOT NULL,
            os TEXT NOT NULL,
            kernel TEXT NOT NULL,
            toolchain TEXT NOT NULL,
            build_config TEXT NOT NULL
        );
        CREATE TABLE runs(
            id INTEGER PRIMARY KEY,
            created_ns INTEGER NOT NULL,
            commit_sha TEXT,
            branch TEXT,
            dirty INTEGER NOT NULL,
            machine_id INTEGER NOT NULL REFERENCES machines(id),
            source TEXT NOT NULL,
            label TEXT,
            benchmark_count INTEGER NOT NULL
        );
        CREATE INDEX runs_by_branch ON runs(branch, id);
        CREATE INDEX runs_by_commit ON runs(commit_sha);
        CREATE TABLE benchmarks(
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE
        );
        CREATE TABLE results(
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            benchmark_id INTEGER NOT NULL REFERENCES benchmarks(id),
            unit TEXT NOT NULL,
            direction TEXT NOT NULL,
            batch INTEGER NOT NULL,
            sample_count INTEGER NOT NULL,
            median REAL NOT NULL,
            samples BLOB NOT NULL,
            PRIMARY KEY(run_id, benchmark_id)
        ) WITHOUT ROWID;
        CREATE INDEX results_by_benchmark ON results(benchmark_id, run_id);
        CREATE TABLE baselines(
            name TEXT PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            set_ns INTEGER NOT NULL
        );
        """,
        // 2: samples per worker process (little-endian Int32 counts; one value k for a
        // run whose every process has k samples; NULL: one process).
        """
        ALTER TABLE results ADD COLUMN process_sizes BLOB;
        """,
    ]

    /// 'EMBR': marks a file as an ember-bench store.
    static let applicationID: Int64 = 0x454D_4252

    typealias OpenMode = BenchStore.OpenMode

    public let path: String
    var location: String { path }
    let db: SQLiteConnection
    /// The schema version of the file as opened (reads adapt to older stores).
    private(set) var version = 0
    /// Built by `stage(target:)`: no journal, no other connection.
    let staging: Bool

    /// Opens the store at `path`. Whatever the mode, a file that is not an ember-bench
    /// store (another application's database, a newer schema, not SQLite at all) is
    /// refused before anything is written to it.
    public convenience init(path: String, mode: OpenMode = .create) throws {
        try self.init(path: path, mode: mode, staging: false)
    }

    /// `staging`: `path` is a new, empty file that no other connection knows of (see
    /// `stage(target:)`), written without a journal and with an exclusive lock.
    private init(path: String, mode: OpenMode, staging: Bool) throws {
        self.path = path
        self.staging = staging
        let exists = ProjectPath.exists(path)
        if ProjectPath.isDirectory(path) { throw BenchError("\(path) is a directory; --db takes a store file") }
        if !exists && mode != .create {
            throw BenchError(
                "no store at \(path); check --db (or $EMBER_BENCH_DB); `ember-bench run` or `ember-bench import` creates one")
        }
        db = try SQLiteConnection(path: path, readOnly: mode == .readOnly)
        sqlite3_busy_timeout(db.handle, 15_000)
        // Read-only checks first: nothing may touch a file that is not ours.
        let (version, appID, tables) = try withBusyRetry {
            (
                Int(try self.db.scalarInt("PRAGMA user_version") ?? 0), try self.db.scalarInt("PRAGMA application_id") ?? 0,
                try self.db.scalarInt("SELECT count(*) FROM sqlite_master WHERE type = 'table'") ?? 0
            )
        }
        try Self.checkOwnership(path: path, version: version, appID: appID, tables: tables)
        if mode == .readOnly {
            if version == 0 {
                throw BenchError("\(path) is empty, not an ember-bench store yet; `ember-bench run` or `ember-bench import` fills it")
            }
            self.version = version
            try db.execute("PRAGMA foreign_keys=ON")
            return
        }
        if version == 0 && tables == 0 {
            // A new store: 16 KiB pages (a sample BLOB of 50 values is 400 bytes; fewer,
            // fuller pages make ingest and reads cheaper). Only possible before WAL.
            try db.execute("PRAGMA page_size=16384")
        }
        if staging {
            // Nobody else can see this file: no journal, no syncs, one lock for the whole
            // build. `publish(to:)` makes it a WAL store and syncs it once.
            try db.execute("PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=OFF")
        } else {
            try withBusyRetry { try self.db.execute("PRAGMA journal_mode=WAL") }
        }
        // A large import writes tens of MB in one transaction: a page cache that holds it
        // (allocated only as used) avoids spilling pages to the WAL and reading them back.
        try db.execute(
            "PRAGMA synchronous=\(staging ? "OFF" : "NORMAL"); PRAGMA foreign_keys=ON; PRAGMA cache_size=-262144; PRAGMA mmap_size=268435456")
        try migrate()
        self.version = Self.migrations.count
    }

    /// Refuses another application's database and a newer schema.
    static func checkOwnership(path: String, version: Int, appID: Int64, tables: Int64) throws {
        if appID != 0 && appID != applicationID {
            throw BenchError(
                "\(path) is an SQLite database of another application (application_id \(appID)); "
                    + "point --db at an ember-bench store or a new file (the file was not changed)")
        }
        if version == 0 && tables > 0 {
            throw BenchError(
                "\(path) is an SQLite database but not an ember-bench store (it has \(tables) other tables); "
                    + "point --db at an ember-bench store or a new file (the file was not changed)")
        }
        if version > migrations.count {
            throw BenchError(
                "\(path) has store schema version \(version), but this ember-bench knows versions up to "
                    + "\(migrations.count); use a newer ember-bench (the store was not changed)")
        }
    }

    public var schemaVersion: Int {
        get throws { Int(try db.scalarInt("PRAGMA user_version") ?? 0) }
    }

    private func migrate() throws {
        try withBusyRetry {
            try self.db.execute("BEGIN IMMEDIATE")
            do {
                try self.applyPendingMigrations()
                try self.db.execute("COMMIT")
            } catch {
                try? self.db.execute("ROLLBACK")
                throw error
            }
        }
    }

    private func applyPendingMigrations() throws {
        // Again inside the write lock: another process may have migrated meanwhile.
        let version = Int(try db.scalarInt("PRAGMA user_version") ?? 0)
        let appID = try db.scalarInt("PRAGMA application_id") ?? 0
        let tables = try db.scalarInt("SELECT count(*) FROM sqlite_master WHERE type = 'table'") ?? 0
        try Self.checkOwnership(path: path, version: version, appID: appID, tables: tables)
        for index in version..<Self.migrations.count {
            try db.execute(Self.migrations[index])
            try db.execute("PRAGMA user_version = \(index + 1)")
        }
        if appID == 0 { try db.execute("PRAGMA application_id = \(Self.applicationID)") }
    }

    /// Runs `body` again while another writer holds the lock beyond the busy timeout.
    func withBusyRetry<T>(_ body: () throws -> T) throws -> T {
        var attempt = 0
        while true {
            do {
                return try body()
            } catch let busy as SQLiteBusy {
                attempt += 1
                if attempt >= 40 { throw BenchError("\(busy.message); gave up after \(attempt) attempts") }
                usleep(UInt32(min(200_000, 5_000 * attempt)))
            }
        }
    }

    /// Runs `body` in one write transaction, retried whole on contention.
    func writeTransaction<T>(_ body: () throws -> T) throws -> T {
        try withBusyRetry {
            try db.execute("BEGIN IMMEDIATE")
            do {
                let value = try body()
                try db.execute("COMMIT")
                return value
            } catch {
                try? db.execute("ROLLBACK")
                throw error
            }
        }
    }

    // MARK: writing

    /// Writes a run and all its results atomically; returns the run id.
    @discardableResult
    public func insert(_ run: NewRun) throws -> Int64 {
        try writeTransaction { try insertInTransaction(run) }
    }

    /// Writes several runs in one transaction: all or none.
    @discardableResult
    public func insert(all runs: [NewRun]) throws -> [Int64] {
        try writeTransaction { try runs.map { try insertInTransaction($0) } }
    }

    private func insertInTransaction(_ run: NewRun) throws -> Int64 {
        let writer = try RunWriter(store: self, run: run)
        for r in run.results { try writer.add(r) }
        return try writer.finish(revision: run.revision, machine: run.machine, createdNs: run.createdNs)
    }

    /// Writes one run's results one by one inside an open write transaction (a streaming
    /// import adds them as the file is parsed), then completes the run's row.
    public final class RunWriter: RunSink {
        let store: SQLiteStore
        public let runID: Int64
        /// Results inserted (`pending` not counted).
        private(set) var count = 0
        private let findName: SQLiteStatement
        private let insertName: SQLiteStatement
        private let insertResult: SQLiteStatement
        /// The same inserts for `rowsPerStatement` rows at once, made when first needed.
        private var insertNames: SQLiteStatement?
        private var insertResults: SQLiteStatement?
        /// No benchmark existed when the run began: every name is new, no lookup needed.
        private let freshNames: Bool
        /// Added, not inserted yet: they go in `rowsPerStatement` at a time.
        private var pending: [BenchmarkSamples] = []
        private var pendingMedians: [Double] = []
        /// The texts and BLOBs of one statement's rows, bound without SQLite copying them.
        private var staging: UnsafeMutableRawBufferPointer

        /// Rows per INSERT: one statement of 16 rows costs about 40% less SQLite CPU than 16
        /// statements of one row (each step opens cursors, seeks, and ends a statement).
        ///
        /// Only in a store being staged: elsewhere SQLite runs a multi-row INSERT with a
        /// statement journal, a temporary file that gets a copy of every page the statement
        /// changes (a second import of 1,000,000 samples into a WAL store wrote 270 MB to
        /// it, 33,000 writes), where one row per statement needs none.
        let rowsPerStatement: Int

        init(store: SQLiteStore, run: NewRun) throws {
            self.store = store
            let db = store.db
            let machineID = try store.machineID(for: run.machine)
            let insertRun = try db.prepare(
                """
                INSERT INTO runs(created_ns, commit_sha, branch, dirty, machine_id, source, label, benchmark_count)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
            try insertRun.run([
                .int(run.createdNs), run.revision.commit.map { .text($0) } ?? .null,
                run.revision.branch.map { .text($0) } ?? .null, .int(run.revision.dirty ? 1 : 0), .int(machineID),
                .text(run.source), run.label.map { .text($0) } ?? .null, .int(0),
            ])
            runID = db.lastInsertRowID
            findName = try db.prepare("SELECT id FROM benchmarks WHERE name = ?")
            insertName = try db.prepare(Self.insertNamesSQL(rows: 1))
            insertResult = try db.prepare(Self.insertResultsSQL(rows: 1))
            freshNames = try db.scalarInt("SELECT 1 FROM benchmarks LIMIT 1") == nil
            rowsPerStatement = store.staging ? 16 : 1
            pending.reserveCapacity(rowsPerStatement)
            pendingMedians.reserveCapacity(rowsPerStatement)
            staging = .allocate(byteCount: 1 << 16, alignment: 8)
        }

        deinit { staging.deallocate() }

        static func insertNamesSQL(rows: Int) -> String {
            "INSERT INTO benchmarks(name) VALUES " + Array(repeating: "(?)", count: rows).joined(separator: ", ")
        }

        static func insertResultsSQL(rows: Int) -> String {
            "INSERT INTO results(run_id, benchmark_id, unit, direction, batch, sample_count, median, samples, process_sizes) VALUES "
                + Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?)", count: rows).joined(separator: ", ")
        }

        /// The id of a benchmark name, added when new (a lookup, then a plain insert: cheaper
        /// than an upsert with RETURNING).
        private func benchmarkID(_ name: String) throws -> Int64 {
            if !freshNames {
                try findName.bind(1, name)
                defer { findName.reset() }
                if try findName.step() { return findName.int(0) }
            }
            try insertName.bind(1, name)
            defer { insertName.reset() }
            try insertName.step()
            return store.db.lastInsertRowID
        }

        public func add(_ r: BenchmarkSamples) throws { try add(r, median: Statistics.median(r.samples)) }

        /// `add` with the median of `r.samples` computed already (by the parsing thread).
        /// The row is inserted with the next ones (at the latest by `finish`); a name that
        /// appears twice is reported then.
        public func add(_ r: BenchmarkSamples, median: Double) throws {
            try Self.check(r)
            pending.append(r)
            pendingMedians.append(median)
            if pending.count == rowsPerStatement { try flush() }
        }

        /// `add` for each of `batch`, whose medians are `medians`; full statements straight
        /// from the batch.
        public func add(contentsOf batch: [BenchmarkSamples], medians: [Double]) throws {
            let k = rowsPerStatement
            var i = 0
            while i < batch.count && !pending.isEmpty {
                try add(batch[i], median: medians[i])
                i += 1
            }
            if k > 1 && batch.count - i >= k { try prepareMany() }
            while k > 1 && batch.count - i >= k {
                for j in i..<(i + k) { try Self.check(batch[j]) }
                try insert(batch[i..<(i + k)], medians: medians[i..<(i + k)], names: insertNames!, results: insertResults!)
                i += k
            }
            while i < batch.count {
                try add(batch[i], median: medians[i])
                i += 1
            }
        }

        private static func check(_ r: BenchmarkSamples) throws {
            if r.processSizes.count > 1 {
                guard r.processSizes.reduce(0, +) == r.samples.count, r.processSizes.allSatisfy({ $0 > 0 }) else {
                    throw BenchError("benchmark \"\(r.name)\": process sizes do not add up to its \(r.samples.count) samples")
                }
            }
        }

        private func prepareMany() throws {
            if insertResults != nil { return }
            insertNames = try store.db.prepare(Self.insertNamesSQL(rows: rowsPerStatement))
            insertResults = try store.db.prepare(Self.insertResultsSQL(rows: rowsPerStatement))
        }

        /// Inserts the pending rows: a full set with one statement per table, a rest row by row.
        private func flush() throws {
            if pending.isEmpty { return }
            defer {
                pending.removeAll(keepingCapacity: true)
                pendingMedians.removeAll(keepingCapacity: true)
            }
            if pending.count == rowsPerStatement && rowsPerStatement > 1 {
                try prepareMany()
                try insert(pending[...], medians: pendingMedians[...], names: insertNames!, results: insertResults!)
            } else {
                for i in pending.indices {
                    try insert(pending[i...i], medians: pendingMedians[i...i], names: insertName, results: insertResult)
                }
            }
        }

        /// Inserts `rows` with `names` and `results`, statements for exactly that many rows.
        private func insert(
            _ rows: ArraySlice<BenchmarkSamples>, medians: ArraySlice<Double>, names: SQLiteStatement, results: SQLiteStatement
        ) throws {
            // (Through a buffer pointer: the rows' fields are read in place, not copied.)
            try rows.withUnsafeBufferPointer { rows in
                try medians.withUnsafeBufferPointer { medians in
                    try insert(rows, medians: medians, names: names, results: results)
                }
            }
            count += rows.count
        }

        private func insert(
            _ rows: UnsafeBufferPointer<BenchmarkSamples>, medians: UnsafeBufferPointer<Double>, names: SQLiteStatement,
            results: SQLiteStatement
        ) throws {
            // Every text and BLOB is copied once, into `staging`, and bound from there.
            var size = 0
            for j in rows.indices {
                size += rows[j].name.utf8.count + rows[j].unit.utf8.count + rows[j].direction.rawValue.utf8.count
                size += rows[j].samples.count * 8 + (rows[j].processSizes.count > 1 ? rows[j].processSizes.count * 4 : 0)
            }
            if size > staging.count {
                staging.deallocate()
                staging = .allocate(byteCount: max(size, staging.count * 2), alignment: 8)
            }
            let base = staging.baseAddress!
            var offset = 0
            func put(_ text: String) -> UnsafeBufferPointer<UInt8> {
                var copy = text
                return copy.withUTF8 { bytes in
                    let at = base + offset
                    if let p = bytes.baseAddress { at.copyMemory(from: p, byteCount: bytes.count) }
                    offset += bytes.count
                    return UnsafeBufferPointer(start: at.assumingMemoryBound(to: UInt8.self), count: bytes.count)
                }
            }
            func put(_ values: [Double]) -> UnsafeRawBufferPointer {
                values.withUnsafeBytes { bytes in
                    let at = base + offset
                    if let p = bytes.baseAddress { at.copyMemory(from: p, byteCount: bytes.count) }
                    offset += bytes.count
                    return UnsafeRawBufferPointer(start: at, count: bytes.count)
                }
            }
            /// The first `count` sizes as little-endian Int32.
            func put(sizes: [Int], count: Int) -> UnsafeRawBufferPointer {
                let at = base + offset
                for i in 0..<count { at.storeBytes(of: Int32(clamping: sizes[i]).littleEndian, toByteOffset: 4 * i, as: Int32.self) }
                offset += 4 * count
                return UnsafeRawBufferPointer(start: at, count: 4 * count)
            }
            do {
                var firstID: Int64 = 0
                if freshNames {
                    // Every name is new: one insert; rowids are given in order, after the last.
                    for j in rows.indices { try names.bindStatic(Int32(j + 1), text: put(rows[j].name)) }
                    defer { names.rewind() }
                    try names.step()
                    firstID = store.db.lastInsertRowID - Int64(rows.count) + 1
                }
                for j in rows.indices {
                    let c = Int32(j * 9)
                    try results.bind(c + 1, runID)
                    try results.bind(c + 2, freshNames ? firstID + Int64(j) : try benchmarkID(rows[j].name))
                    try results.bindStatic(c + 3, text: put(rows[j].unit))
                    try results.bindStatic(c + 4, text: put(rows[j].direction.rawValue))
                    try results.bind(c + 5, Int64(rows[j].batch))
                    try results.bind(c + 6, Int64(rows[j].samples.count))
                    try results.bind(c + 7, medians[j])
                    try results.bindStatic(c + 8, blob: put(rows[j].samples))
                    let sizes = rows[j].processSizes
                    if sizes.count > 1 {
                        // Equal sizes (k samples in every process, as workers and command runs
                        // give) are stored as the one value k.
                        let first = sizes[0]
                        let uniform = sizes.allSatisfy { $0 == first }
                        try results.bindStatic(c + 9, blob: put(sizes: sizes, count: uniform ? 1 : sizes.count))
                    } else {
                        try results.bindNull(c + 9)
                    }
                }
                defer { results.rewind() }
                try results.step()
            } catch let e as BenchError
                where e.message.contains("UNIQUE constraint") || e.message.contains("PRIMARY KEY")
            {
                throw try duplicateError(rows.map(\.name)) ?? e
            }
        }

        /// After a failed insert of `names` (in order): one that appears twice in this run.
        /// Without a journal (a staged store) the failed statement's rows before the
        /// failing one stay: those are in the run too, and come first. So the answer is a
        /// name given twice within `names`, else the last of the first run of names already
        /// in the run: the failing row, or a later one that is a duplicate as well.
        private func duplicateError(_ names: [String]) throws -> BenchError? {
            func error(_ name: String) -> BenchError {
                BenchError("benchmark \"\(name)\" appears twice in one run; names must be unique")
            }
            var seen = Set<String>()
            var candidate: String?
            let stored = try store.db.prepare(
                "SELECT 1 FROM results r JOIN benchmarks b ON b.id = r.benchmark_id WHERE r.run_id = ? AND b.name = ?")
            for name in names {
                if !seen.insert(name).inserted { return error(name) }
                try stored.bind([.int(runID), .text(name)])
                let inRun = try stored.step()
                stored.reset()
                if inRun {
                    candidate = name
                } else if let candidate {
                    return error(candidate)
                }
            }
            return candidate.map(error)
        }

        /// Completes the run: its benchmark count, and what the file said last (its
        /// revision, machine, date).
        @discardableResult
        public func finish(
            revision: SourceRevision, machine: MachineFingerprint, createdNs: Int64, source: String? = nil
        ) throws -> Int64 {
            try flush()
            let machineID = try store.machineID(for: machine)
            let update = try store.db.prepare(
                "UPDATE runs SET benchmark_count = ?, commit_sha = ?, branch = ?, dirty = ?, machine_id = ?, created_ns = ?, source = coalesce(?, source) WHERE id = ?")
            try update.run([
                .int(Int64(count)), revision.commit.map { .text($0) } ?? .null, revision.branch.map { .text($0) } ?? .null,
                .int(revision.dirty ? 1 : 0), .int(machineID), .int(createdNs), source.map { .text($0) } ?? .null, .int(runID),
            ])
            return runID
        }

        /// Results added so far.
        public var written: Int { count + pending.count }
    }

    /// Runs `body` in one write transaction (retried whole on contention); the body
    /// starts run writers with `beginRun`. Foreign-key checks are off meanwhile: a run
    /// writer inserts only the ids it just made or looked up (two index lookups less per
    /// result of a large import).
    public func write<T>(_ body: () throws -> T) throws -> T {
        try db.execute("PRAGMA foreign_keys=OFF")
        defer { try? db.execute("PRAGMA foreign_keys=ON") }
        return try writeTransaction(body)
    }

    /// Starts a run inside `write { … }`.
    public func beginRun(_ run: NewRun) throws -> any RunSink { try RunWriter(store: self, run: run) }

    // MARK: a new store built beside its place

    /// For a first import into `target`, a store file that does not exist yet: the store is
    /// built in a new temporary file beside it (`.NAME.new-PID-RANDOM`) without a journal,
    /// then `publish(to:)` syncs it and links it into place, so a crash or a failed import
    /// never shows a half-written store at `target`, and the data is written once instead
    /// of twice (WAL, then checkpoint). nil when `target` (or a journal of it) exists or the
    /// temporary file cannot be made: the caller opens `target` as usual.
    static func stage(target: String) -> SQLiteStore? {
        for suffix in ["", "-wal", "-journal"] {
            var st = stat()
            if lstat(target + suffix, &st) == 0 || errno != ENOENT { return nil }
        }
        let slash = target.lastIndex(of: "/")
        let directory = slash.map { String(target[...$0]) } ?? ""
        let name = slash.map { String(target[target.index(after: $0)...]) } ?? target
        if name.isEmpty { return nil }
        let temp = "\(directory).\(name).new-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 36))"
        // O_EXCL: this process's own new file; the mode as SQLite would create it.
        // (The handler first: from its first moment the file goes with the process.)
        StagedFileCleanup.watch(temp)
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 {
            StagedFileCleanup.release()
            return nil
        }
        close(fd)
        do {
            return try SQLiteStore(path: temp, mode: .create, staging: true)
        } catch {
            removeStaged(temp)
            return nil
        }
    }

    /// Completes a store made by `stage(target:)` (every write committed): switches it to
    /// WAL (as every store is), closes it, syncs it, and links it to `target` only if no
    /// file appeared there meanwhile (a concurrent creator's store is never replaced).
    /// True when placed; false when `target` exists now or the file system cannot link
    /// (the staged file is removed and nothing at `target` was touched). On an error
    /// nothing is placed.
    func publish(to target: String) throws -> Bool {
        defer { Self.removeStaged(path) }
        try db.execute("PRAGMA locking_mode=NORMAL; PRAGMA journal_mode=WAL")
        try db.close()
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 || fsync(fd) != 0 {
            let message = String(cString: strerror(errno))
            if fd >= 0 { close(fd) }
            throw BenchError("cannot write the store \(target): \(message)")
        }
        close(fd)
        // link(2) fails with EEXIST instead of replacing: atomic, no window. A file system
        // without hard links (FAT, some network and FUSE ones) refuses it: the caller then
        // imports the usual way.
        if link(path, target) != 0 {
            let e = errno
            if [EEXIST, EPERM, ENOTSUP, EOPNOTSUPP, ENOSYS, EMLINK, EXDEV].contains(e) { return false }
            throw BenchError("cannot create the store \(target): \(String(cString: strerror(e)))")
        }
        let slash = target.lastIndex(of: "/")
        let directory = slash.map { String(target[...$0]) } ?? "."
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
        return true
    }

    /// Drops a staged store that will not be published.
    func discardStaged() {
        try? db.close()
        Self.removeStaged(path)
    }

    private static func removeStaged(_ temp: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] { unlink(temp + suffix) }
        StagedFileCleanup.release()
    }

    /// After a failed write into a store this command created: remove the file again when
    /// it holds no run (nothing is left behind by an import that imported nothing).
    public static func removeIfEmpty(path: String) {
        guard let store = try? SQLiteStore(path: path, mode: .readOnly), (try? store.runs(limit: 1))?.isEmpty == true else { return }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    func machineID(for m: MachineFingerprint) throws -> Int64 {
        let digest = m.digest
        if let id = try db.scalarInt("SELECT id FROM machines WHERE digest = ?", [.text(digest)]) { return id }
        let s = try db.prepare(
            """
            INSERT INTO machines(digest, cpu_model, cpu_count, memory_bytes, os, kernel, toolchain, build_config)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        try s.run([
            .text(digest), .text(m.cpuModel), .int(Int64(m.cpuCount)), .int(m.memoryBytes), .text(m.os),
            .text(m.kernel), .text(m.toolchain), .text(m.buildConfig),
        ])
        return db.lastInsertRowID
    }

    /// Names `runID` as baseline `name` (replacing an earlier one of that name).
    public func setBaseline(_ name: String, runID: Int64) throws {
        try BaselineSpec.validateName(name)
        try writeTransaction {
            guard try run(id: runID) != nil else { throw BenchError("no run \(runID) in \(path); see `ember-bench history`") }
            let s = try db.prepare(
                "INSERT INTO baselines(name, run_id, set_ns) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET run_id = excluded.run_id, set_ns = excluded.set_ns"
            )
            try s.run([.text(name), .int(runID), .int(Int64(WallClock.nanosecondsSinceEpoch()))])
        }
    }

    public func removeBaseline(_ name: String) throws -> Bool {
        try writeTransaction {
            let s = try db.prepare("DELETE FROM baselines WHERE name = ?")
            try s.run([.text(name)])
            return sqlite3_changes(db.handle) > 0
        }
    }

    // MARK: reading

    private static let runColumns = """
        r.id, r.created_ns, r.commit_sha, r.branch, r.dirty, r.source, r.label, r.benchmark_count,
        m.digest, m.cpu_model, m.cpu_count, m.memory_bytes, m.os, m.kernel, m.toolchain, m.build_config
        FROM runs r JOIN machines m ON m.id = r.machine_id
        """

    private func readRun(_ s: SQLiteStatement) -> RunRecord {
        RunRecord(
            id: s.int(0), createdNs: s.int(1),
            revision: SourceRevision(commit: s.text(2), branch: s.text(3), dirty: s.int(4) != 0),
            machine: MachineFingerprint(
                cpuModel: s.text(9) ?? "", cpuCount: Int(s.int(10)), memoryBytes: s.int(11), os: s.text(12) ?? "",
                kernel: s.text(13) ?? "", toolchain: s.text(14) ?? "", buildConfig: s.text(15) ?? ""),
            machineDigest: s.text(8) ?? "", source: s.text(5) ?? "", label: s.text(6),
            benchmarkCount: Int(s.int(7)))
    }

    private func runs(where clause: String, _ bindings: [SQLiteValue]) throws -> [RunRecord] {
        let s = try db.prepare("SELECT \(Self.runColumns) \(clause)")
        try s.bind(bindings)
        var out: [RunRecord] = []
        while try s.step() { out.append(readRun(s)) }
        return out
    }

    public func run(id: Int64) throws -> RunRecord? {
        try runs(where: "WHERE r.id = ?", [.int(id)]).first
    }

    /// Runs, newest first; optionally only on `branch`, only from one machine, or whose
    /// commit starts with `commitPrefix`.
    public func runs(
        branch: String? = nil, machineDigest: String? = nil, commitPrefix: String? = nil, limit: Int = 1_000_000
    ) throws -> [RunRecord] {
        var conditions: [String] = []
        var bindings: [SQLiteValue] = []
        if let branch {
            conditions.append("r.branch = ?")
            bindings.append(.text(branch))
        }
        if let machineDigest {
            conditions.append("m.digest = ?")
            bindings.append(.text(machineDigest))
        }
        if let commitPrefix {
            conditions.append("substr(r.commit_sha, 1, length(?)) = ?")
            bindings.append(.text(commitPrefix))
            bindings.append(.text(commitPrefix))
        }
        let whereText = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        bindings.append(.int(Int64(limit)))
        return try runs(where: "\(whereText) ORDER BY r.id DESC LIMIT ?", bindings)
    }

    public func baseline(named name: String) throws -> RunRecord? {
        guard let id = try db.scalarInt("SELECT run_id FROM baselines WHERE name = ?", [.text(name)]) else {
            return nil
        }
        return try run(id: id)
    }

    public func baselines() throws -> [(name: String, run: RunRecord)] {
        let s = try db.prepare("SELECT name, run_id FROM baselines ORDER BY name")
        var pairs: [(String, Int64)] = []
        while try s.step() { pairs.append((s.text(0) ?? "", s.int(1))) }
        return try pairs.compactMap { name, id in try run(id: id).map { (name, $0) } }
    }

    /// Every benchmark's raw samples in one run.
    public func samples(runID: Int64) throws -> [String: BenchmarkSamples] {
        let s = try db.prepare(
            """
            SELECT b.name, r.unit, r.direction, r.batch, r.samples, \(processSizesColumn)
            FROM results r JOIN benchmarks b ON b.id = r.benchmark_id WHERE r.run_id = ?
            """)
        try s.bind(1, runID)
        var out: [String: BenchmarkSamples] = [:]
        while try s.step() {
            let name = s.text(0) ?? ""
            out[name] = readSamples(s, name: name, from: 1)
        }
        return out
    }

    /// `process_sizes`, or NULL on a version-1 store opened read-only.
    var processSizesColumn: String { version >= 2 ? "r.process_sizes" : "NULL" }

    /// unit, direction, batch, samples, process_sizes from column `from` on.
    func readSamples(_ s: SQLiteStatement, name: String, from c: Int32) -> BenchmarkSamples {
        let samples = s.doubles(c + 3)
        var sizes = s.isNull(c + 4) ? [] : s.int32s(c + 4)
        if sizes.count == 1, sizes[0] > 0, samples.count > sizes[0], samples.count % sizes[0] == 0 {
            sizes = Array(repeating: sizes[0], count: samples.count / sizes[0])
        }
        if sizes.reduce(0, +) != samples.count { sizes = [] }
        return BenchmarkSamples(
            name: name, unit: s.text(c) ?? "ns", direction: MetricDirection(rawValue: s.text(c + 1) ?? "") ?? .lowerIsBetter,
            samples: samples, batch: Int(s.int(c + 2)), processSizes: sizes)
    }

    /// One benchmark across runs, oldest first.
    public func history(benchmark name: String, limit: Int = 1_000) throws -> [(run: RunRecord, samples: BenchmarkSamples)] {
        let s = try db.prepare(
            """
            SELECT r.run_id, r.unit, r.direction, r.batch, r.samples, \(processSizesColumn)
            FROM results r JOIN benchmarks b ON b.id = r.benchmark_id
            WHERE b.name = ? ORDER BY r.run_id DESC LIMIT ?
            """)
        try s.bind(1, name)
        try s.bind(2, Int64(limit))
        var rows: [(Int64, BenchmarkSamples)] = []
        while try s.step() {
            rows.append((s.int(0), readSamples(s, name: name, from: 1)))
        }
        var out: [(run: RunRecord, samples: BenchmarkSamples)] = []
        for (id, samples) in rows.reversed() {
            if let run = try run(id: id) { out.append((run, samples)) }
        }
        return out
    }

    /// Branches that have runs, sorted.
    public func branchNames() throws -> [String] {
        let s = try db.prepare("SELECT DISTINCT branch FROM runs WHERE branch IS NOT NULL ORDER BY branch")
        var out: [String] = []
        while try s.step() { out.append(s.text(0) ?? "") }
        return out
    }

    public func benchmarkNames() throws -> [String] {
        let s = try db.prepare("SELECT name FROM benchmarks ORDER BY name")
        var out: [String] = []
        while try s.step() { out.append(s.text(0) ?? "") }
        return out
    }

    /// For the crash test and `doctor`: every run has exactly the results it announced.
    public func incompleteRuns() throws -> [Int64] {
        let s = try db.prepare(
            """
            SELECT r.id FROM runs r
            WHERE r.benchmark_count != (SELECT count(*) FROM results x WHERE x.run_id = r.id)
            """)
        var out: [Int64] = []
        while try s.step() { out.append(s.int(0)) }
        return out
    }

    public func integrityCheck() throws -> String {
        try db.scalarText("PRAGMA integrity_check") ?? "no answer"
    }
}

/// Removes a staged store's temporary file when SIGINT, SIGTERM or SIGHUP ends the process
/// while it is built (SIGKILL cannot be caught: such a file stays, hidden, beside the
/// target). A signal that was ignored or handled before keeps its disposition. One staged
/// file per process at a time (an import stages at most one).
enum StagedFileCleanup {
    nonisolated(unsafe) private static var path: UnsafeMutablePointer<CChar>?
    /// The signals whose handler is ours (they had the default before).
    nonisolated(unsafe) private static var installed: [Int32] = []

    static func watch(_ temp: String) {
        path = strdup(temp)
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            let previous = signal(sig) { sig in
                if let p = StagedFileCleanup.path { unlink(p) }
                signal(sig, SIG_DFL)
                raise(sig)
            }
            // Not the default before (ignored, or someone's handler): put it back.
            if previous != nil { signal(sig, previous) } else { installed.append(sig) }
        }
    }

    static func release() {
        for sig in installed { signal(sig, SIG_DFL) }
        installed = []
        guard let p = path else { return }
        path = nil
        free(p)
    }
}
