import EmberUtils
import Foundation

/// Measures the two ways to keep raw samples: one BLOB per (run, benchmark), as the
/// store does, and one row per sample. Run it from a release build:
/// `ember-bench measure-store`.
public enum StoreLayoutMeasurement {
    public struct Figures: CustomStringConvertible {
        public var layout: String
        public var ingestSamples: Int
        public var ingestSeconds: Double
        public var compareBenchmarks: Int
        public var compareSeconds: Double
        public var fileBytes: Int64

        public var description: String {
            String(
                format: "%@: ingest %d samples in %.3f s (%.2f M samples/s); compare %d benchmarks in %.3f s (load + statistics + verdicts); file %.1f MiB",
                layout, ingestSamples, ingestSeconds, Double(ingestSamples) / ingestSeconds / 1e6, compareBenchmarks,
                compareSeconds, Double(fileBytes) / 1_048_576)
        }
    }

    static func syntheticRun(benchmarks: Int, samples: Int, scale: Double, seed: UInt64) -> [BenchmarkSamples] {
        var g = SeededGenerator(seed: seed)
        return (0..<benchmarks).map { i in
            let base = 1_000 + Double(i % 997) * 10
            return BenchmarkSamples(
                name: "synthetic/benchmark-\(i)", samples: (0..<samples).map { _ in scale * base * (1 + 0.1 * unit(&g)) })
        }
    }

    static func fileSize(_ path: String) -> Int64 {
        var total: Int64 = 0
        for suffix in ["", "-wal"] {
            let attrs = try? FileManager.default.attributesOfItem(atPath: path + suffix)
            total += (attrs?[.size] as? Int64) ?? Int64((attrs?[.size] as? Int) ?? 0)
        }
        return total
    }

    static func remove(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = MonotonicClock.nanoseconds()
        try body()
        return Double(MonotonicClock.nanoseconds() &- start) / 1e9
    }

