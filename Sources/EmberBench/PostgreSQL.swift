#if PostgreSQL
import CLibPQ
import EmberUtils
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A thin, owned wrapper over one libpq connection. Every value reaches SQL as a
/// parameter (or COPY data); SQL text is always a literal in this package. Results come
/// in binary form: integers big-endian, bytea as its raw bytes.
final class PGConnection {
    /// The store as messages name it (password redacted).
    let location: String
    private var conn: OpaquePointer?

    /// Connects with `conninfo` as libpq reads it (URL or keyword form; PGHOST, PGUSER,
    /// PGPASSWORD, PGSSLMODE, ~/.pgpass and the rest apply as usual). A connect timeout
    /// of 10 s unless the string or PGCONNECT_TIMEOUT gives one.
    init(conninfo: String, location: String) throws {
        self.location = location
        var keys: [String] = []
        var values: [String] = []
        // Defaults first: what the connection string says (expanded from dbname, later in
        // the list) overrides them.
        if getenv("PGCONNECT_TIMEOUT") == nil {
            keys.append("connect_timeout")
            values.append("10")
        }
        if getenv("PGAPPNAME") == nil {
            keys.append("application_name")
            values.append("ember-bench")
        }
        keys.append("dbname")
        values.append(conninfo)
        let cKeys = keys.map { strdup($0) }
        let cValues = values.map { strdup($0) }
        defer {
            cKeys.forEach { free($0) }
            cValues.forEach { free($0) }
        }
        let k: [UnsafePointer<CChar>?] = cKeys.map { UnsafePointer($0) } + [nil]
        let v: [UnsafePointer<CChar>?] = cValues.map { UnsafePointer($0) } + [nil]
        conn = PQconnectdbParams(k, v, 1)
        guard let conn, PQstatus(conn) == CONNECTION_OK else {
            var message = conn.map { Self.clean(String(cString: PQerrorMessage($0))) } ?? "out of memory"
            // libpq quotes a connection string it cannot parse: never its password.
            for secret in StoreLocation.passwords(in: conninfo).sorted(by: { $0.count > $1.count }) {
                message = message.replacingAll(secret, with: "***")
            }
            PQfinish(conn)
            self.conn = nil
            throw BenchError(
                "cannot connect to the PostgreSQL store \(location): \(message); "
                    + "check --db (or $EMBER_BENCH_DB) and the server (PGHOST, PGUSER, PGPASSWORD, ~/.pgpass apply)")
        }
    }

    deinit { PQfinish(conn) }

    static func clean(_ message: String) -> String {
        message.trimmingASCIIWhitespace().replacingAll("\n\t", with: " ").replacingAll("\n", with: "; ")
    }

    var lastMessage: String { conn.map { Self.clean(String(cString: PQerrorMessage($0))) } ?? "no connection" }

    var isBroken: Bool { conn == nil || PQstatus(conn) != CONNECTION_OK }

