#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fast pass for tools that only need a file's imports (ember-lint): only the logical
/// lines that can matter become tokens; the others are skipped without making any.
///
/// It yields a subsequence of `PythonTokenizer.tokenize(text:)`'s tokens: INDENT, DEDENT
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
        var scanner = TokenScanner(text, options: PythonTokenizer.Options(maxDiagnostics: 1), reserveTokens: 256)
        scanner.skimRun(compiled)
        return scanner.diagnostics.isEmpty ? scanner.tokens : nil
    }
}

/// The filter's words as bytes, checked by length first.
struct CompiledFilter: Sendable {
    let starters: [[UInt8]]
    let starterLengths: UInt64  // bit k set: some starter has length k (k < 64)
    let anywhere: [[UInt8]]
    let anywhereLengths: UInt64
    let headers: [[UInt8]]
    let headerLengths: UInt64
    let marker: [UInt8]
    /// Each anywhere-name's offset of its rarest byte (the one memchr looks for).
    let anywherePivots: [Int]
    /// The memchr passes of `anywhereOccurrences`, worked out once.
    let anywherePasses: [AnywherePass]
    /// Starters by their sieve hash, for an exact test with one lookup; nil when some
    /// starter is longer than 8 bytes or two share a hash (then `matches` compares bytes).
    let starterTable: PackedWordTable?
    /// The pairs of bytes a line starting with a starter starts with (see `StarterPrefixes`).
    let starterPrefixes: StarterPrefixes
    var structureNeedsAnywhereName = false
    /// Quick "certainly not" tests for the word lists, so that most names need no
    /// comparison against them (the lists are arrays of arrays: costly to walk per name).
    let starterSieve: WordSieve
    let anywhereSieve: WordSieve
    /// Offset in `marker` of the byte memchr looks for in a comment (the rarest kind).
    let markerPivot: Int
    /// The anywhere-names for `SkimMaps.build`'s SIMD search; nil: too many or too short
    /// (then `anywhereOccurrences` searches).
    let anywhereProbes: AnywhereProbes?

    init(lineStarters: [String], namesAnywhere: [String], commentMarker: String, headerWords: [String]) {
        starters = lineStarters.map { Array($0.utf8) }
        anywhere = namesAnywhere.map { Array($0.utf8) }
        headers = headerWords.map { Array($0.utf8) }
        marker = Array(commentMarker.utf8)
        starterLengths = starters.reduce(0) { $0 | ($1.count < 64 ? 1 << UInt64($1.count) : 0) }
        anywhereLengths = anywhere.reduce(0) { $0 | ($1.count < 64 ? 1 << UInt64($1.count) : 0) }
        headerLengths = headers.reduce(0) { $0 | ($1.count < 64 ? 1 << UInt64($1.count) : 0) }
        let pivots = anywhere.map { w in w.indices.min { rarity(w[$0]) < rarity(w[$1]) } ?? 0 }
        anywherePivots = pivots
        var byPivot: [UInt8: [Int]] = [:]  // pivot byte -> names
        for (x, w) in anywhere.enumerated() where !w.isEmpty { byPivot[w[pivots[x]], default: []].append(x) }
        anywherePasses = byPivot.keys.sorted().map { [anywhere] byte in
            let names = byPivot[byte]!
            // The byte after each name's pivot (-1: the pivot is its last byte).
            let afters = names.map { x in pivots[x] + 1 < anywhere[x].count ? Int32(anywhere[x][pivots[x] + 1]) : -1 }
            return AnywherePass(pivot: byte, names: names, afters: afters, words: names.map { anywhere[$0] }, offsets: names.map { pivots[$0] },
                                after: WordSieve.byteSet(afters))
        }
        starterTable = PackedWordTable(starters, headers: headers)
        starterPrefixes = StarterPrefixes(starters)
        starterSieve = WordSieve(starters)
        anywhereSieve = WordSieve(anywhere)
        // A byte that is not a lowercase letter is rarer in comments (e.g. '-' of "ember-lint").
        markerPivot = marker.firstIndex { !((0x61...0x7A).contains($0)) } ?? 0
        anywhereProbes = AnywhereProbes(anywhere)
    }

    /// Offsets where an anywhere-name's bytes occur in the text (in code, strings or
    /// comments, maybe inside a longer name), ascending. Most files hold none, and then no
    /// name needs to be looked at while skipping; in the others only the lines around
    /// these offsets do.
    func anywhereOccurrences(_ p: UnsafeBufferPointer<UInt8>) -> [Int] {
        guard let base = p.baseAddress else { return [] }
        let n = p.count
        var found: [Int] = []
        // One memchr pass per distinct pivot byte; its hits are tried against every name
        // with that pivot, first by the byte after the pivot (cheap, and it rules out most).
        for pass in anywherePasses {
            var from = 0
            while from < n, let hit = memchr(base + from, Int32(pass.pivot), n - from) {
                let j = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                from = j + 1
                let next: Int32 = j + 1 < n ? Int32(p[j + 1]) : -1
                guard next < 0 || pass.after.contains(UInt8(next)) else { continue }
                for y in 0..<pass.names.count where pass.afters[y] < 0 || pass.afters[y] == next {
                    let w = pass.words[y]
                    let s = j - pass.offsets[y]
                    guard s >= 0, s + w.count <= n else { continue }
                    var m = 0
                    while m < w.count && p[s + m] == w[m] { m += 1 }
                    if m == w.count { found.append(s) }
                }
            }
        }
        found.sort()
        return found
    }

    @inline(__always) static func matches(_ words: [[UInt8]], _ lengths: UInt64, _ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        let length = e - s
        guard length < 64, lengths & (1 << UInt64(length)) != 0 else { return false }
        for w in words where w.count == length {
            var k = 0
            while k < length && p[s + k] == w[k] { k += 1 }
            if k == length { return true }
        }
        return false
    }