    public static func run(
        directory: String, ingestBenchmarks: Int, compareBenchmarks: Int, samplesPerBenchmark: Int
    ) throws -> String {
        let machine = MachineFingerprint.current()
        let revision = SourceRevision(commit: "0000000", branch: "main", dirty: false)
        let ingest = syntheticRun(benchmarks: ingestBenchmarks, samples: samplesPerBenchmark, scale: 1, seed: 1)
        let base = syntheticRun(benchmarks: compareBenchmarks, samples: samplesPerBenchmark, scale: 1, seed: 2)
        let cand = syntheticRun(benchmarks: compareBenchmarks, samples: samplesPerBenchmark, scale: 1.02, seed: 3)

        // BLOB per benchmark: the real store.
        let blobPath = (directory as NSString).appendingPathComponent("ember-bench-layout-blob.sqlite")
        remove(blobPath)
        var blob = Figures(layout: "BLOB per benchmark (the store)", ingestSamples: ingestBenchmarks * samplesPerBenchmark, ingestSeconds: 0, compareBenchmarks: compareBenchmarks, compareSeconds: 0, fileBytes: 0)
        do {
            let store = try BenchStore(path: blobPath)
            blob.ingestSeconds = try seconds {
                try store.insert(NewRun(revision: revision, machine: machine, source: "synthetic", results: ingest))
            }
            let baseID = try store.insert(NewRun(revision: revision, machine: machine, source: "synthetic", results: base))
            try store.setBaseline("main", runID: baseID)
            let candID = try store.insert(NewRun(revision: revision, machine: machine, source: "synthetic", results: cand))
            var regressions = 0
            blob.compareSeconds = try seconds {
                let fresh = try BenchStore(path: blobPath)
                guard case .found(let b, let label) = try fresh.resolveBaseline(.named("main"), machineDigest: machine.digest) else {
                    throw BenchError("measurement: baseline not found")
                }
                let c = try fresh.samples(runID: candID)
                let report = Gate.compare(baseline: b, candidate: c, policy: GatePolicy(), baselineLabel: label, candidateLabel: "c")
                regressions = report.regressions.count
            }
            precondition(regressions == 0, "the synthetic 2% change must not be flagged")
            blob.fileBytes = fileSize(blobPath)
        }
        remove(blobPath)

        // One row per sample.
        let rowPath = (directory as NSString).appendingPathComponent("ember-bench-layout-rows.sqlite")
        remove(rowPath)
        var rows = Figures(layout: "one row per sample", ingestSamples: ingestBenchmarks * samplesPerBenchmark, ingestSeconds: 0, compareBenchmarks: compareBenchmarks, compareSeconds: 0, fileBytes: 0)
        do {
            let db = try SQLiteConnection(path: rowPath)
            try db.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL")
            try db.execute(
                """
                CREATE TABLE benchmarks(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
                CREATE TABLE samples(run_id INTEGER NOT NULL, benchmark_id INTEGER NOT NULL, idx INTEGER NOT NULL, value REAL NOT NULL,
                    PRIMARY KEY(run_id, benchmark_id, idx)) WITHOUT ROWID;
                """)
            func insert(_ run: [BenchmarkSamples], runID: Int64) throws {
                try db.execute("BEGIN IMMEDIATE")
                let upsert = try db.prepare(
                    "INSERT INTO benchmarks(name) VALUES (?) ON CONFLICT(name) DO UPDATE SET name = excluded.name RETURNING id")
                let ins = try db.prepare("INSERT INTO samples(run_id, benchmark_id, idx, value) VALUES (?, ?, ?, ?)")
                for r in run {
                    try upsert.bind(1, r.name)
                    _ = try upsert.step()
                    let id = upsert.int(0)
                    upsert.reset()
                    for (k, v) in r.samples.enumerated() {
                        try ins.bind(1, runID)
                        try ins.bind(2, id)
                        try ins.bind(3, Int64(k))
                        try ins.bind(4, v)
                        try ins.step()
                        ins.reset()
                    }
                }
                try db.execute("COMMIT")
            }
            rows.ingestSeconds = try seconds { try insert(ingest, runID: 1) }
            try insert(base, runID: 2)
            try insert(cand, runID: 3)
            func load(_ runID: Int64) throws -> [String: BenchmarkSamples] {
                let s = try db.prepare(
                    "SELECT b.name, s.value FROM samples s JOIN benchmarks b ON b.id = s.benchmark_id WHERE s.run_id = ? ORDER BY s.benchmark_id, s.idx")
                try s.bind(1, runID)
                var out: [String: BenchmarkSamples] = [:]
                var currentName = ""
                var current: [Double] = []
                while try s.step() {
                    let name = s.text(0) ?? ""
                    if name != currentName {
                        if !currentName.isEmpty { out[currentName] = BenchmarkSamples(name: currentName, samples: current) }
                        currentName = name
                        current = []
                    }
                    current.append(s.double(1))
                }
                if !currentName.isEmpty { out[currentName] = BenchmarkSamples(name: currentName, samples: current) }
                return out
            }
            rows.compareSeconds = try seconds {
                let b = try load(2)
                let c = try load(3)
                _ = Gate.compare(baseline: b, candidate: c, policy: GatePolicy(), baselineLabel: "b", candidateLabel: "c")
            }
            rows.fileBytes = fileSize(rowPath)
        }
        remove(rowPath)

        // The statistics alone, to show what share of compare is SQLite.
        let statsSeconds = seconds {
            let b = Dictionary(uniqueKeysWithValues: base.map { ($0.name, $0) })
            let c = Dictionary(uniqueKeysWithValues: cand.map { ($0.name, $0) })
            _ = Gate.compare(baseline: b, candidate: c, policy: GatePolicy(), baselineLabel: "b", candidateLabel: "c")
        }
        let summaries = seconds { for (b, c) in zip(base, cand) { _ = SampleStatistics(samples: b.samples); _ = SampleStatistics(samples: c.samples) } }
        let hl = seconds { for (b, c) in zip(base, cand) { _ = Statistics.hodgesLehmannRatio(baseline: b.samples, candidate: c.samples) } }
        let mw = seconds { for (b, c) in zip(base, cand) { _ = Statistics.mannWhitney(baseline: b.samples, candidate: c.samples) } }
        return [
            blob.description, rows.description,
            String(format: "statistics and verdicts alone for %d benchmarks: %.3f s (summaries %.3f s, Hodges–Lehmann %.3f s, Mann–Whitney %.3f s)", compareBenchmarks, statsSeconds, summaries, hl, mw),
        ].joined(separator: "\n")
    }
}
