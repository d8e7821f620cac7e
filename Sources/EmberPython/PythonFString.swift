/// f-string internals, 3.11 style: a JoinedStr whose literal runs (Constant) and
/// replacement fields (FormattedValue, with a JoinedStr format spec) carry the span of
/// the whole string, while the expressions inside carry their real spans. The
/// expression of `{expr}` is parsed as `(expr)` with the parentheses standing on the
/// braces, exactly as CPython 3.11 does (so `f"{a, b}"` gives a Tuple spanning the braces).
extension Parser {
    mutating func parseFStringParts(from firstToken: Int, to endToken: Int, start: Int) throws(ParseFailure) -> PythonNodeID {
        let end = lastEnd
        let mark = scratch.count
        var pendingLiteral = false
        for k in firstToken..<endToken {
            let t = toks[k]
            var p = t.start
            var isF = false, isRaw = false
            while text[p] != 0x27 && text[p] != 0x22 {
                let c = text[p] | 0x20
                if c == 0x66 { isF = true }
                if c == 0x72 { isRaw = true }
                p += 1
            }
            let quote = text[p]
            let quoteLength = p + 2 < t.end && text[p + 1] == quote && text[p + 2] == quote && t.end - p >= 6 ? 3 : 1
            let bodyStart = p + quoteLength
            let bodyEnd = t.end - quoteLength
            if !isF {
                if hasLiteralText(bodyStart, bodyEnd, raw: isRaw) { pendingLiteral = true }
                continue
            }
            try scanFStringBody(bodyStart, bodyEnd, raw: isRaw, token: t, spanStart: start, spanEnd: end,
                                pendingLiteral: &pendingLiteral, inSpec: false)
        }
        if pendingLiteral { push(make(.constant, start, scratch.count, end: end), .value) }
        return make(.joinedStr, start, mark, end: end)
    }

    func hasLiteralText(_ from: Int, _ to: Int, raw: Bool) -> Bool {
        var k = from
        while k < to {
            if !raw && text[k] == 0x5C && k + 1 < to && (text[k + 1] == 0x0A || text[k + 1] == 0x0D) {
                k += text[k + 1] == 0x0D && k + 2 < to && text[k + 2] == 0x0A ? 3 : 2
                continue
            }
            return true
        }
        return false
    }

    /// Scans literal text and `{...}` fields of an f-string body (or of a format spec).
    /// Returns the offset where scanning stopped (the closing '}' of a spec).
    @discardableResult
    mutating func scanFStringBody(_ from: Int, _ to: Int, raw: Bool, token: PTok, spanStart: Int, spanEnd: Int,
                                  pendingLiteral: inout Bool, inSpec: Bool) throws(ParseFailure) -> Int {
        var k = from
        while k < to {
            let c = text[k]
            if c == 0x7B {  // {
                if !inSpec && k + 1 < to && text[k + 1] == 0x7B { pendingLiteral = true; k += 2; continue }
                let (field, debug, next) = try parseReplacementField(k, to, raw: raw, token: token, spanStart: spanStart, spanEnd: spanEnd)
                // CPython 3.11 joins pending literal text and the "expr=" text into one Constant.
                if pendingLiteral || debug {
                    push(make(.constant, spanStart, scratch.count, end: spanEnd), .value)
                    pendingLiteral = false
                }
                push(field, .value)
                k = next
                continue
            }
            if c == 0x7D {  // }
                if inSpec { return k }
                if k + 1 < to && text[k + 1] == 0x7D { pendingLiteral = true; k += 2; continue }
                throw ParseFailure(message: "f-string: single '}' is not allowed", offset: token.lastLineOffset)
            }
            if c == 0x5C && !raw && k + 1 < to {
                let next = text[k + 1]
                if next == 0x7B || next == 0x7D {
                    // `\{`: the backslash is text (CPython warns), the brace opens or closes a field.
                    pendingLiteral = true
                    k += 1
                    continue
                }
                if next == 0x0A || next == 0x0D {
                    k += next == 0x0D && k + 2 < to && text[k + 2] == 0x0A ? 3 : 2
                    continue
                }
                if next == 0x4E && k + 2 < to && text[k + 2] == 0x7B {  // \N{NAME}
                    var e = k + 3
                    while e < to && text[e] != 0x7D { e += 1 }
                    pendingLiteral = true
                    k = e + 1
                    continue
                }
                pendingLiteral = true
                k += 2
                continue
            }
            pendingLiteral = true
            k += 1
        }
        if inSpec { throw ParseFailure(message: "f-string: expecting '}'", offset: token.lastLineOffset) }
        return k
    }

