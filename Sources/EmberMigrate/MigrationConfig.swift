import EmberPython
import EmberProject
import EmberUtils
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The rewrites ember-migrate can make, selectable like ruff's rules (`select`, `ignore`).
public enum MigrationRule: String, Sendable, CaseIterable {
    /// A legacy operator class becomes a module (its importers and uses follow its name).
    case operatorToModule = "EM101"
    /// A class that stays a class gets `x = migrate_operator_to_module(X)` beside it.
    case adapter = "EM102"
    /// `isinstance(x, Operator)` / `issubclass(c, Operator)` also accept converted modules.
    case isinstanceAcceptsModules = "EM103"
    /// Imports the rewrite left unused go.
    case unusedImports = "EM104"
    /// `Sequential`/`EnsembleOperator` calls become runtime `chain`/`ensemble` calls (unsafe).
    case compositionToRuntime = "EM201"

    public var name: String {
        switch self {
        case .operatorToModule: "operator-to-module"
        case .adapter: "adapter-for-kept-class"
        case .isinstanceAcceptsModules: "isinstance-accepts-modules"
        case .unusedImports: "unused-legacy-import"
        case .compositionToRuntime: "composition-to-runtime"
        }
    }

    /// Changes behaviour in some programs: applied only with `--unsafe`.
    public var isUnsafe: Bool { self == .compositionToRuntime }

    /// Rules a selector names: a code, a code prefix (`EM1`, `EM`), a name, or `ALL`.
    public static func matching(_ selector: String) -> [MigrationRule] {
        if selector == "ALL" { return allCases }
        return allCases.filter { $0.rawValue.hasPrefix(selector) || $0.name == selector }
    }
}

/// `[tool.ember-migrate]` in pyproject.toml, or the whole of ember-migrate.toml.
public struct MigrationConfig: Sendable {
    /// The file it came from (nil: defaults).
    public var file: String?
    public var runtimeModule: String?
    public var naming: NamingStyle?
    public var unsafe: Bool?
    /// Glob patterns of paths to leave out; `exclude` replaces the defaults,
    /// `extend-exclude` adds to them.
    public var exclude: [String]?
    public var extendExclude: [String] = []
    public var respectGitignore = true
    /// Where module names start (relative to the configuration's folder); nil: detected.
    public var sourceRoots: [String]?
    public var select: [String]?
    public var ignore: [String] = []
    /// Extra rules files (same format as rules/migrate/legacy.rules), relative to the config.
    public var extraRules: [String] = []
    /// `target-version`: the Python version whose grammar files are read with.
    public var targetVersion: PythonVersion?

    public init() {}

    public static let keys = ["runtime-module", "naming", "unsafe", "exclude", "extend-exclude", "respect-gitignore", "source-roots",
                              "select", "ignore", "extra-rules", "target-version"]

    /// Folders left out unless `exclude` says otherwise: the project model's defaults.
    public static var defaultExclude: [String] { ExcludePatterns.defaults }

    public var excludePatterns: [String] { (exclude ?? MigrationConfig.defaultExclude) + extendExclude }

    /// What the project model needs from this configuration.
    public var projectConfiguration: ProjectConfiguration {
        let path = file ?? "."
        var c = ProjectConfiguration(folder: ProjectPath.absolute(ProjectPath.parent(path).isEmpty ? "." : ProjectPath.parent(path)), file: path)
        c.exclude = exclude
        c.extendExclude = extendExclude
        c.respectGitignore = respectGitignore
        c.sourceRoots = sourceRoots
        return c
    }

    /// The rules a run applies: the selection, minus the ignored ones; unsafe rules only
    /// when unsafe rewrites are on.
    public func enabledRules(unsafe: Bool) -> Set<MigrationRule> {
        var out = Set((select ?? ["ALL"]).flatMap(MigrationRule.matching))
        for i in ignore { out.subtract(MigrationRule.matching(i)) }
        if !unsafe { out = out.filter { !$0.isUnsafe } }
        return out
    }

    /// The nearest configuration at or above `start` (a file or folder): an
    /// `ember-migrate.toml`, or a `pyproject.toml` with a `[tool.ember-migrate]` table.
    public static func find(from start: String) throws(MigrationConfigError) -> MigrationConfig {
        guard let found = try? MigrationFiles.discover([start]) else { return MigrationConfig() }
        if let error = found.configurationErrors.first { throw error }
        return found.firstConfiguration ?? MigrationConfig()
    }

