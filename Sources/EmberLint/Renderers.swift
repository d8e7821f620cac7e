import EmberUtils
#if canImport(FoundationEssentials)
import EmberProject
import FoundationEssentials
#else
import Foundation
#endif

public enum OutputFormat: String, CaseIterable, Sendable {
    case text, json, sarif, github
}

public enum Renderer {
    public static let toolVersion = EmberVersion.string

    /// `summary`: the text and github formats end with the summary line (not `--quiet`).
    public static func render(_ report: LintReport, format: OutputFormat, summary: Bool = true) -> String {
        switch format {
        case .text: text(report, summary: summary)
        case .json: json(report)
        case .sarif: sarif(report)
        case .github: github(report, summary: summary)
        }
    }

    public static func summaryLine(_ report: LintReport, includeTime: Bool = true) -> String {
        var s = "\(report.fileCount) file\(report.fileCount == 1 ? "" : "s"), \(report.importCount) import\(report.importCount == 1 ? "" : "s"), "
        let errors = report.errorCount, warnings = report.warningCount
        if errors == 0 && warnings == 0 {
            s += "no violations"
        } else {
            var counts: [DiagnosticCode: Int] = [:]
            for d in report.diagnostics { counts[d.code, default: 0] += 1 }
            let byCode = counts.keys.sorted().map { "\($0.rawValue) \(counts[$0]!)" }.joined(separator: ", ")
            s += "\(errors) violation\(errors == 1 ? "" : "s")"
            if warnings > 0 { s += ", \(warnings) warning\(warnings == 1 ? "" : "s")" }
            s += " (\(byCode))"
        }
        if report.suppressedCount > 0 { s += ", \(report.suppressedCount) suppressed" }
        if report.baselinedCount > 0 { s += ", \(report.baselinedCount) in baseline" }
        if includeTime { s += " in " + Renderer.seconds(report.elapsedSeconds) + " s" }
        return s
    }

    /// `path:line:col: CODE message`, grouped by file (a blank line between files), notes
    /// indented below, then the summary line.
    public static func text(_ report: LintReport, summary: Bool = true) -> String {
        var out = ""
        var lastPath: String?
        for d in report.diagnostics {
            if let lastPath, lastPath != d.path { out += "\n" }
            lastPath = d.path
            let level = d.severity == .warning ? " warning:" : ""
            out += "\(d.path):\(d.line):\(d.column): \(d.code.rawValue)\(level) \(d.message)\n"
            for note in d.notes { out += "    \(note)\n" }
        }
        guard summary else { return out }
        if !report.diagnostics.isEmpty { out += "\n" }
        out += summaryLine(report) + "\n"
        return out
    }