    /// `{expr[=][!conv][:spec]}` starting at the '{' at `brace`; returns the offset after '}'.
    mutating func parseReplacementField(_ brace: Int, _ to: Int, raw: Bool, token: PTok, spanStart: Int,
                                        spanEnd: Int) throws(ParseFailure) -> (PythonNodeID, Bool, Int) {
        // CPython 3.11 reads fields in format specs two levels deep: `{x:{y}}`, not `{x:{y:{z}}}`.
        if fstringSpecDepth >= 2 { throw ParseFailure(message: "f-string: expressions nested too deeply", offset: token.lastLineOffset) }
        try enter()
        defer { depth -= 1 }
        let scanned = FieldScan311(text, brace: brace, to: to)
        if let problem = scanned.problem { throw ParseFailure(message: problem, offset: token.lastLineOffset) }
        let exprEnd = scanned.exprEnd, debug = scanned.debug
        guard exprEnd >= 0 else { throw ParseFailure(message: "f-string: expecting '}'", offset: token.lastLineOffset) }
        var onlySpace = true
        for b in text[(brace + 1)..<exprEnd] where !(b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0C) { onlySpace = false }
        if onlySpace {
            // CPython 3.11's fstring_compile_expr: the character that ended the empty
            // expression names it when it is '!', ':' or '='.
            let end = text[exprEnd]
            if end == 0x21 || end == 0x3A || end == 0x3D {
                throw ParseFailure(message: "f-string: expression required before '\(Character(UnicodeScalar(end)))'", offset: token.lastLineOffset)
            }
            throw ParseFailure(message: "f-string: empty expression not allowed", offset: token.lastLineOffset)
        }
        let mark = scratch.count
        let value = try parseEmbeddedExpression(brace: brace, exprEnd: exprEnd, token: token)
        push(value, .value)
        var k = exprEnd
        if debug {
            k += 1
            while k < to && (text[k] == 0x20 || text[k] == 0x09) { k += 1 }
        }
        let (field, next) = try finishField(k, to, raw: raw, token: token, spanStart: spanStart, spanEnd: spanEnd, mark: mark)
        return (field, debug, next)
    }

    mutating func finishField(_ from: Int, _ to: Int, raw: Bool, token: PTok, spanStart: Int, spanEnd: Int,
                              mark: Int) throws(ParseFailure) -> (PythonNodeID, Int) {
        var k = from
        if k < to && text[k] == 0x21 {
            guard k + 1 < to, text[k + 1] == 0x72 || text[k + 1] == 0x73 || text[k + 1] == 0x61 else {
                throw ParseFailure(message: "f-string: invalid conversion character: expected 's', 'r', or 'a'", offset: token.lastLineOffset)
            }
            k += 2
        }
        if k < to && text[k] == 0x3A {
            let specMark = scratch.count
            var specLiteral = false
            // CPython 3.11 gives a format spec the span of its own string token, and so what it
            // contains when it is only text (`{x:02d}`); a spec with a field gives its parts
            // the span of the whole run of strings, as the f-string's other parts
            // (`a = "s" f"{x:>{w}}"`: the spec 1:8-1:19, its '>' and its field 1:4-1:19).
            fstringSpecDepth += 1
            defer { fstringSpecDepth -= 1 }
            k = try scanFStringBody(k + 1, to, raw: raw, token: token, spanStart: spanStart, spanEnd: spanEnd,
                                    pendingLiteral: &specLiteral, inSpec: true)
            let hasField = scratch.count > specMark
            if specLiteral {
                push(make(.constant, hasField ? spanStart : token.start, scratch.count, end: hasField ? spanEnd : token.end), .value)
            }
            let spec = make(.joinedStr, token.start, specMark, end: token.end)
            push(spec, .formatSpec)
        }
        guard k < to && text[k] == 0x7D else { throw ParseFailure(message: "f-string: expecting '}'", offset: token.lastLineOffset) }
        return (make(.formattedValue, spanStart, mark, end: spanEnd), k + 1)
    }

