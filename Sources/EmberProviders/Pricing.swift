import EmberCore
import Foundation

/// One model's list price, in US dollars per million tokens.
public struct ModelPrice: Sendable, Equatable, Hashable {
    public var name: String
    /// `"openai"` or `"anthropic"`: where the name routes without a prefix.
    public var provider: String
    public var inputPerMillion: Double
    public var outputPerMillion: Double
    /// Other names of the same model (dated snapshots, `-latest`).
    public var aliases: [String]

    public init(name: String, provider: String, inputPerMillion: Double, outputPerMillion: Double, aliases: [String] = []) {
        self.name = name
        self.provider = provider
        self.inputPerMillion = inputPerMillion
        self.outputPerMillion = outputPerMillion
        self.aliases = aliases
    }

    /// The cost of `usage` at this price.
    public func cost(of usage: TokenUsage) -> Double {
        (Double(usage.promptTokens) * inputPerMillion + Double(usage.completionTokens) * outputPerMillion) / 1_000_000
    }
}

/// Model prices and the registry of known names. `builtIn` is rules/model-pricing.toml
/// compiled into the binary; `parse(toml:)` reads a file of the same form (for an override).
public struct PricingTable: Sendable, Equatable {
    public static let providers: Set<String> = ["openai", "anthropic"]

    /// In file order.
    public let entries: [ModelPrice]
    private let byName: [String: Int]

    /// For the generated table, which the generator has validated.
    init(validated entries: [ModelPrice]) {
        self.entries = entries
        var index: [String: Int] = [:]
        for (i, e) in entries.enumerated() {
            index[e.name] = i
            for a in e.aliases { index[a] = i }
        }
        byName = index
    }

    /// A table from entries; names and aliases must be unique and providers known.
    public init(entries: [ModelPrice]) throws {
        var seen: [String: String] = [:]
        for e in entries {
            guard Self.providers.contains(e.provider) else {
                throw EmberError.invalidConfiguration(
                    key: "pricing.\(e.name).provider",
                    message: "'\(e.provider)' is not a provider; use one of \(Self.providers.sorted().joined(separator: ", "))")
            }
            guard e.inputPerMillion >= 0, e.outputPerMillion >= 0, e.inputPerMillion.isFinite, e.outputPerMillion.isFinite else {
                throw EmberError.invalidConfiguration(
                    key: "pricing.\(e.name)", message: "prices must be non-negative dollars per million tokens")
            }
            for n in [e.name] + e.aliases {
                if let other = seen[n] {
                    throw EmberError.invalidConfiguration(
                        key: "pricing.\(e.name)", message: "name '\(n)' is already used by \(other)")
                }
                seen[n] = e.name
            }
        }
        self.init(validated: entries)
    }

    public static func == (a: PricingTable, b: PricingTable) -> Bool { a.entries == b.entries }

    /// The price of a model by name or alias.
    public func price(for name: String) -> ModelPrice? {
        byName[name].map { entries[$0] }
    }

    /// Every name and alias, sorted (for error hints).
    public var knownNames: [String] { byName.keys.sorted() }
}

/// A pricing file that cannot be read; `description` says where and what to do.
public struct PricingFileError: Error, CustomStringConvertible, Sendable, Equatable {
    public let file: String
    public let line: Int
    public let column: Int
    public let message: String
    public var description: String { "\(file):\(line):\(column): \(message)" }
}

extension PricingTable {
    /// Reads the pricing file format of rules/model-pricing.toml: `[models."<name>"]`
    /// tables whose lines are `provider = "..."`, `input = <number>`, `output = <number>` and
    /// optionally `aliases = ["...", ...]`, with `#` comments. This is the subset of TOML the
    /// file uses; anything else is reported with its line and column, not guessed at.
    public static func parse(toml text: String, file: String = "model-pricing.toml") throws -> PricingTable {
        struct Pending {
            var name: String
            var line: Int
            var provider: String?
            var input: Double?
            var output: Double?
            var aliases: [String] = []
        }
        var done: [ModelPrice] = []
        var current: Pending?
        var lineNumber = 0

        func error(_ column: Int, _ message: String) -> PricingFileError {
            PricingFileError(file: file, line: lineNumber, column: column, message: message)
        }
        func finish(_ p: Pending) throws {
            let here = lineNumber
            lineNumber = p.line  // a missing key is reported at its table's header
            defer { lineNumber = here }
            guard let provider = p.provider else { throw error(1, "model \(p.name) has no provider = \"openai\" or \"anthropic\"") }
            guard let input = p.input else { throw error(1, "model \(p.name) has no input = <dollars per million prompt tokens>") }
            guard let output = p.output else { throw error(1, "model \(p.name) has no output = <dollars per million completion tokens>") }
            done.append(ModelPrice(name: p.name, provider: provider, inputPerMillion: input, outputPerMillion: output, aliases: p.aliases))
        }

        // Bytes, not Characters: "\r\n" is one Character and would hide the line break.
        let lines = Array(text.utf8).split(separator: 0x0A, omittingEmptySubsequences: false)
        for raw in lines {
            lineNumber += 1
            var scanner = LineScanner(Array(raw))
            scanner.skipSpaces()
            if scanner.atEndOrComment { continue }
            if scanner.peek == UInt8(ascii: "[") {
                scanner.advance()
                scanner.skipSpaces()
                let tableColumn = scanner.column
                guard scanner.consume("models.") else {
                    throw error(tableColumn, "expected a [models.\"<name>\"] table header")
                }
                let name: String
                if scanner.peek == UInt8(ascii: "\"") {
                    name = try scanner.string().get(orThrow: { error($0, $1) })
                } else {
                    name = scanner.bareKey()
                    if name.isEmpty { throw error(scanner.column, "expected a model name after [models.") }
                }
                scanner.skipSpaces()
                guard scanner.consume("]") else { throw error(scanner.column, "expected ] to close the table header") }
                scanner.skipSpaces()
                guard scanner.atEndOrComment else { throw error(scanner.column, "unexpected text after the table header") }
                if let p = current { try finish(p) }
                current = Pending(name: name, line: lineNumber)
                continue
            }
            let keyColumn = scanner.column
            let key = scanner.bareKey()
            guard !key.isEmpty else { throw error(keyColumn, "expected key = value or a [models.\"<name>\"] header") }
            guard current != nil else { throw error(keyColumn, "key '\(key)' appears before any [models.\"<name>\"] header") }
            scanner.skipSpaces()
            guard scanner.consume("=") else { throw error(scanner.column, "expected = after '\(key)'") }
            scanner.skipSpaces()
            let valueColumn = scanner.column
            switch key {
            case "provider":
                let v = try scanner.string().get(orThrow: { error($0, $1) })
                guard providers.contains(v) else {
                    throw error(valueColumn, "provider '\(v)' is unknown; use \(providers.sorted().map { "\"\($0)\"" }.joined(separator: " or "))")
                }
                current!.provider = v
            case "input", "output":
                guard let v = scanner.number(), v >= 0 else {
                    throw error(valueColumn, "\(key) must be a non-negative number of dollars per million tokens")
                }
                if key == "input" { current!.input = v } else { current!.output = v }
            case "aliases":
                current!.aliases = try scanner.stringArray().get(orThrow: { error($0, $1) })
            default:
                throw error(keyColumn, "unknown key '\(key)'; a model table has provider, input, output and aliases")
            }
            scanner.skipSpaces()
            guard scanner.atEndOrComment else { throw error(scanner.column, "unexpected text after the value of '\(key)'") }
        }
        if let p = current { try finish(p) }
        do {
            return try PricingTable(entries: done)
        } catch let e as EmberError {
            throw PricingFileError(file: file, line: 1, column: 1, message: e.description)
        }
    }
}

