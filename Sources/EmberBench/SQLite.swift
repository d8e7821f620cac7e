import CSQLite
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A thin, owned wrapper over one sqlite3 connection. Every value reaches SQL as a bound
/// parameter; SQL text is always a literal in this package.
final class SQLiteConnection {
    let path: String
    private(set) var handle: OpaquePointer?

    /// Process-wide SQLite configuration, once, before the first connection.
    static let configured: Bool = {
        _ = ember_sqlite_configure()
        return true
    }()

    init(path: String, readOnly: Bool = false) throws {
        _ = Self.configured
        self.path = path
        let flags =
            (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE))
            | SQLITE_OPEN_NOMUTEX
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        handle = db
        if rc != SQLITE_OK {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            handle = nil
            throw BenchError("cannot open the store \(path): \(message); check the path and its permissions")
        }
        sqlite3_extended_result_codes(db, 1)
    }

    deinit { if handle != nil { sqlite3_close_v2(handle) } }

    /// Closes the connection now (a WAL is checkpointed and removed); fails while a
    /// statement of it is still alive.
    func close() throws {
        guard let h = handle else { return }
        let rc = sqlite3_close(h)
        if rc != SQLITE_OK { throw error(rc, "closing") }
        handle = nil
    }

    var lastMessage: String { handle.map { String(cString: sqlite3_errmsg($0)) } ?? "no connection" }

    func error(_ rc: Int32, _ what: String) -> any Error {
        let primary = rc & 0xff
        if primary == SQLITE_BUSY || primary == SQLITE_LOCKED {
            return SQLiteBusy(message: "store \(path) is busy: \(lastMessage)")
        }
        if primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT {
            return BenchError(
                "\(path) is not a usable ember-bench store (SQLite: \(lastMessage)). "
                    + "Point --db at another file, or move this one away to start a fresh store.")
        }
        return BenchError("store \(path): \(what) failed: \(lastMessage) (SQLite code \(rc))")
    }

    func execute(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &err)
        if let err { sqlite3_free(err) }
        if rc != SQLITE_OK { throw error(rc, "executing \(sql.prefix(60))") }
    }

    func prepare(_ sql: String) throws -> SQLiteStatement {
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        if rc != SQLITE_OK { throw error(rc, "preparing \(sql.prefix(60))") }
        return SQLiteStatement(connection: self, stmt: stmt!)
    }

    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// The first column of the first row, as an integer.
    func scalarInt(_ sql: String, _ bindings: [SQLiteValue] = []) throws -> Int64? {
        let s = try prepare(sql)
        try s.bind(bindings)
        guard try s.step() else { return nil }
        return s.isNull(0) ? nil : s.int(0)
    }

    func scalarText(_ sql: String, _ bindings: [SQLiteValue] = []) throws -> String? {
        let s = try prepare(sql)
        try s.bind(bindings)
        guard try s.step() else { return nil }
        return s.text(0)
    }
}

enum SQLiteValue {
    case int(Int64)
    case double(Double)
    case text(String)
    case null
}

final class SQLiteStatement {
    unowned let connection: SQLiteConnection
    let stmt: OpaquePointer

    init(connection: SQLiteConnection, stmt: OpaquePointer) {
        self.connection = connection
        self.stmt = stmt
    }

    deinit { sqlite3_finalize(stmt) }

    func reset() {
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
    }

    func bind(_ values: [SQLiteValue]) throws {
        for (i, v) in values.enumerated() {
            let index = Int32(i + 1)
            switch v {
            case .int(let x): try bind(index, x)
            case .double(let x): try bind(index, x)
            case .text(let x): try bind(index, x)
            case .null: try check(sqlite3_bind_null(stmt, index), "binding")
            }
        }
    }

