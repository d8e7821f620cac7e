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
public struct TokenPythonImportExtractor: Sendable {
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

    /// The Python version whose grammar `checkSyntax` follows (default: the newest). The
    /// import walk itself reads 3.11's token form (an f-string is one STRING token) in
    /// every version: no import statement can sit inside an f-string.
    public var targetVersion: PythonVersion
    /// The oldest version the project supports (requires-python): with `checkSyntax`, a
    /// file the target parses and this version does not gets a finding of its own (EL102).
    public var oldestVersion: PythonVersion?

    public init(checkSyntax: Bool = false, skim: Bool = TokenPythonImportExtractor.skimByDefault,
                targetVersion: PythonVersion = .newest) {
        self.checkSyntax = checkSyntax
        self.skim = skim
        self.targetVersion = targetVersion
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
        var aliases = ImportlibAliases()
        if skimming {
            if let tokens = PythonImportSkimmer.skim(text: source.text, filter: Self.skimFilter) {
                // No line table: the few positions findings need are counted from the text
                // (imports sit mostly near the top).
                var facts = PythonFileFacts(lines: FileLines(text: source.text))
                facts.encoding = source.encoding
                let found = walk(tokens, text: source.text, lines: facts.lines, isPackageInit: false, aliases: aliases, into: &facts)
                // A file that renames importlib or import_module (rare) is read again in
                // full: calls through an alias (`im("x")`) name neither function, so the
                // skimmer left their lines out.
                if found.isEmpty { return .success(facts) }
                aliases = found
            }
        }
        var facts = PythonFileFacts(lines: FileLines(text: source.text))
        facts.encoding = source.encoding
        let tokenized = PythonTokenizer.tokenize(source, options: .init(targetVersion: .v3_11))
        if checkSyntax {
            // The parser's diagnostics include the tokenizer's; only the first error is
            // reliable (later ones may be consequences), so the file reports that one.
            let tree = targetVersion.hasPEP701FStrings
                ? PythonParser.parse(source, options: .init(targetVersion: targetVersion))
                : PythonParser.parse(source, tokens: tokenized, options: .init(targetVersion: targetVersion))
            facts.syntaxErrors = tree.diagnostics.prefix(1).map { ($0.offset, $0.message) }
            if tree.diagnostics.isEmpty, let oldest = oldestVersion, oldest < targetVersion {
                let old = oldest.hasPEP701FStrings
                    ? PythonParser.parse(source, options: .init(targetVersion: oldest))
                    : PythonParser.parse(source, tokens: tokenized, options: .init(targetVersion: oldest))
                if let d = old.diagnostics.first {
                    facts.versionErrors = [(d.offset, "Python \(oldest) cannot parse this (requires-python allows \(oldest); \(targetVersion) can): \(d.message)")]
                }
            }
        } else {
            facts.syntaxErrors = tokenized.diagnostics.map { ($0.offset, $0.message) }
        }
        let initial = facts
        let found = walk(tokenized.tokens, text: source.text, lines: facts.lines, isPackageInit: isPackageInit, aliases: aliases, into: &facts)
        if !found.isSubset(of: aliases) {
            // An alias bound after a call through it (in a function above the import, say):
            // walk again, every alias known from the start.
            facts = initial
            _ = walk(tokenized.tokens, text: source.text, lines: facts.lines, isPackageInit: isPackageInit, aliases: aliases.union(found), into: &facts)
        }
        return .success(facts)
    }

    /// Walks `tokens` into `facts`, knowing `aliases` from the start; returns the aliases
    /// the file binds.
    private func walk(_ tokens: [PythonToken], text: [UInt8], lines: FileLines, isPackageInit: Bool, aliases: ImportlibAliases,
                      into facts: inout PythonFileFacts) -> ImportlibAliases {
        text.withUnsafeBufferPointer { text in
            tokens.withUnsafeBufferPointer { tokens in
                var walker = Walker(text: text, tokens: tokens, lines: lines, isInit: isPackageInit)
                walker.aliases = aliases
                walker.run(into: &facts)
                return walker.boundAliases
            }
        }
    }
}

/// Other names a file gives importlib and its import_module, so that calls through them
/// are followed like `importlib.import_module(...)`.
struct ImportlibAliases: Equatable {
    /// Names bound to the importlib module (`import importlib as il`).
    var modules: Set<String> = []
    /// Names bound to importlib.import_module (`from importlib import import_module as im`).
    var functions: Set<String> = []

