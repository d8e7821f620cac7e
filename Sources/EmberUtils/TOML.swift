// A TOML 1.0.0 reader for configuration and rules files, on UTF-8 bytes, standard library only.
//
// Every value and key keeps the 1-based line and column it starts at, and every error names
// line and column, so that a configuration problem can point into the file. Acceptance follows
// the TOML 1.0.0 specification as CPython's tomllib reads it (scripts/toml-oracle.py compares
// the two on fixtures/toml/), with two deliberate differences: an integer outside the 64-bit
// range is an error, as the specification asks (tomllib keeps it as a big integer), and arrays
// and inline tables nested deeper than `TOML.maximumNesting` are an error instead of a crash.

/// A calendar date (local date, or the date part of a date-time).
public struct TOMLDate: Sendable, Hashable {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }
}

/// A time of day (local time, or the time part of a date-time). Fractional seconds beyond
/// nanoseconds are truncated; the original text keeps them.
public struct TOMLTime: Sendable, Hashable {
    public var hour: Int
    public var minute: Int
    public var second: Int
    public var nanosecond: Int

    public init(hour: Int, minute: Int, second: Int, nanosecond: Int = 0) {
        self.hour = hour
        self.minute = minute
        self.second = second
        self.nanosecond = nanosecond
    }
}

/// One of TOML's four date/time kinds: which parts are present says which (see `TOMLValue.Kind`).
public struct TOMLDateTime: Sendable, Hashable, CustomStringConvertible {
    public var date: TOMLDate?
    public var time: TOMLTime?
    /// Minutes east of UTC for an offset date-time (`Z` is 0); nil for the local kinds.
    public var offsetMinutes: Int?
    /// The value exactly as written in the document.
    public var text: String

    public init(date: TOMLDate?, time: TOMLTime?, offsetMinutes: Int?, text: String) {
        self.date = date
        self.time = time
        self.offsetMinutes = offsetMinutes
        self.text = text
    }

    public var description: String { text }

    /// RFC 3339 form with microseconds and a numeric offset (`1979-05-27T07:32:00.000000+00:00`),
    /// the form of `TOML.canonicalJSON`.
    public var canonicalText: String {
        var out = ""
        func pad(_ n: Int, _ width: Int) {
            let s = String(n)
            if s.count < width { out += String(repeating: "0", count: width - s.count) }
            out += s
        }
        if let d = date {
            pad(d.year, 4); out += "-"; pad(d.month, 2); out += "-"; pad(d.day, 2)
            if time != nil { out += "T" }
        }
        if let t = time {
            pad(t.hour, 2); out += ":"; pad(t.minute, 2); out += ":"; pad(t.second, 2)
            out += "."; pad(t.nanosecond / 1000, 6)
        }
        if let off = offsetMinutes {
            out += off < 0 ? "-" : "+"
            pad(abs(off) / 60, 2); out += ":"; pad(abs(off) % 60, 2)
        }
        return out
    }
}

/// One TOML value with the 1-based line and column (in characters) where it starts.
public struct TOMLValue: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case string(String)
        case integer(Int)
        case float(Double)
        case bool(Bool)
        /// `1979-05-27T07:32:00Z`: date, time and offset.
        case offsetDateTime(TOMLDateTime)
        /// `1979-05-27T07:32:00`: date and time.
        case localDateTime(TOMLDateTime)
        /// `1979-05-27`: date only.
        case localDate(TOMLDateTime)
        /// `07:32:00`: time only.
        case localTime(TOMLDateTime)
        case array([TOMLValue])
        case table(TOMLTable)
    }

    public var kind: Kind
    public var line: Int
    public var column: Int

    public init(kind: Kind, line: Int, column: Int = 1) {
        self.kind = kind
        self.line = line
        self.column = column
    }

    /// The TOML type name, for messages ("expected a string, found an integer").
    public var typeName: String {
        switch kind {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .bool: "boolean"
        case .offsetDateTime: "offset date-time"
        case .localDateTime: "local date-time"
        case .localDate: "local date"
        case .localTime: "local time"
        case .array: "array"
        case .table: "table"
        }
    }
}

/// An ordered TOML table: keys in the order the document first defined them. Keys compare by
/// their exact UTF-8 bytes, as TOML asks (two spellings of "é" are two keys).
public struct TOMLTable: Sendable, Equatable {
    /// One key of a table, its value and where the key was defined (for a table defined by a
    /// `[header]`, the header; for an array of tables, its first `[[header]]`).
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var value: TOMLValue
        public var line: Int
        public var column: Int
    }

    public private(set) var entries: [Entry] = []
    private var index: [ExactKey: Int] = [:]

    public init() {}

    public var keys: [String] { entries.map(\.key) }
    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    public subscript(key: String) -> TOMLValue? {
        index[ExactKey(key)].map { entries[$0].value }
    }

    /// The entry of `key` (its value and where the key was defined), or nil.
    public func entry(_ key: String) -> Entry? {
        index[ExactKey(key)].map { entries[$0] }
    }

    /// Adds `key`, or replaces its value (keeping its place and position).
    public mutating func set(_ key: String, _ value: TOMLValue, line: Int, column: Int = 1) {
        if let j = index[ExactKey(key)] {
            entries[j].value = value
        } else {
            index[ExactKey(key)] = entries.count
            entries.append(Entry(key: key, value: value, line: line, column: column))
        }
    }
}

/// A String key that compares and hashes by its UTF-8 bytes (Swift's String equality is
/// canonical equivalence, TOML's is exact).
struct ExactKey: Hashable {
    let text: String
    init(_ text: String) { self.text = text }

    static func == (a: ExactKey, b: ExactKey) -> Bool {
        a.text.utf8.elementsEqual(b.text.utf8)
    }

    func hash(into hasher: inout Hasher) {
        var s = text
        s.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

/// A document that is not valid TOML: what is wrong and where (1-based line, column in characters).
public struct TOMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var line: Int
    public var column: Int

    public init(message: String, line: Int, column: Int) {
        self.message = message
        self.line = line
        self.column = column
    }

    public var description: String { "line \(line), column \(column): \(message)" }
}

public enum TOML {
    /// Arrays and inline tables nested deeper than this, or keys with more parts, are an error.
    public static let maximumNesting = 128

