#if canImport(FoundationEssentials)
import EmberProject
import EmberPython
import FoundationEssentials
#else
import Foundation
#endif
import EmberUtils
import Synchronization

/// A dotted module pattern: `ember.core` names that module and everything below it;
/// `*` inside a segment matches any run of characters in that segment (`Ember*`), and a
/// pattern's last segment may match a module's segment with deeper modules following.
public struct ModulePattern: Hashable, Sendable, CustomStringConvertible {
    public let text: String
    let segments: [[UInt8]]

    public init(_ text: String) {
        self.text = text
        segments = text.split(separator: ".", omittingEmptySubsequences: false).map { Array($0.utf8) }
    }

    public var description: String { text }

    public func matches(_ module: String) -> Bool { withUTF8Bytes(module) { matches($0) } }

    /// `matches` on the module name's UTF-8 bytes.
    func matches(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var start = 0
        for segment in segments {
            guard start < bytes.count else { return false }
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: ".") { end += 1 }
            if !ModulePattern.glob(segment, UnsafeBufferPointer(rebasing: bytes[start..<end])) { return false }
            start = end + 1
        }
        return true
    }

    /// Glob with `*` only, on bytes.
    static func glob(_ pattern: [UInt8], _ text: UnsafeBufferPointer<UInt8>) -> Bool {
        // Fast path: no wildcard.
        if !pattern.contains(UInt8(ascii: "*")) { return pattern.elementsEqual(text) }
        var p = 0, t = 0, starP = -1, starT = 0
        while t < text.count {
            if p < pattern.count && pattern[p] == UInt8(ascii: "*") { starP = p; starT = t; p += 1 }
            else if p < pattern.count && pattern[p] == text[t] { p += 1; t += 1 }
            else if starP >= 0 { p = starP + 1; starT += 1; t = starT }
            else { return false }
        }
        while p < pattern.count && pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}

/// What a layer may import.
public enum ImportPermission: Hashable, Sendable, CustomStringConvertible {
    case stdlib
    case thirdParty
    case modules(ModulePattern)

    public var description: String {
        switch self {
        case .stdlib: "stdlib"
        case .thirdParty: "third-party"
        case .modules(let p): p.text
        }
    }
}

public struct Layer: Sendable, Hashable {
    public var name: String
    public var modules: [ModulePattern]
    public var mayImport: [ImportPermission]
    /// Exceptions to `may-import` (e.g. `may-import = ["*"]`, `may-not-import = ["app.web"]`); they win.
    public var mayNotImport: [ModulePattern] = []
    /// Where the layer's table starts in its file (0: not from a file).
    public var line = 0
}

/// One configured exception: an import the rules forbid but the project accepts, with why.
public struct ImportIgnore: Sendable, Hashable {
    public var importer: ModulePattern
    public var imported: ModulePattern
    public var reason: String
    public var line: Int
}

public enum TypeCheckingPolicy: String, Sendable, Codable {
    /// `if TYPE_CHECKING:` imports are edges like any other (the default: they still
    /// couple the layers for readers and type checkers).
    case counted
    /// They are left out of the graph.
    case ignored
}

/// The complete, validated configuration of one run.
public struct RuleSet: Sendable {
    public var layers: [Layer] = []
    public var ignores: [ImportIgnore] = []
    public var typeChecking: TypeCheckingPolicy = .counted
    public var reportCycles = true
    public var initExportsOnly = true
    /// Source roots relative to `baseDirectory` (empty: detect).
    public var sourceRoots: [String] = []
    public var sourceRootsLine = 0
    /// File discovery (the project model's): nil exclude means the default list.
    public var exclude: [String]?
    public var extendExclude: [String] = []
    public var respectGitignore = true
    /// Built in (the Ember guide's or the Swift package's rules), not a project's file.
    public var isBuiltIn = false
    /// Where the rules came from, for messages ("built-in ember-layers.toml", a path).
    public var origin: String = ""
    public var baseDirectory: String = ""
    /// `target-version`: the Python version whose grammar --check-syntax follows.
    public var targetVersion: PythonVersion?
    /// The oldest Python `[project] requires-python` allows (pyproject.toml), if it says.
    public var requiresPython: PythonVersion?

    public init() {}

    /// The layer a module belongs to: the first layer (in file order) with a matching pattern.
    public func layer(of module: String) -> Layer? {
        layerIndex(of: module).map { layers[$0] }
    }

