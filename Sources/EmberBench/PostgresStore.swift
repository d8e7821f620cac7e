#if PostgreSQL
import EmberUtils
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The PostgreSQL store: the same runs, samples and baselines as `SQLiteStore`, in a
/// database that many CI runners on many machines share (`--db postgresql://…`).
///
/// - Samples are one bytea of little-endian Float64 per (run, benchmark), as in SQLite;
///   results are written with binary COPY in batches, so an import of a million samples is a
///   few round trips.
/// - One transaction per run (or per import): a lost connection or a killed writer
///   leaves whole runs only. Deadlocks and serialization failures roll the transaction
///   back whole; it is then run again (the only retry: nothing was stored).
/// - Versioned, append-only migrations in `ember_bench_migrations`, applied under
///   `pg_advisory_xact_lock`, so concurrent first runs do not race. A database with
///   other tables but not ours, or a newer schema, is refused before anything is written.
final class PostgresStore: StoreBackend {
    /// Numbered migrations; migration i brings the schema to version i + 1. Never edit
    /// one that has shipped: append a new one. Names compare bytewise (COLLATE "C"), as
    /// in SQLite. `results` has no foreign keys, as SQLite's writer turns its checks off:
    /// a run writer inserts only the run id it just made and benchmark ids it just looked
    /// up in the same transaction (nothing deletes runs or benchmarks), and the two checks
    /// per row cost a third of an import of 1,000,000 samples (1.19 s vs 0.79 s).
    /// `integrityCheck` finds results without their run or benchmark.
    static let migrations: [String] = [
        // 1: the SQLite schema at its version 2
        """
        CREATE TABLE ember_bench_migrations(
            version integer PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE machines(
            id bigserial PRIMARY KEY,
            digest text NOT NULL UNIQUE,
            cpu_model text NOT NULL,
            cpu_count integer NOT NULL,
            memory_bytes bigint NOT NULL,
            os text NOT NULL,
            kernel text NOT NULL,
            toolchain text NOT NULL,
            build_config text NOT NULL
        );
        CREATE TABLE runs(
            id bigserial PRIMARY KEY,
            created_ns bigint NOT NULL,
            commit_sha text COLLATE "C",
            branch text COLLATE "C",
            dirty boolean NOT NULL,
            machine_id bigint NOT NULL REFERENCES machines(id),
            source text NOT NULL,
            label text,
            benchmark_count integer NOT NULL
        );
        CREATE INDEX runs_by_branch ON runs(branch, id);
        CREATE INDEX runs_by_commit ON runs(commit_sha);
        CREATE TABLE benchmarks(
            id bigserial PRIMARY KEY,
            name text COLLATE "C" NOT NULL UNIQUE
        );
        CREATE TABLE results(
            run_id bigint NOT NULL,
            benchmark_id bigint NOT NULL,
            unit text NOT NULL,
            direction text NOT NULL,
            batch bigint NOT NULL,
            sample_count integer NOT NULL,
            median double precision NOT NULL,
            samples bytea NOT NULL,
            process_sizes bytea,
            PRIMARY KEY(run_id, benchmark_id)
        );
        CREATE INDEX results_by_benchmark ON results(benchmark_id, run_id);
        CREATE TABLE baselines(
            name text COLLATE "C" PRIMARY KEY,
            run_id bigint NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            set_ns bigint NOT NULL
        );
        """
    ]

    /// The advisory lock migrations take ('EMBRSTOR').
    static let migrationLock: Int64 = 0x454D_4252_5354_4F52

    typealias OpenMode = BenchStore.OpenMode

    let location: String
    let db: PGConnection
    /// Results buffered per COPY.
    static let batchSize = 2_000