    /// Parses a TOML document.
    public static func parse(_ text: String) throws(TOMLError) -> TOMLTable {
        try parse(bytes: Array(text.utf8))
    }

    /// Parses a TOML document from its bytes: UTF-8 (checked), no byte order mark (as tomllib),
    /// CRLF or LF line ends.
    public static func parse(bytes: [UInt8]) throws(TOMLError) -> TOMLTable {
        if let bad = firstInvalidUTF8(bytes) {
            throw TOMLParser.error(in: bytes, at: bad, "the file is not valid UTF-8 (byte 0x\(hex(bytes[bad])))")
        }
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF {
            throw TOMLError(message: "the file starts with a byte order mark (U+FEFF), which TOML does not allow (save it as UTF-8 without BOM)", line: 1, column: 1)
        }
        var parser = TOMLParser(bytes: bytes.contains(0x0D) ? normalizingCRLF(bytes) : bytes)
        return try parser.parseDocument()
    }

    /// The document as canonical JSON, the form scripts/toml-oracle.py writes from tomllib:
    /// no spaces, object keys sorted by code point, non-ASCII as is, floats as Python's repr
    /// (`NaN`, `Infinity`, `-Infinity`, `-0.0`), date/times as one-key objects
    /// `{"$toml:offset-datetime":"1979-05-27T07:32:00.000000+00:00"}` (also `local-datetime`,
    /// `local-date`, `local-time`).
    public static func canonicalJSON(_ table: TOMLTable) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        CanonicalJSON.write(table, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func hex(_ b: UInt8) -> String {
        let s = String(b, radix: 16, uppercase: true)
        return s.count == 1 ? "0" + s : s
    }

    /// Index of the first byte that is not part of well-formed UTF-8 (no overlongs, no
    /// surrogates, nothing above U+10FFFF), or nil.
    static func firstInvalidUTF8(_ b: [UInt8]) -> Int? {
        var i = 0
        let n = b.count
        while i < n {
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            var need = 0
            var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
            switch c {
            case 0xC2...0xDF: need = 1
            case 0xE0: need = 2; lo = 0xA0
            case 0xE1...0xEC, 0xEE, 0xEF: need = 2
            case 0xED: need = 2; hi = 0x9F
            case 0xF0: need = 3; lo = 0x90
            case 0xF1...0xF3: need = 3
            case 0xF4: need = 3; hi = 0x8F
            default: return i
            }
            if i + need >= n { return i }
            if b[i + 1] < lo || b[i + 1] > hi { return i }
            for k in 2..<(need + 1) where b[i + k] < 0x80 || b[i + k] > 0xBF { return i }
            i += need + 1
        }
        return nil
    }

    /// `\r\n` -> `\n` everywhere (as tomllib, also inside strings); a lone `\r` stays (and is an error).
    static func normalizingCRLF(_ b: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            if b[i] == 0x0D && i + 1 < b.count && b[i + 1] == 0x0A { i += 1; continue }
            out.append(b[i])
            i += 1
        }
        return out
    }
}

// MARK: - Parser

private let SP: UInt8 = 0x20, TAB: UInt8 = 0x09, LF: UInt8 = 0x0A
private let QUOTE: UInt8 = 0x22, APOS: UInt8 = 0x27, BACKSLASH: UInt8 = 0x5C
private let HASH: UInt8 = 0x23, DOT: UInt8 = 0x2E, EQUALS: UInt8 = 0x3D, COMMA: UInt8 = 0x2C
private let LBRACKET: UInt8 = 0x5B, RBRACKET: UInt8 = 0x5D, LBRACE: UInt8 = 0x7B, RBRACE: UInt8 = 0x7D
private let UNDERSCORE: UInt8 = 0x5F, PLUS: UInt8 = 0x2B, MINUS: UInt8 = 0x2D, COLON: UInt8 = 0x3A

@inline(__always) private func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }
@inline(__always) private func isHexDigit(_ b: UInt8) -> Bool {
    isDigit(b) || (b | 0x20) &- 0x61 < 6
}
@inline(__always) private func isBareKeyByte(_ b: UInt8) -> Bool {
    (b | 0x20) &- 0x61 < 26 || isDigit(b) || b == UNDERSCORE || b == MINUS
}
/// Control characters other than tab (and DEL): not allowed in comments and strings.
@inline(__always) private func isControl(_ b: UInt8) -> Bool {
    (b < 0x20 && b != TAB) || b == 0x7F
}

/// A table being built: the document's tables live in one array and refer to each other by index.
private struct BuildTable {
    enum Slot {
        /// A finished value: scalar, array or inline table (arrays and inline tables are frozen).
        case value(TOMLValue)
        /// A table that headers and dotted keys may still extend.
        case table(Int)
        /// An array of tables (`[[header]]`); headers extend its last table.
        case tables([Int])
    }
    struct Entry {
        var key: String
        var slot: Slot
        var line: Int
        var column: Int
        /// Defined by a `[header]` or `[[header]]`, or made by dotted keys in an earlier section:
        /// no `[header]` may define it (again).
        var explicit: Bool
    }
    var entries: [Entry] = []
    var index: [ExactKey: Int] = [:]
    var line: Int
    var column: Int
    var depth: Int
}

struct TOMLParser {
    private let b: [UInt8]
    private var i = 0
    private var tables: [BuildTable] = []
    /// Tables made by dotted keys in the current section: they become explicit at the next header.
    private var pending: [(table: Int, entry: Int)] = []
    private var nesting = 0
    // Position cursor: the line and column of byte `cursor`, advanced on demand.
    private var cursor = 0
    private var cursorLine = 1
    private var cursorColumn = 1

    init(bytes: [UInt8]) {
        self.b = bytes
    }

    // MARK: positions and errors

