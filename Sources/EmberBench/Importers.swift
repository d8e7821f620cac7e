import EmberProject
import EmberUtils
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A result file read into memory, ready to be stored as one run.
public struct ImportedRun: Sendable {
    public var format: ImportFormat
    public var benchmarks: [BenchmarkSamples]
    /// From the file when it records one (pytest-benchmark's commit_info).
    public var revision: SourceRevision?
    /// From the file when it describes its machine; otherwise this machine.
    public var machine: MachineFingerprint?
    /// When the file says it ran (pytest-benchmark's datetime, Google Benchmark's
    /// context.date), in ns since the epoch; nil: the time of the import.
    public var createdNs: Int64? = nil
}

/// "2026-11-26T19:23:28.123456" (UTC when no zone is given), with a `Z` or a zone offset
/// (`+02:00`, `-0530`), as pytest-benchmark's datetime and Google Benchmark's context.date
/// write it: nanoseconds since the epoch, or nil when the text is not such a time.
func parseTimestamp(_ text: String) -> Int64? {
    let b = Array(text.utf8)
    var i = 0
    func number(_ digits: Int) -> Int? {
        guard i + digits <= b.count else { return nil }
        var n = 0
        for k in i..<(i + digits) {
            guard b[k] >= UInt8(ascii: "0"), b[k] <= UInt8(ascii: "9") else { return nil }
            n = n * 10 + Int(b[k] - UInt8(ascii: "0"))
        }
        i += digits
        return n
    }
    func expect(_ c: Character) -> Bool {
        guard i < b.count, b[i] == c.asciiValue! else { return false }
        i += 1
        return true
    }
    guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
        i < b.count, b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: "t") || b[i] == UInt8(ascii: " ")
    else { return nil }
    i += 1
    guard let hour = number(2), expect(":"), let minute = number(2), expect(":"), let second = number(2),
        (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
    else { return nil }
    var fractionNs: Int64 = 0
    if i < b.count, b[i] == UInt8(ascii: ".") {
        i += 1
        var scale: Int64 = 100_000_000
        let start = i
        while i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") {
            fractionNs += Int64(b[i] - UInt8(ascii: "0")) * scale
            scale /= 10
            i += 1
        }
        guard i > start else { return nil }
    }
    var offsetSeconds = 0
    if i < b.count {
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let h = number(2) else { return nil }
            _ = expect(":")
            guard let m = number(2), h < 24, m < 60 else { return nil }
            offsetSeconds = sign * (h * 3600 + m * 60)
        }
    }
    guard i == b.count else { return nil }
    // Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    let days = era * 146_097 + dayOfEra - 719_468
    let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second - offsetSeconds)
    return seconds * 1_000_000_000 + fractionNs
}

public enum ImportFormat: String, Sendable, CaseIterable {
    case pytestBenchmark = "pytest-benchmark"
    case googleBenchmark = "google-benchmark"
    case hyperfine
}

/// Reads pytest-benchmark, Google Benchmark and hyperfine JSON with a streaming reader
/// (`JSONStream`): the file is read in chunks and only the samples and a few fields are
/// kept. Every problem names the file and the JSON path (`$.benchmarks[3].stats.data[7]`)
/// or, for a syntax error, the line and column; a file with a problem imports nothing.
///
/// What one file is:
/// - pytest-benchmark: one pytest process; `stats.data` are seconds per operation.
/// - Google Benchmark: one process; each `iteration` row (a repetition) is one sample of
///   `real_time`, and of `cpu_time` as the sibling series `NAME [cpu]`.
/// - hyperfine: every time is a run of the command in its own process; the mean user
///   and system times of the file are `CMD [user]` and `CMD [sys]` (one value per file),
///   `memory_usage_byte` (newer hyperfine) is `CMD [peak RSS]`.
public enum Importer {
    public static func load(path: String, format: ImportFormat? = nil) throws -> ImportedRun {
        let stream = try JSONStream(path: path)
        return try parse(stream, file: path, format: format)
    }