    /// Parses `text[brace+1..<exprEnd]` as `(expr)`, the parentheses standing on the
    /// brace and on `exprEnd`, with real offsets into the file.
    mutating func parseEmbeddedExpression(brace: Int, exprEnd: Int, token: PTok) throws(ParseFailure) -> PythonNodeID {
        var buffer: [UInt8] = [0x28]
        buffer += text[(brace + 1)..<exprEnd]
        buffer.append(0x29)
        let result = PythonTokenizer.tokenize(text: buffer, options: .init(targetVersion: .v3_11))  // a 3.11 f-string's field
        if !result.diagnostics.isEmpty {
            throw ParseFailure(message: "f-string: " + result.diagnostics[0].message, offset: token.lastLineOffset)
        }
        var sub: [PTok] = []
        buffer.withUnsafeBufferPointer { b in
            for t in result.tokens {
                let code: TokenCode
                switch t.kind {
                case .comment, .nl, .newline, .indent, .dedent, .endmarker: continue
                case .name: code = TokenCode.classifyName(b, t.start, t.end)
                case .number: code = .number
                case .string: code = .string
                case .op: code = TokenCode.classifyOperator(b, t.start, t.end)
                default: code = .error
                }
                sub.append(PTok(code: code, start: t.start + brace, end: t.end + brace, index: -2))
            }
        }
        sub.append(PTok(code: .endmarker, start: exprEnd + 1, end: exprEnd + 1, index: -2))
        let savedToks = toks
        let savedI = i
        let savedLastEnd = lastEnd
        let savedSpecDepth = fstringSpecDepth
        toks = sub
        i = 0
        fstringSpecDepth = 0  // an f-string in the field counts its specs afresh, as CPython 3.11
        defer {
            toks = savedToks
            i = savedI
            lastEnd = savedLastEnd
            fstringSpecDepth = savedSpecDepth
        }
        let value: PythonNodeID
        do throws(ParseFailure) {
            value = try parseParenthesized()
        } catch {
            throw ParseFailure(message: "f-string: " + error.message, offset: error.offset)  // the expression's own line
        }
        guard code == .endmarker else { throw ParseFailure(message: "f-string: invalid syntax", offset: token.lastLineOffset) }
        return value
    }
}

/// f-strings in the 3.12 token form (FSTRING_START ... FSTRING_END, PEP 701).
extension Parser {
    /// A run of adjacent STRING and f-string token groups: one JoinedStr.
    mutating func parseSplitFStrings() throws(ParseFailure) -> PythonNodeID {
        let start = startOffset
        let mark = scratch.count
        var literal: Range<Int>? = nil
        var anyTemplate = false, anyOther = false
        if target.hasTemplateStrings && mixesTemplateStrings() {
            // PEP 750: a t-string concatenates with t-strings only (this outranks bytes).
            throw ParseFailure(message: "cannot mix t-string literals with string or bytes literals", offset: start)
        }
        while code == .string || code == .fstringStart {
            let t = toks[i]
            var template = false
            if code == .fstringStart {
                for k in t.start..<t.end where text[k] | 0x20 == 0x74 { template = true }
            }
            if template { anyTemplate = true } else { anyOther = true }
            if anyTemplate && anyOther {
                // PEP 750: a t-string concatenates with t-strings only.
                throw ParseFailure(message: "cannot mix t-string literals with string or bytes literals", offset: start)
            }
            if code == .string {
                var k = t.start
                var isRaw = false
                while text[k] != 0x27 && text[k] != 0x22 {
                    if text[k] | 0x20 == 0x62 { throw ParseFailure(message: "cannot mix bytes and nonbytes literals", offset: start) }
                    if text[k] | 0x20 == 0x72 { isRaw = true }
                    k += 1
                }
                if !isRaw { try checkEscapes(t, quoteAt: k, bytes: false, fString: false) }
                let quoteLength = k + 2 < t.end && text[k + 1] == text[k] && text[k + 2] == text[k] && t.end - k >= 6 ? 3 : 1
                if t.end - k > 2 * quoteLength { literal = extend(literal, t.start..<t.end) }
                advance()
                continue
            }
            var raw = false
            for k in t.start..<t.end where text[k] | 0x20 == 0x72 { raw = true }
            let outer = (fstringRaw, inTemplate, inTemplateLiteral, fstringSpecDepth)
            fstringRaw = raw
            inTemplate = template
            inTemplateLiteral = template
            fstringSpecDepth = 0  // each f-string counts its own spec levels
            advance()
            try parseSplitFStringBody(inSpec: false, literal: &literal)
            (fstringRaw, inTemplate, inTemplateLiteral, fstringSpecDepth) = outer
            guard code == .fstringEnd else { throw failure("\(stringWord): expecting '}'") }
            advance()
        }
        flushLiteral(&literal)
        return make(anyTemplate ? .templateStr : .joinedStr, start, mark)
    }

