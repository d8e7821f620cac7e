/// The 3.12 (PEP 701) token form of f-strings: FSTRING_START, FSTRING_MIDDLE for literal
/// text, the tokens of each replacement field (with OP '{', '!', ':', '}'), FSTRING_END.
/// The extent of the string is found with the 3.11 rules, so both modes agree on where
/// an f-string ends; the field scan is confined to that extent.
extension TokenScanner {
    func isFString(_ start: Int, _ quoteAt: Int) -> Bool {
        var k = start
        while k < quoteAt {
            if p[k] | 0x20 == 0x66 { return true }
            k += 1
        }
        return false
    }

    /// End offset (after the closing quotes) of a string literal, or nil if unterminated.
    func stringEnd(_ quoteAt: Int) -> Int? {
        let q = p[quoteAt]
        let limit = n
        if quoteAt + 2 < limit && p[quoteAt + 1] == q && p[quoteAt + 2] == q {
            var i = quoteAt + 3
            while i < limit {
                if p[i] == 0x5C { i += 2; continue }
                if p[i] == q && i + 2 < limit && p[i + 1] == q && p[i + 2] == q { return i + 3 }
                i += 1
            }
            return nil
        }
        var i = quoteAt + 1
        while i < limit {
            let c = p[i]
            if c == 0x5C { i += 2; continue }
            if c == q { return i + 1 }
            if c == 0x0A || c == 0x0D { return nil }
            i += 1
        }
        return nil
    }

    mutating func scanFStringSplit(start: Int, quoteAt: Int) -> Bool {
        guard let end = stringEnd(quoteAt) else { return false }
        let q = p[quoteAt]
        let quoteLength = quoteAt + 2 < end - 1 && p[quoteAt + 1] == q && p[quoteAt + 2] == q && end - quoteAt >= 6 ? 3 : 1
        var raw = false
        for k in start..<quoteAt where p[k] | 0x20 == 0x72 { raw = true }
        let bodyStart = quoteAt + quoteLength
        let bodyEnd = end - quoteLength
        add(.fstringStart, start, bodyStart)
        let savedEnd = n
        let savedDepth = parenDepth
        let savedBrackets = brackets.count
        n = bodyEnd
        scanFStringMiddle(bodyStart, raw: raw, inSpec: false)
        n = savedEnd
        parenDepth = savedDepth
        if brackets.count > savedBrackets { brackets.removeSubrange(savedBrackets...) }
        add(.fstringEnd, bodyEnd, end)
        pos = end
        return true
    }

    /// Literal text and fields up to `n` (or, in a format spec, up to its closing '}').
    @discardableResult
    mutating func scanFStringMiddle(_ from: Int, raw: Bool, inSpec: Bool) -> Int {
        var k = from
        var literalStart = from
        func flush(_ scanner: inout TokenScanner, _ upTo: Int) {
            if upTo > literalStart { scanner.add(.fstringMiddle, literalStart, upTo) }
        }
        while k < n {
            let c = p[k]
            if c == 0x7B {
                if !inSpec && k + 1 < n && p[k + 1] == 0x7B { k += 2; continue }
                flush(&self, k)
                add(.op, k, k + 1)
                k = scanReplacementField(k + 1, raw: raw)
                literalStart = k
                continue
            }
            if c == 0x7D {
                if inSpec { flush(&self, k); return k }
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
                    while k < n && p[k] != 0x7D { k += 1 }
                }
                k += 2
                continue
            }
            k += 1
        }
        if k > n { k = n }
        flush(&self, k)
        return k
    }

    /// Tokens of `{...}` after the '{' at `from - 1`; returns the offset after the closing '}'.
    mutating func scanReplacementField(_ from: Int, raw: Bool) -> Int {
        var level = 0
        pos = from
        while pos < n {
            whitespaceStart = pos
            while pos < n && (p[pos] == 0x20 || p[pos] == 0x09 || p[pos] == 0x0C) { pos += 1 }
            guard pos < n else { break }
            let c = p[pos]
            switch c {
            case 0x0A, 0x0D:
                let e = afterNewline(pos)
                add(.nl, pos, min(e, n))
                pos = min(e, n)
            case 0x23:
                let e = endOfComment(pos)
                add(.comment, pos, e)
                pos = e
            case 0x7D where level == 0:
                add(.op, pos, pos + 1)
                return pos + 1
            case 0x3A where level == 0:
                add(.op, pos, pos + 1)
                let k = scanFStringMiddle(pos + 1, raw: raw, inSpec: true)
                if k < n && p[k] == 0x7D {
                    add(.op, k, k + 1)
                    return k + 1
                }
                diagnose("f-string: expecting '}'", k)
                return k
            case 0x21 where level == 0 && !(pos + 1 < n && p[pos + 1] == 0x3D):
                add(.op, pos, pos + 1)
                pos += 1
            case 0x5C:
                if pos + 1 < n && (p[pos + 1] == 0x0A || p[pos + 1] == 0x0D) {
                    pos = min(afterNewline(pos + 1), n)
                } else {
                    diagnose("unexpected character after line continuation character", pos)
                    add(.errorToken, pos, pos + 1)
                    pos += 1
                }
            case 0x27, 0x22:
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
