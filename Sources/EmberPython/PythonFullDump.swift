/// The whole tree in CPython's `ast` form, as text: every node (statements, expressions and
/// the helper nodes: arguments, arg, keyword, alias, comprehension, ExceptHandler,
/// withitem, match_case, patterns, type parameters) with every field value (identifiers,
/// constants with their Python value, operators, contexts, flags) and the positions of the
/// nodes `ast` gives positions to. scripts/conformance/conformance.py builds the same text
/// from `ast.parse` by walking each node's `_fields`, so the two compare line by line.
///
/// One line per node, pre-order in field order:
///
///     DEPTH FIELD Kind [L:C-L:C] [name=value ...]
///
/// DEPTH counts from the Module (0, field "-"); FIELD is the parent's `ast` field the node
/// sits in (a list field gives one line per element, a `None` element the line
/// `DEPTH FIELD None`); positions are 1-based lines and UTF-8 byte columns with universal
/// newlines, as `ast`. The scalar fields follow in `_fields` order (`type_comment`, always
/// None without type comments, is left out; an empty list of names is left out):
/// identifiers as written, `None` for a missing one; constants as `None`, `True`, `False`,
/// `Ellipsis`, a decimal int, `f:REPR` (a float, Python's repr), `j:REPR` (an imaginary
/// number, the repr of its imaginary part), `s:"..."` / `b:"..."` (str / bytes, each
/// character outside printable ASCII, and `"` and `\`, written `\u{HEX}`); operators and
/// contexts by their class name (`op=Add`, `ops=[Lt,NotIn]`, `ctx=Store`); ints as numbers.
///
/// Values the tree does not store (a literal's decoded value, an operator, a context, a
/// conversion) are derived here from the text, the tokens and the node kinds; the parser's
/// hot path is not involved.
extension PythonSyntaxTree {
    /// The full dump for `target` (f-string parts follow that version's form: 3.12 and later
    /// read them from the split tokens, 3.11 and earlier from the string's text).
    ///
    /// `normalizingIdentifiers` maps a non-ASCII identifier to its NFKC form, as CPython
    /// stores identifiers (`ｗｉｄｔｈ` is `width`); this module has no Unicode
    /// normalization of its own, so callers with Foundation pass
    /// `{ $0.precomposedStringWithCompatibilityMapping }`. Without it identifiers are written
    /// as they appear in the text.
    public func fullDump(target: PythonVersion, normalizingIdentifiers: ((String) -> String)? = nil) -> [String] {
        var dumper = FullTreeDumper(tree: self, target: target, normalize: normalizingIdentifiers)
        return dumper.run()
    }
}

struct FullTreeDumper {
    let tree: PythonSyntaxTree
    let target: PythonVersion
    let text: [UInt8]
    var lines: [String] = []

    let normalize: ((String) -> String)?

    init(tree: PythonSyntaxTree, target: PythonVersion, normalize: ((String) -> String)?) {
        self.tree = tree
        self.target = target
        self.text = tree.source.text
        self.normalize = normalize
    }

    /// An identifier as CPython stores it (NFKC when `normalize` is given).
    func ident(_ s: String) -> String {
        guard let normalize, s.utf8.contains(where: { $0 >= 0x80 }) else { return s }
        return normalize(s)
    }

    /// A 3.11-style f-string's parts, read from its text: a literal run's value, or a
    /// field's conversion and its format spec's parts.
    indirect enum Part {
        case literal([UInt32])
        case field(conversion: Int, spec: [Part]?)
    }

    enum Ctx: UInt8 { case load, store, del }

    struct Item {
        var id: PythonNodeID  // -1: a None element of a list field
        var depth: Int
        var field: String
        var ctx: Ctx = .load
        var part: Part? = nil
        var parts: [Part]? = nil
        /// A part of a JoinedStr or TemplateStr (its `values`).
        var inFString = false
    }

    mutating func run() -> [String] {
        var stack = [Item(id: tree.root, depth: 0, field: "-")]
        while let item = stack.popLast() {
            if item.id < 0 {
                lines.append("\(item.depth) \(item.field) None")
                continue
            }
            let n = tree[item.id]
            var line = "\(item.depth) \(item.field) \(n.kind.astName)"
            if hasPositions(n.kind) {
                let (s, e) = tree.location(of: item.id)
                line += " \(s.line):\(s.column)-\(e.line):\(e.column)"
            }
            line += scalars(item, n)
            lines.append(line)
            let kids = children(item, n)
            stack.append(contentsOf: kids.reversed())
        }
        return lines
    }

    func hasPositions(_ kind: PythonNodeKind) -> Bool {
        switch kind {
        case .module, .arguments, .withItem, .comprehension, .matchCase: return false
        case .alias: return target >= .v3_10
        default: return true
        }
    }

    // MARK: - children

