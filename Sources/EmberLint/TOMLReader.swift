// A small TOML reader for configuration files. It keeps the line of every key and value
// so that a configuration error can name file, key and line (TOMLKit does not expose
// source positions). It covers what configuration needs: tables, arrays of tables,
// dotted and quoted keys, strings (basic, literal, multi-line), integers, floats,
// booleans, arrays and inline tables. Dates are rejected with a clear message.

/// One TOML value with the 1-based line it starts on.
public struct TOMLValue {
    public enum Kind {
        case string(String)
        case integer(Int)
        case float(Double)
        case bool(Bool)
        case array([TOMLValue])
        case table(TOMLTable)
    }
    public var kind: Kind
    public var line: Int

    public var typeName: String {
        switch kind {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .bool: "boolean"
        case .array: "array"
        case .table: "table"
        }
    }
}

/// An ordered TOML table. A reference type so nested tables can be filled in place while
/// parsing; it is never shared across threads.
public final class TOMLTable {
    public private(set) var keys: [String] = []
    public private(set) var values: [String: TOMLValue] = [:]
    /// Line of each key's definition.
    public private(set) var keyLines: [String: Int] = [:]
    /// Tables created implicitly by a dotted header may be defined later once.
    var implicit = false
    /// Tables defined by `key = {...}` are closed to further additions.
    var inline = false

    public init() {}

    public subscript(key: String) -> TOMLValue? { values[key] }

    func set(_ key: String, _ value: TOMLValue, line: Int) {
        if values[key] == nil { keys.append(key) }
        values[key] = value
        keyLines[key] = line
    }
}

public struct TOMLError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public var line: Int
    public var description: String { "line \(line): \(message)" }
}

public enum TOMLReader {
    public static func parse(_ text: String) throws(TOMLError) -> TOMLTable {
        var parser = Parser(bytes: Array(text.utf8))
        return try parser.parseDocument()
    }
}

private struct Parser {
    let bytes: [UInt8]
    var i = 0
    var line = 1

    init(bytes: [UInt8]) { self.bytes = bytes }

    func fail(_ message: String) -> TOMLError { TOMLError(message: message, line: line) }

    var atEnd: Bool { i >= bytes.count }
    var peek: UInt8 { i < bytes.count ? bytes[i] : 0 }

