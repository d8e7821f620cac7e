#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The checks CPython makes when it decodes a string or bytes literal (every version):
/// `\x`, `\u`, `\U` escapes with too few hex digits, `\U` beyond U+10FFFF, malformed or
/// unknown `\N{...}` names; in bytes, `\x` with too few digits. Messages and positions are
/// CPython's: a position counts the literal's text from its opening quote (or, in an
/// f-string, from its literal part), a non-ASCII character as 10 (CPython re-encodes them
/// as `\UXXXXXXXX` before decoding).
enum LiteralCheck {
    /// The first problem in the escapes of `text[from..<to]` (a non-raw literal's text),
    /// or nil. `fString`: the text is an f-string's body in 3.11's form, whose replacement
    /// fields (`{...}`) are skipped and whose literal parts count positions on their own.
    static func firstProblem(_ text: UnsafeBufferPointer<UInt8>, from: Int, to: Int, bytes: Bool, fString: Bool = false) -> String? {
        // Fast path: no backslash, nothing to check.
        guard to > from, let base = text.baseAddress, memchr(base + from, 0x5C, to - from) != nil else { return nil }
        var k = from
        var partStart = from
        var adjust = 0  // a non-ASCII scalar since partStart counts 10, not its byte length
        var depth = 0
        func position(_ offset: Int) -> Int { offset - partStart + adjust }
        while k < to {
            let c = text[k]
            if fString {
                if c == 0x7B {  // {
                    if depth == 0 && k + 1 < to && text[k + 1] == 0x7B { k += 2; continue }
                    depth += 1
                    k += 1
                    continue
                }
                if c == 0x7D && depth > 0 {  // }
                    depth -= 1
                    k += 1
                    if depth == 0 {
                        partStart = k
                        adjust = 0
                    }
                    continue
                }
                if depth > 0 { k += 1; continue }
            }
            if c >= 0xC0 {
                // A lead byte: one scalar, counted 10.
                var e = k + 1
                while e < to && text[e] & 0xC0 == 0x80 { e += 1 }
                adjust += 10 - (e - k)
                k = e
                continue
            }
            guard c == 0x5C, k + 1 < to else { k += 1; continue }
            let start = position(k)
            let kind = text[k + 1]
            if fString && (kind == 0x7B || kind == 0x7D) { k += 1; continue }  // `\{`: the brace is the field's
            if bytes {
                if kind == 0x78 {  // \x
                    var digits = 0
                    while digits < 2 && k + 2 + digits < to && isHex(text[k + 2 + digits]) { digits += 1 }
                    if digits < 2 { return "(value error) invalid \\x escape at position \(start)" }
                }
                k += 2
                continue
            }
            switch kind {
            case 0x78, 0x75, 0x55:  // \x \u \U
                let want = kind == 0x78 ? 2 : kind == 0x75 ? 4 : 8
                var digits = 0
                var value: UInt32 = 0
                while digits < want && k + 2 + digits < to && isHex(text[k + 2 + digits]) {
                    value = value &* 16 &+ UInt32(hexValue(text[k + 2 + digits]))
                    digits += 1
                }
                let end = position(k + 2 + digits) - 1
                if digits < want {
                    let form = kind == 0x78 ? "\\xXX" : kind == 0x75 ? "\\uXXXX" : "\\UXXXXXXXX"
                    return unicodeError(start, end, "truncated \(form) escape")
                }
                if kind == 0x55 && value > 0x10FFFF { return unicodeError(start, end, "illegal Unicode character") }
                k += 2 + digits
            case 0x4E:  // \N{NAME}
                var s = k + 2
                guard s < to && text[s] == 0x7B else { return unicodeError(start, position(s) - 1, "malformed \\N character escape") }
                s += 1
                let nameStart = s
                while s < to && text[s] != 0x7D { s += 1 }
                if s >= to || s == nameStart {
                    return unicodeError(start, position(s) - 1, "malformed \\N character escape")
                }
                if !UnicodeNames.isKnown(text, nameStart, s) {
                    return unicodeError(start, position(s), "unknown Unicode character name")
                }
                k = s + 1
            default:
                k += 2
            }
        }
        return nil
    }

    private static func unicodeError(_ start: Int, _ end: Int, _ what: String) -> String {
        "(unicode error) 'unicodeescape' codec can't decode bytes in position \(start)-\(end): \(what)"
    }

    @inline(__always) private static func isHex(_ b: UInt8) -> Bool { b &- 0x30 < 10 || (b | 0x20) &- 0x61 < 6 }
    @inline(__always) private static func hexValue(_ b: UInt8) -> UInt8 { b &- 0x30 < 10 ? b &- 0x30 : (b | 0x20) &- 0x61 &+ 10 }
}

/// Unicode character names for `\N{...}` (case-insensitive, as CPython): Swift's names and
/// the aliases of NameAliases.txt. Built on first use: the common planes first (about
/// 20,000 scalars, a few milliseconds), everything else only for a name not found there.
enum UnicodeNames {
    static func isKnown(_ text: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Bool {
        value(text, from, to) != nil
    }

    /// The scalar `text[from..<to]` names (case-insensitive), or nil.
    static func value(_ text: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> UInt32? {
        var name = ""
        name.reserveCapacity(to - from)
        for k in from..<to {
            let b = text[k]
            if b >= 0x80 { return nil }  // names are ASCII
            name.unicodeScalars.append(Unicode.Scalar(b &- 0x61 < 26 ? b - 0x20 : b))
        }
        if let v = common[name] { return v }
        if name.hasPrefix("CJK UNIFIED IDEOGRAPH-") || name.hasPrefix("CJK COMPATIBILITY IDEOGRAPH-") {
            let hex = name.split(separator: "-").last.map(String.init) ?? ""
            if let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value), scalar.properties.name == name {
                return value
            }
            return nil
        }
        return everything[name]
    }

    private static func table(_ ranges: [ClosedRange<UInt32>]) -> [String: UInt32] {
        var out: [String: UInt32] = [:]
        for range in ranges {
            for v in range {
                guard let s = Unicode.Scalar(v), let name = s.properties.name else { continue }
                out[name] = v
            }
        }
        for (alias, v) in pythonNameAliases { out[alias] = v }
        return out
    }

    /// Latin to CJK symbols, Yi to Hangul Jamo, and the presentation forms: no ideographs,
    /// no Hangul syllables, no private use.
    static let common: [String: UInt32] = table([0x0000...0x33FF, 0xA000...0xABFF, 0xD7B0...0xD7FF, 0xF900...0xFFFF])
    static let everything: [String: UInt32] = table([0x0000...0x10FFFF])
}