    func fieldName(_ parent: PythonNodeKind, _ role: PythonRole) -> String {
        switch role {
        case .body: return "body"
        case .orelse: return "orelse"
        case .finalbody: return "finalbody"
        case .handler: return "handlers"
        case .decorator: return "decorator_list"
        case .returns: return "returns"
        case .arguments: return "args"
        case .typeParam: return "type_params"
        case .base: return "bases"
        case .keyword: return "keywords"
        case .value:
            switch parent {
            case .joinedStr, .templateStr, .boolOp, .dict: return "values"
            default: return "value"
            }
        case .target: return parent == .assign || parent == .delete ? "targets" : "target"
        case .annotation: return "annotation"
        case .iter: return "iter"
        case .test: return "test"
        case .msg: return "msg"
        case .exc: return "exc"
        case .cause: return "cause"
        case .item: return "items"
        case .contextExpr: return "context_expr"
        case .optionalVars: return "optional_vars"
        case .subject: return "subject"
        case .matchCase: return "cases"
        case .pattern:
            switch parent {
            case .matchSequence, .matchMapping, .matchClass, .matchOr: return "patterns"
            default: return "pattern"
            }
        case .guardTest: return "guard"
        case .left: return "left"
        case .right: return "right"
        case .operand: return "operand"
        case .elt: return "elt"
        case .key: return parent == .dict || parent == .matchMapping ? "keys" : "key"
        case .generator: return "generators"
        case .comparator: return "comparators"
        case .function: return "func"
        case .arg: return "args"
        case .slice: return "slice"
        case .lower: return "lower"
        case .upper: return "upper"
        case .step: return "step"
        case .ifCondition: return "ifs"
        case .type: return "type"
        case .name: return "name"
        case .posonlyArg: return "posonlyargs"
        case .argParam: return "args"
        case .vararg: return "vararg"
        case .kwonlyArg: return "kwonlyargs"
        case .kwDefault: return "kw_defaults"
        case .kwarg: return "kwarg"
        case .defaultValue: return parent == .arguments ? "defaults" : "default_value"
        case .alias: return "names"
        case .cls: return "cls"
        case .kwdPattern: return "kwd_patterns"
        case .bound: return "bound"
        case .formatSpec: return "format_spec"
        case .element: return "elts"
        }
    }

    func childCtx(_ parent: PythonNodeKind, _ role: PythonRole, _ parentCtx: Ctx) -> Ctx {
        switch (parent, role) {
        case (.assign, .target), (.augAssign, .target), (.annAssign, .target), (.for, .target), (.asyncFor, .target),
             (.comprehension, .target), (.namedExpr, .target), (.withItem, .optionalVars), (.typeAlias, .name):
            return .store
        case (.delete, .target):
            return .del
        case (.tuple, .element), (.list, .element), (.starred, .value):
            return parentCtx
        default:
            return .load
        }
    }

    mutating func children(_ item: Item, _ n: PythonNode) -> [Item] {
        let roled = tree.roledChildren(of: item.id)
        var out: [Item] = []
        out.reserveCapacity(roled.count)
        let depth = item.depth + 1
        // 3.11-style f-string parts, read from the text.
        var parts: [Part]? = nil
        if (n.kind == .joinedStr || n.kind == .templateStr) && !target.hasPEP701FStrings {
            parts = item.field == "format_spec" ? item.parts : fstringParts311(n)
        }
        for (k, (role, id)) in roled.enumerated() {
            var child = Item(id: id, depth: depth, field: fieldName(n.kind, role), ctx: childCtx(n.kind, role, item.ctx))
            if let parts {
                child.part = k < parts.count && roled.count == parts.count ? parts[k] : nil
                if child.part == nil { child.field += "?" }  // parts and children disagree: shows as a mismatch
            }
            if role == .formatSpec, case .field(_, let spec)? = item.part { child.parts = spec }
            child.inFString = role == .value && (n.kind == .joinedStr || n.kind == .templateStr)
            out.append(child)
        }
        switch n.kind {
        case .arguments: return withKwDefaultsNone(out, depth: depth)
        case .dict: return withDictKeysNone(out, depth: depth)
        default: return out
        }
    }

    /// `kw_defaults` has one element per keyword-only parameter, None where it has no default.
    func withKwDefaultsNone(_ items: [Item], depth: Int) -> [Item] {
        let kwonly = items.filter { $0.field == "kwonlyargs" }
        guard !kwonly.isEmpty else { return items }
        let defaults = items.filter { $0.field == "kw_defaults" }
        var filled: [Item] = []
        for (k, arg) in kwonly.enumerated() {
            let from = tree[arg.id].end
            let to = k + 1 < kwonly.count ? tree[kwonly[k + 1].id].start : Int.max
            if let d = defaults.first(where: { tree[$0.id].start >= from && tree[$0.id].start < to }) {
                filled.append(d)
            } else {
                filled.append(Item(id: -1, depth: depth, field: "kw_defaults"))
            }
        }
        var out: [Item] = []
        var placed = false
        for item in items where item.field != "kw_defaults" {
            if !placed && (item.field == "kwarg" || item.field == "defaults") {
                out += filled
                placed = true
            }
            out.append(item)
        }
        if !placed { out += filled }
        return out
    }