    /// Line and column (1-based, column in characters) of byte offset `pos`.
    private mutating func position(_ pos: Int) -> (line: Int, column: Int) {
        if pos < cursor { cursor = 0; cursorLine = 1; cursorColumn = 1 }
        while cursor < pos {
            let c = b[cursor]
            if c == LF { cursorLine += 1; cursorColumn = 1 }
            else if c & 0xC0 != 0x80 { cursorColumn += 1 }
            cursor += 1
        }
        return (cursorLine, cursorColumn)
    }

    static func error(in bytes: [UInt8], at pos: Int, _ message: String) -> TOMLError {
        var line = 1, column = 1
        var k = 0
        while k < pos && k < bytes.count {
            if bytes[k] == LF { line += 1; column = 1 } else if bytes[k] & 0xC0 != 0x80 { column += 1 }
            k += 1
        }
        return TOMLError(message: message, line: line, column: column)
    }

    private func fail(_ message: String, at pos: Int? = nil) -> TOMLError {
        TOMLParser.error(in: b, at: pos ?? i, message)
    }

    /// The character at `pos` for a message: 'x', or a name for invisible ones.
    private func describe(_ pos: Int) -> String {
        guard pos < b.count else { return "the end of the file" }
        let c = b[pos]
        switch c {
        case LF: return "the end of the line"
        case 0x0D: return "a carriage return (\\r) not followed by a line feed"
        case TAB: return "a tab"
        case SP: return "a space"
        default:
            if c < 0x20 || c == 0x7F { return "the control character U+00\(TOML.hex(c))" }
            var end = pos + 1
            while end < b.count && b[end] & 0xC0 == 0x80 { end += 1 }
            return "'" + String(decoding: b[pos..<end], as: UTF8.self) + "'"
        }
    }

    @inline(__always) private var peek: UInt8 { i < b.count ? b[i] : 0 }

    @inline(__always) private func at(_ pos: Int) -> UInt8 { pos < b.count ? b[pos] : 0 }

    private func startsWith(_ a: UInt8, _ c: UInt8, _ d: UInt8) -> Bool {
        i + 2 < b.count && b[i] == a && b[i + 1] == c && b[i + 2] == d
    }

    private mutating func skipSpaces() {
        while i < b.count && (b[i] == SP || b[i] == TAB) { i += 1 }
    }

    /// A comment, if one starts here, up to (not including) the end of the line.
    private mutating func skipComment() throws(TOMLError) {
        guard peek == HASH else { return }
        i += 1
        while i < b.count && b[i] != LF {
            if isControl(b[i]) { throw fail("\(describe(i)) is not allowed in a comment") }
            i += 1
        }
    }

    /// Spaces, newlines and comments (between array items).
    private mutating func skipArraySpace() throws(TOMLError) {
        while i < b.count {
            let c = b[i]
            if c == SP || c == TAB || c == LF { i += 1 }
            else if c == HASH { try skipComment() }
            else { return }
        }
    }

    // MARK: document

    mutating func parseDocument() throws(TOMLError) -> TOMLTable {
        tables.append(BuildTable(line: 1, column: 1, depth: 0))
        var current = 0
        while true {
            skipSpaces()
            guard i < b.count else { break }
            let c = b[i]
            if c == LF { i += 1; continue }
            if isBareKeyByte(c) || c == QUOTE || c == APOS {
                try keyValue(in: current)
                skipSpaces()
            } else if c == LBRACKET {
                finalizePending()
                current = at(i + 1) == LBRACKET ? try arrayOfTablesHeader() : try tableHeader()
                skipSpaces()
            } else if c != HASH {
                throw fail("expected a key, a [table] header or a comment, found \(describe(i))")
            }
            try skipComment()
            guard i < b.count else { break }
            guard b[i] == LF else {
                throw fail("expected the end of the line, found \(describe(i))")
            }
            i += 1
        }
        return freeze(0)
    }

    private mutating func finalizePending() {
        for (t, e) in pending { tables[t].entries[e].explicit = true }
        pending.removeAll(keepingCapacity: true)
    }

    private func dotted(_ key: ArraySlice<String>) -> String {
        key.map { k in
            !k.isEmpty && k.utf8.allSatisfy(isBareKeyByte) ? k : JSONText.quoted(k)
        }.joined(separator: ".")
    }

    /// A key: one or more parts separated by dots; the key's parts and its start.
    private mutating func parseKey() throws(TOMLError) -> [String] {
        var parts: [String] = []
        while true {
            let c = peek
            if isBareKeyByte(c) {
                let start = i
                while i < b.count && isBareKeyByte(b[i]) { i += 1 }
                parts.append(String(decoding: b[start..<i], as: UTF8.self))
            } else if c == QUOTE {
                parts.append(try basicString(multiline: false))
            } else if c == APOS {
                parts.append(try literalString())
            } else {
                throw fail("expected a key (letters, digits, '-', '_' or a quoted string), found \(describe(i))")
            }
            if parts.count > TOML.maximumNesting {
                throw fail("a key with more than \(TOML.maximumNesting) parts is not supported")
            }
            skipSpaces()
            guard peek == DOT else { return parts }
            i += 1
            skipSpaces()
        }
    }

    private func slotName(_ slot: BuildTable.Slot) -> String {
        switch slot {
        case .value(let v):
            switch v.kind {
            case .table: return "an inline table"
            case .array: return "an array"
            case .integer, .offsetDateTime, .localDateTime, .localDate, .localTime: return "an \(v.typeName)"
            default: return "a \(v.typeName)"
            }
        case .table: return "a table"
        case .tables: return "an array of tables"
        }
    }

    private mutating func newTable(in parent: Int, key: String, pos: Int, at keyAt: (line: Int, column: Int), explicit: Bool) throws(TOMLError) -> (table: Int, entry: Int) {
        let depth = tables[parent].depth + 1
        if depth > TOML.maximumNesting * 2 { throw fail("tables nested more than \(TOML.maximumNesting * 2) deep are not supported", at: pos) }
        let (line, column) = keyAt
        let id = tables.count
        tables.append(BuildTable(line: line, column: column, depth: depth))
        let e = tables[parent].entries.count
        tables[parent].index[ExactKey(key)] = e
        tables[parent].entries.append(.init(key: key, slot: .table(id), line: line, column: column, explicit: explicit))
        return (id, e)
    }

