import EmberUtils

/// Recursive-descent parser for the Python grammar of a target version (3.9 to 3.14,
/// `Options.targetVersion`; see `PythonVersion` for what each adds) into a
/// `PythonSyntaxTree`. What the target's CPython rejects is rejected, at CPython's line
/// with its message where known (fixtures/python/versions). Node spans follow CPython's `ast` (a node spans the tokens its grammar rule consumed:
/// `(a).b` starts at the parenthesis, `(a)` alone spans `a`). Nesting is bounded
/// (`Options.maxDepth`), so hostile input gets a diagnostic instead of a stack overflow.
public enum PythonParser {
    public struct Options: Sendable {
        /// Maximum nesting, in levels: each bracket (display, call, subscript), unary
        /// operator, `not`, lambda, conditional expression, `**`, f-string field, pattern,
        /// starred target and block is one level while the parser is inside it, and the
        /// finished tree may be no deeper than `maxTreeDepth` (so a left-associative chain
        /// such as `a + b + ...`, `a.b.c...` or `f()()...`, which the parser reads in a loop,
        /// counts one level per link). The default is the target version's
        /// (`PythonVersion.parserNestingLimit`): 6,000 for 3.9 and 3.13+, 3,000 for 3.10 to
        /// 3.12, so that what each CPython compiles parses here. Whatever the limit, the
        /// parser also stops before its thread's stack runs out (see `StackGuard`), so deep
        /// input is a diagnostic "too deeply nested", never a crash.
        public var maxDepth: Int
        /// The finished tree's limit, in levels below the module; nil: `maxDepth`. The
        /// default is the target version's (`PythonVersion.treeDepthLimit`: 10,000 from
        /// 3.13, nil before).
        public var maxTreeDepth: Int?
        /// The Python version whose grammar to follow (default: the newest). From 3.12,
        /// f-strings are PEP 701's (same quotes and any code inside replacement fields),
        /// tokenized in the split form, and the tree gives f-string parts 3.12-style spans
        /// (a literal run spans its text, a field spans '{' to '}'); before, exactly what
        /// CPython 3.11's `ast.parse` accepts and reports for f-strings.
        public var targetVersion: PythonVersion
        /// `maxDepth` nil: the target version's limits (both). A `maxDepth` given limits the
        /// tree too.
        public init(maxDepth: Int? = nil, targetVersion: PythonVersion = .newest) {
            self.maxDepth = maxDepth ?? targetVersion.parserNestingLimit
            let tree = targetVersion.treeDepthLimit
            self.maxTreeDepth = maxDepth == nil && tree != targetVersion.parserNestingLimit ? tree : nil
            self.targetVersion = targetVersion
        }

        /// The f-string form alone: true is 3.12, false 3.11.
        public init(maxDepth: Int? = nil, pep701FStrings: Bool) {
            self.init(maxDepth: maxDepth, targetVersion: pep701FStrings ? .v3_12 : .v3_11)
        }

        /// The finished tree's limit in effect.
        public var treeDepthLimit: Int { maxTreeDepth ?? maxDepth }

        /// Whether f-strings follow PEP 701 (the target is 3.12 or newer).
        public var pep701FStrings: Bool {
            get { targetVersion.hasPEP701FStrings }
            set { targetVersion = newValue ? max(targetVersion, .v3_12) : min(targetVersion, .v3_11) }
        }
    }

    public static func parse(_ source: PythonSource, options: Options = Options()) -> PythonSyntaxTree {
        let tokenized = PythonTokenizer.tokenize(source, options: .init(targetVersion: options.targetVersion))
        return parse(source, tokens: tokenized, options: options)
    }

    public static func parse(_ source: PythonSource, tokens tokenized: PythonTokenizeResult, options: Options = Options()) -> PythonSyntaxTree {
        source.text.withUnsafeBufferPointer { text in
            var parser = Parser(text: text, tokens: tokenized.tokens, maxDepth: options.maxDepth, target: options.targetVersion)
            var failure: ParseFailure?
            var topLevel: [PythonNodeID] = []
            do throws(ParseFailure) {
                try parser.parseFile(into: &topLevel)
            } catch {
                failure = error
            }
            let root = parser.makeModule(topLevel)
            // Chains read in a loop (`a + b + ...`, `a.b.c`, `f()()`) nest the tree without
            // nesting the parse: the finished tree is measured too, so that whoever walks it
            // recursively meets no deeper tree than the limit.
            if failure == nil, let offset = parser.firstNodeDeeperThan(options.treeDepthLimit, root: root) {
                failure = ParseFailure(message: "too deeply nested (more than \(options.treeDepthLimit) levels)", offset: offset)
            }
            var diagnostics = tokenized.diagnostics
            if let failure {
                // CPython reports whichever problem it meets first in token order; a parse
                // failure on an error token is the tokenizer's problem.
                // After a parse error CPython tokenizes the rest of the file, and a SyntaxError
                // its tokenizer raises there wins (`x = = 1` then an unterminated string:
                // the string's line); errors it only flags (indentation, continuation,
                // unclosed brackets, ...) and those inside 3.12 f-string fields do not.
                // A NUL byte anywhere: CPython refuses the text before parsing it.
                // An "unexpected indent" is CPython's IndentationError: no re-scan then.
                let laterTokenizerErrorWins = !diagnostics.isEmpty
                    && (diagnostics[0].rank == .nul || diagnostics[0].rank == .syntax && !failure.isIndentation)
                if diagnostics.isEmpty || (failure.offset < diagnostics[0].offset && !failure.atErrorToken && !laterTokenizerErrorWins) {
                    var message = failure.message
                    if let line = failure.lineOf { message += " on line \(source.lineTable.location(of: line).line)" }
                    diagnostics.insert(PythonDiagnostic(message: message, offset: failure.offset), at: 0)
                    diagnostics.sortAfterFirst()
                }
            }
            return PythonSyntaxTree(source: source, tokens: tokenized.tokens, nodes: parser.nodes, childIDs: parser.childIDs,
                                    childRoles: parser.childRoles, root: root, diagnostics: diagnostics)
        }
    }
}

struct ParseFailure: Error {
    var message: String
    var offset: Int
    /// Offset whose line number is appended as " on line N".
    var lineOf: Int?
    var atErrorToken = false
    /// An INDENT where the grammar has none: CPython raises IndentationError at once,
    /// without tokenizing the rest for a tokenizer error that would win.
    var isIndentation = false
}

struct PTok {
    var code: TokenCode
    var storedStart: Int32
    var storedEnd: Int32
    var index: Int32  // in the full token array

    init(code: TokenCode, start: Int, end: Int, index: Int32) {
        self.code = code
        storedStart = Int32(truncatingIfNeeded: start)
        storedEnd = Int32(truncatingIfNeeded: end)
        self.index = index
    }

    @inline(__always) var start: Int { Int(storedStart) }
    @inline(__always) var end: Int { Int(storedEnd) }
    /// An offset on the token's last line: CPython 3.11 reports the errors of its f-string
    /// scanner there (`f'''a\n{}'''`: line 2).
    var lastLineOffset: Int { max(start, end - 1) }
}


struct Parser {
    let text: UnsafeBufferPointer<UInt8>
    var toks: [PTok] = []
    var i = 0
    var lastEnd = 0
    var nodes: [PythonNode] = []
    var childIDs: [PythonNodeID] = []
    var childRoles: [PythonRole] = []
    var scratch: [(PythonNodeID, PythonRole)] = []
    var depth = 0
    let maxDepth: Int
    /// The grammar's version (PEP 695 from 3.12, PEP 696 from 3.13, ...).
    let target: PythonVersion
    /// Whether the innermost 3.12 f-string being parsed is raw (its middles keep backslashes).
    var fstringRaw = false
    /// Whether the innermost 3.12-form string being parsed is a t-string (PEP 750): its
    /// fields are Interpolations.
    var inTemplate = false
    /// Whether the innermost string literal is a t-string (its format specs included,
    /// whose fields are FormattedValues): messages say "t-string" then.
    var inTemplateLiteral = false
    /// "f-string" or "t-string", for messages.
    var stringWord: String { inTemplateLiteral ? "t-string" : "f-string" }
    /// Format specs of f-strings the parser is inside (CPython reads fields two levels deep
    /// in 3.11, three from 3.12).
    var fstringSpecDepth = 0
    /// Where CPython's parser stack is the limit (3.9, 3.10 and 3.13+), a lambda and a `**`
    /// take two of its levels each: `lambda: lambda: ...` and `2**2**...` stop at 2,983
    /// where unary operators go to 5,966 (measured with each interpreter's `ast.parse`).
    let twoLevelForms: Bool
    /// Stack address below which recursion stops (0: unknown platform, depth limit only).
    let stackLimit = StackGuard.limitForCurrentThread()

    init(text: UnsafeBufferPointer<UInt8>, tokens: [PythonToken], maxDepth: Int, target: PythonVersion = .newest) {
        self.text = text
        self.maxDepth = maxDepth
        self.target = target
        self.twoLevelForms = target.parserNestingLimit >= 6000
        toks.reserveCapacity(tokens.count)
        for (k, t) in tokens.enumerated() {
            let code: TokenCode
            switch t.kind {
            case .comment, .nl: continue
            case .name: code = TokenCode.classifyName(text, t.start, t.end)
            case .number: code = .number
            case .string: code = .string
            case .op: code = TokenCode.classifyOperator(text, t.start, t.end)
            case .newline: code = .newline
            case .indent: code = .indent
            case .dedent: code = .dedent
            case .endmarker: code = .endmarker
            // t-strings (3.14) parse as f-strings do (the tree does not tell them apart yet).
            case .fstringStart, .tstringStart: code = .fstringStart
            case .fstringMiddle, .tstringMiddle: code = .fstringMiddle
            case .fstringEnd, .tstringEnd: code = .fstringEnd
            case .errorToken: code = .error
            }
            toks.append(PTok(code: code, start: t.start, end: t.end, index: Int32(k)))
        }
        if toks.last?.code != .endmarker {
            toks.append(PTok(code: .endmarker, start: text.count, end: text.count, index: Int32(tokens.count - 1)))
        }
        nodes.reserveCapacity(tokens.count / 2 + 8)
        childIDs.reserveCapacity(tokens.count / 2 + 8)
        childRoles.reserveCapacity(tokens.count / 2 + 8)
    }

    // MARK: - token helpers

    @inline(__always) var code: TokenCode { toks[i].code }
    @inline(__always) var startOffset: Int { toks[i].start }
    @inline(__always) func peek(_ k: Int) -> TokenCode { i + k < toks.count ? toks[i + k].code : .endmarker }

    @inline(__always) mutating func advance() {
        let t = toks[i]
        if t.code != .newline && t.code != .indent && t.code != .dedent && t.code != .endmarker { lastEnd = t.end }
        if i < toks.count - 1 { i += 1 }
    }

    @inline(__always) mutating func accept(_ c: TokenCode) -> Bool {
        if toks[i].code == c { advance(); return true }
        return false
    }