    public func layerIndex(of module: String) -> Int? {
        // By index: iterating the layers themselves would copy (retain) each one.
        withUTF8Bytes(module) { bytes in
            layers.indices.first { i in layers[i].modules.contains { $0.matches(bytes) } }
        }
    }
}

/// A configuration problem, named by file, key and line (and column, for a TOML syntax error).
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var key: String
    public var message: String
    /// 1-based column, or 0 when the problem is a whole key or value.
    public var column: Int = 0

    public var description: String {
        let place = column > 0 ? "\(file):\(line):\(column)" : "\(file):\(line)"
        return key.isEmpty ? "\(place): \(message)" : "\(place): '\(key)': \(message)"
    }
}

public enum RuleSetParser {
    static let topKeys: Set<String> = ["layers", "ignore", "type-checking-imports", "cycles", "init-exports-only", "source-roots",
                                       "exclude", "extend-exclude", "respect-gitignore", "target-version"]

    /// Parses a rules table (the document root of ember-lint.toml, or `[tool.ember-lint]`).
    /// Collects every problem instead of stopping at the first.
    public static func parse(table: TOMLTable, keyPrefix: String, file: String, baseDirectory: String) -> (RuleSet, [ConfigError]) {
        var rules = RuleSet()
        rules.origin = file
        rules.baseDirectory = baseDirectory
        var errors: [ConfigError] = []
        func err(_ key: String, _ line: Int, _ message: String) {
            errors.append(ConfigError(file: file, line: line, key: keyPrefix + key, message: message))
        }
        func strings(_ value: TOMLValue, _ key: String) -> [(String, Int)]? {
            guard case .array(let items) = value.kind else {
                err(key, value.line, "expected an array of strings, found a \(value.typeName)")
                return nil
            }
            var out: [(String, Int)] = []
            for item in items {
                guard case .string(let s) = item.kind else {
                    err(key, item.line, "expected a string, found a \(item.typeName)")
                    continue
                }
                out.append((s, item.line))
            }
            return out
        }
        func pattern(_ s: String, _ key: String, _ line: Int) -> ModulePattern? {
            let bytes = Array(s.utf8)
            let ok = !bytes.isEmpty && bytes.first != UInt8(ascii: ".") && bytes.last != UInt8(ascii: ".") && !bytes.contains(UInt8(ascii: " "))
                && !zip(bytes, bytes.dropFirst()).contains { $0 == UInt8(ascii: ".") && $1 == UInt8(ascii: ".") }
            if !ok { err(key, line, "'\(s)' is not a module pattern (dotted names, `*` allowed: ember.core, ember.*)") ; return nil }
            return ModulePattern(s)
        }

        for key in table.keys {
            guard let value = table[key] else { continue }
            let line = table.entry(key)?.line ?? value.line
            switch key {
            case "type-checking-imports":
                if case .string(let s) = value.kind, let policy = TypeCheckingPolicy(rawValue: s) {
                    rules.typeChecking = policy
                } else {
                    err(key, line, "expected \"counted\" or \"ignored\"")
                }
            case "target-version":
                if case .string(let s) = value.kind, let version = PythonVersion(s) {
                    rules.targetVersion = version
                } else {
                    err(key, line, "expected a Python version from \(PythonVersion.oldest) to \(PythonVersion.newest), such as \"3.12\"")
                }
            case "cycles", "init-exports-only", "respect-gitignore":
                guard case .bool(let b) = value.kind else { err(key, line, "expected true or false, found a \(value.typeName)"); continue }
                if key == "cycles" { rules.reportCycles = b } else if key == "respect-gitignore" { rules.respectGitignore = b } else { rules.initExportsOnly = b }
            case "source-roots":
                if let items = strings(value, key) { rules.sourceRoots = items.map(\.0); rules.sourceRootsLine = line }
            case "exclude", "extend-exclude":
                if let items = strings(value, key) {
                    if key == "exclude" { rules.exclude = items.map(\.0) } else { rules.extendExclude = items.map(\.0) }
                }
            case "layers":
                guard case .array(let items) = value.kind else { err(key, line, "expected [[layers]] tables, found a \(value.typeName)"); continue }
                var seen: Set<String> = []
                for item in items {
                    guard case .table(let t) = item.kind else { err(key, item.line, "expected a table, found a \(item.typeName)"); continue }
                    var layer = Layer(name: "", modules: [], mayImport: [])
                    layer.line = item.line
                    var hasModules = false
                    for k in t.keys {
                        guard let v = t[k] else { continue }
                        let kl = t.entry(k)?.line ?? v.line
                        let full = "layers." + k
                        switch k {
                        case "name":
                            guard case .string(let s) = v.kind, !s.isEmpty else { err(full, kl, "expected a non-empty string"); continue }
                            if !seen.insert(s).inserted { err(full, kl, "layer '\(s)' is defined twice") }
                            layer.name = s
                        case "modules":
                            hasModules = true
                            for (s, l) in strings(v, full) ?? [] { if let p = pattern(s, full, l) { layer.modules.append(p) } }
                        case "may-import":
                            for (s, l) in strings(v, full) ?? [] {
                                switch s {
                                case "stdlib": layer.mayImport.append(.stdlib)
                                case "third-party": layer.mayImport.append(.thirdParty)
                                default: if let p = pattern(s, full, l) { layer.mayImport.append(.modules(p)) }
                                }
                            }
                        case "may-not-import":
                            for (s, l) in strings(v, full) ?? [] { if let p = pattern(s, full, l) { layer.mayNotImport.append(p) } }
                        default:
                            err(full, kl, "unknown key (a layer has: name, modules, may-import, may-not-import)")
                        }
                    }
                    if layer.name.isEmpty && t["name"] == nil { err("layers", item.line, "a layer needs a 'name'") }
                    if !hasModules { err("layers", item.line, "layer '\(layer.name)' needs 'modules'") }
                    rules.layers.append(layer)
                }
            case "ignore":
                guard case .array(let items) = value.kind else { err(key, line, "expected [[ignore]] tables, found a \(value.typeName)"); continue }
                for item in items {
                    guard case .table(let t) = item.kind else { err(key, item.line, "expected a table, found a \(item.typeName)"); continue }
                    var importer: ModulePattern?, imported: ModulePattern?, reason = ""
                    for k in t.keys {
                        guard let v = t[k] else { continue }
                        let kl = t.entry(k)?.line ?? v.line
                        let full = "ignore." + k
                        guard case .string(let s) = v.kind else {
                            err(full, kl, t.keys.contains(k) && ["importer", "imported", "reason"].contains(k) ? "expected a string, found a \(v.typeName)" : "unknown key (an ignore has: importer, imported, reason)")
                            continue
                        }
                        switch k {
                        case "importer": importer = pattern(s, full, kl)
                        case "imported": imported = pattern(s, full, kl)
                        case "reason": reason = s.trimmingSpaces()
                        default: err(full, kl, "unknown key (an ignore has: importer, imported, reason)")
                        }
                    }
                    if t["importer"] == nil || t["imported"] == nil {
                        err("ignore", item.line, "an ignore needs 'importer' and 'imported'")
                    }
                    if reason.isEmpty {
                        err("ignore.reason", t.entry("reason")?.line ?? item.line, "an ignore needs a non-empty reason saying why the import is accepted")
                    }
                    if let importer, let imported, !reason.isEmpty {
                        rules.ignores.append(ImportIgnore(importer: importer, imported: imported, reason: reason, line: item.line))
                    }
                }
            default:
                err(key, line, "unknown key (known: \(topKeys.sorted().joined(separator: ", ")))")
            }
        }
        return (rules, errors)
    }