    /// `key = value` in the table of the current section.
    private mutating func keyValue(in section: Int) throws(TOMLError) {
        let keyPos = i
        let keyAt = position(keyPos)
        let key = try parseKey()
        guard peek == EQUALS else {
            throw fail("expected '=' after the key \(dotted(key[...])), found \(describe(i))")
        }
        i += 1
        skipSpaces()
        let value = try parseValue()
        var t = section
        for (n, k) in key.dropLast().enumerated() {
            if let e = tables[t].index[ExactKey(k)] {
                let entry = tables[t].entries[e]
                switch entry.slot {
                case .table(let id) where !entry.explicit:
                    pending.append((t, e))
                    t = id
                case .table:
                    throw fail("the dotted key \(dotted(key[...])) would add to the table \(dotted(key[...n])) defined by a [header] at line \(entry.line); write the key under that header instead", at: keyPos)
                default:
                    throw fail("the dotted key \(dotted(key[...])) goes through \(dotted(key[...n])), which is already \(slotName(entry.slot)) (line \(entry.line))", at: keyPos)
                }
            } else {
                let made = try newTable(in: t, key: k, pos: keyPos, at: keyAt, explicit: false)
                pending.append((t, made.entry))
                t = made.table
            }
        }
        try insert(key, value, into: t, keyPos: keyPos, at: keyAt)
    }

    private mutating func insert(_ key: [String], _ value: TOMLValue, into t: Int, keyPos: Int, at keyAt: (line: Int, column: Int)) throws(TOMLError) {
        let stem = key[key.count - 1]
        if let e = tables[t].index[ExactKey(stem)] {
            let entry = tables[t].entries[e]
            throw fail("\(dotted(key[...])) is already defined (line \(entry.line)) as \(slotName(entry.slot))", at: keyPos)
        }
        let (line, column) = keyAt
        tables[t].index[ExactKey(stem)] = tables[t].entries.count
        tables[t].entries.append(.init(key: stem, slot: .value(value), line: line, column: column, explicit: false))
    }

    /// `[a.b]`: returns the table of the new section.
    private mutating func tableHeader() throws(TOMLError) -> Int {
        i += 1
        skipSpaces()
        let keyPos = i
        let keyAt = position(keyPos)
        let key = try parseKey()
        guard peek == RBRACKET else {
            throw fail("expected ']' to close the table header [\(dotted(key[...]))], found \(describe(i))")
        }
        i += 1
        var t = 0
        for (n, k) in key.enumerated() {
            let last = n == key.count - 1
            if let e = tables[t].index[ExactKey(k)] {
                let entry = tables[t].entries[e]
                switch entry.slot {
                case .table(let id):
                    if last {
                        if entry.explicit {
                            throw fail("the table [\(dotted(key[...]))] is already defined (line \(entry.line)); a table can be defined only once", at: keyPos)
                        }
                        let (line, column) = keyAt
                        tables[t].entries[e].explicit = true
                        tables[t].entries[e].line = line
                        tables[t].entries[e].column = column
                        tables[id].line = line
                        tables[id].column = column
                    }
                    t = id
                case .tables(let ids):
                    if last {
                        throw fail("[\(dotted(key[...]))] is already an array of tables (line \(entry.line)); use [[\(dotted(key[...]))]] to add a table to it", at: keyPos)
                    }
                    t = ids[ids.count - 1]
                case .value:
                    throw fail("the table [\(dotted(key[...]))] cannot be defined: \(dotted(key[...n])) is already \(slotName(entry.slot)) (line \(entry.line))", at: keyPos)
                }
            } else {
                t = try newTable(in: t, key: k, pos: keyPos, at: keyAt, explicit: last).table
            }
        }
        return t
    }

    /// `[[a.b]]`: appends a table to the array a.b and returns it.
    private mutating func arrayOfTablesHeader() throws(TOMLError) -> Int {
        i += 2
        skipSpaces()
        let keyPos = i
        let keyAt = position(keyPos)
        let key = try parseKey()
        guard peek == RBRACKET && at(i + 1) == RBRACKET else {
            throw fail("expected ']]' to close the array-of-tables header [[\(dotted(key[...]))]], found \(describe(i))")
        }
        i += 2
        var t = 0
        for (n, k) in key.dropLast().enumerated() {
            if let e = tables[t].index[ExactKey(k)] {
                let entry = tables[t].entries[e]
                switch entry.slot {
                case .table(let id): t = id
                case .tables(let ids): t = ids[ids.count - 1]
                case .value:
                    throw fail("the array of tables [[\(dotted(key[...]))]] cannot be defined: \(dotted(key[...n])) is already \(slotName(entry.slot)) (line \(entry.line))", at: keyPos)
                }
            } else {
                t = try newTable(in: t, key: k, pos: keyPos, at: keyAt, explicit: false).table
            }
        }
        let stem = key[key.count - 1]
        let (line, column) = keyAt
        let depth = tables[t].depth + 1
        if depth > TOML.maximumNesting * 2 { throw fail("tables nested more than \(TOML.maximumNesting * 2) deep are not supported", at: keyPos) }
        let id = tables.count
        tables.append(BuildTable(line: line, column: column, depth: depth))
        if let e = tables[t].index[ExactKey(stem)] {
            let entry = tables[t].entries[e]
            guard case .tables(var ids) = entry.slot else {
                throw fail("[[\(dotted(key[...]))]] cannot be an array of tables: it is already \(slotName(entry.slot)) (line \(entry.line))", at: keyPos)
            }
            tables[t].entries[e].slot = .tables([])  // keeps `ids` uniquely referenced
            ids.append(id)
            tables[t].entries[e].slot = .tables(ids)
        } else {
            tables[t].index[ExactKey(stem)] = tables[t].entries.count
            tables[t].entries.append(.init(key: stem, slot: .tables([id]), line: line, column: column, explicit: true))
        }
        return id
    }

