import EmberUtils
import EmberProject
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

/// A pipe whose ends are closed on exec (posix_spawn's dup2 onto fd 3 clears the flag there).
func cloexecPipe(_ fds: inout [Int32]) -> Bool {
    guard pipe(&fds) == 0 else { return false }
    _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
    return true
}

/// One timed execution of an external command.
public struct CommandMeasurement: Sendable, Equatable {
    public var wallNs: Double
    public var userNs: Double
    public var systemNs: Double
    /// The command's own peak resident set size in bytes; nil when it cannot be told
    /// apart from ember-bench's (no helper).
    public var peakRSSBytes: Double?
    public var exitStatus: Int32
}

/// Times whole commands the way hyperfine does: wall time on the monotonic clock,
/// user/sys time and peak RSS from wait4's rusage of the command itself.
///
/// Linux records a process's peak RSS at exec from the memory it replaces; a child
/// spawned straight from ember-bench (vfork or fork) therefore reports ember-bench's
/// own peak (20 MiB for `sleep 0.01`, whose own is 1.7 MB). So the command is started
/// by a small helper, `ember-bench-spawn` (C, installed next to ember-bench), which
/// forks, execs the command, times it, and reports wait4's rusage on a pipe. Without it
/// ember-bench's own binary serves (`__measure-child`, a floor of about 3 MB under the
/// peak); without any helper (library use) no peak RSS is recorded.
public struct ExternalCommand: Sendable {
    public var arguments: [String]
    public var showOutput: Bool
    /// An ember-bench executable to start the command from; see the type's note.
    public var helper: String?

    public init(arguments: [String], showOutput: Bool = false, helper: String? = ExternalCommand.defaultHelper) {
        self.arguments = arguments
        self.showOutput = showOutput
        self.helper = helper
    }

    /// `ember-bench-spawn` next to this executable (a few hundred KB: the command's peak
    /// is its own); else this process's executable when it is ember-bench (its helper mode
    /// forks at about 3 MB, a floor under small commands' peaks); else none.
    public static var defaultHelper: String? {
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        let dir = ProjectPath.parent(exe)
        let spawn = ProjectPath.join(dir, "ember-bench-spawn")
        if FileManager.default.isExecutableFile(atPath: spawn) { return spawn }
        return ProjectPath.lastComponent(exe) == "ember-bench" ? exe : nil
    }

    /// The arguments that start `arguments` through `helper`.
    func helperArguments(_ helper: String) -> [String] {
        ProjectPath.lastComponent(helper) == "ember-bench-spawn"
            ? [helper, "--"] + arguments : [helper, "__measure-child", "--"] + arguments
    }

    /// A command line given as one string runs under `/bin/sh -c`, as hyperfine does.
    public static func shell(_ commandLine: String) -> ExternalCommand {
        ExternalCommand(arguments: ["/bin/sh", "-c", commandLine])
    }

    public var displayName: String {
        if arguments.count == 3 && arguments[0] == "/bin/sh" && arguments[1] == "-c" { return arguments[2] }
        return arguments.joined(separator: " ")
    }

    static func ns(_ t: timeval) -> Double { Double(t.tv_sec) * 1e9 + Double(t.tv_usec) * 1e3 }

    static func exitStatus(_ status: Int32) -> Int32 {
        (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
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
        var report: [Int32] = [-1, -1]
        let argv: [String]
        if let helper {
            guard cloexecPipe(&report) else { throw BenchError("cannot create a pipe: \(String(cString: strerror(errno)))") }
            posix_spawn_file_actions_adddup2(&fileActions, report[1], 3)
            argv = helperArguments(helper)
        } else {
            argv = arguments
        }
        defer {
            if report[0] >= 0 { close(report[0]) }
        }
        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let start = MonotonicClock.nanoseconds()
        let rc = posix_spawnp(&pid, argv[0], &fileActions, nil, cArgs, environ)
        if report[1] >= 0 {
            close(report[1])
            report[1] = -1
        }
        if rc != 0 {
            throw BenchError("cannot run \(argv[0]): \(String(cString: strerror(rc))); check the command and PATH")
        }
        var text = ""
        if helper != nil {
            var buffer = [UInt8](repeating: 0, count: 512)
            var bytes: [UInt8] = []
            while true {
                let n = read(report[0], &buffer, buffer.count)
                if n > 0 { bytes += buffer[0..<n] } else if n < 0 && errno == EINTR { continue } else { break }
            }
            text = String(decoding: bytes, as: UTF8.self)
        }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            if errno != EINTR { throw BenchError("waiting for \(program) failed: \(String(cString: strerror(errno)))") }
        }
        let wall = MonotonicClock.nanoseconds() &- start
        guard helper != nil else {
            return CommandMeasurement(
                wallNs: Double(wall), userNs: Self.ns(usage.ru_utime), systemNs: Self.ns(usage.ru_stime), peakRSSBytes: nil,
                exitStatus: Self.exitStatus(status))
        }
        let fields = text.split(separator: " ").map(String.init)
        if fields.first == "exec-failed", fields.count >= 2, let e = Int32(fields[1]) {
            throw BenchError("cannot run \(program): \(String(cString: strerror(e))); check the command and PATH")
        }
        guard fields.count == 6, fields[0] == "ok", let w = Double(fields[1]), let u = Double(fields[2]),
            let s = Double(fields[3]), let rss = Double(fields[4]), let code = Int32(fields[5])
        else {
            throw BenchError(
                "the measuring helper \(argv[0]) exited with status \(Self.exitStatus(status)) without a report; "
                    + "is it an ember-bench build?")
        }
        return CommandMeasurement(wallNs: w, userNs: u, systemNs: s, peakRSSBytes: rss, exitStatus: code)
    }