    func containsMarker(_ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        let m = marker.count
        guard m > 0, e - s >= m, let base = p.baseAddress else { return false }
        let k = markerPivot
        // Candidate starts are s...e-m; their pivot bytes lie in s+k ..< e-m+k+1.
        var from = s + k
        let limit = e - m + k + 1
        while from < limit, let hit = memchr(base + from, Int32(marker[k]), limit - from) {
            let j = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            let start = j - k
            var t = 0
            while t < m && p[start + t] == marker[t] { t += 1 }
            if t == m { return true }
            from = j + 1
        }
        return false
    }
}

/// How common a byte is in Python source (higher: more common), to pick the byte of a
/// word that memchr finds the fewest times. Letters by their count in the CPython 3.11
/// stdlib, rarest first; other bytes ('_' is about as common as 'p') count as common.
private func rarity(_ b: UInt8) -> Int {
    let lettersRarestFirst = Array("JQZYKXVWjGHzBUMDFPOqCSLRNAvIkwTyExbghmupdcflinoratse".utf8)
    return lettersRarestFirst.firstIndex(of: b) ?? 100
}

/// A word of 1...8 bytes as an integer: its bytes little-endian, zero above.
private func packedKey(_ w: [UInt8]) -> UInt64 {
    var key: UInt64 = 0
    for (k, b) in w.enumerated() { key |= UInt64(b) << (8 * UInt64(k)) }
    return key
}

/// Words of 1...8 bytes by their `WordSieve.hash`: the word packed into an integer
/// (`packedKey`) and whether it is a header word. Immutable after init.
final class PackedWordTable: @unchecked Sendable {
    let keys: UnsafeMutablePointer<UInt64>
    let isHeader: UnsafeMutablePointer<UInt8>  // 0: no word, 1: a starter, 2: a header starter

    init?(_ words: [[UInt8]], headers: [[UInt8]]) {
        guard words.allSatisfy({ !$0.isEmpty && $0.count <= 8 }) else { return nil }
        keys = .allocate(capacity: 256)
        keys.initialize(repeating: 0, count: 256)
        isHeader = .allocate(capacity: 256)
        isHeader.initialize(repeating: 0, count: 256)
        for w in words {
            let h = Int(WordSieve.hash(length: w.count, first: w[0], last: w[w.count - 1]))
            let key = packedKey(w)
            if isHeader[h] != 0 && keys[h] != key { return nil }  // deinit frees
            keys[h] = key
            isHeader[h] = headers.contains(w) ? 2 : 1
        }
    }

    deinit {
        keys.deallocate()
        isHeader.deallocate()
    }
}

/// A bit per pair of bytes (65,536 bits): set for the first two bytes of every starter, and
/// for a one-byte starter followed by any byte that does not continue an ASCII name. A line
/// whose first two bytes are not in it starts with no starter, so most lines need no look
/// at their first word. (A name running into non-ASCII is not told apart here: the skip
/// gives such a line to the tokenizer anyway.) Immutable after init.
final class StarterPrefixes: @unchecked Sendable {
    let bits: UnsafeMutablePointer<UInt64>

    init(_ starters: [[UInt8]]) {
        bits = .allocate(capacity: 1024)
        bits.initialize(repeating: 0, count: 1024)
        func insert(_ a: UInt8, _ b: UInt8) {
            let key = Int(a) << 8 | Int(b)
            bits[key >> 6] |= 1 << UInt64(key & 63)
        }
        for w in starters where !w.isEmpty {
            if w.count >= 2 {
                insert(w[0], w[1])
            } else {
                for b in 0...255 where !isASCIINameContinue(UInt8(b)) { insert(w[0], UInt8(b)) }
            }
        }
    }

    deinit { bits.deallocate() }

    @inline(__always) func contains(_ a: UInt8, _ b: UInt8) -> Bool {
        let key = Int(a) &<< 8 | Int(b)
        return (bits[key &>> 6] &>> UInt64(key & 63)) & 1 != 0
    }
}

/// One memchr pass of `CompiledFilter.anywhereOccurrences`: the names whose rarest byte is
/// `pivot`, where that byte sits in each, and the byte after it.
struct AnywherePass: Sendable {
    let pivot: UInt8
    let names: [Int]
    let afters: [Int32]
    let words: [[UInt8]]
    let offsets: [Int]
    /// Bytes some name has after its pivot (all bytes when one has none).
    let after: ByteSet
}

/// 256 bits, one per byte value.
struct ByteSet: Sendable {
    var bits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    mutating func insert(_ b: UInt8) {
        switch b >> 6 {
        case 0: bits.0 |= 1 << UInt64(b & 63)
        case 1: bits.1 |= 1 << UInt64(b & 63)
        case 2: bits.2 |= 1 << UInt64(b & 63)
        default: bits.3 |= 1 << UInt64(b & 63)
        }
    }

    @inline(__always) func contains(_ b: UInt8) -> Bool {
        let word: UInt64
        switch b >> 6 {
        case 0: word = bits.0
        case 1: word = bits.1
        case 2: word = bits.2
        default: word = bits.3
        }
        return (word >> UInt64(b & 63)) & 1 != 0
    }
}

/// A 256-bit set of (length, first byte, last byte) hashes of a word list: a name whose
/// hash is absent is certainly not in the list.
struct WordSieve: Sendable {
    var bits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init(_ words: [[UInt8]]) {
        for w in words where !w.isEmpty {
            let h = WordSieve.hash(length: w.count, first: w[0], last: w[w.count - 1])
            switch h >> 6 {
            case 0: bits.0 |= 1 << (h & 63)
            case 1: bits.1 |= 1 << (h & 63)
            case 2: bits.2 |= 1 << (h & 63)
            default: bits.3 |= 1 << (h & 63)
            }
        }
    }

