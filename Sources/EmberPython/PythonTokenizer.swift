import EmberUtils
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Python 3 tokenizer over UTF-8 bytes. Produces the token stream of the target version's
/// `tokenize.tokenize` (minus the ENCODING token; 3.11's for 3.9-3.11, where an f-string is
/// one STRING token), with byte offsets instead of (line, character column) pairs. Never
/// throws and never traps: malformed input yields `errorToken`s plus diagnostics worded
/// like CPython's compiler.
///
/// Intentional differences from `tokenize.py` (documented in scripts/conformance/README.md):
/// a lone CR ends a line (as in CPython's compiler, which `ast.parse` uses), and positions
/// of the implicit EOF tokens are byte offsets at the end of the text.
public enum PythonTokenizer {
    public struct Options: Sendable {
        /// The Python version whose tokens to produce (default: the newest). From 3.12,
        /// f-strings are split into FSTRING_START / FSTRING_MIDDLE / expression tokens /
        /// FSTRING_END as CPython 3.12 does, with PEP 701 nesting (same quotes inside
        /// fields); before, an f-string is one STRING token, with 3.11's rules for where it
        /// ends. From 3.14, t-strings likewise (TSTRING_*).
        public var targetVersion: PythonVersion
        public var maxDiagnostics: Int

        public init(targetVersion: PythonVersion = .newest, maxDiagnostics: Int = 1000) {
            self.targetVersion = targetVersion
            self.maxDiagnostics = maxDiagnostics
        }

        /// The f-string form alone: true is 3.12, false 3.11 (the form before targets).
        public init(splitFStrings: Bool, maxDiagnostics: Int = 1000) {
            self.init(targetVersion: splitFStrings ? .v3_12 : .v3_11, maxDiagnostics: maxDiagnostics)
        }

        /// Whether f-strings are split (the target is 3.12 or newer).
        public var splitFStrings: Bool {
            get { targetVersion.hasPEP701FStrings }
            set { targetVersion = newValue ? max(targetVersion, .v3_12) : min(targetVersion, .v3_11) }
        }
    }

    public static func tokenize(_ source: PythonSource, options: Options = Options()) -> PythonTokenizeResult {
        tokenize(text: source.text, options: options)
    }

    /// Tokenizes UTF-8 text directly (no decoding step).
    public static func tokenize(text: [UInt8], options: Options = Options()) -> PythonTokenizeResult {
        guard text.count < PythonSource.maximumSize else {
            // Offsets are stored in 32 bits; PythonSource refuses such texts up front.
            return PythonTokenizeResult(tokens: [], diagnostics: [PythonDiagnostic(message: "file too large (over 2 GiB)", offset: 0)])
        }
        return text.withUnsafeBufferPointer { buffer in
            var scanner = TokenScanner(buffer, options: options)
            if let base = buffer.baseAddress, let nul = memchr(base, 0, buffer.count) {
                // CPython refuses the whole text first, wherever the NUL is (in a string too).
                scanner.diagnose("source code cannot contain null bytes", UnsafeRawPointer(nul) - UnsafeRawPointer(base), rank: .nul)
            }
            scanner.run()
            var diagnostics = scanner.diagnostics
            if scanner.needsLineNumbers {
                let table = LineTable(buffer)
                for i in diagnostics.indices {
                    if let at = scanner.detectedAt[i] {
                        diagnostics[i].message += " (detected at line \(table.location(of: at).line))"
                    }
                    if let open = scanner.openedAt[i],
                       table.location(of: open).line != table.location(of: diagnostics[i].offset).line {
                        diagnostics[i].message += " on line \(table.location(of: open).line)"
                    }
                }
            }
            diagnostics.sortAfterFirst()
            return PythonTokenizeResult(tokens: scanner.tokens, diagnostics: diagnostics)
        }
    }
}