    /// `ember-bench __measure-child -- PROGRAM ARGS…`: fork while small, exec the
    /// command, wait4 it, write "ok WALL_NS USER_NS SYS_NS PEAK_RSS_BYTES STATUS" to fd 3
    /// (or "exec-failed ERRNO"). Call it first thing in main.
    public static func helperMain(_ arguments: [String]) -> Never {
        func say(_ text: String) {
            var bytes = Array(text.utf8)
            _ = write(3, &bytes, bytes.count)
        }
        guard !arguments.isEmpty else {
            say("usage")
            exit(2)
        }
        let cArgs: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        // A close-on-exec pipe tells an exec failure from a command that ran.
        var failure: [Int32] = [-1, -1]
        _ = cloexecPipe(&failure)
        _ = fcntl(3, F_SETFD, FD_CLOEXEC)
        let start = MonotonicClock.nanoseconds()
        let pid = fork()
        if pid == 0 {
            execvp(cArgs[0]!, cArgs)
            var e = errno
            _ = write(failure[1], &e, MemoryLayout<Int32>.size)
            _exit(127)
        }
        close(failure[1])
        if pid < 0 {
            say("exec-failed \(errno)")
            exit(0)
        }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let wall = MonotonicClock.nanoseconds() &- start
        var e: Int32 = 0
        if read(failure[0], &e, MemoryLayout<Int32>.size) == MemoryLayout<Int32>.size {
            say("exec-failed \(e)")
            exit(0)
        }
        say(
            "ok \(wall) \(Int64(ns(usage.ru_utime))) \(Int64(ns(usage.ru_stime))) \(Int64(usage.ru_maxrss) * 1024) \(exitStatus(status))")
        exit(0)
    }

    /// Warm-up runs, then `runs` timed runs. A failing command is an error unless
    /// `ignoreFailure` (as hyperfine's `-i`).
    public func measure(
        runs: Int, warmup: Int, ignoreFailure: Bool = false, name: String? = nil,
        progress: ProgressLine = .off
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

    /// Wall time plus user, sys and peak RSS as sibling series; every run of a command
    /// is its own process, so each sample is one process-level observation.
    public static func samples(name: String, _ ms: [CommandMeasurement]) -> [BenchmarkSamples] {
        var out = [
            BenchmarkSamples.onePerProcess(name: name, unit: "ns", samples: ms.map(\.wallNs)),
            BenchmarkSamples.onePerProcess(name: "\(name) [user]", unit: "ns", samples: ms.map(\.userNs)),
            BenchmarkSamples.onePerProcess(name: "\(name) [sys]", unit: "ns", samples: ms.map(\.systemNs)),
        ]
        let rss = ms.compactMap(\.peakRSSBytes)
        if rss.count == ms.count && !rss.isEmpty {
            out.append(BenchmarkSamples.onePerProcess(name: "\(name) [peak RSS]", unit: "B", samples: rss))
        }
        return out
    }

    /// Runs `a` and `b` alternately (A B, B A, A B, …) so machine drift hits both equally.
    public static func interleave(
        _ a: ExternalCommand, _ b: ExternalCommand, runs: Int, warmup: Int, ignoreFailure: Bool = false,
        progress: ProgressLine = .off
    ) throws -> (a: [CommandMeasurement], b: [CommandMeasurement]) {
        var ma: [CommandMeasurement] = []
        var mb: [CommandMeasurement] = []
        let total = warmup + runs
        for i in 0..<total {
            progress.update(i, of: total, "A/B")
            let order = i % 2 == 0 ? [(a, true), (b, false)] : [(b, false), (a, true)]
            for (cmd, isA) in order {
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