    /// Parses a whole file. For a pyproject.toml the rules are `[tool.ember-lint]`; nil
    /// when the file has no such table. The whole file must be TOML 1.0 (a syntax error
    /// anywhere is an error naming line and column), but only the rules are validated: other
    /// tools' tables may hold any TOML.
    public static func parse(fileText: String, file: String, isPyproject: Bool) -> (RuleSet, [ConfigError])? {
        parse(fileBytes: Array(fileText.utf8), file: file, isPyproject: isPyproject)
    }

    public static func parse(fileBytes: [UInt8], file: String, isPyproject: Bool) -> (RuleSet, [ConfigError])? {
        let base = ProjectPath.parent(file)
        let root: TOMLTable
        do {
            root = try TOML.parse(bytes: fileBytes)
        } catch {
            return (RuleSet(), [ConfigError(file: file, line: error.line, key: "", message: "not valid TOML: \(error.message)", column: error.column)])
        }
        if isPyproject {
            guard case .table(let tool)? = root["tool"]?.kind, let section = tool["ember-lint"] else { return nil }
            guard case .table(let t) = section.kind else {
                return (RuleSet(), [ConfigError(file: file, line: section.line, key: "tool.ember-lint", message: "expected a table")])
            }
            var (rules, errors) = parse(table: t, keyPrefix: "tool.ember-lint.", file: file, baseDirectory: base)
            if case .table(let project)? = root["project"]?.kind, case .string(let spec)? = project["requires-python"]?.kind {
                rules.requiresPython = PythonVersion.oldestAllowed(byRequiresPython: spec)
            }
            return (rules, errors)
        }
        return parse(table: root, keyPrefix: "", file: file, baseDirectory: base)
    }

