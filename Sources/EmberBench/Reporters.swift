import Foundation

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
    guard scaled < 9e18 else { return String(format: "%.\(digits)f", x) }
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

    func verdictText(_ c: BenchmarkComparison) -> String {
        var v = c.verdict.rawValue
        if c.confirmed == true { v += " (confirmed)" }
        if c.confirmed == false { v += " (not confirmed)" }
        return v
    }

    func significanceCell(_ c: BenchmarkComparison) -> String {
        switch c.test {
        case .mannWhitney: pText(c.pValue)
        case .bootstrap:
            if let lo = c.ciLower, let hi = c.ciUpper { "[\(fixed(lo, 3)), \(fixed(hi, 3))]" } else { "–" }
        }
    }

    var significanceHeader: String { comparisons.first?.test == .bootstrap ? "99% CI" : "p (MW)" }

    var outcomeLine: String {
        let counts =
            "\(regressions.count) regression\(regressions.count == 1 ? "" : "s"), "
            + "\(improvements.count) improvement\(improvements.count == 1 ? "" : "s"), "
            + "\(comparisons.count) benchmark\(comparisons.count == 1 ? "" : "s")"
        return "\(counts): \(outcome.rawValue.uppercased()) (exit \(outcome.exitCode.rawValue))"
    }

    public var tableText: String {
        var out = "baseline:  \(baselineLabel)\ncandidate: \(candidateLabel)\nrule:      \(policy)\n"
        if let problem { out += "\(outcome.rawValue): \(problem)\n" }
        if !comparisons.isEmpty {
            out += "\n"
            let rows = comparisons.map { c in
                [
                    c.name, c.baseline.map { formatQuantity($0.median, unit: c.unit) } ?? "–",
                    c.candidate.map { formatQuantity($0.median, unit: c.unit) } ?? "–",
                    ratioText(c.medianRatio), ratioText(c.hodgesLehmannRatio), significanceCell(c),
                    (c.verdict == .regression ? "▲ " : c.verdict == .improvement ? "▼ " : "") + verdictText(c),
                ]
            }
            out += renderTable(
                ["benchmark", "baseline", "candidate", "median ratio", "HL ratio", significanceHeader, "verdict"], rows)
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
        out += "- rule: \(policy)\n"
        if let problem { out += "- **\(outcome.rawValue)**: \(escapeMarkdown(problem))\n" }
        if !comparisons.isEmpty {
            out += "\n| benchmark | baseline | candidate | median ratio | HL ratio | \(significanceHeader) | verdict |\n"
            out += "|---|---:|---:|---:|---:|---:|---|\n"
            for c in comparisons {
                let verdict = verdictText(c)
                let v = c.verdict == .regression || c.verdict == .improvement ? "**\(verdict)**" : verdict
                out +=
                    "| `\(c.name.replacingOccurrences(of: "`", with: "'"))` | "
                    + "\(c.baseline.map { formatQuantity($0.median, unit: c.unit) } ?? "–") | "
                    + "\(c.candidate.map { formatQuantity($0.median, unit: c.unit) } ?? "–") | "
                    + "\(ratioText(c.medianRatio)) | \(ratioText(c.hodgesLehmannRatio)) | \(significanceCell(c)) | \(v) |\n"
            }
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
        var exitCode: Int32
        var report: ComparisonReport
    }

    public var junitText: String {
        let failures = regressions.count
        let errors = (outcome == .noBaseline || outcome == .incomparable || outcome == .error) ? 1 : 0
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out +=
            "<testsuites name=\"ember-bench\" tests=\"\(comparisons.count + errors)\" failures=\"\(failures)\" errors=\"\(errors)\">\n"
        out +=
            "  <testsuite name=\"ember-bench\" tests=\"\(comparisons.count + errors)\" failures=\"\(failures)\" errors=\"\(errors)\">\n"
        out += "    <properties>\n"
        out += "      <property name=\"baseline\" value=\"\(xml(baselineLabel))\"/>\n"
        out += "      <property name=\"candidate\" value=\"\(xml(candidateLabel))\"/>\n"
        out += "      <property name=\"rule\" value=\"\(xml(policy))\"/>\n"
        out += "    </properties>\n"
        if errors == 1 {
            out += "    <testcase classname=\"ember-bench\" name=\"baseline\">\n"
            out += "      <error message=\"\(xml(outcome.rawValue))\">\(xml(problem ?? ""))</error>\n"
            out += "    </testcase>\n"
        }
        for c in comparisons {
            let (suite, name) = splitName(c.name)
            let detail =
                "median \(c.baseline.map { formatQuantity($0.median, unit: c.unit) } ?? "–") → "
                + "\(c.candidate.map { formatQuantity($0.median, unit: c.unit) } ?? "–"), "
                + "ratio \(ratioText(c.ratio)) (threshold \(format(c.threshold))), \(significanceHeader) \(significanceCell(c))"
            out += "    <testcase classname=\"\(xml(suite))\" name=\"\(xml(name))\">\n"
            if c.verdict == .regression {
                out += "      <failure message=\"regression: \(xml(detail))\">\(xml(detail))</failure>\n"
            } else {
                out += "      <system-out>\(xml(c.verdict.rawValue + ": " + detail))</system-out>\n"
            }
            out += "    </testcase>\n"
        }
        out += "  </testsuite>\n</testsuites>\n"
        return out
    }
}

func splitName(_ name: String) -> (String, String) {
    if let slash = name.firstIndex(of: "/") {
        return (String(name[..<slash]), String(name[name.index(after: slash)...]))
    }
    return ("ember-bench", name)
}

func escapeMarkdown(_ s: String) -> String {
    s.replacingOccurrences(of: "|", with: "\\|")
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

    public func render(_ format: OutputFormat) -> String {
        switch format {
        case .json:
            struct Row: Encodable {
                var name: String
                var unit: String
                var direction: MetricDirection
                var batch: Int
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
                    Row(name: $0.name, unit: $0.unit, direction: $0.direction, batch: $0.batch, statistics: SampleStatistics(samples: $0.samples))
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
                    "| `\(b.name)` | \(formatQuantity(s.median, unit: b.unit)) | \(formatQuantity(s.filteredMean, unit: b.unit)) ± \(formatQuantity(s.filteredStdev, unit: b.unit)) | "
                    + "\(formatQuantity(s.p95, unit: b.unit)) | \(formatQuantity(s.p99, unit: b.unit)) | \(s.outlierCount) | \(s.count)\(b.batch > 1 ? " × \(b.batch)" : "") |\n"
            }
            return out
        case .table, .junit:
            let rows = benchmarks.map { b -> [String] in
                let s = SampleStatistics(samples: b.samples)
                return [
                    b.name, formatQuantity(s.median, unit: b.unit),
                    "\(formatQuantity(s.filteredMean, unit: b.unit)) ± \(formatQuantity(s.filteredStdev, unit: b.unit))",
                    formatQuantity(s.p95, unit: b.unit), formatQuantity(s.p99, unit: b.unit), String(s.outlierCount),
                    "\(s.count)\(b.batch > 1 ? " × \(b.batch)" : "")",
                ]
            }
            return "\(label)\n\n"
                + renderTable(["benchmark", "median", "mean ± stdev (filtered)", "p95", "p99", "outliers", "samples"], rows)
        }
    }
}