@inline(__always) private func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }
@inline(__always) private func isHexDigit(_ b: UInt8) -> Bool { isDigit(b) || (b | 0x20) &- 0x61 < 6 }
@inline(__always) private func isNameStart(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 || b == 0x5F || b >= 0x80 }
/// A byte that may start a name (an ASCII letter, '_', or any non-ASCII byte: the scalar is
/// checked by `scanName`).
@inline(__always) func isNameStartByte(_ b: UInt8) -> Bool { isNameStart(b) }
@inline(__always) private func isNameContinue(_ b: UInt8) -> Bool { isNameStart(b) || isDigit(b) }

/// ASCII bytes that continue a name: a lookup is cheaper than the comparisons in the hot loop.
nonisolated(unsafe) private let nameContinueTable: UnsafeBufferPointer<UInt8> = {
    let table = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 128)
    for b in 0..<128 { table[b] = isNameContinue(UInt8(b)) ? 1 : 0 }
    return UnsafeBufferPointer(table)  // lives for the whole process
}()

struct TokenScanner {
    let p: UnsafeBufferPointer<UInt8>
    let n: Int
    let options: PythonTokenizer.Options
    var tokens: [PythonToken] = []
    var diagnostics: [PythonDiagnostic] = []
    /// Per diagnostic: offset whose line is appended as "(detected at line N)".
    var detectedAt: [Int?] = []
    /// Per diagnostic: offset of an opening bracket, appended as "on line N" when on another line.
    var openedAt: [Int?] = []
    var needsLineNumbers = false
    var pos = 0
    var indents: [Int] = [0]
    var altIndents: [Int] = [0]
    /// CPython's `parenlev`: may go negative on unmatched closers, as in tokenize.py.
    var parenDepth = 0
    /// Open brackets (byte, offset) for "was never closed" / mismatch messages.
    var brackets: [(UInt8, Int)] = []
    var continued = false
    /// Where the whitespace before the current token starts (tokenize.py turns each of
    /// those bytes into an ERRORTOKEN when the token itself cannot be matched).
    var whitespaceStart = 0
    /// `nameContinueTable`, read once: a global's lazy-init check in the hot loop is costly.
    let nameTable: UnsafeBufferPointer<UInt8> = nameContinueTable
    /// `skimByteFlags` (SkimLineSkip.swift), read once for the same reason.
    let skimFlags: UnsafePointer<UInt8> = skimByteFlags
    /// The import skimmer without block structure: `indentation` checks levels but adds
    /// no INDENT/DEDENT tokens.
    var indentationMakesNoTokens = false
    var lastContinuation = 0
    /// f-strings (3.12 form) open around the current position, and format specs open
    /// inside fields: both are scanned recursively, so both are bounded (see
    /// `maxFStringNesting`, `maxFormatSpecNesting`).
    var fstringNesting = 0
    var formatSpecNesting = 0
    /// The quote and triple-ness of the innermost split f-string (0: none), and whether it
    /// is a t-string: a string in one of its fields that is unterminated with that same
    /// quote is the field's missing '}' (`fieldAborted` then ends the field).
    var enclosingQuote: UInt8 = 0
    var enclosingTriple = false
    var inTemplate = false
    /// "f-string" or "t-string" (the innermost string being scanned), for messages.
    var stringWord: String { inTemplate ? "t-string" : "f-string" }
    var fieldAborted = false
    /// Split f-strings (target 3.12+) and t-strings (3.14+).
    let splitsFStrings: Bool
    let hasTemplateStrings: Bool
    /// The thread's stack limit (see StackGuard), read at the first nested f-string.
    var stackLimit: UInt?
    /// Whether one more nested f-string or format spec would come too near the end of the
    /// thread's stack (a debug build on a small thread).
    mutating func stackExhausted() -> Bool {
        if stackLimit == nil { stackLimit = StackGuard.limitForCurrentThread() }
        return StackGuard.exhausted(stackLimit!)
    }

