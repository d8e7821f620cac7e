import EmberUtils
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The output formats of `compare`, `--compare` and `run`; all render one model.
public enum OutputFormat: String, Sendable, CaseIterable {
    case table, markdown, json, junit
}

/// A value in a unit, scaled for people: ns → µs → ms → s for times.
public func formatQuantity(_ value: Double, unit: String) -> String {
    guard value.isFinite else { return "–" }
    if unit == "ns" {
        let a = abs(value)
        if a < 1_000 { return "\(sig(value)) ns" }
        if a < 1_000_000 { return "\(sig(value / 1_000)) µs" }
        if a < 1_000_000_000 { return "\(sig(value / 1_000_000)) ms" }
        return "\(sig(value / 1_000_000_000)) s"
    }
    if unit == "B" {
        let a = abs(value)
        if a < 1024 { return "\(sig(value)) B" }
        if a < 1024 * 1024 { return "\(sig(value / 1024)) KiB" }
        if a < 1024 * 1024 * 1024 { return "\(sig(value / 1_048_576)) MiB" }
        return "\(sig(value / 1_073_741_824)) GiB"
    }
    return "\(sig(value)) \(unit)"
}

/// Three significant digits, no exponent for everyday magnitudes.
func sig(_ x: Double) -> String {
    let a = abs(x)
    if a >= 100 { return fixed(x, 0) }
    if a >= 10 { return fixed(x, 1) }
    if a >= 1 { return fixed(x, 2) }
    if a == 0 || !a.isFinite { return a == 0 ? "0" : "\(x)" }
    // Like %.3g below 1: three significant digits, trailing zeros dropped.
    let digits = min(15, 2 - Int(log10(a).rounded(.down)))
    var s = fixed(x, digits)
    if s.contains(".") {
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
    }
    return s
}