    private func freeze(_ t: Int) -> TOMLTable {
        var out = TOMLTable()
        for entry in tables[t].entries {
            let value: TOMLValue
            switch entry.slot {
            case .value(let v):
                value = v
            case .table(let id):
                value = TOMLValue(kind: .table(freeze(id)), line: tables[id].line, column: tables[id].column)
            case .tables(let ids):
                value = TOMLValue(kind: .array(ids.map { TOMLValue(kind: .table(freeze($0)), line: tables[$0].line, column: tables[$0].column) }),
                                  line: entry.line, column: entry.column)
            }
            out.set(entry.key, value, line: entry.line, column: entry.column)
        }
        return out
    }

    // MARK: values

    private mutating func parseValue() throws(TOMLError) -> TOMLValue {
        let start = i
        let (line, column) = position(start)
        func made(_ kind: TOMLValue.Kind) -> TOMLValue { TOMLValue(kind: kind, line: line, column: column) }
        let c = peek
        switch c {
        case QUOTE:
            return made(.string(startsWith(QUOTE, QUOTE, QUOTE) ? try multilineBasicString() : try basicString(multiline: false)))
        case APOS:
            return made(.string(startsWith(APOS, APOS, APOS) ? try multilineLiteralString() : try literalString()))
        case 0x74:  // t
            if i + 3 < b.count && b[i + 1] == 0x72 && b[i + 2] == 0x75 && b[i + 3] == 0x65 { i += 4; return made(.bool(true)) }
        case 0x66:  // f
            if i + 4 < b.count && b[i + 1] == 0x61 && b[i + 2] == 0x6C && b[i + 3] == 0x73 && b[i + 4] == 0x65 { i += 5; return made(.bool(false)) }
        case LBRACKET:
            return made(.array(try array()))
        case LBRACE:
            return made(.table(try inlineTable()))
        default:
            if isDigit(c) {
                if let kind = try dateOrTime() { return made(kind) }
            }
            if isDigit(c) || c == PLUS || c == MINUS {
                if let kind = try number() { return made(kind) }
            }
            if let kind = specialFloat() { return made(kind) }
        }
        if i >= b.count || b[i] == LF {
            throw fail("expected a value after '=', found \(describe(i))")
        }
        throw fail("expected a value (a string in quotes, number, true/false, date/time, array or inline table), found \(describe(i))")
    }

    private mutating func enter() throws(TOMLError) {
        nesting += 1
        if nesting > TOML.maximumNesting {
            throw fail("arrays and inline tables nested more than \(TOML.maximumNesting) deep are not supported")
        }
    }

    private mutating func array() throws(TOMLError) -> [TOMLValue] {
        let open = i
        try enter()
        i += 1
        var items: [TOMLValue] = []
        try skipArraySpace()
        if peek == RBRACKET { i += 1; nesting -= 1; return items }
        while true {
            if i >= b.count { throw fail("the array opened here is never closed with ']'", at: open) }
            items.append(try parseValue())
            try skipArraySpace()
            if peek == RBRACKET { i += 1; break }
            if i >= b.count { throw fail("the array opened here is never closed with ']'", at: open) }
            guard peek == COMMA else { throw fail("expected ',' or ']' after an array item, found \(describe(i))") }
            i += 1
            try skipArraySpace()
            if peek == RBRACKET { i += 1; break }
        }
        nesting -= 1
        return items
    }

    private mutating func inlineTable() throws(TOMLError) -> TOMLTable {
        try enter()
        i += 1
        // Built in the same table array, then frozen and dropped from it.
        let first = tables.count
        tables.append(BuildTable(line: 0, column: 0, depth: 0))
        defer { tables.removeSubrange(first...) }
        skipSpaces()
        if peek == RBRACE { i += 1; nesting -= 1; return TOMLTable() }
        while true {
            let keyPos = i
            let keyAt = position(keyPos)
            let key = try parseKey()
            guard peek == EQUALS else {
                throw fail("expected '=' after the key \(dotted(key[...])) in the inline table, found \(describe(i))")
            }
            i += 1
            skipSpaces()
            let value = try parseValue()
            var t = first
            for (n, k) in key.dropLast().enumerated() {
                if let e = tables[t].index[ExactKey(k)] {
                    let entry = tables[t].entries[e]
                    guard case .table(let id) = entry.slot else {
                        throw fail("the dotted key \(dotted(key[...])) goes through \(dotted(key[...n])), which is already \(slotName(entry.slot))", at: keyPos)
                    }
                    t = id
                } else {
                    t = try newTable(in: t, key: k, pos: keyPos, at: keyAt, explicit: false).table
                }
            }
            try insert(key, value, into: t, keyPos: keyPos, at: keyAt)
            skipSpaces()
            if peek == RBRACE { i += 1; break }
            if peek == COMMA {
                i += 1
                skipSpaces()
                if peek == RBRACE { throw fail("an inline table cannot end with a trailing comma") }
                continue
            }
            if i >= b.count || peek == LF {
                throw fail("an inline table must be closed with '}' on the line where it starts (found \(describe(i)))")
            }
            throw fail("expected ',' or '}' after a value in the inline table, found \(describe(i))")
        }
        nesting -= 1
        return freeze(first)
    }

    // MARK: strings

