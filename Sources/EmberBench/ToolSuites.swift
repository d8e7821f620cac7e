import EmberLint
import EmberMigrate
import EmberProject
import EmberPython
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The tools' own speed: EmberPython's tokenizer, import skimmer and parser over the
/// bundled Python fixtures, and ember-lint's whole in-process check of the lint fixtures.
/// Inputs are read once in `make` from `fixtures/` under the current folder (run from the
/// package root) or under $EMBER_BENCH_FIXTURES.
extension BenchmarkSuite {
    public static let tools = BenchmarkSuite(
        "tools",
        [
            Benchmark("tokenize", bytesPerOperation: ToolInputs.pythonBytes) {
                let sources = try ToolInputs.pythonSources()
                return {
                    // 3.11's token form, as the benchmark has measured from the start.
                    for s in sources { _ = PythonTokenizer.tokenize(s, options: .init(targetVersion: .v3_11)) }
                }
            },
            Benchmark("skim-imports", bytesPerOperation: ToolInputs.pythonBytes) {
                let sources = try ToolInputs.pythonSources()
                let filter = TokenPythonImportExtractor.skimFilter
                return {
                    for s in sources { _ = PythonImportSkimmer.skim(text: s.text, filter: filter) }
                }
            },
            Benchmark("parse", bytesPerOperation: ToolInputs.pythonBytes) {
                let sources = try ToolInputs.pythonSources()
                return {
                    for s in sources { _ = PythonParser.parse(s, options: .init(targetVersion: .v3_11)) }
                }
            },
            Benchmark("lint", bytesPerOperation: ToolInputs.lintBytes) {
                let trees = try ToolInputs.lintTrees()
                return {
                    for tree in trees {
                        let result = EmberLintCLI.run(["--no-cache", "--jobs", "1", tree])
                        guard result.code != .error else { throw ToolInputs.Problem(message: "ember-lint \(tree): \(result.stderr)") }
                    }
                }
            },
            // ember-migrate's whole in-memory pass (resolve, match, rewrite, re-parse) over
            // the legacy programs; files are read once in make, nothing is written.
            Benchmark("migrate", bytesPerOperation: ToolInputs.migrateBytes) {
                let inputs = try ToolInputs.migrateInputs()
                return { _ = Migration.run(inputs, options: MigrationOptions()) }
            },
        ])
}

/// Inputs of the tools suite, found once per process.
enum ToolInputs {
    struct Problem: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    static var fixturesRoot: String {
        ProcessInfo.processInfo.environment["EMBER_BENCH_FIXTURES"] ?? FileManager.default.currentDirectoryPath + "/fixtures"
    }

    /// `.py` files under a folder as the project model finds them (ember-lint's and
    /// ember-migrate's view: excludes, `.gitignore`, symlink policy), sorted by path so
    /// every run measures the same order.
    static func pythonFiles(_ folder: String) -> [ProjectFile] {
        var options = DiscoveryOptions()
        options.languages = [.python]
        // fixtures/python/versions (each CPython version's goldens, added later) stays out:
        // the benchmarks keep the inputs their history was measured on.
        return ProjectDiscovery(paths: [folder], options: options, loader: nil).walk().files
            .filter { !$0.path.contains("/python/versions/") }
            .sorted { $0.path < $1.path }
    }

    static let pythonFolders = ["python", "lint"]
    static let lintFolders = ["lint/layered", "lint/namespace"]

    static func bytes(of folders: [String]) -> Int {
        folders.flatMap { pythonFiles(fixturesRoot + "/" + $0) }.reduce(0) { $0 + Int(($1.stamp ?? FileStamp.of($1.path))?.size ?? 0) }
    }

    /// Bytes per operation: the decoded fixture text; at least 1 so a missing folder
    /// fails in `make` with its name, not in the benchmark's constructor.
    static var pythonBytes: Int { max(1, ((try? loadedSources.get()) ?? []).reduce(0) { $0 + $1.text.count }) }
    static let lintBytes = max(1, bytes(of: lintFolders))

    static let loadedSources: Result<[PythonSource], Problem> = {
        var out: [PythonSource] = []
        for folder in pythonFolders {
            let files = pythonFiles(fixturesRoot + "/" + folder)
            guard !files.isEmpty else {
                return .failure(Problem(message: "no Python fixtures in \(fixturesRoot)/\(folder); run ember-bench from the package root or set EMBER_BENCH_FIXTURES"))
            }
            // Files that cannot be read (a dangling-link fixture) or decoded (the invalid
            // encoding fixtures) are left out: the tokenizer never sees them.
            for file in files {
                guard let bytes = SourceFileReader.contents(file.path) else { continue }
                if let source = try? PythonSource(bytes: bytes) { out.append(source) }
            }
        }
        return .success(out)
    }()

    /// Every fixture file that reads and decodes, loaded once.
    static func pythonSources() throws -> [PythonSource] { try loadedSources.get() }

    static let migrateFolders = ["migrate/programs"]
    static let migrateBytes = max(1, bytes(of: migrateFolders))

    static func migrateInputs() throws -> [InputFile] {
        let files = migrateFolders.flatMap { pythonFiles(fixturesRoot + "/" + $0) }
        guard !files.isEmpty else {
            throw Problem(message: "no legacy programs in \(fixturesRoot)/migrate/programs; run ember-bench from the package root or set EMBER_BENCH_FIXTURES")
        }
        return MigrationFiles.load(files.map(\.path))
    }

    static func lintTrees() throws -> [String] {
        try lintFolders.map { folder in
            let path = fixturesRoot + "/" + folder
            guard !pythonFiles(path).isEmpty else {
                throw Problem(message: "no lint fixture at \(path); run ember-bench from the package root or set EMBER_BENCH_FIXTURES")
            }
            return path
        }
    }
}
