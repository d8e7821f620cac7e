import Foundation

/// A result file read into memory, ready to be stored as one run.
public struct ImportedRun: Sendable {
    public var format: ImportFormat
    public var benchmarks: [BenchmarkSamples]
    /// From the file when it records one (pytest-benchmark's commit_info).
    public var revision: SourceRevision?
    /// From the file when it describes its machine; otherwise this machine.
    public var machine: MachineFingerprint?
}

public enum ImportFormat: String, Sendable, CaseIterable {
    case pytestBenchmark = "pytest-benchmark"
    case googleBenchmark = "google-benchmark"
    case hyperfine
}

/// JSONSerialization gives booleans as NSNumber of C type "c"; JSON numbers never are.
func isBoolean(_ n: NSNumber) -> Bool { n.objCType.pointee == 0x63 && n.objCType[1] == 0 }  // "c"

/// Walks a parsed JSON document keeping the JSON path, so every complaint names the
/// exact place: `$.benchmarks[3].stats.data[7]`.
struct JSONCursor {
    let value: Any
    let path: String
    let file: String

    func fail(_ what: String) -> BenchError {
        BenchError("\(file): \(path): \(what); nothing was imported")
    }

    func kind(_ v: Any) -> String {
        switch v {
        case is NSNull: "null"
        case let n as NSNumber: isBoolean(n) ? "a boolean" : "a number"
        case is String: "a string"
        case is [Any]: "an array"
        case is [String: Any]: "an object"
        default: "an unknown value"
        }
    }

    func object() throws -> [String: Any] {
        guard let o = value as? [String: Any] else { throw fail("expected an object, found \(kind(value))") }
        return o
    }

    func field(_ key: String) throws -> JSONCursor {
        let o = try object()
        guard let v = o[key] else { throw JSONCursor(value: o, path: "\(path).\(key)", file: file).fail("missing") }
        return JSONCursor(value: v, path: "\(path).\(key)", file: file)
    }

    func optionalField(_ key: String) throws -> JSONCursor? {
        let o = try object()
        guard let v = o[key], !(v is NSNull) else { return nil }
        return JSONCursor(value: v, path: "\(path).\(key)", file: file)
    }

    func array() throws -> [JSONCursor] {
        guard let a = value as? [Any] else { throw fail("expected an array, found \(kind(value))") }
        return a.enumerated().map { JSONCursor(value: $1, path: "\(path)[\($0)]", file: file) }
    }

    func string() throws -> String {
        guard let s = value as? String else { throw fail("expected a string, found \(kind(value))") }
        return s
    }

    func number() throws -> Double {
        guard let n = value as? NSNumber, !isBoolean(n) else {
            throw fail("expected a number, found \(kind(value))")
        }
        let d = n.doubleValue
        guard d.isFinite else { throw fail("expected a finite number, found \(d)") }
        return d
    }

    func bool() throws -> Bool {
        guard let n = value as? NSNumber, isBoolean(n) else {
            throw fail("expected a boolean, found \(kind(value))")
        }
        return n.boolValue
    }

    /// A non-empty array of non-negative finite numbers. The hot path of every import:
    /// element cursors (and their path strings) are made only to report an error.
    func samples() throws -> [Double] {
        guard let raw = value as? [Any] else { throw fail("expected an array, found \(kind(value))") }
        if raw.isEmpty { throw fail("no samples (empty array)") }
        var out = [Double]()
        out.reserveCapacity(raw.count)
        for (i, v) in raw.enumerated() {
            if let n = v as? NSNumber, !isBoolean(n) {
                let x = n.doubleValue
                if x.isFinite && x >= 0 {
                    out.append(x)
                    continue
                }
            }
            let item = JSONCursor(value: v, path: "\(path)[\(i)]", file: file)
            let x = try item.number()
            throw item.fail("a time cannot be negative (\(x))")
        }
        return out
    }
}

