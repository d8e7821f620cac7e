#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// How the import skimmer passes over a line without making tokens: its first word, then
// stop by stop through the stop map, following the tokenizer's rules for strings,
// comments, numbers, brackets and continuations.

@inline(__always) func isASCIINameStart(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 || b == 0x5F }
/// [0-9A-Za-z_] as a bit map: bytes 0-63 in the first word (digits), 64-127 in the second.
@inline(__always) func isASCIINameContinue(_ b: UInt8) -> Bool {
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