    /// Whether the run of adjacent strings from here holds t-strings and other strings.
    func mixesTemplateStrings() -> Bool {
        var j = i, nesting = 0
        var template = false, other = false
        while j < toks.count {
            let t = toks[j]
            switch t.code {
            case .fstringStart:
                if nesting == 0 {
                    var isTemplate = false
                    for k in t.start..<t.end where text[k] | 0x20 == 0x74 { isTemplate = true }
                    if isTemplate { template = true } else { other = true }
                }
                nesting += 1
            case .fstringEnd:
                nesting -= 1
            case .string where nesting == 0:
                other = true
            default:
                if nesting == 0 { return template && other }
            }
            j += 1
        }
        return template && other
    }

    func extend(_ r: Range<Int>?, _ piece: Range<Int>) -> Range<Int> {
        guard let r else { return piece }
        return r.lowerBound..<piece.upperBound
    }

    mutating func flushLiteral(_ literal: inout Range<Int>?) {
        guard let r = literal else { return }
        push(make(.constant, r.lowerBound, scratch.count, end: r.upperBound), .value)
        literal = nil
    }

    /// Middles and fields up to FSTRING_END, or up to the '}' closing a format spec.
    mutating func parseSplitFStringBody(inSpec: Bool, literal: inout Range<Int>?) throws(ParseFailure) {
        while true {
            switch code {
            case .fstringMiddle:
                // CPython's zero-width FSTRING_MIDDLE (an empty or nested format spec) makes no
                // Constant, except in 3.12 after a field in a spec (`f"{x:{w}}"`: an empty one).
                let t = toks[i]
                if t.end > t.start || (target == .v3_12 && inSpec && i > 0 && toks[i - 1].code == .rbrace) {
                    literal = extend(literal, t.start..<t.end)
                    if !fstringRaw, let problem = LiteralCheck.firstProblem(text, from: t.start, to: t.end, bytes: false) {
                        throw ParseFailure(message: problem, offset: t.start)
                    }
                }
                advance()
            case .lbrace:
                let (field, debug) = try parseSplitField()
                if let debug { literal = extend(literal, debug) }
                flushLiteral(&literal)
                push(field, .value)
            case .fstringEnd where !inSpec:
                return
            case .rbrace where inSpec:
                return
            default:
                throw failure(inSpec ? "\(stringWord): expecting '}', or format specs" : "\(stringWord): expecting '}'")
            }
        }
    }

    /// `{expr[=][!conv][:spec]}`; also returns the span of "expr=" for a debug field.
    mutating func parseSplitField() throws(ParseFailure) -> (PythonNodeID, Range<Int>?) {
        // CPython 3.12+ reads fields in format specs three levels deep (`{x:{y:{z}}}`, not one more).
        if fstringSpecDepth >= 3 { throw failure("\(stringWord): expressions nested too deeply") }
        try enter()
        defer { depth -= 1 }
        let start = startOffset
        let mark = scratch.count
        advance()
        // CPython 3.12+'s invalid_replacement_field rules, in their order.
        switch code {
        case .equal: throw failure("\(stringWord): valid expression required before '='")
        case .exclamation: throw failure("\(stringWord): valid expression required before '!'")
        case .colon: throw failure("\(stringWord): valid expression required before ':'")
        case .rbrace: throw failure("\(stringWord): valid expression required before '}'")
        default: break
        }
        if !startsExpression { throw failure("\(stringWord): expecting a valid expression after '{'") }
        let value = try parseSplitFieldValue()
        push(value, .value)
        // Two expressions side by side in the field's brackets (CPython's invalid_expression);
        // where its rule skips them, the field's own message below.
        if startsSecondExpression, let problem = missingCommaFailure(after: value) { throw problem }
        return try parseSplitFieldRest(start: start, mark: mark)
    }

    // The field's parts in frames of their own: parseSplitField is on the stack once per
    // nested f-string.
    @inline(never)
    mutating func parseSplitFieldValue() throws(ParseFailure) -> PythonNodeID {
        code == .kwYield ? try parseYield() : try parseStarExpressions()
    }

