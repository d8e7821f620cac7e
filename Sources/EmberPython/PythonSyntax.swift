import EmberUtils

/// Node kinds: CPython's `ast` classes (statements, expressions and the helper nodes).
public enum PythonNodeKind: UInt8, Sendable, Hashable, CaseIterable {
    // statements
    case functionDef, asyncFunctionDef, classDef, `return`, delete, assign, typeAlias, augAssign, annAssign
    case `for`, asyncFor, `while`, `if`, with, asyncWith, match, raise, `try`, tryStar, assert
    case `import`, importFrom, global, nonlocal, expr, pass, `break`, `continue`
    // expressions
    case boolOp, namedExpr, binOp, unaryOp, lambda, ifExp, dict, set, listComp, setComp, dictComp
    case generatorExp, await, yield, yieldFrom, compare, call, formattedValue, joinedStr, constant
    case attribute, `subscript`, starred, name, list, tuple, slice
    /// PEP 750 template strings (3.14): `t"..."` and its `{...}` fields.
    case templateStr, interpolation
    // helpers
    case module, arguments, arg, keyword, alias, withItem, comprehension, exceptHandler, matchCase
    case matchValue, matchSingleton, matchSequence, matchMapping, matchClass, matchStar, matchAs, matchOr
    case typeVar, paramSpec, typeVarTuple

    public var isStatement: Bool { rawValue <= PythonNodeKind.continue.rawValue }
    public var isExpression: Bool { rawValue >= PythonNodeKind.boolOp.rawValue && rawValue <= PythonNodeKind.interpolation.rawValue }

    /// The `ast` class name, e.g. "FunctionDef", "Name", "match_case".
    public var astName: String { PythonNodeKind.astNames[Int(rawValue)] }

    static let astNames: [String] = [
        "FunctionDef", "AsyncFunctionDef", "ClassDef", "Return", "Delete", "Assign", "TypeAlias", "AugAssign", "AnnAssign",
        "For", "AsyncFor", "While", "If", "With", "AsyncWith", "Match", "Raise", "Try", "TryStar", "Assert",
        "Import", "ImportFrom", "Global", "Nonlocal", "Expr", "Pass", "Break", "Continue",
        "BoolOp", "NamedExpr", "BinOp", "UnaryOp", "Lambda", "IfExp", "Dict", "Set", "ListComp", "SetComp", "DictComp",
        "GeneratorExp", "Await", "Yield", "YieldFrom", "Compare", "Call", "FormattedValue", "JoinedStr", "Constant",
        "Attribute", "Subscript", "Starred", "Name", "List", "Tuple", "Slice", "TemplateStr", "Interpolation",
        "Module", "arguments", "arg", "keyword", "alias", "withitem", "comprehension", "ExceptHandler", "match_case",
        "MatchValue", "MatchSingleton", "MatchSequence", "MatchMapping", "MatchClass", "MatchStar", "MatchAs", "MatchOr",
        "TypeVar", "ParamSpec", "TypeVarTuple",
    ]
}

/// The field of its parent a child sits in (CPython's `ast` field names, camel-cased).
public enum PythonRole: UInt8, Sendable, Hashable {
    case body, orelse, finalbody, handler, decorator, returns, arguments, typeParam, base, keyword
    case value, target, annotation, iter, test, msg, exc, cause, item, contextExpr, optionalVars
    case subject, matchCase, pattern, guardTest, left, right, operand, elt, key, generator, comparator
    case function, arg, slice, lower, upper, step, ifCondition, type, name
    case posonlyArg, argParam, vararg, kwonlyArg, kwDefault, kwarg, defaultValue
    case alias, cls, kwdPattern, bound, formatSpec, element
}

public typealias PythonNodeID = Int32

/// One syntax node: kind, byte span in `PythonSource.text`, children, and a main token.
public struct PythonNode: Sendable, Hashable {
    public var kind: PythonNodeKind
    @usableFromInline var storedStart: Int32
    @usableFromInline var storedEnd: Int32
    /// Byte offsets in `PythonSource.text` (stored in 32 bits: 28 bytes per node).
    public var start: Int {
        @inlinable get { Int(storedStart) }
        set { storedStart = Int32(newValue) }
    }
    public var end: Int {
        @inlinable get { Int(storedEnd) }
        set { storedEnd = Int32(newValue) }
    }
    /// Range of this node's children in `PythonSyntaxTree.childIDs` / `childRoles`.
    public var childStart: Int32
    public var childCount: Int32
    /// Index in `PythonSyntaxTree.tokens` of the token that names the node: the identifier
    /// of Name/FunctionDef/ClassDef/arg/keyword/alias/Attribute (attr)/Global names start,
    /// the operator of BinOp/UnaryOp/BoolOp/AugAssign, the first token of ImportFrom's
    /// module; -1 when there is none.
    public var token: Int32
    /// Kind-specific: ImportFrom level (leading dots); alias/ExceptHandler/MatchAs/MatchStar
    /// token of the bound name (`as x`), keyword with `**` = -1; otherwise 0.
    public var aux: Int32