    /// The same for bytes in memory (tests).
    public static func load(bytes: [UInt8], name: String, format: ImportFormat? = nil) throws -> ImportedRun {
        try parse(JSONStream(bytes: bytes), file: name, format: format)
    }

    static func parse(_ stream: JSONStream, file: String, format: ImportFormat?) throws -> ImportedRun {
        do {
            var reader = DocumentReader(stream: stream, file: file)
            return try reader.read(format: format)
        } catch let e as JSONSyntaxError {
            throw BenchError("\(file): not valid JSON (syntax error near byte \(e.offset), \(lineColumn(file: file, stream: stream, offset: e.offset)): \(e.message)); nothing was imported")
        }
    }

    /// A file being read on a thread of its own, its batches waiting for `consume`.
    public final class Reading {
        let queue: BatchQueue
        private var thread: ThreadHandle?

        init(queue: BatchQueue, thread: ThreadHandle) {
            self.queue = queue
            self.thread = thread
        }

        /// Waits for the reading thread, once.
        private func join() {
            thread?.join()
            thread = nil
        }

        /// Hands each batch to `body` on this thread as it comes; returns the file's metadata
        /// or throws its error. Call once.
        public func consume(_ body: (_ batch: [BenchmarkSamples], _ medians: [Double]) throws -> Void) throws -> ImportedRun {
            defer { join() }
            do {
                while let batch = queue.pop() {
                    try body(batch.benchmarks, batch.medians)
                    queue.recycle(batch)
                }
            } catch {
                queue.cancel()
                _ = queue.waitForOutcome()
                throw error
            }
            return try queue.waitForOutcome().get()
        }

        /// Never consumed (the store could not be opened): the reading thread stops.
        deinit {
            queue.cancel()
            join()
        }
    }

    /// Starts reading `path` now, on a thread of its own (parsing overlaps whatever the
    /// caller does before `consume`, such as opening the store). `consume` then hands its
    /// benchmarks, with the median of each one's samples, to the calling thread in batches
    /// while the rest of the file is still being parsed (hyperfine results as they come;
    /// other formats at the end, when their rows can be grouped), and returns the file's
    /// metadata (format, revision, machine, date). A parse error is thrown after the
    /// batches already consumed: consume inside a transaction. The parsing thread also
    /// computes the medians and frees the consumed batches: the writing thread is the
    /// slower one.
    public static func startReading(path: String, format: ImportFormat? = nil) -> Reading {
        let queue = BatchQueue()
        let thread = ProjectParallel.detach(stackSize: 8 << 20) {
            var batch = ImportBatch()
            let outcome: Result<ImportedRun, Error>
            do {
                let stream = try JSONStream(path: path)
                do {
                    var reader = DocumentReader(stream: stream, file: path)
                    reader.emit = { series in
                        batch.append(series)
                        if batch.benchmarks.count >= BatchQueue.batchSize {
                            guard queue.push(batch) else { throw CancellationError() }
                            batch = ImportBatch()
                        }
                    }
                    var run = try reader.read(format: format)
                    if !batch.benchmarks.isEmpty { _ = queue.push(batch) }
                    if !run.benchmarks.isEmpty {
                        var rest = ImportBatch()
                        for b in run.benchmarks { rest.append(b) }
                        _ = queue.push(rest)
                    }
                    run.benchmarks = []
                    outcome = .success(run)
                } catch let e as JSONSyntaxError {
                    outcome = .failure(
                        BenchError("\(path): not valid JSON (syntax error near byte \(e.offset), \(lineColumn(file: path, stream: stream, offset: e.offset)): \(e.message)); nothing was imported"))
                }
            } catch {
                outcome = .failure(error)
            }
            queue.finish(outcome)
        }
        return Reading(queue: queue, thread: thread)
    }

