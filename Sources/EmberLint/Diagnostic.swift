/// Every kind of finding ember-lint reports. The code is stable: suppressions and baselines name it.
public enum DiagnosticCode: String, Codable, Sendable, CaseIterable, Comparable {
    case layerViolation = "EL001"
    case externalNotAllowed = "EL002"
    case initLogic = "EL003"
    case importCycle = "EL004"
    case relativeImportBeyondTop = "EL005"
    case dynamicImport = "EL006"
    case indirectLayerViolation = "EL007"
    case suppressionWithoutReason = "EL008"
    case unusedSuppression = "EL009"
    case unreadableFile = "EL100"
    case syntaxError = "EL101"
    case syntaxNewerThanRequiresPython = "EL102"

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    public var title: String {
        switch self {
        case .layerViolation: "layer-violation"
        case .externalNotAllowed: "external-import-not-allowed"
        case .initLogic: "init-exports-only"
        case .importCycle: "import-cycle"
        case .relativeImportBeyondTop: "relative-import-beyond-top-package"
        case .dynamicImport: "dynamic-import"
        case .indirectLayerViolation: "indirect-layer-violation"
        case .suppressionWithoutReason: "suppression-without-reason"
        case .unusedSuppression: "unused-suppression"
        case .unreadableFile: "unreadable-file"
        case .syntaxError: "syntax-error"
        case .syntaxNewerThanRequiresPython: "syntax-newer-than-requires-python"
        }
    }

    public var summary: String {
        switch self {
        case .layerViolation: "A module imports an internal module its layer may not import."
        case .externalNotAllowed: "A module imports a standard-library or third-party module its layer may not import."
        case .initLogic: "A governed package's __init__.py contains logic; it may only export the public API."
        case .importCycle: "Modules import each other in a cycle."
        case .relativeImportBeyondTop: "A relative import climbs above the top-level package."
        case .dynamicImport: "importlib.import_module with a computed name: the import cannot be checked."
        case .indirectLayerViolation: "A layer reaches a forbidden layer through a chain of allowed imports."
        case .suppressionWithoutReason: "An ember-lint: ignore comment without a reason."
        case .unusedSuppression: "An ember-lint: ignore comment that suppresses nothing."
        case .unreadableFile: "A file could not be read or decoded."
        case .syntaxError: "A file has a syntax error; its imports may be incomplete."
        case .syntaxNewerThanRequiresPython: "A file uses syntax the oldest Python that requires-python allows cannot parse (with --check-syntax)."
        }
    }

    public var defaultSeverity: Severity {
        switch self {
        case .dynamicImport: .warning
        default: .error
        }
    }
}

public enum Severity: String, Codable, Sendable, Comparable {
    case warning, error
    public static func < (a: Self, b: Self) -> Bool { a == .warning && b == .error }
}

/// One finding. Positions are UTF-8 byte offsets into the file; line (1-based) and
/// column (1-based, in bytes) are derived from them with EmberUtils.LineTable.
public struct Diagnostic: Codable, Sendable, Hashable {
    public var code: DiagnosticCode
    public var severity: Severity
    public var path: String
    public var startOffset: Int
    public var endOffset: Int
    public var line: Int
    public var column: Int
    public var message: String
    /// Further lines: the import chain of a cycle, the rule that forbids an import.
    public var notes: [String]
    /// Importer and imported module for import findings (baseline matching, JSON).
    public var importer: String?
    public var imported: String?

    public init(code: DiagnosticCode, path: String, startOffset: Int, endOffset: Int, line: Int, column: Int,
                message: String, notes: [String] = [], importer: String? = nil, imported: String? = nil) {
        self.code = code
        self.severity = code.defaultSeverity
        self.path = path
        self.startOffset = startOffset
        self.endOffset = endOffset
        self.line = line
        self.column = column
        self.message = message
        self.notes = notes
        self.importer = importer
        self.imported = imported
    }

    /// Sort order of reports: by file, then position, then code.
    static func ordered(_ a: Diagnostic, _ b: Diagnostic) -> Bool {
        if a.path != b.path { return a.path < b.path }
        if a.line != b.line { return a.line < b.line }
        if a.column != b.column { return a.column < b.column }
        if a.code != b.code { return a.code < b.code }
        return a.message < b.message
    }
}
