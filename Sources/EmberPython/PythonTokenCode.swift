/// Fine-grained token classification used by the parser (operators and keywords).
enum TokenCode: UInt8 {
    case name, number, string, newline, indent, dedent, endmarker, error
    // operators
    case lpar, rpar, lsqb, rsqb, lbrace, rbrace, colon, comma, semi, plus, minus, star, slash, vbar, amper
    case less, greater, equal, dot, percent, eqEqual, notEqual, lessEqual, greaterEqual, tilde, circumflex
    case leftShift, rightShift, doubleStar, plusEqual, minusEqual, starEqual, slashEqual, percentEqual
    case amperEqual, vbarEqual, circumflexEqual, leftShiftEqual, rightShiftEqual, doubleStarEqual
    case doubleSlash, doubleSlashEqual, at, atEqual, rarrow, ellipsis, colonEqual
    // hard keywords
    case kwFalse, kwNone, kwTrue, kwAnd, kwAs, kwAssert, kwAsync, kwAwait, kwBreak, kwClass, kwContinue
    case kwDef, kwDel, kwElif, kwElse, kwExcept, kwFinally, kwFor, kwFrom, kwGlobal, kwIf, kwImport
    case kwIn, kwIs, kwLambda, kwNonlocal, kwNot, kwOr, kwPass, kwRaise, kwReturn, kwTry, kwWhile
    case kwWith, kwYield

    var isAugmentedAssign: Bool { rawValue >= TokenCode.plusEqual.rawValue && rawValue <= TokenCode.doubleSlashEqual.rawValue && self != .doubleSlash || self == .atEqual }

    static let keywords: [(String, TokenCode)] = [
        ("False", .kwFalse), ("None", .kwNone), ("True", .kwTrue), ("and", .kwAnd), ("as", .kwAs),
        ("assert", .kwAssert), ("async", .kwAsync), ("await", .kwAwait), ("break", .kwBreak), ("class", .kwClass),
        ("continue", .kwContinue), ("def", .kwDef), ("del", .kwDel), ("elif", .kwElif), ("else", .kwElse),
        ("except", .kwExcept), ("finally", .kwFinally), ("for", .kwFor), ("from", .kwFrom), ("global", .kwGlobal),
        ("if", .kwIf), ("import", .kwImport), ("in", .kwIn), ("is", .kwIs), ("lambda", .kwLambda),
        ("nonlocal", .kwNonlocal), ("not", .kwNot), ("or", .kwOr), ("pass", .kwPass), ("raise", .kwRaise),
        ("return", .kwReturn), ("try", .kwTry), ("while", .kwWhile), ("with", .kwWith), ("yield", .kwYield),
    ]

    /// Keywords grouped by length for a quick byte comparison.
    static let keywordsByLength: [[([UInt8], TokenCode)]] = {
        var table = [[([UInt8], TokenCode)]](repeating: [], count: 9)
        for (word, code) in keywords { table[word.utf8.count].append((Array(word.utf8), code)) }
        return table
    }()

    static func classifyName(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> TokenCode {
        let length = end - start
        guard length >= 2 && length <= 8 else { return .name }
        let first = p[start]
        for (word, code) in keywordsByLength[length] where word[0] == first {
            var k = 1
            while k < length && word[k] == p[start + k] { k += 1 }
            if k == length { return code }
        }
        return .name
    }

    static func classifyOperator(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> TokenCode {
        let a = p[start]
        let length = end - start
        let b: UInt8 = length > 1 ? p[start + 1] : 0
        switch (a, length) {
        case (0x28, _): return .lpar
        case (0x29, _): return .rpar
        case (0x5B, _): return .lsqb
        case (0x5D, _): return .rsqb
        case (0x7B, _): return .lbrace
        case (0x7D, _): return .rbrace
        case (0x3A, 1): return .colon
        case (0x3A, _): return .colonEqual
        case (0x2C, _): return .comma
        case (0x3B, _): return .semi
        case (0x2B, 1): return .plus
        case (0x2B, _): return .plusEqual
        case (0x2D, 1): return .minus
        case (0x2D, _): return b == 0x3E ? .rarrow : .minusEqual
        case (0x2A, 1): return .star
        case (0x2A, 2): return b == 0x2A ? .doubleStar : .starEqual
        case (0x2A, _): return .doubleStarEqual
        case (0x2F, 1): return .slash
        case (0x2F, 2): return b == 0x2F ? .doubleSlash : .slashEqual
        case (0x2F, _): return .doubleSlashEqual
        case (0x7C, 1): return .vbar
        case (0x7C, _): return .vbarEqual
        case (0x26, 1): return .amper
        case (0x26, _): return .amperEqual
        case (0x3C, 1): return .less
        case (0x3C, 2): return b == 0x3C ? .leftShift : .lessEqual
        case (0x3C, _): return .leftShiftEqual
        case (0x3E, 1): return .greater
        case (0x3E, 2): return b == 0x3E ? .rightShift : .greaterEqual
        case (0x3E, _): return .rightShiftEqual
        case (0x3D, 1): return .equal
        case (0x3D, _): return .eqEqual
        case (0x21, _): return .notEqual
        case (0x2E, 1): return .dot
        case (0x2E, _): return .ellipsis
        case (0x25, 1): return .percent
        case (0x25, _): return .percentEqual
        case (0x7E, _): return .tilde
        case (0x5E, 1): return .circumflex
        case (0x5E, _): return .circumflexEqual
        case (0x40, 1): return .at
        case (0x40, _): return .atEqual
        default: return .error
        }
    }
}