    /// `keys` has one element per value, None for a `**mapping`.
    func withDictKeysNone(_ items: [Item], depth: Int) -> [Item] {
        let keys = items.filter { $0.field == "keys" }
        let values = items.filter { $0.field == "values" }
        guard keys.count < values.count else { return items }
        var out: [Item] = []
        var next = 0
        var previousEnd = 0
        for v in values {
            let vn = tree[v.id]
            if next < keys.count, tree[keys[next].id].start >= previousEnd, tree[keys[next].id].end <= vn.start {
                out.append(keys[next])
                next += 1
            } else {
                out.append(Item(id: -1, depth: depth, field: "keys"))
            }
            previousEnd = vn.end
        }
        return out + values
    }

    // MARK: - scalar fields

    func ctxName(_ c: Ctx) -> String { c == .load ? "Load" : c == .store ? "Store" : "Del" }

    mutating func scalars(_ item: Item, _ n: PythonNode) -> String {
        let id = item.id
        switch n.kind {
        case .functionDef, .asyncFunctionDef, .classDef:
            return " name=\(ident(tree.tokenText(n.token)))"
        case .augAssign:
            let op = tree.tokenText(n.token)
            return " op=\(binaryOperatorName(Array(op.utf8.dropLast())))"
        case .annAssign:
            let target = tree.children(of: id, role: .target).first.map { tree[$0] }
            let simple = target.map { $0.kind == .name && $0.start == n.start } ?? false
            return " simple=\(simple ? 1 : 0)"
        case .importFrom:
            let module = n.token >= 0 ? ident(tree.identifier(of: id) ?? "?") : "None"
            return " module=\(module) level=\(n.aux)"
        case .global, .nonlocal:
            var names: [String] = []
            var k = Int(n.token)
            while k >= 0 && k < tree.tokens.count && tree.tokens[k].start < n.end {
                if tree.tokens[k].kind == .name { names.append(ident(tree.tokenText(Int32(k)))) }
                k += 1
            }
            return " names=[\(names.joined(separator: ","))]"
        case .boolOp:
            let values = tree.children(of: id)
            guard values.count >= 2 else { return " op=?" }
            let op = operatorText(tree[values[0]].end, tree[values[1]].start)
            return " op=\(op == Array("and".utf8) ? "And" : op == Array("or".utf8) ? "Or" : "?")"
        case .binOp:
            let kids = tree.children(of: id)
            guard kids.count == 2 else { return " op=?" }
            return " op=\(binaryOperatorName(operatorText(tree[kids[0]].end, tree[kids[1]].start)))"
        case .unaryOp:
            guard let operand = tree.children(of: id).first else { return " op=?" }
            let op = operatorText(n.start, tree[operand].start)
            let name: String
            switch op {
            case [0x7E]: name = "Invert"
            case [0x2B]: name = "UAdd"
            case [0x2D]: name = "USub"
            case Array("not".utf8): name = "Not"
            default: name = "?"
            }
            return " op=\(name)"
        case .compare:
            let kids = tree.children(of: id)
            var ops: [String] = []
            for k in 1..<max(kids.count, 1) {
                ops.append(compareOperatorName(operatorText(tree[kids[k - 1]].end, tree[kids[k]].start)))
            }
            return " ops=[\(ops.joined(separator: ","))]"
        case .formattedValue:
            return " conversion=\(conversion(item, n))"
        case .interpolation:
            // PEP 750: the text inside the braces, whitespace included, up to the first
            // top-level '=', '!', ':' or the closing '}', without its comments (CPython 3.14's
            // test_tstring: `t'{x != y # outside\n}'` has the expression "x != y \n").
            var str = "None"
            if let value = tree.children(of: id, role: .value).first {
                var k = tokenIndex(atOrAfter: tree[value].end)
                while k < tree.tokens.count {
                    let t = tree.tokens[k]
                    if t.kind == .op && t.end - t.start == 1 && [0x3D, 0x21, 0x3A, 0x7D].contains(text[t.start]) { break }
                    k += 1
                }
                let end = k < tree.tokens.count ? tree.tokens[k].start : n.end
                str = pyString(debugText(n.start + 1, end))
            }
            return " str=\(str) conversion=\(conversion(item, n))"
        case .constant:
            let (value, kind) = constantValue(item, n)
            return " value=\(value) kind=\(kind)"
        case .attribute:
            return " attr=\(ident(tree.identifier(of: id) ?? "?")) ctx=\(ctxName(item.ctx))"
        case .subscript, .starred, .list, .tuple:
            return " ctx=\(ctxName(item.ctx))"
        case .name:
            return " id=\(ident(tree.text(of: id))) ctx=\(ctxName(item.ctx))"
        case .exceptHandler:
            return " name=\(n.aux > 0 ? ident(tree.tokenText(n.aux)) : "None")"
        case .arg:
            return " arg=\(ident(n.token >= 0 ? tree.tokenText(n.token) : identifier(at: n.start)))"
        case .keyword:
            if n.aux == -1 { return " arg=None" }
            return " arg=\(ident(n.token >= 0 ? tree.tokenText(n.token) : tree.identifier(of: id) ?? "?"))"
        case .alias:
            return " name=\(ident(tree.identifier(of: id) ?? "?")) asname=\(n.aux > 0 ? ident(tree.tokenText(n.aux)) : "None")"
        case .comprehension:
            return " is_async=\(n.aux)"
        case .matchSingleton:
            return " value=\(tree.text(of: id))"
        case .matchMapping:
            return " rest=\(n.aux > 0 ? ident(tree.tokenText(n.aux)) : "None")"
        case .matchClass:
            let attrs = tree.children(of: id, role: .kwdPattern).map { ident(keywordName(before: tree[$0].start)) }
            return attrs.isEmpty ? "" : " kwd_attrs=[\(attrs.joined(separator: ","))]"
        case .matchStar, .matchAs:
            return " name=\(n.aux > 0 ? ident(tree.tokenText(n.aux)) : "None")"
        case .typeVar, .paramSpec, .typeVarTuple:
            return " name=\(ident(tree.tokenText(n.token)))"
        default:
            return ""
        }
    }