    var isEmpty: Bool { modules.isEmpty && functions.isEmpty }
    func isSubset(of other: ImportlibAliases) -> Bool { modules.isSubset(of: other.modules) && functions.isSubset(of: other.functions) }
    func union(_ other: ImportlibAliases) -> ImportlibAliases {
        ImportlibAliases(modules: modules.union(other.modules), functions: functions.union(other.functions))
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
    /// Aliases known from the start (an earlier pass) and those bound so far.
    var aliases = ImportlibAliases() { didSet { hasFunctionAliases = !aliases.functions.isEmpty || !boundAliases.functions.isEmpty } }
    var boundAliases = ImportlibAliases() { didSet { hasFunctionAliases = !aliases.functions.isEmpty || !boundAliases.functions.isEmpty } }
    /// Whether any name is bound to import_module (most files: none), read per name token.
    var hasFunctionAliases = false
    /// In an `__init__.py`: the dotted names bound to importlib.metadata's `version`
    /// (`version`, `metadata.version`, `importlib.metadata.version`, an alias), for
    /// `__version__ = version("pkg")`.
    var versionFunctions: Set<String> = []

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
                        if u.kind == .name, isDynamicImportName(u) || isFunctionAlias(u) { needsLook = true; break }
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
                        if u.kind == .name, !sawDynamic, isDynamicImportName(u) || isFunctionAlias(u) { sawDynamic = true }
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

    /// A name bound to importlib.import_module (rare: checked only when the file binds one).
    @inline(__always) func isFunctionAlias(_ t: PythonToken) -> Bool {
        guard hasFunctionAliases else { return false }
        let name = string(t)
        return aliases.functions.contains(name) || boundAliases.functions.contains(name)
    }

    func isModuleAlias(_ t: PythonToken) -> Bool {
        guard t.kind == .name else { return false }
        if isName(t, "importlib") { return true }
        guard !aliases.modules.isEmpty || !boundAliases.modules.isEmpty else { return false }
        let name = string(t)
        return aliases.modules.contains(name) || boundAliases.modules.contains(name)
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
            var alias: String?
            if i < s.endIndex, isName(s[i], "as") {
                if i + 1 < s.endIndex, s[i + 1].kind == .name { alias = string(s[i + 1]) }
                i += 2
            }
            if name.utf8.first == UInt8(ascii: "i") { noteImport(of: name, as: alias) }
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
            // Only from-imports of importlib (and importlib_metadata) bind names the walker follows.
            let tracked = level == 0 && module.utf8.first == UInt8(ascii: "i") && module.hasPrefix("importlib")
            while i < s.endIndex, s[i].kind == .name {
                names.append(ImportedName(name: string(s[i]), offset: s[i].start, end: s[i].end))
                i += 1
                var alias: String?
                if i < s.endIndex, isName(s[i], "as") {
                    if i + 1 < s.endIndex, s[i + 1].kind == .name { alias = string(s[i + 1]) }
                    i += 2
                }
                if tracked { noteFromImport(module, names[names.count - 1].name, as: alias) }
                if i < s.endIndex, isOp(s[i], ",") { i += 1 }
            }
            if names.isEmpty {
                syntaxError(i < s.endIndex ? s[i] : s[s.endIndex - 1], "invalid syntax: expected names after 'import'", into: &facts)
                return
            }
        }
        facts.imports.append(PythonImportStatement(level: level, module: module, offset: start, end: end, names: names, typeChecking: typeChecking))
    }

    /// `import importlib [as il]`, `import importlib.metadata [as md]`, `import importlib_metadata [as m]`.
    mutating func noteImport(of module: String, as alias: String?) {
        switch module {
        case "importlib":
            if let alias { boundAliases.modules.insert(alias) }
            if isInit && alias == nil { versionFunctions.insert("importlib.metadata.version") }
        case "importlib.metadata":
            if isInit { versionFunctions.insert(alias.map { $0 + ".version" } ?? "importlib.metadata.version") }
        case "importlib_metadata":
            if isInit { versionFunctions.insert((alias ?? "importlib_metadata") + ".version") }
        default:
            break
        }
    }

    /// `from importlib import import_module as im`, `from importlib import metadata [as md]`,
    /// `from importlib.metadata import version [as v]` (and importlib_metadata's).
    mutating func noteFromImport(_ module: String, _ name: String, as alias: String?) {
        switch (module, name) {
        case ("importlib", "import_module"):
            if let alias, alias != "import_module" { boundAliases.functions.insert(alias) }
        case ("importlib", "metadata"):
            if isInit { versionFunctions.insert((alias ?? "metadata") + ".version") }
        case ("importlib.metadata", "version"), ("importlib_metadata", "version"):
            if isInit { versionFunctions.insert(alias ?? "version") }
        default:
            break
        }
    }

