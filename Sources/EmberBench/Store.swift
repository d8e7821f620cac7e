import EmberUtils
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A stored run: one invocation of the runner or one imported file.
public struct RunRecord: Sendable, Codable, Equatable {
    public var id: Int64
    public var createdNs: Int64
    public var revision: SourceRevision
    public var machine: MachineFingerprint
    public var machineDigest: String
    /// "ember-bench", "pytest-benchmark", "google-benchmark", "hyperfine", "command".
    public var source: String
    public var label: String?
    public var benchmarkCount: Int

    public var shortDescription: String {
        let commit = revision.commit.map { String($0.prefix(10)) } ?? "no commit"
        return "run \(id) (\(commit)\(revision.dirty ? "+dirty" : "")"
            + (revision.branch.map { " on \($0)" } ?? "") + ")"
    }
}

/// A run to be written: everything is inserted in one transaction.
public struct NewRun: Sendable {
    public var revision: SourceRevision
    public var machine: MachineFingerprint
    public var source: String
    public var label: String?
    public var createdNs: Int64
    public var results: [BenchmarkSamples]

    public init(
        revision: SourceRevision, machine: MachineFingerprint, source: String, label: String? = nil,
        createdNs: Int64? = nil, results: [BenchmarkSamples]
    ) {
        self.revision = revision
        self.machine = machine
        self.source = source
        self.label = label
        self.createdNs = createdNs ?? Int64(WallClock.nanosecondsSinceEpoch())
        self.results = results
    }
}
/// Where `--db` (or `$EMBER_BENCH_DB`) points: an SQLite file or a PostgreSQL database.
///
/// - `postgresql://…`, `postgres://…`, or libpq's keyword form (`host=… dbname=…`):
///   PostgreSQL, the string passed to libpq as it is (so `PGHOST`, `PGUSER`,
///   `PGPASSWORD`, `PGSSLMODE` and `~/.pgpass` apply as with psql).
/// - `sqlite:PATH` or any other string: the SQLite file at that path.
public enum StoreLocation: Sendable, Equatable {
    case sqlite(path: String)
    case postgres(conninfo: String)

    public init(_ text: String) {
        let lower = text.lowercased()
        if lower.hasPrefix("postgresql://") || lower.hasPrefix("postgres://") {
            self = .postgres(conninfo: text)
        } else if lower.hasPrefix("sqlite:") {
            self = .sqlite(path: String(text.dropFirst("sqlite:".count)))
        } else if Self.isKeywordForm(text) {
            self = .postgres(conninfo: text)
        } else {
            self = .sqlite(path: text)
        }
    }

    /// `keyword=value` first (a libpq keyword: letters and underscores), no `/` before the
    /// `=`: `host=db dbname=bench`. A file name such as `a=b.sqlite` is read the same way,
    /// so such a file is given as `sqlite:a=b.sqlite`.
    static func isKeywordForm(_ text: String) -> Bool {
        let trimmed = text.drop { $0 == " " }
        guard let eq = trimmed.firstIndex(of: "=") else { return false }
        let key = trimmed[..<eq].trimmingUnicodeSpaces()
        return !key.isEmpty && key.allSatisfy { $0.isASCII && ($0.isLetter || $0 == "_") }
    }