    /// "line L, column C" of a byte offset, by reading the file again up to it.
    static func lineColumn(file: String, stream: JSONStream, offset: Int) -> String {
        var line = 1
        var column = 1
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "offset \(offset)" }
        defer { close(fd) }
        var remaining = offset
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while remaining > 0 {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, min(remaining, $0.count)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            let data = chunk[..<n]
            for b in data {
                if b == 0x0A {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
            }
            remaining -= data.count
        }
        return "line \(line), column \(column)"
    }

    /// Several files of one format as one run: each file's processes are appended (a
    /// pytest or Google Benchmark file is one process, a hyperfine time is one).
    public static func merge(_ runs: [ImportedRun], files: [String]) throws -> ImportedRun {
        guard let first = runs.first else { throw BenchError("no files to import") }
        for (i, r) in runs.enumerated() where r.format != first.format {
            throw BenchError("--one-run: \(files[i]) is \(r.format.rawValue), \(files[0]) is \(first.format.rawValue); one run needs one format")
        }
        var order: [String] = []
        var merged: [String: BenchmarkSamples] = [:]
        for run in runs {
            for b in run.benchmarks {
                if merged[b.name] == nil {
                    order.append(b.name)
                    merged[b.name] = BenchmarkSamples(name: b.name, unit: b.unit, direction: b.direction, samples: [], batch: b.batch)
                }
                for p in b.processes() { merged[b.name]!.appendProcess(Array(p)) }
            }
        }
        return ImportedRun(
            format: first.format, benchmarks: order.map { merged[$0]! }, revision: runs.lazy.compactMap(\.revision).first,
            machine: first.machine, createdNs: first.createdNs)
    }
}

/// A location in the document, built into a string only for a message.
enum PathPart {
    case key(String)
    case index(Int)
}

/// Walks one document. Values of a known field with a wrong type are reported at once;
/// checks that depend on the format (known only once the top-level keys are seen) run
/// at the end on the typed rows, which remember their paths.
struct DocumentReader {
    let stream: JSONStream
    let file: String
    var path: [PathPart] = []
    /// When set, hyperfine results are handed over as they are read instead of being
    /// kept (a streaming import stores them while the rest of the file is parsed).
    var emit: ((BenchmarkSamples) throws -> Void)?

    init(stream: JSONStream, file: String) {
        self.stream = stream
        self.file = file
    }

    func pathText(_ extra: PathPart? = nil) -> String {
        var s = "$"
        for p in path + (extra.map { [$0] } ?? []) {
            switch p {
            case .key(let k): s += "." + k
            case .index(let i): s += "[\(i)]"
            }
        }
        return s
    }

    func fail(_ what: String, at extra: PathPart? = nil) -> BenchError {
        BenchError("\(file): \(pathText(extra)): \(what); nothing was imported")
    }

    func fail(at savedPath: String, _ what: String) -> BenchError {
        BenchError("\(file): \(savedPath): \(what); nothing was imported")
    }

    // MARK: typed values at the current path

    mutating func object(_ body: (inout DocumentReader, String) throws -> Void) throws {
        guard try stream.peek() == UInt8(ascii: "{") else { throw fail("expected an object, found \(try stream.kindOfNext())") }
        try stream.beginObject()
        var first = true
        while let key = try stream.nextKey(first: &first) {
            path.append(.key(key))
            try body(&self, key)
            path.removeLast()
        }
    }

    mutating func array(_ body: (inout DocumentReader, Int) throws -> Void) throws {
        guard try stream.peek() == UInt8(ascii: "[") else { throw fail("expected an array, found \(try stream.kindOfNext())") }
        try stream.beginArray()
        var first = true
        var i = 0
        while try stream.nextElement(first: &first) {
            path.append(.index(i))
            try body(&self, i)
            path.removeLast()
            i += 1
        }
    }