    /// `importlib.import_module(...)`, `import_module(...)`, `__import__(...)`, and calls
    /// through the file's aliases of importlib and import_module: a literal name becomes a
    /// dynamic import edge (a relative one, `import_module(".x", __package__)`, resolved
    /// like `from .x import`), anything else is reported as unresolvable. Names may be
    /// given by keyword (`name=`, `package=`).
    mutating func dynamicImports(_ s: ArraySlice<PythonToken>, typeChecking: Bool, into facts: inout PythonFileFacts) {
        var i = s.startIndex
        while i + 1 < s.endIndex {
            defer { i += 1 }
            let t = s[i]
            guard t.kind == .name, isOp(s[i + 1], "(") else { continue }
            let isDunderImport = isName(t, "__import__")
            var isImportModule = isName(t, "import_module")
            var startOffset = t.start
            if i > s.startIndex, isOp(s[i - 1], ".") {
                // Only importlib.import_module (importlib or an alias of it);
                // obj.import_module is someone else's method.
                guard isImportModule, i - 2 >= s.startIndex, isModuleAlias(s[i - 2]) else { continue }
                startOffset = s[i - 2].start
            } else if !isImportModule && !isDunderImport {
                guard isFunctionAlias(t) else { continue }
                isImportModule = true
            }
            switch callTarget(s, open: i + 1, takesPackage: isImportModule) {
            case .absolute(let name, let token):
                facts.imports.append(PythonImportStatement(level: 0, module: name, offset: token.start, end: token.end,
                                                           names: nil, typeChecking: typeChecking, dynamic: true))
            case .relative(let level, let name, let token):
                facts.imports.append(PythonImportStatement(level: level, module: name, offset: token.start, end: token.end,
                                                           names: nil, typeChecking: typeChecking, dynamic: true))
            case .computed:
                facts.computedDynamicImports.append((startOffset, t.end))
            }
        }
    }

    enum CallTarget {
        case absolute(String, PythonToken)
        case relative(level: Int, String, PythonToken)
        case computed
    }

    /// What a dynamic import call whose '(' is at `open` imports: its name argument (first
    /// positional, or `name=`) when it is one string literal; for import_module, with a
    /// leading dot, relative to its package argument (second positional, or `package=`)
    /// when that is `__package__`, `__spec__.parent` or a literal.
    func callTarget(_ s: ArraySlice<PythonToken>, open: Int, takesPackage: Bool) -> CallTarget {
        // The arguments: token ranges between top-level commas, up to the closing ')'.
        var arguments: [Range<Int>] = []
        var depth = 0
        var argumentStart = open + 1
        var k = open + 1
        var closed = false
        while k < s.endIndex {
            let u = s[k]
            if u.kind == .op, u.end - u.start == 1 {
                switch text[u.start] {
                case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
                case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"):
                    if depth == 0 {
                        if k > argumentStart { arguments.append(argumentStart..<k) }
                        closed = true
                    }
                    depth -= 1
                case UInt8(ascii: ",") where depth == 0:
                    arguments.append(argumentStart..<k)
                    argumentStart = k + 1
                default: break
                }
            }
            if closed { break }
            k += 1
        }
        guard closed else { return .computed }
        var name: Range<Int>?, package: Range<Int>?
        var positional = 0
        for a in arguments {
            if a.count >= 2, s[a.lowerBound].kind == .name, isOp(s[a.lowerBound + 1], "=") {
                let value = (a.lowerBound + 2)..<a.upperBound
                if isName(s[a.lowerBound], "name") { name = value } else if isName(s[a.lowerBound], "package") { package = value }
                continue
            }
            if s[a.lowerBound].kind == .op, isOp(s[a.lowerBound], "*") || isOp(s[a.lowerBound], "**") {
                // Unpacked arguments: whatever comes after is unknown.
                if name == nil { return .computed }
                break
            }
            if positional == 0 { name = a } else if positional == 1 { package = a }
            positional += 1
        }
        guard let name, name.count == 1, s[name.lowerBound].kind == .string, let literal = literalModuleName(s[name.lowerBound], allowLeadingDots: takesPackage) else {
            return .computed
        }
        let token = s[name.lowerBound]
        let dots = literal.utf8.prefix { $0 == UInt8(ascii: ".") }.count
        if dots == 0 { return .absolute(literal, token) }
        let rest = String(literal.utf8.dropFirst(dots))!
        guard takesPackage, let package else { return .computed }  // Python: TypeError without a package
        if package.count == 1, isName(s[package.lowerBound], "__package__") { return .relative(level: dots, rest, token) }
        if package.count == 3, isName(s[package.lowerBound], "__spec__"), isOp(s[package.lowerBound + 1], "."),
           isName(s[package.lowerBound + 2], "parent") {
            return .relative(level: dots, rest, token)
        }
        if package.count == 1, s[package.lowerBound].kind == .string,
           let base = literalModuleName(s[package.lowerBound], allowLeadingDots: false) {
            // importlib's resolve_name: drop dots - 1 names from the package.
            var parts = base.split(separator: ".")
            guard dots - 1 < parts.count else { return .computed }
            parts.removeLast(dots - 1)
            return .absolute(parts.joined(separator: ".") + (rest.isEmpty ? "" : "." + rest), token)
        }
        return .computed
    }