    /// For messages: the location with any password replaced by `***`.
    public var redacted: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let conninfo): Self.redact(conninfo)
        }
    }

    /// The passwords in a connection string (as written, and percent-decoded), to scrub
    /// from libpq's own messages, some of which quote the string they could not parse.
    public static func passwords(in conninfo: String) -> [String] {
        var out: [String] = []
        for p in scan(conninfo).secrets where !p.isEmpty {
            out.append(p)
            if let decoded = percentDecoded(p), decoded != p { out.append(decoded) }
        }
        return out
    }

    /// `%XX` sequences decoded; nil when one is malformed or the result is not UTF-8 (as
    /// Foundation's `removingPercentEncoding`).
    static func percentDecoded(_ text: String) -> String? {
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%") {
                guard i + 2 < bytes.count, let high = hex(bytes[i + 1]), let low = hex(bytes[i + 2]) else { return nil }
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    /// Removes passwords from a libpq URL (`user:secret@`, `?password=secret`) or keyword
    /// string (`password=secret`, `password='se cret'`).
    public static func redact(_ conninfo: String) -> String { scan(conninfo).redacted }

    private static func scan(_ conninfo: String) -> (redacted: String, secrets: [String]) {
        var s = conninfo
        var secrets: [String] = []
        let lower = s.lowercased()
        if lower.hasPrefix("postgresql://") || lower.hasPrefix("postgres://") {
            let schemeEnd = s.byteRange(of: "://")!.upperBound
            let authorityEnd = s[schemeEnd...].firstIndex { $0 == "/" || $0 == "?" } ?? s.endIndex
            if let at = s[schemeEnd..<authorityEnd].lastIndex(of: "@"),
                let colon = s[schemeEnd..<at].firstIndex(of: ":")
            {
                secrets.append(String(s[s.index(after: colon)..<at]))
                s.replaceSubrange(s.index(after: colon)..<at, with: "***")
            }
            // password=… among the query parameters
            if let q = s.firstIndex(of: "?") {
                let query = s[s.index(after: q)...].split(separator: "&", omittingEmptySubsequences: false).map { part -> String in
                    guard part.lowercased().hasPrefix("password=") else { return String(part) }
                    secrets.append(String(part.dropFirst("password=".count)))
                    return "password=***"
                }
                s = String(s[...q]) + query.joined(separator: "&")
            }
            return (s, secrets)
        }
        // keyword form: password = value, value bare or single-quoted with \' and \\ escapes
        var out = ""
        var i = s.startIndex
        while i < s.endIndex {
            let rest = s[i...]
            if rest.lowercased().hasPrefix("password"), i == s.startIndex || s[s.index(before: i)] == " " {
                var j = s.index(i, offsetBy: "password".count)
                while j < s.endIndex, s[j] == " " { j = s.index(after: j) }
                if j < s.endIndex, s[j] == "=" {
                    j = s.index(after: j)
                    while j < s.endIndex, s[j] == " " { j = s.index(after: j) }
                    let valueStart = j
                    if j < s.endIndex, s[j] == "'" {
                        j = s.index(after: j)
                        while j < s.endIndex, s[j] != "'" {
                            if s[j] == "\\", s.index(after: j) < s.endIndex { j = s.index(after: j) }
                            j = s.index(after: j)
                        }
                        if j < s.endIndex { j = s.index(after: j) }
                        let quoted = String(s[valueStart..<j])
                        secrets.append(quoted)
                        secrets.append(String(quoted.dropFirst().dropLast()))
                    } else {
                        while j < s.endIndex, s[j] != " " { j = s.index(after: j) }
                        secrets.append(String(s[valueStart..<j]))
                    }
                    out += "password=***"
                    i = j
                    continue
                }
            }
            out.append(s[i])
            i = s.index(after: i)
        }
        return (out, secrets)
    }
}

/// What both backends provide; the statistics, importers and reports see only
/// `BenchStore`, which forwards to one of them.
protocol StoreBackend: AnyObject {
    /// The store as messages name it (a PostgreSQL password redacted).
    var location: String { get }
    var schemaVersion: Int { get throws }
    func insert(_ run: NewRun) throws -> Int64
    func insert(all runs: [NewRun]) throws -> [Int64]
    func write<T>(_ body: () throws -> T) throws -> T
    func beginRun(_ run: NewRun) throws -> any RunSink
    func setBaseline(_ name: String, runID: Int64) throws
    func removeBaseline(_ name: String) throws -> Bool
    func run(id: Int64) throws -> RunRecord?
    func runs(branch: String?, machineDigest: String?, commitPrefix: String?, limit: Int) throws -> [RunRecord]
    func baseline(named name: String) throws -> RunRecord?
    func baselines() throws -> [(name: String, run: RunRecord)]
    func samples(runID: Int64) throws -> [String: BenchmarkSamples]
    func history(benchmark name: String, limit: Int) throws -> [(run: RunRecord, samples: BenchmarkSamples)]
    func branchNames() throws -> [String]
    func benchmarkNames() throws -> [String]
    func incompleteRuns() throws -> [Int64]
    func integrityCheck() throws -> String
}

/// One run being written inside `BenchStore.write { … }`.
protocol RunSink: AnyObject {
    var runID: Int64 { get }
    var written: Int { get }
    func add(_ r: BenchmarkSamples) throws
    /// `add` with the median of `r.samples` known already.
    func add(_ r: BenchmarkSamples, median: Double) throws
    /// `add` for each of `batch`, whose medians are `medians`.
    func add(contentsOf batch: [BenchmarkSamples], medians: [Double]) throws
    @discardableResult
    func finish(revision: SourceRevision, machine: MachineFingerprint, createdNs: Int64, source: String?) throws -> Int64
}

