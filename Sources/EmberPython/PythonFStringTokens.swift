/// The 3.12 (PEP 701) token form of f-strings: FSTRING_START, FSTRING_MIDDLE for literal
/// text, the tokens of each replacement field (with OP '{', '!', ':', '}'), FSTRING_END.
/// As in 3.12, a replacement field is ordinary code: it may contain strings with the
/// same quote as the enclosing f-string, nested f-strings, line breaks and comments.
extension TokenScanner {
    /// f-strings nested in f-strings: CPython 3.12 stops at 150 levels (149 nested ones
    /// parse) with "too many nested f-strings".
    static let maxFStringNesting = 149
    /// Format specs nested in format specs (`{x:{y:{z}}}`): CPython's parser rejects more
    /// than two; the tokenizer stops recursing far beyond that.
    static let maxFormatSpecNesting = 200

    func isFString(_ start: Int, _ quoteAt: Int) -> Bool {
        var k = start
        while k < quoteAt {
            if p[k] | 0x20 == 0x66 { return true }
            k += 1
        }
        return false
    }

    @inline(__always) func isClosingQuote(_ k: Int, _ quote: UInt8, _ triple: Bool) -> Bool {
        p[k] == quote && (!triple || (k + 2 < n && p[k + 1] == quote && p[k + 2] == quote))
    }

    /// Always handles the f-string (returns true); unterminated ones get a diagnostic.
    mutating func scanFStringSplit(start: Int, quoteAt: Int) -> Bool {
        let quote = p[quoteAt]
        let triple = quoteAt + 2 < n && p[quoteAt + 1] == quote && p[quoteAt + 2] == quote
        let quoteLength = triple ? 3 : 1
        var raw = false
        for k in start..<quoteAt where p[k] | 0x20 == 0x72 { raw = true }
        add(.fstringStart, start, quoteAt + quoteLength)
        let savedDepth = parenDepth
        let savedBrackets = brackets.count
        let (stop, closed) = scanFStringMiddle(quoteAt + quoteLength, raw: raw, quote: quote, triple: triple, inSpec: false)
        parenDepth = savedDepth
        if brackets.count > savedBrackets { brackets.removeSubrange(savedBrackets...) }
        if closed {
            add(.fstringEnd, stop, stop + quoteLength)
            pos = stop + quoteLength
        } else {
            diagnose(triple ? "unterminated triple-quoted f-string literal" : "unterminated f-string literal", start,
                     detectedAt: max(min(stop, n - 1), 0))
            pos = stop
        }
        return true
    }

    /// Literal text and fields up to the closing quote (returns its offset and true), or in a
    /// format spec up to its closing '}' (offset of the '}', true). False: unterminated.
    mutating func scanFStringMiddle(_ from: Int, raw: Bool, quote: UInt8, triple: Bool, inSpec: Bool) -> (Int, Bool) {
        var k = from
        var literalStart = from
        func flush(_ scanner: inout TokenScanner, _ upTo: Int) {
            if upTo > literalStart { scanner.add(.fstringMiddle, literalStart, upTo) }
        }
        while k < n {
            let c = p[k]
            if isClosingQuote(k, quote, triple) {
                flush(&self, k)
                return (k, !inSpec)
            }
            if !triple && (c == 0x0A || c == 0x0D) {
                flush(&self, k)
                return (k, false)
            }
            if c == 0x7B {
                if !inSpec && k + 1 < n && p[k + 1] == 0x7B { k += 2; continue }
                if inSpec && (formatSpecNesting >= TokenScanner.maxFormatSpecNesting || stackExhausted()) {
                    // No deeper: the brace stays literal text of the spec (after a diagnostic).
                    diagnose("f-string: expressions nested too deeply", k)
                    k += 1
                    continue
                }
                flush(&self, k)
                add(.op, k, k + 1)
                k = scanReplacementField(k + 1, raw: raw, quote: quote, triple: triple)
                literalStart = k
                continue
            }
            if c == 0x7D {
                if inSpec { flush(&self, k); return (k, true) }
                if k + 1 < n && p[k + 1] == 0x7D { k += 2; continue }
                flush(&self, k)
                diagnose("f-string: single '}' is not allowed", k)
                add(.errorToken, k, k + 1)
                k += 1
                literalStart = k
                continue
            }
            if c == 0x5C && !raw {
                if k + 2 < n && p[k + 1] == 0x4E && p[k + 2] == 0x7B {  // \N{NAME}
                    k += 3
                    while k < n && p[k] != 0x7D && p[k] != 0x0A { k += 1 }
                    k += 1
                    continue
                }
                k += 2
                continue
            }
            k += 1
        }
        if k > n { k = n }
        flush(&self, k)
        return (k, false)
    }

