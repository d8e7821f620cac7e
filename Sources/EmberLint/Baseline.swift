#if canImport(FoundationEssentials)
import EmberProject
import FoundationEssentials
#else
import Foundation
#endif

/// Today's findings, recorded so that only new ones fail a run.
///
/// Version 2 (written since findings have identities): each entry is a `FindingIdentity`
/// (code, path relative to the project root, importer, imported, occurrence) plus the
/// message for the reader, which is not compared. A baseline therefore survives rule edits
/// that do not change the finding (a module added to a layer's `may-import` rewords every
/// message of that layer), edits above a known violation (lines are not compared), other
/// spellings of the paths, and runs from a subfolder. Each entry absorbs one finding.
///
/// Version 1 files (entries of code, path as typed and message) are still read, and
/// matched as before: by code, path as typed and message text. Rewrite them with
/// `--write-baseline FILE` to match by identity.
public struct Baseline: Sendable, Equatable {
    public struct Entry: Codable, Sendable, Hashable, Comparable {
        public var code: String
        public var path: String
        public var importer: String
        public var imported: String
        public var occurrence: Int
        /// For the reader only: the finding's message when it was recorded.
        public var message: String

        public var identity: FindingIdentity {
            FindingIdentity(code: code, path: path, importer: importer, imported: imported, occurrence: occurrence)
        }

        public static func < (a: Entry, b: Entry) -> Bool { a.identity < b.identity }
    }

    /// A version 1 entry: matched by code, path as it was displayed, and message.
    public struct LegacyEntry: Codable, Sendable, Hashable, Comparable {
        public var code: String
        public var path: String
        public var message: String
        public static func < (a: LegacyEntry, b: LegacyEntry) -> Bool { (a.path, a.code, a.message) < (b.path, b.code, b.message) }
    }

    public static let currentVersion = 2
    public var version = Baseline.currentVersion
    public var entries: [Entry] = []
    /// Entries of a version 1 file (then `entries` is empty).
    public var legacyEntries: [LegacyEntry] = []

    /// The baseline of `diagnostics` (the report's findings, in report order).
    public init(diagnostics: [Diagnostic], projectRoot: String, workingDirectory: String = ProjectRoot.workingDirectory()) {
        let identities = FindingIdentity.assign(diagnostics, projectRoot: projectRoot, workingDirectory: workingDirectory)
        entries = zip(diagnostics, identities).map { d, id in
            Entry(code: id.code, path: id.path, importer: id.importer, imported: id.imported, occurrence: id.occurrence, message: d.message)
        }.sorted()
    }

    init(version: Int, entries: [Entry], legacyEntries: [LegacyEntry]) {
        self.version = version
        self.entries = entries
        self.legacyEntries = legacyEntries
    }

    private struct File: Codable {
        var version: Int
        var entries: [Entry]
    }

    private struct LegacyFile: Codable {
        var version: Int
        var entries: [LegacyEntry]
    }

    private struct VersionOnly: Decodable {
        var version: Int
    }

    public func encoded() -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = version == 1 ? try? e.encode(LegacyFile(version: 1, entries: legacyEntries)) : try? e.encode(File(version: version, entries: entries))
        return (data ?? Data()) + Data("\n".utf8)
    }

    /// Reads a baseline file of version 2, or 1 (see the type's notes).
    public static func load(_ path: String) throws(ConfigError) -> Baseline {
        guard let bytes = SourceFileReader.contents(path) else {
            throw ConfigError(file: path, line: 0, key: "", message: "cannot read the baseline file (create it with --write-baseline \(path))")
        }
        let data = Data(bytes)
        let regenerate = "regenerate it with: ember-lint --write-baseline \(path) PATHS"
        let version: Int
        do {
            version = try JSONDecoder().decode(VersionOnly.self, from: data).version
        } catch {
            throw ConfigError(file: path, line: 0, key: "", message: "not an ember-lint baseline (\(error)); \(regenerate)")
        }
        do {
            switch version {
            case 1:
                let file = try JSONDecoder().decode(LegacyFile.self, from: data)
                return Baseline(version: 1, entries: [], legacyEntries: file.entries)
            case 2:
                let file = try JSONDecoder().decode(File.self, from: data)
                return Baseline(version: 2, entries: file.entries, legacyEntries: [])
            default:
                throw ConfigError(file: path, line: 0, key: "",
                                  message: "baseline version \(version) is not one this ember-lint reads (1 or 2); \(regenerate)")
            }
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(file: path, line: 0, key: "", message: "not an ember-lint baseline of version \(version) (\(error)); \(regenerate)")
        }
    }

    /// A note for stderr when the file is of an older version, else nil.
    public func upgradeNote(path: String) -> String? {
        guard version < Baseline.currentVersion else { return nil }
        return "ember-lint: warning: \(path) is a version \(version) baseline, matched by message text: a rule edit that rewords a message, "
            + "another spelling of a path or a run from another folder brings its findings back; "
            + "rewrite it with --write-baseline \(path) to match findings by identity\n"
    }

    /// Removes the findings the baseline holds; returns the rest and how many were removed.
    /// `diagnostics` are the report's findings in report order (occurrences count in it).
    public func filter(_ diagnostics: [Diagnostic], projectRoot: String,
                       workingDirectory: String = ProjectRoot.workingDirectory()) -> ([Diagnostic], Int) {
        if version == 1 {
            let keys = diagnostics.map { LegacyEntry(code: $0.code.rawValue, path: $0.path, message: $0.message) }
            return Self.subtract(diagnostics, keys: keys, accepted: legacyEntries)
        }
        let identities = FindingIdentity.assign(diagnostics, projectRoot: projectRoot, workingDirectory: workingDirectory)
        return Self.subtract(diagnostics, keys: identities, accepted: entries.map(\.identity))
    }

    /// The findings whose key is not among `accepted`, each accepted key used as many times
    /// as it is listed; and how many were removed.
    static func subtract<Key: Hashable>(_ diagnostics: [Diagnostic], keys: [Key], accepted: [Key]) -> ([Diagnostic], Int) {
        var remaining: [Key: Int] = [:]
        for key in accepted { remaining[key, default: 0] += 1 }
        var kept: [Diagnostic] = []
        var removed = 0
        for (d, key) in zip(diagnostics, keys) {
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