    func bind(_ index: Int32, _ value: Int64) throws { try check(sqlite3_bind_int64(stmt, index, value), "binding") }
    func bind(_ index: Int32, _ value: Double) throws { try check(sqlite3_bind_double(stmt, index, value), "binding") }
    /// Binds the full UTF-8 bytes (a NUL inside the string is kept, not a terminator).
    func bind(_ index: Int32, _ value: String) throws {
        var copy = value
        try copy.withUTF8 { bytes in
            guard let base = bytes.baseAddress, !bytes.isEmpty else {
                try check(sqlite3_bind_text(stmt, index, "", 0, ember_sqlite_transient), "binding")
                return
            }
            let chars = UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self)
            try check(sqlite3_bind_text(stmt, index, chars, Int32(bytes.count), ember_sqlite_transient), "binding")
        }
    }
    func bind(_ index: Int32, _ value: String?) throws {
        if let value { try bind(index, value) } else { try check(sqlite3_bind_null(stmt, index), "binding") }
    }
    /// Binds the bytes of `doubles`; SQLite copies them.
    func bind(_ index: Int32, doubles: [Double]) throws {
        try doubles.withUnsafeBytes { raw in
            try check(
                sqlite3_bind_blob(stmt, index, raw.baseAddress, Int32(raw.count), ember_sqlite_transient), "binding")
        }
    }

    /// Binds `doubles`, steps the statement once and resets it, without SQLite copying
    /// the bytes (they are valid for the whole step).
    func stepBinding(_ index: Int32, doubles: [Double]) throws {
        try doubles.withUnsafeBytes { raw in
            try check(sqlite3_bind_blob(stmt, index, raw.baseAddress, Int32(raw.count), ember_sqlite_static), "binding")
            defer { sqlite3_clear_bindings(stmt) }
            try step()
        }
    }

    /// Binds little-endian Int32 values as one BLOB.
    func bind(_ index: Int32, int32s: [Int]) throws {
        let values = int32s.map { Int32(clamping: $0).littleEndian }
        try values.withUnsafeBytes { raw in
            try check(
                sqlite3_bind_blob(stmt, index, raw.baseAddress, Int32(raw.count), ember_sqlite_transient), "binding")
        }
    }

    /// Binds UTF-8 bytes that stay valid and unchanged until the statement is stepped
    /// (SQLite does not copy them).
    func bindStatic(_ index: Int32, text: UnsafeBufferPointer<UInt8>) throws {
        let chars = UnsafeRawPointer(text.baseAddress ?? UnsafePointer(bitPattern: 1)!).assumingMemoryBound(to: CChar.self)
        try check(sqlite3_bind_text(stmt, index, chars, Int32(text.count), ember_sqlite_static), "binding")
    }

    /// Binds bytes that stay valid and unchanged until the statement is stepped (no copy).
    func bindStatic(_ index: Int32, blob: UnsafeRawBufferPointer) throws {
        try check(
            sqlite3_bind_blob(stmt, index, blob.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, Int32(blob.count), ember_sqlite_static),
            "binding")
    }

    /// Makes the statement ready to run again, keeping its bindings (for a caller that binds
    /// every parameter before each step).
    func rewind() { sqlite3_reset(stmt) }

    func bindNull(_ index: Int32) throws { try check(sqlite3_bind_null(stmt, index), "binding") }

    /// A BLOB column decoded as little-endian Int32 values.
    func int32s(_ col: Int32) -> [Int] {
        let bytes = Int(sqlite3_column_bytes(stmt, col))
        guard bytes >= 4, let p = sqlite3_column_blob(stmt, col) else { return [] }
        let count = bytes / 4
        var out = [Int]()
        out.reserveCapacity(count)
        for i in 0..<count { out.append(Int(Int32(littleEndian: p.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))) }
        return out
    }

    /// True while a row is available; false when done.
    @discardableResult
    func step() throws -> Bool {
        let rc = sqlite3_step(stmt)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw connection.error(rc, "step")
    }

    /// Runs a statement that returns no rows, then resets it for reuse.
    func run(_ values: [SQLiteValue] = []) throws {
        defer { reset() }
        try bind(values)
        _ = try step()
    }

    func isNull(_ col: Int32) -> Bool { sqlite3_column_type(stmt, col) == SQLITE_NULL }
    func int(_ col: Int32) -> Int64 { sqlite3_column_int64(stmt, col) }
    func double(_ col: Int32) -> Double { sqlite3_column_double(stmt, col) }
    func text(_ col: Int32) -> String? {
        guard let p = sqlite3_column_text(stmt, col) else { return nil }
        let count = Int(sqlite3_column_bytes(stmt, col))
        return String(decoding: UnsafeBufferPointer(start: p, count: count), as: UTF8.self)
    }
    /// A BLOB column decoded as little-endian Float64 values.
    func doubles(_ col: Int32) -> [Double] {
        let bytes = Int(sqlite3_column_bytes(stmt, col))
        guard bytes > 0, let p = sqlite3_column_blob(stmt, col) else { return [] }
        let count = bytes / MemoryLayout<Double>.size
        return [Double](unsafeUninitializedCapacity: count) { buf, initialized in
            memcpy(buf.baseAddress!, p, count * MemoryLayout<Double>.size)
            initialized = count
        }
    }

    private func check(_ rc: Int32, _ what: String) throws {
        if rc != SQLITE_OK { throw connection.error(rc, what) }
    }
}

/// Another connection holds the lock longer than the busy timeout; the store retries.
struct SQLiteBusy: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