    mutating func expect(_ c: TokenCode, _ what: String) throws(ParseFailure) {
        if toks[i].code == c { advance(); return }
        throw failure("expected '\(what)'")
    }

    /// A bracket's closing token. When it is not there and another expression follows the
    /// last element (pushed since `mark`), CPython's invalid_expression rule reports
    /// "Perhaps you forgot a comma?" at the last expression before it (or the legacy `print`
    /// message); anything else is "invalid syntax" at the token (CPython never says
    /// "expected ']'"). `hint: false` where CPython's grammar has no expression there.
    mutating func expectClosing(_ c: TokenCode, mark: Int, hint: Bool = true) throws(ParseFailure) {
        if toks[i].code == c { advance(); return }
        if hint && scratch.count > mark {
            let last = scratch[scratch.count - 1].0
            if startsSecondExpression { throw missingCommaFailure(after: last) ?? failure() }
            if let assignment = assignmentInExpressionFailure(last) { throw assignment }
        }
        throw failure()
    }

    /// At a '=' after `element` where an expression was wanted: CPython's
    /// invalid_named_expression, "invalid syntax. Maybe you meant '==' or ':=' instead of '='?"
    /// for a name, "cannot assign to X here. Maybe you meant '==' instead of '='?" for
    /// another operand (not a list, tuple, generator, True, False or None), when a value
    /// follows that is not itself followed by '=' or ':='.
    func assignmentInExpressionFailure(_ element: PythonNodeID) -> ParseFailure? {
        guard code == .equal, startsExpressionAt(1), valueIsLastInChain(equalsAt: i) else { return nil }
        let n = nodes[Int(element)]
        switch n.kind {
        case .name:
            return ParseFailure(message: "invalid syntax. Maybe you meant '==' or ':=' instead of '='?", offset: n.start)
        case .list, .tuple, .generatorExp, .compare, .boolOp, .ifExp, .lambda, .namedExpr, .starred, .yield, .yieldFrom:
            return nil
        case .unaryOp where n.end - n.start > 3 && text[n.start] == UInt8(ascii: "n") && text[n.start + 1] == UInt8(ascii: "o")
            && text[n.start + 2] == UInt8(ascii: "t"):
            return nil  // `not x` is not an operand of '='s rule
        case .constant where tokenEquals(n, "True") || tokenEquals(n, "False") || tokenEquals(n, "None"):
            return nil
        default:
            return ParseFailure(message: "cannot assign to \(expressionName(n)) here. Maybe you meant '==' instead of '='?", offset: n.start)
        }
    }

    /// Whether the token starts an expression that, right after another one, is CPython's
    /// missing-comma case (`*` and `yield` cannot: `a * b` is one expression).
    var startsSecondExpression: Bool { startsExpression && code != .star && code != .kwYield }

    /// The error for an expression directly after `element`: the comma hint at the last
    /// disjunction in it, or the legacy `print x` / `exec x` message; nil where CPython's
    /// rule skips it (a NAME before a STRING, a soft keyword): the caller's error stands.
    @inline(never)
    func missingCommaFailure(after element: PythonNodeID) -> ParseFailure? {
        var a = element
        while true {
            let n = nodes[Int(a)]
            switch n.kind {
            case .ifExp, .lambda, .starred, .namedExpr, .keyword, .slice, .yield, .yieldFrom:
                guard n.childCount > 0 else { return nil }
                a = childIDs[Int(n.childStart + n.childCount - 1)]
                continue
            default: break
            }
            break
        }
        let node = nodes[Int(a)]
        var k = i
        while k > 0 && toks[k].start > node.start { k -= 1 }
        let first = toks[k]
        if first.code == .name {
            if k + 1 < toks.count && (toks[k + 1].code == .string || toks[k + 1].code == .fstringStart) { return nil }
            let word = UnsafeBufferPointer(rebasing: text[first.start..<first.end])
            for soft in ["match", "case", "type", "_"] where word.elementsEqual(soft.utf8) { return nil }
            if node.kind == .name {
                for legacy in ["print", "exec"] where word.elementsEqual(legacy.utf8) {
                    return ParseFailure(message: "Missing parentheses in call to '\(legacy)'. Did you mean \(legacy)(...)?", offset: node.start)
                }
            }
        }
        return ParseFailure(message: "invalid syntax. Perhaps you forgot a comma?", offset: node.start)
    }

    @inline(never)  // kept out of the callers' frames (recursion depth is stack-bound)
    func failure(_ message: String = "invalid syntax") -> ParseFailure {
        var t = toks[i]
        if t.start == text.count && t.start > 0 {
            // CPython reports problems found at the end of the file on its last line.
            t = PTok(code: t.code, start: t.start - 1, end: t.start - 1, index: t.index)
        }
        switch t.code {
        case .indent: return ParseFailure(message: "unexpected indent", offset: t.start, isIndentation: true)
        case .error:
            return ParseFailure(message: "invalid syntax", offset: t.start, atErrorToken: true)
        default:
            return ParseFailure(message: message, offset: t.start)
        }
    }

    /// Text of the current token equals `word` (for soft keywords).
    func isSoftKeyword(_ k: Int, _ word: StaticString) -> Bool {
        guard i + k < toks.count, toks[i + k].code == .name else { return false }
        let t = toks[i + k]
        guard t.end - t.start == word.utf8CodeUnitCount else { return false }
        let w = word.utf8Start
        for j in 0..<(t.end - t.start) where text[t.start + j] != w[j] { return false }
        return true
    }

    /// One more level of nesting: throws "too deeply nested" past `maxDepth`, or when the
    /// thread's stack is nearly used up (see StackGuard).
    @inline(never)  // one call per level; inlined, it grew every level's frames by 100-300 bytes
    mutating func enter() throws(ParseFailure) {
        depth += 1
        if depth > maxDepth || StackGuard.exhausted(stackLimit) { try tooDeep() }
    }

    /// Throws "too deeply nested", made out of line: the error is built in this frame, not
    /// in each caller's (every level's frame is on the stack once per level).
    @inline(never)
    func tooDeep() throws(ParseFailure) {
        throw ParseFailure(message: "too deeply nested (more than \(depth - 1) levels)", offset: toks[i].start)
    }

    // MARK: - node building

    @inline(__always) mutating func push(_ id: PythonNodeID, _ role: PythonRole) { scratch.append((id, role)) }

    /// Makes a node from `start` to the end of the last consumed token, taking the
    /// children pushed since `mark`; `order` reorders them into `ast` field order.
    mutating func make(_ kind: PythonNodeKind, _ start: Int, _ mark: Int, token: Int32 = -1, aux: Int32 = 0,
                       order: [PythonRole]? = nil, end: Int? = nil) -> PythonNodeID {
        let childStart = Int32(childIDs.count)
        let count = scratch.count - mark
        if let order, count > 1 {
            for role in order {
                for k in mark..<scratch.count where scratch[k].1 == role {
                    childIDs.append(scratch[k].0)
                    childRoles.append(role)
                }
            }
        } else {
            for k in mark..<scratch.count {
                childIDs.append(scratch[k].0)
                childRoles.append(scratch[k].1)
            }
        }
        if count > 0 { scratch.removeLast(count) }
        nodes.append(PythonNode(kind: kind, start: start, end: end ?? lastEnd, childStart: childStart,
                                childCount: Int32(count), token: token, aux: aux))
        return PythonNodeID(nodes.count - 1)
    }

    mutating func leaf(_ kind: PythonNodeKind, _ t: PTok) -> PythonNodeID {
        nodes.append(PythonNode(kind: kind, start: t.start, end: t.end, childStart: Int32(childIDs.count), childCount: 0,
                                token: t.index, aux: 0))
        return PythonNodeID(nodes.count - 1)
    }

    mutating func makeModule(_ body: [PythonNodeID]) -> PythonNodeID {
        let mark = scratch.count
        for s in body { push(s, .body) }
        return make(.module, 0, mark, end: text.count)
    }

    struct Saved { var i: Int; var lastEnd: Int; var nodes: Int; var children: Int; var scratch: Int; var depth: Int }

    func save() -> Saved {
        Saved(i: i, lastEnd: lastEnd, nodes: nodes.count, children: childIDs.count, scratch: scratch.count, depth: depth)
    }

    mutating func restore(_ s: Saved) {
        i = s.i
        lastEnd = s.lastEnd
        nodes.removeSubrange(s.nodes...)
        childIDs.removeSubrange(s.children...)
        childRoles.removeSubrange(s.children...)
        scratch.removeSubrange(s.scratch...)
        depth = s.depth
    }

    // MARK: - statements

    mutating func parseFile(into body: inout [PythonNodeID]) throws(ParseFailure) {
        while code != .endmarker {
            if code == .newline { advance(); continue }
            try parseStatement(into: &body)
        }
    }

    /// Parses one statement line (compound, or simple statements joined by ';').
    mutating func parseStatement(into out: inout [PythonNodeID]) throws(ParseFailure) {
        switch code {
        case .kwDef, .kwIf, .kwClass, .kwWith, .kwFor, .kwTry, .kwWhile, .at, .kwAsync:
            out.append(try parseCompound())
        case .indent:
            throw ParseFailure(message: "unexpected indent", offset: startOffset, isIndentation: true)
        case .name where target >= .v3_10 && isSoftKeyword(0, "match"):  // match statements: 3.10
            if let m = try parseMatchIfPresent() { out.append(m); return }
            try parseSimpleStatements(into: &out)
        default:
            try parseSimpleStatements(into: &out)
        }
    }

    mutating func parseSimpleStatements(into out: inout [PythonNodeID]) throws(ParseFailure) {
        while true {
            out.append(try parseSimpleStatement())
            if accept(.semi) {
                if code == .newline { break }
                continue
            }
            break
        }
        if code == .newline { advance(); return }
        throw failure()
    }

    mutating func parseSimpleStatement() throws(ParseFailure) -> PythonNodeID {
        let start = startOffset
        let mark = scratch.count
        switch code {
        case .kwPass: advance(); return make(.pass, start, mark)
        case .kwBreak: advance(); return make(.break, start, mark)
        case .kwContinue: advance(); return make(.continue, start, mark)
        case .kwReturn:
            advance()
            if !atSimpleStatementEnd { push(try parseStarExpressions(), .value) }
            return make(.return, start, mark)
        case .kwRaise:
            advance()
            if !atSimpleStatementEnd {
                push(try parseExpression(), .exc)
                if accept(.kwFrom) { push(try parseExpression(), .cause) }
            }
            return make(.raise, start, mark)
        case .kwGlobal, .kwNonlocal:
            let kind: PythonNodeKind = code == .kwGlobal ? .global : .nonlocal
            advance()
            let first = toks[i].index
            try expectName()
            while accept(.comma) { try expectName() }
            return make(kind, start, mark, token: first)
        case .kwDel:
            advance()
            if code == .newline || code == .semi || code == .endmarker { throw failure() }  // `del` needs a target
            try parseDeleteTargets()
            return make(.delete, start, mark)
        case .kwAssert:
            advance()
            push(try parseExpression(), .test)
            if accept(.comma) { push(try parseExpression(), .msg) }
            return make(.assert, start, mark)
        case .kwImport:
            return try parseImport()
        case .kwFrom:
            return try parseFromImport()
        case .name where target >= .v3_12 && isSoftKeyword(0, "type") && peek(1) == .name && (peek(2) == .equal || peek(2) == .lsqb):
            advance()
            push(leaf(.name, toks[i]), .name)
            advance()
            if code == .lsqb { try parseTypeParams(refusal: "invalid syntax. Maybe you meant '==' or ':=' instead of '='?") }
            try expect(.equal, "=")
            push(try parseExpression(), .value)
            return make(.typeAlias, start, mark)
        default:
            return try parseExpressionStatement()
        }
    }

