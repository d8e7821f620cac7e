import EmberUtils
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The Python module runtime (`--emit-runtime`), compiled from python/ember_runtime.py, with
/// its one configuration line set from the rules (where the legacy exceptions live).
public func runtimeModuleText(rules: MigrationRules) -> String {
    let modules = rules.legacyExceptionModules.map { "\"\($0)\"" }
    let line = "LEGACY_EXCEPTION_MODULES = (" + modules.joined(separator: ", ") + (modules.count == 1 ? ",)" : ")")
    var out: [Substring] = []
    for l in DefaultMigrationRules.runtimeModule.split(separator: "\n", omittingEmptySubsequences: false) {
        out.append(l.hasPrefix("LEGACY_EXCEPTION_MODULES = ") ? Substring(line) : l)
    }
    return out.joined(separator: "\n")
}

/// Renders a run for the terminal or as JSON, and picks the exit code.
public struct MigrationOutput: Sendable {
    public var result: MigrationResult
    /// "diff", "write", "check" or "plan".
    public var mode: String
    public var writeFailures: [String]
    /// Off in golden tests so the output is deterministic.
    public var showTime = true

    public init(result: MigrationResult, mode: String, writeFailures: [String] = []) {
        self.result = result
        self.mode = mode
        self.writeFailures = writeFailures
    }

    /// The contract's code (docs/cli.md): files skipped (6) wins over files that would
    /// change under `--check` (1): a check that could not read every file is not a result.
    public var exitCode: ToolExit {
        let skipped: ToolExit = result.summary.filesSkipped > 0 || !writeFailures.isEmpty ? .filesSkipped : .success
        let changed: ToolExit = mode == "check" && result.summary.filesChanged > 0 ? .failure : .success
        return skipped.combined(with: changed)
    }

    /// stdout: the diff (diff mode), the plan (plan mode), nothing otherwise.
    public func standardOutputText() -> String {
        switch mode {
        case "diff":
            return result.files.filter { $0.status == .changed }.map {
                unifiedDiff(old: $0.originalText, new: $0.rewrittenText, oldName: "a/" + diffPath($0.path), newName: "b/" + diffPath($0.path))
            }.joined()
        case "plan":
            var out = result.plan.map { $0.text + "\n" }.joined()
            let modules = result.plan.filter { $0.kind == .legacyModule }.count
            let references = result.plan.filter { $0.kind == .legacyReference }.count
            out += "plan: \(modules) legacy module file\(modules == 1 ? "" : "s") in the run, \(references) reference\(references == 1 ? "" : "s") to legacy modules"
            out += references == 0 ? "; nothing refers to the legacy modules any more\n" : "\n"
            return out
        default:
            return ""
        }
    }

    /// stderr: report lines, then the summary.
    /// `summary`: end with the summary line (not `--quiet`).
    public func reportText(summary: Bool = true) -> String {
        var out = result.report.map { $0.text + "\n" }.joined()
        out += writeFailures.map { "ember-migrate: error: \($0)\n" }.joined()
        if mode == "check" {
            for f in result.files where f.status == .changed { out += "would change: \(f.path)\n" }
        }
        if summary { out += summaryLine() + "\n" }
        return out
    }

    public func summaryLine() -> String {
        let s = result.summary
        let verb = mode == "write" ? "changed" : "would change"
        var line = "\(s.filesScanned) file\(s.filesScanned == 1 ? "" : "s") scanned: \(s.filesChanged) \(verb), \(s.filesUnchanged) unchanged, \(s.filesSkipped) skipped; "
        line += "\(s.classesConverted) class\(s.classesConverted == 1 ? "" : "es") converted, \(s.classesAdapted) adapted"
        if s.classesKept > 0 { line += ", \(s.classesKept) kept" }
        if s.classesConvertedUnsafe > 0 { line += " (\(s.classesConvertedUnsafe) converted unsafely)" }
        if !s.adaptedReasons.isEmpty {
            line += " (" + s.adaptedReasons.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + ")"
        }
        if s.unsafeAvailable > 0 { line += "; \(s.unsafeAvailable) more rewrite\(s.unsafeAvailable == 1 ? "" : "s") with --unsafe" }
        if showTime { line += "; " + String.fixed(s.seconds, digits: 2) + " s" }
        return line
    }

    public func json() -> String {
        let s = result.summary
        var out = "{\"tool\":\"ember-migrate\",\"toolVersion\":\(jsonString(EmberVersion.string)),\"mode\":\(jsonString(mode)),\"exitCode\":\(exitCode.rawValue),\"summary\":{"
        out += "\"filesScanned\":\(s.filesScanned),\"filesChanged\":\(s.filesChanged),\"filesUnchanged\":\(s.filesUnchanged),\"filesSkipped\":\(s.filesSkipped),"
        out += "\"classesConverted\":\(s.classesConverted),\"classesAdapted\":\(s.classesAdapted),\"classesKept\":\(s.classesKept),\"classesConvertedUnsafe\":\(s.classesConvertedUnsafe),\"unsafeAvailable\":\(s.unsafeAvailable),\"adaptedReasons\":{"
        out += s.adaptedReasons.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\($0.value)" }.joined(separator: ",")
        out += "}"
        if showTime { out += ",\"seconds\":\(String.fixed(s.seconds, digits: 3))" }
        out += "},\"report\":["
        out += result.report.map { r in
            "{\"path\":\(jsonString(r.path)),\"line\":\(r.line),\"kind\":\(jsonString(r.kind.rawValue)),\"message\":\(jsonString(r.message))}"
        }.joined(separator: ",")
        out += "],\"classes\":["
        out += result.classes.map { c in
            var entry = "{\"path\":\(jsonString(c.path)),\"line\":\(c.line),\"class\":\(jsonString(c.className)),\"outcome\":\(jsonString(c.outcome.rawValue))"
            if let v = c.safety { entry += ",\"safety\":\(jsonString(v))" }
            if let v = c.function { entry += ",\"function\":\(jsonString(v))" }
            if let v = c.reason { entry += ",\"reason\":\(jsonString(v))" }
            if let v = c.detail { entry += ",\"detail\":\(jsonString(v))" }
            return entry + "}"
        }.joined(separator: ",")
        out += "],\"files\":["
        out += result.files.filter { $0.status != .unchanged }.map { f in
            var entry = "{\"path\":\(jsonString(f.path)),\"status\":\(jsonString(f.status.rawValue))"
            if f.status == .changed && mode == "diff" {
                entry += ",\"diff\":" + jsonString(unifiedDiff(old: f.originalText, new: f.rewrittenText, oldName: "a/" + diffPath(f.path), newName: "b/" + diffPath(f.path)))
            }
            return entry + "}"
        }.joined(separator: ",")
        out += "]"
        if mode == "plan" {
            out += ",\"plan\":[" + result.plan.map { r in
                "{\"path\":\(jsonString(r.path)),\"line\":\(r.line),\"kind\":\(jsonString(r.kind.rawValue)),\"message\":\(jsonString(r.message))}"
            }.joined(separator: ",") + "]"
        }
        out += ",\"writeFailures\":[" + writeFailures.map(jsonString).joined(separator: ",") + "]}\n"
        return out
    }
}

/// `./x.py` -> `x.py`, `/abs/x.py` -> `abs/x.py`: `git apply -p1` style names.
func diffPath(_ path: String) -> String {
    var p = Substring(path)
    while p.hasPrefix("./") { p = p.dropFirst(2) }
    while p.hasPrefix("/") { p = p.dropFirst() }
    return String(p)
}

func jsonString(_ s: String) -> String { JSONText.quoted(s) }
