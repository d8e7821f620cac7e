/// The 3.12 (PEP 701) token form of f-strings, and 3.14's template strings (PEP 750):
/// FSTRING_START, FSTRING_MIDDLE for literal text, the tokens of each replacement field
/// (with OP '{', '!', ':', '}'), FSTRING_END (TSTRING_* for t-strings). As in CPython's
/// tokenizer, a replacement field is ordinary code: strings with the same quote as the
/// enclosing f-string, nested f-strings, line breaks and comments.
///
/// FSTRING_MIDDLE tokens split where CPython's do: after a doubled brace (`{{`, `}}`: our
/// token keeps both braces, CPython's the first only, so the text stays lossless), after a
/// `\N{...}` escape, and a format spec's literal part ends in a zero-width FSTRING_MIDDLE
/// when it is empty (`f"{x:}"`, `f"{x:{w}}"`).
extension TokenScanner {
    /// f-strings nested in f-strings: CPython 3.12 stops at 150 levels (149 nested ones
    /// parse) with "too many nested f-strings".
    static let maxFStringNesting = 149
    /// Format specs nested in format specs (`{x:{y:{z}}}`): the tokenizer stops recursing
    /// far beyond what the parser accepts.
    static let maxFormatSpecNesting = 200

    /// Whether the prefix `start..<quoteAt` makes an f-string (or, from 3.14, a t-string)
    /// that this target splits; and whether it is a t-string.
    func splitStringKind(_ start: Int, _ quoteAt: Int) -> (split: Bool, template: Bool) {
        var k = start
        var split = false, template = false
        while k < quoteAt {
            let c = p[k] | 0x20
            if c == 0x66 { split = true }
            if c == 0x74 { split = true; template = true }
            k += 1
        }
        return (split, template)
    }

    @inline(__always) func isClosingQuote(_ k: Int, _ quote: UInt8, _ triple: Bool) -> Bool {
        p[k] == quote && (!triple || (k + 2 < n && p[k + 1] == quote && p[k + 2] == quote))
    }

    /// Always handles the f-string (returns true); unterminated ones get a diagnostic.
    mutating func scanFStringSplit(start: Int, quoteAt: Int, template: Bool) -> Bool {
        let quote = p[quoteAt]
        let triple = quoteAt + 2 < n && p[quoteAt + 1] == quote && p[quoteAt + 2] == quote
        let quoteLength = triple ? 3 : 1
        var raw = false
        for k in start..<quoteAt where p[k] | 0x20 == 0x72 { raw = true }
        add(template ? .tstringStart : .fstringStart, start, quoteAt + quoteLength)
        let saved = (parenDepth, brackets.count, enclosingQuote, enclosingTriple, inTemplate)
        enclosingQuote = quote
        enclosingTriple = triple
        inTemplate = template
        let (stop, closed) = scanFStringMiddle(quoteAt + quoteLength, raw: raw, quote: quote, triple: triple, inSpec: false)
        enclosingQuote = saved.2
        enclosingTriple = saved.3
        inTemplate = saved.4
        if closed {
            parenDepth = saved.0
            if brackets.count > saved.1 { brackets.removeSubrange(saved.1...) }
            add(template ? .tstringEnd : .fstringEnd, stop, stop + quoteLength)
            pos = stop + quoteLength
        } else {
            if stop >= n && brackets.count > saved.1 {
                // A field open at the end of the text: CPython reports "'{' was never closed".
                parenDepth = saved.0
                brackets.removeSubrange((saved.1 + 1)...)
            } else {
                parenDepth = saved.0
                if brackets.count > saved.1 { brackets.removeSubrange(saved.1...) }
                let what = template ? "t-string" : "f-string"
                diagnose(triple ? "unterminated triple-quoted \(what) literal" : "unterminated \(what) literal", start,
                         detectedAt: max(min(stop, n - 1), 0))
            }
            pos = stop
        }
        return true
    }