    var atSimpleStatementEnd: Bool { code == .newline || code == .semi || code == .endmarker }

    mutating func expectName() throws(ParseFailure) {
        guard code == .name else { throw failure() }
        advance()
    }

    mutating func parseExpressionStatement() throws(ParseFailure) -> PythonNodeID {
        let start = startOffset
        let mark = scratch.count
        let first = code == .kwYield ? try parseYield() : try parseStarExpressions()
        if code == .equal {
            try checkTarget(first, context: .assign, equalsAt: i)
            push(first, .target)
            while accept(.equal) {
                let value = code == .kwYield ? try parseYield() : try parseStarExpressions()
                if code == .equal { try checkTarget(value, context: .assign); push(value, .target) } else { push(value, .value) }
            }
            return make(.assign, start, mark)
        }
        if code.isAugmentedAssign {
            try checkTarget(first, context: .augmented)
            let op = toks[i].index
            advance()
            push(first, .target)
            push(code == .kwYield ? try parseYield() : try parseStarExpressions(), .value)
            return make(.augAssign, start, mark, token: op)
        }
        if code == .colon {
            try checkTarget(first, context: .annotated)
            advance()
            push(first, .target)
            push(try parseExpression(), .annotation)
            if accept(.equal) { push(code == .kwYield ? try parseYield() : try parseStarExpressions(), .value) }
            return make(.annAssign, start, mark)
        }
        if nodes[Int(first)].kind == .name, code == .string || code == .name || code == .number,
           tokenEquals(nodes[Int(first)], "print") || tokenEquals(nodes[Int(first)], "exec") {
            throw ParseFailure(message: "Missing parentheses in call to '\(tokenEquals(nodes[Int(first)], "print") ? "print" : "exec")'. Did you mean \(tokenEquals(nodes[Int(first)], "print") ? "print" : "exec")(...)?", offset: nodes[Int(first)].start)
        }
        push(first, .value)
        return make(.expr, start, mark)
    }

    func tokenEquals(_ n: PythonNode, _ word: String) -> Bool {
        let w = Array(word.utf8)
        guard n.end - n.start == w.count else { return false }
        for k in 0..<w.count where text[n.start + k] != w[k] { return false }
        return true
    }

    enum TargetContext { case assign, augmented, annotated, delete, forTarget, with }

    /// CPython's "cannot assign to ..." checks (parser-level ones only), in pre-order
    /// without recursion: a target nests as deep as its brackets (the tokenizer's limit of
    /// 200 is only a diagnostic; the parse goes on), and this runs after the parse of the
    /// target, whose stack checks do not cover it.
    /// At the '=' after a first target: whether the value's leading bitwise_or is not
    /// followed by another '=' or ':=' (CPython's invalid_named_expression lookahead, which
    /// decides between "cannot assign to X here. Maybe you meant '==' instead of '='?" and
    /// the plain "cannot assign to X"). A token scan: nothing is parsed.
    func valueIsLastInChain(equalsAt: Int) -> Bool {
        var k = equalsAt + 1
        var depth = 0
        while k < toks.count {
            switch toks[k].code {
            case .lpar, .lsqb, .lbrace: depth += 1
            case .rpar, .rsqb, .rbrace:
                if depth == 0 { return true }
                depth -= 1
            case .equal, .colonEqual:
                if depth == 0 { return false }
            case .newline, .endmarker, .semi, .comma, .colon, .kwIf, .kwElse, .kwAnd, .kwOr, .kwNot, .kwIn, .kwIs, .kwFor,
                 .less, .greater, .eqEqual, .notEqual, .lessEqual, .greaterEqual:
                if depth == 0 { return true }
            default: break
            }
            k += 1
        }
        return true
    }

    /// `equalsAt`: the '=' after a statement's first target, whose value decides how an
    /// invalid target is worded (looked at only then: a token scan).
    func checkTarget(_ id: PythonNodeID, context: TargetContext, equalsAt: Int? = nil) throws(ParseFailure) {
        var pending: [PythonNodeID] = []
        var next: PythonNodeID? = id
        while let current = next ?? pending.popLast() {
            next = nil
            let n = nodes[Int(current)]
            switch n.kind {
            case .name: continue
            case .constant where context != .delete && ["None", "True", "False"].contains(where: { tokenEquals(n, $0) }):
                throw ParseFailure(message: "cannot assign to \(String(decoding: UnsafeBufferPointer(rebasing: text[n.start..<n.end]), as: UTF8.self))", offset: n.start)
            case .attribute, .subscript: continue
            case .tuple, .list:
                if context == .augmented || context == .annotated {
                    let what = n.kind == .tuple ? "tuple" : "list"
                    throw ParseFailure(
                        message: context == .augmented ? "'\(what)' is an illegal expression for augmented assignment" : "only single target (not \(what)) can be annotated",
                        offset: n.start)
                }
                var k = Int(n.childStart + n.childCount) - 1
                while k >= Int(n.childStart) {
                    pending.append(childIDs[k])
                    k -= 1
                }
            case .starred:
                if context == .augmented || context == .annotated || context == .delete {
                    throw ParseFailure(message: "cannot use starred expression here", offset: n.start)
                }
                next = childIDs[Int(n.childStart)]
            default:
                throw targetFailure(n, context: context, whole: current == id && equalsAt.map { valueIsLastInChain(equalsAt: $0) } == true)
            }
        }
    }

    /// What CPython calls an expression in its messages (pegen's `_PyPegen_get_expr_name`).
    func expressionName(_ n: PythonNode) -> String {
        switch n.kind {
        case .constant:
            for word in ["None", "True", "False"] where tokenEquals(n, word) { return word }
            return tokenEquals(n, "...") ? "ellipsis" : "literal"
        case .attribute: return "attribute"
        case .subscript: return "subscript"
        case .starred: return "starred"
        case .name: return "name"
        case .list: return "list"
        case .tuple: return "tuple"
        default: return targetWord(n)
        }
    }

    func targetFailure(_ n: PythonNode, context: TargetContext, whole: Bool = true) -> ParseFailure {
        let what = targetWord(n)
        switch context {
        case .delete: return ParseFailure(message: "cannot delete \(expressionName(n))", offset: n.start)
        case .augmented: return ParseFailure(message: "'\(what)' is an illegal expression for augmented assignment", offset: n.start)
        case .annotated: return ParseFailure(message: "illegal target for annotation", offset: n.start)
        case .assign:
            // CPython's invalid_named_expression words a whole target `a = b` that is not a
            // tuple, list or generator this way; inside one, invalid_assignment's plain form.
            if n.kind == .yield || n.kind == .yieldFrom {
                return ParseFailure(message: "assignment to yield expression not possible", offset: n.start)
            }
            if whole && n.kind != .generatorExp {
                return ParseFailure(message: "cannot assign to \(expressionName(n)) here. Maybe you meant '==' instead of '='?", offset: n.start)
            }
            return ParseFailure(message: "cannot assign to \(expressionName(n))", offset: n.start)
        case .forTarget, .with: return ParseFailure(message: "cannot assign to \(expressionName(n))", offset: n.start)
        }
    }

    /// The word for an invalid target's kind (a constant is a "literal" here).
    func targetWord(_ n: PythonNode) -> String {
        let what: String
        switch n.kind {
        case .call: what = "function call"
        case .constant: what = "literal"
        case .compare: what = "comparison"
        case .binOp, .boolOp, .unaryOp: what = "expression"
        case .lambda: what = "lambda"
        case .ifExp: what = "conditional expression"
        case .namedExpr: what = "named expression"
        case .yield, .yieldFrom: what = "yield expression"
        case .await: what = "await expression"
        case .generatorExp: what = "generator expression"
        case .listComp: what = "list comprehension"
        case .dictComp: what = "dict comprehension"
        case .setComp: what = "set comprehension"
        case .dict: what = "dict literal"
        case .set: what = "set display"
        case .joinedStr: what = "f-string expression"
        case .templateStr: what = "t-string expression"
        default: what = "expression"
        }
        return what
    }

    mutating func parseImport() throws(ParseFailure) -> PythonNodeID {
        let start = startOffset
        let mark = scratch.count
        advance()
        if code == .newline && target >= .v3_13 { throw failure("Expected one or more names after 'import'") }
        repeat {
            push(try parseAlias(dotted: true), .alias)
        } while accept(.comma)
        if code == .kwFrom && target >= .v3_12 {
            // `import a from b` (3.12's invalid_import), reported from the 'import'.
            throw ParseFailure(message: "Did you mean to use 'from ... import ...' instead?", offset: start)
        }
        return make(.import, start, mark)
    }

    mutating func parseAlias(dotted: Bool) throws(ParseFailure) -> PythonNodeID {
        let start = startOffset
        let first = toks[i].index
        try expectName()
        if dotted {
            while code == .dot { advance(); try expectName() }
        }
        var asToken: Int32 = 0
        if accept(.kwAs) {
            asToken = toks[i].index
            try expectName()
        }
        return make(.alias, start, scratch.count, token: first, aux: asToken)
    }

    mutating func parseFromImport() throws(ParseFailure) -> PythonNodeID {
        let start = startOffset
        let mark = scratch.count
        advance()
        var level: Int32 = 0
        while code == .dot || code == .ellipsis {
            level += code == .dot ? 1 : 3
            advance()
        }
        var moduleToken: Int32 = -1
        if code == .name {
            moduleToken = toks[i].index
            advance()
            while code == .dot { advance(); try expectName() }
        } else if level == 0 {
            throw failure()
        }
        guard code == .kwImport else { throw failure() }
        advance()
        if code == .star {
            let s = startOffset
            let starToken = toks[i].index
            advance()
            push(make(.alias, s, scratch.count, token: starToken), .alias)
        } else if accept(.lpar) {
            if code == .rpar { throw failure() }  // `from . import ()`
            repeat {
                if code == .rpar { break }
                push(try parseAlias(dotted: false), .alias)
            } while accept(.comma)
            try expect(.rpar, ")")
        } else {
            if code == .newline { throw failure(target >= .v3_13 ? "Expected one or more names after 'import'" : "invalid syntax") }
            repeat {
                if code == .newline { throw failure("trailing comma not allowed without surrounding parentheses") }
                push(try parseAlias(dotted: false), .alias)
            } while accept(.comma)
        }
        return make(.importFrom, start, mark, token: moduleToken, aux: level)
    }