extension RunSink {
    func add(_ r: BenchmarkSamples, median: Double) throws { try add(r) }
    func add(contentsOf batch: [BenchmarkSamples], medians: [Double]) throws {
        for (r, median) in zip(batch, medians) { try add(r, median: median) }
    }
}

/// The store of runs, raw samples and named baselines: an SQLite file (the default; see
/// `SQLiteStore`) or a PostgreSQL database (`PostgresStore`), chosen by `--db`.
///
/// A run and all its results are written in one transaction on either backend, so a
/// crash or a lost connection leaves whole runs only.
public final class BenchStore {
    /// The SQLite schema's migrations (append-only; see `SQLiteStore.migrations`).
    public static var migrations: [String] { SQLiteStore.migrations }
    /// The PostgreSQL schema's migrations (append-only; see `PostgresStore.migrations`).
    public static var postgresMigrations: [String] {
        #if PostgreSQL
        PostgresStore.migrations
        #else
        []
        #endif
    }

    /// How a command opens the store.
    public enum OpenMode: Sendable {
        /// Create the file if it does not exist, migrate it (run, import, --compare).
        case create
        /// The file must exist already; migrate it (baseline set/remove).
        case readWrite
        /// The file must exist; nothing is created, migrated or written (history,
        /// compare, report, baseline list).
        case readOnly
    }

    /// The store as messages name it: the SQLite path, or the PostgreSQL connection
    /// string with any password replaced by `***`.
    public let path: String
    public let location: StoreLocation
    let backend: any StoreBackend

    /// Opens the store `--db` names (see `StoreLocation`). Whatever the mode, a database
    /// that is not an ember-bench store (another application's, a newer schema) is
    /// refused before anything is written to it.
    public init(path text: String, mode: OpenMode = .create) throws {
        location = StoreLocation(text)
        switch location {
        case .sqlite(let file):
            backend = try SQLiteStore(path: file, mode: mode)
        case .postgres(let conninfo):
            #if PostgreSQL
            backend = try PostgresStore(conninfo: conninfo, mode: mode)
            #else
            throw BenchError(
                "\(StoreLocation.redact(conninfo)) is a PostgreSQL store, but this ember-bench was built without PostgreSQL "
                    + "support (the static release build); use a build with the PostgreSQL trait (the default of `swift build`)")
            #endif
        }
        path = backend.location
    }

    private init(staged backend: SQLiteStore, target: String) {
        location = .sqlite(path: target)
        self.backend = backend
        path = target
    }

    /// A first import's store: when `--db` names an SQLite file that does not exist yet, a
    /// new store built in a temporary file beside it (see `SQLiteStore.stage(target:)`),
    /// placed by `publish()`. nil otherwise (a PostgreSQL store, an existing file, a
    /// directory that cannot take the temporary file): open the store as usual.
    public static func staged(path text: String) -> StagedStore? {
        guard case .sqlite(let file) = StoreLocation(text), let backend = SQLiteStore.stage(target: file) else { return nil }
        return StagedStore(store: BenchStore(staged: backend, target: file), backend: backend, target: file)
    }

    /// A new store being built away from its place; see `BenchStore.staged(path:)`.
    public final class StagedStore {
        /// Write into this one (its `path` is the target's).
        public let store: BenchStore
        let backend: SQLiteStore
        let target: String

        init(store: BenchStore, backend: SQLiteStore, target: String) {
            self.store = store
            self.backend = backend
            self.target = target
        }

        /// Syncs the store and links it to its target. True when placed; false when a store
        /// appeared at the target meanwhile (left untouched; import into it as usual) or the
        /// file system has no hard links (import as usual). The store cannot be used
        /// afterwards; on an error nothing is placed.
        public func publish() throws -> Bool { try backend.publish(to: target) }

        /// Removes the staged file: nothing appears at the target.
        public func discard() { backend.discardStaged() }
    }

    public var isPostgres: Bool {
        if case .postgres = location { return true }
        return false
    }

    public var schemaVersion: Int { get throws { try backend.schemaVersion } }

