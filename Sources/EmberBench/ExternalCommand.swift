import EmberUtils
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One timed execution of an external command.
public struct CommandMeasurement: Sendable, Equatable {
    public var wallNs: Double
    public var userNs: Double
    public var systemNs: Double
    /// Peak resident set size in bytes (ru_maxrss).
    public var peakRSSBytes: Double
    public var exitStatus: Int32
}

/// Times whole commands the way hyperfine does: fork/exec, wall time on the monotonic
/// clock, user/sys time and peak RSS from wait4's rusage.
public struct ExternalCommand: Sendable {
    public var arguments: [String]
    public var showOutput: Bool

    public init(arguments: [String], showOutput: Bool = false) {
        self.arguments = arguments
        self.showOutput = showOutput
    }

    /// A command line given as one string runs under `/bin/sh -c`, as hyperfine does.
    public static func shell(_ commandLine: String) -> ExternalCommand {
        ExternalCommand(arguments: ["/bin/sh", "-c", commandLine])
    }

    public var displayName: String {
        if arguments.count == 3 && arguments[0] == "/bin/sh" && arguments[1] == "-c" { return arguments[2] }
        return arguments.joined(separator: " ")
    }

    public func runOnce() throws -> CommandMeasurement {
        guard let program = arguments.first else { throw BenchError("no command given after --") }
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        if !showOutput {
            posix_spawn_file_actions_addopen(&fileActions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&fileActions, 2, "/dev/null", O_WRONLY, 0)
        }
        posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        let cArgs: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let start = MonotonicClock.nanoseconds()
        let rc = posix_spawnp(&pid, program, &fileActions, nil, cArgs, environ)
        if rc != 0 {
            throw BenchError("cannot run \(program): \(String(cString: strerror(rc))); check the command and PATH")
        }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            if errno != EINTR { throw BenchError("waiting for \(program) failed: \(String(cString: strerror(errno)))") }
        }
        let wall = MonotonicClock.nanoseconds() &- start
        let exit: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        func ns(_ t: timeval) -> Double { Double(t.tv_sec) * 1e9 + Double(t.tv_usec) * 1e3 }
        return CommandMeasurement(
            wallNs: Double(wall), userNs: ns(usage.ru_utime), systemNs: ns(usage.ru_stime),
            peakRSSBytes: Double(usage.ru_maxrss) * 1024, exitStatus: exit)
    }

    /// Warm-up runs, then `runs` timed runs. A failing command is an error unless
    /// `ignoreFailure` (as hyperfine's `-i`).
    public func measure(
        runs: Int, warmup: Int, ignoreFailure: Bool = false, name: String? = nil,
        progress: ProgressLine = ProgressLine(enabled: false)
    ) throws -> [BenchmarkSamples] {
        var measurements: [CommandMeasurement] = []
        for i in 0..<(warmup + runs) {
            progress.update(i, of: warmup + runs, displayName)
            let m = try runOnce()
            if m.exitStatus != 0 && !ignoreFailure {
                throw BenchError(
                    "command `\(displayName)` exited with status \(m.exitStatus); fix it or pass --ignore-failure")
            }
            if i >= warmup { measurements.append(m) }
        }
        progress.finish()
        return Self.samples(name: name ?? "command/\(displayName)", measurements)
    }

    /// Wall time plus user, sys and peak RSS as sibling benchmarks.
    static func samples(name: String, _ ms: [CommandMeasurement]) -> [BenchmarkSamples] {
        [
            BenchmarkSamples(name: name, unit: "ns", samples: ms.map(\.wallNs)),
            BenchmarkSamples(name: "\(name) [user]", unit: "ns", samples: ms.map(\.userNs)),
            BenchmarkSamples(name: "\(name) [sys]", unit: "ns", samples: ms.map(\.systemNs)),
            BenchmarkSamples(name: "\(name) [peak RSS]", unit: "B", samples: ms.map(\.peakRSSBytes)),
        ]
    }

    /// Runs `a` and `b` alternately (ABAB…) so machine drift hits both equally.
    public static func interleave(
        _ a: ExternalCommand, _ b: ExternalCommand, runs: Int, warmup: Int, ignoreFailure: Bool = false,
        progress: ProgressLine = ProgressLine(enabled: false)
    ) throws -> (a: [CommandMeasurement], b: [CommandMeasurement]) {
        var ma: [CommandMeasurement] = []
        var mb: [CommandMeasurement] = []
        let total = warmup + runs
        for i in 0..<total {
            progress.update(i, of: total, "A/B")
            for (cmd, isA) in [(a, true), (b, false)] {
                let m = try cmd.runOnce()
                if m.exitStatus != 0 && !ignoreFailure {
                    throw BenchError(
                        "command `\(cmd.displayName)` exited with status \(m.exitStatus); fix it or pass --ignore-failure")
                }
                if i >= warmup {
                    if isA { ma.append(m) } else { mb.append(m) }
                }
            }
        }
        progress.finish()
        return (ma, mb)
    }
}