    // MARK: compound statements

    mutating func parseCompound() throws(ParseFailure) -> PythonNodeID {
        try enter()
        defer { depth -= 1 }
        switch code {
        case .kwIf: return try parseIf()
        case .kwWhile: return try parseWhile()
        case .kwFor: return try parseFor(start: startOffset, async: false)
        case .kwTry: return try parseTry()
        case .kwWith: return try parseWith(start: startOffset, async: false)
        case .kwDef: return try parseFunction(start: startOffset, async: false, decorators: [])
        case .kwClass: return try parseClass(start: startOffset, decorators: [])
        case .at: return try parseDecorated()
        case .kwAsync:
            let start = startOffset
            advance()
            switch code {
            case .kwDef: return try parseFunction(start: start, async: true, decorators: [])
            case .kwFor: return try parseFor(start: start, async: true)
            case .kwWith: return try parseWith(start: start, async: true)
            default: throw failure()
            }
        default: throw failure()
        }
    }

    /// `':' block`; `what` names the statement for CPython's indentation messages.
    mutating func parseBlock(_ what: String, headerStart: Int, role: PythonRole = .body) throws(ParseFailure) {
        try expect(.colon, ":")
        if code == .newline {
            advance()
            guard code == .indent else {
                throw ParseFailure(message: "expected an indented block after \(what)", offset: startOffset, lineOf: headerStart)
            }
            advance()
            var body: [PythonNodeID] = []
            while code != .dedent && code != .endmarker {
                try parseStatement(into: &body)
            }
            _ = accept(.dedent)
            for s in body { push(s, role) }
        } else {
            var body: [PythonNodeID] = []
            try parseSimpleStatements(into: &body)
            for s in body { push(s, role) }
        }
    }

    mutating func parseIf() throws(ParseFailure) -> PythonNodeID {
        let start = startOffset
        let mark = scratch.count
        let isElif = code == .kwElif
        advance()
        push(try parseNamedExpression(), .test)
        try parseBlock(isElif ? "'elif' statement" : "'if' statement", headerStart: start)
        if code == .kwElif {
            try enter()
            defer { depth -= 1 }
            push(try parseIf(), .orelse)
        } else if code == .kwElse {
            let elseStart = startOffset
            advance()
            try parseBlock("'else' statement", headerStart: elseStart, role: .orelse)
        }
        return make(.if, start, mark)
    }

    mutating func parseWhile() throws(ParseFailure) -> PythonNodeID {
        let start = startOffset
        let mark = scratch.count
        advance()
        push(try parseNamedExpression(), .test)
        try parseBlock("'while' statement", headerStart: start)
        try parseElse()
        return make(.while, start, mark)
    }

    mutating func parseElse() throws(ParseFailure) {
        if code == .kwElse {
            let elseStart = startOffset
            advance()
            try parseBlock("'else' statement", headerStart: elseStart, role: .orelse)
        }
    }

    mutating func parseFor(start: Int, async: Bool) throws(ParseFailure) -> PythonNodeID {
        let mark = scratch.count
        advance()
        let target = try parseTargets()
        try checkTarget(target, context: .forTarget)
        push(target, .target)
        if !accept(.kwIn) { throw failure() }  // CPython: "invalid syntax" (no forced 'in')
        push(try parseStarExpressions(), .iter)
        try parseBlock("'for' statement", headerStart: start)
        try parseElse()
        return make(async ? .asyncFor : .for, start, mark)
    }

    mutating func parseTry() throws(ParseFailure) -> PythonNodeID {
        let start = startOffset
        let mark = scratch.count
        advance()
        try parseBlock("'try' statement", headerStart: start)
        var star: Bool? = nil
        while code == .kwExcept {
            let hStart = startOffset
            let hMark = scratch.count
            advance()
            if code == .star && target < .v3_11 { throw failure() }  // except*: 3.11
            let isStar = accept(.star)
            if let star, star != isStar {
                throw ParseFailure(message: "cannot have both 'except' and 'except*' on the same 'try'", offset: hStart)
            }
            star = isStar
            var asToken: Int32 = 0
            if code != .colon {
                let typeStart = startOffset
                var type = try parseExpression()
                if code == .comma {
                    guard target >= .v3_14 else {
                        throw ParseFailure(message: "multiple exception types must be parenthesized", offset: nodes[Int(type)].start)
                    }
                    // PEP 758 (3.14): `except A, B:` is a tuple of types, without 'as'.
                    let tupleMark = scratch.count
                    push(type, .element)
                    while accept(.comma) {
                        if !startsExpression { break }
                        push(try parseExpression(), .element)
                    }
                    type = make(.tuple, typeStart, tupleMark)
                    if code == .kwAs {
                        throw ParseFailure(message: "multiple exception types must be parenthesized when using 'as'", offset: typeStart)
                    }
                }
                push(type, .type)
                if accept(.kwAs) {
                    asToken = toks[i].index
                    try expectName()
                }
            } else if isStar {
                throw ParseFailure(message: "expected one or more exception types", offset: startOffset)
            }
            try parseBlock(isStar ? "'except*' statement" : "'except' statement", headerStart: hStart)
            push(make(.exceptHandler, hStart, hMark, aux: asToken), .handler)
        }
        if star != nil { try parseElse() }
        if code == .kwFinally {
            let fStart = startOffset
            advance()
            try parseBlock("'finally' statement", headerStart: fStart, role: .finalbody)
        } else if star == nil {
            throw failure("expected 'except' or 'finally' block")
        }
        return make(star == true ? .tryStar : .try, start, mark)
    }

    mutating func parseWith(start: Int, async: Bool) throws(ParseFailure) -> PythonNodeID {
        let mark = scratch.count
        advance()
        if code == .lpar {
            // Parenthesized with-items (3.9+) versus a parenthesized expression: try the former.
            let saved = save()
            advance()
            var ok = true
            do {
                repeat {
                    if code == .rpar { break }
                    push(try parseWithItem(), .item)
                } while accept(.comma)
                ok = code == .rpar && peek(1) == .colon
                if ok { advance() }
            } catch {
                ok = false
            }
            if !ok {
                restore(saved)
                repeat { push(try parseWithItem(), .item) } while accept(.comma)
            }
        } else {
            repeat { push(try parseWithItem(), .item) } while accept(.comma)
        }
        try parseBlock("'with' statement", headerStart: start)
        return make(async ? .asyncWith : .with, start, mark)
    }

    mutating func parseWithItem() throws(ParseFailure) -> PythonNodeID {
        let start = startOffset
        let mark = scratch.count
        push(try parseExpression(), .contextExpr)
        if accept(.kwAs) {
            let target = try parseTarget()
            try checkTarget(target, context: .with)
            push(target, .optionalVars)
            if code != .comma && code != .colon && code != .rpar { throw failure() }
        }
        return make(.withItem, start, mark)
    }

    mutating func parseDecorated() throws(ParseFailure) -> PythonNodeID {
        var decorators: [PythonNodeID] = []
        while accept(.at) {
            decorators.append(try parseNamedExpression())
            guard accept(.newline) else { throw failure() }
        }
        let start = startOffset
        switch code {
        case .kwDef: return try parseFunction(start: start, async: false, decorators: decorators)
        case .kwClass: return try parseClass(start: start, decorators: decorators)
        case .kwAsync where peek(1) == .kwDef:
            advance()
            return try parseFunction(start: start, async: true, decorators: decorators)
        default: throw failure()
        }
    }

    mutating func parseFunction(start: Int, async: Bool, decorators: [PythonNodeID]) throws(ParseFailure) -> PythonNodeID {
        let mark = scratch.count
        advance()
        let nameToken = toks[i].index
        try expectName()
        if code == .lsqb { try parseTypeParams(refusal: "expected '('") }
        let argsStart = toks[i].end
        try expect(.lpar, "(")
        push(try parseParameters(closing: .rpar, annotations: true, start: argsStart), .arguments)
        try expect(.rpar, ")")
        if code == .rarrow {
            // CPython's forced ':' after an optional annotation that does not parse.
            guard startsExpressionAt(1) else { throw ParseFailure(message: "expected ':'", offset: startOffset) }
            advance()
            push(try parseExpression(), .returns)
        }
        for d in decorators { push(d, .decorator) }
        try parseBlock("function definition", headerStart: start)
        return make(async ? .asyncFunctionDef : .functionDef, start, mark, token: nameToken,
                    order: [.arguments, .body, .decorator, .returns, .typeParam])
    }

    mutating func parseClass(start: Int, decorators: [PythonNodeID]) throws(ParseFailure) -> PythonNodeID {
        let mark = scratch.count
        advance()
        let nameToken = toks[i].index
        try expectName()
        if code == .lsqb { try parseTypeParams(refusal: "invalid syntax") }
        if accept(.lpar) {
            if !(try parseCallArguments(positionalRole: .base)) { try expect(.rpar, ")") }
        }
        for d in decorators { push(d, .decorator) }
        try parseBlock("class definition", headerStart: start)
        return make(.classDef, start, mark, token: nameToken, order: [.base, .keyword, .body, .decorator, .typeParam])
    }

    /// PEP 695 `[T, *Ts, **P, U: bound]` (3.12), with PEP 696 defaults `[T = int, *Ts = *tuple[int]]`
    /// (3.13). Before its version, CPython does not read the list at all: its error is
    /// `refusal` (what the statement's rule says next), at the '['.
    mutating func parseTypeParams(refusal: String) throws(ParseFailure) {
        let open = startOffset
        guard target >= .v3_12 else { throw ParseFailure(message: refusal, offset: open) }
        advance()
        if code == .rsqb {
            // `[]`: 3.13 says so; 3.12's grammar just does not match.
            throw ParseFailure(message: target >= .v3_13 ? "Type parameter list cannot be empty" : refusal.hasPrefix("invalid syntax") ? "invalid syntax" : refusal,
                               offset: startOffset)
        }
        repeat {
            if code == .rsqb { break }
            let start = startOffset
            let mark = scratch.count
            var kind = PythonNodeKind.typeVar
            if accept(.star) { kind = .typeVarTuple } else if accept(.doubleStar) { kind = .paramSpec }
            let nameToken = toks[i].index
            try expectName()
            if kind == .typeVar && accept(.colon) { push(try parseExpression(), .bound) }
            if code == .equal {
                guard target >= .v3_13 else { throw ParseFailure(message: refusal, offset: open) }
                advance()
                push(kind == .typeVarTuple ? try parseStarExpression() : try parseExpression(), .defaultValue)
            }
            push(make(kind, start, mark, token: nameToken), .typeParam)
        } while accept(.comma)
        try expect(.rsqb, "]")
    }

