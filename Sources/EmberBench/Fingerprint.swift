import EmberUtils
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

/// What a timing depends on besides the code: stored runs are compared only with runs
/// whose fingerprint matches.
public struct MachineFingerprint: Sendable, Codable, Equatable {
    public var cpuModel: String
    public var cpuCount: Int
    public var memoryBytes: Int64
    public var os: String
    public var kernel: String
    public var toolchain: String
    public var buildConfig: String

    public init(
        cpuModel: String, cpuCount: Int, memoryBytes: Int64, os: String, kernel: String, toolchain: String,
        buildConfig: String
    ) {
        self.cpuModel = cpuModel
        self.cpuCount = cpuCount
        self.memoryBytes = memoryBytes
        self.os = os
        self.kernel = kernel
        self.toolchain = toolchain
        self.buildConfig = buildConfig
    }

    /// A stable hex digest of every field.
    public var digest: String {
        var h = StableHash()
        h.combine(cpuModel)
        h.combine(UInt64(cpuCount))
        // Memory to the nearest GiB: MemTotal moves by a few kB between kernel builds.
        h.combine(UInt64((Double(memoryBytes) / 1_073_741_824).rounded()))
        h.combine(os)
        h.combine(kernel)
        h.combine(toolchain)
        h.combine(buildConfig)
        return String(h.value, radix: 16)
    }

    public var summary: String {
        let memory = memoryBytes > 0 ? "\(memoryBytes / 1_048_576) MiB" : "memory unknown"
        return "\(cpuModel) ×\(cpuCount), \(memory), \(os), kernel \(kernel), \(toolchain), \(buildConfig)"
    }

    /// This process's machine and build.
    public static func current() -> MachineFingerprint {
        MachineFingerprint(
            cpuModel: cpuModelName(), cpuCount: ProcessInfo.processInfo.activeProcessorCount,
            memoryBytes: Int64(ProcessInfo.processInfo.physicalMemory), os: osName(), kernel: kernelRelease(),
            toolchain: toolchainVersion, buildConfig: buildConfiguration)
    }

    static var buildConfiguration: String {
        #if DEBUG
        return "debug"
        #else
        return "release"
        #endif
    }

    static var toolchainVersion: String {
        #if compiler(>=6.4)
        return "Swift ≥ 6.4"
        #elseif compiler(>=6.3)
        return "Swift 6.3"
        #elseif compiler(>=6.2)
        return "Swift 6.2"
        #else
        return "Swift < 6.2"
        #endif
    }

    static func cpuModelName() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingUnicodeSpaces()
            }
        }
        return "unknown"
    }

    static func osName() -> String {
        if let text = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8) {
            for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
                return line.dropFirst("PRETTY_NAME=".count).trimmed { $0 == "\"" }
            }
        }
        return ProcessInfo.processInfo.operatingSystemVersionString
    }

    static func kernelRelease() -> String {
        var u = utsname()
        uname(&u)
        return withUnsafeBytes(of: &u.release) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}

/// Where the measured code came from.
public struct SourceRevision: Sendable, Codable, Equatable {
    public var commit: String?
    public var branch: String?
    public var dirty: Bool

    public init(commit: String?, branch: String?, dirty: Bool) {
        self.commit = commit
        self.branch = branch
        self.dirty = dirty
    }

    /// Reads git in `directory`; CI variables (GITHUB_HEAD_REF, GITHUB_REF_NAME) name the
    /// branch when the checkout is detached. Two git calls, spawned directly.
    public static func current(directory: String = FileManager.default.currentDirectoryPath) -> SourceRevision {
        let env = ProcessInfo.processInfo.environment
        let heads = git(["rev-parse", "HEAD", "--abbrev-ref", "HEAD"], in: directory)?.split(separator: "\n").map(String.init) ?? []
        let commit = heads.count == 2 ? heads[0] : nil
        var branch = heads.count == 2 ? heads[1] : nil
        if branch == nil || branch == "HEAD" {
            branch = env["GITHUB_HEAD_REF"].flatMap { $0.isEmpty ? nil : $0 } ?? env["GITHUB_REF_NAME"]
        }
        let status = commit == nil ? nil : git(["status", "--porcelain", "--untracked-files=no"], in: directory)
        return SourceRevision(commit: commit, branch: branch, dirty: !(status ?? "").isEmpty)
    }

    /// `git -C directory args…`'s stdout, or nil when git is missing or fails.
    static func git(_ args: [String], in directory: String) -> String? {
        guard let outcome = try? ChildProcess.run(["git", "-C", directory] + args, keepErrors: false), outcome.status == 0 else {
            return nil
        }
        return String(decoding: outcome.output, as: UTF8.self).trimmingASCIIWhitespace()
    }
}
