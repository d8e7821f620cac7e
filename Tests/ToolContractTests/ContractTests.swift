import EmberTestSupport
import EmberUtils
import Foundation
import Testing

/// docs/cli.md, checked through the three built binaries: exit codes, the error format,
/// `--version`, the help texts (golden files in fixtures/cli/help; re-record with
/// `EMBER_RECORD=1 swift test --filter ToolContractTests`), completions.
@Suite struct ToolContractTests {
    static let tools = ["ember-lint", "ember-migrate", "ember-bench"]
    let root = ToolBinary.packageRoot

    func run(_ tool: String, _ arguments: [String], in directory: String? = nil) throws -> ToolBinary.Result {
        try ToolBinary.run(tool, arguments, in: directory, environment: ["COLUMNS": "100"])
    }

    func scratch(_ body: (String) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("contract-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(dir)
    }

    func write(_ text: String, _ path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    @Test(arguments: tools) func versionComesFromTheVersionFile(_ tool: String) throws {
        let version = try String(contentsOfFile: root + "/VERSION", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let r = try run(tool, ["--version"])
        #expect(r.status == 0)
        #expect(r.stdout == "\(tool) \(version)\n")
        #expect(r.stderr.isEmpty)
        #expect(EmberVersion.string == version)
    }

    @Test(arguments: tools) func usageErrorsExit2WithTheToolsErrorLine(_ tool: String) throws {
        let r = try run(tool, ["--no-such-option"])
        #expect(r.status == ToolExit.error.rawValue)
        #expect(r.stderr.hasPrefix("\(tool): error: Unknown option '--no-such-option'"), "\(r.stderr)")
        #expect(r.stderr.contains("Usage: \(tool)"))
        #expect(r.stdout.isEmpty)
    }

    @Test(arguments: ["ember-lint", "ember-migrate"]) func aMissingPathIsAnError(_ tool: String) throws {
        let r = try run(tool, ["--check", "no/such/dir"].filter { tool == "ember-migrate" || $0 != "--check" })
        #expect(r.status == ToolExit.error.rawValue)
        #expect(r.stderr.hasPrefix("\(tool): error: no/such/dir: no such file or directory"), "\(r.stderr)")
    }

    @Test func lintExitCodes() throws {
        #expect(try run("ember-lint", ["fixtures/lint/layered"]).status == ToolExit.failure.rawValue)
        try scratch { dir in
            try write("", dir + "/ember/utils/__init__.py")
            #expect(try run("ember-lint", ["--no-cache", "."], in: dir).status == ToolExit.success.rawValue)
            // A configuration error: exit 2, the error line names the file.
            try write("[[layers]]\nname = \"x\"\nmodules = [\"ember.utlis\"]\n", dir + "/ember-lint.toml")
            let bad = try run("ember-lint", ["--no-cache", "."], in: dir)
            #expect(bad.status == ToolExit.error.rawValue)
            #expect(bad.stderr.hasPrefix("ember-lint: error: "), "\(bad.stderr)")
            #expect(bad.stderr.contains("ember-lint.toml"), "\(bad.stderr)")
            // --config and --rules are one option: the file given replaces the broken one.
            try write("[[layers]]\nname = \"utils\"\nmodules = [\"ember.utils\"]\n", dir + "/good.toml")
            let a = try run("ember-lint", ["--no-cache", "--config", "good.toml", "."], in: dir)
            let b = try run("ember-lint", ["--no-cache", "--rules", "good.toml", "."], in: dir)
            #expect(a.status == ToolExit.success.rawValue && b.status == a.status, "\(a.stderr)\(b.stderr)")
            // --quiet: findings only.
            let quiet = try run("ember-lint", ["--quiet", "fixtures/lint/layered"])
            #expect(quiet.status == ToolExit.failure.rawValue)
            #expect(quiet.stdout.contains(": EL001 ") && !quiet.stdout.contains(" violations"), "\(quiet.stdout)")
        }
    }

    @Test func migrateExitCodesAndTheirPrecedence() throws {
        #expect(try run("ember-migrate", ["--check", "fixtures/migrate/programs"]).status == ToolExit.failure.rawValue)
        try scratch { dir in
            try write("x = 1\n", dir + "/plain.py")
            #expect(try run("ember-migrate", ["--check", dir]).status == ToolExit.success.rawValue)
            // A file that would change and one that cannot be parsed: files skipped (6) wins.
            let legacy = try String(contentsOfFile: root + "/fixtures/migrate/programs/p01_spec_dict_inputs.py", encoding: .utf8)
            try write(legacy, dir + "/legacy.py")
            #expect(try run("ember-migrate", ["--check", dir]).status == ToolExit.failure.rawValue)
            try write("def broken(:\n", dir + "/broken.py")
            let skipped = try run("ember-migrate", ["--check", dir])
            #expect(skipped.status == ToolExit.filesSkipped.rawValue)
            #expect(skipped.stderr.contains("broken.py: skipped: cannot parse (line 1, column"), "\(skipped.stderr)")
            // A configuration error outranks both: 2, nothing read.
            try write("[tool.ember-migrate]\nnaming = \"camel\"\n", dir + "/pyproject.toml")
            let bad = try run("ember-migrate", ["--check", dir])
            #expect(bad.status == ToolExit.error.rawValue)
            #expect(bad.stderr.hasPrefix("ember-migrate: error: "), "\(bad.stderr)")
            // --extend-rules reads a rules file; --rules, its old name, warns and does the same.
            let missing = try run("ember-migrate", ["--isolated", "--extend-rules", dir + "/none.rules", "--check", dir + "/plain.py"])
            #expect(missing.status == ToolExit.error.rawValue)
            #expect(missing.stderr.contains("ember-migrate: error: cannot read rules file"), "\(missing.stderr)")
            let old = try run("ember-migrate", ["--isolated", "--rules", dir + "/none.rules", "--check", dir + "/plain.py"])
            #expect(old.status == ToolExit.error.rawValue)
            #expect(old.stderr.contains("ember-migrate: warning: --rules is now --extend-rules"), "\(old.stderr)")
        }
    }

    @Test func benchErrorsAreErrorsNotRegressions() throws {
        try scratch { dir in
            // Read-only commands never create a store: a mistyped path is an error.
            let r = try run("ember-bench", ["history", "--db", dir + "/typo.sqlite"], in: dir)
            #expect(r.status == ToolExit.error.rawValue)
            #expect(r.stderr.hasPrefix("ember-bench: error: "), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/typo.sqlite"))
            // A bad import file: exit 2 with the JSON position.
            try write("{\"benchmarks\": [", dir + "/bad.json")
            let bad = try run("ember-bench", ["import", "--db", dir + "/s.sqlite", dir + "/bad.json"], in: dir)
            #expect(bad.status == ToolExit.error.rawValue)
            #expect(bad.stderr.hasPrefix("ember-bench: error: "), "\(bad.stderr)")
            #expect(bad.stderr.contains("bad.json"), "\(bad.stderr)")
        }
    }

    /// The help texts, as users read them (100 columns).
    static let helpPages: [(file: String, tool: String, arguments: [String])] = [
        ("ember-lint", "ember-lint", ["--help"]),
        ("ember-migrate", "ember-migrate", ["--help"]),
        ("ember-bench", "ember-bench", ["--help"]),
        ("ember-bench-gate", "ember-bench", ["gate", "--help"]),
        ("ember-bench-ab", "ember-bench", ["ab", "--help"]),
        ("ember-bench-compare", "ember-bench", ["compare", "--help"]),
        ("ember-bench-run", "ember-bench", ["run", "--help"]),
        ("ember-bench-import", "ember-bench", ["import", "--help"]),
    ]

    @Test(arguments: helpPages.indices) func helpTexts(_ index: Int) throws {
        let page = Self.helpPages[index]
        let r = try run(page.tool, page.arguments)
        #expect(r.status == 0)
        let golden = root + "/fixtures/cli/help/\(page.file).txt"
        if ProcessInfo.processInfo.environment["EMBER_RECORD"] != nil {
            try write(r.stdout, golden)
        }
        let expected = try String(contentsOfFile: golden, encoding: .utf8)
        #expect(r.stdout == expected, "help of \(page.tool) \(page.arguments.joined(separator: " ")) differs from \(golden)")
    }

    @Test(arguments: tools) func completionsCoverTheCommandLine(_ tool: String) throws {
        for shell in ["bash", "zsh", "fish"] {
            let r = try run(tool, ["--generate-completion-script", shell])
            #expect(r.status == 0)
            switch tool {
            // fish names long options without their dashes (`-l config`).
            case "ember-lint": #expect(r.stdout.contains("config") && r.stdout.contains("format"), "\(shell)")
            case "ember-migrate": #expect(r.stdout.contains("extend-rules") && r.stdout.contains("check"), "\(shell)")
            default: #expect(r.stdout.contains("compare") && r.stdout.contains("history"))
            }
        }
        let bash = try run("ember-bench", ["--generate-completion-script", "bash"])
        #expect(bash.stdout.contains("--compare"))
    }
}
