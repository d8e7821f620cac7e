#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process run to its end with its output kept: `posix_spawn`, stdin from
/// /dev/null, stdout and stderr on pipes read together with `poll`, so a child that writes
/// much to one of them never blocks on a full pipe.
struct ChildProcess {
    struct Outcome {
        /// The exit status, or 128 + the signal that ended it.
        var status: Int32
        var output: [UInt8]
        var errors: [UInt8]
    }

    /// Runs `argv` (`argv[0]` looked up on PATH when it has no `/`), with `environment`
    /// added to this process's. Throws `StartError` when it cannot be started.
    static func run(_ argv: [String], environment: [String: String] = [:], keepErrors: Bool = true) throws -> Outcome {
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        var out: [Int32] = [-1, -1]
        var err: [Int32] = [-1, -1]
        guard cloexecPipe(&out) else { throw StartError(code: errno) }
        defer { if out[0] >= 0 { close(out[0]) } }
        if keepErrors {
            guard cloexecPipe(&err) else {
                let e = errno
                close(out[1])
                throw StartError(code: e)
            }
        }
        defer { if err[0] >= 0 { close(err[0]) } }
        posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&fileActions, out[1], 1)
        if keepErrors {
            posix_spawn_file_actions_adddup2(&fileActions, err[1], 2)
        } else {
            posix_spawn_file_actions_addopen(&fileActions, 2, "/dev/null", O_WRONLY, 0)
        }
        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var cEnvironment: [UnsafeMutablePointer<CChar>?] = []
        if !environment.isEmpty {
            // This process's variables, less those `environment` sets, then those.
            var entry = environ
            while let pointer = entry.pointee {
                let text = String(cString: pointer)
                let name = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? text
                if environment[name] == nil { cEnvironment.append(strdup(pointer)) }
                entry += 1
            }
            cEnvironment += environment.map { strdup("\($0.key)=\($0.value)") }
            cEnvironment.append(nil)
        }
        defer { for p in cEnvironment { free(p) } }
        var pid: pid_t = 0
        let rc = cEnvironment.isEmpty
            ? posix_spawnp(&pid, argv[0], &fileActions, nil, cArgs, environ)
            : cEnvironment.withUnsafeBufferPointer { env in
                posix_spawnp(&pid, argv[0], &fileActions, nil, cArgs, UnsafeMutablePointer(mutating: env.baseAddress!))
            }
        close(out[1])
        if err[1] >= 0 { close(err[1]) }
        guard rc == 0 else { throw StartError(code: rc) }

        var outcome = Outcome(status: 0, output: [], errors: [])
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var open = [out[0], err[0]].filter { $0 >= 0 }
        while !open.isEmpty {
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            for p in fds where p.revents != 0 {
                let n = read(p.fd, &buffer, buffer.count)
                if n > 0 {
                    if p.fd == out[0] { outcome.output += buffer[0..<n] } else { outcome.errors += buffer[0..<n] }
                } else if n == 0 || errno != EINTR {
                    open.removeAll { $0 == p.fd }
                }
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        outcome.status = ExternalCommand.exitStatus(status)
        return outcome
    }

    /// The child could not be started (errno `code`).
    struct StartError: Error, CustomStringConvertible {
        var code: Int32
        var description: String { String(cString: strerror(code)) }
    }
}