public enum Importer {
    /// Reads `path`, detecting the format unless given. Throws before returning anything
    /// if any part of the file is malformed.
    public static func load(path: String, format: ImportFormat? = nil) throws -> ImportedRun {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw BenchError("cannot read \(path): \(error.localizedDescription)")
        }
        // Well-formed files take the typed JSONDecoder path (3.5× faster on large files);
        // anything it does not accept goes through the path-tracking reader below, which
        // either names the exact problem or (for shapes the typed path is strict about)
        // imports the file itself.
        if let fast = FastImport.decode(data, format: format) { return fast }
        return try loadChecked(path: path, data: data, format: format)
    }

    /// The path-tracking reader: slower, and the source of every error message.
    static func loadChecked(path: String, data: Data, format: ImportFormat?) throws -> ImportedRun {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw BenchError("\(path): not valid JSON (\(describeJSONError(error, data: data))); nothing was imported")
        }
        let root = JSONCursor(value: parsed, path: "$", file: path)
        let object = try root.object()
        let chosen: ImportFormat
        if let format {
            chosen = format
        } else if object["results"] != nil {
            chosen = .hyperfine
        } else if object["context"] != nil {
            chosen = .googleBenchmark
        } else if object["benchmarks"] != nil && (object["machine_info"] != nil || object["commit_info"] != nil) {
            chosen = .pytestBenchmark
        } else {
            throw BenchError(
                "\(path): not a pytest-benchmark, Google Benchmark or hyperfine JSON file "
                    + "(expected a top-level \"benchmarks\" with \"machine_info\", \"context\", or \"results\"); pass --format")
        }
        switch chosen {
        case .pytestBenchmark: return try pytest(root)
        case .googleBenchmark: return try google(root)
        case .hyperfine: return try hyperfine(root)
        }
    }

    static func describeJSONError(_ error: Error, data: Data) -> String {
        let ns = error as NSError
        var index = ns.userInfo["NSJSONSerializationErrorIndex"] as? Int
        let debug = ns.userInfo[NSDebugDescriptionErrorKey] as? String
        if index == nil, let debug, let r = debug.range(of: "character ") {
            // corelibs-foundation says "... around character 30."
            index = Int(debug[r.upperBound...].prefix { $0.isNumber })
        }
        if let index {
            let bytes = [UInt8](data.prefix(index))
            let line = bytes.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
            let column = index - (bytes.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0) + 1
            return "syntax error near byte \(index), line \(line), column \(column)"
                + (debug.map { ": \($0)" } ?? "")
        }
        return debug ?? ns.localizedDescription
    }

    static func checkUnique(_ benchmarks: [BenchmarkSamples], _ root: JSONCursor) throws {
        var seen = Set<String>()
        for b in benchmarks where !seen.insert(b.name).inserted {
            throw root.fail("benchmark \"\(b.name)\" appears twice")
        }
    }

    /// pytest-benchmark `--benchmark-json`: `benchmarks[].stats.data` are seconds per
    /// operation; `iterations` operations were timed together per round.
    static func pytest(_ root: JSONCursor) throws -> ImportedRun {
        var out: [BenchmarkSamples] = []
        for b in try root.field("benchmarks").array() {
            let name = try (b.optionalField("fullname") ?? b.field("name")).string()
            let stats = try b.field("stats")
            guard let dataField = try stats.optionalField("data") else {
                throw stats.fail("no raw samples (\"data\"); run pytest with --benchmark-json (it keeps them)")
            }
            let seconds = try dataField.samples()
            let iterations = try stats.optionalField("iterations").map { Int(try $0.number()) } ?? 1
            out.append(
                BenchmarkSamples(
                    name: "pytest/\(name)", unit: "ns", samples: seconds.map { $0 * 1e9 }, batch: max(iterations, 1)))
        }
        try checkUnique(out, root)
        var revision: SourceRevision?
        if let commit = try root.optionalField("commit_info") {
            revision = SourceRevision(
                commit: try commit.optionalField("id")?.string(), branch: try commit.optionalField("branch")?.string(),
                dirty: try commit.optionalField("dirty")?.bool() ?? false)
        }
        var machine: MachineFingerprint?
        if let info = try root.optionalField("machine_info") {
            let cpu = try info.optionalField("cpu")
            machine = MachineFingerprint(
                cpuModel: try cpu?.optionalField("brand_raw")?.string() ?? info.optionalField("processor")?.string() ?? "unknown",
                cpuCount: Int(try cpu?.optionalField("count")?.number() ?? 0), memoryBytes: 0,
                os: try info.optionalField("system")?.string() ?? "unknown",
                kernel: try info.optionalField("release")?.string() ?? "unknown",
                toolchain: "\(try info.optionalField("python_implementation")?.string() ?? "Python") \(try info.optionalField("python_version")?.string() ?? "")",
                buildConfig: "pytest-benchmark")
        }
        return ImportedRun(format: .pytestBenchmark, benchmarks: out, revision: revision, machine: machine)
    }

    /// Google Benchmark `--benchmark_format=json`: each `run_type: iteration` row is one
    /// repetition; its real_time (per iteration, in `time_unit`) is one sample.
    /// Aggregate rows (mean, median, stddev) are skipped: they are not samples.
    static func google(_ root: JSONCursor) throws -> ImportedRun {
        var order: [String] = []
        var samples: [String: [Double]] = [:]
        var batches: [String: Int] = [:]
        for row in try root.field("benchmarks").array() {
            let runType = try row.optionalField("run_type")?.string() ?? "iteration"
            if runType != "iteration" { continue }
            if let error = try row.optionalField("error_occurred"), try error.bool() { continue }
            let name = try (row.optionalField("run_name") ?? row.field("name")).string()
            let time = try row.field("real_time").number()
            let unitField = try row.optionalField("time_unit")
            let scale: Double
            switch try unitField?.string() ?? "ns" {
            case "ns": scale = 1
            case "us": scale = 1e3
            case "ms": scale = 1e6
            case "s": scale = 1e9
            case let other: throw unitField!.fail("unknown time unit \"\(other)\" (expected ns, us, ms or s)")
            }
            let key = "gbench/\(name)"
            if samples[key] == nil { order.append(key) }
            samples[key, default: []].append(time * scale)
            batches[key] = Int(try row.optionalField("iterations")?.number() ?? 1)
        }
        if order.isEmpty { throw try root.field("benchmarks").fail("no iteration rows to import") }
        let out = order.map { BenchmarkSamples(name: $0, unit: "ns", samples: samples[$0]!, batch: max(batches[$0] ?? 1, 1)) }
        var machine: MachineFingerprint?
        if let context = try root.optionalField("context") {
            machine = MachineFingerprint(
                cpuModel: try context.optionalField("host_name")?.string() ?? "unknown",
                cpuCount: Int(try context.optionalField("num_cpus")?.number() ?? 0), memoryBytes: 0,
                os: "unknown", kernel: "unknown", toolchain: "google-benchmark",
                buildConfig: try context.optionalField("library_build_type")?.string() ?? "unknown")
        }
        return ImportedRun(format: .googleBenchmark, benchmarks: out, revision: nil, machine: machine)
    }

    /// hyperfine `--export-json`: `results[].times` are seconds per run of the command.
    static func hyperfine(_ root: JSONCursor) throws -> ImportedRun {
        var out: [BenchmarkSamples] = []
        for r in try root.field("results").array() {
            let command = try r.field("command").string()
            let times = try r.field("times").samples()
            out.append(BenchmarkSamples(name: "hyperfine/\(command)", unit: "ns", samples: times.map { $0 * 1e9 }))
            if let user = try r.optionalField("user"), let system = try r.optionalField("system") {
                // hyperfine stores only the mean user/system time; keep them as one-sample series.
                out.append(BenchmarkSamples(name: "hyperfine/\(command) [user mean]", unit: "ns", samples: [try user.number() * 1e9]))
                out.append(BenchmarkSamples(name: "hyperfine/\(command) [sys mean]", unit: "ns", samples: [try system.number() * 1e9]))
            }
        }
        if out.isEmpty { throw try root.field("results").fail("no results to import") }
        try checkUnique(out, root)
        return ImportedRun(format: .hyperfine, benchmarks: out, revision: nil, machine: nil)
    }
}