    init(conninfo: String, mode: OpenMode) throws {
        location = StoreLocation.redact(conninfo)
        db = try PGConnection(conninfo: conninfo, location: location)
        if mode == .readOnly { try db.execute("SET default_transaction_read_only = on") }
        // A statement that hangs (a lock held by a stuck client) ends as an error; an
        // idle transaction too. The server's or the connection string's own values win.
        for (setting, value) in [("statement_timeout", "300s"), ("idle_in_transaction_session_timeout", "600s")] {
            let current = try db.query("SELECT current_setting($1)", [setting]).text(0, 0)
            if current == "0" { try db.execute("SET \(setting) = '\(value)'") }
        }
        let version = try checkOwnership()
        if mode == .readOnly {
            if version == 0 {
                throw BenchError(
                    "\(location) is empty, not an ember-bench store yet; `ember-bench run` or `ember-bench import` fills it")
            }
            return
        }
        if version < Self.migrations.count { try migrate() }
    }

    /// Read-only: the store's schema version (0: an empty database), or why it is refused.
    @discardableResult
    func checkOwnership() throws -> Int {
        let r = try db.query(
            """
            SELECT to_regclass('ember_bench_migrations') IS NOT NULL,
                   (SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()),
                   current_schema()
            """)
        let ours = r.int(0, 0) != 0
        let tables = r.int(0, 1)
        let schema = r.text(0, 2) ?? "public"
        if !ours {
            if tables > 0 {
                throw BenchError(
                    "\(location) is a PostgreSQL database but not an ember-bench store (schema \(schema) has \(tables) other tables); "
                        + "point --db at an ember-bench store or a new database (the database was not changed)")
            }
            return 0
        }
        let version = Int(try db.scalarInt("SELECT max(version) FROM ember_bench_migrations") ?? 0)
        if version > Self.migrations.count {
            throw BenchError(
                "\(location) has store schema version \(version), but this ember-bench knows versions up to "
                    + "\(Self.migrations.count); use a newer ember-bench (the store was not changed)")
        }
        return version
    }