/// `x` with `digits` decimals (what %.Nf prints, without the cost of String(format:)
/// on Linux, which dominated rendering 10,000-row tables).
func fixed(_ x: Double, _ digits: Int) -> String {
    guard x.isFinite else { return "\(x)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(x) * scale).rounded()
    guard scaled < 9e18 else { return String.printf("%.\(digits)f", x) }
    let n = UInt64(scaled)
    let negative = x < 0 && n > 0
    var whole = String(n)
    if digits == 0 { return negative ? "-" + whole : whole }
    if whole.count <= digits { whole = String(repeating: "0", count: digits - whole.count + 1) + whole }
    let split = whole.index(whole.endIndex, offsetBy: -digits)
    return (negative ? "-" : "") + whole[..<split] + "." + whole[split...]
}

func ratioText(_ r: Double?) -> String { r.map { fixed($0, 3) + "×" } ?? "–" }
func pText(_ p: Double?) -> String {
    guard let p else { return "–" }
    if p < 0.0001 { return "<0.0001" }
    return fixed(p, 4)
}

/// Pads cells to column widths; numeric columns (all but the first) right-aligned.
func renderTable(_ header: [String], _ rows: [[String]]) -> String {
    var widths = header.map { $0.count }
    for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
    func line(_ cells: [String]) -> String {
        var out = ""
        for (i, c) in cells.enumerated() {
            if i > 0 { out += "  " }
            let pad = String(repeating: " ", count: widths[i] - c.count)
            if i == 0 || i == cells.count - 1 { out += c + pad } else { out += pad + c }
        }
        while out.hasSuffix(" ") { out.removeLast() }
        return out
    }
    var out = line(header) + "\n"
    out += widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ") + "\n"
    for r in rows { out += line(r) + "\n" }
    return out
}

extension ComparisonReport {
    public func render(_ format: OutputFormat) -> String {
        switch format {
        case .table: tableText
        case .markdown: markdownText
        case .json: jsonText
        case .junit: junitText
        }
    }

    func verdictText(_ c: BenchmarkComparison) -> String { c.verdict.rawValue }

    func centerText(_ value: Double?, _ c: BenchmarkComparison) -> String {
        value.map { formatQuantity($0, unit: c.unit) } ?? "–"
    }

    func intervalText(_ c: BenchmarkComparison) -> String {
        guard let lo = c.ciLower, let hi = c.ciUpper, lo.isFinite, hi.isFinite else { return "–" }
        return "\(fixed(lo, 3))–\(fixed(hi, 3))"
    }

    func processesText(_ c: BenchmarkComparison) -> String {
        "\(c.candidateProcesses) / \(c.baselineProcesses)"
    }

    /// The level of the intervals, from the policy line ("… p < 0.05 …").
    var intervalHeader: String {
        if let r = policy.byteRange(of: " < ") {
            let rest = policy[r.upperBound...].prefix { $0.isNumber || $0 == "." }
            if let a = Double(rest), a > 0, a < 1 { return "\(format((1 - a) * 100))% CI" }
        }
        return "CI"
    }

    var notes: [(String, String)] { comparisons.compactMap { c in c.note.map { (c.name, $0) } } }

    /// The machine probe's move, when the compare had one.
    var machineText: String? {
        guard let r = machineRatio else { return nil }
        let pct = (r - 1) * 100
        let moved = abs(pct) < 0.05 ? "unchanged" : String.printf("%.1f%% ", abs(pct)) + (pct > 0 ? "slower" : "faster")
        return "probe \(moved) than the baseline runs; every tolerance widened by that (same-job `ember-bench ab` cancels it)"
    }

    var outcomeLine: String {
        func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
        var parts = [plural(regressions.count, "regression"), plural(improvements.count, "improvement")]
        if !insufficient.isEmpty { parts.append("\(insufficient.count) insufficient") }
        parts.append(plural(comparisons.count, "benchmark"))
        return "\(parts.joined(separator: ", ")): \(outcome.rawValue.uppercased()) (exit \(outcome.exitCode.rawValue))"
    }

    static let header = ["benchmark", "baseline", "candidate", "ratio"]

    func cells(_ c: BenchmarkComparison) -> [String] {
        [
            centerText(c.baselineCenter ?? c.baseline?.median, c), centerText(c.candidateCenter ?? c.candidate?.median, c),
            ratioText(c.ratio), intervalText(c), pText(c.pAdjusted), processesText(c),
        ]
    }

    public var tableText: String {
        var out = "baseline:  \(baselineLabel)\ncandidate: \(candidateLabel)\nrule:      \(policy)\n"
        if let m = machineText { out += "machine:   \(m)\n" }
        if let problem { out += "\(outcome.rawValue): \(problem)\n" }
        if !comparisons.isEmpty {
            out += "\n"
            let rows = comparisons.map { c in
                [c.name] + cells(c)
                    + [(c.verdict == .regression ? "▲ " : c.verdict == .improvement ? "▼ " : "") + verdictText(c)]
            }
            out += renderTable(
                Self.header + [intervalHeader, "p (adj.)", "processes", "verdict"], rows)
        }
        if !singleValues.isEmpty {
            out += "\nsingle values (one per side, shown without a verdict):\n"
            out += renderTable(
                ["metric", "baseline", "candidate", "ratio"],
                singleValues.map { v in
                    [
                        v.name, v.baseline.map { formatQuantity($0, unit: v.unit) } ?? "–",
                        v.candidate.map { formatQuantity($0, unit: v.unit) } ?? "–", ratioText(v.ratio),
                    ]
                })
        }
        if !notes.isEmpty {
            out += "\n" + notes.map { "\($0.0): \($0.1)" }.joined(separator: "\n") + "\n"
        }
        out += "\n" + outcomeLine + "\n"
        return out
    }

    public var markdownText: String {
        let icon: String =
            switch outcome {
            case .pass: "✅"
            case .regression: "❌"
            default: "⚠️"
            }
        var out = "### \(icon) ember-bench: \(outcome.rawValue)\n\n"
        out += "- baseline: \(escapeMarkdown(baselineLabel))\n- candidate: \(escapeMarkdown(candidateLabel))\n"
        out += "- rule: \(escapeMarkdown(policy))\n"
        if let m = machineText { out += "- machine: \(escapeMarkdown(m))\n" }
        if let problem { out += "- **\(outcome.rawValue)**: \(escapeMarkdown(problem))\n" }
        if !comparisons.isEmpty {
            out += "\n| benchmark | baseline | candidate | ratio | \(intervalHeader) | p (adj.) | processes | verdict |\n"
            out += "|---|---:|---:|---:|---:|---:|---:|---|\n"
            for c in comparisons {
                let verdict = verdictText(c)
                let v = c.verdict == .regression || c.verdict == .improvement ? "**\(verdict)**" : verdict
                out += "| \(markdownCode(c.name)) | " + cells(c).map(escapeMarkdown).joined(separator: " | ") + " | \(v) |\n"
            }
        }
        if !singleValues.isEmpty {
            out += "\nSingle values (one per side, no verdict):\n\n| metric | baseline | candidate | ratio |\n|---|---:|---:|---:|\n"
            for v in singleValues {
                out +=
                    "| \(markdownCode(v.name)) | \(escapeMarkdown(v.baseline.map { formatQuantity($0, unit: v.unit) } ?? "–")) | "
                    + "\(escapeMarkdown(v.candidate.map { formatQuantity($0, unit: v.unit) } ?? "–")) | \(ratioText(v.ratio)) |\n"
            }
        }
        if !notes.isEmpty {
            out += "\n" + notes.map { "- \(markdownCode($0.0)): \(escapeMarkdown($0.1))" }.joined(separator: "\n") + "\n"
        }
        out += "\n\(outcomeLine)\n"
        return out
    }

    public var jsonText: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let data = try! encoder.encode(JSONEnvelope(exitCode: outcome.exitCode.rawValue, report: self))
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    struct JSONEnvelope: Encodable {
        var tool = "ember-bench"
        var toolVersion = EmberVersion.string
        var exitCode: Int32
        var report: ComparisonReport
    }

    public var junitText: String {
        let failures = regressions.count
        let insufficientErrors = outcome == .pass ? 0 : insufficient.count
        let setupError = (outcome == .noBaseline || outcome == .incomparable || outcome == .error) ? 1 : 0
        let errors = setupError + insufficientErrors
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out +=
            "<testsuites name=\"ember-bench\" tests=\"\(comparisons.count + setupError)\" failures=\"\(failures)\" errors=\"\(errors)\">\n"
        out +=
            "  <testsuite name=\"ember-bench\" tests=\"\(comparisons.count + setupError)\" failures=\"\(failures)\" errors=\"\(errors)\">\n"
        out += "    <properties>\n"
        out += "      <property name=\"baseline\" value=\"\(xml(baselineLabel))\"/>\n"
        out += "      <property name=\"candidate\" value=\"\(xml(candidateLabel))\"/>\n"
        out += "      <property name=\"rule\" value=\"\(xml(policy))\"/>\n"
        out += "    </properties>\n"
        if setupError == 1 {
            out += "    <testcase classname=\"ember-bench\" name=\"baseline\">\n"
            out += "      <error message=\"\(xml(outcome.rawValue))\">\(xml(problem ?? ""))</error>\n"
            out += "    </testcase>\n"
        }
        for c in comparisons {
            let (suite, name) = splitName(c.name)
            let detail =
                "\(centerText(c.baselineCenter, c)) → \(centerText(c.candidateCenter, c)), "
                + "ratio \(ratioText(c.ratio)) (threshold \(format(c.threshold))), \(intervalHeader) \(intervalText(c)), "
                + "adjusted p \(pText(c.pAdjusted)), processes \(processesText(c))" + (c.note.map { "; \($0)" } ?? "")
            out += "    <testcase classname=\"\(xml(suite))\" name=\"\(xml(name))\">\n"
            if c.verdict == .regression {
                out += "      <failure message=\"regression: \(xml(detail))\">\(xml(detail))</failure>\n"
            } else if c.verdict == .insufficient && outcome != .pass {
                out += "      <error message=\"insufficient data\">\(xml(detail))</error>\n"
            } else {
                out += "      <system-out>\(xml(c.verdict.rawValue + ": " + detail))</system-out>\n"
            }
            out += "    </testcase>\n"
        }
        out += "  </testsuite>\n</testsuites>\n"
        return out
    }
}

extension SingleValue {
    public var ratio: Double? {
        guard let b = baseline, let c = candidate, b != 0 else { return nil }
        return c / b
    }
}

/// A name as inline code in a Markdown table cell: backticks cannot be escaped inside a
/// code span, so they become ', and | is escaped (GitHub tables split on it even there).
func markdownCode(_ s: String) -> String {
    "`" + s.replacingAll("`", with: "'").replacingAll("|", with: "\\|") + "`"
}

func splitName(_ name: String) -> (String, String) {
    if let slash = name.firstIndex(of: "/") {
        return (String(name[..<slash]), String(name[name.index(after: slash)...]))
    }
    return ("ember-bench", name)
}

/// Text in Markdown: | (which splits table cells) and the characters that start
/// emphasis, code or links are escaped; line breaks become spaces.
func escapeMarkdown(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for ch in s {
        switch ch {
        case "|", "\\", "`", "*", "_", "[", "]", "<", ">": out.append("\\"); out.append(ch)
        case "\n", "\r", "\r\n": out.append(" ")
        default: out.append(ch)
        }
    }
    return out
}

func xml(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for ch in s.unicodeScalars {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        default:
            // XML 1.0 forbids most control characters even escaped.
            if ch.value < 0x20 && ch != "\n" && ch != "\t" && ch != "\r" { out += "?" } else { out.unicodeScalars.append(ch) }
        }
    }
    return out
}