    /// The error for a failed command: a lost connection says so (the open transaction,
    /// and with it the run, is gone); a serialization failure or deadlock is retryable.
    func error(_ result: OpaquePointer?, _ what: String) -> any Error {
        let state = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) } ?? ""
        let message = result.map { Self.clean(String(cString: PQresultErrorMessage($0))) } ?? lastMessage
        // Class 08 (connection exception) and 57P01-57P03 (the server shutting down or
        // restarting, the backend terminated): the connection is gone, as when libpq
        // finds the socket closed.
        if isBroken || state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state) {
            let why = message.isEmpty || (state.isEmpty && result == nil) ? lastMessage : message
            return BenchError(
                "lost the connection to the PostgreSQL store \(location) (\(what)): \(why); "
                    + "nothing of the unfinished run was stored")
        }
        if state == "40001" || state == "40P01" { return PGRetryable(sqlstate: state, message: message) }
        if state == "57014" {
            return BenchError("PostgreSQL store \(location): \(what) was cancelled (statement_timeout): \(message)")
        }
        return BenchError("PostgreSQL store \(location): \(what) failed: \(message)", sqlstate: state)
    }

    /// Runs one or more statements without parameters (text protocol).
    func execute(_ sql: String) throws {
        let r = PQexec(conn, sql)
        defer { PQclear(r) }
        let status = PQresultStatus(r)
        if status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK { throw error(r, "executing \(sql.prefix(60))") }
    }

    /// One statement with text parameters (nil: NULL); rows in binary form.
    @discardableResult
    func query(_ sql: String, _ params: [String?] = []) throws -> PGResult {
        let copies = params.map { $0.map { strdup($0) } ?? nil }
        defer { copies.forEach { free($0) } }
        let values: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
        let r = values.withUnsafeBufferPointer { buf in
            PQexecParams(conn, sql, Int32(params.count), nil, buf.baseAddress, nil, nil, 1)
        }
        let status = PQresultStatus(r)
        if status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK {
            defer { PQclear(r) }
            throw error(r, "\(sql.prefix(60))")
        }
        return PGResult(r!)
    }

    /// `COPY … FROM STDIN` with `data` in text format.
    func copyIn(_ sql: String, data: [UInt8]) throws {
        let start = PQexec(conn, sql)
        let status = PQresultStatus(start)
        if status != PGRES_COPY_IN {
            defer { PQclear(start) }
            throw error(start, "starting \(sql.prefix(40))")
        }
        PQclear(start)
        var ok = data.withUnsafeBufferPointer { buf -> Bool in
            var offset = 0
            while offset < buf.count {
                let n = min(1 << 20, buf.count - offset)
                let rc = (buf.baseAddress! + offset).withMemoryRebound(to: CChar.self, capacity: n) { PQputCopyData(conn, $0, Int32(n)) }
                if rc != 1 { return false }
                offset += n
            }
            return true
        }
        if PQputCopyEnd(conn, nil) != 1 { ok = false }
        var failure: (any Error)?
        while let r = PQgetResult(conn) {
            if PQresultStatus(r) != PGRES_COMMAND_OK && failure == nil { failure = error(r, "COPY") }
            PQclear(r)
        }
        if let failure { throw failure }
        if !ok { throw error(nil, "COPY") }
    }

    /// The first column of the first row as an integer.
    func scalarInt(_ sql: String, _ params: [String?] = []) throws -> Int64? {
        let r = try query(sql, params)
        return r.rows > 0 && !r.isNull(0, 0) ? r.int(0, 0) : nil
    }
}

/// A serialization failure or deadlock: the transaction was rolled back whole and may be
/// run again.
struct PGRetryable: Error, CustomStringConvertible {
    var sqlstate: String
    var message: String
    var description: String { message }
}

extension BenchError {
    init(_ message: String, sqlstate: String) {
        self.init(sqlstate == "23505" ? message + " (unique constraint)" : message)
    }
}

/// A result in binary form.
final class PGResult {
    let result: OpaquePointer
    init(_ result: OpaquePointer) { self.result = result }
    deinit { PQclear(result) }

    var rows: Int32 { PQntuples(result) }

    func isNull(_ row: Int32, _ col: Int32) -> Bool { PQgetisnull(result, row, col) != 0 }

    func bytes(_ row: Int32, _ col: Int32) -> UnsafeRawBufferPointer {
        let n = Int(PQgetlength(result, row, col))
        guard let p = PQgetvalue(result, row, col) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: p, count: n)
    }

    /// int2, int4, int8 or bool.
    func int(_ row: Int32, _ col: Int32) -> Int64 {
        let b = bytes(row, col)
        switch b.count {
        case 8: return Int64(bigEndian: b.loadUnaligned(as: Int64.self))
        case 4: return Int64(Int32(bigEndian: b.loadUnaligned(as: Int32.self)))
        case 2: return Int64(Int16(bigEndian: b.loadUnaligned(as: Int16.self)))
        case 1: return Int64(b[0])
        default: return 0
        }
    }

    func text(_ row: Int32, _ col: Int32) -> String? {
        if isNull(row, col) { return nil }
        return String(decoding: bytes(row, col), as: UTF8.self)
    }

    /// A bytea of little-endian Float64 values.
    func doubles(_ row: Int32, _ col: Int32) -> [Double] {
        let b = bytes(row, col)
        let count = b.count / MemoryLayout<Double>.size
        guard count > 0 else { return [] }
        return [Double](unsafeUninitializedCapacity: count) { buf, initialized in
            memcpy(buf.baseAddress!, b.baseAddress!, count * MemoryLayout<Double>.size)
            initialized = count
        }
    }

    /// A bytea of little-endian Int32 values.
    func int32s(_ row: Int32, _ col: Int32) -> [Int] {
        let b = bytes(row, col)
        return (0..<(b.count / 4)).map { Int(Int32(littleEndian: b.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
    }
}
#endif