    mutating func skipSpaces() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
    }

    mutating func skipComment() {
        if peek == UInt8(ascii: "#") {
            while i < bytes.count, bytes[i] != 0x0A { i += 1 }
        }
    }

    /// Skips spaces, comments and newlines (inside arrays and between statements).
    mutating func skipBlank() {
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x20 || b == 0x09 || b == 0x0D { i += 1 }
            else if b == 0x0A { i += 1; line += 1 }
            else if b == UInt8(ascii: "#") { skipComment() }
            else { return }
        }
    }

    mutating func expectEndOfLine() throws(TOMLError) {
        skipSpaces()
        skipComment()
        if peek == 0x0D { i += 1 }
        if atEnd { return }
        guard peek == 0x0A else { throw fail("expected the end of the line, found '\(String(decoding: [peek], as: UTF8.self))'") }
        i += 1
        line += 1
    }

    mutating func parseDocument() throws(TOMLError) -> TOMLTable {
        let root = TOMLTable()
        var current = root
        while true {
            skipBlank()
            if atEnd { return root }
            if peek == UInt8(ascii: "[") {
                let headerLine = line
                i += 1
                let isArray = peek == UInt8(ascii: "[")
                if isArray { i += 1 }
                skipSpaces()
                let path = try parseKeyPath()
                skipSpaces()
                guard peek == UInt8(ascii: "]") else { throw fail("expected ']' to close the table header") }
                i += 1
                if isArray {
                    guard peek == UInt8(ascii: "]") else { throw fail("expected ']]' to close the array-of-tables header") }
                    i += 1
                }
                try expectEndOfLine()
                current = try openTable(root: root, path: path, isArray: isArray, line: headerLine)
            } else {
                let keyLine = line
                let path = try parseKeyPath()
                skipSpaces()
                guard peek == UInt8(ascii: "=") else { throw fail("expected '=' after the key '\(path.joined(separator: "."))'") }
                i += 1
                skipSpaces()
                let value = try parseValue()
                try expectEndOfLine()
                try assign(in: current, path: path, value: value, line: keyLine)
            }
        }
    }

    func openTable(root: TOMLTable, path: [String], isArray: Bool, line: Int) throws(TOMLError) -> TOMLTable {
        var table = root
        for (index, key) in path.enumerated() {
            let last = index == path.count - 1
            if last && isArray {
                let fresh = TOMLTable()
                if let existing = table[key] {
                    guard case .array(var items) = existing.kind else {
                        throw TOMLError(message: "'\(path.joined(separator: "."))' is already defined as a \(existing.typeName)", line: line)
                    }
                    items.append(TOMLValue(kind: .table(fresh), line: line))
                    table.set(key, TOMLValue(kind: .array(items), line: existing.line), line: table.keyLines[key] ?? line)
                } else {
                    table.set(key, TOMLValue(kind: .array([TOMLValue(kind: .table(fresh), line: line)]), line: line), line: line)
                }
                return fresh
            }
            if let existing = table[key] {
                switch existing.kind {
                case .table(let sub):
                    if sub.inline { throw TOMLError(message: "'\(key)' is an inline table and cannot be extended", line: line) }
                    if last {
                        guard sub.implicit else {
                            throw TOMLError(message: "table '\(path.joined(separator: "."))' is defined twice", line: line)
                        }
                        sub.implicit = false
                        table.set(key, TOMLValue(kind: .table(sub), line: line), line: line)
                    }
                    table = sub
                case .array(let items):
                    guard let lastItem = items.last, case .table(let sub) = lastItem.kind else {
                        throw TOMLError(message: "'\(key)' is an array of values, not of tables", line: line)
                    }
                    table = sub
                default:
                    throw TOMLError(message: "'\(key)' is already defined as a \(existing.typeName)", line: line)
                }
            } else {
                let sub = TOMLTable()
                sub.implicit = !last
                table.set(key, TOMLValue(kind: .table(sub), line: line), line: line)
                table = sub
            }
        }
        return table
    }

    func assign(in table: TOMLTable, path: [String], value: TOMLValue, line: Int) throws(TOMLError) {
        var table = table
        for key in path.dropLast() {
            if let existing = table[key] {
                guard case .table(let sub) = existing.kind, !sub.inline else {
                    throw TOMLError(message: "'\(key)' is already defined as a \(existing.typeName)", line: line)
                }
                table = sub
            } else {
                let sub = TOMLTable()
                sub.implicit = true
                table.set(key, TOMLValue(kind: .table(sub), line: line), line: line)
                table = sub
            }
        }
        let key = path[path.count - 1]
        if table[key] != nil {
            throw TOMLError(message: "key '\(path.joined(separator: "."))' is defined twice", line: line)
        }
        table.set(key, value, line: line)
    }

    static func isBareKeyByte(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x5F || b == 0x2D
    }

    mutating func parseKeyPath() throws(TOMLError) -> [String] {
        var parts: [String] = []
        while true {
            skipSpaces()
            if peek == UInt8(ascii: "\"") {
                parts.append(try parseBasicString())
            } else if peek == UInt8(ascii: "'") {
                parts.append(try parseLiteralString())
            } else {
                let start = i
                while i < bytes.count, Parser.isBareKeyByte(bytes[i]) { i += 1 }
                guard i > start else {
                    throw fail(atEnd ? "expected a key, found the end of the file" : "expected a key, found '\(String(decoding: [peek], as: UTF8.self))'")
                }
                parts.append(String(decoding: bytes[start..<i], as: UTF8.self))
            }
            skipSpaces()
            if peek == UInt8(ascii: ".") { i += 1; continue }
            return parts
        }
    }

    mutating func parseValue() throws(TOMLError) -> TOMLValue {
        let valueLine = line
        let b = peek
        switch b {
        case UInt8(ascii: "\""):
            if hasPrefix("\"\"\"") { return TOMLValue(kind: .string(try parseMultilineBasic()), line: valueLine) }
            return TOMLValue(kind: .string(try parseBasicString()), line: valueLine)
        case UInt8(ascii: "'"):
            if hasPrefix("'''") { return TOMLValue(kind: .string(try parseMultilineLiteral()), line: valueLine) }
            return TOMLValue(kind: .string(try parseLiteralString()), line: valueLine)
        case UInt8(ascii: "["):
            i += 1
            var items: [TOMLValue] = []
            while true {
                skipBlank()
                if peek == UInt8(ascii: "]") { i += 1; break }
                if atEnd { throw TOMLError(message: "array opened here is never closed with ']'", line: valueLine) }
                items.append(try parseValue())
                skipBlank()
                if atEnd { throw TOMLError(message: "array opened here is never closed with ']'", line: valueLine) }
                if peek == UInt8(ascii: ",") { i += 1; continue }
                if peek == UInt8(ascii: "]") { i += 1; break }
                throw fail("expected ',' or ']' in the array")
            }
            return TOMLValue(kind: .array(items), line: valueLine)
        case UInt8(ascii: "{"):
            i += 1
            let table = TOMLTable()
            skipSpaces()
            if peek == UInt8(ascii: "}") { i += 1 } else {
                while true {
                    skipSpaces()
                    let keyLine = line
                    let path = try parseKeyPath()
                    skipSpaces()
                    guard peek == UInt8(ascii: "=") else { throw fail("expected '=' in the inline table") }
                    i += 1
                    skipSpaces()
                    let v = try parseValue()
                    try assign(in: table, path: path, value: v, line: keyLine)
                    skipSpaces()
                    if peek == UInt8(ascii: ",") { i += 1; continue }
                    if peek == UInt8(ascii: "}") { i += 1; break }
                    throw fail("expected ',' or '}' in the inline table")
                }
            }
            table.inline = true
            return TOMLValue(kind: .table(table), line: valueLine)
        default:
            let start = i
            while i < bytes.count {
                let c = bytes[i]
                if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == UInt8(ascii: ",") || c == UInt8(ascii: "]")
                    || c == UInt8(ascii: "}") || c == UInt8(ascii: "#") { break }
                i += 1
            }
            let word = String(decoding: bytes[start..<i], as: UTF8.self)
            if word == "true" { return TOMLValue(kind: .bool(true), line: valueLine) }
            if word == "false" { return TOMLValue(kind: .bool(false), line: valueLine) }
            let digits = word.replacingUnderscores()
            if let n = Int(digits) { return TOMLValue(kind: .integer(n), line: valueLine) }
            if let d = Double(digits), digits.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
                return TOMLValue(kind: .float(d), line: valueLine)
            }
            if word.isEmpty { throw fail("expected a value") }
            throw fail("'\(word)' is not a value this reader understands (use a quoted string, number, boolean, array or table)")
        }
    }

    func hasPrefix(_ s: String) -> Bool {
        let p = Array(s.utf8)
        return i + p.count <= bytes.count && Array(bytes[i..<(i + p.count)]) == p
    }

    mutating func parseLiteralString() throws(TOMLError) -> String {
        i += 1
        let start = i
        while i < bytes.count, bytes[i] != UInt8(ascii: "'") {
            if bytes[i] == 0x0A { throw fail("string is not closed before the end of the line") }
            i += 1
        }
        guard !atEnd else { throw fail("string is not closed before the end of the file") }
        let s = String(decoding: bytes[start..<i], as: UTF8.self)
        i += 1
        return s
    }

    mutating func parseMultilineLiteral() throws(TOMLError) -> String {
        i += 3
        if peek == 0x0A { i += 1; line += 1 } else if hasPrefix("\r\n") { i += 2; line += 1 }
        let start = i
        while !atEnd, !hasPrefix("'''") {
            if bytes[i] == 0x0A { line += 1 }
            i += 1
        }
        guard !atEnd else { throw fail("multi-line string is not closed before the end of the file") }
        let s = String(decoding: bytes[start..<i], as: UTF8.self)
        i += 3
        return s
    }

    mutating func parseEscape(into out: inout [UInt8]) throws(TOMLError) {
        i += 1
        guard !atEnd else { throw fail("escape at the end of the file") }
        let e = bytes[i]
        i += 1
        switch e {
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let count = e == UInt8(ascii: "u") ? 4 : 8
            guard i + count <= bytes.count,
                  let code = UInt32(String(decoding: bytes[i..<(i + count)], as: UTF8.self), radix: 16),
                  let scalar = Unicode.Scalar(code) else { throw fail("bad \\\(Character(Unicode.Scalar(e))) escape") }
            i += count
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        default:
            throw fail("unknown escape '\\\(String(decoding: [e], as: UTF8.self))' in a string")
        }
    }

    mutating func parseBasicString() throws(TOMLError) -> String {
        i += 1
        var out: [UInt8] = []
        while true {
            guard !atEnd else { throw fail("string is not closed before the end of the file") }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { i += 1; break }
            if b == 0x0A { throw fail("string is not closed before the end of the line") }
            if b == UInt8(ascii: "\\") { try parseEscape(into: &out); continue }
            out.append(b)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    mutating func parseMultilineBasic() throws(TOMLError) -> String {
        i += 3
        if peek == 0x0A { i += 1; line += 1 } else if hasPrefix("\r\n") { i += 2; line += 1 }
        var out: [UInt8] = []
        while true {
            guard !atEnd else { throw fail("multi-line string is not closed before the end of the file") }
            if hasPrefix("\"\"\"") { i += 3; break }
            let b = bytes[i]
            if b == UInt8(ascii: "\\") {
                // A line-ending backslash trims the newline and following whitespace.
                var j = i + 1
                while j < bytes.count, bytes[j] == 0x20 || bytes[j] == 0x09 || bytes[j] == 0x0D { j += 1 }
                if j < bytes.count, bytes[j] == 0x0A {
                    i = j
                    while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D {
                        if bytes[i] == 0x0A { line += 1 }
                        i += 1
                    }
                    continue
                }
                try parseEscape(into: &out)
                continue
            }
            if b == 0x0A { line += 1 }
            out.append(b)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String {
        String(self.filter { $0 != "_" })
    }
}