/// The statistics of one run, for `run` and `import`.
public struct RunSummary: Sendable, Codable {
    public var label: String
    public var runID: Int64?
    public var benchmarks: [BenchmarkSamples]

    public init(label: String, runID: Int64?, benchmarks: [BenchmarkSamples]) {
        self.label = label
        self.runID = runID
        self.benchmarks = benchmarks
    }

    /// "250 in 5 processes, × 1024 calls each".
    func sampleText(_ b: BenchmarkSamples, _ s: SampleStatistics) -> String {
        var t = String(s.count)
        if b.processCount > 1 { t += " in \(b.processCount) processes" }
        if b.batch > 1 { t += " × \(b.batch)" }
        return t
    }

    public func render(_ format: OutputFormat) -> String {
        switch format {
        case .json:
            struct Row: Encodable {
                var name: String
                var unit: String
                var direction: MetricDirection
                var batch: Int
                var processes: Int
                var statistics: SampleStatistics
            }
            struct Doc: Encodable {
                var label: String
                var runID: Int64?
                var benchmarks: [Row]
            }
            let doc = Doc(
                label: label, runID: runID,
                benchmarks: benchmarks.map {
                    Row(
                        name: $0.name, unit: $0.unit, direction: $0.direction, batch: $0.batch, processes: $0.processCount,
                        statistics: SampleStatistics(samples: $0.samples))
                })
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(
                positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            return String(decoding: try! encoder.encode(doc), as: UTF8.self) + "\n"
        case .markdown:
            var out = "### ember-bench: \(escapeMarkdown(label))\n\n"
            out += "| benchmark | median | mean ± stdev (IQR-filtered) | p95 | p99 | outliers | samples |\n"
            out += "|---|---:|---:|---:|---:|---:|---:|\n"
            for b in benchmarks {
                let s = SampleStatistics(samples: b.samples)
                out +=
                    "| \(markdownCode(b.name)) | \(formatQuantity(s.median, unit: b.unit)) | \(formatQuantity(s.filteredMean, unit: b.unit)) ± \(formatQuantity(s.filteredStdev, unit: b.unit)) | "
                    + "\(formatQuantity(s.p95, unit: b.unit)) | \(formatQuantity(s.p99, unit: b.unit)) | \(s.outlierCount) | \(sampleText(b, s)) |\n"
            }
            return out
        case .table, .junit:
            let rows = benchmarks.map { b -> [String] in
                let s = SampleStatistics(samples: b.samples)
                return [
                    b.name, formatQuantity(s.median, unit: b.unit),
                    "\(formatQuantity(s.filteredMean, unit: b.unit)) ± \(formatQuantity(s.filteredStdev, unit: b.unit))",
                    formatQuantity(s.p95, unit: b.unit), formatQuantity(s.p99, unit: b.unit), String(s.outlierCount),
                    sampleText(b, s),
                ]
            }
            return "\(label)\n\n"
                + renderTable(["benchmark", "median", "mean ± stdev (filtered)", "p95", "p99", "outliers", "samples"], rows)
        }
    }
}