    /// The module name in a plain string literal, if it is a dotted identifier path (after
    /// leading dots, when `allowLeadingDots`: a relative name).
    func literalModuleName(_ t: PythonToken, allowLeadingDots: Bool = false) -> String? {
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
        let dots = allowLeadingDots ? inner.prefix { $0 == UInt8(ascii: ".") }.count : 0
        let name = inner.dropFirst(dots)
        if dots > 0 && name.isEmpty { return String(decoding: inner, as: UTF8.self) }  // "..": the package itself
        guard !name.isEmpty, name.first != UInt8(ascii: "."), name.last != UInt8(ascii: ".") else { return nil }
        for c in inner {
            let ok = (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x2E
            if !ok { return nil }
        }
        return String(decoding: inner, as: UTF8.self)
    }

    static let logicKeywords: Set<String> = ["lambda", "await", "yield", "if", "for", "while", "not", "and", "or", "in", "is",
                                             "assert", "raise", "global", "nonlocal", "return", "print", "exec"]
    static let allowedOps: Set<String> = [".", ",", "[", "]", "(", ")", "|", "+", "=", ":", "+=", "{", "}", "-", "..."]

    /// Nil when a top-level statement of an __init__.py only exports; else what it is.
    /// Allowed: a docstring, `pass`, `del`, `...`; an assignment or annotated assignment
    /// (`name: type = value`, `name: type`) whose value and annotation are literals (`...`
    /// included), names, dotted names, subscripts of those (aliases such as
    /// `Alias = dict[str, X]`) or lists, tuples, sets and dicts of them; and
    /// `__version__ = version("dist")` through importlib.metadata (see `versionFunctions`).
    func initLogicKind(_ s: ArraySlice<PythonToken>) -> String? {
        let first = s[s.startIndex]
        if s.allSatisfy({ $0.kind == .string }) { return nil }  // docstring
        if isName(first, "pass") || isName(first, "del") { return nil }
        if isOp(first, "@") { return nil }  // decorator: the def/class below is reported
        if s.count == 1, isOp(first, "...") { return nil }  // `...` alone does nothing, as pass
        guard s.contains(where: { isOp($0, "=") || isOp($0, "+=") }) else {
            // An annotation without a value (`name: type`) declares a name.
            if s.count >= 3, first.kind == .name, isOp(s[s.startIndex + 1], ":"), valueLogic(s) == nil { return nil }
            return s.contains(where: { isOp($0, "(") }) ? "a call" : "an expression statement"
        }
        if isVersionFromMetadata(s) { return nil }
        return valueLogic(s)
    }

    /// Nil when every token of an assignment is a literal, a name or punctuation of a
    /// display, subscript or annotation; else what computes a value.
    func valueLogic(_ s: ArraySlice<PythonToken>) -> String? {
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

    /// `__version__ = version("dist")` or `__version__: str = ...` with importlib.metadata's
    /// `version` as the file imported it (`version`, `metadata.version`,
    /// `importlib.metadata.version`, `importlib_metadata.version`, an alias), and one
    /// argument: a plain string literal, `__name__` or `__package__`.
    func isVersionFromMetadata(_ s: ArraySlice<PythonToken>) -> Bool {
        guard !versionFunctions.isEmpty, isName(s[s.startIndex], "__version__") else { return false }
        var k = s.startIndex + 1
        if k < s.endIndex, isOp(s[k], ":") {
            guard let (_, _, _, next) = dotted(s, k + 1) else { return false }
            k = next
        }
        guard k < s.endIndex, isOp(s[k], "=") else { return false }
        guard let (callee, _, _, next) = dotted(s, k + 1), versionFunctions.contains(callee) else { return false }
        k = next
        guard k + 3 == s.endIndex, isOp(s[k], "("), isOp(s[k + 2], ")") else { return false }
        let argument = s[k + 1]
        if argument.kind == .string {
            // A plain literal: no f- or b- prefix.
            for b in bytes(argument) {
                if b == UInt8(ascii: "'") || b == UInt8(ascii: "\"") { return true }
                guard b | 0x20 == UInt8(ascii: "r") || b | 0x20 == UInt8(ascii: "u") else { return false }
            }
            return false
        }
        return isName(argument, "__name__") || isName(argument, "__package__")
    }
}