    init(kind: PythonNodeKind, start: Int, end: Int, childStart: Int32, childCount: Int32, token: Int32, aux: Int32) {
        self.kind = kind
        self.storedStart = Int32(truncatingIfNeeded: start)
        self.storedEnd = Int32(truncatingIfNeeded: end)
        self.childStart = childStart
        self.childCount = childCount
        self.token = token
        self.aux = aux
    }
}

/// The result of parsing: tokens, nodes in an arena, diagnostics. `root` is the Module.
public struct PythonSyntaxTree: Sendable {
    public let source: PythonSource
    public let tokens: [PythonToken]
    public let nodes: [PythonNode]
    public let childIDs: [PythonNodeID]
    public let childRoles: [PythonRole]
    public let root: PythonNodeID
    /// Tokenizer and parser diagnostics, empty when the file is valid: the first is the
    /// error CPython reports (not always the earliest: a NUL byte anywhere, or a tokenizer
    /// error CPython meets when it re-scans the file after a parse error), the others follow
    /// earliest first.
    public let diagnostics: [PythonDiagnostic]

    public subscript(_ id: PythonNodeID) -> PythonNode { nodes[Int(id)] }

    public var isValid: Bool { diagnostics.isEmpty }

    /// Children of `id` in CPython `ast` field order, optionally only those in `role`.
    public func children(of id: PythonNodeID, role: PythonRole? = nil) -> [PythonNodeID] {
        let n = nodes[Int(id)]
        var out: [PythonNodeID] = []
        for k in Int(n.childStart)..<Int(n.childStart + n.childCount) where role == nil || childRoles[k] == role {
            out.append(childIDs[k])
        }
        return out
    }

    /// The number of levels of the deepest path from the root (the root alone is 1), counted
    /// without recursion; stops counting once it passes `limit` (and returns a value above it).
    public func depth(upTo limit: Int) -> Int {
        var deepest = 0
        var stack: [(PythonNodeID, Int)] = [(root, 1)]
        while let (id, level) = stack.popLast() {
            if level > deepest {
                deepest = level
                if deepest > limit { return deepest }
            }
            let n = nodes[Int(id)]
            for k in Int(n.childStart)..<Int(n.childStart + n.childCount) { stack.append((childIDs[k], level + 1)) }
        }
        return deepest
    }

    /// (role, child) pairs of `id` in field order.
    public func roledChildren(of id: PythonNodeID) -> [(role: PythonRole, node: PythonNodeID)] {
        let n = nodes[Int(id)]
        return (Int(n.childStart)..<Int(n.childStart + n.childCount)).map { (childRoles[$0], childIDs[$0]) }
    }

    public func text(of id: PythonNodeID) -> String {
        let n = nodes[Int(id)]
        return String(decoding: source.text[n.start..<n.end], as: UTF8.self)
    }

    public func tokenText(_ index: Int32) -> String {
        guard index >= 0 else { return "" }
        let t = tokens[Int(index)]
        return String(decoding: source.text[t.start..<t.end], as: UTF8.self)
    }

    /// Identifier a node carries: Name id, FunctionDef/ClassDef name, Attribute attr,
    /// arg/keyword name, alias name (dotted for `import a.b`), ImportFrom module (dotted).
    public func identifier(of id: PythonNodeID) -> String? {
        let n = nodes[Int(id)]
        if n.kind == .name { return text(of: id) }
        guard n.token >= 0 else {
            // Nodes inside 3.11-style f-strings come from a sub-tokenization: use the span.
            let bytes = source.text[n.start..<n.end]
            switch n.kind {
            case .attribute:
                var k = n.end
                while k > n.start && (bytes[k - 1] >= 0x80 || bytes[k - 1] == 0x5F || (bytes[k - 1] | 0x20) &- 0x61 < 26 || bytes[k - 1] &- 0x30 < 10) { k -= 1 }
                return String(decoding: source.text[k..<n.end], as: UTF8.self)
            case .keyword:
                guard let eq = bytes.firstIndex(of: 0x3D), n.aux != -1 else { return nil }
                return String(decoding: source.text[n.start..<eq], as: UTF8.self).trimmingSpaces()
            default:
                return nil
            }
        }
        switch n.kind {
        case .alias, .importFrom:
            var parts: [String] = []
            var k = Int(n.token)
            parts.append(tokenText(Int32(k)))
            while k + 2 < tokens.count && tokens[k + 1].kind == .op && source.text[tokens[k + 1].start] == 0x2E
                && tokens[k + 2].kind == .name && tokens[k + 1].start < n.end {
                parts.append(tokenText(Int32(k + 2)))
                k += 2
            }
            return parts.joined(separator: ".")
        default:
            return tokenText(n.token)
        }
    }

    /// `as` name of an alias, ExceptHandler, MatchAs or MatchStar.
    public func asName(of id: PythonNodeID) -> String? {
        let n = nodes[Int(id)]
        guard [.alias, .exceptHandler, .matchAs, .matchStar].contains(n.kind), n.aux > 0 else { return nil }
        return tokenText(n.aux)
    }

    /// 1-based line and 0-based byte column of a node's start and end.
    public func location(of id: PythonNodeID) -> (start: (line: Int, column: Int), end: (line: Int, column: Int)) {
        let n = nodes[Int(id)]
        return (source.lineTable.location(of: n.start), source.lineTable.location(of: n.end))
    }