    /// The bytes of `values` (-1: every byte).
    static func byteSet(_ values: [Int32]) -> ByteSet {
        var set = ByteSet()
        for v in values {
            if v < 0 {
                for b in 0...255 { set.insert(UInt8(b)) }
            } else {
                set.insert(UInt8(v))
            }
        }
        return set
    }

    @inline(__always) static func hash(length: Int, first: UInt8, last: UInt8) -> UInt64 {
        (UInt64(truncatingIfNeeded: length) &* 37 &+ UInt64(first) &* 5 &+ UInt64(last) &* 11) & 255
    }

    /// False: the word p[s..<e] (non-empty) is not in the list.
    @inline(__always) func mayContain(_ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        let h = WordSieve.hash(length: e - s, first: p[s], last: p[e - 1])
        let word: UInt64
        switch h >> 6 {
        case 0: word = bits.0
        case 1: word = bits.1
        case 2: word = bits.2
        default: word = bits.3
        }
        return (word >> (h & 63)) & 1 != 0
    }
}

private let SPACE: UInt8 = 0x20, TAB: UInt8 = 0x09, FF: UInt8 = 0x0C, LF: UInt8 = 0x0A, CR: UInt8 = 0x0D
private let HASH: UInt8 = 0x23, BACKSLASH: UInt8 = 0x5C, QUOTE1: UInt8 = 0x27, QUOTE2: UInt8 = 0x22

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

@inline(__always) private func isASCIINameStart(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 || b == 0x5F }
/// [0-9A-Za-z_] as a bit map: bytes 0-63 in the first word (digits), 64-127 in the second.
@inline(__always) private func isASCIINameContinue(_ b: UInt8) -> Bool {
    let word: UInt64 = b < 64 ? 0x03FF_0000_0000_0000 : 0x07FF_FFFE_87FF_FFFE
    return b < 128 && (word >> UInt64(b & 63)) & 1 != 0
}

extension TokenScanner {
    enum FirstWord { case plain, header, tokenize }

    /// `firstWord`, with the cheap look at the first two bytes inlined.
    @inline(__always) static func firstWordKind(_ p: UnsafeBufferPointer<UInt8>, _ flags: UnsafePointer<UInt8>, at q: Int,
                                                _ filter: CompiledFilter) -> FirstWord {
        if q + 1 < p.count && !filter.starterPrefixes.contains(p[q], p[q + 1]) { return .plain }
        return firstWord(p, flags, at: q, filter)
    }

    /// What the line's first token says: not a starter (skip the line), a header word
    /// (keep the line as a header), or another starter, or maybe one (a name running into
    /// non-ASCII): tokenize the line.
    /// Static: a method would copy the whole scanner for each call from the mutating loop.
    static func firstWord(_ p: UnsafeBufferPointer<UInt8>, _ flags: UnsafePointer<UInt8>, at q: Int, _ filter: CompiledFilter) -> FirstWord {
        let n = p.count
        guard isASCIINameStart(p[q]) else { return .plain }
        var e = q + 1
        if q + 16 <= n { e = q + SkimBytes.leadingNameBytes(p.baseAddress! + q) }
        if e == q + 16 || q + 16 > n {
            while e < n && flags[Int(p[e])] & SKIM_NAME != 0 { e += 1 }
        }
        if e < n && p[e] >= 0x80 { return .tokenize }
        if let table = filter.starterTable {
            let h = Int(WordSieve.hash(length: e - q, first: p[q], last: p[e - 1]))
            let kind = table.isHeader[h]
            guard kind != 0, e - q <= 8 else { return .plain }
            var key: UInt64 = 0
            for k in 0..<(e - q) { key |= UInt64(p[q + k]) << (8 * UInt64(k)) }
            guard table.keys[h] == key else { return .plain }
            return kind == 2 ? .header : .tokenize
        }
        guard filter.starterSieve.mayContain(p, q, e) else { return .plain }
        guard CompiledFilter.matches(filter.starters, filter.starterLengths, p, q, e) else { return .plain }
        return CompiledFilter.matches(filter.headers, filter.headerLengths, p, q, e) ? .header : .tokenize
    }

    struct SkippedLine {
        /// Offset after the line's NEWLINE (the text's end for a last line without one).
        var end: Int
        /// Where the NEWLINE starts (`end` when there is none).
        var newlineAt: Int
        /// Last byte of the line's last token.
        var lastSignificant: Int
    }

    /// `skipLineWithoutNames`, unless the line holds an occurrence of an anywhere-name's
    /// bytes (`occurrences[next...]`): then `skipLine`, which looks at every name.
    @inline(__always) mutating func skipLineCheckingNames(from start: Int, _ filter: CompiledFilter, _ maps: SkimMaps, _ occurrences: [Int],
                                                          _ next: Int, chain: (headers: Bool, firstIsHeader: Bool)?,
                                                          _ lineAt: inout (start: Int, tokens: Int)) -> SkippedLine? {
        let before = tokens.count
        let skipped = skipLineWithoutNames(from: start, filter, maps, chain: chain, &lineAt)
        guard next < occurrences.count else { return skipped }
        // Where the fast skip stopped (or gave up): any occurrence before that may be a name.
        let reached = skipped?.end ?? n
        guard occurrences[next] < reached else { return skipped }
        if tokens.count > before { tokens.removeLast(tokens.count - before) }  // its marked comments
        return skipLine(from: start, filter, maps)
    }

