#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum StandardStream {
    /// Writes all of `text` to a file descriptor (1: stdout, 2: stderr), retrying short
    /// writes; a closed pipe ends the attempt quietly.
    public static func writeAll(_ text: String, to fd: Int32) {
        var text = text
        text.withUTF8 { writeAll(UnsafeRawBufferPointer($0), to: fd) }
    }

    /// Writes all of `bytes` (encoded JSON, say) the same way.
    public static func writeAll(bytes: some Collection<UInt8>, to fd: Int32) {
        if bytes.withContiguousStorageIfAvailable({ writeAll(UnsafeRawBufferPointer($0), to: fd) }) == nil {
            Array(bytes).withUnsafeBytes { writeAll($0, to: fd) }
        }
    }

    private static func writeAll(_ bytes: UnsafeRawBufferPointer, to fd: Int32) {
        var done = 0
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 { if errno == EINTR { continue }; return }
            done += n
        }
    }
}

/// One line of progress on stderr for long work: shown only when stderr is a terminal,
/// only once the work has taken a second, at most ten times a second, and erased when the
/// work is done, so logs and pipes never see it.
public final class ProgressLine: @unchecked Sendable {
    private let tool: String
    /// Whether anything can show (stderr is a terminal, not `--quiet`): callers skip the
    /// counting behind `report` when it cannot.
    public let enabled: Bool
    private let started = MonotonicClock.nanoseconds()
    private let delay: UInt64
    private let lock = Monitor(State())

    private struct State {
        var lastShown: UInt64 = 0
        var shown = false
    }

    /// `quiet`: never show anything. `after`: how long the work runs before the line shows.
    public init(tool: String, quiet: Bool = false, after seconds: Double = 1) {
        self.tool = tool
        let term = getenv("TERM").map { String(cString: $0) } ?? ""
        enabled = !quiet && isatty(2) != 0 && term != "dumb"
        delay = UInt64(seconds * 1e9)
    }

    /// A line that never shows.
    public static let off = ProgressLine(tool: "", quiet: true)

    /// A bar for `index` of `total` steps and what is being done.
    public func update(_ index: Int, of total: Int, _ name: String) {
        report({
            let width = 24
            let filled = total == 0 ? width : width * min(index, total) / total
            return String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled) + " \(index)/\(total) \(name)"
        }())
    }

    /// Shows `text` (made only when it is shown) if the work has run for a second and the
    /// line was not updated in the last 100 ms.
    public func report(_ text: @autoclosure () -> String) {
        guard enabled else { return }
        let now = MonotonicClock.nanoseconds()
        guard now - started >= delay else { return }
        let due: Bool = lock.withLock { s in
            guard now - s.lastShown >= 100_000_000 else { return false }
            s.lastShown = now
            s.shown = true
            return true
        }
        if due { StandardStream.writeAll("\r\u{1B}[K\(tool): \(text())", to: 2) }
    }

    /// Erases the line if it was shown.
    public func finish() {
        guard enabled else { return }
        if lock.withLock({ $0.shown }) { StandardStream.writeAll("\r\u{1B}[K", to: 2) }
    }
}