    @inline(__always) func isIdentifierByte(_ b: UInt8) -> Bool {
        b >= 0x80 || b == 0x5F || (b | 0x20) &- 0x61 < 26 || b &- 0x30 < 10
    }

    func identifier(at offset: Int) -> String {
        var k = offset
        while k < text.count && isIdentifierByte(text[k]) { k += 1 }
        return String(decoding: text[offset..<k], as: UTF8.self)
    }

    /// The index of the first token starting at or after `offset`.
    func tokenIndex(atOrAfter offset: Int) -> Int {
        var lo = 0, hi = tree.tokens.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if tree.tokens[mid].start < offset { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// A class pattern's keyword: the name before the `=` before the pattern at `offset`.
    func keywordName(before offset: Int) -> String {
        var k = tokenIndex(atOrAfter: offset) - 1
        var sawEqual = false
        while k >= 0 {
            let t = tree.tokens[k]
            if t.kind == .op && text[t.start] == 0x3D { sawEqual = true } else if sawEqual && t.kind == .name { return tree.tokenText(Int32(k)) }
            k -= 1
        }
        return "?"
    }

    /// The operator between two operands: the text of `from..<to` without spaces, line
    /// continuations, comments and parentheses (`) + (` is `+`, `is  not` is `isnot`).
    func operatorText(_ from: Int, _ to: Int) -> [UInt8] {
        var out: [UInt8] = []
        var k = from
        while k < to {
            let b = text[k]
            if b == 0x23 {  // a comment, to the line's end
                while k < to && text[k] != 0x0A && text[k] != 0x0D { k += 1 }
                continue
            }
            if !(b == 0x20 || b == 0x09 || b == 0x0C || b == 0x0A || b == 0x0D || b == 0x5C || b == 0x28 || b == 0x29) {
                out.append(b)
            }
            k += 1
        }
        return out
    }

    func binaryOperatorName(_ op: [UInt8]) -> String {
        switch String(decoding: op, as: UTF8.self) {
        case "+": "Add"
        case "-": "Sub"
        case "*": "Mult"
        case "@": "MatMult"
        case "/": "Div"
        case "%": "Mod"
        case "**": "Pow"
        case "<<": "LShift"
        case ">>": "RShift"
        case "|": "BitOr"
        case "^": "BitXor"
        case "&": "BitAnd"
        case "//": "FloorDiv"
        default: "?"
        }
    }

    func compareOperatorName(_ op: [UInt8]) -> String {
        switch String(decoding: op, as: UTF8.self) {
        case "==": "Eq"
        case "!=": "NotEq"
        case "<": "Lt"
        case "<=": "LtE"
        case ">": "Gt"
        case ">=": "GtE"
        case "is": "Is"
        case "isnot": "IsNot"
        case "in": "In"
        case "notin": "NotIn"
        default: "?"
        }
    }

    // MARK: - f-string fields

    /// FormattedValue.conversion: -1, or the code of 's', 'r', 'a'; a debug field (`{x=}`)
    /// without conversion nor format spec converts with 'r'.
    func conversion(_ item: Item, _ n: PythonNode) -> Int {
        if !target.hasPEP701FStrings {
            if case .field(let c, _)? = item.part { return c }
            return -2
        }
        guard let value = tree.children(of: item.id, role: .value).first else { return -2 }
        var k = tokenIndex(atOrAfter: tree[value].end)
        var debug = false
        var result = -1
        while k < tree.tokens.count {
            let t = tree.tokens[k]
            if t.kind == .comment || t.kind == .nl || (t.kind == .op && text[t.start] == 0x29 && t.end - t.start == 1) { k += 1; continue }
            if t.kind == .op && t.end - t.start == 1 && text[t.start] == 0x3D { debug = true; k += 1; continue }
            if t.kind == .op && t.end - t.start == 1 && text[t.start] == 0x21, k + 1 < tree.tokens.count {
                result = Int(text[tree.tokens[k + 1].start])
            }
            break
        }
        if result == -1 && debug && tree.children(of: item.id, role: .formatSpec).isEmpty { return 0x72 }
        return result
    }

    // MARK: - constants

    mutating func constantValue(_ item: Item, _ n: PythonNode) -> (String, String) {
        if let part = item.part {
            if case .literal(let value) = part { return (pyString(value), "None") }
            return ("?", "None")
        }
        if item.inFString && target.hasPEP701FStrings {
            return (pyString(splitLiteralValue(n.start, n.end)), "None")
        }
        guard n.end > n.start else { return ("?", "None") }
        let b = text[n.start]
        if b &- 0x30 < 10 || (b == 0x2E && n.end - n.start > 1 && text[n.start + 1] &- 0x30 < 10) {
            return (numberValue(n.start, n.end), "None")
        }
        let word = String(decoding: text[n.start..<n.end], as: UTF8.self)
        switch word {
        case "None", "True", "False": return (word, "None")
        case "...": return ("Ellipsis", "None")
        default: break
        }
        // A run of adjacent string literals.
        var k = n.start
        var value: [UInt32] = []
        var isBytes = false
        var kind = "None"
        var first = true
        while k < n.end {
            k = skipTrivia(k, n.end)
            guard k < n.end else { break }
            var isRaw = false
            while text[k] != 0x27 && text[k] != 0x22 {
                let c = text[k] | 0x20
                if c == 0x62 { isBytes = true }
                if c == 0x72 { isRaw = true }
                if text[k] == 0x75 && first { kind = "'u'" }  // CPython: a lowercase 'u' only (`U"x"`: None)
                k += 1
            }
            first = false
            let (bodyStart, bodyEnd, quoteLength) = stringBody(k)
            decodeRun(bodyStart, bodyEnd, raw: isRaw, bytes: isBytes, braces: false, into: &value)
            k = bodyEnd + quoteLength
        }
        return (isBytes ? pyBytes(value) : pyString(value), kind)
    }

    /// Skips spaces, line breaks, backslash continuations and comments.
    func skipTrivia(_ from: Int, _ to: Int) -> Int {
        var k = from
        while k < to {
            let b = text[k]
            if b == 0x20 || b == 0x09 || b == 0x0C || b == 0x0A || b == 0x0D || b == 0x5C { k += 1; continue }
            if b == 0x23 {
                while k < to && text[k] != 0x0A && text[k] != 0x0D { k += 1 }
                continue
            }
            break
        }
        return k
    }

    /// For the quote at `q`: the body's range and the quote length.
    func stringBody(_ q: Int) -> (Int, Int, Int) {
        let quote = text[q]
        let triple = q + 2 < text.count && text[q + 1] == quote && text[q + 2] == quote
        let quoteLength = triple ? 3 : 1
        var k = q + quoteLength
        while k < text.count {
            let c = text[k]
            if c == 0x5C { k += 2; continue }
            if c == quote && (!triple || (k + 2 < text.count && text[k + 1] == quote && text[k + 2] == quote)) { break }
            k += 1
        }
        return (q + quoteLength, min(k, text.count), quoteLength)
    }

    /// A 3.12-form literal part: the string tokens, f-string middles and debug text
    /// ("expr=") in `from..<to`.
    func splitLiteralValue(_ from: Int, _ to: Int) -> [UInt32] {
        var out: [UInt32] = []
        var k = tokenIndex(atOrAfter: from)
        // Only debug text: the range starts right after the field's '{' (`f'{"s"=}'`: the
        // string is the field's expression, not a literal piece).
        if k > 0, tree.tokens[k - 1].kind == .op, tree.tokens[k - 1].end == from, text[tree.tokens[k - 1].start] == 0x7B {
            return debugText(from, to)
        }
        while k < tree.tokens.count && tree.tokens[k].start < to {
            let t = tree.tokens[k]
            switch t.kind {
            case .string:
                var q = t.start
                var isRaw = false
                while text[q] != 0x27 && text[q] != 0x22 {
                    if text[q] | 0x20 == 0x72 { isRaw = true }
                    q += 1
                }
                let (bodyStart, bodyEnd, _) = stringBody(q)
                decodeRun(bodyStart, min(bodyEnd, t.end), raw: isRaw, bytes: false, braces: false, into: &out)
            case .fstringMiddle, .tstringMiddle:
                decodeRun(t.start, min(t.end, to), raw: isRawFString(middle: k), bytes: false, braces: true, into: &out)
            case .fstringStart, .tstringStart, .fstringEnd, .tstringEnd, .nl, .comment:
                break
            default:
                // The debug text of `{expr=}` after the literal pieces: from the field's '{'.
                out += debugText(t.kind == .op && text[t.start] == 0x7B ? t.end : t.start, to)
                return out
            }
            k += 1
        }
        return out
    }

    /// The text of `{expr=}` (3.12 form) from `from` to `to`, line breaks as `\n`, without
    /// its comments (`f"{x = # note\n}"` is "x = \n"), as CPython 3.12 and 3.13 keep it.
    func debugText(_ from: Int, _ to: Int) -> [UInt32] {
        var out: [UInt32] = []
        var at = from
        var k = tokenIndex(atOrAfter: from)
        while k < tree.tokens.count && tree.tokens[k].start < to {
            let t = tree.tokens[k]
            if t.kind == .comment {
                out += normalizedNewlines(at, t.start)
                at = t.end
            }
            k += 1
        }
        return out + normalizedNewlines(at, to)
    }

    /// Whether the f-string holding the middle token `k` is raw.
    func isRawFString(middle k: Int) -> Bool {
        var level = 0
        var j = k - 1
        while j >= 0 {
            let t = tree.tokens[j]
            if t.kind == .fstringEnd || t.kind == .tstringEnd { level += 1 }
            if t.kind == .fstringStart || t.kind == .tstringStart {
                if level == 0 {
                    for p in t.start..<t.end where text[p] | 0x20 == 0x72 { return true }
                    return false
                }
                level -= 1
            }
            j -= 1
        }
        return false
    }

    func normalizedNewlines(_ from: Int, _ to: Int) -> [UInt32] {
        var out: [UInt32] = []
        var k = from
        while k < to { k = decodeOne(k, to, raw: true, bytes: false, into: &out) }
        return out
    }

    // MARK: - 3.11 f-strings, from the text

    /// The parts of a 3.11-style JoinedStr, as CPython 3.11 builds them (see
    /// Parser.parseFStringParts, which this follows).
    func fstringParts311(_ n: PythonNode) -> [Part] {
        var parts: [Part] = []
        var pending: [UInt32] = []
        var has = false
        var k = n.start
        while k < n.end {
            k = skipTrivia(k, n.end)
            guard k < n.end else { break }
            var isF = false, isRaw = false
            while k < n.end && text[k] != 0x27 && text[k] != 0x22 {
                let c = text[k] | 0x20
                if c == 0x66 { isF = true }
                if c == 0x72 { isRaw = true }
                k += 1
            }
            guard k < n.end else { break }
            let (bodyStart, bodyEnd, quoteLength) = stringBody(k)
            if isF {
                _ = scanBody311(bodyStart, bodyEnd, raw: isRaw, inSpec: false, parts: &parts, pending: &pending, has: &has)
            } else {
                var j = bodyStart
                while j < bodyEnd {
                    if !isRaw && text[j] == 0x5C && j + 1 < bodyEnd && (text[j + 1] == 0x0A || text[j + 1] == 0x0D) {
                        j += text[j + 1] == 0x0D && j + 2 < bodyEnd && text[j + 2] == 0x0A ? 3 : 2
                        continue
                    }
                    has = true
                    j = decodeOne(j, bodyEnd, raw: isRaw, bytes: false, into: &pending)
                }
            }
            k = bodyEnd + quoteLength
        }
        if has { parts.append(.literal(pending)) }
        return parts
    }

    func scanBody311(_ from: Int, _ to: Int, raw: Bool, inSpec: Bool, parts: inout [Part], pending: inout [UInt32],
                     has: inout Bool) -> Int {
        var k = from
        while k < to {
            let c = text[k]
            if c == 0x7B {
                if !inSpec && k + 1 < to && text[k + 1] == 0x7B {
                    has = true
                    pending.append(0x7B)
                    k += 2
                    continue
                }
                let (field, debugText, next) = field311(k, to, raw: raw)
                if has || debugText != nil {
                    parts.append(.literal(pending + (debugText ?? [])))
                    pending = []
                    has = false
                }
                parts.append(field)
                k = next
                continue
            }
            if c == 0x7D {
                if inSpec { return k }
                if k + 1 < to && text[k + 1] == 0x7D {
                    has = true
                    pending.append(0x7D)
                    k += 2
                    continue
                }
                return k
            }
            if c == 0x5C && !raw && k + 1 < to {
                let next = text[k + 1]
                if next == 0x7B || next == 0x7D {
                    has = true
                    pending.append(0x5C)
                    k += 1
                    continue
                }
                if next == 0x0A || next == 0x0D {
                    k += next == 0x0D && k + 2 < to && text[k + 2] == 0x0A ? 3 : 2
                    continue
                }
            }
            has = true
            k = decodeOne(k, to, raw: raw, bytes: false, into: &pending)
        }
        return k
    }

    /// A 3.11 replacement field at the '{' at `brace`: its part, the debug text, and the
    /// offset after its '}'.
    func field311(_ brace: Int, _ to: Int, raw: Bool) -> (Part, [UInt32]?, Int) {
        let scanned = FieldScan311(text, brace: brace, to: to)
        let exprEnd = scanned.exprEnd, debug = scanned.debug
        guard exprEnd >= 0 else { return (.field(conversion: -2, spec: nil), nil, to) }
        var k = exprEnd
        var debugText: [UInt32]? = nil
        if debug {
            k += 1
            while k < to && (text[k] == 0x20 || text[k] == 0x09) { k += 1 }
            debugText = normalizedNewlines(brace + 1, k)
        }
        var conversion = -1
        if k < to && text[k] == 0x21 && k + 1 < to {
            conversion = Int(text[k + 1])
            k += 2
        }
        var spec: [Part]? = nil
        if k < to && text[k] == 0x3A {
            var specParts: [Part] = []
            var specPending: [UInt32] = []
            var specHas = false
            k = scanBody311(k + 1, to, raw: raw, inSpec: true, parts: &specParts, pending: &specPending, has: &specHas)
            if specHas { specParts.append(.literal(specPending)) }
            spec = specParts
        }
        if conversion == -1 && debug && spec == nil { conversion = 0x72 }
        return (.field(conversion: conversion, spec: spec), debugText, k + 1)
    }

    // MARK: - decoding literals

    /// Appends the value of `text[from..<to]`, a literal's body (`braces`: an f-string
    /// middle, whose doubled braces stand for one).
    func decodeRun(_ from: Int, _ to: Int, raw: Bool, bytes: Bool, braces: Bool, into out: inout [UInt32]) {
        var k = from
        while k < to {
            let c = text[k]
            if braces && (c == 0x7B || c == 0x7D) && k + 1 < to && text[k + 1] == c {
                out.append(UInt32(c))
                k += 2
                continue
            }
            k = decodeOne(k, to, raw: raw, bytes: bytes, into: &out)
        }
    }

    /// Decodes one character or escape at `k`; returns the offset after it.
    func decodeOne(_ k: Int, _ to: Int, raw: Bool, bytes: Bool, into out: inout [UInt32]) -> Int {
        let c = text[k]
        if c == 0x0D {
            out.append(0x0A)
            return k + 1 < to && text[k + 1] == 0x0A ? k + 2 : k + 1
        }
        if c == 0x5C && !raw && k + 1 < to {
            let e = text[k + 1]
            switch e {
            case 0x0A: return k + 2
            case 0x0D: return k + 2 < to && text[k + 2] == 0x0A ? k + 3 : k + 2
            case 0x5C, 0x27, 0x22: out.append(UInt32(e)); return k + 2
            case 0x61: out.append(7); return k + 2
            case 0x62: out.append(8); return k + 2
            case 0x66: out.append(12); return k + 2
            case 0x6E: out.append(10); return k + 2
            case 0x72: out.append(13); return k + 2
            case 0x74: out.append(9); return k + 2
            case 0x76: out.append(11); return k + 2
            case 0x30...0x37:
                var value: UInt32 = 0
                var j = k + 1
                while j < to && j < k + 4 && text[j] &- 0x30 < 8 {
                    value = value * 8 + UInt32(text[j] - 0x30)
                    j += 1
                }
                out.append(bytes ? value & 0xFF : value)
                return j
            case 0x78, 0x75, 0x55:
                let want = e == 0x78 ? 2 : e == 0x75 ? 4 : 8
                if bytes && e != 0x78 { break }
                var value: UInt32 = 0
                var j = k + 2
                while j < to && j < k + 2 + want, let h = hexDigit(text[j]) {
                    value = value * 16 + h
                    j += 1
                }
                out.append(value)
                return j
            case 0x4E where !bytes:
                var j = k + 2
                guard j < to && text[j] == 0x7B else { break }
                j += 1
                let nameStart = j
                while j < to && text[j] != 0x7D { j += 1 }
                let value = text.withUnsafeBufferPointer { UnicodeNames.value($0, nameStart, j) }
                out.append(value ?? 0xFFFD)
                return j + 1
            default:
                break
            }
            out.append(0x5C)
            return k + 1
        }
        if c < 0x80 || bytes {
            out.append(UInt32(c))
            return k + 1
        }
        // A UTF-8 sequence.
        let length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2
        var value = UInt32(c) & (length == 4 ? 0x07 : length == 3 ? 0x0F : 0x1F)
        var j = k + 1
        while j < k + length && j < text.count {
            value = value << 6 | UInt32(text[j] & 0x3F)
            j += 1
        }
        out.append(value)
        return j
    }

    func hexDigit(_ b: UInt8) -> UInt32? {
        if b &- 0x30 < 10 { return UInt32(b - 0x30) }
        let l = b | 0x20
        if l &- 0x61 < 6 { return UInt32(l - 0x61 + 10) }
        return nil
    }

    func pyString(_ value: [UInt32]) -> String {
        var out = "s:\""
        for v in value { appendEscaped(v, to: &out) }
        return out + "\""
    }

    func pyBytes(_ value: [UInt32]) -> String {
        var out = "b:\""
        for v in value { appendEscaped(v, to: &out) }
        return out + "\""
    }

    func appendEscaped(_ v: UInt32, to out: inout String) {
        if v >= 0x20 && v < 0x7F && v != 0x22 && v != 0x5C {
            out.unicodeScalars.append(Unicode.Scalar(UInt8(v)))
        } else {
            out += "\\u{" + String(v, radix: 16) + "}"
        }
    }

    // MARK: - numbers

    func numberValue(_ from: Int, _ to: Int) -> String {
        var digits: [UInt8] = []
        for k in from..<to where text[k] != 0x5F { digits.append(text[k] | (text[k] >= 0x41 && text[k] <= 0x5A ? 0x20 : 0)) }
        if digits.last == 0x6A {
            digits.removeLast()
            return "j:" + FloatRepr.python(Double(String(decoding: digits, as: UTF8.self)) ?? .nan)
        }
        if digits.count > 1 && digits[0] == 0x30 && (digits[1] == 0x78 || digits[1] == 0x6F || digits[1] == 0x62) {
            let radix: UInt32 = digits[1] == 0x78 ? 16 : digits[1] == 0x6F ? 8 : 2
            return BigDecimal.fromDigits(Array(digits[2...]), radix: radix)
        }
        if digits.contains(0x2E) || digits.contains(0x65) {
            return "f:" + FloatRepr.python(Double(String(decoding: digits, as: UTF8.self)) ?? .nan)
        }
        while digits.count > 1 && digits[0] == 0x30 { digits.removeFirst() }
        return String(decoding: digits, as: UTF8.self)
    }
}

/// Python's `repr` of a float, from Swift's shortest round-trip digits.
enum FloatRepr {
    static func python(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
        var desc = Array(d.magnitude.description.utf8)
        var exponent = 0
        if let e = desc.firstIndex(where: { $0 == 0x65 || $0 == 0x45 }) {
            exponent = Int(String(decoding: desc[(e + 1)...], as: UTF8.self)) ?? 0
            desc = Array(desc[..<e])
        }
        let point = desc.firstIndex(of: 0x2E) ?? desc.count
        var digits = desc.filter { $0 != 0x2E }
        var decpt = point + exponent
        while digits.first == 0x30 { digits.removeFirst(); decpt -= 1 }
        while digits.last == 0x30 { digits.removeLast() }
        let s = String(decoding: digits, as: UTF8.self)
        var out = d < 0 ? "-" : ""
        if decpt <= -4 || decpt > 16 {
            out += String(s.prefix(1))
            if digits.count > 1 { out += "." + s.dropFirst() }
            let e = decpt - 1
            out += e < 0 ? "e-" : "e+"
            let magnitude = String(abs(e))
            out += magnitude.count < 2 ? "0" + magnitude : magnitude
        } else if decpt <= 0 {
            out += "0." + String(repeating: "0", count: -decpt) + s
        } else if decpt >= digits.count {
            out += s + String(repeating: "0", count: decpt - digits.count) + ".0"
        } else {
            out += s.prefix(decpt) + "." + s.dropFirst(decpt)
        }
        return out
    }
}

/// Arbitrary-size integers written in base 2, 8 or 16, as decimal text.
enum BigDecimal {
    static func fromDigits(_ digits: [UInt8], radix: UInt32) -> String {
        var limbs: [UInt32] = [0]  // little-endian, base 2^32
        for d in digits {
            let v: UInt32 = d &- 0x30 < 10 ? UInt32(d - 0x30) : UInt32(d - 0x61 + 10)
            var carry = UInt64(v)
            for k in 0..<limbs.count {
                let x = UInt64(limbs[k]) * UInt64(radix) + carry
                limbs[k] = UInt32(truncatingIfNeeded: x)
                carry = x >> 32
            }
            if carry > 0 { limbs.append(UInt32(carry)) }
        }
        var chunks: [UInt32] = []  // base 10^9, little-endian
        while !(limbs.count == 1 && limbs[0] == 0) {
            var remainder: UInt64 = 0
            for k in stride(from: limbs.count - 1, through: 0, by: -1) {
                let x = remainder << 32 | UInt64(limbs[k])
                limbs[k] = UInt32(x / 1_000_000_000)
                remainder = x % 1_000_000_000
            }
            chunks.append(UInt32(remainder))
            while limbs.count > 1 && limbs.last == 0 { limbs.removeLast() }
        }
        guard let top = chunks.last else { return "0" }
        var out = String(top)
        for c in chunks.dropLast().reversed() {
            let s = String(c)
            out += String(repeating: "0", count: 9 - s.count) + s
        }
        return out
    }
}