    /// Literal text and fields up to the closing quote (returns its offset and true), or in a
    /// format spec up to its closing '}' (offset of the '}', true). False: unterminated.
    mutating func scanFStringMiddle(_ from: Int, raw: Bool, quote: UInt8, triple: Bool, inSpec: Bool) -> (Int, Bool) {
        var k = from
        var literalStart = from
        let middle: PythonTokenKind = inTemplate ? .tstringMiddle : .fstringMiddle
        while k < n {
            let c = p[k]
            if c == quote && isClosingQuote(k, quote, triple) {
                if k > literalStart { add(middle, literalStart, k) }
                return (k, !inSpec)
            }
            if !triple && (c == LF || c == CR) {
                if inSpec && options.targetVersion.forbidsLineBreaksInSingleQuotedFormatSpecs {
                    diagnose("\(stringWord): newlines are not allowed in format specifiers for single quoted \(stringWord)s", k)
                }
                // In a spec, CPython ends the spec's text here (zero-width when empty) and
                // reads on as code: `f'{x:\n}'` is valid, `f'{x:a\nb}'` a parse error.
                if k > literalStart || inSpec { add(middle, literalStart, k) }
                return (k, false)
            }
            if c == 0x7B {  // {
                let doubled = k + 1 < n && p[k + 1] == 0x7B
                if doubled && !inSpec {
                    add(middle, literalStart, k + 2)
                    k += 2
                    literalStart = k
                    continue
                }
                if formatSpecNesting >= TokenScanner.maxFormatSpecNesting || stackExhausted() {
                    // No deeper: the brace stays literal text (after a diagnostic).
                    diagnose("\(stringWord): expressions nested too deeply", k)
                    k += 1
                    continue
                }
                // CPython emits the literal before a field, even an empty one in a spec
                // unless the field opens the spec's text.
                if k > literalStart || (inSpec && doubled) { add(middle, literalStart, k) }
                add(.op, k, k + 1)
                brackets.append((0x7B, k))
                parenDepth += 1
                k = scanReplacementField(k + 1, raw: raw, quote: quote, triple: triple)
                literalStart = k
                continue
            }
            if c == 0x7D {  // }
                if inSpec {
                    add(middle, literalStart, k)  // zero-width when the spec's text is empty
                    return (k, true)
                }
                if k + 1 < n && p[k + 1] == 0x7D {
                    add(middle, literalStart, k + 2)
                    k += 2
                    literalStart = k
                    continue
                }
                if k > literalStart { add(middle, literalStart, k) }
                diagnose("\(stringWord): single '}' is not allowed", k)
                add(.errorToken, k, k + 1)
                k += 1
                literalStart = k
                continue
            }
            if c == BACKSLASH {
                guard k + 1 < n else { k += 1; continue }
                let next = p[k + 1]
                if next == 0x7B || next == 0x7D {
                    // `\{`: the backslash is text, the brace opens or closes a field.
                    k += 1
                    continue
                }
                if !raw && next == 0x4E && k + 2 < n && p[k + 2] == 0x7B {  // \N{NAME}: the middle ends after it
                    var e = k + 3
                    while e < n && p[e] != 0x7D && p[e] != 0x7B && !(p[e] == quote && isClosingQuote(e, quote, triple))
                        && (triple || (p[e] != LF && p[e] != CR)) { e += 1 }
                    if e < n && p[e] == 0x7D {
                        add(middle, literalStart, e + 1)
                        k = e + 1
                        literalStart = k
                    } else {
                        k = e
                    }
                    continue
                }
                k += next == CR && k + 2 < n && p[k + 2] == LF ? 3 : 2
                continue
            }
            k += 1
        }
        if k > n { k = n }
        if k > literalStart { add(middle, literalStart, k) }
        return (k, false)
    }

    /// Tokens of `{...}` after the '{' at `from - 1`; returns the offset after the closing
    /// '}', or where the field stopped (an unterminated f-string: its closing quote, a line
    /// break ending a single-quoted one, or the end of the text).
    mutating func scanReplacementField(_ from: Int, raw: Bool, quote: UInt8, triple: Bool) -> Int {
        var level = 0
        let bracketMark = brackets.count
        pos = from
        while pos < n {
            whitespaceStart = pos
            while pos < n && (p[pos] == SPACE || p[pos] == TAB || p[pos] == FF) { pos += 1 }
            guard pos < n else { break }
            let c = p[pos]
            switch c {
            case LF, CR:
                let e = afterNewline(pos)
                add(.nl, pos, e)
                pos = e
            case HASH:
                let e = endOfComment(pos)
                add(.comment, pos, e)
                pos = e
            case 0x7D where level == 0:  // } closes the field
                add(.op, pos, pos + 1)
                if brackets.count > bracketMark - 1 && bracketMark > 0 { brackets.removeSubrange((bracketMark - 1)...) }
                parenDepth -= 1
                return pos + 1
            case 0x3A where level == 0:  // : opens the format spec
                add(.op, pos, pos + 1)
                formatSpecNesting += 1
                let (k, ok) = scanFStringMiddle(pos + 1, raw: raw, quote: quote, triple: triple, inSpec: true)
                formatSpecNesting -= 1
                if ok {
                    add(.op, k, k + 1)
                    if bracketMark > 0 && brackets.count >= bracketMark { brackets.removeSubrange((bracketMark - 1)...) }
                    parenDepth -= 1
                    return k + 1
                }
                if k < n && (p[k] == LF || p[k] == CR) && !triple {
                    // A line break in a single-quoted f-string's spec: the field goes on as code.
                    pos = k
                    continue
                }
                if k < n {
                    // The f-string's closing quote inside the spec (CPython's parser then
                    // expects the field's '}' or more of the spec).
                    diagnose("\(stringWord): expecting '}', or format specs", k)
                }
                return k
            case 0x21 where !(pos + 1 < n && p[pos + 1] == 0x3D):  // ! (not !=)
                add(.op, pos, pos + 1)
                pos += 1
            case BACKSLASH:
                if pos + 1 < n && (p[pos + 1] == LF || p[pos + 1] == CR) {
                    pos = afterNewline(pos + 1)
                } else {
                    diagnose("unexpected character after line continuation character", pos)
                    add(.errorToken, pos, pos + 1)
                    pos += 1
                }
            case QUOTE1, QUOTE2:
                scanString(start: pos, quoteAt: pos)
                if fieldAborted {
                    fieldAborted = false
                    return pos
                }
            case 0x30...0x39:
                scanNumber()
            case 0x2E where pos + 1 < n && p[pos + 1] &- 0x30 < 10:
                scanNumber()
            default:
                if c == 0x28 || c == 0x5B || c == 0x7B { level += 1 }
                if c == 0x29 || c == 0x5D || c == 0x7D {
                    if level == 0 {
                        // A closer with no opener in the field: `f"{)}"`.
                        diagnose("\(stringWord): unmatched '\(String(UnicodeScalar(c)))'", pos)
                        add(.errorToken, pos, pos + 1)
                        pos += 1
                        continue
                    }
                    level -= 1
                }
                if isNameStartByte(c) {
                    scanName()
                    if fieldAborted {
                        fieldAborted = false
                        return pos
                    }
                } else {
                    scanOperator(c)
                }
            }
        }
        return n
    }
}