    /// Tokens of `{...}` after the '{' at `from - 1`; returns the offset after the closing '}'.
    mutating func scanReplacementField(_ from: Int, raw: Bool, quote: UInt8, triple: Bool) -> Int {
        var level = 0
        pos = from
        while pos < n {
            whitespaceStart = pos
            while pos < n && (p[pos] == 0x20 || p[pos] == 0x09 || p[pos] == 0x0C) { pos += 1 }
            guard pos < n else { break }
            let c = p[pos]
            switch c {
            case 0x0A, 0x0D:
                if !triple && level == 0 {
                    // A line break ends a single-quoted f-string's field: unterminated.
                    diagnose("f-string: expecting '}'", from - 1)
                    return pos
                }
                let e = afterNewline(pos)
                add(.nl, pos, e)
                pos = e
            case 0x23:
                let e = endOfComment(pos)
                add(.comment, pos, e)
                pos = e
            case 0x7D where level == 0:
                add(.op, pos, pos + 1)
                return pos + 1
            case 0x3A where level == 0:
                add(.op, pos, pos + 1)
                formatSpecNesting += 1
                let (k, ok) = scanFStringMiddle(pos + 1, raw: raw, quote: quote, triple: triple, inSpec: true)
                formatSpecNesting -= 1
                if ok {
                    add(.op, k, k + 1)
                    return k + 1
                }
                diagnose("f-string: expecting '}'", from - 1)
                return k
            case 0x21 where level == 0 && !(pos + 1 < n && p[pos + 1] == 0x3D):
                add(.op, pos, pos + 1)
                pos += 1
            case 0x5C:
                if pos + 1 < n && (p[pos + 1] == 0x0A || p[pos + 1] == 0x0D) {
                    pos = afterNewline(pos + 1)
                } else {
                    diagnose("unexpected character after line continuation character", pos)
                    add(.errorToken, pos, pos + 1)
                    pos += 1
                }
            case 0x27, 0x22:
                if level == 0 && isClosingQuote(pos, quote, triple) && !triple {
                    // The enclosing string's quote right after an expression: the field is
                    // unterminated (3.12 would read a nested string only where one can start).
                    if let last = tokens.last, last.kind == .op || last.kind == .fstringMiddle {
                        scanString(start: pos, quoteAt: pos)
                        continue
                    }
                    diagnose("f-string: expecting '}'", from - 1)
                    return pos
                }
                scanString(start: pos, quoteAt: pos)
            case 0x30...0x39:
                scanNumber()
            case 0x2E where pos + 1 < n && p[pos + 1] &- 0x30 < 10:
                scanNumber()
            default:
                if c == 0x28 || c == 0x5B || c == 0x7B { level += 1 }
                if c == 0x29 || c == 0x5D || c == 0x7D { level -= 1 }
                if (c | 0x20) &- 0x61 < 26 || c == 0x5F || c >= 0x80 {
                    scanName()
                } else {
                    scanOperator(c)
                }
            }
        }
        diagnose("f-string: expecting '}'", max(from - 1, 0))
        return n
    }
}