    /// `reserveTokens`: initial capacity (default: enough for the whole text).
    init(_ p: UnsafeBufferPointer<UInt8>, options: PythonTokenizer.Options, reserveTokens: Int? = nil) {
        self.p = p
        self.n = p.count
        self.options = options
        self.splitsFStrings = options.targetVersion.hasPEP701FStrings
        self.hasTemplateStrings = options.targetVersion.hasTemplateStrings
        tokens.reserveCapacity(reserveTokens ?? (n / 5 + 16))
    }

    @inline(__always) mutating func add(_ kind: PythonTokenKind, _ start: Int, _ end: Int) {
        tokens.append(PythonToken(kind: kind, start: start, end: end))
    }

    mutating func diagnose(_ message: String, _ offset: Int, detectedAt: Int? = nil, openedAt: Int? = nil, rank: DiagnosticRank = .syntax) {
        guard diagnostics.count < options.maxDiagnostics else { return }
        var d = PythonDiagnostic(message: message, offset: offset)
        d.rank = rank == .syntax && fstringNesting > 0 ? .syntaxInFString : rank
        diagnostics.append(d)
        self.detectedAt.append(detectedAt)
        self.openedAt.append(openedAt)
        if detectedAt != nil || openedAt != nil { needsLineNumbers = true }
    }

    /// Where the comment at `start` ends (its line break or the end of the text), 16
    /// bytes at a time.
    @inline(__always) func endOfComment(_ start: Int) -> Int {
        var e = start
        let base = p.baseAddress!
        while e + 16 <= n {
            let k = SkimBytes.firstLineBreak(base + e)
            e += k
            if k < 16 { return e }
        }
        while e < n && p[e] != LF && p[e] != CR { e += 1 }
        return e
    }

    /// Offset just past the line break at `q` (CRLF, LF or CR); `q` itself at EOF.
    @inline(__always) func afterNewline(_ q: Int) -> Int {
        guard q < n else { return q }
        if p[q] == CR && q + 1 < n && p[q + 1] == LF { return q + 2 }
        return q + 1
    }

    /// Where the first byte that is not a blank (space, TAB, FF) comes at or after `from`,
    /// and the indentation columns up to it (tabs to multiples of 8; all bytes as 1).
    @inline(__always) static func measureIndentation(_ p: UnsafeBufferPointer<UInt8>, from: Int) -> (Int, Int, Int) {
        let n = p.count
        var column = 0, altColumn = 0, q = from
        // Spaces 16 at a time (indentation is mostly spaces); tabs and form feeds below.
        while q + 16 <= n {
            let spaces = SkimBytes.leadingSpaces(p.baseAddress! + q)
            column &+= spaces; altColumn &+= spaces; q &+= spaces
            if spaces < 16 { break }
        }
        return continueIndentation(p, at: q, column: column, altColumn: altColumn)
    }

    /// Indentation from `at` on, given the columns so far: where the first byte that is
    /// not a blank comes, and the columns up to it (tabs to the next multiple of 8 in the
    /// first, every blank 1 in the second, form feed resets both), as tokenize.py counts.
    @inline(__always) static func continueIndentation(_ p: UnsafeBufferPointer<UInt8>, at start: Int, column: Int, altColumn: Int) -> (Int, Int, Int) {
        var q = start, column = column, altColumn = altColumn
        measure: while q < p.count {
            switch p[q] {
            case SPACE: column += 1; altColumn += 1
            case TAB: column = (column / 8 + 1) * 8; altColumn += 1
            case FF: column = 0; altColumn = 0
            default: break measure
            }
            q += 1
        }
        return (q, column, altColumn)
    }

