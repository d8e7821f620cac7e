import EmberBench
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real PostgreSQL server for the tests, not a mock: `initdb` into a temporary folder,
/// `pg_ctl start` listening only on a Unix socket in that folder (no TCP port), stopped
/// when the test process exits. As root the server runs as the `postgres` user (initdb
/// refuses root). One server per test process; each test takes a fresh database.
final class PostgresTestServer: Sendable {
    /// The PostgreSQL binaries (initdb, pg_ctl, psql, pg_dump): $EMBER_PG_BIN, else the
    /// newest /usr/lib/postgresql/N/bin; nil when PostgreSQL is not installed.
    static let binDirectory: String? = {
        let fm = FileManager.default
        if let dir = ProcessInfo.processInfo.environment["EMBER_PG_BIN"] { return fm.isExecutableFile(atPath: dir + "/initdb") ? dir : nil }
        let versions = ((try? fm.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).compactMap(Int.init).sorted()
        for v in versions.reversed() where fm.isExecutableFile(atPath: "/usr/lib/postgresql/\(v)/bin/initdb") {
            return "/usr/lib/postgresql/\(v)/bin"
        }
        return nil
    }()

    static let skipMessage = "PostgreSQL binaries not found (initdb, pg_ctl: apt-get install postgresql); PostgreSQL store tests skipped"

    static var available: Bool { binDirectory != nil }

    /// The server of this test process, started on first use.
    static let shared: Result<PostgresTestServer, any Error> = Result { try PostgresTestServer() }

    static func get() throws -> PostgresTestServer { try shared.get() }

    let dir: String
    let bin: String
    private let counter = Counter()

    private init() throws {
        guard let bin = Self.binDirectory else { throw BenchError(Self.skipMessage) }
        self.bin = bin
        // A short path: a Unix socket path is at most 107 bytes.
        dir = "/tmp/ember-pg-\(UUID().uuidString.prefix(8).lowercased())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if getuid() == 0 { try Self.run("/bin/chown", ["postgres", dir]) }
        try run(asOwner: "initdb", ["-D", dir + "/data", "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"])
        try run(asOwner: "pg_ctl", [
            "-D", dir + "/data", "-l", dir + "/server.log", "-w", "-o", "-k \(dir) -c listen_addresses='' -c max_connections=200", "start",
        ])
        postgresTestServerDirectory = strdup(dir)
        postgresTestServerBin = strdup(bin)
        atexit {
            guard let d = postgresTestServerDirectory, let b = postgresTestServerBin else { return }
            let dir = String(cString: d)
            let pgCtl = String(cString: b) + "/pg_ctl"
            let args = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--", pgCtl] : [pgCtl]
            _ = try? PostgresTestServer.run(args[0], Array(args.dropFirst()) + ["-D", dir + "/data", "-m", "immediate", "stop"])
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    /// Runs a PostgreSQL program as the server's owner.
    private func run(asOwner tool: String, _ args: [String]) throws {
        if getuid() == 0 {
            try Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", "\(bin)/\(tool)"] + args)
        } else {
            try Self.run("\(bin)/\(tool)", args)
        }
    }

    /// Runs a program to its end (posix_spawn and waitpid: no Foundation run loop, which
    /// a test blocked in this server's one-time start must not need), its output in a file
    /// (the server pg_ctl starts would keep a pipe open).
    @discardableResult
    static func run(_ exe: String, _ args: [String], allowFailure: Bool = false) throws -> String {
        let outPath = FileManager.default.temporaryDirectory.appendingPathComponent("ember-pg-out-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: outPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([exe] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, exe, &actions, nil, argv, environ)
        if rc != 0 { throw BenchError("cannot start \(exe): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        if !(exited && code == 0) && !allowFailure {
            throw BenchError("\(exe) \(args.joined(separator: " ")) failed (status \(status)): \(text)")
        }
        return text
    }

    /// The libpq URL of `database` on this server.
    func url(_ database: String) -> String { "postgresql:///\(database)?host=\(dir)&user=postgres" }

    /// A new, empty database; its URL.
    func freshDatabase() throws -> String {
        let name = "t\(counter.next())_\(UUID().uuidString.prefix(6).lowercased())"
        try psql("postgres", "CREATE DATABASE \(name)")
        return url(name)
    }

    /// Runs SQL through psql; the output, unaligned and tuples only.
    @discardableResult
    func psql(_ database: String, _ sql: String) throws -> String {
        try Self.run("\(bin)/psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", dir, "-U", "postgres", "-d", database, "-c", sql])
    }

    /// The database name of a URL from `url(_:)`.
    static func database(of url: String) -> String {
        String(url.dropFirst("postgresql:///".count).prefix { $0 != "?" })
    }

    /// Schema and data, to show a command changed nothing.
    func dump(_ url: String) throws -> String {
        // Without pg_dump's \restrict lines (a random key per dump).
        try Self.run("\(bin)/pg_dump", ["-h", dir, "-U", "postgres", "-d", Self.database(of: url)])
            .split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("\\restrict") && !$0.hasPrefix("\\unrestrict") }
            .joined(separator: "\n")
    }
}

nonisolated(unsafe) private var postgresTestServerDirectory: UnsafeMutablePointer<CChar>?
nonisolated(unsafe) private var postgresTestServerBin: UnsafeMutablePointer<CChar>?

private final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}

/// The two backends the store tests run against. PostgreSQL is left out (with the
/// `postgresSkipNotice` test saying so) only when its binaries are not installed.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    static var testable: [StoreKind] { PostgresTestServer.available ? allCases : [.sqlite] }

    var testDescription: String { rawValue }

    /// A `--db` string for a new, empty store.
    func freshLocation() throws -> String {
        switch self {
        case .sqlite: temporaryDirectory().appendingPathComponent("s.sqlite").path
        case .postgres: try PostgresTestServer.get().freshDatabase()
        }
    }

    func freshStore() throws -> BenchStore { try BenchStore(path: try freshLocation()) }
}

@Suite struct PostgresAvailability {
    @Test(.enabled(if: !PostgresTestServer.available, "PostgreSQL is installed: its tests run"))
    func postgresSkipNotice() {
        print("note: \(PostgresTestServer.skipMessage)")
    }
}