/// Scans one line of the pricing file as UTF-8 bytes.
private struct LineScanner {
    let bytes: [UInt8]
    var i = 0
    init(_ bytes: [UInt8]) {
        // A CRLF file leaves \r at the end of each line.
        self.bytes = bytes.last == 0x0D ? Array(bytes.dropLast()) : bytes
    }

    var column: Int { i + 1 }
    var peek: UInt8? { i < bytes.count ? bytes[i] : nil }
    var atEndOrComment: Bool { i >= bytes.count || bytes[i] == UInt8(ascii: "#") }
    mutating func advance() { i += 1 }
    mutating func skipSpaces() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
    }
    mutating func consume(_ literal: String) -> Bool {
        let l = Array(literal.utf8)
        guard i + l.count <= bytes.count, Array(bytes[i..<(i + l.count)]) == l else { return false }
        i += l.count
        return true
    }
    mutating func bareKey() -> String {
        let start = i
        while i < bytes.count {
            let b = bytes[i]
            let ok = (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x5F || b == 0x2D
            if !ok { break }
            i += 1
        }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }
    /// A basic string with \" \\ \n \t escapes.
    mutating func string() -> ScanResult<String> {
        guard peek == UInt8(ascii: "\"") else { return .failure(column, "expected a \"quoted string\"") }
        let open = column
        i += 1
        var out: [UInt8] = []
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                i += 1
                return .success(String(decoding: out, as: UTF8.self))
            }
            if b == UInt8(ascii: "\\") {
                guard i + 1 < bytes.count else { break }
                switch bytes[i + 1] {
                case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                default: return .failure(column, "unsupported escape in a string; use \\\" \\\\ \\n or \\t")
                }
                i += 2
                continue
            }
            out.append(b)
            i += 1
        }
        return .failure(open, "string is not closed on this line; add the closing \"")
    }
    mutating func stringArray() -> ScanResult<[String]> {
        guard peek == UInt8(ascii: "[") else { return .failure(column, "expected [\"name\", ...]") }
        i += 1
        var out: [String] = []
        skipSpaces()
        if peek == UInt8(ascii: "]") { i += 1; return .success(out) }
        while true {
            skipSpaces()
            switch string() {
            case .success(let s): out.append(s)
            case .failure(let c, let m): return .failure(c, m)
            }
            skipSpaces()
            if peek == UInt8(ascii: ",") {
                i += 1
                skipSpaces()
                if peek == UInt8(ascii: "]") { i += 1; return .success(out) }  // trailing comma
                continue
            }
            if peek == UInt8(ascii: "]") { i += 1; return .success(out) }
            return .failure(column, "expected , or ] in the list (lists must fit on one line)")
        }
    }
    /// A decimal integer or float, `_` allowed between digits.
    mutating func number() -> Double? {
        let start = i
        var text: [UInt8] = []
        while i < bytes.count {
            let b = bytes[i]
            let ok = (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E")
                || b == UInt8(ascii: "+") || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
            if !ok { break }
            if b != UInt8(ascii: "_") { text.append(b) }
            i += 1
        }
        guard i > start, let v = Double(String(decoding: text, as: UTF8.self)), v.isFinite else {
            i = start
            return nil
        }
        return v
    }
}

private enum ScanResult<T> {
    case success(T)
    case failure(Int, String)
    func get(orThrow make: (Int, String) -> PricingFileError) throws -> T {
        switch self {
        case .success(let v): return v
        case .failure(let c, let m): throw make(c, m)
        }
    }
}