    /// The line loop: indentation, blank and comment-only lines, then the rest of each
    /// physical line (`scanRestOfLine`). The import skimmer's `skimRun` is this loop with a
    /// keep-or-drop decision per logical line; both scan through the same functions.
    mutating func run() {
        let policy = EveryLineToken()
        var comments = 0
        lineLoop: while pos < n {
            let lineStart = pos
            if parenDepth == 0 && !continued {
                let (q, column, altColumn) = TokenScanner.measureIndentation(p, from: pos)
                if q == n {
                    // A whitespace-only last line: 3.11's tokenize.py stops here; 3.12's
                    // tokenize gives it an NL ''.
                    if q > lineStart && splitsFStrings { add(.nl, n, n) }
                    break lineLoop
                }
                if let next = blankLine(at: q, policy) {  // no indentation
                    pos = next
                    continue lineLoop
                }
                indentation(column: column, altColumn: altColumn, lineStart: lineStart, at: q)
                pos = q
            } else {
                continued = false
            }
            // The rest of the physical line (strings may carry us over further lines).
            switch scanRestOfLine(policy, keptComments: &comments) {
            case .lineBreak(let at, let end):
                add(parenDepth > 0 ? .nl : .newline, at, end)
                pos = end
            case .continuation:
                continue lineLoop
            case .endOfText:
                break lineLoop
            }
        }
        finish()
    }

    /// A blank or comment-only line whose indentation ends at `q`: its comment (when the
    /// policy keeps it) and NL (when it makes them), and the offset after its line break.
    /// Nil when the line holds code.
    @inline(__always) mutating func blankLine<P: LineTokenPolicy>(at q: Int, _ policy: P) -> Int? {
        var q = q
        let b = p[q]
        guard b == HASH || b == LF || b == CR else { return nil }
        if b == HASH {
            let e = endOfComment(q)
            if policy.keepsComment(p, q, e) { add(.comment, q, e) }
            q = e
        }
        let e = afterNewline(q)
        if policy.makesNL { add(.nl, q, e) }
        return e
    }

    /// Tokens from `pos` to the end of the physical line: code tokens (a string may carry
    /// over further lines), comments the policy keeps (counted in `keptComments`), and a
    /// backslash continuation. Stops at the line break (not consumed), after a
    /// continuation's line break (`continued` set), or at the end of the text.
    @inline(__always) mutating func scanRestOfLine<P: LineTokenPolicy>(_ policy: P, keptComments: inout Int) -> PhysicalLineEnd {
        while true {
            whitespaceStart = pos
            while pos < n && (p[pos] == SPACE || p[pos] == TAB || p[pos] == FF) { pos += 1 }
            guard pos < n else { return .endOfText }
            let b = p[pos]
            switch b {
            case LF, CR:
                return .lineBreak(at: pos, end: afterNewline(pos))
            case HASH:
                let e = endOfComment(pos)
                if policy.keepsComment(p, pos, e) {
                    add(.comment, pos, e)
                    keptComments += 1
                }
                pos = e
            case BACKSLASH:
                if pos + 1 < n && (p[pos + 1] == LF || p[pos + 1] == CR) {
                    lastContinuation = pos
                    pos = afterNewline(pos + 1)
                    continued = true
                    return .continuation
                }
                if pos + 1 >= n {
                    diagnose("unexpected EOF while parsing", pos, rank: .quiet)
                } else {
                    diagnose("unexpected character after line continuation character", pos, rank: .quiet)
                }
                whitespaceErrors()
                add(.errorToken, pos, pos + 1)
                pos += 1
            default:
                scanToken(b)
            }
        }
    }

    /// The token at `pos`, whose first byte `b` starts no line break, comment or
    /// continuation: a string, number, name or operator (`run` and the import skimmer).
    @inline(__always) mutating func scanToken(_ b: UInt8) {
        switch b {
        case QUOTE1, QUOTE2:
            scanString(start: pos, quoteAt: pos)
        case 0x30...0x39:
            scanNumber()
        case 0x2E where pos + 1 < n && isDigit(p[pos + 1]):
            scanNumber()
        default:
            if isNameStart(b) {
                scanName()
            } else {
                scanOperator(b)
            }
        }
    }