    func string() throws -> String {
        guard try stream.peek() == UInt8(ascii: "\"") else { throw fail("expected a string, found \(try stream.kindOfNext())") }
        return try stream.readString()
    }

    /// A string, or nil for null.
    func optionalString() throws -> String? { try stream.readNull() ? nil : string() }

    func number() throws -> Double {
        guard let b = try stream.peek(), b == UInt8(ascii: "-") || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) else {
            throw fail("expected a number, found \(try stream.kindOfNext())")
        }
        let x = try stream.readNumber()
        guard x.isFinite else { throw fail("expected a finite number, found \(x)") }
        return x
    }

    func optionalNumber() throws -> Double? { try stream.readNull() ? nil : number() }

    func bool() throws -> Bool {
        guard let v = try stream.readBool() else { throw fail("expected a boolean, found \(try stream.kindOfNext())") }
        return v
    }

    func optionalBool() throws -> Bool? { try stream.readNull() ? nil : bool() }

    /// A non-empty array of non-negative finite numbers, each multiplied by `scale` (after
    /// the checks, which see the values as written): the hot path of every import.
    func samples(scale: Double = 1) throws -> [Double] {
        guard try stream.peek() == UInt8(ascii: "[") else { throw fail("expected an array, found \(try stream.kindOfNext())") }
        try stream.beginArray()
        var out: [Double] = []
        out.reserveCapacity(64)
        var first = true
        while try stream.nextElement(first: &first) {
            guard let b = try stream.peek(), b == UInt8(ascii: "-") || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) else {
                throw fail("expected a number, found \(try stream.kindOfNext())", at: .index(out.count))
            }
            let x = try stream.readNumber()
            guard x.isFinite else { throw fail("expected a finite number, found \(x)", at: .index(out.count)) }
            guard x >= 0 else { throw fail("a time cannot be negative (\(x))", at: .index(out.count)) }
            out.append(x * scale)
        }
        if out.isEmpty { throw fail("no samples (empty array)") }
        return out
    }

    // MARK: the document

    /// A row of `benchmarks` (pytest-benchmark and Google Benchmark share the key).
    struct Row {
        /// Index in `benchmarks`: the JSON path is built only for a message.
        var index: Int
        var path: String { "$.benchmarks[\(index)]" }
        var name: String?
        var fullname: String?
        var runName: String?
        var runType: String?
        var errorOccurred: Bool?
        var realTime: Double?
        var cpuTime: Double?
        var timeUnit: String?
        var iterations: Double?
        var hasStats = false
        var data: [Double]?
        var statsIterations: Double?
    }

    struct HyperfineResult {
        var index: Int
        var path: String { "$.results[\(index)]" }
        var command: String?
        /// In ns (scaled as read).
        var times: [Double]?
        var user: Double?
        var system: Double?
        var memory: [Double]?
    }

    mutating func read(format forced: ImportFormat?) throws -> ImportedRun {
        var results: [HyperfineResult]?
        var rows: [Row]?
        var hasContext = false
        var context: (host: String?, cpus: Double?, build: String?) = (nil, nil, nil)
        var machineInfo: MachineFingerprint?
        var hasMachineInfo = false
        var commit: SourceRevision?
        var hasCommitInfo = false
        var timestamp: String?
        var streamedResults = false
        guard try stream.peek() != nil else { throw JSONSyntaxError(offset: stream.offset, message: "empty file") }
        try object { r, key in
            switch key {
            case "results":
                var list: [HyperfineResult] = []
                let streaming = r.emit != nil && (forced == nil || forced == .hyperfine)
                var streamed = 0
                try r.array { r, i in
                    let result = try r.hyperfineResult(i)
                    if streaming, let emit = r.emit {
                        for series in try r.hyperfineSeries(result) { try emit(series) }
                        streamed += 1
                    } else {
                        list.append(result)
                    }
                }
                results = list
                if streaming {
                    if streamed == 0 { throw r.fail("no results to import") }
                    streamedResults = true
                }
            case "benchmarks":
                var list: [Row] = []
                try r.array { r, i in list.append(try r.benchmarkRow(i)) }
                rows = list
            case "context":
                hasContext = true
                try r.object { r, k in
                    switch k {
                    case "host_name": context.host = try r.optionalString()
                    case "num_cpus": context.cpus = try r.optionalNumber()
                    case "library_build_type": context.build = try r.optionalString()
                    case "date": timestamp = try r.optionalString()
                    default: try r.stream.skipValue()
                    }
                }
            case "machine_info":
                hasMachineInfo = true
                machineInfo = try r.pytestMachine()
            case "commit_info":
                hasCommitInfo = true
                commit = try r.pytestCommit()
            case "datetime":
                timestamp = try r.optionalString()
            default:
                try r.stream.skipValue()
            }
        }
        try stream.expectEnd()
        let chosen: ImportFormat
        if let forced {
            chosen = forced
        } else if results != nil {
            chosen = .hyperfine
        } else if hasContext {
            chosen = .googleBenchmark
        } else if rows != nil && (hasMachineInfo || hasCommitInfo) {
            chosen = .pytestBenchmark
        } else {
            throw BenchError(
                "\(file): not a pytest-benchmark, Google Benchmark or hyperfine JSON file "
                    + "(expected a top-level \"benchmarks\" with \"machine_info\", \"context\", or \"results\"); pass --input-format")
        }
        if streamedResults && chosen != .hyperfine {
            throw BenchError("\(file): has \"results\" (hyperfine) but was read as \(chosen.rawValue); nothing was imported")
        }
        var run =
            streamedResults
            ? ImportedRun(format: .hyperfine, benchmarks: [], revision: nil, machine: nil)
            : try build(chosen, results: results, rows: rows, hasContext: hasContext, context: context, machineInfo: machineInfo, commit: commit)
        run.createdNs = timestamp.flatMap(parseTimestamp)
        return run
    }

    func build(
        _ chosen: ImportFormat, results: [HyperfineResult]?, rows: [Row]?, hasContext: Bool,
        context: (host: String?, cpus: Double?, build: String?), machineInfo: MachineFingerprint?, commit: SourceRevision?
    ) throws -> ImportedRun {
        switch chosen {
        case .hyperfine:
            guard let results else { throw fail("missing", at: .key("results")) }
            return try hyperfine(results)
        case .googleBenchmark:
            guard let rows else { throw fail("missing", at: .key("benchmarks")) }
            let machine =
                hasContext
                ? MachineFingerprint(
                    cpuModel: context.host ?? "unknown", cpuCount: Int(context.cpus ?? 0), memoryBytes: 0, os: "unknown",
                    kernel: "unknown", toolchain: "google-benchmark", buildConfig: context.build ?? "unknown") : nil
            return ImportedRun(format: .googleBenchmark, benchmarks: try google(rows), revision: nil, machine: machine)
        case .pytestBenchmark:
            guard let rows else { throw fail("missing", at: .key("benchmarks")) }
            return ImportedRun(format: .pytestBenchmark, benchmarks: try pytest(rows), revision: commit, machine: machineInfo)
        }
    }

    mutating func hyperfineResult(_ index: Int) throws -> HyperfineResult {
        var r = HyperfineResult(index: index)
        try object { d, key in
            switch key {
            case "command": r.command = try d.string()
            case "times": r.times = try d.stream.readNull() ? nil : d.samples(scale: 1e9)
            case "user": r.user = try d.optionalNumber()
            case "system": r.system = try d.optionalNumber()
            case "memory_usage_byte": r.memory = try d.stream.readNull() ? nil : d.samples()
            default: try d.stream.skipValue()
            }
        }
        return r
    }

    mutating func benchmarkRow(_ index: Int) throws -> Row {
        var row = Row(index: index)
        try object { d, key in
            switch key {
            case "name": row.name = try d.optionalString()
            case "fullname": row.fullname = try d.optionalString()
            case "run_name": row.runName = try d.optionalString()
            case "run_type": row.runType = try d.optionalString()
            case "error_occurred": row.errorOccurred = try d.optionalBool()
            case "real_time": row.realTime = try d.optionalNumber()
            case "cpu_time": row.cpuTime = try d.optionalNumber()
            case "time_unit": row.timeUnit = try d.optionalString()
            case "iterations": row.iterations = try d.optionalNumber()
            case "stats":
                if try d.stream.readNull() { return }
                row.hasStats = true
                try d.object { s, k in
                    switch k {
                    case "data": row.data = try s.stream.readNull() ? nil : s.samples()
                    case "iterations": row.statsIterations = try s.optionalNumber()
                    default: try s.stream.skipValue()
                    }
                }
            default: try d.stream.skipValue()
            }
        }
        return row
    }

    mutating func pytestMachine() throws -> MachineFingerprint? {
        if try stream.readNull() { return nil }
        var cpuModel: String?
        var cpuCount: Double?
        var processor: String?
        var system: String?
        var release: String?
        var implementation: String?
        var version: String?
        try object { d, key in
            switch key {
            case "cpu":
                if try d.stream.readNull() { return }
                try d.object { c, k in
                    switch k {
                    case "brand_raw": cpuModel = try c.optionalString()
                    case "count": cpuCount = try c.optionalNumber()
                    default: try c.stream.skipValue()
                    }
                }
            case "processor": processor = try d.optionalString()
            case "system": system = try d.optionalString()
            case "release": release = try d.optionalString()
            case "python_implementation": implementation = try d.optionalString()
            case "python_version": version = try d.optionalString()
            default: try d.stream.skipValue()
            }
        }
        return MachineFingerprint(
            cpuModel: cpuModel ?? processor ?? "unknown", cpuCount: Int(cpuCount ?? 0), memoryBytes: 0, os: system ?? "unknown",
            kernel: release ?? "unknown", toolchain: "\(implementation ?? "Python") \(version ?? "")", buildConfig: "pytest-benchmark")
    }

    mutating func pytestCommit() throws -> SourceRevision? {
        if try stream.readNull() { return nil }
        var id: String?
        var branch: String?
        var dirty: Bool?
        try object { d, key in
            switch key {
            case "id": id = try d.optionalString()
            case "branch": branch = try d.optionalString()
            case "dirty": dirty = try d.optionalBool()
            default: try d.stream.skipValue()
            }
        }
        return SourceRevision(commit: id, branch: branch, dirty: dirty ?? false)
    }

    // MARK: per format

    /// Names must be unique within a file; checked on sorted names (cheaper than hashing
    /// 60,000 of them).
    func unique(_ benchmarks: [BenchmarkSamples]) throws {
        let names = benchmarks.map(\.name).sorted()
        for i in names.indices.dropFirst() where names[i] == names[i - 1] {
            throw BenchError("\(file): $: benchmark \"\(names[i])\" appears twice; nothing was imported")
        }
    }

    func hyperfine(_ results: [HyperfineResult]) throws -> ImportedRun {
        var out: [BenchmarkSamples] = []
        for r in results { out += try hyperfineSeries(r) }
        if out.isEmpty { throw fail("no results to import", at: .key("results")) }
        try unique(out)
        return ImportedRun(format: .hyperfine, benchmarks: out, revision: nil, machine: nil)
    }

    /// One hyperfine result: wall times, then [user], [sys], [peak RSS] when present.
    func hyperfineSeries(_ r: HyperfineResult) throws -> [BenchmarkSamples] {
        var out: [BenchmarkSamples] = []
        do {
            guard let command = r.command else { throw fail(at: r.path + ".command", "missing") }
            guard let times = r.times else { throw fail(at: r.path + ".times", "missing") }
            let name = "hyperfine/\(command)"
            out.append(.onePerProcess(name: name, unit: "ns", samples: times))
            if let user = r.user {
                guard user >= 0 else { throw fail(at: r.path + ".user", "a time cannot be negative (\(user))") }
                out.append(BenchmarkSamples(name: "\(name) [user]", unit: "ns", samples: [user * 1e9]))
            }
            if let system = r.system {
                guard system >= 0 else { throw fail(at: r.path + ".system", "a time cannot be negative (\(system))") }
                out.append(BenchmarkSamples(name: "\(name) [sys]", unit: "ns", samples: [system * 1e9]))
            }
            if let memory = r.memory {
                out.append(.onePerProcess(name: "\(name) [peak RSS]", unit: "B", samples: memory))
            }
        }
        return out
    }

    /// Repetitions of one process: each `iteration` row is one sample of real and CPU time.
    func google(_ rows: [Row]) throws -> [BenchmarkSamples] {
        var order: [String] = []
        var real: [String: [Double]] = [:]
        var cpu: [String: [Double]] = [:]
        var batches: [String: Int] = [:]
        for row in rows {
            let runType = row.runType ?? "iteration"
            if runType != "iteration" { continue }
            if row.errorOccurred == true { continue }
            guard let name = row.runName ?? row.name else { throw fail(at: row.path + ".name", "missing") }
            guard let time = row.realTime else { throw fail(at: row.path + ".real_time", "missing") }
            let scale: Double
            switch row.timeUnit ?? "ns" {
            case "ns": scale = 1
            case "us": scale = 1e3
            case "ms": scale = 1e6
            case "s": scale = 1e9
            case let other: throw fail(at: row.path + ".time_unit", "unknown time unit \"\(other)\" (expected ns, us, ms or s)")
            }
            guard time >= 0 else { throw fail(at: row.path + ".real_time", "a time cannot be negative (\(time))") }
            let key = "gbench/\(name)"
            if real[key] == nil { order.append(key) }
            real[key, default: []].append(time * scale)
            if let c = row.cpuTime, c >= 0 { cpu[key, default: []].append(c * scale) }
            batches[key] = max(1, Int(row.iterations ?? 1))
        }
        if order.isEmpty { throw fail("no iteration rows to import", at: .key("benchmarks")) }
        var out: [BenchmarkSamples] = []
        for key in order {
            out.append(BenchmarkSamples(name: key, unit: "ns", samples: real[key]!, batch: batches[key] ?? 1))
            if let c = cpu[key], c.count == real[key]!.count {
                out.append(BenchmarkSamples(name: "\(key) [cpu]", unit: "ns", samples: c, batch: batches[key] ?? 1))
            }
        }
        return out
    }

    func pytest(_ rows: [Row]) throws -> [BenchmarkSamples] {
        var out: [BenchmarkSamples] = []
        for row in rows {
            guard let name = row.fullname ?? row.name else { throw fail(at: row.path + ".name", "missing") }
            guard row.hasStats else { throw fail(at: row.path + ".stats", "missing") }
            guard let data = row.data else {
                throw fail(at: row.path + ".stats", "no raw samples (\"data\"); run pytest with --benchmark-json (it keeps them)")
            }
            let iterations = max(1, Int(row.statsIterations ?? 1))
            out.append(BenchmarkSamples(name: "pytest/\(name)", unit: "ns", samples: data.map { $0 * 1e9 }, batch: iterations))
        }
        try unique(out)
        return out
    }
}