    /// Parameters of a def (annotations) or lambda, up to `closing`.
    mutating func parseParameters(closing: TokenCode, annotations: Bool, start: Int) throws(ParseFailure) -> PythonNodeID {
        let mark = scratch.count
        var sawDefault = false
        var sawStar = false
        var sawKwarg = false
        var sawSlash = false
        let firstStart = startOffset
        while code != closing {
            if sawKwarg { throw failure("arguments cannot follow var-keyword argument") }
            if code == .slash {
                if sawStar { throw failure("/ must be ahead of *") }
                if sawSlash { throw failure("/ may appear only once") }
                sawSlash = true
                advance()
                var any = false
                for k in mark..<scratch.count where scratch[k].1 == .argParam { scratch[k].1 = .posonlyArg; any = true }
                if !any { throw failure("at least one argument must precede /") }
            } else if code == .star {
                if sawStar { throw failure("* argument may appear only once") }
                sawStar = true
                advance()
                if code == .comma || code == closing {
                    // A bare '*' needs a keyword-only parameter after it (not '**k', not the end).
                    if code == closing || peek(1) == .doubleStar || peek(1) == closing {
                        throw failure("named arguments must follow bare *")
                    }
                } else {
                    push(try parseParameter(annotations: annotations, starAnnotation: true), .vararg)
                    if code == .equal { throw failure("var-positional argument cannot have default value") }
                }
            } else if code == .doubleStar {
                advance()
                push(try parseParameter(annotations: annotations, starAnnotation: false), .kwarg)
                if code == .equal { throw failure("var-keyword argument cannot have default value") }
                sawKwarg = true
            } else {
                if code == .lpar {
                    throw failure(annotations ? "Function parameters cannot be parenthesized" : "Lambda expression parameters cannot be parenthesized")
                }
                let p = try parseParameter(annotations: annotations, starAnnotation: false)
                push(p, sawStar ? .kwonlyArg : .argParam)
                if accept(.equal) {
                    if annotations && (code == .comma || code == closing) {  // def only: lambdas say invalid syntax
                        throw ParseFailure(message: "expected default value expression", offset: toks[i - 1].start)
                    }
                    push(try parseExpression(), sawStar ? .kwDefault : .defaultValue)
                    if !sawStar { sawDefault = true }
                } else if sawDefault && !sawStar {
                    throw ParseFailure(
                        message: target >= .v3_12 ? "parameter without a default follows parameter with a default" : "non-default argument follows default argument",
                        offset: nodes[Int(p)].start)
                }
            }
            if !accept(.comma) { break }
        }
        let hasArgs = scratch.count > mark
        return make(.arguments, hasArgs ? firstStart : start, mark,
                    order: [.posonlyArg, .argParam, .vararg, .kwonlyArg, .kwDefault, .kwarg, .defaultValue],
                    end: hasArgs ? lastEnd : start)
    }

    mutating func parseParameter(annotations: Bool, starAnnotation: Bool) throws(ParseFailure) -> PythonNodeID {
        let start = startOffset
        let mark = scratch.count
        let nameToken = toks[i].index
        try expectName()
        if annotations && accept(.colon) {
            // `*args: *Ts` (PEP 646): 3.11
            push(starAnnotation && code == .star && target >= .v3_11 ? try parseStarExpression() : try parseExpression(), .annotation)
        }
        return make(.arg, start, mark, token: nameToken)
    }

    // MARK: match statement

    mutating func parseMatchIfPresent() throws(ParseFailure) -> PythonNodeID? {
        // `match` is a soft keyword: it is a statement only if `match <subject>:` NEWLINE INDENT `case` follows.
        let saved = save()
        let start = startOffset
        let mark = scratch.count
        advance()
        do {
            if code == .colon || code == .equal || code == .newline || code == .dot || code == .comma
                || code.isAugmentedAssign || code == .rpar {
                restore(saved)
                return nil
            }
            let subjectStart = startOffset
            let first = try parseStarNamedExpression()
            if code == .comma {
                let tMark = scratch.count
                push(first, .element)
                while accept(.comma) {
                    if code == .colon { break }
                    push(try parseStarNamedExpression(), .element)
                }
                push(make(.tuple, subjectStart, tMark), .subject)
            } else {
                push(first, .subject)
            }
            guard code == .colon, peek(1) == .newline else { restore(saved); return nil }
        } catch {
            restore(saved)
            return nil
        }
        if peek(2) != .indent {
            i += 2
            throw ParseFailure(message: "expected an indented block after 'match' statement", offset: startOffset, lineOf: start)
        }
        advance()
        advance()
        advance()
        try enter()
        defer { depth -= 1 }
        while isSoftKeyword(0, "case") {
            let cStart = startOffset
            let cMark = scratch.count
            advance()
            push(try parsePatterns(), .pattern)
            if accept(.kwIf) { push(try parseNamedExpression(), .guardTest) }
            try parseBlock("'case' statement", headerStart: cStart)
            push(make(.matchCase, cStart, cMark), .matchCase)
        }
        if code != .dedent && code != .endmarker { throw failure() }
        _ = accept(.dedent)
        return make(.match, start, mark)
    }

    mutating func parsePatterns() throws(ParseFailure) -> PythonNodeID {
        let start = startOffset
        let mark = scratch.count
        let first = try parseAsPattern()
        guard code == .comma else { return first }
        push(first, .pattern)
        while accept(.comma) {
            if code == .colon || code == .kwIf { break }
            push(try parseAsPattern(), .pattern)
        }
        return make(.matchSequence, start, mark)
    }

    mutating func parseAsPattern() throws(ParseFailure) -> PythonNodeID {
        let start = startOffset
        let p = try parseOrPattern()
        if accept(.kwAs) {
            let nameToken = toks[i].index
            if code == .name && isUnderscore(nameToken) { throw failure("cannot use '_' as a target") }
            try expectName()
            let mark = scratch.count
            push(p, .pattern)
            return make(.matchAs, start, mark, aux: nameToken)
        }
        return p
    }

    mutating func parseOrPattern() throws(ParseFailure) -> PythonNodeID {
        let start = startOffset
        let first = try parseClosedPattern()
        guard code == .vbar else { return first }
        let mark = scratch.count
        push(first, .pattern)
        while accept(.vbar) { push(try parseClosedPattern(), .pattern) }
        return make(.matchOr, start, mark)
    }

    mutating func parseClosedPattern() throws(ParseFailure) -> PythonNodeID {
        try enter()
        defer { depth -= 1 }
        let start = startOffset
        let mark = scratch.count
        switch code {
        case .kwNone, .kwTrue, .kwFalse:
            advance()
            return make(.matchSingleton, start, mark)
        case .number, .minus:
            push(try parseSignedNumberPattern(), .value)
            return make(.matchValue, start, mark)
        case .string, .fstringStart:  // an f-string: ast.parse accepts it, the compiler rejects it
            push(try parseStrings(), .value)
            return make(.matchValue, start, mark)
        case .star:
            advance()
            let nameToken = toks[i].index
            try expectName()
            return make(.matchStar, start, mark, aux: isUnderscore(nameToken) ? 0 : nameToken)
        case .lpar, .lsqb:
            return try parseSequencePattern(start: start, mark: mark)
        case .lbrace:
            return try parseMappingPattern(start: start, mark: mark)
        case .name:
            let nameToken = toks[i].index
            if peek(1) != .dot && peek(1) != .lpar {
                advance()
                return make(.matchAs, start, mark, aux: isUnderscore(nameToken) ? 0 : nameToken)
            }
            return try parseValueOrClassPattern(start: start, mark: mark)
        default:
            throw failure()
        }
    }

    // The bigger cases of a closed pattern, each in its own frame: parseClosedPattern is
    // on the stack once per nested pattern.

    @inline(never)
    mutating func parseSequencePattern(start: Int, mark: Int) throws(ParseFailure) -> PythonNodeID {
        let closing: TokenCode = code == .lpar ? .rpar : .rsqb
        let isParen = code == .lpar
        advance()
        if accept(closing) { return make(.matchSequence, start, mark) }
        let first = try parseAsPattern()
        if isParen && code == .rpar {
            advance()
            return first  // a group: the pattern keeps its own span
        }
        push(first, .pattern)
        while accept(.comma) {
            if code == closing { break }
            push(try parseAsPattern(), .pattern)
        }
        try expect(closing, isParen ? ")" : "]")
        return make(.matchSequence, start, mark)
    }

    @inline(never)
    mutating func parseMappingPattern(start: Int, mark: Int) throws(ParseFailure) -> PythonNodeID {
        advance()
        var rest: Int32 = 0
        while code != .rbrace {
            if accept(.doubleStar) {
                rest = toks[i].index
                if code == .name && isUnderscore(rest) { throw failure() }
                try expectName()
                if code == .comma && peek(1) != .rbrace { throw failure() }  // a `**rest` not last: CPython says "invalid syntax"
            } else {
                if code == .string || code == .fstringStart { push(try parseStrings(), .key) }
                else if code == .number || code == .minus { push(try parseSignedNumberPattern(), .key) }
                else if code == .kwNone || code == .kwTrue || code == .kwFalse { push(leaf(.constant, toks[i]), .key); advance() }
                else if code == .name && peek(1) == .dot { push(try parseDottedValue(), .key) }  // a bare name is no key
                else { throw failure() }
                try expect(.colon, ":")
                push(try parseAsPattern(), .pattern)
            }
            if !accept(.comma) { break }
        }
        try expect(.rbrace, "}")
        return make(.matchMapping, start, mark, aux: rest, order: [.key, .pattern])
    }

    @inline(never)
    mutating func parseValueOrClassPattern(start: Int, mark: Int) throws(ParseFailure) -> PythonNodeID {
        let value = try parseDottedValue()
        if accept(.lpar) {
            push(value, .cls)
            var sawKeyword = false
            while code != .rpar {
                if code == .name && peek(1) == .equal {
                    advance()
                    advance()
                    push(try parseAsPattern(), .kwdPattern)
                    sawKeyword = true
                } else {
                    if sawKeyword { throw failure("positional patterns follow keyword patterns") }
                    push(try parseAsPattern(), .pattern)
                }
                if !accept(.comma) { break }
            }
            try expect(.rpar, ")")
            return make(.matchClass, start, mark, order: [.cls, .pattern, .kwdPattern])
        }
        push(value, .value)
        return make(.matchValue, start, mark)
    }

    /// Whether the token `tokenIndex` (the current or the previous one) is `_`.
    func isUnderscore(_ tokenIndex: Int32) -> Bool {
        for k in [i, i - 1] where k >= 0 && toks[k].index == tokenIndex {
            let t = toks[k]
            return t.end - t.start == 1 && text[t.start] == 0x5F
        }
        return false
    }

    mutating func parseDottedValue() throws(ParseFailure) -> PythonNodeID {
        let start = startOffset
        var value = leaf(.name, toks[i])
        try expectName()
        while code == .dot {
            advance()
            let attr = toks[i].index
            try expectName()
            let mark = scratch.count
            push(value, .value)
            value = make(.attribute, start, mark, token: attr)
        }
        return value
    }

    func isImaginary(_ t: PTok) -> Bool {
        t.code == .number && t.end > t.start && text[t.end - 1] | 0x20 == 0x6A  // j
    }

