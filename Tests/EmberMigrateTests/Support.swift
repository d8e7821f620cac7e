import EmberMigrate
import EmberTestSupport
import Foundation
import Testing

/// All ember-migrate suites run one test at a time: they block on subprocesses and worker
/// threads, and on 2 shared cores parallel blocking tests starve the async tests of other
/// targets (timing-sensitive provider tests).
@Suite(.serialized) enum MigrateTests {}

enum MigrateFixture {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let root = packageRoot.appendingPathComponent("fixtures/migrate")
    static var isRecording: Bool { ProcessInfo.processInfo.environment["EMBER_RECORD"] == "1" }

    /// Every `.py` file under `folder`, as paths relative to it, sorted.
    static func pythonFiles(under folder: URL) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        var out: [String] = []
        while let p = e.nextObject() as? String { if p.hasSuffix(".py") && !p.contains("__pycache__") { out.append(p) } }
        return out.sorted()
    }

    /// Loads files by absolute path but reports them by their path relative to `root`.
    static func inputs(_ relative: [String], root: URL) -> [InputFile] {
        let loaded = MigrationFiles.load(relative.map { root.appendingPathComponent($0).path })
        return zip(loaded, relative).map { file, rel in
            var f = file
            f.path = rel
            return f
        }
    }

    /// A fresh scratch folder (removed by the caller).
    static func scratch(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ember-migrate-tests-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func copyTree(_ from: URL, to: URL) throws {
        try? FileManager.default.removeItem(at: to)
        try FileManager.default.copyItem(at: from, to: to)
    }

    /// Runs a process; returns (exit status, stdout, stderr).
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], cwd: URL? = nil, environment: [String: String] = [:]) throws -> (Int32, String, String) {
        let r = try ToolBinary.runExecutable(executable, arguments, in: cwd?.path, environment: environment.mapValues { $0 })
        return (r.status, r.stdout, r.stderr)
    }

    static func python3() -> String? {
        for candidate in ["/usr/local/bin/python3", "/root/.pyenv/shims/python3", "/usr/bin/python3"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return nil
    }

    /// The ember-migrate binary, wherever the build put it (any --scratch-path).
    static func binary() -> String { ToolBinary.path("ember-migrate") }
}
