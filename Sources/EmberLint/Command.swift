import ArgumentParser
import EmberCommandLine
import EmberProject
import EmberPython
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

/// The `ember-lint` command line. Lives in the library so tests run it in-process; the
/// executable only forwards its arguments and exits with the code.
public struct EmberLintCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ember-lint",
        abstract: "Checks the import layers of Python and Swift sources.",
        discussion: """
            Rules: --config FILE, else [tool.ember-lint] in pyproject.toml or ember-lint.toml \
            found by walking up from each path, else the Ember guide's layers \
            (rules/ember-layers.toml, built in).
            Exit codes: 0 clean (warnings allowed), 1 violations or unreadable files, \
            2 usage, configuration or input error (nothing was checked).
            Suppress one finding with a comment on its line (or alone on the line above): \
            `# ember-lint: ignore[EL001] reason` in Python, `// ember-lint: ignore[EL001] reason` in Swift.
            """,
        version: ToolCommandLine.versionText("ember-lint")
    )

    @Argument(help: "Files or folders to check.")
    public var paths: [String] = ["."]

    @Option(name: [.customLong("config"), .customLong("rules")],
            help: ArgumentHelp("Configuration file for every path (TOML; a pyproject.toml uses [tool.ember-lint]); replaces discovery and the built-in rules.", valueName: "file"))
    public var rules: String?

    @Option(name: .long, help: "Output format: text, json, sarif or github.")
    public var format: String = "text"

    @Option(name: .long, help: "Report only findings that are not in this baseline file.")
    public var baseline: String?

    @Option(name: .customLong("write-baseline"), help: "Record today's findings in FILE and exit 0.")
    public var writeBaseline: String?

    @Flag(name: .long, help: "Explain findings: the layer definitions, and chains that reach a forbidden layer indirectly (EL007).")
    public var explain = false

    @Flag(name: .long, help: "Print the resolved import graph as JSON (importer, imported, path, line, ...) instead of findings.")
    public var graph = false

    @Option(name: .long, help: "Parallel workers (default: the number of cores).")
    public var jobs: Int?

    @Flag(name: .customLong("check-syntax"), help: "Parse Python files fully and report grammar errors (EL101), not only tokenizer errors; slower.")
    public var checkSyntax = false

    @Option(name: .customLong("target-version"), help: "Python version whose grammar --check-syntax follows: 3.9 to 3.14 (default: the newest).")
    public var targetVersion: String?

    @Flag(name: .customLong("no-cache"), help: "Analyse every file afresh and leave the cache alone.")
    public var noCache = false

    @Option(name: .customLong("cache-dir"), help: "Cache folder (default: .ember-lint-cache beside the discovered config file, else in the current folder).")
    public var cacheDir: String?

    @Flag(name: .long, help: "Print findings only: no summary line, no notes, no progress.")
    public var quiet = false

    public init() {}

    /// The parsed values.
    var arguments: LintArguments {
        LintArguments(paths: paths, rules: rules, format: format, baseline: baseline, writeBaseline: writeBaseline, explain: explain,
                      graph: graph, jobs: jobs, checkSyntax: checkSyntax, targetVersion: targetVersion, noCache: noCache, cacheDir: cacheDir, quiet: quiet)
    }

    public func run() throws {
        let result = EmberLintCLI.execute(arguments, progress: true)
        StandardStream.writeAll(result.stdout, to: 1)
        StandardStream.writeAll(result.stderr, to: 2)
        throw ExitCode(result.code.rawValue)
    }
}

/// The command line's values.
struct LintArguments: Equatable, Sendable {
    var paths: [String] = ["."]
    var rules: String?
    var format = "text"
    var baseline: String?
    var writeBaseline: String?
    var explain = false
    var graph = false
    var jobs: Int?
    var checkSyntax = false
    var targetVersion: String?
    var noCache = false
    var cacheDir: String?
    var quiet = false
}

public enum EmberLintCLI {
    public struct Result: Sendable {
        public var code: ToolExit
        public var stdout: String
        public var stderr: String
        /// The run's working data, kept as long as the result (see `LintReport.workingData`).
        var workingData: RunWorkingData? = nil
    }

    /// Parses arguments and runs; never exits the process (tests run it in-process).
    /// `progress`: a progress line on a terminal's stderr for long runs (the executable).
    public static func run(_ arguments: [String], progress: Bool = false) -> Result {
        let command: LintArguments
        do {
            command = try EmberLintCommand.parse(arguments).arguments
        } catch {
            let (code, out, err) = ToolCommandLine.failure(EmberLintCommand.self, tool: "ember-lint", error: error)
            return Result(code: ToolExit(rawValue: code) ?? .error, stdout: out, stderr: err)
        }
        return execute(command, progress: progress)
    }

    static func error(_ message: String) -> String { ToolCommandLine.errorText("ember-lint", message) }