    /// Skips one logical line that starts at `start` without making tokens, and returns
    /// the offset after its NEWLINE (the text's end for a last line without one). Marked
    /// comments are added as tokens. Nil when the line must be tokenized: it names one of
    /// the filter's `namesAnywhere`, holds non-ASCII outside strings and comments, or
    /// anything the tokenizer reports (then the tokenizer's scanning words it).
    /// Mirrors `run()`: the same token boundaries decide where strings, numbers, comments
    /// and brackets start; operators other than `.`, `!` and brackets cannot change them.
    mutating func skipLine(from start: Int, _ filter: CompiledFilter, _ maps: SkimMaps) -> SkippedLine? {
        let p = self.p, n = self.n  // locals: the calls below may write self
        var i = start
        var last = start
        // Open brackets, two bits each (1 '(', 2 '[', 3 '{'); deeper than 31 goes to the tokenizer.
        var stack: UInt64 = 0
        var depth = 0
        while i < n {
            let b = p[i]
            switch b {
            case SPACE, TAB, FF:
                i += 1
            case 0x41...0x5A, 0x61...0x7A, 0x5F:  // a name
                let s = i
                i += 1
                while i < n && isASCIINameContinue(p[i]) { i += 1 }
                if i < n && p[i] >= 0x80 { return nil }
                if filter.anywhereSieve.mayContain(p, s, i) && CompiledFilter.matches(filter.anywhere, filter.anywhereLengths, p, s, i) { return nil }
                last = i - 1
            case 0x30...0x39:
                guard let e = simpleIntegerEnd(at: i) ?? skipNumber(at: i) else { return nil }
                i = e
                last = e - 1
            case 0x2E:  // . ... or a number like .5
                if i + 1 < n && p[i + 1] &- 0x30 < 10 {
                    guard let e = skipNumber(at: i) else { return nil }
                    i = e
                } else if i + 2 < n && p[i + 1] == 0x2E && p[i + 2] == 0x2E {
                    i += 3
                } else {
                    i += 1
                }
                last = i - 1
            case QUOTE1, QUOTE2:
                guard let e = skipString(quoteAt: i) else { return nil }
                i = e
                last = e - 1
            case HASH:
                let e = endOfComment(i)
                if filter.containsMarker(p, i, e) { add(.comment, i, e) }
                i = e
            case LF, CR:
                let e = afterNewline(i)
                if depth == 0 { return SkippedLine(end: e, newlineAt: i, lastSignificant: last) }
                i = e
            case BACKSLASH:
                guard i + 1 < n, p[i + 1] == LF || p[i + 1] == CR else { return nil }
                i = afterNewline(i + 1)
                if i >= n { return nil }  // EOF after a continuation: the tokenizer reports it
            case 0x28, 0x5B, 0x7B:  // ( [ {
                guard depth < 31 else { return nil }
                stack = (stack << 2) | (b == 0x28 ? 1 : b == 0x5B ? 2 : 3)
                depth += 1
                last = i
                i += 1
            case 0x29, 0x5D, 0x7D:  // ) ] }
                guard depth > 0, stack & 3 == (b == 0x29 ? 1 : b == 0x5D ? 2 : 3) else { return nil }
                stack >>= 2
                depth -= 1
                last = i
                i += 1
            case 0x21:  // only as !=
                guard i + 1 < n, p[i + 1] == 0x3D else { return nil }
                last = i + 1
                i += 2
            case 0x2C, 0x3B, 0x7E, 0x3A, 0x2B, 0x25, 0x26, 0x7C, 0x5E, 0x40, 0x3D, 0x2D, 0x2A, 0x2F, 0x3C, 0x3E:
                // , ; ~ : + % & | ^ @ = - * / < >: operators hold no digit, dot, quote or name
                last = i
                i += 1
            default:  // non-ASCII, control characters, $ ? `
                return nil
            }
        }
        return depth == 0 ? SkippedLine(end: n, newlineAt: n, lastSignificant: last) : nil
    }

    /// End of the decimal integer at `at` (a digit) when it is plainly one the tokenizer
    /// accepts: digits without '_' or a leading zero (a lone "0" is fine), followed by a byte
    /// that cannot continue a number. Nil: let `skipNumber` decide.
    @inline(__always) func simpleIntegerEnd(at: Int) -> Int? {
        var j = at + 1
        if p[at] != 0x30 {
            while j < n && p[j] &- 0x30 < 10 { j += 1 }
        }
        guard j < n else { return j }
        let c = p[j]
        return c < 0x80 && c != 0x2E && !isASCIINameContinue(c) ? j : nil
    }

    /// The tokenizer's number scan at `at`, without keeping the token; nil when it reports.
    mutating func skipNumber(at: Int) -> Int? {
        let saved = pos
        pos = at
        scanNumber()
        let end = pos
        pos = saved
        tokens.removeLast()
        return diagnostics.isEmpty ? end : nil
    }

    /// End of the string literal whose quote is at `quoteAt`, as `scanString` finds it; nil
    /// when it is unterminated.
    @inline(__always) func skipString(quoteAt: Int) -> Int? {
        let q = p[quoteAt]
        if quoteAt + 2 < n && p[quoteAt + 1] == q && p[quoteAt + 2] == q {
            // Docstrings are long: jump from quote to quote with memchr. A quote is escaped
            // when an odd run of backslashes (after the last resume point) precedes it,
            // which is what scanString's left-to-right `\\` skipping amounts to.
            let base = p.baseAddress!
            var from = quoteAt + 3
            while from < n {
                guard let hit = memchr(base + from, Int32(q), n - from) else { return nil }
                let j = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                var slashes = 0
                while j - slashes - 1 >= from && p[j - slashes - 1] == BACKSLASH { slashes += 1 }
                if slashes & 1 == 0 && j + 2 < n && p[j + 1] == q && p[j + 2] == q { return j + 3 }
                from = j + 1
            }
            return nil
        }
        // Ordinary string bytes (neither quote, backslash nor line break) 16 at a time.
        let base = p.baseAddress!
        var i = quoteAt + 1
        while true {
            if i + 16 <= n {
                let k = SkimBytes.firstStringStop(base + i)
                i += k
                if k == 16 { continue }
            } else {
                while i < n && skimFlags[Int(p[i])] & SKIM_STRING_STOP == 0 { i += 1 }
                guard i < n else { return nil }
            }
            let c = p[i]
            if c == BACKSLASH {
                if i + 1 < n && p[i + 1] == CR && i + 2 < n && p[i + 2] == LF { i += 3 } else { i += 2 }
                guard i < n else { return nil }
                continue
            }
            if c == q { return i + 1 }
            if c == LF || c == CR { return nil }
            i += 1
        }
    }
}

