import EmberProject
import EmberPython
import ArgumentParser
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
            Rules: --rules FILE, else [tool.ember-lint] in pyproject.toml or ember-lint.toml \
            found by walking up from the first path, else the Ember guide's layers \
            (rules/ember-layers.toml, built in).
            Exit codes: 0 clean (warnings allowed), 1 violations or unreadable files, \
            2 usage or configuration error.
            Suppress one finding with a comment on its line (or alone on the line above): \
            `# ember-lint: ignore[EL001] reason` in Python, `// ember-lint: ignore[EL001] reason` in Swift.
            """
    )

    @Argument(help: "Files or folders to check.")
    public var paths: [String] = ["."]

    @Option(name: .long, help: "Rules file (TOML; a pyproject.toml uses [tool.ember-lint]).")
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

    public init() {}

    /// The parsed values.
    var arguments: LintArguments {
        LintArguments(paths: paths, rules: rules, format: format, baseline: baseline, writeBaseline: writeBaseline, explain: explain,
                      graph: graph, jobs: jobs, checkSyntax: checkSyntax, targetVersion: targetVersion, noCache: noCache, cacheDir: cacheDir)
    }

    public func run() throws {
        let result = EmberLintCLI.execute(arguments, pythonExtractor: TokenPythonImportExtractor())
        EmberLintCLI.writeAll(result.stdout, to: 1)
        EmberLintCLI.writeAll(result.stderr, to: 2)
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

    /// The common command lines read without ArgumentParser, whose first parse costs about
    /// a millisecond of reflection (a tenth of a small tree's run): paths, the flags, and
    /// options written `--name VALUE`, each at most once. Anything else (help, `--name=VALUE`,
    /// `--`, a value or path starting with '-', a repeat, a bad number) is nil, and
    /// ArgumentParser reads it, with its messages. Tests check that both agree.
    static func quickParse(_ arguments: [String]) -> LintArguments? {
        var parsed = LintArguments()
        var paths: [String] = []
        var seen: Set<String> = []
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            i += 1
            guard argument.utf8.first == UInt8(ascii: "-") else {
                paths.append(argument)
                continue
            }
            guard seen.insert(argument).inserted else { return nil }
            switch argument {
            case "--explain": parsed.explain = true
            case "--graph": parsed.graph = true
            case "--check-syntax": parsed.checkSyntax = true
            case "--no-cache": parsed.noCache = true
            case "--rules", "--format", "--baseline", "--write-baseline", "--jobs", "--cache-dir", "--target-version":
                guard i < arguments.count, arguments[i].utf8.first != UInt8(ascii: "-") else { return nil }
                let value = arguments[i]
                i += 1
                switch argument {
                case "--rules": parsed.rules = value
                case "--format": parsed.format = value
                case "--baseline": parsed.baseline = value
                case "--write-baseline": parsed.writeBaseline = value
                case "--jobs":
                    guard let jobs = Int(value) else { return nil }
                    parsed.jobs = jobs
                case "--target-version": parsed.targetVersion = value
                default: parsed.cacheDir = value
                }
            default:
                return nil
            }
        }
        if !paths.isEmpty { parsed.paths = paths }
        return parsed
    }
}

public enum EmberLintCLI {
    public struct Result: Sendable {
        public var code: LintExitCode
        public var stdout: String
        public var stderr: String
    }

    /// Writes all of `text` to a file descriptor (1: stdout, 2: stderr), retrying short
    /// writes; a closed pipe ends the attempt quietly.
    public static func writeAll(_ text: String, to fd: Int32) {
        var text = text
        text.withUTF8 { bytes in
            var done = 0
            while done < bytes.count {
                let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
                if n < 0 { if errno == EINTR { continue }; return }
                done += n
            }
        }
    }

    /// The Python front end used by the command.
    public static let defaultPythonExtractor: (any PythonImportExtractor)? = TokenPythonImportExtractor()

    /// Parses arguments and runs; never exits the process.
    /// `keepMemoryAtExit`: the caller exits right after printing (see `LintOptions`).
    public static func run(_ arguments: [String], pythonExtractor: (any PythonImportExtractor)? = defaultPythonExtractor,
                           keepMemoryAtExit: Bool = false) -> Result {
        let command: LintArguments
        if let quick = LintArguments.quickParse(arguments) {
            command = quick
        } else {
            do {
                command = try EmberLintCommand.parse(arguments).arguments
            } catch {
                let message = EmberLintCommand.fullMessage(for: error)
                if EmberLintCommand.exitCode(for: error) == .success {
                    return Result(code: .clean, stdout: message + "\n", stderr: "")
                }
                return Result(code: .usageOrConfigError, stdout: "", stderr: "ember-lint: " + message + "\n")
            }
        }
        return execute(command, pythonExtractor: pythonExtractor, keepMemoryAtExit: keepMemoryAtExit)
    }

    static func execute(_ command: LintArguments, pythonExtractor: (any PythonImportExtractor)?, keepMemoryAtExit: Bool = false) -> Result {
        guard let format = OutputFormat(rawValue: command.format) else {
            return Result(code: .usageOrConfigError, stdout: "",
                          stderr: "ember-lint: unknown --format '\(command.format)'; use one of: text, json, sarif, github\n")
        }
        if let jobs = command.jobs, jobs < 1 {
            return Result(code: .usageOrConfigError, stdout: "", stderr: "ember-lint: --jobs must be at least 1\n")
        }
        if let text = command.targetVersion, PythonVersion(text) == nil {
            return Result(code: .usageOrConfigError, stdout: "",
                          stderr: "ember-lint: unknown --target-version '\(text)'; use a Python version from \(PythonVersion.oldest) to \(PythonVersion.newest), such as 3.12\n")
        }
        let paths = command.paths.isEmpty ? ["."] : command.paths
        // The project model: every path, each file's module and configuration.
        let project = LintProject(paths: paths, rulesFile: command.rules)
        if !project.discovery.missingPaths.isEmpty {
            let text = project.discovery.missingPaths.map { "ember-lint: \($0): no such file or directory\n" }.joined()
            return Result(code: .usageOrConfigError, stdout: "", stderr: text + "ember-lint: check the paths given; nothing was checked\n")
        }
        let configErrors = project.errors
        if !configErrors.isEmpty {
            let text = configErrors.map { "ember-lint: configuration error: \($0)\n" }.joined()
            return Result(code: .usageOrConfigError, stdout: "", stderr: text + "ember-lint: fix the configuration above; nothing was checked\n")
        }
        let rules = project.firstRules
        // The grammar of --check-syntax: --target-version, else the configuration's
        // target-version, else the newest; requires-python's oldest version is checked too.
        let target = command.targetVersion.flatMap { PythonVersion($0) } ?? rules.targetVersion ?? .newest
        var pythonExtractor = pythonExtractor
        if var tokens = pythonExtractor as? TokenPythonImportExtractor {
            tokens.checkSyntax = tokens.checkSyntax || command.checkSyntax
            tokens.targetVersion = target
            // requires-python: the configuration's pyproject.toml, else the nearest one above
            // the first path (a project may configure ember-lint elsewhere, or not at all).
            tokens.oldestVersion = rules.requiresPython ?? (command.checkSyntax ? RuleSetParser.requiresPython(near: paths[0]) : nil)
            pythonExtractor = tokens
        }
        var loadedBaseline: Baseline?
        if let path = command.baseline {
            do { loadedBaseline = try Baseline.load(path) } catch {
                return Result(code: .usageOrConfigError, stdout: "", stderr: "ember-lint: \(error)\n")
            }
        }
        var options = LintOptions(paths: paths, rules: rules)
        options.project = project
        options.explain = command.explain
        if let jobs = command.jobs { options.jobs = jobs }
        options.keepMemoryAtExit = keepMemoryAtExit
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
                let oldest = (pythonExtractor as? TokenPythonImportExtractor)?.oldestVersion
                options.cacheDirectory! += "/syntax-\(target)" + (oldest.map { "-from-\($0)" } ?? "")
            }
        }
        var report = Linter(options: options, pythonExtractor: pythonExtractor).run()
        // No vacuous pass: configuration that matches nothing, or a run that read no file.
        if !report.configurationErrors.isEmpty {
            let text = report.configurationErrors.map { "ember-lint: configuration error: \($0)\n" }.joined()
            return Result(code: .usageOrConfigError, stdout: "", stderr: text + "ember-lint: fix the configuration above; the run's findings cannot be trusted\n")
        }
        if report.fileCount == 0 {
            let problems = report.diagnostics.map { "ember-lint: \($0.path): \($0.message)\n" }.joined()
            return Result(code: .usageOrConfigError, stdout: "", stderr: problems + "ember-lint: no Python or Swift file to check under \(paths.joined(separator: ", ")) (after the exclude patterns and .gitignore); 0 files checked\n")
        }
        if command.graph {
            return Result(code: .clean, stdout: Renderer.graph(report), stderr: "")
        }
        if let path = command.writeBaseline {
            do {
                try Baseline(diagnostics: report.diagnostics, projectRoot: report.projectRoot).write(to: path)
            } catch {
                return Result(code: .usageOrConfigError, stdout: "", stderr: "ember-lint: cannot write the baseline \(path): \(error)\n")
            }
            return Result(code: .clean, stdout: "ember-lint: recorded \(report.diagnostics.count) finding\(report.diagnostics.count == 1 ? "" : "s") in \(path)\n", stderr: "")
        }
        var notes = ""
        if let loadedBaseline, let path = command.baseline {
            let (kept, removed) = loadedBaseline.filter(report.diagnostics, projectRoot: report.projectRoot)
            report.diagnostics = kept
            report.baselinedCount = removed
            notes += loadedBaseline.upgradeNote(path: path) ?? ""
        }
        let code: LintExitCode = report.errorCount > 0 ? .violations : .clean
        return Result(code: code, stdout: Renderer.render(report, format: format), stderr: notes)
    }
}
