import EmberProject
import EmberPython
import EmberUtils
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Python import facts from EmberPython's tokens. INDENT/DEDENT give the block structure
/// (`if TYPE_CHECKING:` bodies, function bodies, `try/except ImportError`, which count in
/// both branches); NEWLINE ends a logical line; `;` splits simple statements.
public struct TokenPythonImportExtractor: PythonImportExtractor {
    /// Also run EmberPython's parser, so that grammar errors (`def f(:`) are reported and
    /// not only tokenizer errors (unterminated strings, brackets, bad indentation).
    public var checkSyntax: Bool

    /// Read ordinary files with EmberPython's import skimmer (only the lines that can hold
    /// imports become tokens); the full tokenizer still handles `__init__.py` files (every
    /// top-level statement matters there), `--check-syntax`, and any file the skimmer
    /// finds a tokenizer error in. Off: the full tokenizer for every file (the reference
    /// the skim path is tested against).
    public var skim: Bool

    /// Skimming is on unless EMBER_LINT_FULL_TOKENIZER is set (for
    /// scripts/compare-skim-with-tokenizer.sh, which checks both paths agree on a tree).
    public static let skimByDefault = getenv("EMBER_LINT_FULL_TOKENIZER") == nil

    public init(checkSyntax: Bool = false, skim: Bool = TokenPythonImportExtractor.skimByDefault) {
        self.checkSyntax = checkSyntax
        self.skim = skim
    }

    /// The lines the walker looks at outside an `__init__.py`: those starting with one of
    /// its keywords, those naming a dynamic-import function, and suppression comments.
    public static let skimFilter = PythonImportSkimmer.Filter(
        lineStarters: ["if", "for", "def", "try", "from", "elif", "else", "with", "case", "while", "class", "async",
                       "match", "import", "except", "finally"],
        // TYPE_CHECKING: an `if` header is reduced to `if :` only when it cannot be a
        // TYPE_CHECKING test, which the walker reads in full.
        namesAnywhere: ["import_module", "__import__", "TYPE_CHECKING"],
        commentMarker: "ember-lint",
        // Outside an __init__.py the walker reads nothing of a block header but its first
        // word and final ':' (the block inherits its parent's TYPE_CHECKING state).
        headerWords: ["if", "for", "def", "try", "elif", "else", "with", "case", "while", "class", "async",
                      "match", "except", "finally"],
        // A file without TYPE_CHECKING (or a dynamic import) has no TYPE_CHECKING block, so
        // every import's context is the same and the walker needs no blocks at all.
        structureNeedsAnywhereName: true)

    public func extract(_ bytes: [UInt8], isPackageInit: Bool) -> Result<PythonFileFacts, PythonFileFailure> {
        let source: PythonSource
        let skimming = skim && !checkSyntax && !isPackageInit
        do {
            // Only the parser words messages with line numbers; otherwise positions are
            // counted from the text for the few offsets findings need.
            source = try PythonSource(bytes: bytes, buildLineTable: checkSyntax)
        } catch {
            return .failure(PythonFileFailure(message: "cannot decode: \(error.message)", offset: error.offset))
        }
        if skimming {
            if let tokens = PythonImportSkimmer.skim(text: source.text, filter: Self.skimFilter) {
                // No line table: the few positions findings need are counted from the text
                // (imports sit mostly near the top).
                var facts = PythonFileFacts(lines: FileLines(text: source.text))
                facts.encoding = source.encoding
                walk(tokens, text: source.text, lines: facts.lines, isPackageInit: false, into: &facts)
                return .success(facts)
            }
        }
        var facts = PythonFileFacts(lines: FileLines(text: source.text))
        facts.encoding = source.encoding
        let tokenized = PythonTokenizer.tokenize(source)
        if checkSyntax {
            // The parser's diagnostics include the tokenizer's; only the first error is
            // reliable (later ones may be consequences), so the file reports that one.
            let tree = PythonParser.parse(source, tokens: tokenized)
            facts.syntaxErrors = tree.diagnostics.prefix(1).map { ($0.offset, $0.message) }
        } else {
            facts.syntaxErrors = tokenized.diagnostics.map { ($0.offset, $0.message) }
        }
        walk(tokenized.tokens, text: source.text, lines: facts.lines, isPackageInit: isPackageInit, into: &facts)
        return .success(facts)
    }