/// Byte classes of the skimmer's byte-at-a-time loops, as bit flags.
let SKIM_NAME: UInt8 = 2, SKIM_STRING_STOP: UInt8 = 4
nonisolated(unsafe) let skimByteFlags: UnsafePointer<UInt8> = {
    let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
    for b in 0..<256 {
        let byte = UInt8(b)
        var flags: UInt8 = 0
        if isASCIINameContinue(byte) { flags |= SKIM_NAME }
        if byte == QUOTE1 || byte == QUOTE2 || byte == BACKSLASH || byte == LF || byte == CR { flags |= SKIM_STRING_STOP }
        table[b] = flags
    }
    return UnsafePointer(table)  // lives for the whole process
}()

/// Bytes that never start or end anything the skimmer must see when names need no check:
/// letters, '_', blanks, and operators without digit, dot, quote, '!' or bracket. The stop
/// map (`SkimMaps.stops`) holds every other byte; tests check it against this.
func skimIsPlain(_ b: UInt8) -> Bool {
    // 0-63: TAB FF SPACE % & * + , - / : ; < = >   64-127: @ A-Z ^ _ a-z | ~
    let word: UInt64 = b < 64 ? 0x7C00_BC61_0000_1200 : 0x57FF_FFFE_C7FF_FFFF
    return b < 128 && (word >> UInt64(b & 63)) & 1 != 0
}