    mutating func parseSignedNumberPattern() throws(ParseFailure) -> PythonNodeID {
        let start = startOffset
        var value: PythonNodeID
        if code == .minus {
            let op = toks[i].index
            advance()
            guard code == .number else { throw failure() }
            let mark = scratch.count
            push(leaf(.constant, toks[i]), .operand)
            advance()
            value = make(.unaryOp, start, mark, token: op)
        } else {
            guard code == .number else { throw failure() }
            value = leaf(.constant, toks[i])
            advance()
        }
        if code == .plus || code == .minus {
            let op = toks[i].index
            // A complex literal: real part, then an imaginary one.
            if isImaginary(toks[i - 1]) { throw ParseFailure(message: "real number required in complex literal", offset: start) }
            advance()
            guard code == .number else { throw failure() }
            if !isImaginary(toks[i]) { throw ParseFailure(message: "imaginary number required in complex literal", offset: toks[i].start) }
            let mark = scratch.count
            push(value, .left)
            push(leaf(.constant, toks[i]), .right)
            advance()
            value = make(.binOp, start, mark, token: op)
        }
        return value
    }

    // MARK: - targets

    /// `star_targets` for `for` loops and comprehensions: stops before `in`.
    mutating func parseTargets() throws(ParseFailure) -> PythonNodeID {
        let start = startOffset
        let first = try parseTarget()
        guard code == .comma else { return first }
        let mark = scratch.count
        push(first, .element)
        while accept(.comma) {
            if code == .kwIn || code == .equal { break }
            push(try parseTarget(), .element)
        }
        return make(.tuple, start, mark)
    }

    mutating func parseTarget() throws(ParseFailure) -> PythonNodeID {
        if code == .star {
            try enter()
            defer { depth -= 1 }
            let start = startOffset
            advance()
            let mark = scratch.count
            push(try parseTarget(), .value)
            return make(.starred, start, mark)
        }
        return try parsePrimary()
    }

    /// `del` targets.
    mutating func parseDeleteTargets() throws(ParseFailure) {
        let saved = save()
        do throws(ParseFailure) {
            repeat {
                if atSimpleStatementEnd { break }
                let t = try parsePrimary()
                try checkTarget(t, context: .delete)
                push(t, .target)
            } while accept(.comma)
            if atSimpleStatementEnd { return }
            throw failure()
        } catch {
            // CPython's invalid_del_stmt: read what follows `del` as expressions and name the
            // first that cannot be deleted ("cannot delete expression", "... starred").
            let problem = error
            restore(saved)
            guard let targets = try? parseStarExpressions() else { throw problem }
            let items = nodes[Int(targets)].kind == .tuple
                ? (0..<Int(nodes[Int(targets)].childCount)).map { childIDs[Int(nodes[Int(targets)].childStart) + $0] } : [targets]
            for item in items {
                let n = nodes[Int(item)]
                if n.kind == .starred { throw ParseFailure(message: "cannot delete starred", offset: n.start) }
                try checkTarget(item, context: .delete)
            }
            throw problem
        }
    }

    // MARK: - expressions

    /// star_expressions: `a`, `a, b`, `*a, b` (a tuple when there is a comma).
    mutating func parseStarExpressions() throws(ParseFailure) -> PythonNodeID {
        let start = startOffset
        let first = try parseStarExpression()
        guard code == .comma else { return first }
        let mark = scratch.count
        push(first, .element)
        while accept(.comma) {
            if !startsExpression { break }
            push(try parseStarExpression(), .element)
        }
        return make(.tuple, start, mark)
    }

    var startsExpression: Bool { startsExpressionAt(0) }

    func startsExpressionAt(_ k: Int) -> Bool {
        switch peek(k) {
        case .name, .number, .string, .fstringStart, .lpar, .lsqb, .lbrace, .minus, .plus, .tilde, .star, .ellipsis,
             .kwNone, .kwTrue, .kwFalse, .kwNot, .kwLambda, .kwAwait, .kwYield:
            return true
        default:
            return false
        }
    }

    mutating func parseStarExpression() throws(ParseFailure) -> PythonNodeID {
        if code == .star {
            let start = startOffset
            advance()
            let mark = scratch.count
            push(try parseBitOr(), .value)
            return make(.starred, start, mark)
        }
        return try parseExpression()
    }

    mutating func parseStarNamedExpression() throws(ParseFailure) -> PythonNodeID {
        if code == .star { return try parseStarExpression() }
        return try parseNamedExpression()
    }

    mutating func parseNamedExpression() throws(ParseFailure) -> PythonNodeID {
        if code == .name && peek(1) == .colonEqual {
            let start = startOffset
            let mark = scratch.count
            push(leaf(.name, toks[i]), .target)
            advance()
            advance()
            push(try parseExpression(), .value)
            return make(.namedExpr, start, mark)
        }
        let e = try parseExpression()
        if code == .colonEqual {
            throw ParseFailure(message: "cannot use assignment expressions with \(expressionName(nodes[Int(e)]))", offset: nodes[Int(e)].start)
        }
        return e
    }

    /// expression: disjunction ['if' disjunction 'else' expression] | lambdef
    /// A chain `a if b else c if d else e` (each conditional the `else` of the one before)
    /// is read in a loop and built inside out: a level each, no stack.
    ///
    /// No level of its own: an expression nests only through a bracket, a lambda, an
    /// f-string field or the chains read in loops, each of which is a level (so the check
    /// runs once per nesting, not once per expression).
    mutating func parseExpression() throws(ParseFailure) -> PythonNodeID {
        if code == .kwLambda { return try parseLambda() }
        let start = startOffset
        let body = try parseDisjunction()
        guard code == .kwIf else { return body }
        return try parseConditional(start: start, body: body)
    }

    /// The rest of `body if test else ...` (kept out of parseExpression's frame, which is
    /// on the stack once per nested bracket).
    @inline(never)
    mutating func parseConditional(start: Int, body: PythonNodeID) throws(ParseFailure) -> PythonNodeID {
        let outer = depth
        defer { depth = outer }
        var start = start, body = body
        var links: [(start: Int, body: PythonNodeID, test: PythonNodeID)] = []
        var last: PythonNodeID
        while true {
            advance()
            let test = try parseDisjunction()
            guard accept(.kwElse) else { throw failure("expected 'else' after 'if' expression") }
            links.append((start, body, test))
            try enter()
            if code == .kwLambda { last = try parseLambda(); break }
            start = startOffset
            body = try parseDisjunction()
            guard code == .kwIf else { last = body; break }
        }
        for link in links.reversed() {
            let mark = scratch.count
            push(link.body, .body)
            push(link.test, .test)
            push(last, .orelse)
            last = make(.ifExp, link.start, mark, order: [.test, .body, .orelse])
        }
        return last
    }

    mutating func parseLambda() throws(ParseFailure) -> PythonNodeID {
        try enter()  // `lambda: lambda: ...` nests without brackets
        let levels = twoLevelForms ? 2 : 1
        if levels == 2 { try enter() }
        defer { depth -= levels }
        let start = startOffset
        let mark = scratch.count
        advance()
        push(try parseParameters(closing: .colon, annotations: false, start: lastEnd), .arguments)
        try expect(.colon, ":")
        // In an f-string's field the ':' began a format spec (3.12+ tokens).
        if code == .fstringMiddle {
            throw ParseFailure(message: "\(stringWord): lambda expressions are not allowed without parentheses", offset: start)
        }
        push(try parseExpression(), .body)
        return make(.lambda, start, mark)
    }

    /// Whether the current token starts a leading operand: a primary (name, literal,
    /// bracket), `await`, or a unary operator.
    var startsLeadingOperand: Bool {
        switch code {
        case .name, .number, .string, .fstringStart, .lpar, .lsqb, .lbrace, .ellipsis, .kwNone, .kwTrue, .kwFalse,
             .kwAwait, .plus, .minus, .tilde:
            return true
        default:
            return false
        }
    }

    /// The first operand of an expression (a primary, an await or a unary factor), read
    /// before the operator levels are entered: a bracket nested in a bracket then recurses
    /// through a few frames (parseExpression, parseDisjunction, parsePrimary, the display)
    /// instead of one per precedence level, so CPython's 200 nested brackets fit in a
    /// 512 KB thread stack. The levels then go on from the operand (`first` below).
    @inline(never)
    mutating func parseLeadingOperand() throws(ParseFailure) -> PythonNodeID {
        switch code {
        case .plus, .minus, .tilde: return try parseFactorOnly()
        case .kwAwait: return try parseAwaitPrimary()
        default: return try parsePrimary()
        }
    }

    /// disjunction; `first`, when given (>= 0), is its leading operand, already read from
    /// `firstStart` (see parseLeadingOperand). So for the other levels below.
    mutating func parseDisjunction(_ first: PythonNodeID = -1, _ firstStart: Int = 0) throws(ParseFailure) -> PythonNodeID {
        var firstOperand = first, firstStart = firstStart
        if firstOperand < 0 && startsLeadingOperand {
            firstStart = startOffset
            firstOperand = try parseLeadingOperand()
        }
        let start = firstOperand >= 0 ? firstStart : startOffset
        let first = try parseConjunction(firstOperand, firstStart)
        guard code == .kwOr else { return first }
        let op = toks[i].index
        let mark = scratch.count
        push(first, .value)
        while accept(.kwOr) { push(try parseConjunction(), .value) }
        return make(.boolOp, start, mark, token: op)
    }

    mutating func parseConjunction(_ first: PythonNodeID = -1, _ firstStart: Int = 0) throws(ParseFailure) -> PythonNodeID {
        let start = first >= 0 ? firstStart : startOffset
        let first = try parseInversion(first, firstStart)
        guard code == .kwAnd else { return first }
        let op = toks[i].index
        let mark = scratch.count
        push(first, .value)
        while accept(.kwAnd) { push(try parseInversion(), .value) }
        return make(.boolOp, start, mark, token: op)
    }

    /// `not not ... x`: in a loop, like the other unary operators.
    mutating func parseInversion(_ first: PythonNodeID = -1, _ firstStart: Int = 0) throws(ParseFailure) -> PythonNodeID {
        guard first < 0 && code == .kwNot else { return try parseComparison(first, firstStart) }
        let first = i
        let outer = depth
        while code == .kwNot {
            try enter()
            advance()
        }
        let last = i
        defer { depth = outer }
        var operand = try parseComparison()
        for k in stride(from: last - 1, through: first, by: -1) {
            let mark = scratch.count
            push(operand, .operand)
            operand = make(.unaryOp, toks[k].start, mark, token: toks[k].index)
        }
        return operand
    }

    mutating func parseComparison(_ first: PythonNodeID = -1, _ firstStart: Int = 0) throws(ParseFailure) -> PythonNodeID {
        var firstOperand = first, firstStart = firstStart
        if firstOperand < 0 && startsLeadingOperand {
            firstStart = startOffset
            firstOperand = try parseLeadingOperand()
        }
        let start = firstOperand >= 0 ? firstStart : startOffset
        let first = try parseBinary(0, firstOperand, firstStart)
        var mark = -1
        while true {
            switch code {
            case .eqEqual, .notEqual, .less, .lessEqual, .greater, .greaterEqual, .kwIn:
                advance()
            case .kwNot where peek(1) == .kwIn:
                advance(); advance()
            case .kwIs:
                advance()
                _ = accept(.kwNot)
            default:
                if mark < 0 { return first }
                return make(.compare, start, mark)
            }
            if mark < 0 {
                mark = scratch.count
                push(first, .left)
            }
            push(try parseBitOr(), .comparator)
        }
    }