    /// `[project] requires-python` of the nearest pyproject.toml at or above `path` (a
    /// file or folder): the oldest version it allows, nil when none says (or it is not TOML).
    public static func requiresPython(near path: String) -> PythonVersion? {
        var folder = ProjectPath.absolute(path)
        while !folder.isEmpty {
            if let bytes = SourceFileReader.contents(ProjectPath.join(folder, "pyproject.toml")) {
                guard let root = try? TOML.parse(bytes: bytes),
                      case .table(let project)? = root["project"]?.kind,
                      case .string(let spec)? = project["requires-python"]?.kind else { return nil }
                return PythonVersion.oldestAllowed(byRequiresPython: spec)
            }
            let up = ProjectPath.parent(folder)
            if up == folder { break }
            folder = up
        }
        return nil
    }

    /// The shipped default: rules/ember-layers.toml, compiled in.
    public static func builtInDefault() -> RuleSet {
        // The embedded file is checked by a test, so it always parses cleanly.
        let root = (try? TOML.parse(EmbeddedRules.emberLayersTOML)) ?? TOMLTable()
        var (rules, _) = parse(table: root, keyPrefix: "", file: "built-in rules/ember-layers.toml", baseDirectory: "")
        rules.origin = "built-in rules/ember-layers.toml"
        rules.isBuiltIn = true
        return rules
    }

    /// The Swift package's layers (rules/swift-package.toml, compiled in): the rules of a
    /// Swift file inside a Swift package that configures nothing.
    public static func builtInSwiftPackage() -> RuleSet {
        let root = (try? TOML.parse(EmbeddedRules.swiftPackageTOML)) ?? TOMLTable()
        var (rules, _) = parse(table: root, keyPrefix: "", file: "built-in rules/swift-package.toml", baseDirectory: "")
        rules.origin = "built-in rules/swift-package.toml"
        rules.isBuiltIn = true
        return rules
    }
}

/// The configurations of a run, on the project model (`ProjectDiscovery`): `--rules FILE`
/// for every file, else for each file the nearest `ember-lint.toml`, or `pyproject.toml`
/// with a `[tool.ember-lint]` table, at or above it (each package of a workspace may have
/// its own), else the built-in rules: the Swift package's (`rules/swift-package.toml`) for
/// a Swift file with a `Package.swift` above it, the Ember guide's for the rest.
public final class LintProject: @unchecked Sendable {
    public let discovery: ProjectDiscovery
    private let registry: Registry
    /// For files without a configuration.
    public let defaultRules: RuleSet
    public let swiftRules: RuleSet

    final class Registry: @unchecked Sendable {
        let lock = Mutex<(rules: [RuleSet], errors: [ConfigError])>(([], []))
    }

