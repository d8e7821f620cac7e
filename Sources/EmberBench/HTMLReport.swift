import Foundation

/// The self-contained HTML report: inline CSS and SVG, no script, no network.
public enum HTMLReport {
    public static func build(store: BenchStore, lastRuns: Int, baseline: BaselineSpec, filters: [String] = []) throws -> String {
        var names = try store.benchmarkNames()
        if !filters.isEmpty { names = names.filter { n in filters.contains { n.contains($0) } } }
        guard let latest = try store.runs(limit: 1).first else {
            throw BenchError("\(store.path) has no runs yet; nothing to report", exitCode: .noBaseline)
        }
        let resolution = try store.resolveBaseline(baseline, machineDigest: latest.machineDigest, excludingRun: latest.id)
        var baselineRunIDs = Set<Int64>()
        if case .named(let n) = baseline, let r = try store.baseline(named: n) { baselineRunIDs.insert(r.id) }
        if case .run(let id) = baseline { baselineRunIDs.insert(id) }
        let latestSamples = try store.samples(runID: latest.id)
        var report: ComparisonReport?
        if case .found(let samples, _) = resolution {
            report = Gate.compare(
                baseline: samples, candidate: latestSamples.filter { names.contains($0.key) }, policy: GatePolicy(),
                baselineLabel: "", candidateLabel: "")
        }
        var verdicts: [String: BenchmarkComparison] = [:]
        for c in report?.comparisons ?? [] { verdicts[c.name] = c }

        let markedBaselines = baselineRunIDs.union(try store.baselines().map(\.run.id))
        var sections: [String] = []
        var rows: [String] = []
        for (i, name) in names.enumerated() {
            let history = try store.history(benchmark: name, limit: lastRuns)
            if history.isEmpty { continue }
            let verdict = verdicts[name]
            let cls = verdict?.verdict == .regression ? "regression" : verdict?.verdict == .improvement ? "improvement" : ""
            let last = SampleStatistics(samples: history.last!.samples.samples)
            let unit = history.last!.samples.unit
            rows.append(
                "<tr class=\"\(cls)\"><td><a href=\"#b\(i)\">\(esc(name))</a></td><td>\(esc(formatQuantity(last.median, unit: unit)))</td>"
                    + "<td>\(esc(ratioText(verdict?.ratio)))</td><td>\(esc(verdict?.verdict.rawValue ?? "no baseline"))</td></tr>")
            sections.append(
                """
                <section id="b\(i)" class="card \(cls)">
                <h2>\(esc(name)) <span class="badge \(cls)">\(esc(verdict?.verdict.rawValue ?? "no baseline"))</span></h2>
                <p class="meta">latest median \(esc(formatQuantity(last.median, unit: unit))) · p95 \(esc(formatQuantity(last.p95, unit: unit))) · \(last.count) samples · \(last.outlierCount) outliers\(verdict?.ratio.map { " · ratio vs baseline " + String(format: "%.3f×", $0) } ?? "")</p>
                \(chart(history, baselineRunIDs: markedBaselines, highlightLast: cls == "regression"))
                </section>
                """)
        }
        let baselineText: String
        switch resolution {
        case .found(_, let label): baselineText = label
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
            <p class="meta">latest: \(esc(latest.shortDescription)) · \(esc(latest.machine.summary))<br>baseline: \(esc(baselineText))<br>rule: \(esc(GatePolicy().summary))</p>
            <div class="summary"><strong>\(regressions) regression\(regressions == 1 ? "" : "s")</strong> in \(names.count) benchmarks
            <span class="legend"><i style="background:#1f5fbf"></i>median <i style="background:#bcd3f5;height:10px"></i>q1–q3 <i style="background:#e08a00"></i>baseline run <i style="background:#d32f2f"></i>regression</span>
            <table><thead><tr><th>benchmark</th><th>latest median</th><th>ratio</th><th>verdict</th></tr></thead><tbody>
            \(rows.joined(separator: "\n"))
            </tbody></table></div>
            <div class="grid">
            \(sections.joined(separator: "\n"))
            </div>
            </body></html>

            """
    }

    /// A trend chart: median per run, q1–q3 band, baseline runs marked.
    static func chart(_ history: [(run: RunRecord, samples: BenchmarkSamples)], baselineRunIDs: Set<Int64>, highlightLast: Bool) -> String {
        let width = 540.0
        let height = 200.0
        let left = 70.0
        let right = 14.0
        let top = 12.0
        let bottom = 34.0
        let stats = history.map { SampleStatistics(samples: $0.samples.samples) }
        let unit = history.last!.samples.unit
        var lo = stats.map(\.q1).min() ?? 0
        var hi = stats.map(\.q3).max() ?? 1
        lo = min(lo, stats.map(\.median).min() ?? lo)
        hi = max(hi, stats.map(\.median).max() ?? hi)
        if hi <= lo { hi = lo + max(abs(lo) * 0.1, 1) }
        let pad = (hi - lo) * 0.12
        lo = max(0, lo - pad)
        hi += pad
        let n = stats.count
        func x(_ i: Int) -> Double { n == 1 ? left + (width - left - right) / 2 : left + Double(i) * (width - left - right) / Double(n - 1) }
        func y(_ v: Double) -> Double { top + (hi - v) / (hi - lo) * (height - top - bottom) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"100%\" role=\"img\">"
        // Grid and y labels.
        for k in 0...3 {
            let v = lo + (hi - lo) * Double(k) / 3
            let yy = y(v)
            svg += "<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(yy))\" y2=\"\(f(yy))\" stroke=\"#e5e7eb\"/>"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(yy + 4))\" font-size=\"11\" text-anchor=\"end\" fill=\"#5a6270\">\(esc(formatQuantity(v, unit: unit)))</text>"
        }
        // Band q1..q3.
        if n > 1 {
            let upper = (0..<n).map { "\(f(x($0))),\(f(y(stats[$0].q3)))" }
            let lower = (0..<n).reversed().map { "\(f(x($0))),\(f(y(stats[$0].q1)))" }
            svg += "<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"#bcd3f5\" opacity=\"0.7\"/>"
            svg += "<polyline points=\"\((0..<n).map { "\(f(x($0))),\(f(y(stats[$0].median)))" }.joined(separator: " "))\" fill=\"none\" stroke=\"#1f5fbf\" stroke-width=\"2\"/>"
        }
        for (i, entry) in history.enumerated() {
            let isBaseline = baselineRunIDs.contains(entry.run.id)
            let isLastRegression = highlightLast && i == n - 1
            if isBaseline {
                svg += "<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(y(stats[i].median)))\" y2=\"\(f(y(stats[i].median)))\" stroke=\"#e08a00\" stroke-dasharray=\"5 4\"/>"
                svg += "<text x=\"\(f(x(i)))\" y=\"\(f(y(stats[i].median) - 8))\" font-size=\"11\" text-anchor=\"middle\" fill=\"#b36b00\">baseline</text>"
            }
            let color = isLastRegression ? "#d32f2f" : isBaseline ? "#e08a00" : "#1f5fbf"
            let r = isLastRegression || isBaseline ? 5.5 : 3.5
            svg += "<circle cx=\"\(f(x(i)))\" cy=\"\(f(y(stats[i].median)))\" r=\"\(r)\" fill=\"\(color)\"><title>run \(entry.run.id) \(esc(entry.run.revision.commit.map { String($0.prefix(10)) } ?? "")): median \(esc(formatQuantity(stats[i].median, unit: unit)))</title></circle>"
        }
        // X labels: run ids, thinned to at most ~10.
        let step = max(1, n / 10)
        for i in stride(from: 0, to: n, by: step) {
            svg += "<text x=\"\(f(x(i)))\" y=\"\(f(height - bottom + 16))\" font-size=\"11\" text-anchor=\"middle\" fill=\"#5a6270\">\(history[i].run.id)</text>"
        }
        svg += "<text x=\"\(f((left + width - right) / 2))\" y=\"\(f(height - 4))\" font-size=\"11\" text-anchor=\"middle\" fill=\"#5a6270\">run</text>"
        svg += "</svg>"
        return svg
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    static func esc(_ s: String) -> String { xml(s) }
}