/// The typed happy path of the importers. Returns nil whenever anything is off; the
/// caller then runs the path-tracking reader, which reports the problem precisely.
enum FastImport {
    struct TopLevel: Decodable {
        var results: [HyperfineResult]?
        var context: GoogleContext?
        var benchmarks: [BenchmarkRow]?
        var machine_info: PytestMachine?
        var commit_info: PytestCommit?
    }
    struct HyperfineResult: Decodable {
        var command: String
        var times: [Double]
        var user: Double?
        var system: Double?
    }
    struct GoogleContext: Decodable {
        var host_name: String?
        var num_cpus: Double?
        var library_build_type: String?
    }
    /// A row of either pytest-benchmark or Google Benchmark.
    struct BenchmarkRow: Decodable {
        var name: String?
        var fullname: String?
        var stats: PytestStats?
        var run_name: String?
        var run_type: String?
        var error_occurred: Bool?
        var real_time: Double?
        var time_unit: String?
        var iterations: Double?
    }
    struct PytestStats: Decodable {
        var data: [Double]?
        var iterations: Double?
    }
    struct PytestCPU: Decodable {
        var brand_raw: String?
        var count: Double?
    }
    struct PytestMachine: Decodable {
        var cpu: PytestCPU?
        var processor: String?
        var system: String?
        var release: String?
        var python_implementation: String?
        var python_version: String?
    }
    struct PytestCommit: Decodable {
        var id: String?
        var branch: String?
        var dirty: Bool?
    }