    /// Reads one file. For a pyproject.toml without `[tool.ember-migrate]`, nil (the
    /// search goes on) unless `requireTable`. Only this tool's table is validated; the
    /// rest must merely be TOML.
    public static func load(_ path: String, requireTable: Bool) throws(MigrationConfigError) -> MigrationConfig? {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MigrationConfigError(file: path, line: 0, column: 0, message: "cannot read the file; check its permissions")
        }
        let document: TOMLTable
        do { document = try TOML.parse(bytes: Array(data)) } catch {
            throw MigrationConfigError(file: path, line: error.line, column: error.column, message: "not valid TOML: \(error.message)")
        }
        let isPyproject = ProjectPath.lastComponent(path) == "pyproject.toml"
        var table = document
        var prefix = ""
        if isPyproject {
            guard case .table(let tool)? = document["tool"]?.kind, let entry = tool.entry("ember-migrate") else {
                if requireTable { throw MigrationConfigError(file: path, line: 1, column: 1, message: "this pyproject.toml has no [tool.ember-migrate] table") }
                return nil
            }
            guard case .table(let t) = entry.value.kind else {
                throw MigrationConfigError(file: path, line: entry.line, column: entry.column, message: "tool.ember-migrate must be a table")
            }
            table = t
            prefix = "tool.ember-migrate."
        }
        var config = MigrationConfig()
        config.file = path
        for entry in table.entries {
            let v = entry.value
            func fail(_ message: String) -> MigrationConfigError {
                MigrationConfigError(file: path, line: entry.line, column: entry.column, message: "\(prefix)\(entry.key): \(message)")
            }
            func string() throws(MigrationConfigError) -> String {
                guard case .string(let s) = v.kind else { throw fail("expected a string, found \(v.typeName)") }
                return s
            }
            func strings() throws(MigrationConfigError) -> [String] {
                guard case .array(let items) = v.kind else { throw fail("expected an array of strings, found \(v.typeName)") }
                var out: [String] = []
                for item in items {
                    guard case .string(let s) = item.kind else { throw fail("expected an array of strings, found a \(item.typeName) in it") }
                    out.append(s)
                }
                return out
            }
            switch entry.key {
            case "runtime-module":
                let s = try string()
                guard !s.isEmpty, s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ isIdentifier($0) }) else {
                    throw fail("'\(s)' is not a dotted Python module name")
                }
                config.runtimeModule = s
            case "naming":
                let s = try string()
                guard let style = NamingStyle(rawValue: s) else { throw fail("expected \"snake\" or \"keep\", found \"\(s)\"") }
                config.naming = style
            case "unsafe":
                guard case .bool(let b) = v.kind else { throw fail("expected true or false, found \(v.typeName)") }
                config.unsafe = b
            case "exclude": config.exclude = try strings()
            case "extend-exclude": config.extendExclude = try strings()
            case "source-roots": config.sourceRoots = try strings()
            case "respect-gitignore":
                guard case .bool(let b) = v.kind else { throw fail("expected true or false, found \(v.typeName)") }
                config.respectGitignore = b
            case "select", "ignore":
                let selectors = try strings()
                for s in selectors where MigrationRule.matching(s).isEmpty {
                    throw fail("'\(s)' names no rule (rules: \(MigrationRule.allCases.map { "\($0.rawValue) \($0.name)" }.joined(separator: ", ")))")
                }
                if entry.key == "select" { config.select = selectors } else { config.ignore = selectors }
            case "target-version":
                let s = try string()
                guard let version = PythonVersion(s) else {
                    throw fail("expected a Python version from \(PythonVersion.oldest) to \(PythonVersion.newest) such as \"3.12\", found \"\(s)\"")
                }
                config.targetVersion = version
            case "extra-rules":
                let folder = ProjectPath.parent(path)
                config.extraRules = try strings().map { $0.hasPrefix("/") ? $0 : ProjectPath.join(folder, $0) }
            default:
                let close = MigrationConfig.keys.min { editDistance($0, entry.key) < editDistance($1, entry.key) } ?? ""
                throw fail("unknown key (did you mean '\(close)'? keys: \(MigrationConfig.keys.joined(separator: ", ")))")
            }
        }
        return config
    }
}

public struct MigrationConfigError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String
    public var description: String { line > 0 ? "\(file):\(line):\(column): \(message)" : "\(file): \(message)" }
}

