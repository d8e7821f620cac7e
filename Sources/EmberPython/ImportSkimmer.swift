#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fast pass for tools that only need a file's imports (ember-lint): only the logical
/// lines that can matter become tokens; the others are skipped without making any.
///
/// It yields a subsequence of `PythonTokenizer.tokenize(text:)`'s tokens in the 3.11 form: INDENT, DEDENT
/// and ENDMARKER; every logical line whose first token is one of `Filter.lineStarters` or
/// that holds a NAME from `Filter.namesAnywhere` (all its tokens except NL, then its
/// NEWLINE), except that a block header starting with one of `Filter.headerWords` keeps
/// only its first word, its final `:` and NEWLINE; comments that contain
/// `Filter.commentMarker` (one on a header line may come before the `:`). Kept lines are
/// scanned by the tokenizer's own code, so they are token for token identical. Other lines
/// are skipped by a loop that follows the tokenizer's rules for where strings, comments,
/// numbers, brackets and continuations start and end, and hands the line to the
/// tokenizer's scanning whenever it is not sure (non-ASCII outside strings, an operator or
/// number the tokenizer might reject). It visits only the bytes of a stop map built first
/// for the whole text with SIMD (`SkimMaps`: letters, blanks and plain operators need no
/// look), in the same pass that finds where `namesAnywhere` occur.
///
/// With `Filter.structureNeedsAnywhereName`, a text holding none of `namesAnywhere` keeps
/// no INDENT/DEDENT (except the tokenizer's closing ones) and no header lines either.
///
/// It returns nil when the tokenizer would report anything (unterminated string, bad
/// indentation, invalid character, ...): the caller then runs the full tokenizer, which
/// words the diagnostics exactly.
public enum PythonImportSkimmer {
    public struct Filter: Sendable {
        /// Words (ASCII) that make a logical line interesting when they are its first token.
        public var lineStarters: [String]
        /// NAMEs (ASCII) that make a logical line interesting anywhere in it.
        public var namesAnywhere: [String]
        /// Comments containing these bytes are kept; empty: no comment is kept.
        public var commentMarker: String
        /// Starters whose line, when its last token is `:` (a block header) and it holds
        /// none of `namesAnywhere`, is kept as three tokens: the word, the `:`, NEWLINE.
        public var headerWords: [String]
        /// Block structure (INDENT, DEDENT and the shrunken header lines) is kept only in
        /// texts that contain one of `namesAnywhere` (ember-lint: outside an __init__.py,
        /// blocks matter only under `if TYPE_CHECKING:`). The indentation is still checked.
        public var structureNeedsAnywhereName: Bool
        let compiled: CompiledFilter

        public init(lineStarters: [String], namesAnywhere: [String], commentMarker: String, headerWords: [String] = [],
                    structureNeedsAnywhereName: Bool = false) {
            self.lineStarters = lineStarters
            self.namesAnywhere = namesAnywhere
            self.commentMarker = commentMarker
            self.headerWords = headerWords
            self.structureNeedsAnywhereName = structureNeedsAnywhereName
            var compiled = CompiledFilter(lineStarters: lineStarters, namesAnywhere: namesAnywhere, commentMarker: commentMarker, headerWords: headerWords)
            compiled.structureNeedsAnywhereName = structureNeedsAnywhereName
            self.compiled = compiled
        }
    }

    /// The kept tokens, or nil when the text has a tokenizer diagnostic.
    public static func skim(text: [UInt8], filter: Filter) -> [PythonToken]? {
        text.withUnsafeBufferPointer { skim(text: $0, filter: filter) }
    }

    public static func skim(text: UnsafeBufferPointer<UInt8>, filter: Filter) -> [PythonToken]? {
        let compiled = filter.compiled
        // The 3.11 token form, as the full walk of ember-lint reads (an f-string is one STRING).
        var scanner = TokenScanner(text, options: PythonTokenizer.Options(targetVersion: .v3_11, maxDiagnostics: 1), reserveTokens: 256)
        // A NUL anywhere is an error of the whole text (PythonTokenizer.tokenize checks it up front).
        if let base = text.baseAddress, memchr(base, 0, text.count) != nil { return nil }
        scanner.skimRun(compiled)
        return scanner.diagnostics.isEmpty ? scanner.tokens : nil
    }
}