    private func migrate() throws {
        try db.execute("BEGIN")
        do {
            _ = try db.query("SELECT pg_advisory_xact_lock($1)", [String(Self.migrationLock)])
            // Again under the lock: another process may have migrated meanwhile.
            let version = try checkOwnership()
            for index in version..<Self.migrations.count {
                try db.execute(Self.migrations[index])
                try db.query("INSERT INTO ember_bench_migrations(version) VALUES ($1)", [String(index + 1)])
            }
            try db.execute("COMMIT")
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
    }

    var schemaVersion: Int {
        get throws { Int(try db.scalarInt("SELECT max(version) FROM ember_bench_migrations") ?? 0) }
    }

    // MARK: writing

    /// Runs `body` in one transaction; a deadlock or serialization failure runs it again.
    func write<T>(_ body: () throws -> T) throws -> T {
        var attempt = 0
        while true {
            try db.execute("BEGIN")
            do {
                let value = try body()
                try db.execute("COMMIT")
                return value
            } catch let e as PGRetryable {
                try? db.execute("ROLLBACK")
                attempt += 1
                if attempt >= 10 { throw BenchError("PostgreSQL store \(location): \(e.message); gave up after \(attempt) attempts") }
                usleep(UInt32(min(200_000, 10_000 * attempt)))
            } catch {
                try? db.execute("ROLLBACK")
                throw error
            }
        }
    }

    func insert(_ run: NewRun) throws -> Int64 { try write { try insertInTransaction(run) } }

    func insert(all runs: [NewRun]) throws -> [Int64] { try write { try runs.map { try insertInTransaction($0) } } }

    private func insertInTransaction(_ run: NewRun) throws -> Int64 {
        let writer = try RunWriter(store: self, run: run)
        for r in run.results { try writer.add(r) }
        return try writer.finish(revision: run.revision, machine: run.machine, createdNs: run.createdNs, source: nil)
    }

    func beginRun(_ run: NewRun) throws -> any RunSink { try RunWriter(store: self, run: run) }

    /// PostgreSQL text holds no NUL character; SQLite's does.
    static func checked(_ text: String, _ what: String) throws -> String {
        if text.utf8.contains(0) {
            throw BenchError("\(what) \"\(text.replacingAll("\u{0}", with: "\\0"))\" contains a NUL character, which a PostgreSQL store cannot hold")
        }
        return text
    }

    func machineID(for m: MachineFingerprint) throws -> Int64 {
        let digest = m.digest
        if let id = try db.scalarInt("SELECT id FROM machines WHERE digest = $1", [digest]) { return id }
        try db.query(
            """
            INSERT INTO machines(digest, cpu_model, cpu_count, memory_bytes, os, kernel, toolchain, build_config)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (digest) DO NOTHING
            """,
            [
                digest, try Self.checked(m.cpuModel, "CPU model"), String(m.cpuCount), String(m.memoryBytes),
                try Self.checked(m.os, "OS"), try Self.checked(m.kernel, "kernel"), try Self.checked(m.toolchain, "toolchain"),
                try Self.checked(m.buildConfig, "build configuration"),
            ])
        guard let id = try db.scalarInt("SELECT id FROM machines WHERE digest = $1", [digest]) else {
            throw BenchError("PostgreSQL store \(location): machine \(digest) vanished while it was added")
        }
        return id
    }

    /// Buffers a run's results and writes them with COPY, a batch at a time.
    final class RunWriter: RunSink {
        let store: PostgresStore
        let runID: Int64
        private(set) var written = 0
        private var pending: [BenchmarkSamples] = []
        private var names: Set<String> = []
        private var ids: [String: Int64] = [:]

        init(store: PostgresStore, run: NewRun) throws {
            self.store = store
            let machineID = try store.machineID(for: run.machine)
            runID = try store.db.scalarInt(
                """
                INSERT INTO runs(created_ns, commit_sha, branch, dirty, machine_id, source, label, benchmark_count)
                VALUES ($1, $2, $3, $4, $5, $6, $7, 0) RETURNING id
                """,
                [
                    String(run.createdNs), try run.revision.commit.map { try PostgresStore.checked($0, "commit") },
                    try run.revision.branch.map { try PostgresStore.checked($0, "branch") }, run.revision.dirty ? "true" : "false",
                    String(machineID), try PostgresStore.checked(run.source, "source"),
                    try run.label.map { try PostgresStore.checked($0, "label") },
                ]) ?? 0
        }

        func add(_ r: BenchmarkSamples) throws {
            _ = try PostgresStore.checked(r.name, "benchmark")
            _ = try PostgresStore.checked(r.unit, "unit")
            guard names.insert(r.name).inserted else {
                throw BenchError("benchmark \"\(r.name)\" appears twice in one run; names must be unique")
            }
            if r.processSizes.count > 1 {
                guard r.processSizes.reduce(0, +) == r.samples.count, r.processSizes.allSatisfy({ $0 > 0 }) else {
                    throw BenchError("benchmark \"\(r.name)\": process sizes do not add up to its \(r.samples.count) samples")
                }
            }
            pending.append(r)
            written += 1
            if pending.count >= PostgresStore.batchSize { try flush() }
        }

        /// Array literal of text values for `$1::text[]`.
        static func textArray(_ values: [String]) -> String {
            var out: [UInt8] = [UInt8(ascii: "{")]
            out.reserveCapacity(values.reduce(2) { $0 + $1.utf8.count + 3 })
            for (i, v) in values.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "\""))
                for b in v.utf8 {
                    if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
                    out.append(b)
                }
                out.append(UInt8(ascii: "\""))
            }
            out.append(UInt8(ascii: "}"))
            return String(decoding: out, as: UTF8.self)
        }

        private func resolveNames() throws {
            let missing = Array(Set(pending.map(\.name)).subtracting(ids.keys)).sorted()
            if missing.isEmpty { return }
            let literal = Self.textArray(missing)
            func lookup() throws {
                let r = try store.db.query("SELECT id, name FROM benchmarks WHERE name = ANY($1::text[])", [literal])
                for row in 0..<r.rows { ids[r.text(row, 1) ?? ""] = r.int(row, 0) }
            }
            try lookup()
            if missing.contains(where: { ids[$0] == nil }) {
                // Sorted, so concurrent writers take the name keys in one order.
                let new = Self.textArray(missing.filter { ids[$0] == nil })
                try store.db.query(
                    "INSERT INTO benchmarks(name) SELECT n FROM unnest($1::text[]) AS n ORDER BY n ON CONFLICT (name) DO NOTHING", [new])
                try lookup()
            }
        }

        /// Writes the pending results with one binary COPY: samples go as their raw
        /// little-endian bytes (no hex, no text parsing on either side).
        private func flush() throws {
            if pending.isEmpty { return }
            try resolveNames()
            var out: [UInt8] = []
            out.reserveCapacity(19 + 2 + pending.reduce(0) { $0 + 100 + $1.name.utf8.count + 8 * $1.samples.count })
            func int16(_ v: Int16) { withUnsafeBytes(of: v.bigEndian) { out.append(contentsOf: $0) } }
            func int32(_ v: Int32) { withUnsafeBytes(of: v.bigEndian) { out.append(contentsOf: $0) } }
            func int64(_ v: Int64) { withUnsafeBytes(of: v.bigEndian) { out.append(contentsOf: $0) } }
            func bigint(_ v: Int64) { int32(8); int64(v) }
            func text(_ s: String) {
                int32(Int32(s.utf8.count))
                out.append(contentsOf: s.utf8)
            }
            func bytea(_ raw: UnsafeRawBufferPointer) {
                int32(Int32(raw.count))
                out.append(contentsOf: raw)
            }
            // Header: signature, flags, header extension length.
            out.append(contentsOf: Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00])
            int32(0)
            int32(0)
            for r in pending {
                int16(9)
                bigint(runID)
                bigint(ids[r.name] ?? 0)
                text(r.unit)
                text(r.direction.rawValue)
                bigint(Int64(r.batch))
                int32(4)
                int32(Int32(clamping: r.samples.count))
                int32(8)
                int64(Int64(bitPattern: Statistics.median(r.samples).bitPattern))
                #if _endian(little)
                r.samples.withUnsafeBytes { bytea($0) }
                #else
                r.samples.map(\.bitPattern.littleEndian).withUnsafeBytes { bytea($0) }
                #endif
                if r.processSizes.count > 1 {
                    // Equal sizes (k samples in every process) are stored as the one value k.
                    let first = r.processSizes[0]
                    let sizes = r.processSizes.allSatisfy { $0 == first } ? [first] : r.processSizes
                    sizes.map { Int32(clamping: $0).littleEndian }.withUnsafeBytes { bytea($0) }
                } else {
                    int32(-1)
                }
            }
            int16(-1)
            try store.db.copyIn(
                "COPY results(run_id, benchmark_id, unit, direction, batch, sample_count, median, samples, process_sizes) FROM STDIN (FORMAT binary)",
                data: out)
            pending.removeAll(keepingCapacity: true)
        }

        @discardableResult
        func finish(revision: SourceRevision, machine: MachineFingerprint, createdNs: Int64, source: String?) throws -> Int64 {
            try flush()
            let machineID = try store.machineID(for: machine)
            try store.db.query(
                """
                UPDATE runs SET benchmark_count = $1, commit_sha = $2, branch = $3, dirty = $4, machine_id = $5,
                    created_ns = $6, source = coalesce($7, source) WHERE id = $8
                """,
                [
                    String(written), try revision.commit.map { try PostgresStore.checked($0, "commit") },
                    try revision.branch.map { try PostgresStore.checked($0, "branch") }, revision.dirty ? "true" : "false",
                    String(machineID), String(createdNs), try source.map { try PostgresStore.checked($0, "source") }, String(runID),
                ])
            return runID
        }
    }

    func setBaseline(_ name: String, runID: Int64) throws {
        try BaselineSpec.validateName(name)
        _ = try Self.checked(name, "baseline name")
        try write {
            guard try run(id: runID) != nil else { throw BenchError("no run \(runID) in \(location); see `ember-bench history`") }
            try db.query(
                """
                INSERT INTO baselines(name, run_id, set_ns) VALUES ($1, $2, $3)
                ON CONFLICT (name) DO UPDATE SET run_id = excluded.run_id, set_ns = excluded.set_ns
                """, [name, String(runID), String(WallClock.nanosecondsSinceEpoch())])
        }
    }

    func removeBaseline(_ name: String) throws -> Bool {
        if name.utf8.contains(0) { return false }
        return try write {
            try db.query("DELETE FROM baselines WHERE name = $1 RETURNING name", [name]).rows > 0
        }
    }

    // MARK: reading

    private static let runColumns = """
        r.id, r.created_ns, r.commit_sha, r.branch, r.dirty, r.source, r.label, r.benchmark_count,
        m.digest, m.cpu_model, m.cpu_count, m.memory_bytes, m.os, m.kernel, m.toolchain, m.build_config
        FROM runs r JOIN machines m ON m.id = r.machine_id
        """

    private func runs(where clause: String, _ params: [String?]) throws -> [RunRecord] {
        let r = try db.query("SELECT \(Self.runColumns) \(clause)", params)
        return (0..<r.rows).map { i in
            RunRecord(
                id: r.int(i, 0), createdNs: r.int(i, 1),
                revision: SourceRevision(commit: r.text(i, 2), branch: r.text(i, 3), dirty: r.int(i, 4) != 0),
                machine: MachineFingerprint(
                    cpuModel: r.text(i, 9) ?? "", cpuCount: Int(r.int(i, 10)), memoryBytes: r.int(i, 11), os: r.text(i, 12) ?? "",
                    kernel: r.text(i, 13) ?? "", toolchain: r.text(i, 14) ?? "", buildConfig: r.text(i, 15) ?? ""),
                machineDigest: r.text(i, 8) ?? "", source: r.text(i, 5) ?? "", label: r.text(i, 6),
                benchmarkCount: Int(r.int(i, 7)))
        }
    }

    func run(id: Int64) throws -> RunRecord? { try runs(where: "WHERE r.id = $1", [String(id)]).first }

    func runs(branch: String?, machineDigest: String?, commitPrefix: String?, limit: Int) throws -> [RunRecord] {
        var conditions: [String] = []
        var params: [String?] = []
        // A NUL cannot be stored, so it matches nothing.
        for value in [branch, machineDigest, commitPrefix] where value?.utf8.contains(0) == true { return [] }
        if let branch {
            params.append(branch)
            conditions.append("r.branch = $\(params.count)")
        }
        if let machineDigest {
            params.append(machineDigest)
            conditions.append("m.digest = $\(params.count)")
        }
        if let commitPrefix {
            params.append(commitPrefix)
            conditions.append("starts_with(r.commit_sha, $\(params.count))")
        }
        let whereText = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        params.append(String(limit))
        return try runs(where: "\(whereText) ORDER BY r.id DESC LIMIT $\(params.count)", params)
    }

    func baseline(named name: String) throws -> RunRecord? {
        if name.utf8.contains(0) { return nil }
        guard let id = try db.scalarInt("SELECT run_id FROM baselines WHERE name = $1", [name]) else { return nil }
        return try run(id: id)
    }

    func baselines() throws -> [(name: String, run: RunRecord)] {
        let r = try db.query("SELECT name, run_id FROM baselines ORDER BY name")
        let pairs = (0..<r.rows).map { (r.text($0, 0) ?? "", r.int($0, 1)) }
        return try pairs.compactMap { name, id in try run(id: id).map { (name, $0) } }
    }

    /// unit, direction, batch, samples, process_sizes from column `c` on.
    private func readSamples(_ r: PGResult, _ row: Int32, name: String, from c: Int32) -> BenchmarkSamples {
        let samples = r.doubles(row, c + 3)
        var sizes = r.isNull(row, c + 4) ? [] : r.int32s(row, c + 4)
        if sizes.count == 1, sizes[0] > 0, samples.count > sizes[0], samples.count % sizes[0] == 0 {
            sizes = Array(repeating: sizes[0], count: samples.count / sizes[0])
        }
        if sizes.reduce(0, +) != samples.count { sizes = [] }
        return BenchmarkSamples(
            name: name, unit: r.text(row, c) ?? "ns",
            direction: MetricDirection(rawValue: r.text(row, c + 1) ?? "") ?? .lowerIsBetter,
            samples: samples, batch: Int(r.int(row, c + 2)), processSizes: sizes)
    }

    func samples(runID: Int64) throws -> [String: BenchmarkSamples] {
        let r = try db.query(
            """
            SELECT b.name, r.unit, r.direction, r.batch, r.samples, r.process_sizes
            FROM results r JOIN benchmarks b ON b.id = r.benchmark_id WHERE r.run_id = $1
            """, [String(runID)])
        var out: [String: BenchmarkSamples] = [:]
        out.reserveCapacity(Int(r.rows))
        for row in 0..<r.rows {
            let name = r.text(row, 0) ?? ""
            out[name] = readSamples(r, row, name: name, from: 1)
        }
        return out
    }

    func history(benchmark name: String, limit: Int) throws -> [(run: RunRecord, samples: BenchmarkSamples)] {
        if name.utf8.contains(0) { return [] }
        let r = try db.query(
            """
            SELECT r.run_id, r.unit, r.direction, r.batch, r.samples, r.process_sizes
            FROM results r JOIN benchmarks b ON b.id = r.benchmark_id
            WHERE b.name = $1 ORDER BY r.run_id DESC LIMIT $2
            """, [name, String(limit)])
        let rows = (0..<r.rows).map { (r.int($0, 0), readSamples(r, $0, name: name, from: 1)) }
        if rows.isEmpty { return [] }
        let ids = "{" + rows.map { String($0.0) }.joined(separator: ",") + "}"
        let byID = Dictionary(
            try runs(where: "WHERE r.id = ANY($1::bigint[])", [ids]).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        return rows.reversed().compactMap { id, samples in byID[id].map { ($0, samples) } }
    }

    func branchNames() throws -> [String] {
        let r = try db.query("SELECT DISTINCT branch FROM runs WHERE branch IS NOT NULL ORDER BY branch")
        return (0..<r.rows).map { r.text($0, 0) ?? "" }
    }

    func benchmarkNames() throws -> [String] {
        let r = try db.query("SELECT name FROM benchmarks ORDER BY name")
        return (0..<r.rows).map { r.text($0, 0) ?? "" }
    }

    func incompleteRuns() throws -> [Int64] {
        let r = try db.query(
            """
            SELECT r.id FROM runs r
            WHERE r.benchmark_count != (SELECT count(*) FROM results x WHERE x.run_id = r.id) ORDER BY r.id
            """)
        return (0..<r.rows).map { r.int($0, 0) }
    }

    /// "ok" when every run is whole and every result belongs to a run.
    func integrityCheck() throws -> String {
        let incomplete = try incompleteRuns()
        if !incomplete.isEmpty { return "incomplete runs: \(incomplete.map(String.init).joined(separator: ", "))" }
        let orphans = try db.scalarInt(
            """
            SELECT count(*) FROM results x WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = x.run_id)
                OR NOT EXISTS (SELECT 1 FROM benchmarks b WHERE b.id = x.benchmark_id)
            """) ?? 0
        return orphans == 0 ? "ok" : "\(orphans) results without their run or benchmark"
    }
}
#endif