    struct JSONReport: Encodable {
        struct Summary: Encodable {
            var files: Int
            var imports: Int
            var errors: Int
            var warnings: Int
            var suppressed: Int
            var baselined: Int
        }
        struct Item: Encodable {
            var code: String
            var rule: String
            var severity: String
            var path: String
            var line: Int
            var column: Int
            var startOffset: Int
            var endOffset: Int
            var message: String
            var notes: [String]
            var importer: String?
            var imported: String?
        }
        var version = 1
        var tool = "ember-lint"
        var toolVersion = EmberVersion.string
        var summary: Summary
        var diagnostics: [Item]
    }

    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return e
    }

    /// The JSON schema is documented in docs/ember-lint.md; run time is left out so the
    /// output of one tree is byte-for-byte stable.
    public static func json(_ report: LintReport) -> String {
        let doc = JSONReport(
            summary: .init(files: report.fileCount, imports: report.importCount, errors: report.errorCount,
                           warnings: report.warningCount, suppressed: report.suppressedCount, baselined: report.baselinedCount),
            diagnostics: report.diagnostics.map {
                .init(code: $0.code.rawValue, rule: $0.code.title, severity: $0.severity.rawValue, path: $0.path, line: $0.line,
                      column: $0.column, startOffset: $0.startOffset, endOffset: $0.endOffset, message: $0.message,
                      notes: $0.notes, importer: $0.importer, imported: $0.imported)
            })
        let data = (try? encoder().encode(doc)) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// SARIF 2.1.0: one run, every rule with metadata, one result per finding.
    public static func sarif(_ report: LintReport) -> String {
        let codes = DiagnosticCode.allCases
        let rules: [JSONValue] = codes.map { code in
            [
                "id": .string(code.rawValue),
                "name": .string(code.title),
                "shortDescription": ["text": .string(code.summary)],
                "fullDescription": ["text": .string(code.summary)],
                "defaultConfiguration": ["level": .string(code.defaultSeverity == .error ? "error" : "warning")],
            ]
        }
        let identities = FindingIdentity.assign(report.diagnostics, projectRoot: report.projectRoot)
        let results: [JSONValue] = zip(report.diagnostics, identities).map { d, identity in
            var text = d.message
            if !d.notes.isEmpty { text += "\n" + d.notes.joined(separator: "\n") }
            // The span's end is given in bytes only: a span (a def header, say) may cross lines.
            let region: JSONValue = ["startLine": .int(d.line), "startColumn": .int(d.column), "byteOffset": .int(d.startOffset),
                                     "byteLength": .int(max(0, d.endOffset - d.startOffset))]
            var result: [String: JSONValue] = [
                "ruleId": .string(d.code.rawValue),
                "ruleIndex": .int(codes.firstIndex(of: d.code)!),
                "level": .string(d.severity == .error ? "error" : "warning"),
                "message": ["text": .string(text)],
                "locations": [["physicalLocation": ["artifactLocation": ["uri": .string(sarifURI(d.path))], "region": region]]],
            ]
            // The finding's identity: unique in the run, and the same from run to run
            // whatever the path's spelling, the working folder or the message's wording.
            result["partialFingerprints"] = ["emberLint/v2": .string(identity.fingerprint)]
            return .object(result)
        }
        let doc: JSONValue = [
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [[
                "tool": ["driver": ["name": "ember-lint", "version": .string(toolVersion), "rules": .array(rules)]],
                "results": .array(results),
            ]],
        ]
        let data = (try? encoder().encode(doc)) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func sarifURI(_ path: String) -> String {
        var p = path
        while p.hasPrefix("./") { p.removeFirst(2) }
        // RFC 3986 path characters stay; every other byte of the UTF-8 becomes %XX.
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for b in p.utf8 {
            if Renderer.isURLPathByte(b) {
                out.append(b)
            } else {
                out.append(UInt8(ascii: "%")); out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// GitHub Actions workflow commands: one `::error` / `::warning` line per finding.
    public static func github(_ report: LintReport, summary: Bool = true) -> String {
        var out = ""
        for d in report.diagnostics {
            var message = d.message
            if !d.notes.isEmpty { message += "\n" + d.notes.joined(separator: "\n") }
            let kind = d.severity == .error ? "error" : "warning"
            out += "::\(kind) file=\(escapeProperty(d.path)),line=\(d.line),col=\(d.column),title=\(escapeProperty("ember-lint \(d.code.rawValue) \(d.code.title)"))::\(escapeData(message))\n"
        }
        if summary { out += summaryLine(report) + "\n" }
        return out
    }

    static func escapeData(_ s: String) -> String {
        escape(s, ["%": "%25", "\r": "%0D", "\n": "%0A"])
    }

    static func escapeProperty(_ s: String) -> String {
        escape(s, ["%": "%25", "\r": "%0D", "\n": "%0A", ":": "%3A", ",": "%2C"])
    }

    /// `--graph`: every resolved edge, one stable JSON document.
    public static func graph(_ report: LintReport) -> String {
        struct Graph: Encodable { var version = 1; var edges: [ImportEdge] }
        let data = (try? encoder().encode(Graph(edges: report.edges))) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

extension Renderer {
    /// Seconds with three decimals ("0.071"), as `%.3f` prints them.
    static func seconds(_ value: Double) -> String {
        let millis = Int((max(0, value) * 1000).rounded())
        let fraction = String(millis % 1000)
        return "\(millis / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    /// The bytes a URL path keeps as they are: unreserved, sub-delims, ':', '@' and '/'.
    static func isURLPathByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return true
        default: return "-._~!$&'()*+,;=:@/".utf8.contains(b)
        }
    }

    /// Each scalar found in `table` replaced by its text, in one pass (scalars, not
    /// characters: "\r\n" is one Character but two escapes).
    static func escape(_ s: String, _ table: [Unicode.Scalar: String]) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars { if let r = table[c] { out += r } else { out.unicodeScalars.append(c) } }
        return out
    }
}

/// A JSON document built in code (SARIF), encoded by JSONEncoder like the other formats.
indirect enum JSONValue: Encodable, ExpressibleByStringLiteral, ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral {
    case string(String)
    case int(Int)
    case array([JSONValue])
    case object([String: JSONValue])

    init(stringLiteral value: String) { self = .string(value) }
    init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(Dictionary(uniqueKeysWithValues: elements)) }
    init(arrayLiteral elements: JSONValue...) { self = .array(elements) }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .int(let i): try c.encode(i)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}