    private func walk(_ tokens: [PythonToken], text: [UInt8], lines: FileLines, isPackageInit: Bool, into facts: inout PythonFileFacts) {
        text.withUnsafeBufferPointer { text in
            tokens.withUnsafeBufferPointer { tokens in
                var walker = Walker(text: text, tokens: tokens, lines: lines, isInit: isPackageInit)
                walker.run(into: &facts)
            }
        }
    }
}

private struct Block {
    var typeChecking = false
    /// Statements in it still count as the top level of an __init__.py (try/except, if TYPE_CHECKING).
    var initContainer = true
    /// Inside a construct already reported as __init__ logic.
    var initSkip = false
}

/// The statement keywords the walker tells apart.
private enum Keyword: UInt8 {
    case `if`, `for`, def, `try`, from, elif, `else`, with, `case`, `while`, `class`, async, match, `import`, except, finally
}

private struct Walker {
    let text: UnsafeBufferPointer<UInt8>
    let tokens: UnsafeBufferPointer<PythonToken>
    /// Line positions, needed only for suppression comments (rare).
    let lines: FileLines
    let isInit: Bool
    var blocks: [Block] = []
    var pending: Block?
    /// Whether the last compound statement opened at each depth was __init__ logic (an
    /// ordinary `if`, a loop) rather than a container (`if TYPE_CHECKING`, `try`); its
    /// `elif`/`else`/`except`/`finally` clauses follow it.
    var lastOwnerWasLogic: [Int: Bool] = [:]

    init(text: UnsafeBufferPointer<UInt8>, tokens: UnsafeBufferPointer<PythonToken>, lines: FileLines, isInit: Bool) {
        self.text = text
        self.tokens = tokens
        self.lines = lines
        self.isInit = isInit
    }