    /// `\` escapes; for multi-line strings also the line-ending backslash. Appends to `out`.
    private mutating func escape(into out: inout [UInt8], multiline: Bool) throws(TOMLError) {
        let slash = i
        i += 1
        let e = peek
        if multiline && (e == SP || e == TAB || e == LF) {
            if e != LF {
                skipSpaces()
                if i >= b.count { return }
                guard b[i] == LF else {
                    throw fail("a '\\' followed by spaces must end the line (line-ending backslash); write \\\\ for a backslash", at: slash)
                }
            }
            while i < b.count && (b[i] == SP || b[i] == TAB || b[i] == LF) { i += 1 }
            return
        }
        i += 1
        switch e {
        case 0x62: out.append(0x08)  // b
        case 0x74: out.append(0x09)  // t
        case 0x6E: out.append(0x0A)  // n
        case 0x66: out.append(0x0C)  // f
        case 0x72: out.append(0x0D)  // r
        case QUOTE: out.append(QUOTE)
        case BACKSLASH: out.append(BACKSLASH)
        case 0x75, 0x55:  // u U
            let count = e == 0x75 ? 4 : 8
            var code: UInt32 = 0
            for k in 0..<count {
                let h = at(i + k)
                guard i + k < b.count, isHexDigit(h) else {
                    throw fail("\\\(e == 0x75 ? "u" : "U") needs \(count) hexadecimal digits", at: slash)
                }
                code = code << 4 | UInt32(isDigit(h) ? h - 0x30 : (h | 0x20) - 0x61 + 10)
            }
            i += count
            guard let scalar = Unicode.Scalar(code) else {
                throw fail("\\\(e == 0x75 ? "u" : "U")\(String(code, radix: 16, uppercase: true)) is not a Unicode scalar value (surrogates and values above 10FFFF are not allowed)", at: slash)
            }
            for byte in UTF8.encode(scalar)! { out.append(byte) }
        default:
            if i - 1 >= b.count {
                throw fail("the string is not closed before the end of the file")
            }
            throw fail("unknown escape: '\\' followed by \(describe(i - 1)) (known: \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX); write \\\\ for a backslash", at: slash)
        }
    }

