#if canImport(FoundationEssentials)
import EmberProject
import FoundationEssentials
#else
import Foundation
#endif

/// Today's findings, recorded so that only new ones fail a run. Entries are matched by
/// code, file and message (which names the modules), not by line, so that edits above a
/// known violation do not turn it into a new one; each entry absorbs one finding.
public struct Baseline: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Hashable, Comparable {
        public var code: String
        public var path: String
        public var message: String
        public static func < (a: Entry, b: Entry) -> Bool { (a.path, a.code, a.message) < (b.path, b.code, b.message) }
    }

    public var version = 1
    public var entries: [Entry]

    public init(diagnostics: [Diagnostic]) {
        entries = diagnostics.map { Entry(code: $0.code.rawValue, path: $0.path, message: $0.message) }.sorted()
    }

    public func encoded() -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return ((try? e.encode(self)) ?? Data()) + Data("\n".utf8)
    }

    public static func load(_ path: String) throws(ConfigError) -> Baseline {
        guard let bytes = SourceFileReader.contents(path) else {
            throw ConfigError(file: path, line: 0, key: "", message: "cannot read the baseline file (create it with --write-baseline \(path))")
        }
        do {
            return try JSONDecoder().decode(Baseline.self, from: Data(bytes))
        } catch {
            throw ConfigError(file: path, line: 0, key: "", message: "not an ember-lint baseline: \(error)")
        }
    }

    /// Removes the findings the baseline holds; returns the rest and how many were removed.
    public func filter(_ diagnostics: [Diagnostic]) -> ([Diagnostic], Int) {
        var remaining: [Entry: Int] = [:]
        for e in entries { remaining[e, default: 0] += 1 }
        var kept: [Diagnostic] = []
        var removed = 0
        for d in diagnostics {
            let key = Entry(code: d.code.rawValue, path: d.path, message: d.message)
            if let n = remaining[key], n > 0 {
                remaining[key] = n - 1
                removed += 1
            } else {
                kept.append(d)
            }
        }
        return (kept, removed)
    }

    /// Writes atomically: a crash never leaves a half-written baseline.
    public func write(to path: String) throws {
        try encoded().write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