    /// Binary operators by precedence, loosest first: | ^ & shifts +- */%@//
    @inline(__always) func binaryLevel(_ c: TokenCode) -> Int {
        switch c {
        case .vbar: return 0
        case .circumflex: return 1
        case .amper: return 2
        case .leftShift, .rightShift: return 3
        case .plus, .minus: return 4
        case .star, .slash, .doubleSlash, .percent, .at: return 5
        default: return -1
        }
    }

    /// bitwise_or down to term by precedence climbing (left-associative); one call per
    /// operand instead of one per precedence level.
    mutating func parseBinary(_ minLevel: Int, _ first: PythonNodeID = -1, _ firstStart: Int = 0) throws(ParseFailure) -> PythonNodeID {
        let start = first >= 0 ? firstStart : startOffset
        var left = try parseFactorOnly(first, firstStart)
        while true {
            let level = binaryLevel(code)
            guard level >= minLevel else { return left }
            let op = toks[i].index
            advance()
            let right = try parseBinary(level + 1)
            let mark = scratch.count
            push(left, .left)
            push(right, .right)
            left = make(.binOp, start, mark, token: op)
        }
    }

    mutating func parseBitOr() throws(ParseFailure) -> PythonNodeID {
        guard startsLeadingOperand else { return try parseBinary(0) }
        let start = startOffset
        let first = try parseLeadingOperand()
        return try parseBinary(0, first, start)
    }

    /// factor: ('+'|'-'|'~') factor | power
    /// A run of unary operators is read in a loop and built inside out: each is a level
    /// of nesting, but none takes stack (CPython accepts about 3,000 of them).
    mutating func parseFactorOnly(_ first: PythonNodeID = -1, _ firstStart: Int = 0) throws(ParseFailure) -> PythonNodeID {
        guard first < 0 && (code == .plus || code == .minus || code == .tilde) else { return try parsePower(first, firstStart) }
        let first = i
        let outer = depth
        while code == .plus || code == .minus || code == .tilde {
            try enter()
            advance()
        }
        let last = i
        defer { depth = outer }
        var operand = try parsePower()
        for k in stride(from: last - 1, through: first, by: -1) {
            let mark = scratch.count
            push(operand, .operand)
            operand = make(.unaryOp, toks[k].start, mark, token: toks[k].index)
        }
        return operand
    }

    /// power: await_primary ['**' factor]
    mutating func parsePower(_ first: PythonNodeID = -1, _ firstStart: Int = 0) throws(ParseFailure) -> PythonNodeID {
        let start = first >= 0 ? firstStart : startOffset
        var base: PythonNodeID
        if first >= 0 {
            base = first
        } else if code == .kwAwait {
            base = try parseAwaitPrimary()
        } else {
            base = try parsePrimary()
        }
        guard code == .doubleStar else { return base }
        return try parsePowerChain(start: start, base: base)
    }

    /// `a ** -b ** c ...` (right-associative, each right operand a factor: unary
    /// operators, then the next power), read in a loop and built inside out.
    @inline(never)
    mutating func parsePowerChain(start: Int, base: PythonNodeID) throws(ParseFailure) -> PythonNodeID {
        var base = base
        let outer = depth
        defer { depth = outer }
        // Per link: where its base starts, the base, its `**` token, and the toks range of
        // the unary operators before the next base.
        var links: [(start: Int, base: PythonNodeID, op: Int32, unary: Range<Int>)] = []
        var linkStart = start
        while code == .doubleStar {
            try enter()
            if twoLevelForms { try enter() }
            let op = toks[i].index
            advance()
            let unaryStart = i
            while code == .plus || code == .minus || code == .tilde {
                try enter()
                advance()
            }
            links.append((linkStart, base, op, unaryStart..<i))
            linkStart = startOffset
            base = code == .kwAwait ? try parseAwaitPrimary() : try parsePrimary()
        }
        for link in links.reversed() {
            for k in link.unary.reversed() {
                let mark = scratch.count
                push(base, .operand)
                base = make(.unaryOp, toks[k].start, mark, token: toks[k].index)
            }
            let mark = scratch.count
            push(link.base, .left)
            push(base, .right)
            base = make(.binOp, link.start, mark, token: link.op)
        }
        return base
    }

    /// await_primary: 'await' primary
    mutating func parseAwaitPrimary() throws(ParseFailure) -> PythonNodeID {
        let start = startOffset
        advance()
        let mark = scratch.count
        push(try parsePrimary(), .value)
        return make(.await, start, mark)
    }

    /// primary: atom ('.' NAME | '(' args ')' | '[' slices ']' | genexp)*
    mutating func parsePrimary() throws(ParseFailure) -> PythonNodeID {
        let start = startOffset
        var value = try parseAtom()
        while true {
            switch code {
            case .dot:
                advance()
                let attr = toks[i].index
                try expectName()
                let mark = scratch.count
                push(value, .value)
                value = make(.attribute, start, mark, token: attr)
            case .lpar:
                // A call's and a subscript's brackets are levels too (`x[*x[*...` nests
                // through parseSlice and parseStarExpression, not parseExpression).
                try enter()
                defer { depth -= 1 }
                let mark = scratch.count
                push(value, .function)
                advance()
                if !(try parseCallArguments(positionalRole: .arg)) { try expectClosing(.rpar, mark: mark + 1) }
                value = make(.call, start, mark, order: [.function, .arg, .keyword])
            case .lsqb:
                try enter()
                defer { depth -= 1 }
                let mark = scratch.count
                push(value, .value)
                advance()
                push(try parseSlices(), .slice)
                try expectClosing(.rsqb, mark: mark + 1)
                value = make(.subscript, start, mark)
            default:
                return value
            }
        }
    }

    /// Call arguments or class bases after '('; handles a lone generator argument.
    /// Returns true when a lone generator argument consumed the closing parenthesis.
    @discardableResult
    mutating func parseCallArguments(positionalRole: PythonRole) throws(ParseFailure) -> Bool {
        let openStart = toks[i - 1].start
        var sawKeyword = false
        var sawDoubleStar = false
        var count = 0
        while code != .rpar {
            let argStart = startOffset
            if code == .star {
                if sawDoubleStar {
                    throw ParseFailure(message: "iterable argument unpacking follows keyword argument unpacking", offset: argStart)
                }
                advance()
                let mark = scratch.count
                push(try parseExpression(), .value)
                if code == .kwFor || (code == .kwAsync && peek(1) == .kwFor) {
                    throw ParseFailure(message: "iterable unpacking cannot be used in comprehension", offset: argStart)
                }
                push(make(.starred, argStart, mark), positionalRole)
            } else if code == .doubleStar {
                advance()
                let mark = scratch.count
                push(try parseExpression(), .value)
                push(make(.keyword, argStart, mark, aux: -1), .keyword)
                sawDoubleStar = true
            } else if code == .name && peek(1) == .equal {
                let nameToken = toks[i].index
                advance()
                advance()
                if target >= .v3_12 && (code == .comma || code == .rpar) {
                    throw ParseFailure(message: "expected argument value expression", offset: argStart)
                }
                let mark = scratch.count
                push(try parseExpression(), .value)
                push(make(.keyword, argStart, mark, token: nameToken), .keyword)
                sawKeyword = true
            } else {
                let e = try parseNamedExpression()
                if code == .kwFor || code == .kwAsync {
                    // f(x for x in y): the generator spans the call's parentheses.
                    if count > 0 || positionalRole == .base {
                        throw ParseFailure(message: positionalRole == .base ? "invalid syntax" : "Generator expression must be parenthesized",
                                           offset: nodes[Int(e)].start)
                    }
                    let g = try parseComprehension(.generatorExp, element: e, start: openStart, closing: .rpar, includeClosing: true)
                    push(g, positionalRole)
                    return true
                }
                if code == .equal {
                    throw ParseFailure(message: "expression cannot contain assignment, perhaps you meant \"==\"?", offset: nodes[Int(e)].start)
                }
                // CPython raises these without a location, at the furthest token it read:
                // the call's ')' (`_PyPegen_arguments_parsing_error`).
                if sawDoubleStar {
                    throw ParseFailure(message: "positional argument follows keyword argument unpacking", offset: closingParenthesisOffset())
                }
                if sawKeyword {
                    throw ParseFailure(message: "positional argument follows keyword argument", offset: closingParenthesisOffset())
                }
                push(e, positionalRole)
            }
            count += 1
            if !accept(.comma) { break }
        }
        return false
    }

    /// The offset of the ')' that closes the bracket the parser is in (a token scan), or of
    /// the last token before the end when there is none.
    func closingParenthesisOffset() -> Int {
        var k = i
        var depth = 0
        while k < toks.count - 1 {
            switch toks[k].code {
            case .lpar, .lsqb, .lbrace: depth += 1
            case .rpar, .rsqb, .rbrace:
                if depth == 0 { return toks[k].start }
                depth -= 1
            default: break
            }
            k += 1
        }
        return toks[max(0, k - 1)].start
    }

    /// slices: slice | (slice | starred)+ with commas -> Tuple
    mutating func parseSlices() throws(ParseFailure) -> PythonNodeID {
        let start = startOffset
        let first = try parseSlice()
        guard code == .comma else {
            guard nodes[Int(first)].kind == .starred else { return first }
            let mark = scratch.count  // a[*b] is a[(*b,)] (PEP 646)
            push(first, .element)
            return make(.tuple, start, mark)
        }
        let mark = scratch.count
        push(first, .element)
        while accept(.comma) {
            if code == .rsqb { break }
            push(try parseSlice(), .element)
        }
        return make(.tuple, start, mark)
    }

    mutating func parseSlice() throws(ParseFailure) -> PythonNodeID {
        if code == .star {
            if target < .v3_11 { throw failure() }  // `a[*b]` (PEP 646): 3.11
            return try parseStarExpression()
        }
        let start = startOffset
        let mark = scratch.count
        if code != .colon {
            let lower = try parseNamedExpression()
            guard code == .colon else { return lower }
            push(lower, .lower)
        }
        advance()
        if code != .colon && code != .comma && code != .rsqb { push(try parseExpression(), .upper) }
        if accept(.colon) {
            if code != .comma && code != .rsqb { push(try parseExpression(), .step) }
        }
        return make(.slice, start, mark)
    }

    mutating func parseYield() throws(ParseFailure) -> PythonNodeID {
        let start = startOffset
        let mark = scratch.count
        advance()
        if accept(.kwFrom) {
            push(try parseExpression(), .value)
            return make(.yieldFrom, start, mark)
        }
        if code != .rpar && code != .newline && code != .semi && code != .equal && code != .rsqb && code != .rbrace && code != .endmarker {
            push(try parseStarExpressions(), .value)
        }
        return make(.yield, start, mark)
    }