extension TokenScanner {
    /// `skipLine` for a text that holds none of the filter's `namesAnywhere`: names need
    /// no boundaries, so only the bytes of the stop map are looked at (letters, blanks and
    /// plain operators are not in it). A digit starts a number only after a byte that
    /// cannot continue a name (inside a name it is part of the name; numbers are consumed
    /// whole by `skipNumber`).
    ///
    /// With `chain` (the caller found the text without anywhere-names) it goes on as
    /// `skimRun` would, without returning to it for every line: blank and comment lines,
    /// the next line's indentation, and that line if its first word is plain (or a header
    /// word, with `chain.headers`: no header tokens to make), and so on. A header line is
    /// then skipped only when it ends in ':' (else it must be tokenized, as `skimRun`
    /// decides for one it skipped). The result is the last line's; `lineAt` says where
    /// that line starts and how many tokens there were before it (nil: that line must be
    /// tokenized).
    mutating func skipLineWithoutNames(from first: Int, _ filter: CompiledFilter, _ maps: SkimMaps,
                                       chain: (headers: Bool, firstIsHeader: Bool)? = nil,
                                       _ lineAt: inout (start: Int, tokens: Int)) -> SkippedLine? {
        let p = self.p, n = self.n, stops = maps.stops
        var start = first
        var lineIsHeader = chain?.firstIsHeader ?? false
        // The current indentation level (`indents` and `altIndents` tops), for chained lines.
        var level = (indents[indents.count - 1], altIndents[altIndents.count - 1])
        var stack: UInt64 = 0
        var depth = 0
        // Where a comment on the current physical line starts (-1: none): the line's last
        // token is found backwards from there or from the line break.
        var commentAt = -1
        // The stops still to visit: word `word` of the map, minus the ones passed.
        var word = first &>> 6
        var bits = stops[word] & (~0 &<< UInt64(first & 63))
        while true {
            while bits == 0 {
                word &+= 1
                bits = stops[word]  // the map's last word stops every search
            }
            let i = word &<< 6 | bits.trailingZeroBitCount
            bits &= bits &- 1
            if i >= n { break }
            // Where the scan resumes when a case consumed more than the stop byte.
            var resume: Int
            let b = p[i]
            switch b {
            case 0x28, 0x5B, 0x7B:  // ( [ {
                guard depth < 31 else { return nil }
                stack = (stack << 2) | UInt64(b &>> 5)  // 1 '(', 2 '[', 3 '{'
                depth += 1
                continue
            case 0x29, 0x5D, 0x7D:  // ) ] }
                guard depth > 0, stack & 3 == UInt64(b &>> 5) else { return nil }  // 1 ')', 2 ']', 3 '}'
                stack >>= 2
                depth -= 1
                continue
            case 0x2E:
                if i + 1 < n && p[i + 1] &- 0x30 < 10 {
                    guard let e = skipNumber(at: i) else { return nil }
                    resume = e
                } else if i + 2 < n && p[i + 1] == 0x2E && p[i + 2] == 0x2E {
                    resume = i + 3
                } else {
                    continue
                }
            case 0x30...0x39:
                if i > start && isASCIINameContinue(p[i - 1]) { continue }
                guard let e = simpleIntegerEnd(at: i) ?? skipNumber(at: i) else { return nil }
                resume = e
            case QUOTE1, QUOTE2:
                if i + 2 < n && p[i + 1] == b && p[i + 2] == b {
                    guard let e = skipString(quoteAt: i) else { return nil }
                    resume = e
                } else {
                    // A short string: its quotes, backslashes and line breaks are all stops,
                    // so it ends at one of the next stops, as `skipString` finds it.
                    var escaped = i + 1  // stops before this are inside an escape
                    while true {
                        while bits == 0 {
                            word &+= 1
                            bits = stops[word]
                        }
                        let j = word &<< 6 | bits.trailingZeroBitCount
                        bits &= bits &- 1
                        if j >= n { return nil }
                        if j < escaped { continue }
                        let c = p[j]
                        if c == b { break }
                        if c == BACKSLASH {
                            escaped = j + 1 < n && p[j + 1] == CR && j + 2 < n && p[j + 2] == LF ? j + 3 : j + 2
                        } else if c == LF || c == CR {
                            return nil
                        }
                    }
                    continue
                }
            case LF, CR:
                if depth == 0 {
                    guard let last = lastSignificant(before: commentAt >= 0 ? commentAt : i, from: start) else { return nil }
                    guard let chain else { return SkippedLine(end: afterNewline(i), newlineAt: i, lastSignificant: last) }
                    if lineIsHeader && p[last] != 0x3A { return nil }
                    // Blank and comment lines as `skimRun` takes them, then the next line.
                    var next = afterNewline(i)
                    var (q, column, altColumn) = Self.measureIndentation(p, from: next)
                    while q < n, let after = blankLine(at: q, SkimLinePolicy(filter: filter)) {
                        next = after
                        (q, column, altColumn) = Self.measureIndentation(p, from: next)
                    }
                    guard q < n else { return SkippedLine(end: next, newlineAt: i, lastSignificant: last) }
                    let kind = Self.firstWordKind(p, skimFlags, at: q, filter)
                    guard kind == .plain || kind == .header && chain.headers else {
                        return SkippedLine(end: next, newlineAt: i, lastSignificant: last)
                    }
                    if column != level.0 || altColumn != level.1 {
                        indentation(column: column, altColumn: altColumn, lineStart: next, at: q)
                        level = (indents[indents.count - 1], altIndents[altIndents.count - 1])
                        // The caller stops at the next line (the result is nil anyway).
                        if !diagnostics.isEmpty { return SkippedLine(end: q, newlineAt: i, lastSignificant: last) }
                    }
                    lineIsHeader = kind == .header
                    start = q
                    lineAt = (q, tokens.count)
                    commentAt = -1
                    // Right after an LF or CR the stops still to visit are the new line's;
                    // after a CRLF or skipped lines, find them again.
                    if next == i + 1 { continue }
                    resume = q
                    break
                }
                commentAt = -1
                if b == LF { continue }
                resume = afterNewline(i)
            case HASH:
                let e = endOfComment(i)
                if filter.containsMarker(p, i, e) { add(.comment, i, e) }
                commentAt = i
                resume = e
            case BACKSLASH:
                guard i + 1 < n, p[i + 1] == LF || p[i + 1] == CR else { return nil }
                resume = afterNewline(i + 1)
                commentAt = -1
                if resume >= n { return nil }
            case 0x21:
                guard i + 1 < n, p[i + 1] == 0x3D else { return nil }
                continue  // '=' is no stop
            case TAB, FF, 0x25, 0x26, 0x2F, 0x7C, 0x7E:  // plain bytes in the stop map
                continue
            default:  // non-ASCII, control characters, $ ? `
                return nil
            }
            // The stops before `resume` are passed (often all in the current word).
            if resume &>> 6 != word {
                word = resume &>> 6
                bits = stops[word]
            }
            bits &= ~0 &<< UInt64(resume & 63)
        }
        guard depth == 0, let last = lastSignificant(before: commentAt >= 0 ? commentAt : n, from: start) else { return nil }
        if lineIsHeader && p[last] != 0x3A { return nil }
        return SkippedLine(end: n, newlineAt: n, lastSignificant: last)
    }

    /// The last byte before `end` that is not a blank, when it belongs to a token on the
    /// same physical line; nil when a line break or continuation comes first (the line's
    /// last token is then on an earlier physical line: the caller tokenizes the line).
    @inline(__always) func lastSignificant(before end: Int, from start: Int) -> Int? {
        var k = end - 1
        while k >= start && (p[k] == SPACE || p[k] == TAB || p[k] == FF) { k -= 1 }
        guard k >= start, p[k] != LF, p[k] != CR, p[k] != BACKSLASH else { return nil }
        return k
    }
}

/// The stop map of a text for the skimmer: bit k of word w stands for byte 64w+k. It has
/// one more word than the text needs, whose highest bit is set, so that a search for the
/// next stop always ends (at or after the text's end) without a bounds check.
struct SkimMaps {
    /// Bytes the code loop must look at: every byte that is not plain (see `skimIsPlain`)
    /// except a '.' before neither a digit nor a '.' (no number starts there), and the plain
    /// TAB FF % & / | ~ (cheaper to stop at than to rule out).
    let stops: UnsafeMutablePointer<UInt64>
    /// Words of the map, the last one included.
    let words: Int

    init(count n: Int) {
        words = n / 64 + 1
        stops = .allocate(capacity: words)
    }

    func deallocate() { stops.deallocate() }

    /// Fills the map for `p` (whose count it was made for) and returns the offsets
    /// where one of the filter's `namesAnywhere` occurs, ascending (as `anywhereOccurrences`).
    func build(_ p: UnsafeBufferPointer<UInt8>, _ filter: CompiledFilter) -> [Int] {
        if let probes = filter.anywhereProbes {
            return build(p, filter, probes)
        }
        build(p, filter, NoProbes())
        return filter.anywhereOccurrences(p)
    }

