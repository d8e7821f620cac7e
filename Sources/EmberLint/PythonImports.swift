import EmberProject
import EmberUtils
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
    /// Syntax the target version parses and the oldest version requires-python allows does
    /// not (with --check-syntax): that version's first error, and where.
    public var versionErrors: [(offset: Int, message: String)] = []
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

/// Where a resolved import points.
public enum ImportTargetKind: String, Sendable, Codable {
    case `internal`, stdlib, thirdParty = "third-party"
}

/// Python import resolution against the set of modules found in the tree.
public final class PythonModuleIndex: Sendable {
    /// Every module and package (regular and namespace) found under the source roots, and
    /// the other modules given (Swift targets), numbered in name order: the run's module
    /// numbers.
    let table: ModuleTable
    /// By number: a Python module (else only one of the other modules).
    let isPython: [Bool]

    public init(modules: Set<String>, otherModules: Set<String> = []) {
        var all = modules
        // Every package above a module exists too (namespace packages have no file). Dots
        // are found on bytes; a parent already present stops the climb (it is itself a
        // module of the set, or was added by a climb that went on above it).
        for m in modules {
            let utf8 = m.utf8
            var end = utf8.endIndex
            while let dot = utf8[utf8.startIndex..<end].lastIndex(of: UInt8(ascii: ".")) {
                end = dot
                if !all.insert(String(m[..<dot])).inserted { break }
            }
        }
        table = ModuleTable(otherModules.isEmpty ? all : all.union(otherModules))
        isPython = otherModules.isEmpty ? [Bool](repeating: true, count: table.names.count) : table.names.map { all.contains($0) }
    }

    /// Whether the name ends in ".__init__" (an import of a package's `__init__` module).
    static func isInitModule(_ module: String) -> Bool {
        withUTF8Bytes(module) { b in
            let suffix: StaticString = ".__init__"
            return b.count >= 9 && memcmp(b.baseAddress! + b.count - 9, suffix.utf8Start, 9) == 0
        }
    }

    /// Whether the module numbered `number` (-1: none) is a Python module of the tree.
    @inline(__always) func isPythonModule(_ number: Int32) -> Bool { number >= 0 && isPython[Int(number)] }

    /// Where an import of `module` (numbered `number` in `table`, -1: not in it) points:
    /// into the tree when its top-level name is a module of the tree.
    func classify(_ module: String, number: Int32) -> ImportTargetKind {
        // A module of the tree has its top-level package in the tree.
        if isPythonModule(number) { return .internal }
        return withUTF8Bytes(module) { bytes in
            let top = UnsafeBufferPointer(rebasing: bytes[0..<(bytes.firstIndex(of: UInt8(ascii: ".")) ?? bytes.count)])
            if isPythonModule(table.number(top)) { return .internal }
            return StandardLibraries.pythonTable.number(top) >= 0 ? .stdlib : .thirdParty
        }
    }

    /// The modules one statement imports. `from x import y` gives `x.y` when that is a
    /// module of the tree, else `x`; a star import gives `x`. Nil when a relative import
    /// climbs above the top-level package.
    public func resolve(_ statement: PythonImportStatement, importer: String, importerIsPackage: Bool) -> [(module: String, offset: Int, end: Int)]? {
        var out: [(module: String, offset: Int, end: Int)] = []
        let resolved = forEachTarget(statement, importer: importer, importerIsPackage: importerIsPackage) { module, _, offset, end in
            out.append((module, offset, end))
        }
        return resolved ? out : nil
    }

    /// `resolve`, one target at a time, with its number in `table` (-1: none); false when
    /// a relative import climbs above the top-level package.
    func forEachTarget(_ statement: PythonImportStatement, importer: String, importerIsPackage: Bool,
                       _ body: (_ module: String, _ number: Int32, _ offset: Int, _ end: Int) -> Void) -> Bool {
        var base = statement.module
        if statement.level > 0 {
            guard let package = RelativeImport.base(of: importer, isPackage: importerIsPackage, level: statement.level) else { return false }
            base = statement.module.isEmpty ? package : package + "." + statement.module
        }
        guard let names = statement.names else {
            body(base, table.number(of: base), statement.offset, statement.end)
            return true
        }
        // "base.name" is looked up on bytes: no string is made unless it is a module.
        withUTF8Bytes(base) { baseBytes in
            var addedBase = false
            for name in names {
                let number = name.name == "*" ? -1 : withUTF8Bytes(name.name) { table.number(baseBytes, $0) }
                if isPythonModule(number) {
                    body(table.names[Int(number)], number, name.offset, name.end)
                } else if !addedBase {
                    body(base, table.number(baseBytes), statement.offset, statement.end)
                    addedBase = true
                }
            }
            if names.isEmpty { body(base, table.number(baseBytes), statement.offset, statement.end) }
        }
        return true
    }
}
