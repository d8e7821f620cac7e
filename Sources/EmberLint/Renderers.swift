import Foundation

public enum OutputFormat: String, CaseIterable, Sendable {
    case text, json, sarif, github
}

/// Process exit codes of ember-lint (documented in docs/ember-lint.md).
public enum LintExitCode: Int32, Sendable, CaseIterable {
    /// No error-severity findings (warnings may have been printed).
    case clean = 0
    /// At least one violation or unreadable file (an error-severity finding).
    case violations = 1
    /// Bad usage or configuration: nothing was checked.
    case usageOrConfigError = 2
}

public enum Renderer {
    public static let toolVersion = "0.1.0"

    public static func render(_ report: LintReport, format: OutputFormat) -> String {
        switch format {
        case .text: text(report)
        case .json: json(report)
        case .sarif: sarif(report)
        case .github: github(report)
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
        if includeTime { s += " in " + String(format: "%.3f", report.elapsedSeconds) + " s" }
        return s
    }

    /// `path:line:col: CODE message`, grouped by file (a blank line between files), notes
    /// indented below, then the summary line.
    public static func text(_ report: LintReport) -> String {
        var out = ""
        var lastPath: String?
        for d in report.diagnostics {
            if let lastPath, lastPath != d.path { out += "\n" }
            lastPath = d.path
            let level = d.severity == .warning ? " warning:" : ""
            out += "\(d.path):\(d.line):\(d.column): \(d.code.rawValue)\(level) \(d.message)\n"
            for note in d.notes { out += "    \(note)\n" }
        }
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
        let rules: [[String: Any]] = codes.map { code in
            [
                "id": code.rawValue,
                "name": code.title,
                "shortDescription": ["text": code.summary],
                "fullDescription": ["text": code.summary],
                "defaultConfiguration": ["level": code.defaultSeverity == .error ? "error" : "warning"],
            ]
        }
        let results: [[String: Any]] = report.diagnostics.map { d in
            var text = d.message
            if !d.notes.isEmpty { text += "\n" + d.notes.joined(separator: "\n") }
            // The span's end is given in bytes only: a span (a def header, say) may cross lines.
            let region: [String: Any] = ["startLine": d.line, "startColumn": d.column, "byteOffset": d.startOffset,
                                         "byteLength": max(0, d.endOffset - d.startOffset)]
            var result: [String: Any] = [
                "ruleId": d.code.rawValue,
                "ruleIndex": codes.firstIndex(of: d.code)!,
                "level": d.severity == .error ? "error" : "warning",
                "message": ["text": text],
                "locations": [["physicalLocation": ["artifactLocation": ["uri": sarifURI(d.path)], "region": region]]],
            ]
            var fingerprint = "\(d.code.rawValue)|\(d.path)|\(d.message)"
            if let importer = d.importer, let imported = d.imported { fingerprint = "\(d.code.rawValue)|\(importer)|\(imported)" }
            result["partialFingerprints"] = ["emberLint/v1": fingerprint]
            return result
        }
        let doc: [String: Any] = [
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [[
                "tool": ["driver": ["name": "ember-lint", "version": toolVersion, "rules": rules]],
                "results": results,
            ]],
        ]
        let data = (try? JSONSerialization.data(withJSONObject: doc, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func sarifURI(_ path: String) -> String {
        var p = path
        while p.hasPrefix("./") { p.removeFirst(2) }
        return p.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? p
    }

    /// GitHub Actions workflow commands: one `::error` / `::warning` line per finding.
    public static func github(_ report: LintReport) -> String {
        var out = ""
        for d in report.diagnostics {
            var message = d.message
            if !d.notes.isEmpty { message += "\n" + d.notes.joined(separator: "\n") }
            let kind = d.severity == .error ? "error" : "warning"
            out += "::\(kind) file=\(escapeProperty(d.path)),line=\(d.line),col=\(d.column),title=\(escapeProperty("ember-lint \(d.code.rawValue) \(d.code.title)"))::\(escapeData(message))\n"
        }
        out += summaryLine(report) + "\n"
        return out
    }

    static func escapeData(_ s: String) -> String {
        s.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D").replacingOccurrences(of: "\n", with: "%0A")
    }

    static func escapeProperty(_ s: String) -> String {
        escapeData(s).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
    }

    /// `--graph`: every resolved edge, one stable JSON document.
    public static func graph(_ report: LintReport) -> String {
        struct Graph: Encodable { var version = 1; var edges: [ImportEdge] }
        let data = (try? encoder().encode(Graph(edges: report.edges))) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