    static func validSamples(_ xs: [Double]) -> Bool { !xs.isEmpty && xs.allSatisfy { $0.isFinite && $0 >= 0 } }

    static func unique(_ b: [BenchmarkSamples]) -> Bool { Set(b.map(\.name)).count == b.count }

    static func decode(_ data: Data, format: ImportFormat?) -> ImportedRun? {
        guard let top = try? JSONDecoder().decode(TopLevel.self, from: data) else { return nil }
        let chosen: ImportFormat
        if let format {
            chosen = format
        } else if top.results != nil {
            chosen = .hyperfine
        } else if top.context != nil {
            chosen = .googleBenchmark
        } else if top.benchmarks != nil && (top.machine_info != nil || top.commit_info != nil) {
            chosen = .pytestBenchmark
        } else {
            return nil
        }
        switch chosen {
        case .hyperfine:
            guard let results = top.results, !results.isEmpty else { return nil }
            var out: [BenchmarkSamples] = []
            for r in results {
                guard validSamples(r.times) else { return nil }
                out.append(BenchmarkSamples(name: "hyperfine/\(r.command)", unit: "ns", samples: r.times.map { $0 * 1e9 }))
                if let user = r.user, let system = r.system {
                    out.append(BenchmarkSamples(name: "hyperfine/\(r.command) [user mean]", unit: "ns", samples: [user * 1e9]))
                    out.append(BenchmarkSamples(name: "hyperfine/\(r.command) [sys mean]", unit: "ns", samples: [system * 1e9]))
                }
            }
            guard unique(out) else { return nil }
            return ImportedRun(format: .hyperfine, benchmarks: out, revision: nil, machine: nil)
        case .googleBenchmark:
            guard let rows = top.benchmarks else { return nil }
            var order: [String] = []
            var samples: [String: [Double]] = [:]
            var batches: [String: Int] = [:]
            for row in rows {
                if (row.run_type ?? "iteration") != "iteration" { continue }
                if row.error_occurred == true { continue }
                guard let name = row.run_name ?? row.name, let time = row.real_time, time.isFinite else { return nil }
                let scale: Double
                switch row.time_unit ?? "ns" {
                case "ns": scale = 1
                case "us": scale = 1e3
                case "ms": scale = 1e6
                case "s": scale = 1e9
                default: return nil
                }
                let key = "gbench/\(name)"
                if samples[key] == nil { order.append(key) }
                samples[key, default: []].append(time * scale)
                batches[key] = Int(row.iterations ?? 1)
            }
            if order.isEmpty { return nil }
            let out = order.map { BenchmarkSamples(name: $0, unit: "ns", samples: samples[$0]!, batch: max(batches[$0] ?? 1, 1)) }
            let machine = top.context.map {
                MachineFingerprint(
                    cpuModel: $0.host_name ?? "unknown", cpuCount: Int($0.num_cpus ?? 0), memoryBytes: 0, os: "unknown",
                    kernel: "unknown", toolchain: "google-benchmark", buildConfig: $0.library_build_type ?? "unknown")
            }
            return ImportedRun(format: .googleBenchmark, benchmarks: out, revision: nil, machine: machine)
        case .pytestBenchmark:
            guard let rows = top.benchmarks else { return nil }
            var out: [BenchmarkSamples] = []
            for row in rows {
                guard let name = row.fullname ?? row.name, let data = row.stats?.data, validSamples(data) else { return nil }
                let iterations = Int(row.stats?.iterations ?? 1)
                out.append(BenchmarkSamples(name: "pytest/\(name)", unit: "ns", samples: data.map { $0 * 1e9 }, batch: max(iterations, 1)))
            }
            guard unique(out) else { return nil }
            let revision = top.commit_info.map { SourceRevision(commit: $0.id, branch: $0.branch, dirty: $0.dirty ?? false) }
            let machine = top.machine_info.map { info in
                MachineFingerprint(
                    cpuModel: info.cpu?.brand_raw ?? info.processor ?? "unknown", cpuCount: Int(info.cpu?.count ?? 0),
                    memoryBytes: 0, os: info.system ?? "unknown", kernel: info.release ?? "unknown",
                    toolchain: "\(info.python_implementation ?? "Python") \(info.python_version ?? "")",
                    buildConfig: "pytest-benchmark")
            }
            return ImportedRun(format: .pytestBenchmark, benchmarks: out, revision: revision, machine: machine)
        }
    }
}