    /// `build` with the names' probes (specialized: no probes, no cost).
    @discardableResult
    private func build<Probes: BlockProbes>(_ p: UnsafeBufferPointer<UInt8>, _ filter: CompiledFilter, _ probes: Probes) -> [Int] {
        let n = p.count
        var found: [Int] = []
        // Whole blocks straight from the text while the probes' reads stay inside it; the
        // rest from a copy padded with spaces (no stop, no name).
        var w = 0
        if let base = p.baseAddress {
            while w &* 64 &+ 64 &+ probes.reach <= n {
                let at = base + w &* 64
                let (code, maybeName) = SkimBytes.classify(at, probes)
                stops[w] = code
                if maybeName { findNames(p, at: at, from: w &* 64, probes, filter, &found) }
                w &+= 1
            }
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 192) { padded in
                let copy = padded.baseAddress!
                while w * 64 < n {
                    let from = w * 64
                    copy.initialize(repeating: SPACE, count: 192)
                    copy.update(from: base + from, count: min(n - from, 192))
                    let (code, maybeName) = SkimBytes.classify(UnsafePointer(copy), probes)
                    stops[w] = code
                    if maybeName { findNames(p, at: UnsafePointer(copy), from: from, probes, filter, &found) }
                    w += 1
                }
            }
        }
        if w < words {  // the text ends at a block's end: the last word is past it
            stops[w] = 0
        }
        stops[words - 1] |= 1 << 63
        return found
    }

    /// Rare (the probes matched in the block at `from`, whose bytes are at `at`): every name
    /// at every candidate.
    private func findNames<Probes: BlockProbes>(_ p: UnsafeBufferPointer<UInt8>, at: UnsafePointer<UInt8>, from: Int, _ probes: Probes,
                                                _ filter: CompiledFilter, _ found: inout [Int]) {
        var candidates: UInt64 = 0
        for k in 0..<4 {
            let v = UnsafeRawPointer(at + 16 * k).loadUnaligned(as: SkimBytes.Bytes.self)
            candidates |= SkimBytes.bitMask(probes.candidates(at + 16 * k, v)) << UInt64(16 * k)
        }
        while candidates != 0 {
            let s = from + candidates.trailingZeroBitCount
            candidates &= candidates - 1
            for name in filter.anywhere where s + name.count <= p.count {
                var m = 0
                while m < name.count && p[s + m] == name[m] { m += 1 }
                if m == name.count { found.append(s) }
            }
        }
    }
}

/// Where a block of `SkimMaps.build` may hold a name; `reach`: how many bytes past the
/// block's 64 `candidates` may read.
protocol BlockProbes {
    var reach: Int { get }
    /// Lanes (0xFF) of the 16 positions at `at` (whose bytes are `v`) where a name may start.
    func candidates(_ at: UnsafePointer<UInt8>, _ v: SkimBytes.Bytes) -> SkimBytes.Bytes
}

struct NoProbes: BlockProbes {
    var reach: Int { 1 }
    @inline(__always) func candidates(_ at: UnsafePointer<UInt8>, _ v: SkimBytes.Bytes) -> SkimBytes.Bytes { SkimBytes.Bytes(repeating: 0) }
}

/// Up to three names of 3...48 bytes, each as two of its bytes compared 16 positions at a
/// time: its second byte and its rarest byte after that (`rarity`), which rules out most
/// positions where the name does not start (the few left are checked in full).
struct AnywhereProbes: BlockProbes, Sendable {
    typealias Bytes = SkimBytes.Bytes
    let second: (Bytes, Bytes, Bytes)
    let rare: (Bytes, Bytes, Bytes)
    /// Offset of each name's rare byte.
    let rareAt: (Int, Int, Int)
    /// Bytes past a block's start the probes read.
    let reach: Int

    init?(_ names: [[UInt8]]) {
        guard (1...3).contains(names.count), names.allSatisfy({ (3...48).contains($0.count) }) else { return nil }
        // Missing slots repeat the first name.
        let slots = (0..<3).map { names[$0 < names.count ? $0 : 0] }
        let rareAt = slots.map { w in (2..<w.count).min { rarity(w[$0]) < rarity(w[$1]) }! }
        func splat(_ b: UInt8) -> Bytes { Bytes(repeating: Int8(bitPattern: b)) }
        second = (splat(slots[0][1]), splat(slots[1][1]), splat(slots[2][1]))
        rare = (splat(slots[0][rareAt[0]]), splat(slots[1][rareAt[1]]), splat(slots[2][rareAt[2]]))
        self.rareAt = (rareAt[0], rareAt[1], rareAt[2])
        reach = slots.map(\.count).max()!
    }

    @inline(__always) func candidates(_ at: UnsafePointer<UInt8>, _ v: Bytes) -> Bytes {
        let raw = UnsafeRawPointer(at)
        let next = raw.loadUnaligned(fromByteOffset: 1, as: Bytes.self)
        @inline(__always) func probe(_ s: Bytes, _ r: Bytes, _ rareAt: Int) -> Bytes {
            SkimBytes.equal(next, s) & SkimBytes.equal(raw.loadUnaligned(fromByteOffset: rareAt, as: Bytes.self), r)
        }
        return probe(second.0, rare.0, rareAt.0) | probe(second.1, rare.1, rareAt.1) | probe(second.2, rare.2, rareAt.2)
    }
}

/// The skimmer's byte classes, 16 bytes at a time with SIMD (portable: no target flags
/// needed; SSE2 on x86-64, NEON on arm64). Vector types are spelled out in full: with an
/// inferred `SIMD16(repeating:)` the comparisons compile to a slow per-lane loop.
enum SkimBytes {
    typealias Bytes = SIMD16<Int8>

    @inline(__always) static func equal(_ v: Bytes, _ c: Bytes) -> Bytes { unsafeBitCast(v .== c, to: Bytes.self) }