    // MARK: writing

    /// Writes a run and all its results atomically; returns the run id.
    @discardableResult
    public func insert(_ run: NewRun) throws -> Int64 { try backend.insert(run) }

    /// Writes several runs in one transaction: all or none.
    @discardableResult
    public func insert(all runs: [NewRun]) throws -> [Int64] { try backend.insert(all: runs) }

    /// Runs `body` in one write transaction (retried whole on contention); the body
    /// starts run writers with `beginRun`.
    public func write<T>(_ body: () throws -> T) throws -> T { try backend.write(body) }

    /// Starts a run inside `write { … }`.
    public func beginRun(_ run: NewRun) throws -> RunWriter { RunWriter(try backend.beginRun(run)) }

    /// Writes one run's results one by one inside an open write transaction (a streaming
    /// import adds them as the file is parsed), then completes the run's row.
    public final class RunWriter {
        let sink: any RunSink
        init(_ sink: any RunSink) { self.sink = sink }
        public var runID: Int64 { sink.runID }
        /// Results written so far.
        public var written: Int { sink.written }
        public func add(_ r: BenchmarkSamples) throws { try sink.add(r) }
        /// `add` with the median of `r.samples` known already (a streaming import's).
        public func add(_ r: BenchmarkSamples, median: Double) throws { try sink.add(r, median: median) }
        /// `add` for each of `batch`, whose medians are `medians` (a streaming import's batch).
        public func add(contentsOf batch: [BenchmarkSamples], medians: [Double]) throws {
            try sink.add(contentsOf: batch, medians: medians)
        }
        /// Completes the run: its benchmark count, and what the file said last (its
        /// revision, machine, date).
        @discardableResult
        public func finish(
            revision: SourceRevision, machine: MachineFingerprint, createdNs: Int64, source: String? = nil
        ) throws -> Int64 {
            try sink.finish(revision: revision, machine: machine, createdNs: createdNs, source: source)
        }
    }

    /// After a failed write into a store this command created: remove the file again when
    /// it holds no run (nothing is left behind by an import that imported nothing). A
    /// PostgreSQL store is left as it is (the failed transaction wrote nothing).
    public static func removeIfEmpty(path: String) {
        if case .sqlite(let file) = StoreLocation(path) { SQLiteStore.removeIfEmpty(path: file) }
    }

    /// Names `runID` as baseline `name` (replacing an earlier one of that name).
    public func setBaseline(_ name: String, runID: Int64) throws { try backend.setBaseline(name, runID: runID) }

    public func removeBaseline(_ name: String) throws -> Bool { try backend.removeBaseline(name) }

    /// The error for a baseline name that matches nothing, listing the names that exist.
    public func unknownBaselineError(_ name: String) throws -> BenchError { try unknownName(name) }

    // MARK: reading

    public func run(id: Int64) throws -> RunRecord? { try backend.run(id: id) }

    /// Runs, newest first; optionally only on `branch`, only from one machine, or whose
    /// commit starts with `commitPrefix`.
    public func runs(
        branch: String? = nil, machineDigest: String? = nil, commitPrefix: String? = nil, limit: Int = 1_000_000
    ) throws -> [RunRecord] {
        try backend.runs(branch: branch, machineDigest: machineDigest, commitPrefix: commitPrefix, limit: limit)
    }

    public func baseline(named name: String) throws -> RunRecord? { try backend.baseline(named: name) }

    public func baselines() throws -> [(name: String, run: RunRecord)] { try backend.baselines() }

    /// Every benchmark's raw samples in one run.
    public func samples(runID: Int64) throws -> [String: BenchmarkSamples] { try backend.samples(runID: runID) }

    /// One benchmark across runs, oldest first.
    public func history(benchmark name: String, limit: Int = 1_000) throws -> [(run: RunRecord, samples: BenchmarkSamples)] {
        try backend.history(benchmark: name, limit: limit)
    }

    /// Branches that have runs, sorted.
    public func branchNames() throws -> [String] { try backend.branchNames() }

    public func benchmarkNames() throws -> [String] { try backend.benchmarkNames() }

    /// For the crash test and `doctor`: every run has exactly the results it announced.
    public func incompleteRuns() throws -> [Int64] { try backend.incompleteRuns() }

    /// "ok", or what is wrong.
    public func integrityCheck() throws -> String { try backend.integrityCheck() }
}