/// Parsed benchmarks on their way to the store, with their medians.
struct ImportBatch {
    var benchmarks: [BenchmarkSamples] = []
    var medians: [Double] = []

    init() {
        benchmarks.reserveCapacity(BatchQueue.batchSize)
        medians.reserveCapacity(BatchQueue.batchSize)
    }

    mutating func append(_ b: BenchmarkSamples) {
        benchmarks.append(b)
        // Statistics.median, on a copy in a temporary buffer instead of a new array.
        medians.append(
            b.samples.withUnsafeBufferPointer { s in
                withUnsafeTemporaryAllocation(of: Double.self, capacity: s.count) { tmp in
                    _ = tmp.initialize(fromContentsOf: s)
                    return Self.median(tmp)
                }
            })
    }

    /// `Statistics.median` of `a` (reordered). Up to 64 values (hyperfine's usual runs), by
    /// a quickselect whose partition step has no data-dependent branch (Lomuto, always
    /// swapping): on random times the branches of a Hoare partition are mispredicted about
    /// half of the time. (Lomuto is quadratic on many equal values: hence the limit.) The
    /// same two middle values, so the same result (`NumberParsingTests.fastMedian…`).
    static func median(_ a: UnsafeMutableBufferPointer<Double>) -> Double {
        let n = a.count
        if n > 64 { return Statistics.medianInPlace(a) }
        if n == 0 { return .nan }
        if n == 1 { return a[0] }
        let k = n / 2
        var lo = 0
        var hi = n - 1
        while hi > lo {
            // Median of three as the pivot, moved to the end.
            let mid = lo + (hi - lo) / 2
            if a[mid] < a[lo] { a.swapAt(mid, lo) }
            if a[hi] < a[lo] { a.swapAt(hi, lo) }
            if a[mid] < a[hi] { a.swapAt(mid, hi) }
            let pivot = a[hi]
            var store = lo
            for i in lo..<hi {
                let v = a[i]
                a[i] = a[store]
                a[store] = v
                store += v < pivot ? 1 : 0
            }
            a.swapAt(store, hi)
            if store == k { break }
            if store < k { lo = store + 1 } else { hi = store - 1 }
        }
        let upper = a[k]
        if n % 2 == 1 { return upper }
        // Everything before k is <= a[k]: the lower middle is their max.
        var lower = a[0]
        for i in 1..<k where a[i] > lower { lower = a[i] }
        return (lower + upper) / 2
    }
}