    mutating func indentation(column: Int, altColumn: Int, lineStart: Int, at q: Int) {
        if column > indents[indents.count - 1] {
            if altColumn <= altIndents[altIndents.count - 1] {
                diagnose("inconsistent use of tabs and spaces in indentation", q, rank: .quiet)
            }
            indents.append(column)
            altIndents.append(altColumn)
            if !indentationMakesNoTokens { add(.indent, lineStart, q) }
            if indents.count == 101 { diagnose("too many levels of indentation", q, rank: .quiet) }  // CPython's MAXINDENT
            return
        }
        if column < indents[indents.count - 1] && !indents.contains(column) {
            diagnose("unindent does not match any outer indentation level", q, rank: .quiet)
        }
        while column < indents[indents.count - 1] {
            indents.removeLast()
            altIndents.removeLast()
            if !indentationMakesNoTokens { add(.dedent, q, q) }
        }
        if column > indents[indents.count - 1] {
            // Recover from a bad unindent: treat this column as the current level.
            indents.append(column)
            altIndents.append(altColumn)
        } else if altColumn != altIndents[altIndents.count - 1] {
            diagnose("inconsistent use of tabs and spaces in indentation", q, rank: .quiet)
        }
    }

    mutating func finish() {
        if n > 0 && p[n - 1] != LF && p[n - 1] != CR {
            // tokenize.py adds NEWLINE '' unless the last physical line is a comment.
            var s = n
            while s > 0 && p[s - 1] != LF { s -= 1 }
            while s < n && (p[s] == SPACE || p[s] == TAB || p[s] == FF || p[s] == 0x0B || p[s] == CR) { s += 1 }
            if s < n && p[s] != HASH {
                add(.newline, n, n)
            }
        }
        if continued {
            diagnose("unexpected EOF while parsing", lastContinuation, rank: .quiet)
        }
        if let (open, offset) = brackets.last {
            diagnose("'\(String(UnicodeScalar(open)))' was never closed", offset, rank: .unclosed)
        }
        for _ in 1..<indents.count { add(.dedent, n, n) }
        add(.endmarker, n, n)
    }

    // MARK: - strings

    mutating func scanString(start: Int, quoteAt: Int) {
        if splitsFStrings && quoteAt > start, case let (split, template) = splitStringKind(start, quoteAt), split {
            if fstringNesting >= TokenScanner.maxFStringNesting {
                // CPython 3.12's limit (MAXFSTRINGLEVEL); the rest is read as a plain string.
                diagnose("too many nested f-strings", start)
            } else if stackExhausted() {
                diagnose("too deeply nested", start)
            } else {
                fstringNesting += 1
                defer { fstringNesting -= 1 }
                if scanFStringSplit(start: start, quoteAt: quoteAt, template: template) { return }
            }
        }
        let q = p[quoteAt]
        if quoteAt + 2 < n && p[quoteAt + 1] == q && p[quoteAt + 2] == q {
            var i = quoteAt + 3
            while i < n {
                let c = p[i]
                if c == BACKSLASH { i += 2; continue }
                if c == q && i + 2 < n && p[i + 1] == q && p[i + 2] == q {
                    add(.string, start, i + 3)
                    pos = i + 3
                    return
                }
                i += 1
            }
            if enclosingQuote == q && enclosingTriple {
                // In a field of an f-string with these quotes: the field's '}' is missing,
                // and the quotes close the f-string (they become its FSTRING_END).
                diagnose("\(stringWord): expecting '}'", start)
                if quoteAt > start { add(.name, start, quoteAt) }
                pos = quoteAt
                fieldAborted = true
                return
            }
            diagnose("unterminated triple-quoted string literal", start, detectedAt: max(n - 1, 0))  // CPython: the last line
            add(.errorToken, start, n)
            pos = n
            return
        }
        var i = quoteAt + 1
        while i < n {
            let c = p[i]
            if c == BACKSLASH {
                if i + 1 < n && p[i + 1] == CR && i + 2 < n && p[i + 2] == LF { i += 3 } else { i += 2 }
                continue
            }
            if c == q {
                add(.string, start, i + 1)
                pos = i + 1
                return
            }
            if c == LF || c == CR { break }
            i += 1
        }
        if enclosingQuote == q && !enclosingTriple {
            // In a field of an f-string with this quote: the field's '}' is missing.
            diagnose("\(stringWord): expecting '}'", start)
            if quoteAt > start { add(.name, start, quoteAt) }
            pos = quoteAt
            fieldAborted = true
            return
        }
        diagnose("unterminated string literal", start, detectedAt: start)
        // As tokenize.py: a prefix is a NAME, the quote an ERRORTOKEN, and the rest of the
        // line is tokenized again.
        if quoteAt > start {
            add(.name, start, quoteAt)
        } else {
            whitespaceErrors()
        }
        add(.errorToken, quoteAt, quoteAt + 1)
        pos = quoteAt + 1
    }