    /// `"..."` (the opening quote at `i`), or the body of `"""..."""` when `multiline`.
    private mutating func basicString(multiline: Bool, open: Int? = nil) throws(TOMLError) -> String {
        let open = open ?? i
        i += multiline ? 0 : 1
        var out: [UInt8] = []
        var run = i
        while true {
            guard i < b.count else {
                throw fail(multiline ? "the multi-line string opened here is never closed with \"\"\"" : "the string opened here is not closed before the end of the file", at: open)
            }
            let c = b[i]
            if c == QUOTE {
                if !multiline {
                    out.append(contentsOf: b[run..<i])
                    i += 1
                    break
                }
                if startsWith(QUOTE, QUOTE, QUOTE) {
                    out.append(contentsOf: b[run..<i])
                    i += 3
                    break
                }
                i += 1
                continue
            }
            if c == BACKSLASH {
                out.append(contentsOf: b[run..<i])
                try escape(into: &out, multiline: multiline)
                run = i
                continue
            }
            if isControl(c) && !(multiline && c == LF) {
                if c == LF { throw fail("the string opened here is not closed before the end of the line (use \"\"\" for a multi-line string)", at: open) }
                throw fail("\(describe(i)) is not allowed in a string (write it as an escape)")
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func multilineBasicString() throws(TOMLError) -> String {
        let open = i
        i += 3
        if peek == LF { i += 1 }
        var s = try basicString(multiline: true, open: open)
        // Up to two quotes right before the closing delimiter belong to the string.
        if peek == QUOTE { i += 1; s += "\"" }
        if peek == QUOTE { i += 1; s += "\"" }
        return s
    }

    private mutating func literalString() throws(TOMLError) -> String {
        let open = i
        i += 1
        let start = i
        while true {
            guard i < b.count else { throw fail("the string opened here is not closed before the end of the file", at: open) }
            let c = b[i]
            if c == APOS { break }
            if isControl(c) {
                if c == LF { throw fail("the string opened here is not closed before the end of the line (use ''' for a multi-line string)", at: open) }
                throw fail("\(describe(i)) is not allowed in a literal string")
            }
            i += 1
        }
        let s = String(decoding: b[start..<i], as: UTF8.self)
        i += 1
        return s
    }

    private mutating func multilineLiteralString() throws(TOMLError) -> String {
        let open = i
        i += 3
        if peek == LF { i += 1 }
        let start = i
        while true {
            guard i < b.count else { throw fail("the multi-line string opened here is never closed with '''", at: open) }
            let c = b[i]
            if c == APOS && startsWith(APOS, APOS, APOS) { break }
            if isControl(c) && c != LF { throw fail("\(describe(i)) is not allowed in a literal string") }
            i += 1
        }
        var s = String(decoding: b[start..<i], as: UTF8.self)
        i += 3
        if peek == APOS { i += 1; s += "'" }
        if peek == APOS { i += 1; s += "'" }
        return s
    }

    // MARK: numbers

    /// Digits with single underscores between them, in `radix`; stops before anything else.
    /// Returns false when no digit is at `i`.
    private mutating func digits(_ isDigit: (UInt8) -> Bool) -> Bool {
        guard i < b.count, isDigit(b[i]) else { return false }
        i += 1
        while i < b.count {
            if isDigit(b[i]) { i += 1 }
            else if b[i] == UNDERSCORE && i + 1 < b.count && isDigit(b[i + 1]) { i += 2 }
            else { break }
        }
        return true
    }

    /// What may follow a value: a number that runs into anything else is malformed.
    private func atValueEnd() -> Bool {
        guard i < b.count else { return true }
        switch b[i] {
        case SP, TAB, LF, HASH, COMMA, RBRACKET, RBRACE: return true
        default: return false
        }
    }

    private mutating func number() throws(TOMLError) -> TOMLValue.Kind? {
        let start = i
        // 0x, 0o, 0b
        if b[i] == 0x30, i + 2 < b.count {
            let p = b[i + 1]
            let radix: UInt64 = p == 0x78 ? 16 : p == 0x6F ? 8 : p == 0x62 ? 2 : 0
            if radix != 0 {
                let valid: (UInt8) -> Bool = radix == 16 ? isHexDigit : radix == 8 ? { $0 &- 0x30 < 8 } : { $0 &- 0x30 < 2 }
                i += 2
                let digitsStart = i
                if digits(valid) {
                    guard atValueEnd() else { throw malformedNumber(start) }
                    var v: UInt64 = 0
                    for h in b[digitsStart..<i] where h != UNDERSCORE {
                        let d = UInt64(isDigit(h) ? h - 0x30 : (h | 0x20) - 0x61 + 10)
                        let (m, o1) = v.multipliedReportingOverflow(by: radix)
                        let (s, o2) = m.addingReportingOverflow(d)
                        if o1 || o2 || s > UInt64(Int.max) { throw integerOverflow(start) }
                        v = s
                    }
                    return .integer(Int(v))
                }
                i = start
                throw malformedNumber(start)
            }
        }
        let negative = b[i] == MINUS
        if b[i] == PLUS || b[i] == MINUS { i += 1 }
        let intStart = i
        guard i < b.count, isDigit(b[i]) else {
            i = start
            return nil  // +inf, -nan, or not a value
        }
        if b[i] == 0x30 { i += 1 } else { _ = digits(isDigit) }
        let intEnd = i
        var isFloat = false
        if peek == DOT {
            i += 1
            guard digits(isDigit) else { throw fail("a decimal point must be followed by digits (1.0, not 1.)", at: start) }
            isFloat = true
        }
        if peek | 0x20 == 0x65 {  // e E
            i += 1
            if peek == PLUS || peek == MINUS { i += 1 }
            guard digits(isDigit) else { throw fail("an exponent needs digits (1e6, 1e-6)", at: start) }
            isFloat = true
        }
        guard atValueEnd() else { throw malformedNumber(start) }
        if isFloat {
            var text: [UInt8] = []
            text.reserveCapacity(i - start)
            for c in b[start..<i] where c != UNDERSCORE { text.append(c) }
            guard let d = Double(String(decoding: text, as: UTF8.self)) else { throw malformedNumber(start) }
            return .float(d)
        }
        // Decimal integer, the magnitude up to 2^63 for a negative one.
        var v: UInt64 = 0
        for c in b[intStart..<intEnd] where c != UNDERSCORE {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(c - 0x30))
            if o1 || o2 || s > UInt64(Int.max) + (negative ? 1 : 0) { throw integerOverflow(start) }
            v = s
        }
        if negative { return .integer(v == UInt64(Int.max) + 1 ? Int.min : -Int(v)) }
        return .integer(Int(v))
    }

    private mutating func malformedNumber(_ start: Int) -> TOMLError {
        var end = i
        while end < b.count, !(b[end] == SP || b[end] == TAB || b[end] == LF || b[end] == HASH || b[end] == COMMA || b[end] == RBRACKET || b[end] == RBRACE) { end += 1 }
        let word = String(decoding: b[start..<end], as: UTF8.self)
        return fail("'\(word)' is not a valid number (decimal without leading zeros, 0x/0o/0b, '_' only between digits, floats like 1.5, 1e6, inf, nan)", at: start)
    }

    private func integerOverflow(_ start: Int) -> TOMLError {
        fail("the integer does not fit in 64 bits (-9223372036854775808 to 9223372036854775807)", at: start)
    }

    private mutating func specialFloat() -> TOMLValue.Kind? {
        var k = i
        var sign: Double = 1
        if at(k) == PLUS { k += 1 } else if at(k) == MINUS { sign = -1; k += 1 }
        let a = at(k), c = at(k + 1), d = at(k + 2)
        if a == 0x69 && c == 0x6E && d == 0x66 { i = k + 3; return .float(sign * .infinity) }  // inf
        if a == 0x6E && c == 0x61 && d == 0x6E { i = k + 3; return .float(sign < 0 ? -Double.nan : .nan) }  // nan
        return nil
    }

    // MARK: dates and times

    /// `count` decimal digits at `pos` as a number, or nil.
    private func fixedDigits(_ pos: Int, _ count: Int) -> Int? {
        guard pos + count <= b.count else { return nil }
        var v = 0
        for k in pos..<(pos + count) {
            guard isDigit(b[k]) else { return nil }
            v = v * 10 + Int(b[k] - 0x30)
        }
        return v
    }

    /// `HH:MM:SS[.fraction]` at `i` when the text has that shape; nil (i unchanged) when it
    /// does not start with `DD:`.
    private mutating func time() throws(TOMLError) -> TOMLTime? {
        let start = i
        guard fixedDigits(i, 2) != nil, at(i + 2) == COLON else { return nil }
        guard let h = fixedDigits(i, 2), let m = fixedDigits(i + 3, 2), at(i + 5) == COLON, let s = fixedDigits(i + 6, 2) else {
            throw fail("a time is written HH:MM:SS (seconds are required), with an optional fraction", at: start)
        }
        guard h <= 23, m <= 59, s <= 59 else {
            throw fail("the time \(String(decoding: b[start..<(start + 8)], as: UTF8.self)) is out of range (hours 00-23, minutes and seconds 00-59)", at: start)
        }
        i += 8
        var nanos = 0
        if peek == DOT && isDigit(at(i + 1)) {
            i += 1
            var n = 0
            while i < b.count && isDigit(b[i]) {
                if n < 9 { nanos = nanos * 10 + Int(b[i] - 0x30); n += 1 }
                i += 1
            }
            while n < 9 { nanos *= 10; n += 1 }
        }
        return TOMLTime(hour: h, minute: m, second: s, nanosecond: nanos)
    }

    private mutating func dateOrTime() throws(TOMLError) -> TOMLValue.Kind? {
        let start = i
        if let t = try time() {
            return .localTime(TOMLDateTime(date: nil, time: t, offsetMinutes: nil, text: String(decoding: b[start..<i], as: UTF8.self)))
        }
        guard fixedDigits(i, 4) != nil, at(i + 4) == MINUS else { return nil }
        guard let y = fixedDigits(i, 4), let mo = fixedDigits(i + 5, 2), at(i + 7) == MINUS, let d = fixedDigits(i + 8, 2) else {
            throw fail("a date is written YYYY-MM-DD", at: start)
        }
        guard mo >= 1 && mo <= 12 else { throw fail("the month \(mo) is out of range (01-12)", at: start) }
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]
        guard d >= 1 && d <= days else { throw fail("day \(d) does not exist in \(String(decoding: b[start..<(start + 7)], as: UTF8.self))", at: start) }
        guard y >= 1 else { throw fail("the year 0000 is not supported (as in Python's datetime)", at: start) }
        let date = TOMLDate(year: y, month: mo, day: d)
        i += 10
        // A time follows a 'T' (or 't'), or a space when a time is really there.
        let sep = peek
        var t: TOMLTime?
        if sep == 0x54 || sep == 0x74 || (sep == SP && fixedDigits(i + 1, 2) != nil && at(i + 3) == COLON) {
            let sepPos = i
            i += 1
            t = try time()
            if t == nil {
                if sep == SP { i = sepPos } else { throw fail("expected a time (HH:MM:SS) after 'T'", at: sepPos) }
            }
        }
        guard let t else {
            return .localDate(TOMLDateTime(date: date, time: nil, offsetMinutes: nil, text: String(decoding: b[start..<i], as: UTF8.self)))
        }
        var offset: Int?
        if peek == 0x5A || peek == 0x7A {  // Z z
            i += 1
            offset = 0
        } else if peek == PLUS || peek == MINUS {
            let negative = peek == MINUS
            guard let oh = fixedDigits(i + 1, 2), at(i + 3) == COLON, let om = fixedDigits(i + 4, 2), oh <= 23, om <= 59 else {
                throw fail("a time offset is written Z, +HH:MM or -HH:MM (hours 00-23, minutes 00-59)", at: i)
            }
            i += 6
            offset = (negative ? -1 : 1) * (oh * 60 + om)
        }
        let value = TOMLDateTime(date: date, time: t, offsetMinutes: offset, text: String(decoding: b[start..<i], as: UTF8.self))
        return offset == nil ? .localDateTime(value) : .offsetDateTime(value)
    }
}

// MARK: - Canonical JSON

enum CanonicalJSON {
    static func write(_ table: TOMLTable, into out: inout [UInt8]) {
        out.append(LBRACE)
        let order = table.entries.indices.sorted { a, c in
            table.entries[a].key.utf8.lexicographicallyPrecedes(table.entries[c].key.utf8)
        }
        for (n, k) in order.enumerated() {
            if n > 0 { out.append(COMMA) }
            string(table.entries[k].key, into: &out)
            out.append(COLON)
            write(table.entries[k].value, into: &out)
        }
        out.append(RBRACE)
    }

