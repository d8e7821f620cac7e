import EmberUtils

/// One imported name of a `from` import, with its position.
public struct ImportedName: Sendable, Hashable {
    public var name: String
    public var offset: Int
    public var end: Int
}

/// One Python import as written, before it is resolved against the module tree.
/// `import a.b, c` gives two statements; `from .x import (y, z)` gives one with two names.
public struct PythonImportStatement: Sendable, Hashable {
    /// Leading dots of a relative import (0: absolute).
    public var level: Int
    /// The dotted module after `import` / `from` (may be empty in `from . import x`).
    public var module: String
    /// The module name's span (or the dots' span when the module is empty).
    public var offset: Int
    public var end: Int
    /// Names after `from ... import`; nil for `import a.b`. `*` for a star import.
    public var names: [ImportedName]?
    /// Inside `if TYPE_CHECKING:` / `if typing.TYPE_CHECKING:`.
    public var typeChecking: Bool
    /// `importlib.import_module("literal")` (or `__import__("literal")`).
    public var dynamic: Bool

    public init(level: Int, module: String, offset: Int, end: Int, names: [ImportedName]?, typeChecking: Bool = false, dynamic: Bool = false) {
        self.level = level
        self.module = module
        self.offset = offset
        self.end = end
        self.names = names
        self.typeChecking = typeChecking
        self.dynamic = dynamic
    }
}

/// The facts ember-lint needs from one Python file.
public struct PythonFileFacts: Sendable {
    public var imports: [PythonImportStatement] = []
    /// `importlib.import_module(expr)` whose argument is not a string literal.
    public var computedDynamicImports: [(offset: Int, end: Int)] = []
    /// Top-level statements of an `__init__.py` that are logic (def, class, loops, calls, ...).
    public var initLogic: [(offset: Int, end: Int, what: String)] = []
    public var suppressions: [Suppression] = []
    /// Tokenizer or syntax errors: message and offset.
    public var syntaxErrors: [(offset: Int, message: String)] = []
    /// Where lines start in the analysed text (offsets above are into that text).
    public var lines: FileLines
    /// The text encoding the file declared or was detected in.
    public var encoding: String = "utf-8"

    /// A table of the lines (built on demand when the facts hold only the text).
    public var lineTable: LineTable { lines.table ?? LineTable(lines.text) }

    public init(lineTable: LineTable) { self.lines = FileLines(table: lineTable) }
    public init(lines: FileLines) { self.lines = lines }
    /// Facts without lines (restored from the cache; positions come from PositionMap).
    public init() { self.lines = FileLines() }
}

/// Line positions in one file's text: a LineTable when one was built anyway, else the
/// text itself, whose line breaks are counted only up to the offsets asked about (most
/// files need a handful of positions near their top).
public struct FileLines: Sendable, LineTableLike {
    public var table: LineTable?
    public var text: [UInt8]

    public init(table: LineTable) {
        self.table = table
        text = []
    }

    public init(text: [UInt8] = []) {
        table = nil
        self.text = text
    }

    public func location(of offset: Int) -> (line: Int, column: Int) {
        if let table { return table.location(of: offset) }
        return locations(ofAscending: [offset])[0]
    }

    public func locations(ofAscending offsets: [Int]) -> [(line: Int, column: Int)] {
        if let table { return offsets.map { table.location(of: $0) } }
        return text.withUnsafeBufferPointer { LineTable.locations(ofAscending: offsets, in: $0) }
    }
}

/// A problem that stops a Python file from being analysed at all (undecodable bytes).
public struct PythonFileFailure: Error, Sendable {
    public var message: String
    public var offset: Int
}

/// The seam between ember-lint and a Python front end: given a file's bytes, the import
/// facts. The implementation is built on EmberPython's tokenizer.
public protocol PythonImportExtractor: Sendable {
    func extract(_ bytes: [UInt8], isPackageInit: Bool) -> Result<PythonFileFacts, PythonFileFailure>
}

/// Where a resolved import points.
public enum ImportTargetKind: String, Sendable, Codable {
    case `internal`, stdlib, thirdParty = "third-party"
}

/// Python import resolution against the set of modules found in the tree.
public struct PythonModuleIndex: Sendable {
    /// Every module and package (regular and namespace) found under the source roots.
    public let modules: Set<String>
    /// Top-level names of those modules: an import of one of these is internal.
    public let topLevel: Set<String>

    public init(modules: Set<String>) {
        var all = modules
        var top: Set<String> = []
        // Every package above a module exists too (namespace packages have no file). Dots
        // are found on bytes; a parent already present stops the climb (it is itself a
        // module of the set, or was added by a climb that went on above it).
        for m in modules {
            let utf8 = m.utf8
            var end = utf8.endIndex
            var firstDot: String.Index?
            while let dot = utf8[utf8.startIndex..<end].lastIndex(of: UInt8(ascii: ".")) {
                firstDot = dot
                end = dot
                if !all.insert(String(m[..<dot])).inserted {
                    firstDot = utf8.firstIndex(of: UInt8(ascii: "."))
                    break
                }
            }
            top.insert(firstDot.map { String(m[..<$0]) } ?? m)
        }
        self.modules = all
        topLevel = top
    }

    /// The absolute package a relative import of `level` dots starts from, or nil when it
    /// climbs above the top-level package.
    public static func base(of module: String, isPackage: Bool, level: Int) -> String? {
        // Drop the module's last name (a module, not a package, is inside its parent),
        // then `level - 1` more, on the bytes: each drop cuts at the last dot left.
        let utf8 = module.utf8
        guard !utf8.isEmpty else { return nil }
        var end = utf8.endIndex
        var drops = (isPackage ? 0 : 1) + level - 1
        while drops > 0 {
            guard let dot = utf8[utf8.startIndex..<end].lastIndex(of: UInt8(ascii: ".")) else {
                // Dropping the last remaining name leaves nothing: above the top package.
                return nil
            }
            end = dot
            drops -= 1
        }
        return end == utf8.endIndex ? module : String(module[..<end])
    }

    /// The modules one statement imports. `from x import y` gives `x.y` when that is a
    /// module of the tree, else `x`; a star import gives `x`.
    public func resolve(_ statement: PythonImportStatement, importer: String, importerIsPackage: Bool) -> [(module: String, offset: Int, end: Int)]? {
        var base = statement.module
        if statement.level > 0 {
            guard let package = PythonModuleIndex.base(of: importer, isPackage: importerIsPackage, level: statement.level) else { return nil }
            base = statement.module.isEmpty ? package : package + "." + statement.module
        }
        guard let names = statement.names else {
            return [(base, statement.offset, statement.end)]
        }
        var out: [(String, Int, Int)] = []
        var addedBase = false
        for name in names {
            let candidate = base + "." + name.name
            if name.name != "*", modules.contains(candidate) {
                out.append((candidate, name.offset, name.end))
            } else if !addedBase {
                out.append((base, statement.offset, statement.end))
                addedBase = true
            }
        }
        if out.isEmpty { out.append((base, statement.offset, statement.end)) }
        return out
    }
}