extension TokenScanner {
    /// `run()` with a decision at the end of every logical line: keep its tokens or drop
    /// them. Kept in step with `run()`: same order of checks, same scanning calls.
    mutating func skimRun(_ filter: CompiledFilter) {
        // Tokens of the current logical line start here; comments worth keeping that the
        // line drops are re-added.
        var lineTokens = 0
        var keptComments = 0
        var inLine = false
        let policy = SkimLinePolicy(filter: filter)
        // Where code needs a look, as a bit map of the whole text (SIMD), and where an
        // anywhere-name's bytes occur, found in the same pass.
        let maps = SkimMaps(count: n)
        defer { maps.deallocate() }
        let occurrences = maps.build(p, filter)
        // The next occurrence of an anywhere-name's bytes at or after the current line.
        var nextOccurrence = 0
        let keepStructure = !occurrences.isEmpty || !filter.structureNeedsAnywhereName
        indentationMakesNoTokens = !keepStructure
        defer { indentationMakesNoTokens = false }
        lineLoop: while pos < n {
            if !diagnostics.isEmpty { return }  // the caller falls back; stop early
            let lineStart = pos
            if parenDepth == 0 && !continued {
                let (q, column, altColumn) = Self.measureIndentation(p, from: pos)
                if q == n { break lineLoop }
                if let next = blankLine(at: q, policy) {
                    pos = next
                    continue lineLoop
                }
                // The same level as the line before (most lines): indentation() would do nothing.
                // Without block structure to keep it still checks levels (its errors count)
                // but makes no INDENT/DEDENT tokens.
                if column != indents[indents.count - 1] || altColumn != altIndents[altIndents.count - 1] {
                    indentation(column: column, altColumn: altColumn, lineStart: lineStart, at: q)
                }
                pos = q
                lineTokens = tokens.count
                keptComments = 0
                inLine = true
                // Most lines need no tokens at all: skip them stop by stop. Anything the
                // fast skip is not sure about sends the line to the tokenizer's own scanning.
                let first = Self.firstWordKind(p, skimFlags, at: q, filter)
                // A header word's line is skipped only when it is a block header (ends in ':').
                while nextOccurrence < occurrences.count && occurrences[nextOccurrence] < q { nextOccurrence += 1 }
                // In a text without anywhere-names the skip goes on to the lines after this one
                // (see `skipLineWithoutNames`); when one of them is to be tokenized, that one
                // is the line tokenized below.
                var lineAt = (start: q, tokens: lineTokens)
                let chain = occurrences.isEmpty && (first == .plain || !keepStructure)
                if first != .tokenize,
                   let skipped = skipLineCheckingNames(from: q, filter, maps, occurrences, nextOccurrence,
                                                       chain: chain ? (headers: !keepStructure, firstIsHeader: first == .header) : nil, &lineAt),
                   first == .plain || chain || p[skipped.lastSignificant] == 0x3A {
                    if first == .header && keepStructure {
                        var e = q
                        while e < n && isASCIINameContinue(p[e]) { e += 1 }
                        tokens.insert(PythonToken(kind: .name, start: q, end: e), at: lineTokens)
                        add(.op, skipped.lastSignificant, skipped.lastSignificant + 1)
                        if skipped.newlineAt < skipped.end { add(.newline, skipped.newlineAt, skipped.end) }
                    }
                    pos = skipped.end
                    inLine = false
                    continue lineLoop
                }
                pos = lineAt.start
                lineTokens = lineAt.tokens
                if tokens.count > lineTokens { tokens.removeLast(tokens.count - lineTokens) }
            } else {
                continued = false
            }
            // The rest of the physical line, scanned as the tokenizer's `run()` does.
            switch scanRestOfLine(policy, keptComments: &keptComments) {
            case .lineBreak(let at, let end):
                pos = end
                if parenDepth > 0 { continue lineLoop }  // NL: nobody reads it
                if keepLine(from: lineTokens, filter) {
                    add(.newline, at, end)
                } else {
                    dropLine(from: lineTokens, keptComments: keptComments)
                }
                inLine = false
            case .continuation:
                continue lineLoop
            case .endOfText:
                break lineLoop
            }
        }
        // The last line has no line break: finish() gives it its NEWLINE when it is kept.
        if inLine, !keepLine(from: lineTokens, filter) {
            dropLine(from: lineTokens, keptComments: keptComments)
        }
        finish()
    }

    /// Whether the logical line whose tokens start at `from` is kept.
    func keepLine(from start: Int, _ filter: CompiledFilter) -> Bool {
        var i = start
        let count = tokens.count
        // Comments come before the first real token only when they are the line's only
        // tokens (a comment runs to the end of the physical line).
        while i < count && tokens[i].kind == .comment { i += 1 }
        guard i < count else { return false }
        let first = tokens[i]
        if first.kind == .name && CompiledFilter.matches(filter.starters, filter.starterLengths, p, first.start, first.end) { return true }
        while i < count {
            let t = tokens[i]
            if t.kind == .name && CompiledFilter.matches(filter.anywhere, filter.anywhereLengths, p, t.start, t.end) { return true }
            i += 1
        }
        return false
    }

    /// Drops the line's tokens, keeping its marked comments.
    mutating func dropLine(from start: Int, keptComments: Int) {
        guard start < tokens.count else { return }
        if keptComments == 0 {
            tokens.removeLast(tokens.count - start)
            return
        }
        var w = start
        for r in start..<tokens.count where tokens[r].kind == .comment {
            tokens[w] = tokens[r]
            w += 1
        }
        tokens.removeLast(tokens.count - w)
    }
}

/// The skimmer's line tokens: comments holding the filter's marker, no NL.
struct SkimLinePolicy: LineTokenPolicy {
    let filter: CompiledFilter
    @inline(__always) var makesNL: Bool { false }
    @inline(__always) func keepsComment(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        filter.containsMarker(p, start, end)
    }
}
