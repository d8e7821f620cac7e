import EmberUtils
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The self-contained HTML report: inline CSS and SVG, no script, no network.
public enum HTMLReport {
    public static func build(
        store: BenchStore, lastRuns: Int, baseline: BaselineSpec, isDefaultBaseline: Bool = false, policy: GatePolicy = GatePolicy(),
        filters: [String] = []
    ) throws -> String {
        var names = try store.benchmarkNames()
        if !filters.isEmpty { names = names.filter { n in filters.contains { n.contains($0) } } }
        guard let latest = try store.runs(limit: 1).first else {
            throw BenchError("\(store.path) has no runs yet; nothing to report")
        }
        let resolution = try store.resolveBaseline(
            baseline, machineDigest: latest.machineDigest, excludingRun: latest.id, isDefault: isDefaultBaseline)
        let latestSamples = try store.samples(runID: latest.id)
        var report: ComparisonReport?
        // The runs the verdict compared with: the ones the charts mark as baseline.
        var baselineRunIDs = Set<Int64>()
        if case .found(var data) = resolution {
            data.runs = data.runs.map { $0.filter { names.contains($0.key) } }
            baselineRunIDs = Set(data.runIDs)
            report = Gate.compare(
                candidate: latestSamples.filter { names.contains($0.key) }, baseline: data, policy: policy,
                candidateLabel: latest.shortDescription)
        }
        var verdicts: [String: BenchmarkComparison] = [:]
        for c in report?.comparisons ?? [] { verdicts[c.name] = c }

        var sections: [String] = []
        var rows: [String] = []
        var stepCount = 0
        for (i, name) in names.enumerated() {
            let history = try store.history(benchmark: name, limit: lastRuns)
            if history.isEmpty { continue }
            let centers = history.map { ChangePointDetector.runCenter($0.samples) }
            let steps = ChangePointDetector.detect(centers, runIDs: history.map(\.run.id))
            stepCount += steps.count
            let verdict = verdicts[name]
            let cls = verdict?.verdict == .regression ? "regression" : verdict?.verdict == .improvement ? "improvement" : ""
            let last = SampleStatistics(samples: history.last!.samples.samples)
            let unit = history.last!.samples.unit
            let stepText = steps.last.map { "\(signedPercent($0.ratio)) at run \($0.runID.map(String.init) ?? "?")" } ?? "–"
            rows.append(
                "<tr class=\"\(cls)\"><td><a href=\"#b\(i)\">\(esc(name))</a></td><td>\(esc(formatQuantity(centers.last!, unit: unit)))</td>"
                    + "<td>\(esc(ratioText(verdict?.ratio)))</td><td>\(esc(verdict?.verdict.rawValue ?? "no baseline"))</td>"
                    + "<td>\(esc(stepText))</td></tr>")
            let stepList = steps.map { s in
                "\(signedPercent(s.ratio)) from run \(s.runID.map(String.init) ?? "?") (\(esc(formatQuantity(s.before, unit: unit))) → \(esc(formatQuantity(s.after, unit: unit))))"
            }
            sections.append(
                """
                <section id="b\(i)" class="card \(cls)">
                <h2>\(esc(name)) <span class="badge \(cls)">\(esc(verdict?.verdict.rawValue ?? "no baseline"))</span></h2>
                <p class="meta">latest \(esc(formatQuantity(centers.last!, unit: unit))) · p95 \(esc(formatQuantity(last.p95, unit: unit))) · \(last.count) samples in \(history.last!.samples.processCount) process\(history.last!.samples.processCount == 1 ? "" : "es")\(verdict?.ratio.map { " · ratio vs baseline " + String.printf("%.3f×", $0) } ?? "")\(stepList.isEmpty ? "" : "<br>change points: " + stepList.joined(separator: "; "))</p>
                \(chart(history, centers: centers, steps: steps, baselineRunIDs: baselineRunIDs, highlightLast: cls == "regression"))
                </section>
                """)
        }
        let baselineText: String
        switch resolution {
        case .found(let data): baselineText = data.label
        case .noBaseline(let why), .incomparable(let why): baselineText = why
        }
        let regressions = report?.regressions.count ?? 0
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>ember-bench report</title>
            <style>
            body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;padding:24px 32px;background:#f6f7f9;color:#1d2330}
            h1{font-size:24px;margin:0 0 4px} h2{font-size:17px;margin:0 0 4px;font-family:ui-monospace,"DejaVu Sans Mono",monospace}
            .meta{color:#5a6270;margin:0 0 10px;font-size:13.5px}
            .summary{background:#fff;border-radius:8px;padding:14px 18px;margin:16px 0;box-shadow:0 1px 2px #0001}
            table{border-collapse:collapse;width:100%} td,th{padding:5px 10px;border-bottom:1px solid #e5e7eb;text-align:left;font-size:14px}
            td:nth-child(2),td:nth-child(3),th:nth-child(2),th:nth-child(3){text-align:right;font-variant-numeric:tabular-nums}
            th{color:#5a6270;font-weight:600} a{color:#1f5fbf;text-decoration:none}
            tr.regression td{background:#fde8e8;font-weight:600} tr.improvement td{background:#e6f6ea}
            .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:16px}
            .card{background:#fff;border-radius:8px;padding:14px 18px;box-shadow:0 1px 2px #0001;border-left:5px solid #cfd5dd}
            .card.regression{border-left-color:#d32f2f;background:#fff7f7} .card.improvement{border-left-color:#2e7d32}
            .badge{font:600 12px system-ui,sans-serif;padding:2px 8px;border-radius:10px;background:#e8eaee;color:#444;vertical-align:middle}
            .badge.regression{background:#d32f2f;color:#fff} .badge.improvement{background:#2e7d32;color:#fff}
            .legend{font-size:13px;color:#5a6270}
            .legend i{display:inline-block;width:18px;height:3px;vertical-align:middle;margin:0 4px 0 12px}
            </style></head><body>
            <h1>ember-bench report</h1>
            <p class="meta">latest: \(esc(latest.shortDescription)) · \(esc(dateText(latest.createdNs))) · \(esc(latest.machine.summary))<br>baseline: \(esc(baselineText))<br>rule: \(esc(policy.summary))</p>
            <div class="summary"><strong>\(regressions) regression\(regressions == 1 ? "" : "s")</strong> in \(names.count) benchmarks · \(stepCount) change point\(stepCount == 1 ? "" : "s") in their histories
            <span class="legend"><i style="background:#1f5fbf"></i>run centre <i style="background:#bcd3f5;height:10px"></i>q1–q3 <i style="background:#e08a00"></i>baseline runs of the verdict <i style="background:#7b1fa2"></i>change point <i style="background:#d32f2f"></i>regression</span>
            <table><thead><tr><th>benchmark</th><th>latest</th><th>ratio</th><th>verdict</th><th>last change point</th></tr></thead><tbody>
            \(rows.joined(separator: "\n"))
            </tbody></table></div>
            <div class="grid">
            \(sections.joined(separator: "\n"))
            </div>
            </body></html>

            """
    }

    static func signedPercent(_ ratio: Double) -> String {
        let p = (ratio - 1) * 100
        return (p >= 0 ? "+" : "−") + String.printf("%.1f%%", abs(p))
    }

    /// "2026-12-01" in UTC; with `time`, "2026-12-01 09:05".
    public static func dateText(_ ns: Int64, time: Bool = false) -> String {
        var t = time_t(ns / 1_000_000_000)
        var parts = tm()
        gmtime_r(&t, &parts)
        let day = String.printf("%04d-%02d-%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday))
        return time ? day + String.printf(" %02d:%02d", Int(parts.tm_hour), Int(parts.tm_min)) : day
    }

    /// A trend chart: run centre per run, q1–q3 band, the verdict's baseline runs marked,
    /// change points as vertical lines, commits and dates on the x axis.
    static func chart(
        _ history: [(run: RunRecord, samples: BenchmarkSamples)], centers: [Double], steps: [ChangePoint],
        baselineRunIDs: Set<Int64>, highlightLast: Bool
    ) -> String {
        let width = 540.0
        let height = 222.0
        let left = 70.0
        let right = 14.0
        let top = 14.0
        let bottom = 50.0
        let stats = history.map { SampleStatistics(samples: $0.samples.samples) }
        let unit = history.last!.samples.unit
        var lo = min(stats.map(\.q1).min() ?? 0, centers.min() ?? 0)
        var hi = max(stats.map(\.q3).max() ?? 1, centers.max() ?? 1)
        if hi <= lo { hi = lo + max(abs(lo) * 0.1, 1) }
        let pad = (hi - lo) * 0.12
        lo = max(0, lo - pad)
        hi += pad
        let n = stats.count
        func x(_ i: Double) -> Double { n == 1 ? left + (width - left - right) / 2 : left + i * (width - left - right) / Double(n - 1) }
        func y(_ v: Double) -> Double { top + (hi - v) / (hi - lo) * (height - top - bottom) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"100%\" role=\"img\">"
        for k in 0...3 {
            let v = lo + (hi - lo) * Double(k) / 3
            let yy = y(v)
            svg += "<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(yy))\" y2=\"\(f(yy))\" stroke=\"#e5e7eb\"/>"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(yy + 4))\" font-size=\"11\" text-anchor=\"end\" fill=\"#5a6270\">\(esc(formatQuantity(v, unit: unit)))</text>"
        }
        if n > 1 {
            let upper = (0..<n).map { "\(f(x(Double($0)))),\(f(y(stats[$0].q3)))" }
            let lower = (0..<n).reversed().map { "\(f(x(Double($0)))),\(f(y(stats[$0].q1)))" }
            svg += "<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"#bcd3f5\" opacity=\"0.7\"/>"
            svg += "<polyline points=\"\((0..<n).map { "\(f(x(Double($0)))),\(f(y(centers[$0])))" }.joined(separator: " "))\" fill=\"none\" stroke=\"#1f5fbf\" stroke-width=\"2\"/>"
        }
        for s in steps where s.index > 0 && s.index < n {
            let xx = x(Double(s.index) - 0.5)
            svg += "<line class=\"change-point\" x1=\"\(f(xx))\" x2=\"\(f(xx))\" y1=\"\(f(top))\" y2=\"\(f(height - bottom))\" stroke=\"#7b1fa2\" stroke-dasharray=\"4 3\"/>"
            svg += "<text x=\"\(f(xx + 3))\" y=\"\(f(top + 10))\" font-size=\"11\" fill=\"#7b1fa2\">\(signedPercent(s.ratio))</text>"
        }
        for (i, entry) in history.enumerated() {
            let isBaseline = baselineRunIDs.contains(entry.run.id)
            let isLastRegression = highlightLast && i == n - 1
            let color = isLastRegression ? "#d32f2f" : isBaseline ? "#e08a00" : "#1f5fbf"
            let r = isLastRegression || isBaseline ? 5.5 : 3.5
            let commit = entry.run.revision.commit.map { String($0.prefix(10)) } ?? "no commit"
            svg += "<circle cx=\"\(f(x(Double(i))))\" cy=\"\(f(y(centers[i])))\" r=\"\(r)\" fill=\"\(color)\"\(isBaseline ? " class=\"baseline-run\"" : "")><title>run \(entry.run.id) · \(esc(commit)) · \(dateText(entry.run.createdNs))\(isBaseline ? " · baseline" : ""): \(esc(formatQuantity(centers[i], unit: unit)))</title></circle>"
        }
        if let first = history.firstIndex(where: { baselineRunIDs.contains($0.run.id) }) {
            svg += "<text x=\"\(f(x(Double(first))))\" y=\"\(f(y(centers[first]) - 9))\" font-size=\"11\" text-anchor=\"middle\" fill=\"#b36b00\">baseline</text>"
        }
        // X axis: commit over date, thinned to at most ~6 labels.
        let step = max(1, (n + 5) / 6)
        for i in stride(from: 0, to: n, by: step) {
            let run = history[i].run
            let commit = run.revision.commit.map { String($0.prefix(7)) } ?? "run \(run.id)"
            svg += "<text x=\"\(f(x(Double(i))))\" y=\"\(f(height - bottom + 15))\" font-size=\"10.5\" text-anchor=\"middle\" fill=\"#5a6270\" font-family=\"ui-monospace,monospace\">\(esc(commit))</text>"
            svg += "<text x=\"\(f(x(Double(i))))\" y=\"\(f(height - bottom + 28))\" font-size=\"10.5\" text-anchor=\"middle\" fill=\"#5a6270\">\(dateText(run.createdNs))</text>"
        }
        svg += "<text x=\"\(f((left + width - right) / 2))\" y=\"\(f(height - 4))\" font-size=\"11\" text-anchor=\"middle\" fill=\"#5a6270\">commit · date (UTC)</text>"
        svg += "</svg>"
        return svg
    }

    static func f(_ v: Double) -> String { String.printf("%.1f", v) }

    static func esc(_ s: String) -> String { xml(s) }
}