    func bytes(_ t: PythonToken) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: text[t.start..<t.end]) }
    func string(_ t: PythonToken) -> String { String(decoding: bytes(t), as: UTF8.self) }
    @inline(__always) func isName(_ t: PythonToken, _ word: StaticString) -> Bool { t.kind == .name && same(t, word) }
    @inline(__always) func isOp(_ t: PythonToken, _ op: StaticString) -> Bool { t.kind == .op && same(t, op) }
    /// The token's bytes are `word`'s (lengths first: most tokens differ there).
    @inline(__always) func same(_ t: PythonToken, _ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard t.end - t.start == n else { return false }
        return memcmp(text.baseAddress! + t.start, word.utf8Start, n) == 0
    }

    /// Whether the file mentions a dynamic-import function at all (most do not, and
    /// then no statement needs to be searched for one).
    var mayHaveDynamicImports = false

    static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        let n = needle.count
        guard haystack.count >= n, let first = needle.first else { return false }
        var i = 0
        let last = haystack.count - n
        while i <= last {
            if haystack[i] == first {
                var k = 1
                while k < n && haystack[i + k] == needle[k] { k += 1 }
                if k == n { return true }
            }
            i += 1
        }
        return false
    }

    static let importModuleBytes = Array("import_module".utf8)
    static let dunderImportBytes = Array("__import__".utf8)
    static let markerBytes = Array("ember-lint".utf8)

    mutating func run(into facts: inout PythonFileFacts) {
        var line: [PythonToken] = []
        line.reserveCapacity(64)
        var k = 0
        let count = tokens.count
        while k < count {
            let t = tokens[k]
            switch t.kind {
            case .comment:
                comment(t, into: &facts)
                k += 1
            case .nl, .newline, .endmarker:
                k += 1
            case .indent:
                blocks.append(pending ?? Block(typeChecking: blocks.last?.typeChecking ?? false,
                                               initContainer: false, initSkip: blocks.last?.initSkip ?? false))
                pending = nil
                k += 1
            case .dedent:
                if !blocks.isEmpty { blocks.removeLast() }
                k += 1
            default:
                // The first token of a logical line decides whether it needs a closer look;
                // most lines (assignments, calls, returns) are only scanned for a
                // dynamic-import call, without copying.
                let lineStart = k
                var needsLook = isInit || isInteresting(t)
                if !needsLook {
                    while k < count, tokens[k].kind != .newline, tokens[k].kind != .endmarker {
                        let u = tokens[k]
                        if u.kind == .name, isDynamicImportName(u) { needsLook = true; break }
                        if u.kind == .comment { comment(u, into: &facts) }
                        k += 1
                    }
                    if !needsLook { continue }
                    // Comments before the call were seen already; the full pass skips them.
                    mayHaveDynamicImports = true
                    let commentsSeenBefore = k
                    k = lineStart
                    line.removeAll(keepingCapacity: true)
                    while k < count, tokens[k].kind != .newline, tokens[k].kind != .endmarker {
                        let u = tokens[k]
                        if u.kind == .comment { if k > commentsSeenBefore { comment(u, into: &facts) } } else if u.kind != .nl { line.append(u) }
                        k += 1
                    }
                    logicalLine(line, into: &facts)
                    mayHaveDynamicImports = false
                    continue
                }
                line.removeAll(keepingCapacity: true)
                var sawDynamic = false
                while k < count, tokens[k].kind != .newline, tokens[k].kind != .endmarker {
                    let u = tokens[k]
                    if u.kind == .comment { comment(u, into: &facts) } else if u.kind != .nl {
                        if u.kind == .name, !sawDynamic, isDynamicImportName(u) { sawDynamic = true }
                        line.append(u)
                    }
                    k += 1
                }
                mayHaveDynamicImports = sawDynamic
                logicalLine(line, into: &facts)
                mayHaveDynamicImports = false
            }
        }
    }

    /// `import_module` or `__import__`, compared by length first.
    @inline(__always) func isDynamicImportName(_ t: PythonToken) -> Bool {
        let n = t.end - t.start
        guard n == 13 || n == 10 else { return false }
        let b = bytes(t)
        return n == 13 ? b.elementsEqual(Walker.importModuleBytes) : b.elementsEqual(Walker.dunderImportBytes)
    }

    /// `import`, `from`, or a compound statement keyword (whose body may hold imports
    /// and whose header sets the block's kind).
    @inline(__always) func isInteresting(_ t: PythonToken) -> Bool {
        t.kind == .name && Walker.keyword(bytes(t)) != nil
    }

    /// Up to 8 bytes packed little-endian into an integer, for allocation-free keyword tests.
    @inline(__always) static func packed(_ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<b.count { v |= UInt64(b[i]) << (8 * UInt64(i)) }
        return v
    }

    /// The statement keywords the walker cares about, matched on bytes without allocating
    /// (the constants are the keywords packed by `packed`).
    @inline(__always) static func keyword(_ b: UnsafeBufferPointer<UInt8>) -> Keyword? {
        guard b.count >= 2 && b.count <= 7 else { return nil }
        return switch packed(b) {
        case 0x6669: .if
        case 0x726F66: .for
        case 0x666564: .def
        case 0x797274: .try
        case 0x6D6F7266: .from
        case 0x66696C65: .elif
        case 0x65736C65: .else
        case 0x68746977: .with
        case 0x65736163: .case
        case 0x656C696877: .while
        case 0x7373616C63: .class
        case 0x636E797361: .async
        case 0x686374616D: .match
        case 0x74726F706D69: .import
        case 0x747065637865: .except
        case 0x796C6C616E6966: .finally
        default: nil
        }
    }

    mutating func comment(_ t: PythonToken, into facts: inout PythonFileFacts) {
        // Only comments that mention ember-lint are parsed.
        guard Walker.contains(UnsafeBufferPointer(rebasing: text[t.start..<t.end]), Walker.markerBytes) else { return }
        var k = t.start - lines.location(of: t.start).column
        var alone = true
        while k < t.start { if text[k] != 0x20 && text[k] != 0x09 && text[k] != 0x0C { alone = false; break }; k += 1 }
        let body = Array(UnsafeBufferPointer(rebasing: text[(t.start + 1)..<t.end]))[...]
        if let s = SuppressionParser.parse(comment: body, bodyOffset: t.start + 1, commentOffset: t.start, standsAlone: alone, lineTable: lines) {
            facts.suppressions.append(s)
        }
    }

    /// Index of the colon ending a compound statement header, at bracket depth 0.
    func headerColon(_ line: [PythonToken]) -> Int? {
        var depth = 0
        var lambdas = 0
        for (i, t) in line.enumerated() where t.kind == .op || isName(t, "lambda") {
            if t.kind == .name { lambdas += 1; continue }
            let b = bytes(t)
            if b.count == 1 {
                switch b[0] {
                case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
                case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
                case UInt8(ascii: ":") where depth == 0:
                    if lambdas > 0 { lambdas -= 1 } else { return i }
                default: break
                }
            }
        }
        return nil
    }

    var context: (typeChecking: Bool, initTop: Bool) {
        (blocks.last?.typeChecking ?? false, isInit && blocks.allSatisfy { $0.initContainer && !$0.initSkip })
    }

    mutating func logicalLine(_ line: [PythonToken], into facts: inout PythonFileFacts) {
        let first = line[0]
        let depth = blocks.count
        var isCompound = false
        let keyword = first.kind == .name ? Walker.keyword(bytes(first)) : nil
        if !isInit, !mayHaveDynamicImports, let keyword, keyword != .import, keyword != .from, isOp(line[line.count - 1], ":") {
            // Fast path outside __init__.py: a header ending its line only opens a block,
            // which is a TYPE_CHECKING block or inherits its parent's kind.
            var block = Block(typeChecking: blocks.last?.typeChecking ?? false, initContainer: false, initSkip: false)
            if keyword == .if, isTypeCheckingTest(line[1..<(line.count - 1)]) { block.typeChecking = true }
            pending = block
            return
        }
        if first.kind == .name, let keyword, keyword != .import, keyword != .from,
           let colon = headerColon(line) {
            // Soft keywords: `match`/`case` are headers only when the colon ends the line.
            isCompound = !(keyword == .match || keyword == .case) || colon == line.count - 1
            if isCompound {
                compound(line, colon: colon, keyword: keyword, depth: depth, into: &facts)
                return
            }
        }
        let ctx = context
        // Nearly every line is one statement: no list of statements to make then.
        if !line.contains(where: { $0.kind == .op && $0.end - $0.start == 1 && text[$0.start] == UInt8(ascii: ";") }) {
            simple(line[...], typeChecking: ctx.typeChecking, initTop: ctx.initTop, into: &facts)
            return
        }
        for statement in splitStatements(line[...]) {
            simple(statement, typeChecking: ctx.typeChecking, initTop: ctx.initTop, into: &facts)
        }
    }

    mutating func compound(_ line: [PythonToken], colon: Int, keyword: Keyword, depth: Int, into facts: inout PythonFileFacts) {
        let outer = context
        var block = Block(typeChecking: outer.typeChecking, initContainer: true, initSkip: blocks.last?.initSkip ?? false)
        var logic = false
        var header = line[0..<colon]
        if keyword == .async, header.count > 1 { header = header.dropFirst() }
        let kw = keyword == .async ? Walker.keyword(bytes(header[header.startIndex])) : keyword
        var continuation = false
        switch kw {
        case .if:
            if isTypeCheckingTest(header.dropFirst()) {
                block.typeChecking = true
                lastOwnerWasLogic[depth] = false
            } else {
                logic = true
                lastOwnerWasLogic[depth] = true
            }
        case .elif:
            if lastOwnerWasLogic[depth] == true { continuation = true } else { logic = true }
        case .else, .except, .finally:
            // Belongs to the if/try/loop above: a container if that was one, else part of
            // the logic already reported.
            if lastOwnerWasLogic[depth] == true { continuation = true }
        case .try:
            lastOwnerWasLogic[depth] = false
        default:
            logic = true
            lastOwnerWasLogic[depth] = true
        }
        if continuation { block.initContainer = false; block.initSkip = true }
        if logic, outer.initTop {
            // Worded only when reported.
            let what: String
            switch kw {
            case .if, .elif: what = "an if statement"
            case .def: what = "a function definition" + (header.count > 1 ? " '\(string(header[header.startIndex + 1]))'" : "")
            case .class: what = "a class definition" + (header.count > 1 ? " '\(string(header[header.startIndex + 1]))'" : "")
            case .for, .while: what = "a loop"
            case .with: what = "a with statement"
            case .match, .case: what = "a match statement"
            default: what = "a \(string(header[header.startIndex])) statement"
            }
            facts.initLogic.append((line[0].start, line[colon].end, what))
        }
        if logic { block.initContainer = false; block.initSkip = outer.initTop || block.initSkip }
        // The header itself may hold a dynamic import (rare, but cheap to see).
        if mayHaveDynamicImports { dynamicImports(line[0..<colon], typeChecking: outer.typeChecking, into: &facts) }
        if colon == line.count - 1 {
            pending = block
        } else {
            // Inline suite: `if TYPE_CHECKING: import x`.
            blocks.append(block)
            let ctx = context
            for statement in splitStatements(line[(colon + 1)...]) {
                simple(statement, typeChecking: ctx.typeChecking, initTop: ctx.initTop, into: &facts)
            }
            blocks.removeLast()
        }
    }

    /// `TYPE_CHECKING` or `<anything>.TYPE_CHECKING` (typing.TYPE_CHECKING).
    func isTypeCheckingTest(_ condition: ArraySlice<PythonToken>) -> Bool {
        guard let last = condition.last, isName(last, "TYPE_CHECKING") else { return false }
        if condition.count == 1 { return true }
        let s = condition.startIndex
        if condition.count == 3, condition[s].kind == .name, isOp(condition[s + 1], ".") { return true }
        return false
    }

    func splitStatements(_ tokens: ArraySlice<PythonToken>) -> [ArraySlice<PythonToken>] {
        var out: [ArraySlice<PythonToken>] = []
        var start = tokens.startIndex
        var depth = 0
        for i in tokens.indices where tokens[i].kind == .op {
            let b = bytes(tokens[i])
            guard b.count == 1 else { continue }
            switch b[0] {
            case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
            case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            case UInt8(ascii: ";") where depth == 0:
                if i > start { out.append(tokens[start..<i]) }
                start = i + 1
            default: break
            }
        }
        if start < tokens.endIndex { out.append(tokens[start..<tokens.endIndex]) }
        return out
    }

    mutating func simple(_ s: ArraySlice<PythonToken>, typeChecking: Bool, initTop: Bool, into facts: inout PythonFileFacts) {
        guard let first = s.first else { return }
        if isName(first, "import") {
            parseImport(s, typeChecking: typeChecking, into: &facts)
            return
        }
        if isName(first, "from") {
            parseFromImport(s, typeChecking: typeChecking, into: &facts)
            return
        }
        if mayHaveDynamicImports { dynamicImports(s, typeChecking: typeChecking, into: &facts) }
        if initTop, let what = initLogicKind(s) {
            facts.initLogic.append((first.start, s[s.endIndex - 1].end, what))
        }
    }

    /// Dotted name starting at `i`: (name, start, end, next index).
    func dotted(_ s: ArraySlice<PythonToken>, _ i: Int) -> (String, Int, Int, Int)? {
        guard i < s.endIndex, s[i].kind == .name else { return nil }
        let start = s[i].start
        var end = s[i].end
        var k = i + 1
        // Written without blanks (`a.b.c`, nearly always) when every token touches the next:
        // the name is then the text itself.
        var contiguous = true
        while k + 1 < s.endIndex, isOp(s[k], "."), s[k + 1].kind == .name {
            if s[k].start != end || s[k + 1].start != s[k].end { contiguous = false }
            end = s[k + 1].end
            k += 2
        }
        if contiguous { return (String(decoding: UnsafeBufferPointer(rebasing: text[start..<end]), as: UTF8.self), start, end, k) }
        var parts = [string(s[i])]
        var j = i + 1
        while j < k { parts.append(string(s[j + 1])); j += 2 }
        return (parts.joined(separator: "."), start, end, k)
    }

    func syntaxError(_ t: PythonToken, _ message: String, into facts: inout PythonFileFacts) {
        facts.syntaxErrors.append((t.start, message))
    }

    mutating func parseImport(_ s: ArraySlice<PythonToken>, typeChecking: Bool, into facts: inout PythonFileFacts) {
        var i = s.startIndex + 1
        while true {
            guard let (name, start, end, next) = dotted(s, i) else {
                syntaxError(i < s.endIndex ? s[i] : s[s.endIndex - 1], "invalid syntax: expected a module name after 'import'", into: &facts)
                return
            }
            facts.imports.append(PythonImportStatement(level: 0, module: name, offset: start, end: end, names: nil, typeChecking: typeChecking))
            i = next
            if i < s.endIndex, isName(s[i], "as") { i += 2 }
            if i < s.endIndex, isOp(s[i], ",") { i += 1; continue }
            return
        }
    }

    mutating func parseFromImport(_ s: ArraySlice<PythonToken>, typeChecking: Bool, into facts: inout PythonFileFacts) {
        var i = s.startIndex + 1
        var level = 0
        var dotsStart = -1, dotsEnd = -1
        while i < s.endIndex, s[i].kind == .op, isOp(s[i], ".") || isOp(s[i], "...") {
            if dotsStart < 0 { dotsStart = s[i].start }
            dotsEnd = s[i].end
            level += s[i].end - s[i].start
            i += 1
        }
        var module = "", start = dotsStart, end = dotsEnd
        if let (name, ms, me, next) = dotted(s, i), !isName(s[i], "import") {
            module = name
            if start < 0 { start = ms }
            end = me
            i = next
        }
        guard (level > 0 || !module.isEmpty), i < s.endIndex, isName(s[i], "import") else {
            syntaxError(i < s.endIndex ? s[i] : s[s.endIndex - 1], "invalid syntax: expected 'from MODULE import NAMES'", into: &facts)
            return
        }
        i += 1
        var names: [ImportedName] = []
        if i < s.endIndex, isOp(s[i], "*") {
            names.append(ImportedName(name: "*", offset: s[i].start, end: s[i].end))
        } else {
            if i < s.endIndex, isOp(s[i], "(") { i += 1 }
            while i < s.endIndex, s[i].kind == .name {
                names.append(ImportedName(name: string(s[i]), offset: s[i].start, end: s[i].end))
                i += 1
                if i < s.endIndex, isName(s[i], "as") { i += 2 }
                if i < s.endIndex, isOp(s[i], ",") { i += 1 }
            }
            if names.isEmpty {
                syntaxError(i < s.endIndex ? s[i] : s[s.endIndex - 1], "invalid syntax: expected names after 'import'", into: &facts)
                return
            }
        }
        facts.imports.append(PythonImportStatement(level: level, module: module, offset: start, end: end, names: names, typeChecking: typeChecking))
    }

    /// `importlib.import_module(...)`, `import_module(...)`, `__import__(...)`: a literal
    /// argument becomes a dynamic import edge; anything else is reported as unresolvable.
    mutating func dynamicImports(_ s: ArraySlice<PythonToken>, typeChecking: Bool, into facts: inout PythonFileFacts) {
        var i = s.startIndex
        while i + 1 < s.endIndex {
            defer { i += 1 }
            let t = s[i]
            guard t.kind == .name, isName(t, "import_module") || isName(t, "__import__"), isOp(s[i + 1], "(") else { continue }
            if i > s.startIndex, isOp(s[i - 1], ".") {
                // Only importlib.import_module; obj.import_module is someone else's method.
                guard i - 2 >= s.startIndex, isName(s[i - 2], "importlib"), isName(t, "import_module") else { continue }
            }
            let startOffset = (i - 2 >= s.startIndex && isOp(s[i - 1], ".")) ? s[i - 2].start : t.start
            let close = i + 3 < s.endIndex ? s[i + 3] : nil
            if i + 2 < s.endIndex, s[i + 2].kind == .string, let close, isOp(close, ")") || isOp(close, ","),
               let name = literalModuleName(s[i + 2]) {
                facts.imports.append(PythonImportStatement(level: 0, module: name, offset: s[i + 2].start, end: s[i + 2].end,
                                                           names: nil, typeChecking: typeChecking, dynamic: true))
            } else {
                facts.computedDynamicImports.append((startOffset, t.end))
            }
        }
    }

    /// The module name in a plain string literal, if it is a dotted identifier path.
    func literalModuleName(_ t: PythonToken) -> String? {
        var b = Array(bytes(t))
        while let c = b.first, c != UInt8(ascii: "'") && c != UInt8(ascii: "\"") {
            let lower = c | 0x20
            guard lower == UInt8(ascii: "r") || lower == UInt8(ascii: "u") else { return nil }  // f/b strings are not names
            b.removeFirst()
        }
        guard b.count >= 2 else { return nil }
        let quote = b[0]
        let q = (b.count >= 6 && b[1] == quote && b[2] == quote) ? 3 : 1
        guard b.count >= 2 * q else { return nil }
        let inner = b[q..<(b.count - q)]
        guard !inner.isEmpty, inner.first != UInt8(ascii: "."), inner.last != UInt8(ascii: ".") else { return nil }
        for c in inner {
            let ok = (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x2E
            if !ok { return nil }
        }
        return String(decoding: inner, as: UTF8.self)
    }

    static let logicKeywords: Set<String> = ["lambda", "await", "yield", "if", "for", "while", "not", "and", "or", "in", "is",
                                             "assert", "raise", "global", "nonlocal", "return", "print", "exec"]
    static let allowedOps: Set<String> = [".", ",", "[", "]", "(", ")", "|", "+", "=", ":", "+=", "{", "}", "-"]

    /// Nil when a top-level statement of an __init__.py only exports; else what it is.
    func initLogicKind(_ s: ArraySlice<PythonToken>) -> String? {
        let first = s[s.startIndex]
        if s.allSatisfy({ $0.kind == .string }) { return nil }  // docstring
        if isName(first, "pass") || isName(first, "del") { return nil }
        if isOp(first, "@") { return nil }  // decorator: the def/class below is reported
        // An assignment: targets = value, with a value that is a literal, a name or a
        // dotted name (an alias), a subscript alias, or a list/tuple of those.
        guard let eq = s.firstIndex(where: { isOp($0, "=") || isOp($0, "+=") }) else {
            return s.contains(where: { isOp($0, "(") }) ? "a call" : "an expression statement"
        }
        _ = eq
        var previous: PythonToken?
        for t in s {
            if t.kind == .fstringStart { return "an assignment that computes a value" }
            if t.kind == .name, Walker.logicKeywords.contains(string(t)) { return "an assignment that computes a value" }
            if t.kind == .op {
                let op = string(t)
                if !Walker.allowedOps.contains(op) { return "an assignment that computes a value" }
                if op == "(", let p = previous, p.kind == .name || p.kind == .string || isOp(p, ")") || isOp(p, "]") {
                    return "a call"
                }
            }
            previous = t
        }
        return nil
    }
}