    @inline(never)
    mutating func parseSplitFieldRest(start: Int, mark: Int) throws(ParseFailure) -> (PythonNodeID, Range<Int>?) {
        var debug: Range<Int>? = nil
        switch code {
        case .equal, .exclamation, .colon, .rbrace: break
        default: throw failure("\(stringWord): expecting '=', or '!', or ':', or '}'")
        }
        if code == .equal {
            // "expr=" and the spaces after it (`f'{x=  }'`: "x=  "), up to the next token.
            advance()
            debug = (start + 1)..<startOffset
            switch code {
            case .exclamation, .colon, .rbrace: break
            default: throw failure("\(stringWord): expecting '!', or ':', or '}'")
            }
        }
        if code == .exclamation {
            let mark = toks[i].end
            advance()
            switch code {
            case .colon, .rbrace: throw failure("\(stringWord): missing conversion character")
            case .name: break
            default: throw failure("\(stringWord): invalid conversion character")
            }
            let name = toks[i]
            if name.start != mark {
                // CPython's own spelling.
                throw failure("\(stringWord): conversion type must come right after the exclamanation mark")
            }
            guard name.end - name.start == 1, [0x72, 0x73, 0x61].contains(text[name.start]) else {
                let written = String(decoding: UnsafeBufferPointer(rebasing: text[name.start..<name.end]), as: UTF8.self)
                throw failure("\(stringWord): invalid conversion character '\(written)': expected 's', 'r', or 'a'")
            }
            advance()
            switch code {
            case .colon, .rbrace: break
            default: throw failure("\(stringWord): expecting ':' or '}'")
            }
        }
        if code == .colon {
            // CPython 3.12 spans a spec from its ':' to the end of its last token.
            let specStart = toks[i].start
            advance()
            let specMark = scratch.count
            var specLiteral: Range<Int>? = nil
            // A spec is a JoinedStr of FormattedValues, in a t-string's Interpolation too.
            let template = inTemplate
            inTemplate = false
            fstringSpecDepth += 1
            defer {
                inTemplate = template
                fstringSpecDepth -= 1
            }
            try parseSplitFStringBody(inSpec: true, literal: &specLiteral)
            flushLiteral(&specLiteral)
            push(make(.joinedStr, specStart, specMark, end: lastEnd), .formatSpec)
        }
        guard code == .rbrace else { throw failure("\(stringWord): expecting '}'") }
        advance()
        return (make(inTemplate ? .interpolation : .formattedValue, start, mark), debug)
    }
}

/// CPython 3.11's reading of a replacement field's expression, from the '{' at `brace`:
/// where the expression ends (at its '}', or a top-level '!', ':' or debug '='), whether
/// it ended at a debug '=', and the first thing 3.11 refuses inside it (a backslash, even
/// in a string, or a '#'), where the scan stops. The parser and the full tree dump share it.
struct FieldScan311 {
    /// -1 when the field does not end before `to`.
    var exprEnd = -1
    var debug = false
    var problem: String?

    init<Text: RandomAccessCollection<UInt8>>(_ text: Text, brace: Int, to: Int) where Text.Index == Int {
        var k = brace + 1
        var level = 0
        scan: while k < to {
            let c = text[k]
            switch c {
            case 0x27, 0x22:  // a string inside the expression
                let q = c
                let triple = k + 2 < to && text[k + 1] == q && text[k + 2] == q
                k += triple ? 3 : 1
                while k < to {
                    if text[k] == 0x5C {  // 3.11: not even in a string of the expression
                        problem = "f-string expression part cannot include a backslash"
                        return
                    }
                    if text[k] == q && (!triple || (k + 2 < to && text[k + 1] == q && text[k + 2] == q)) {
                        k += triple ? 3 : 1
                        break
                    }
                    k += 1
                }
                continue scan
            case 0x28, 0x5B, 0x7B: level += 1
            case 0x29, 0x5D: level -= 1
            case 0x7D:
                if level == 0 { exprEnd = k; break scan }
                level -= 1
            case 0x5C:
                problem = "f-string expression part cannot include a backslash"
                return
            case 0x23:
                problem = "f-string expression part cannot include '#'"
                return
            case 0x21 where level == 0 && !(k + 1 < to && text[k + 1] == 0x3D):  // ! not !=
                exprEnd = k
                break scan
            case 0x3A where level == 0:  // :
                exprEnd = k
                break scan
            case 0x3D where level == 0:  // = (debug) unless part of ==, <=, >=, !=
                let next: UInt8 = k + 1 < to ? text[k + 1] : 0
                let prev = text[k - 1]
                if next == 0x3D { k += 2; continue scan }
                if prev == 0x3D || prev == 0x21 || prev == 0x3C || prev == 0x3E { break }
                exprEnd = k
                debug = true
                break scan
            default: break
            }
            k += 1
        }
    }
}