    /// tokenize.py yields each whitespace byte before an unmatchable character as ERRORTOKEN.
    mutating func whitespaceErrors() {
        var k = whitespaceStart
        while k < pos {
            add(.errorToken, k, k + 1)
            k += 1
        }
    }

    // MARK: - names

    mutating func scanName() {
        let start = pos
        var i = pos
        while i < n {
            let c = p[i]
            if c < 0x80 {
                if nameTable[Int(c)] == 0 { break }
                i += 1
            } else {
                let (scalar, length) = decodeScalar(at: i)
                if !PythonTokenizer.isIdentifierScalar(scalar) { break }
                i += length
            }
        }
        if i == start {
            // A non-ASCII character that cannot be part of a name.
            let (scalar, length) = decodeScalar(at: i)
            invalidCharacter(scalar, at: i, length: length)
            return
        }
        if p[start] >= 0x80 {
            // CPython's verify_identifier: the first character must be XID_Start.
            let (scalar, length) = decodeScalar(at: start)
            if !PythonTokenizer.isIdentifierStartScalar(scalar) {
                invalidCharacter(scalar, at: start, length: length)
                return
            }
        }
        pos = i
        let length = i - start
        if length <= 2 && i < n && (p[i] == QUOTE1 || p[i] == QUOTE2) && isStringPrefix(start, length) {
            scanString(start: start, quoteAt: i)
            return
        }
        add(.name, start, i)
    }

    func isStringPrefix(_ s: Int, _ length: Int) -> Bool {
        let a = p[s] | 0x20
        if length == 1 { return a == 0x72 || a == 0x75 || a == 0x66 || a == 0x62 || (a == 0x74 && hasTemplateStrings) }  // r u f b (t)
        let b = p[s + 1] | 0x20
        switch (a, b) {
        case (0x62, 0x72), (0x72, 0x62), (0x66, 0x72), (0x72, 0x66): return true  // br rb fr rf
        case (0x74, 0x72), (0x72, 0x74): return hasTemplateStrings  // tr rt
        default: return false
        }
    }