    mutating func parseAtom() throws(ParseFailure) -> PythonNodeID {
        let t = toks[i]
        switch t.code {
        case .name:
            advance()
            return leaf(.name, t)
        case .number, .kwNone, .kwTrue, .kwFalse, .ellipsis:
            advance()
            return leaf(.constant, t)
        case .string, .fstringStart:
            return try parseStrings()
        case .lpar:
            return try parseParenthesized()
        case .lsqb:
            return try parseList()
        case .lbrace:
            return try parseDictOrSet()
        default:
            throw failure()
        }
    }

    /// Adjacent string literals: one Constant, or a JoinedStr when any is an f-string.
    mutating func parseStrings() throws(ParseFailure) -> PythonNodeID {
        var k = i
        while toks[k].code == .string { k += 1 }
        if toks[k].code == .fstringStart { return try parseSplitFStrings() }
        let start = startOffset
        let first = i
        var anyF = false, anyBytes = false, anyText = false
        while code == .string {
            let t = toks[i]
            var k = t.start
            var isBytes = false, isRaw = false, isF = false
            while text[k] != 0x27 && text[k] != 0x22 {
                let c = text[k] | 0x20
                if c == 0x66 { anyF = true; isF = true }
                if c == 0x62 { isBytes = true }
                if c == 0x72 { isRaw = true }
                k += 1
            }
            if !isRaw { try checkEscapes(t, quoteAt: k, bytes: isBytes, fString: isF) }
            if isBytes {
                anyBytes = true
                for j in k..<t.end where text[j] >= 0x80 {
                    throw ParseFailure(message: "bytes can only contain ASCII literal characters", offset: t.start)
                }
            } else {
                anyText = true
            }
            advance()
        }
        if anyBytes && anyText { throw ParseFailure(message: "cannot mix bytes and nonbytes literals", offset: start) }
        if !anyF { return make(.constant, start, scratch.count) }
        return try parseFStringParts(from: first, to: i, start: start)
    }

    /// CPython's checks of a non-raw literal's escapes (see LiteralCheck), at the token.
    func checkEscapes(_ t: PTok, quoteAt q: Int, bytes: Bool, fString: Bool) throws(ParseFailure) {
        let quote = text[q]
        let quoteLength = q + 2 < t.end && text[q + 1] == quote && text[q + 2] == quote && t.end - q >= 6 ? 3 : 1
        guard t.end - quoteLength > q + quoteLength else { return }
        if let problem = LiteralCheck.firstProblem(text, from: q + quoteLength, to: t.end - quoteLength, bytes: bytes, fString: fString) {
            throw ParseFailure(message: problem, offset: t.start)
        }
    }

    mutating func parseParenthesized() throws(ParseFailure) -> PythonNodeID {
        try enter()  // a bracket: every display and call nests through here or parseExpression
        defer { depth -= 1 }
        let start = startOffset
        advance()
        if accept(.rpar) { return make(.tuple, start, scratch.count) }
        if code == .kwYield {
            let y = try parseYield()
            if code != .rpar && startsSecondExpression { throw missingCommaFailure(after: y) ?? failure() }
            try expectClosing(.rpar, mark: scratch.count, hint: false)
            return y
        }
        let first = try parseStarNamedExpression()
        if code == .kwFor || code == .kwAsync {
            return try parseComprehension(.generatorExp, element: first, start: start, closing: .rpar, includeClosing: true)
        }
        if accept(.rpar) {
            if nodes[Int(first)].kind == .starred {
                throw ParseFailure(message: "cannot use starred expression here", offset: nodes[Int(first)].start)
            }
            return first
        }
        guard code == .comma else {
            if startsSecondExpression { throw missingCommaFailure(after: first) ?? failure() }
            if let assignment = assignmentInExpressionFailure(first) { throw assignment }
            throw failure()
        }
        let mark = scratch.count
        push(first, .element)
        while accept(.comma) {
            if code == .rpar { break }
            push(try parseStarNamedExpression(), .element)
        }
        try expectClosing(.rpar, mark: mark)
        return make(.tuple, start, mark)
    }

    mutating func parseList() throws(ParseFailure) -> PythonNodeID {
        try enter()  // a bracket: every display and call nests through here or parseExpression
        defer { depth -= 1 }
        let start = startOffset
        advance()
        let mark = scratch.count
        if accept(.rsqb) { return make(.list, start, mark) }
        let first = try parseStarNamedExpression()
        if code == .kwFor || code == .kwAsync {
            return try parseComprehension(.listComp, element: first, start: start, closing: .rsqb, includeClosing: true)
        }
        push(first, .element)
        while accept(.comma) {
            if code == .rsqb { break }
            push(try parseStarNamedExpression(), .element)
        }
        try expectClosing(.rsqb, mark: mark)
        return make(.list, start, mark)
    }

    mutating func parseDictOrSet() throws(ParseFailure) -> PythonNodeID {
        try enter()  // a bracket: every display and call nests through here or parseExpression
        defer { depth -= 1 }
        let start = startOffset
        advance()
        let mark = scratch.count
        if accept(.rbrace) { return make(.dict, start, mark) }
        if code == .doubleStar || !(code == .star) {
            // Dict if the first item is `**x` or `key: value`.
            var isDict = code == .doubleStar
            var firstKey: PythonNodeID = -1
            if !isDict {
                firstKey = try parseNamedExpression()
                if code == .colon { isDict = true }
            }
            if isDict {
                if firstKey >= 0 {
                    advance()
                    let value = try parseDictValue()
                    if code == .kwFor || code == .kwAsync {
                        push(firstKey, .key)
                        push(value, .value)
                        return try parseComprehensionTail(.dictComp, mark: mark, start: start, closing: .rbrace)
                    }
                    push(firstKey, .key)
                    push(value, .value)
                } else {
                    advance()
                    push(try parseBitOr(), .value)
                }
                var afterDoubleStar = firstKey < 0
                while accept(.comma) {
                    if code == .rbrace { break }
                    if accept(.doubleStar) {
                        push(try parseBitOr(), .value)
                        afterDoubleStar = true
                    } else {
                        push(try parseExpression(), .key)
                        if code != .colon { throw failure(startsExpression ? "':' expected after dictionary key" : "invalid syntax") }
                        advance()
                        push(try parseDictValue(), .value)
                        afterDoubleStar = false
                    }
                }
                // `{**a b}`: CPython has no expression rule there, so no comma hint.
                try expectClosing(.rbrace, mark: mark, hint: !afterDoubleStar)
                return make(.dict, start, mark, order: [.key, .value])
            }
            if code == .kwFor || code == .kwAsync {
                return try parseComprehension(.setComp, element: firstKey, start: start, closing: .rbrace, includeClosing: true)
            }
            push(firstKey, .element)
        } else {
            push(try parseStarExpression(), .element)
        }
        while accept(.comma) {
            if code == .rbrace { break }
            push(try parseStarNamedExpression(), .element)
        }
        try expectClosing(.rbrace, mark: mark)
        return make(.set, start, mark)
    }

    /// A dictionary value after its ':', with CPython's messages for a starred one and for
    /// none at all.
    mutating func parseDictValue() throws(ParseFailure) -> PythonNodeID {
        switch code {
        case .star: throw failure("cannot use a starred expression in a dictionary value")
        case .comma, .rbrace:
            throw ParseFailure(message: "expression expected after dictionary key and ':'", offset: toks[i - 1].start)
        default: return try parseExpression()
        }
    }

    mutating func parseComprehension(_ kind: PythonNodeKind, element: PythonNodeID, start: Int, closing: TokenCode,
                                     includeClosing: Bool) throws(ParseFailure) -> PythonNodeID {
        if nodes[Int(element)].kind == .starred {
            throw ParseFailure(message: "iterable unpacking cannot be used in comprehension", offset: nodes[Int(element)].start)
        }
        let mark = scratch.count
        push(element, .elt)
        return try parseComprehensionTail(kind, mark: mark, start: start, closing: closing)
    }

    mutating func parseComprehensionTail(_ kind: PythonNodeKind, mark: Int, start: Int, closing: TokenCode) throws(ParseFailure) -> PythonNodeID {
        while code == .kwFor || code == .kwAsync {
            let cStart = startOffset
            let cMark = scratch.count
            let isAsync = accept(.kwAsync)
            try expect(.kwFor, "for")
            let target = try parseTargets()
            if code != .kwIn {
                // 3.13's for_if_clause: raised at the token read after the variables; before,
                // another expression there is the missing-comma hint, else invalid syntax.
                if self.target >= .v3_13 { throw ParseFailure(message: "'in' expected after for-loop variables", offset: startOffset) }
                try checkTarget(target, context: .forTarget)
                if startsSecondExpression { throw missingCommaFailure(after: target) ?? failure() }
                throw failure()
            }
            try checkTarget(target, context: .forTarget)
            push(target, .target)
            advance()  // in
            push(try parseDisjunction(), .iter)
            while accept(.kwIf) { push(try parseDisjunction(), .ifCondition) }
            push(make(.comprehension, cStart, cMark, aux: isAsync ? 1 : 0), .generator)
        }
        if closing == .rpar && code == .comma {
            throw ParseFailure(message: "Generator expression must be parenthesized", offset: start)
        }
        try expectClosing(closing, mark: scratch.count, hint: false)  // CPython: "invalid syntax" here
        return make(kind, start, mark)
    }
}

extension Parser {
    /// Where the finished tree first goes deeper than `limit` levels below the module (the
    /// start of the first node too deep, on the deepest path), or nil. Children are made
    /// before their parents, so one pass in creation order gives every node's height.
    func firstNodeDeeperThan(_ limit: Int, root: PythonNodeID) -> Int? {
        // Levels below the module: the module is level 0, so the tree is `height - 1` deep.
        // A tree that has fewer nodes than the limit cannot be too deep.
        guard nodes.count > limit else { return nil }
        var height = [Int32](repeating: 1, count: nodes.count)
        height.withUnsafeMutableBufferPointer { h in
            nodes.withUnsafeBufferPointer { nodes in
                childIDs.withUnsafeBufferPointer { children in
                    for n in 0..<nodes.count {
                        let node = nodes[n]
                        var most: Int32 = 0
                        var k = Int(node.childStart)
                        let end = k + Int(node.childCount)
                        while k < end {
                            let c = Int(children[k])
                            if c < n, h[c] > most { most = h[c] }
                            k += 1
                        }
                        h[n] = most + 1
                    }
                }
            }
        }
        guard Int(height[Int(root)]) - 1 > limit else { return nil }
        // Down the deepest path to the first node below the limit.
        var node = Int(root)
        for _ in 0..<(limit + 1) {
            let n = nodes[node]
            var next = -1
            for k in Int(n.childStart)..<Int(n.childStart + n.childCount) {
                let c = Int(childIDs[k])
                if c < node, next < 0 || height[c] > height[next] { next = c }
            }
            guard next >= 0 else { break }
            node = next
        }
        return nodes[node].start
    }
}