    /// `rulesFile`: `--rules`. Configuration files are read as the discovery reaches them:
    /// those above the given paths now, the others during the walk.
    public init(paths: [String], rulesFile: String?, defaultRules: RuleSet = RuleSetParser.builtInDefault()) {
        let registry = Registry()
        self.registry = registry
        self.defaultRules = defaultRules
        swiftRules = RuleSetParser.builtInSwiftPackage()
        var options = DiscoveryOptions()
        if let rulesFile {
            var (rules, errors) = LintProject.load(rulesFile: rulesFile)
            if rules.baseDirectory.isEmpty { rules.baseDirectory = "." }
            registry.lock.withLock { $0.rules.append(rules); $0.errors += errors }
            options.fixedConfiguration = LintProject.configuration(rules, folder: ProjectPath.absolute(rules.baseDirectory), file: rulesFile)
            discovery = ProjectDiscovery(paths: paths, options: options, loader: nil)
        } else {
            discovery = ProjectDiscovery(paths: paths, options: options) { folder, markers in
                for (name, marker) in [("ember-lint.toml", FolderMarkers.emberLintToml), ("pyproject.toml", .pyproject)] where markers.contains(marker) {
                    let path = ProjectPath.join(folder, name)
                    guard let data = SourceFileReader.contents(path) else { continue }
                    let display = ProjectPath.display(path)
                    guard case (var rules, let errors)? = RuleSetParser.parse(fileBytes: data, file: display, isPyproject: marker == .pyproject) else { continue }
                    rules.baseDirectory = folder
                    registry.lock.withLock { $0.rules.append(rules); $0.errors += errors }
                    return LintProject.configuration(rules, folder: folder, file: display)
                }
                return nil
            }
        }
    }

    /// One rule set for every file (the library's `LintOptions` without a project).
    public init(paths: [String], fixedRules: RuleSet) {
        let registry = Registry()
        self.registry = registry
        defaultRules = fixedRules
        swiftRules = fixedRules
        registry.lock.withLock { $0.rules.append(fixedRules) }
        var options = DiscoveryOptions()
        let folder = ProjectPath.absolute(fixedRules.baseDirectory.isEmpty ? "." : fixedRules.baseDirectory)
        options.fixedConfiguration = LintProject.configuration(fixedRules, folder: folder, file: fixedRules.origin)
        discovery = ProjectDiscovery(paths: paths, options: options, loader: nil)
    }

    /// The rules of one file (while the walk may still be adding configurations).
    func rules(for file: ProjectFile) -> RuleSet {
        if file.configuration >= 0 { return registry.lock.withLock { $0.rules[Int(file.configuration)] } }
        return file.language == .swift && file.inSwiftPackage ? swiftRules : defaultRules
    }

    /// Where a file's rules are in `ruleSets + [defaultRules, swiftRules]` (`configurations`:
    /// the count of `ruleSets`).
    func ruleIndex(of file: ProjectFile, configurations: Int) -> Int {
        if file.configuration >= 0 { return Int(file.configuration) }
        return file.language == .swift && file.inSwiftPackage ? configurations + 1 : configurations
    }

    /// The rules a `ProjectConfiguration` of this run stands for.
    static func configuration(_ rules: RuleSet, folder: String, file: String) -> ProjectConfiguration {
        var c = ProjectConfiguration(folder: folder, file: file)
        c.sourceRoots = rules.sourceRoots.isEmpty ? nil : rules.sourceRoots
        c.exclude = rules.exclude
        c.extendExclude = rules.extendExclude
        c.respectGitignore = rules.respectGitignore
        return c
    }

    /// Every configuration read so far, in the discovery's order.
    public var ruleSets: [RuleSet] { registry.lock.withLock { $0.rules } }
    public var errors: [ConfigError] { registry.lock.withLock { $0.errors } }

    /// The rules of the first path: its configuration, else the built-in ones.
    public var firstRules: RuleSet {
        let k = discovery.firstConfiguration
        return k >= 0 ? ruleSets[k] : defaultRules
    }

    static func load(rulesFile: String) -> (RuleSet, [ConfigError]) {
        guard let data = SourceFileReader.contents(rulesFile) else {
            return (RuleSet(), [ConfigError(file: rulesFile, line: 0, key: "", message: "cannot read the rules file (check the path given to --rules)")])
        }
        let isPyproject = ProjectPath.lastComponent(rulesFile) == "pyproject.toml"
        if let parsed = RuleSetParser.parse(fileBytes: data, file: rulesFile, isPyproject: isPyproject) { return parsed }
        return (RuleSet(), [ConfigError(file: rulesFile, line: 1, key: "tool.ember-lint", message: "this pyproject.toml has no [tool.ember-lint] table")])
    }
}

/// Compatibility: the configuration of one path, as the project model finds it.
public enum ConfigDiscovery {
    public static func load(rulesFile: String?, firstPath: String) -> (RuleSet, [ConfigError]) {
        let project = LintProject(paths: [firstPath], rulesFile: rulesFile)
        return (project.firstRules, project.errors)
    }
}
