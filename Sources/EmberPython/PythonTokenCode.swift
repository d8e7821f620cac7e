/// Fine-grained token classification used by the parser (operators and keywords).
enum TokenCode: UInt8 {
    case name, number, string, newline, indent, dedent, endmarker, error
    case fstringStart, fstringMiddle, fstringEnd, exclamation
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


    /// Keyword or plain name; a switch on the first byte, no table (this runs per token).
    static func classifyName(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> TokenCode {
        let length = end - start
        guard length >= 2 && length <= 8 else { return .name }
        @inline(__always) func equals(_ word: StaticString) -> Bool {
            guard word.utf8CodeUnitCount == length else { return false }
            let w = word.utf8Start
            var k = 1
            while k < length {
                if w[k] != p[start + k] { return false }
                k += 1
            }
            return true
        }
        switch p[start] {
        case 0x46: return equals("False") ? .kwFalse : .name
        case 0x4E: return equals("None") ? .kwNone : .name
        case 0x54: return equals("True") ? .kwTrue : .name
        case 0x61:
            if equals("and") { return .kwAnd }
            if equals("as") { return .kwAs }
            if equals("assert") { return .kwAssert }
            if equals("async") { return .kwAsync }
            if equals("await") { return .kwAwait }
        case 0x62: return equals("break") ? .kwBreak : .name
        case 0x63:
            if equals("class") { return .kwClass }
            if equals("continue") { return .kwContinue }
        case 0x64:
            if equals("def") { return .kwDef }
            if equals("del") { return .kwDel }
        case 0x65:
            if equals("elif") { return .kwElif }
            if equals("else") { return .kwElse }
            if equals("except") { return .kwExcept }
        case 0x66:
            if equals("for") { return .kwFor }
            if equals("from") { return .kwFrom }
            if equals("finally") { return .kwFinally }
        case 0x67: return equals("global") ? .kwGlobal : .name
        case 0x69:
            if equals("if") { return .kwIf }
            if equals("in") { return .kwIn }
            if equals("is") { return .kwIs }
            if equals("import") { return .kwImport }
        case 0x6C: return equals("lambda") ? .kwLambda : .name
        case 0x6E:
            if equals("not") { return .kwNot }
            if equals("nonlocal") { return .kwNonlocal }
        case 0x6F: return equals("or") ? .kwOr : .name
        case 0x70: return equals("pass") ? .kwPass : .name
        case 0x72:
            if equals("return") { return .kwReturn }
            if equals("raise") { return .kwRaise }
        case 0x74: return equals("try") ? .kwTry : .name
        case 0x77:
            if equals("while") { return .kwWhile }
            if equals("with") { return .kwWith }
        case 0x79: return equals("yield") ? .kwYield : .name
        default: break
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
        case (0x21, 1): return .exclamation
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