    static func write(_ value: TOMLValue, into out: inout [UInt8]) {
        switch value.kind {
        case .string(let s): string(s, into: &out)
        case .integer(let n): out.append(contentsOf: String(n).utf8)
        case .float(let d): out.append(contentsOf: pythonRepr(d).utf8)
        case .bool(let v): out.append(contentsOf: (v ? "true" : "false").utf8)
        case .offsetDateTime(let d): tagged("offset-datetime", d, into: &out)
        case .localDateTime(let d): tagged("local-datetime", d, into: &out)
        case .localDate(let d): tagged("local-date", d, into: &out)
        case .localTime(let d): tagged("local-time", d, into: &out)
        case .array(let items):
            out.append(LBRACKET)
            for (n, item) in items.enumerated() {
                if n > 0 { out.append(COMMA) }
                write(item, into: &out)
            }
            out.append(RBRACKET)
        case .table(let t): write(t, into: &out)
        }
    }

    static func tagged(_ tag: String, _ d: TOMLDateTime, into out: inout [UInt8]) {
        out.append(contentsOf: "{\"$toml:\(tag)\":\"\(d.canonicalText)\"}".utf8)
    }

    /// As Python's json.dumps(ensure_ascii=False).
    static func string(_ s: String, into out: inout [UInt8]) {
        out.append(QUOTE)
        for c in s.utf8 {
            switch c {
            case QUOTE: out.append(contentsOf: [BACKSLASH, QUOTE])
            case BACKSLASH: out.append(contentsOf: [BACKSLASH, BACKSLASH])
            case 0x0A: out.append(contentsOf: [BACKSLASH, 0x6E])
            case 0x0D: out.append(contentsOf: [BACKSLASH, 0x72])
            case 0x09: out.append(contentsOf: [BACKSLASH, 0x74])
            case 0x08: out.append(contentsOf: [BACKSLASH, 0x62])
            case 0x0C: out.append(contentsOf: [BACKSLASH, 0x66])
            case 0..<0x20:
                let h = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [BACKSLASH, 0x75, 0x30, 0x30, h[Int(c >> 4)], h[Int(c & 15)]])
            default: out.append(c)
            }
        }
        out.append(QUOTE)
    }

    /// Python's repr of a float (shortest round-trip digits; exponent form below 1e-4 and from
    /// 1e16), as json.dumps writes it (NaN, Infinity, -Infinity).
    static func pythonRepr(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
        // Swift's description has the same shortest digits; take them and the exponent apart.
        var text = Substring(d.magnitude.description)
        var exp10 = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exp10 = Int(text[text.index(after: e)...])!
            text = text[..<e]
        }
        var digits = ""
        var pointAt = text.count
        for (n, ch) in text.enumerated() {
            if ch == "." { pointAt = n } else { digits.append(ch) }
        }
        // value = 0.DIGITS * 10^decpt
        var decpt = pointAt + exp10
        while digits.hasPrefix("0") && digits.count > 1 { digits.removeFirst(); decpt -= 1 }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        var out = d.sign == .minus ? "-" : ""
        if decpt > 16 || decpt < -3 {
            out.append(digits.first!)
            if digits.count > 1 { out += "." + digits.dropFirst() }
            let e = decpt - 1
            out += e < 0 ? "e-" : "e+"
            let es = String(abs(e))
            out += (es.count < 2 ? "0" : "") + es
        } else if decpt <= 0 {
            out += "0." + String(repeating: "0", count: -decpt) + digits
        } else if decpt < digits.count {
            out += digits.prefix(decpt) + "." + digits.dropFirst(decpt)
        } else {
            out += digits + String(repeating: "0", count: decpt - digits.count) + ".0"
        }
        return out
    }
}