/// A bounded hand-over of batches from the parsing thread to the writing thread, and of
/// the written ones back, to be freed where they were made (one producer, one consumer).
final class BatchQueue: Sendable {
    static let batchSize = 256
    /// Up to 16,384 benchmarks ahead: room for what is parsed while the store opens.
    private static let limit = 64

    private struct State {
        var batches: [ImportBatch] = []
        var spent: [ImportBatch] = []
        var outcome: Result<ImportedRun, Error>?
        var cancelled = false
    }

    private let state = Monitor(State())

    /// False when the consumer gave up: the producer stops.
    func push(_ batch: ImportBatch) -> Bool {
        var done: [ImportBatch] = []
        defer { done.removeAll() }  // freed here, outside the lock
        state.withLock { swap(&done, &$0.spent) }
        let open = state.wait { s -> Bool? in s.cancelled ? false : (s.batches.count < Self.limit ? true : nil) }
        guard open else { return false }
        return state.update { s in
            guard !s.cancelled else { return false }
            s.batches.append(batch)
            return true
        }
    }

    /// A consumed batch, handed back to be freed by the producer.
    func recycle(_ batch: consuming ImportBatch) {
        let batch = batch
        state.withLock { $0.spent.append(batch) }
    }

    /// The next batch, or nil when the producer finished and everything was taken.
    func pop() -> ImportBatch? {
        _ = state.wait { s -> Bool? in !s.batches.isEmpty || s.outcome != nil ? true : nil }
        return state.update { s in s.batches.isEmpty ? nil : s.batches.removeFirst() }
    }

    func finish(_ result: Result<ImportedRun, Error>) {
        state.update { $0.outcome = result }
    }

    func cancel() {
        state.update { s in
            s.cancelled = true
            s.batches.removeAll()
        }
    }

    func waitForOutcome() -> Result<ImportedRun, Error> {
        state.wait { $0.outcome }
    }
}