    /// Depth-first pre-order walk in `ast` field order, without recursion.
    public func walk<V: PythonSyntaxVisitor>(_ visitor: inout V, from start: PythonNodeID? = nil) {
        var stack: [(PythonNodeID, Bool)] = [(start ?? root, false)]
        while let (id, leaving) = stack.popLast() {
            if leaving {
                visitor.leave(id, in: self)
                continue
            }
            guard visitor.visit(id, in: self) else { continue }
            stack.append((id, true))
            let n = nodes[Int(id)]
            var k = Int(n.childStart + n.childCount) - 1
            while k >= Int(n.childStart) {
                stack.append((childIDs[k], false))
                k -= 1
            }
        }
    }
}

/// Visitor for `PythonSyntaxTree.walk`: return false from `visit` to skip the children.
public protocol PythonSyntaxVisitor {
    mutating func visit(_ node: PythonNodeID, in tree: PythonSyntaxTree) -> Bool
    mutating func leave(_ node: PythonNodeID, in tree: PythonSyntaxTree)
}

extension PythonSyntaxVisitor {
    public mutating func leave(_ node: PythonNodeID, in tree: PythonSyntaxTree) {}
}

/// A replacement of the bytes `range` with `replacement`.
public struct SourceEdit: Sendable, Hashable {
    public var range: Range<Int>
    public var replacement: [UInt8]

    public init(range: Range<Int>, replacement: [UInt8]) {
        self.range = range
        self.replacement = replacement
    }

    public init(range: Range<Int>, replacement: String) {
        self.init(range: range, replacement: Array(replacement.utf8))
    }
}

public struct SourceEditError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

extension SourceEdit {
    /// Applies non-overlapping edits (any order) to `bytes`. Insertions at the same
    /// offset keep their given order. Throws on overlap or out-of-range edits.
    public static func apply(_ edits: [SourceEdit], to bytes: [UInt8]) throws(SourceEditError) -> [UInt8] {
        let sorted = edits.enumerated().sorted {
            ($0.element.range.lowerBound, $0.element.range.upperBound, $0.offset) < ($1.element.range.lowerBound, $1.element.range.upperBound, $1.offset)
        }.map(\.element)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var at = 0
        for edit in sorted {
            guard edit.range.lowerBound >= at, edit.range.upperBound <= bytes.count else {
                throw SourceEditError(message: edit.range.upperBound > bytes.count
                    ? "edit \(edit.range) is outside the text (\(bytes.count) bytes)"
                    : "edit \(edit.range) overlaps an earlier edit ending at \(at)")
            }
            out += bytes[at..<edit.range.lowerBound]
            out += edit.replacement
            at = edit.range.upperBound
        }
        out += bytes[at...]
        return out
    }
}

extension PythonSource {
    /// Applies edits given in `text` offsets and returns the new file bytes in the file's
    /// own encoding (BOM and codec kept).
    public func applying(_ edits: [SourceEdit]) throws -> [UInt8] {
        let newText = try SourceEdit.apply(edits, to: text)
        return try encode(text: newText)
    }
}

extension PythonSyntaxTree {
    /// One line per statement and expression, pre-order in CPython field order:
    /// "Kind line:col-endline:endcol" (1-based lines, UTF-8 byte columns). The same form
    /// scripts/conformance builds from `ast.parse`, so trees can be compared as text.
    ///
    /// `skippingFStringParts` leaves out JoinedStr and FormattedValue nodes and the literal
    /// Constants directly inside a JoinedStr (the parts whose spans differ between 3.11 and
    /// 3.12), keeping every expression inside replacement fields.
    public func canonicalDump(skippingFStringParts: Bool = false) -> [String] {
        struct Collector: PythonSyntaxVisitor {
            var lines: [String] = []
            var skipParts: Bool
            var parents: [PythonNodeKind] = []
            mutating func leave(_ node: PythonNodeID, in tree: PythonSyntaxTree) { parents.removeLast() }
            mutating func visit(_ node: PythonNodeID, in tree: PythonSyntaxTree) -> Bool {
                let n = tree[node]
                defer { parents.append(n.kind) }
                if skipParts && (n.kind == .joinedStr || n.kind == .formattedValue || n.kind == .templateStr || n.kind == .interpolation
                                 || (n.kind == .constant && (parents.last == .joinedStr || parents.last == .templateStr))) {
                    return true
                }
                if n.kind.isStatement || n.kind.isExpression {
                    let (s, e) = tree.location(of: node)
                    lines.append("\(n.kind.astName) \(s.line):\(s.column)-\(e.line):\(e.column)")
                }
                return true
            }
        }
        var collector = Collector(skipParts: skippingFStringParts)
        walk(&collector)
        return collector.lines
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while let f = scalars.first, f == " " || f == "\t" || f == "\n" || f == "\r" { scalars.removeFirst() }
        while let l = scalars.last, l == " " || l == "\t" || l == "\n" || l == "\r" { scalars.removeLast() }
        return String(scalars)
    }
}