    /// Lanes of `v` whose byte (unsigned) is in lo...hi, as 0xFF (else 0).
    @inline(__always) static func inRange(_ v: Bytes, _ lo: UInt8, _ hi: UInt8) -> Bytes {
        let shifted = v &+ Bytes(repeating: Int8(bitPattern: 0x80 &- lo))
        return unsafeBitCast(shifted .< Bytes(repeating: Int8(truncatingIfNeeded: -128 + Int(hi - lo) + 1)), to: Bytes.self)
    }

    /// The stop map's bytes (see `SkimMaps.stops`).
    @inline(__always) static func codeStops(_ v: Bytes, next: Bytes) -> Bytes {
        // Control bytes and 0x7B...0xFF ({ | } ~ DEL, non-ASCII) in one signed comparison.
        let outer = unsafeBitCast((v &+ Bytes(repeating: 5)) .< Bytes(repeating: 0x25), to: Bytes.self)
        // A dot matters only before a digit (a number) or a dot ("..." must not be taken
        // as a number's start); '/' before one is a harmless extra.
        let dots = equal(v, Bytes(repeating: 0x2E)) & inRange(next, 0x2E, 0x39)
        return outer | inRange(v, 0x21, 0x29) | dots | inRange(v, 0x2F, 0x39) | inRange(v, 0x5B, 0x5D)
            | equal(v, Bytes(repeating: 0x3F)) | equal(v, Bytes(repeating: 0x60))
    }

    /// ' " \\ LF CR.
    @inline(__always) static func stringStops(_ v: Bytes) -> Bytes {
        equal(v, Bytes(repeating: Int8(QUOTE1))) | equal(v, Bytes(repeating: Int8(QUOTE2))) | equal(v, Bytes(repeating: Int8(BACKSLASH)))
            | equal(v, Bytes(repeating: Int8(LF))) | equal(v, Bytes(repeating: Int8(CR)))
    }

    /// Bit k set for each lane k that is 0xFF (lanes are 0 or 0xFF).
    @inline(__always) static func bitMask(_ lanes: Bytes) -> UInt64 {
        let halves = unsafeBitCast(lanes & Bytes(repeating: 1), to: SIMD2<UInt64>.self)
        // Bytes 0 or 1: the multiplication gathers byte k's bit into bit 56+k, no carries.
        let gather: UInt64 = 0x0102_0408_1020_4080
        let low = (UInt64(littleEndian: halves[0]) &* gather) &>> 56
        let high = (UInt64(littleEndian: halves[1]) &* gather) &>> 56
        return low | high &<< 8
    }

    /// The 64 bytes at `at` as a stop-map word, and whether a name may start among them.
    @inline(__always) static func classify<Probes: BlockProbes>(_ at: UnsafePointer<UInt8>, _ probes: Probes) -> (UInt64, Bool) {
        var code: UInt64 = 0
        var candidates = Bytes(repeating: 0)
        for k in 0..<4 {
            let v = UnsafeRawPointer(at + 16 &* k).loadUnaligned(as: Bytes.self)
            let next = UnsafeRawPointer(at + 16 &* k + 1).loadUnaligned(as: Bytes.self)
            code |= bitMask(codeStops(v, next: next)) &<< UInt64(16 &* k)
            candidates |= probes.candidates(at + 16 &* k, v)
        }
        return (code, any(candidates))
    }

    /// How many of the 16 bytes at `at` are spaces before the first other byte.
    @inline(__always) static func leadingSpaces(_ at: UnsafePointer<UInt8>) -> Int {
        let v = UnsafeRawPointer(at).loadUnaligned(as: Bytes.self)
        return firstLane(~equal(v, Bytes(repeating: Int8(SPACE))))
    }

    /// Length (0...16) of the run of name bytes [0-9A-Za-z_] the 16 bytes at `at` start with.
    @inline(__always) static func leadingNameBytes(_ at: UnsafePointer<UInt8>) -> Int {
        let v = UnsafeRawPointer(at).loadUnaligned(as: Bytes.self)
        let name = inRange(v | Bytes(repeating: 0x20), 0x61, 0x7A) | inRange(v, 0x30, 0x39) | equal(v, Bytes(repeating: 0x5F))
        return firstLane(~name)
    }

    /// Offset (0..<16) of the first LF or CR of the 16 bytes at `at`; 16: none.
    @inline(__always) static func firstLineBreak(_ at: UnsafePointer<UInt8>) -> Int {
        let v = UnsafeRawPointer(at).loadUnaligned(as: Bytes.self)
        return firstLane(equal(v, Bytes(repeating: Int8(LF))) | equal(v, Bytes(repeating: Int8(CR))))
    }

    /// Offset (0..<16) of the first ' " \\ LF or CR of the 16 bytes at `at`; 16: none.
    @inline(__always) static func firstStringStop(_ at: UnsafePointer<UInt8>) -> Int {
        firstLane(stringStops(UnsafeRawPointer(at).loadUnaligned(as: Bytes.self)))
    }

    /// Index of the first 0xFF lane (lanes are 0 or 0xFF); 16: none.
    @inline(__always) static func firstLane(_ lanes: Bytes) -> Int {
        let halves = unsafeBitCast(lanes, to: SIMD2<UInt64>.self)
        let low = UInt64(littleEndian: halves[0]), high = UInt64(littleEndian: halves[1])
        if low != 0 { return low.trailingZeroBitCount &>> 3 }
        if high != 0 { return 8 &+ high.trailingZeroBitCount &>> 3 }
        return 16
    }

    @inline(__always) static func any(_ lanes: Bytes) -> Bool {
        let halves = unsafeBitCast(lanes, to: SIMD2<UInt64>.self)
        return halves[0] | halves[1] != 0
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
