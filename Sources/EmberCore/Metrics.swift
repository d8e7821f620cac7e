import EmberUtils
import Synchronization
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

/// One module execution, as the guide's `OperatorMetrics` records it.
public struct OperatorMetrics: Sendable, Codable, Equatable {
    public var name: String
    public var executionTimeNs: UInt64
    public var inputSizeBytes: Int
    public var outputSizeBytes: Int
    public var cacheHit: Bool
    /// `"basic"` or `"advanced"` when the call went through `jit`.
    public var jitStrategy: String?
    /// Wall-clock nanoseconds since the Unix epoch.
    public var timestampNs: UInt64

    public init(
        name: String, executionTimeNs: UInt64, inputSizeBytes: Int, outputSizeBytes: Int,
        cacheHit: Bool, jitStrategy: String?, timestampNs: UInt64
    ) {
        self.name = name
        self.executionTimeNs = executionTimeNs
        self.inputSizeBytes = inputSizeBytes
        self.outputSizeBytes = outputSizeBytes
        self.cacheHit = cacheHit
        self.jitStrategy = jitStrategy
        self.timestampNs = timestampNs
    }
}

/// Values that know their payload size; others are measured by their inline layout.
public protocol MetricSized {
    var metricSizeBytes: Int { get }
}

extension String: MetricSized {
    public var metricSizeBytes: Int { utf8.count }
}

extension Array: MetricSized {
    public var metricSizeBytes: Int { count * MemoryLayout<Element>.stride }
}

/// How a module sizes its input or output for metrics. Chosen once per module from the
/// static type, so a recorded call costs no dynamic cast for the common cases.
public enum MetricSize: Sendable, Equatable {
    case string
    case sized  // conforms to MetricSized: ask the value
    case fixed(Int)  // anything else: its inline layout

    public static func strategy<T>(for type: T.Type) -> MetricSize {
        if type == String.self { return .string }
        if type is MetricSized.Type { return .sized }
        return .fixed(MemoryLayout<T>.size)
    }

    @inlinable
    public func of<T>(_ value: T) -> Int {
        switch self {
        case .string: return unsafeBitCast(value, to: String.self).utf8.count
        case .sized: return (value as! MetricSized).metricSizeBytes
        case .fixed(let n): return n
        }
    }
}

/// The size of any value, for call sites without a precomputed strategy.
public func estimatedSizeOf<T>(_ value: T) -> Int {
    MetricSize.strategy(for: T.self).of(value)
}

/// The process-wide bounded buffer of `OperatorMetrics`.
///
/// Off by default. When on, each module call appends one record under a lock; when the
/// buffer holds `capacity` records the oldest is overwritten (a ring), so memory is bounded
/// whatever the call rate. `drain()` hands the records to an exporter.
public final class MetricsRecorder: Sendable {
    public static let shared = MetricsRecorder(capacity: 10_000)

    public let capacity: Int
    private let enabled = Atomic<Bool>(false)
    private let ring: Mutex<Ring>

    struct Ring {
        var slots: [OperatorMetrics?]
        var next = 0  // where the next record goes
        var count = 0
        var dropped: UInt64 = 0
    }

    /// Wall-clock minus monotonic time when the recorder was made: a record's timestamp is
    /// its monotonic end time shifted by this, which saves a second clock read per call.
    private let wallMinusMonotonic: UInt64

    public init(capacity: Int) {
        precondition(capacity > 0, "a metrics buffer needs room for at least one record")
        self.capacity = capacity
        wallMinusMonotonic = WallClock.nanosecondsSinceEpoch() &- MonotonicClock.nanoseconds()
        ring = Mutex(Ring(slots: Array(repeating: nil, count: capacity)))
    }

    @inline(__always)
    public var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    public func setEnabled(_ on: Bool) { enabled.store(on, ordering: .relaxed) }

    /// Wall-clock nanoseconds since the epoch for a `MonotonicClock` reading.
    @inline(__always)
    public func wallClock(atMonotonic ns: UInt64) -> UInt64 { ns &+ wallMinusMonotonic }

