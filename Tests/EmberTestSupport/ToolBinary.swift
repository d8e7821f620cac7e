import Foundation

/// The package's built executables, wherever the build put them (`swift test
/// --scratch-path ANY`): next to the running test bundle first, then the usual build folders.
public enum ToolBinary {
    /// The package root (this file is Tests/EmberTestSupport/ToolBinary.swift).
    public static let packageRoot: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The path of the executable `name` (e.g. "ember-lint").
    public static func path(_ name: String) -> String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
        let candidates = [
            dir.appendingPathComponent(name).path,
            packageRoot + "/.build/debug/" + name,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs the executable `name` with `arguments` in `directory` (default: the package
    /// root), stdin empty; `environment` entries are added to (or, with nil, removed from)
    /// this process's environment.
    public static func run(_ name: String, _ arguments: [String], in directory: String? = nil,
                           environment: [String: String?] = [:]) throws -> Result {
        try runExecutable(path(name), arguments, in: directory ?? packageRoot, environment: environment)
    }

    /// Runs any executable (an absolute path) with `arguments` in `directory` (default: the
    /// current one), stdin empty; `environment` as in `run`.
    public static func runExecutable(_ executable: String, _ arguments: [String], in directory: String? = nil,
                                     environment: [String: String?] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        // Read both pipes while the process runs, so a full pipe cannot block it.
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { errBox.data = err.fileHandleForReading.readDataToEndOfFile() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errBox.data, as: UTF8.self))
    }
}
