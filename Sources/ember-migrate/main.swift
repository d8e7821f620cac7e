// ember-migrate: rewrites legacy class-based Ember operators into module functions.
import ArgumentParser
import EmberCommandLine
import EmberMigrate
import EmberUtils
import EmberPython
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

struct EmberMigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ember-migrate",
        abstract: "Rewrite legacy class-based Ember operators into module functions, losslessly.",
        discussion: """
        Shows a unified diff by default; --write rewrites the files in place (atomically), \
        --check only reports whether anything would change. Classes that are not safe to \
        convert are kept and adapted with migrate_operator_to_module, and reported with the reason.

        Exit codes (the more serious wins):
          0  nothing to do, or done
          1  --check found files that would change
          2  usage, configuration or rules error (nothing read or written)
          6  some files were skipped (unreadable, undecodable, unparsable, or a rewrite abandoned); the others were done
        """,
        version: ToolCommandLine.versionText("ember-migrate")
    )

    enum Mode: String, EnumerableFlag {
        case diff, write, check, plan
        static func help(for value: Mode) -> ArgumentHelp? {
            switch value {
            case .diff: "Print a unified diff of the changes (default)."
            case .write: "Rewrite the files in place, atomically."
            case .check: "Change nothing; exit 1 when some file would change."
            case .plan: "List legacy modules and every remaining reference to them."
            }
        }
    }

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Argument(help: "Python files or folders (searched for .py files).")
    var paths: [String] = []

    @Flag var mode: Mode = .diff

    @Option(name: .customLong("extend-rules"), help: ArgumentHelp("Rules file added to the built-in rules (same format as rules/migrate/legacy.rules; repeatable).", valueName: "file"))
    var extendRules: [String] = []

    @Option(name: .customLong("rules"), help: ArgumentHelp("Old name of --extend-rules.", visibility: .hidden))
    var oldRules: [String] = []

    @Option(help: "Output format: text or json.")
    var format: Format = .text

    @Option(help: "Module function names: keep (class name) or snake (snake_case; the default).")
    var naming: String?

    @Flag(help: "Also apply rewrites that may change behaviour (legacy composition classes to runtime calls, classes whose decorators would receive the module's class).")
    var unsafe = false

    @Option(help: "Configuration file (pyproject.toml with [tool.ember-migrate], or ember-migrate.toml); default: the nearest one at or above the first path.")
    var config: String?

    @Flag(help: "Ignore every configuration file.")
    var isolated = false

    @Option(help: "Rewrites to make, by code, prefix or name (e.g. EM101, EM1, ALL); replaces the configuration's selection.")
    var select: [String] = []

    @Option(help: "Rewrites not to make, by code, prefix or name.")
    var ignore: [String] = []

    @Option(help: "Write the Python module runtime that migrated code imports (ember_runtime) to this path.")
    var emitRuntime: String?

    @Option(help: ArgumentHelp("Same as --emit-runtime (the runtime includes migrate_operator_to_module).", visibility: .hidden))
    var emitAdapter: String?

    @Option(help: "Worker threads (default: all cores).")
    var jobs: Int?

    @Flag(help: "Print the diff and the report lines only: no summary line, no notes, no progress.")
    var quiet = false
    @Option(name: .customLong("target-version"), help: "Python version whose grammar the files are read with: 3.9 to 3.14 (default: the newest).")
    var targetVersion: String?

    mutating func run() throws {
        throw ExitCode(execute())
    }

    func fail(_ message: String) -> Int32 {
        StandardStream.writeAll(ToolCommandLine.errorText("ember-migrate", message), to: 2)
        return ToolExit.error.rawValue
    }

    func note(_ text: String) {
        if !quiet { StandardStream.writeAll(text, to: 2) }
    }

    func execute() -> Int32 {
        var options = MigrationOptions()
        // Configuration: --config for every file, else for each file the nearest one at or
        // above it (the project model reads them as it finds the files); the run's options
        // come from the first path's.
        var configuration = MigrationConfig()
        var fixed: MigrationConfig?
        if !isolated, let config {
            do {
                guard let loaded = try MigrationConfig.load(config, requireTable: true) else { return fail("\(config): no [tool.ember-migrate] table") }
                fixed = loaded
            } catch {
                return fail(error.description)
            }
        }
        var discovered: MigrationDiscovery?
        let collectStart = Date()
        if !paths.isEmpty {
            do { discovered = try MigrationFiles.discover(paths, isolated: isolated, fixed: fixed) } catch { return fail(error.message) }
            if let error = discovered!.configurationErrors.first { return fail(error.description) }
        }
        if let first = fixed ?? discovered?.firstConfiguration { configuration = first }
        if !select.isEmpty { configuration.select = select }
        configuration.ignore += ignore
        for selector in select + ignore where MigrationRule.matching(selector).isEmpty {
            return fail("'\(selector)' names no rule (rules: \(MigrationRule.allCases.map { "\($0.rawValue) \($0.name)" }.joined(separator: ", ")))")
        }
        if let naming {
            guard let style = NamingStyle(rawValue: naming) else { return fail("--naming must be keep or snake, not '\(naming)'") }
            options.naming = style
        } else if let style = configuration.naming {
            options.naming = style
        }
        options.unsafe = unsafe || (configuration.unsafe ?? false)
        options.rulesSelected = configuration.enabledRules(unsafe: true)
        if let module = configuration.runtimeModule { options.rules.setRuntimeModule(module) }
        for file in configuration.extraRules {
            guard let text = MigrateIO.readUTF8(file) else {
                return fail("cannot read rules file \(file) (named by extra-rules in \(configuration.file ?? "the configuration"))")
            }
            do { try options.rules.add(text: text, file: file) } catch { return fail(error.description) }
        }
        options.computePlan = mode == .plan
        if let targetVersion {
            guard let version = PythonVersion(targetVersion) else {
                return fail("--target-version must be a Python version from \(PythonVersion.oldest) to \(PythonVersion.newest) (such as 3.12), not '\(targetVersion)'")
            }
            options.targetVersion = version
        } else if let version = configuration.targetVersion {
            options.targetVersion = version
        }
        if let jobs {
            guard jobs > 0 else { return fail("--jobs must be at least 1") }
            options.workers = jobs
        }
        if !oldRules.isEmpty {
            note("ember-migrate: warning: --rules is now --extend-rules (it adds to the built-in rules); the old name will go\n")
        }
        for file in extendRules + oldRules {
            guard let text = MigrateIO.readUTF8(file) else {
                return fail("cannot read rules file \(file)")
            }
            do { try options.rules.add(text: text, file: file) } catch { return fail(error.description) }
        }
        for target in [emitRuntime, emitAdapter].compactMap({ $0 }) {
            do { try MigrationFiles.writeAtomically(Array(runtimeModuleText(rules: options.rules).utf8), to: target) } catch { return fail(error.message) }
        }
        if paths.isEmpty && (emitRuntime != nil || emitAdapter != nil) { return ToolExit.success.rawValue }
        guard !paths.isEmpty else { return fail("give at least one file or folder (see --help)") }
        let found = discovered!
        let files = found.inputs.map(\.path)
        let leftovers = found.leftovers
        for problem in found.problems {
            note("note: \(problem.path): \(problem.reason); not read\n")
        }
        // Temporary files of an interrupted --write: a write run removes them, others say so.
        for leftover in leftovers {
            if mode == .write {
                if unlink(leftover) == 0 {
                    note("removed \(leftover): the temporary file of an interrupted --write\n")
                }
            } else {
                note("note: \(leftover) is the temporary file of an interrupted --write; the next --write removes it\n")
            }
        }
        if files.isEmpty {
            return fail("no .py files to migrate under \(paths.joined(separator: ", "))" + (configuration.excludePatterns.isEmpty ? "" : " (after the exclude patterns of \(configuration.file ?? "the defaults"))"))
        }
        let loadStart = Date()
        let inputs = found.inputs
        if ProcessInfo.processInfo.environment["EMBER_MIGRATE_PROFILE"] != nil {
            StandardStream.writeAll("profile: found \(files.count) files in \(Int(loadStart.timeIntervalSince(collectStart) * 1000)) ms, named them in \(Int(Date().timeIntervalSince(loadStart) * 1000)) ms\n", to: 2)
        }
        let progress = ProgressLine(tool: "ember-migrate", quiet: quiet)
        if progress.enabled { options.progress = { text in progress.report(text) } }
        var result = Migration.run(inputs, options: options)
        progress.finish()
        if mode == .plan, let outside = MigrationFiles.projectFilesOutside(run: files, paths: paths) {
            result.plan += Migration.outsideImporters(of: result, files: outside, target: options.targetVersion)
        }
        var writeFailures: [String] = []
        if mode == .write {
            for file in result.files where file.status == .changed {
                do { try MigrationFiles.writeAtomically(file.rewritten!, to: file.path) } catch { writeFailures.append(error.message) }
            }
        }
        let output = MigrationOutput(result: result, mode: mode.rawValue, writeFailures: writeFailures)
        switch format {
        case .text:
            StandardStream.writeAll(output.standardOutputText(), to: 1)
            StandardStream.writeAll(output.reportText(summary: !quiet), to: 2)
        case .json:
            StandardStream.writeAll(output.json(), to: 1)
        }
        return output.exitCode.rawValue
    }
}

ToolCommandLine.main(EmberMigrateCommand.self, tool: "ember-migrate")