    public func record(_ m: OperatorMetrics) {
        ring.withLock { r in
            r.slots[r.next] = m
            r.next = (r.next + 1) % capacity
            if r.count < capacity { r.count += 1 } else { r.dropped += 1 }
        }
    }

    /// Records overwritten before anyone drained them.
    public var droppedCount: UInt64 { ring.withLock { $0.dropped } }

    public var count: Int { ring.withLock { $0.count } }

    /// The buffered records, oldest first, without removing them.
    public func snapshot() -> [OperatorMetrics] {
        ring.withLock { r in Self.ordered(r, capacity: capacity) }
    }

    /// Removes and returns the buffered records, oldest first.
    public func drain() -> [OperatorMetrics] {
        ring.withLock { r in
            let out = Self.ordered(r, capacity: capacity)
            for i in r.slots.indices { r.slots[i] = nil }
            r.count = 0
            r.next = 0
            return out
        }
    }

    private static func ordered(_ r: Ring, capacity: Int) -> [OperatorMetrics] {
        var out: [OperatorMetrics] = []
        out.reserveCapacity(r.count)
        let start = (r.next - r.count + capacity) % capacity
        for k in 0..<r.count {
            if let m = r.slots[(start + k) % capacity] { out.append(m) }
        }
        return out
    }
}

/// Where exported metrics go.
public protocol MetricsSink: Sendable {
    func export(_ batch: [OperatorMetrics]) throws
}

/// Appends each record as one JSON object per line. Each batch goes out in one `write` to
/// a file opened with `O_APPEND`, so batches of concurrent exporters never interleave.
public final class JSONLinesMetricsSink: MetricsSink {
    public let url: URL
    private let descriptor: Mutex<Int32>

    public init(url: URL) throws {
        self.url = url
        let fd = open(url.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw EmberError.invalidConfiguration(
                key: "metrics.path", message: "cannot open \(url.path) for appending (\(reason)): check the folder exists and is writable")
        }
        descriptor = Mutex(fd)
    }

    public func export(_ batch: [OperatorMetrics]) throws {
        guard !batch.isEmpty else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var bytes: [UInt8] = []
        for m in batch {
            bytes.append(contentsOf: try encoder.encode(m))
            bytes.append(0x0A)
        }
        let failure: Int32? = descriptor.withLock { fd in
            bytes.withUnsafeBytes { buffer -> Int32? in
                var done = 0
                while done < buffer.count {
                    let n = write(fd, buffer.baseAddress! + done, buffer.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        return errno
                    }
                    done += n
                }
                return nil
            }
        }
        if let code = failure {
            throw EmberError.invalidConfiguration(
                key: "metrics.path", message: "cannot write to \(url.path): \(String(cString: strerror(code)))")
        }
    }

    deinit {
        descriptor.withLock { _ = close($0) }
    }
}

/// Drains a recorder into a sink every `interval`, off the calling tasks.
public final class MetricsExporter: Sendable {
    private let recorder: MetricsRecorder
    private let sink: any MetricsSink
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)
    private let errors = Mutex<[String]>([])

    public init(recorder: MetricsRecorder = .shared, sink: any MetricsSink) {
        self.recorder = recorder
        self.sink = sink
    }

    /// Starts the background loop; calling it twice keeps one loop.
    public func start(interval: Duration = .seconds(1)) {
        task.withLock { t in
            guard t == nil else { return }
            t = Task.detached { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    self?.flush()
                }
            }
        }
    }

    /// Exports whatever is buffered now.
    public func flush() {
        let batch = recorder.drain()
        do { try sink.export(batch) } catch {
            errors.withLock { $0.append("\(error)") }
        }
    }

    /// Stops the loop and exports what is left.
    public func stop() {
        task.withLock { t in
            t?.cancel()
            t = nil
        }
        flush()
    }

    /// Export failures so far (an exporter never throws into module calls).
    public var exportErrors: [String] { errors.withLock { $0 } }
}