    func decodeScalar(at i: Int) -> (UInt32, Int) {
        let b0 = UInt32(p[i])
        func cont(_ k: Int) -> UInt32? { i + k < n && p[i + k] & 0xC0 == 0x80 ? UInt32(p[i + k]) & 0x3F : nil }
        if b0 < 0x80 { return (b0, 1) }
        if b0 >= 0xC0 && b0 < 0xE0, let c1 = cont(1) { return (((b0 & 0x1F) << 6) | c1, 2) }
        if b0 >= 0xE0 && b0 < 0xF0, let c1 = cont(1), let c2 = cont(2) { return (((b0 & 0x0F) << 12) | (c1 << 6) | c2, 3) }
        if b0 >= 0xF0, let c1 = cont(1), let c2 = cont(2), let c3 = cont(3) {
            return (((b0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3, 4)
        }
        return (0xFFFD, 1)
    }

    mutating func invalidCharacter(_ scalar: UInt32, at i: Int, length: Int) {
        let hex = String(scalar, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        if scalar == 0 {
            // Reported once, up front (see `tokenize(text:options:)`).
        } else if scalar < 0x20 || scalar == 0x7F || (scalar >= 0x80 && scalar < 0xA0) || scalar == 0xA0 || scalar == 0xFFFD {
            diagnose("invalid non-printable character \(code)", i)
        } else if scalar < 0x80 {
            diagnose("invalid syntax", i, rank: .quiet)  // $ ? ` : CPython's tokenizer passes them on and the parser rejects them
        } else if let u = UnicodeScalar(scalar) {
            diagnose("invalid character '\(String(Character(u)))' (\(code))", i)
        } else {
            diagnose("invalid character \(code)", i)
        }
        whitespaceErrors()
        add(.errorToken, i, i + length)
        pos = i + length
    }

    // MARK: - numbers

    /// Digits with single underscores between them: `[0-9](?:_?[0-9])*`.
    @inline(__always) func digitPart(_ from: Int, _ accept: (UInt8) -> Bool) -> Int {
        var i = from
        guard i < n && accept(p[i]) else { return from }
        i += 1
        while i < n {
            if accept(p[i]) { i += 1 } else if p[i] == 0x5F && i + 1 < n && accept(p[i + 1]) { i += 2 } else { break }
        }
        return i
    }

    mutating func scanNumber() {
        let start = pos
        var i = pos
        var kind = "decimal"
        if p[i] == 0x30 && i + 1 < n && (p[i + 1] | 0x20 == 0x78 || p[i + 1] | 0x20 == 0x6F || p[i + 1] | 0x20 == 0x62) {
            let radix = p[i + 1] | 0x20
            let accept: (UInt8) -> Bool = radix == 0x78 ? isHexDigit : radix == 0x6F ? { $0 &- 0x30 < 8 } : { $0 &- 0x30 < 2 }
            var j = i + 2
            if j < n && p[j] == 0x5F { j += 1 }
            let e = digitPart(j, accept)
            if e > j {
                kind = radix == 0x78 ? "hexadecimal" : radix == 0x6F ? "octal" : "binary"
                finishNumber(start, e, kind)
                return
            }
            // "0x" without digits: tokenize.py yields NUMBER "0" then NAME "x...".
            diagnose("invalid \(radix == 0x78 ? "hexadecimal" : radix == 0x6F ? "octal" : "binary") literal", start)
            add(.number, start, i + 1)
            pos = i + 1
            return
        }
        if p[i] != 0x2E { i = digitPart(i, isDigit) }
        var isFloat = false
        if i < n && p[i] == 0x2E {
            isFloat = true
            i = digitPart(i + 1, isDigit)
        }
        if i < n && p[i] | 0x20 == 0x65 {
            var j = i + 1
            if j < n && (p[j] == 0x2B || p[j] == 0x2D) { j += 1 }
            let e = digitPart(j, isDigit)
            if e > j { i = e; isFloat = true }
        }
        if i < n && p[i] | 0x20 == 0x6A { i += 1; isFloat = true }
        if !isFloat && p[start] == 0x30 {
            // "0(?:_?0)*" only: other leading-zero integers are errors in Python 3.
            var k = start
            while k < i && (p[k] == 0x30 || p[k] == 0x5F) { k += 1 }
            if k < i {
                diagnose("leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers", start)
                // tokenize.py's Decnumber `0(?:_?0)*` stops at the zeros; the rest is a new NUMBER.
                var z = start + 1
                while z + 1 < i && p[z] == 0x5F && p[z + 1] == 0x30 || z < i && p[z] == 0x30 { z += p[z] == 0x5F ? 2 : 1 }
                add(.number, start, z)
                pos = z
                return
            }
        }
        finishNumber(start, i, kind)
    }

    mutating func finishNumber(_ start: Int, _ end: Int, _ kind: String) {
        add(.number, start, end)
        pos = end
        // CPython rejects a name glued to a number, except the keywords it tolerates.
        guard end < n && isNameStart(p[end]) else { return }
        if p[end] >= 0x80 && !PythonTokenizer.isIdentifierScalar(decodeScalar(at: end).0) { return }
        for keyword in ["and", "else", "for", "if", "in", "is", "not", "or"] {
            var matches = true
            for (k, c) in keyword.utf8.enumerated() where end + k >= n || p[end + k] != c { matches = false; break }
            if matches { return }
        }
        diagnose("invalid \(kind) literal", start)
    }

    // MARK: - operators

    mutating func scanOperator(_ b: UInt8) {
        let start = pos
        @inline(__always) func at(_ k: Int) -> UInt8 { start + k < n ? p[start + k] : 0 }
        var length = 1
        switch b {
        case 0x28, 0x5B, 0x7B:  // ( [ {
            parenDepth += 1
            brackets.append((b, start))
            if brackets.count == 201 { diagnose("too many nested parentheses", start) }  // CPython's MAXLEVEL
        case 0x29, 0x5D, 0x7D:  // ) ] }
            parenDepth -= 1
            if let (open, openAt) = brackets.popLast() {
                let expected: UInt8 = open == 0x28 ? 0x29 : open == 0x5B ? 0x5D : 0x7D
                if expected != b {
                    diagnose("closing parenthesis '\(String(UnicodeScalar(b)))' does not match opening parenthesis '\(String(UnicodeScalar(open)))'", start, openedAt: openAt)
                }
            } else {
                diagnose("unmatched '\(String(UnicodeScalar(b)))'", start)
            }
        case 0x2C, 0x3B, 0x7E:  // , ; ~
            break
        case 0x3A:  // : :=
            if at(1) == 0x3D { length = 2 }
        case 0x2B, 0x25, 0x26, 0x7C, 0x5E, 0x40, 0x3D:  // + % & | ^ @ =
            if at(1) == 0x3D { length = 2 }
        case 0x2D:  // - -= ->
            if at(1) == 0x3D || at(1) == 0x3E { length = 2 }
        case 0x2A, 0x2F, 0x3C, 0x3E:  // * / < > and their doubled and augmented forms
            if at(1) == b { length = at(2) == 0x3D ? 3 : 2 } else if at(1) == 0x3D { length = 2 }
        case 0x21:  // !=
            if at(1) == 0x3D { length = 2 } else {
                diagnose("invalid syntax", start)
                whitespaceErrors()
                add(.errorToken, start, start + 1)
                pos = start + 1
                return
            }
        case 0x2E:  // . ...
            if at(1) == 0x2E && at(2) == 0x2E { length = 3 }
        default:
            let (scalar, l) = b < 0x80 ? (UInt32(b), 1) : decodeScalar(at: start)
            invalidCharacter(scalar, at: start, length: l)
            return
        }
        add(.op, start, start + length)
        pos = start + length
    }
}

extension PythonTokenizer {
    /// Whether a scalar can start an identifier (Unicode XID_Start, or '_').
    public static func isIdentifierStartScalar(_ s: UInt32) -> Bool {
        if s < 0x80 { return isNameStart(UInt8(s)) }
        guard let scalar = Unicode.Scalar(s) else { return false }
        return scalar.properties.isXIDStart
    }

    /// Whether a scalar can continue an identifier (Unicode XID_Continue, as CPython's
    /// compiler and 3.12's tokenize; 3.11's tokenize.py uses the regex `\w`, which leaves
    /// out combining marks).
    public static func isIdentifierScalar(_ s: UInt32) -> Bool {
        if s < 0x80 { return isNameContinue(UInt8(s)) }
        guard let scalar = Unicode.Scalar(s) else { return false }
        return scalar.properties.isXIDContinue
    }
}

/// Which tokens beyond the code tokens the line loop makes: the tokenizer makes them all;
/// the import skimmer keeps only comments holding its marker and makes no NL.
protocol LineTokenPolicy {
    var makesNL: Bool { get }
    func keepsComment(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool
}

/// The tokenizer's policy: every comment and NL is a token.
struct EveryLineToken: LineTokenPolicy {
    @inline(__always) var makesNL: Bool { true }
    @inline(__always) func keepsComment(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool { true }
}

/// How `scanRestOfLine` stopped.
enum PhysicalLineEnd {
    /// At a line break (from `at` to `end`), not consumed.
    case lineBreak(at: Int, end: Int)
    /// After a backslash continuation's line break.
    case continuation
    case endOfText
}
