/// A qualified Python name: the module that defines or re-exports it, and the name.
public struct QualifiedName: Hashable, Sendable, CustomStringConvertible {
    public var module: String
    public var name: String
    public init(module: String, name: String) {
        self.module = module
        self.name = name
    }
    public var description: String { "\(module).\(name)" }
}

/// What a legacy name stands for.
public enum LegacySymbol: Hashable, Sendable {
    case operatorBase
    case chain
    case ensemble
    /// A class every legacy operator is an instance of (`EmberModule`): isinstance checks
    /// against it accept converted modules too; subclassing it alone makes no operator.
    case operatorAncestor
}

/// A name the rewritten code uses: `from MODULE import FIRST` and the dotted `NAME`
/// (e.g. module `ember.api`, name `operators.op` imports `operators` and uses `operators.op`).
public struct TargetName: Hashable, Sendable {
    public var module: String
    public var name: String
    public var importedName: String { String(name.split(separator: ".").first ?? Substring(name)) }
}

/// The data ember-migrate works from (rules/migrate/legacy.rules plus `--rules` files).
public struct MigrationRules: Sendable {
    public var symbols: [QualifiedName: LegacySymbol] = [:]
    public var importMapping: [QualifiedName: QualifiedName] = [:]
    public var legacyModulePrefixes: [String] = []
    public var behaviourMethods: [String] = []
    public var specAttributes: Set<String> = []
    public var functionDecorators: Set<String> = []
    public var moduleDecorator = TargetName(module: "ember_runtime", name: "module")
    public var chainFunction = TargetName(module: "ember_runtime", name: "chain")
    public var ensembleFunction = TargetName(module: "ember_runtime", name: "ensemble")
    public var adapterFunction = TargetName(module: "ember_runtime", name: "migrate_operator_to_module")
    /// The runtime's base class of converted operators (for `isinstance(x, Operator)`).
    public var operatorModuleClass = TargetName(module: "ember_runtime", name: "OperatorModule")
    /// Modules defining the legacy exception classes the runtime raises when a program uses them.
    public var legacyExceptionModules: [String] = []

    public init() {}

    /// The rules compiled into the binary.
    public static func builtIn() -> MigrationRules {
        var rules = MigrationRules()
        // The compiled text is checked against rules/ by a test, so it always parses.
        try! rules.add(text: DefaultMigrationRules.text, file: "rules/migrate/legacy.rules")
        return rules
    }

    /// Points every target at another runtime module (`[tool.ember-migrate] runtime-module`).
    public mutating func setRuntimeModule(_ module: String) {
        for path in [\MigrationRules.moduleDecorator, \.chainFunction, \.ensembleFunction, \.adapterFunction, \.operatorModuleClass] {
            self[keyPath: path].module = module
        }
    }

    /// True when `module` is, or lies under, a legacy module prefix.
    public func isLegacyModule(_ module: String) -> Bool {
        // No string building: this runs for every import of every file.
        legacyModulePrefixes.contains { prefix in
            module.hasPrefix(prefix) && (module.utf8.count == prefix.utf8.count || module.utf8.dropFirst(prefix.utf8.count).first == UInt8(ascii: "."))
        }
    }

    /// Adds the entries of a rules text; errors name the file and line.
    public mutating func add(text: String, file: String) throws(MigrationRulesError) {
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            guard let kind = fields.first else { continue }
            func fail(_ message: String) -> MigrationRulesError {
                MigrationRulesError(file: file, line: lineNumber, message: message)
            }
            func expectCount(_ n: Int, _ usage: String) throws(MigrationRulesError) {
                guard fields.count == n else { throw fail("'\(kind)' expects: \(usage)") }
            }
            switch kind {
            case "operator-base", "chain", "ensemble", "operator-ancestor":
                try expectCount(3, "\(kind) MODULE NAME")
                let symbol: LegacySymbol = kind == "operator-base" ? .operatorBase : kind == "chain" ? .chain : kind == "ensemble" ? .ensemble : .operatorAncestor
                symbols[QualifiedName(module: fields[1], name: fields[2])] = symbol
            case "import":
                guard fields.count == 6, fields[3] == "->" else { throw fail("'import' expects: import MODULE NAME -> NEWMODULE NEWNAME") }
                importMapping[QualifiedName(module: fields[1], name: fields[2])] = QualifiedName(module: fields[4], name: fields[5])
            case "legacy-exceptions":
                try expectCount(2, "legacy-exceptions MODULE")
                if !legacyExceptionModules.contains(fields[1]) { legacyExceptionModules.append(fields[1]) }
            case "legacy-module":
                try expectCount(2, "legacy-module PREFIX")
                legacyModulePrefixes.append(fields[1])
            case "behaviour-method":
                try expectCount(2, "behaviour-method NAME")
                if !behaviourMethods.contains(fields[1]) { behaviourMethods.append(fields[1]) }
            case "spec-attribute":
                try expectCount(2, "spec-attribute NAME")
                specAttributes.insert(fields[1])
            case "function-decorator":
                try expectCount(2, "function-decorator NAME")
                functionDecorators.insert(fields[1])
            case "target":
                try expectCount(4, "target module|chain|ensemble|adapter|operator-module MODULE NAME")
                let target = TargetName(module: fields[2], name: fields[3])
                guard target.name.split(separator: ".").allSatisfy({ isIdentifier($0) }) else {
                    throw fail("'\(fields[3])' is not a Python name")
                }
                switch fields[1] {
                case "module": moduleDecorator = target
                case "chain": chainFunction = target
                case "ensemble": ensembleFunction = target
                case "adapter": adapterFunction = target
                case "operator-module": operatorModuleClass = target
                default: throw fail("unknown target role '\(fields[1])' (use module, chain, ensemble, adapter or operator-module)")
                }
            default:
                throw fail("unknown entry '\(kind)' (use operator-base, operator-ancestor, chain, ensemble, import, legacy-module, legacy-exceptions, behaviour-method, spec-attribute, function-decorator or target)")
            }
        }
    }
}

func isIdentifier<S: StringProtocol>(_ s: S) -> Bool {
    guard let first = s.unicodeScalars.first, first == "_" || first.properties.isXIDStart else { return false }
    return s.unicodeScalars.allSatisfy { $0 == "_" || $0.properties.isXIDContinue }
}

public struct MigrationRulesError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String
    public var description: String { "\(file):\(line): \(message)" }
}