    /// `progress`: a progress line on a terminal's stderr (the command, not tests).
    static func execute(_ command: LintArguments, progress: Bool = false) -> Result {
        guard let format = OutputFormat(rawValue: command.format) else {
            return Result(code: .error, stdout: "",
                          stderr: error("unknown --format '\(command.format)'; use one of: text, json, sarif, github"))
        }
        if let jobs = command.jobs, jobs < 1 {
            return Result(code: .error, stdout: "", stderr: error("--jobs must be at least 1"))
        }
        if let text = command.targetVersion, PythonVersion(text) == nil {
            return Result(code: .error, stdout: "",
                          stderr: error("unknown --target-version '\(text)'; use a Python version from \(PythonVersion.oldest) to \(PythonVersion.newest), such as 3.12"))
        }
        let paths = command.paths.isEmpty ? ["."] : command.paths
        // The project model: every path, each file's module and configuration.
        let project = LintProject(paths: paths, rulesFile: command.rules)
        if !project.discovery.missingPaths.isEmpty {
            let text = project.discovery.missingPaths.map { error("\($0): no such file or directory") }.joined()
            return Result(code: .error, stdout: "", stderr: text + error("check the paths given; nothing was checked"))
        }
        let configErrors = project.errors
        if !configErrors.isEmpty {
            let text = configErrors.map { error("\($0)") }.joined()
            return Result(code: .error, stdout: "", stderr: text + error("fix the configuration above; nothing was checked"))
        }
        let rules = project.firstRules
        // The grammar of --check-syntax: --target-version, else the configuration's
        // target-version, else the newest; requires-python's oldest version is checked too.
        let target = command.targetVersion.flatMap { PythonVersion($0) } ?? rules.targetVersion ?? .newest
        var extractor = TokenPythonImportExtractor(checkSyntax: command.checkSyntax)
        extractor.targetVersion = target
        // requires-python: the configuration's pyproject.toml, else the nearest one above
        // the first path (a project may configure ember-lint elsewhere, or not at all).
        extractor.oldestVersion = rules.requiresPython ?? (command.checkSyntax ? RuleSetParser.requiresPython(near: paths[0]) : nil)
        var loadedBaseline: Baseline?
        if let path = command.baseline {
            do { loadedBaseline = try Baseline.load(path) } catch {
                return Result(code: .error, stdout: "", stderr: Self.error("\(error)"))
            }
        }
        var options = LintOptions(paths: paths, rules: rules)
        options.project = project
        options.explain = command.explain
        if let jobs = command.jobs { options.jobs = jobs }
        var progressLine: ProgressLine?
        if progress {
            let line = ProgressLine(tool: "ember-lint", quiet: command.quiet)
            if line.enabled { options.progress = { line.report("\($0) files analysed") } }
            progressLine = line
        }
        if !command.noCache {
            // Facts found with and without the full syntax check differ; keep them apart.
            // Unchanged files (same size, modification time and inode) reuse last run's facts.
            if let dir = command.cacheDir {
                options.cacheDirectory = dir
            } else if command.rules == nil, project.discovery.firstConfiguration >= 0, !rules.baseDirectory.isEmpty {
                options.cacheDirectory = rules.baseDirectory + "/.ember-lint-cache"
            } else {
                options.cacheDirectory = ".ember-lint-cache"
            }
            if command.checkSyntax {
                options.cacheDirectory! += "/syntax-\(target)" + (extractor.oldestVersion.map { "-from-\($0)" } ?? "")
            }
        }
        var report = Linter(options: options, pythonExtractor: extractor).run()
        progressLine?.finish()
        // No vacuous pass: configuration that matches nothing, or a run that read no file.
        if !report.configurationErrors.isEmpty {
            let text = report.configurationErrors.map { error("\($0)") }.joined()
            return Result(code: .error, stdout: "", stderr: text + error("fix the configuration above; the run's findings cannot be trusted"))
        }
        if report.fileCount == 0 {
            let problems = report.diagnostics.map { error("\($0.path): \($0.message)") }.joined()
            return Result(code: .error, stdout: "", stderr: problems + error("no Python or Swift file to check under \(paths.joined(separator: ", ")) (after the exclude patterns and .gitignore); 0 files checked"))
        }
        if command.graph {
            return Result(code: .success, stdout: Renderer.graph(report), stderr: "", workingData: report.workingData)
        }
        if let path = command.writeBaseline {
            do {
                try Baseline(diagnostics: report.diagnostics, projectRoot: report.projectRoot).write(to: path)
            } catch {
                return Result(code: .error, stdout: "", stderr: Self.error("cannot write the baseline \(path): \(error)"))
            }
            return Result(code: .success, stdout: "ember-lint: recorded \(report.diagnostics.count) finding\(report.diagnostics.count == 1 ? "" : "s") in \(path)\n", stderr: "")
        }
        var notes = ""
        if let loadedBaseline, let path = command.baseline {
            let (kept, removed) = loadedBaseline.filter(report.diagnostics, projectRoot: report.projectRoot)
            report.diagnostics = kept
            report.baselinedCount = removed
            notes += loadedBaseline.upgradeNote(path: path) ?? ""
        }
        let code: ToolExit = report.errorCount > 0 ? .failure : .success
        return Result(code: code, stdout: Renderer.render(report, format: format, summary: !command.quiet), stderr: command.quiet ? "" : notes,
                      workingData: report.workingData)
    }
}
