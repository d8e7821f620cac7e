import EmberUtils
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

/// A syntax error at an absolute byte offset of the input.
struct JSONSyntaxError: Error {
    var offset: Int
    var message: String
}

/// A pull reader over a JSON file read in fixed-size chunks: the importers walk the
/// document and keep only what they need (the samples), never a tree of the whole file.
/// Numbers are parsed exactly (Clinger's fast path, Eisel–Lemire, else strtod), so values equal
/// Python's `json` module's.
final class JSONStream {
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Valid bytes are buffer[position..<end]; buffer[0] is at absolute offset `base`.
    private var position = 0
    private var end = 0
    private var base = 0
    private var eof = false
    private let fd: Int32
    private let ownsFD: Bool
    /// In-memory input (tests): no file.
    private let fixed: [UInt8]?

    static let chunk = 1 << 20

    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw BenchError("cannot read \(path): \(String(cString: strerror(errno)))") }
        var st = stat()
        if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw BenchError("cannot read \(path): it is a directory")
        }
        self.fd = fd
        ownsFD = true
        fixed = nil
        capacity = Self.chunk
        buffer = .allocate(capacity: capacity)
    }

    init(bytes: [UInt8]) {
        fd = -1
        ownsFD = false
        fixed = bytes
        capacity = max(bytes.count, 1)
        buffer = .allocate(capacity: capacity)
        bytes.withUnsafeBufferPointer { b in
            if let p = b.baseAddress { buffer.update(from: p, count: b.count) }
        }
        end = bytes.count
        eof = true
    }

    deinit {
        buffer.deallocate()
        if ownsFD { close(fd) }
    }

    /// Absolute offset of the next unread byte.
    var offset: Int { base + position }

    func fail(_ message: String, at: Int? = nil) -> JSONSyntaxError { JSONSyntaxError(offset: at ?? offset, message: message) }

    /// Reads more input, keeping buffer[keepFrom...] (moved to the front). False at EOF.
    @discardableResult
    private func fill(keepFrom keep: Int) throws -> Bool {
        if eof { return false }
        let kept = end - keep
        if keep > 0 {
            if kept > 0 { memmove(buffer, buffer + keep, kept) }
            base += keep
            position -= keep
            end = kept
        }
        if end == capacity {
            let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
            bigger.update(from: buffer, count: end)
            buffer.deallocate()
            buffer = bigger
            capacity *= 2
        }
        while true {
            let n = read(fd, buffer + end, capacity - end)
            if n > 0 {
                end += n
                return true
            }
            if n == 0 {
                eof = true
                return false
            }
            if errno != EINTR { throw JSONSyntaxError(offset: offset, message: "read error: \(String(cString: strerror(errno)))") }
        }
    }

    /// The next non-whitespace byte without consuming it; nil at the end of input.
    @inline(__always)
    func peek() throws -> UInt8? {
        while true {
            while position < end {
                let b = buffer[position]
                if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 {
                    position += 1
                } else {
                    return b
                }
            }
            if !(try fill(keepFrom: position)) { return nil }
        }
    }

    @inline(__always)
    func expect(_ byte: UInt8, _ what: String) throws {
        guard let b = try peek() else { throw fail("unexpected end of input, expected \(what)") }
        guard b == byte else { throw fail("expected \(what), found \(describe(b))") }
        position += 1
    }

    func describe(_ b: UInt8) -> String {
        if b >= 0x21 && b < 0x7F { return "'\(Character(UnicodeScalar(b)))'" }
        return String.printf("byte 0x%02X", b)
    }

    /// The kind of the next value, for messages ("a string", "an array", ...).
    func kindOfNext() throws -> String {
        guard let b = try peek() else { return "the end of input" }
        switch b {
        case UInt8(ascii: "\""): return "a string"
        case UInt8(ascii: "{"): return "an object"
        case UInt8(ascii: "["): return "an array"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return "a boolean"
        case UInt8(ascii: "n"): return "null"
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return "a number"
        default: return "an invalid value"
        }
    }

    // MARK: structure

    func beginObject() throws { try expect(UInt8(ascii: "{"), "'{'") }
    func beginArray() throws { try expect(UInt8(ascii: "["), "'['") }

    /// Before the first member: `first` is true. Returns the next key, or nil at '}'.
    func nextKey(first: inout Bool) throws -> String? {
        guard let b = try peek() else { throw fail("unexpected end of input inside an object") }
        if b == UInt8(ascii: "}") {
            position += 1
            return nil
        }
        if !first {
            guard b == UInt8(ascii: ",") else { throw fail("expected ',' or '}' in an object, found \(describe(b))") }
            position += 1
        }
        first = false
        guard try peek() == UInt8(ascii: "\"") else { throw fail("expected a string key in an object") }
        let key = try readString()
        try expect(UInt8(ascii: ":"), "':' after a key")
        return key
    }

    /// True when another element follows, false at ']'.
    func nextElement(first: inout Bool) throws -> Bool {
        guard let b = try peek() else { throw fail("unexpected end of input inside an array") }
        if b == UInt8(ascii: "]") {
            position += 1
            return false
        }
        if !first {
            guard b == UInt8(ascii: ",") else { throw fail("expected ',' or ']' in an array, found \(describe(b))") }
            position += 1
            guard let next = try peek(), next != UInt8(ascii: "]") else { throw fail("a value must follow ','") }
        }
        first = false
        return true
    }

    // MARK: scalars

    func readString() throws -> String {
        try expect(UInt8(ascii: "\""), "'\"'")
        var start = position
        var escaped: [UInt8]? = nil
        while true {
            if position >= end {
                let keep = start
                let had = position - keep
                if !(try fill(keepFrom: keep)) { throw fail("unterminated string") }
                start = position - had
            }
            let b = buffer[position]
            if b == UInt8(ascii: "\"") {
                let bytes = UnsafeBufferPointer(start: buffer + start, count: position - start)
                position += 1
                if var e = escaped {
                    e.append(contentsOf: bytes)
                    return String(decoding: e, as: UTF8.self)
                }
                return String(decoding: bytes, as: UTF8.self)
            }
            if b < 0x20 { throw fail("control character in a string") }
            if b == UInt8(ascii: "\\") {
                var e = escaped ?? []
                e.append(contentsOf: UnsafeBufferPointer(start: buffer + start, count: position - start))
                position += 1
                try readEscape(into: &e)
                escaped = e
                start = position
                continue
            }
            position += 1
        }
    }

    private func nextRawByte() throws -> UInt8 {
        if position >= end, !(try fill(keepFrom: position)) { throw fail("unterminated string") }
        let b = buffer[position]
        position += 1
        return b
    }

    private func readEscape(into out: inout [UInt8]) throws {
        let c = try nextRawByte()
        switch c {
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "/"): out.append(0x2F)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800..<0xDC00).contains(scalar) {
                guard try nextRawByte() == UInt8(ascii: "\\"), try nextRawByte() == UInt8(ascii: "u") else {
                    scalar = 0xFFFD
                    break
                }
                let low = try hex4()
                scalar = (0xDC00..<0xE000).contains(low) ? 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00) : 0xFFFD
            } else if (0xDC00..<0xE000).contains(scalar) {
                scalar = 0xFFFD
            }
            out.append(contentsOf: Array(String(UnicodeScalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8))
        default:
            throw fail("invalid escape \\\(describe(c)) in a string", at: offset - 1)
        }
    }

    private func hex4() throws -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = try nextRawByte()
            let d: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw fail("invalid \\u escape", at: offset - 1)
            }
            v = v * 16 + d
        }
        return v
    }

    /// Ensures the whole number token starting at `position` is in the buffer; returns its end.
    @inline(__always)
    private func numberEnd() throws -> Int {
        var i = position
        while true {
            while i < end {
                let b = buffer[i]
                let isNumberByte =
                    (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: ".") || b == UInt8(ascii: "-")
                    || b == UInt8(ascii: "+") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E")
                if !isNumberByte { return i }
                i += 1
            }
            let had = i - position
            if !(try fill(keepFrom: position)) { return position + had }
            i = position + had
        }
    }

    static let exactPowers: [Double] = (0...22).map { CMath.pow(10, Double($0)) }

    /// 5^q for q in -27...27 as 128 bits (high, low), normalised (top bit set): exact for
    /// q ≥ 0; 2^b / 5^-q rounded up for q < 0, with b = 127 + bit width of 5^-q (as
    /// fast_float's table).
    static let powersOfFive128: [(UInt64, UInt64)] = (-27...27).map { q in
        if q >= 0 {
            var p: UInt64 = 1
            for _ in 0..<q { p *= 5 }
            return (p << UInt64(p.leadingZeroBitCount), 0)
        }
        var p: UInt64 = 1
        for _ in 0..<(-q) { p *= 5 }
        // 2^b = 2^(z-1) · 2^128 with z the bit width of p; 2^(z-1) < p: long division.
        let z = 64 - p.leadingZeroBitCount
        let top: UInt64 = 1 << UInt64(z - 1)
        let (q1, r1) = p.dividingFullWidth((high: top, low: 0))
        let (q0, _) = p.dividingFullWidth((high: r1, low: 0))
        let (low, carry) = q0.addingReportingOverflow(1)
        return (q1 &+ (carry ? 1 : 0), low)
    }

    /// The double nearest to `w` × 10^`q` (w ≠ 0 exactly as read, -27 ≤ q ≤ 27) by the
    /// Eisel–Lemire algorithm as fast_float has it (a 64 × 128-bit product; with the full
    /// 128 bits it is exact over this range, Mushtak and Lemire); nil outside the range.
    @inline(__always)
    static func eiselLemire(_ w: UInt64, _ q: Int) -> Double? {
        guard q >= -27 && q <= 27 else { return nil }
        let (powerHigh, powerLow) = powersOfFive128[q + 27]
        let lz = w.leadingZeroBitCount
        let wn = w << UInt64(lz)
        var (high, low) = wn.multipliedFullWidth(by: powerHigh)
        if high & 0x1FF == 0x1FF {
            let (secondHigh, _) = wn.multipliedFullWidth(by: powerLow)
            let (sum, overflow) = low.addingReportingOverflow(secondHigh)
            low = sum
            if overflow { high &+= 1 }
        }
        let upperbit = Int(high >> 63)
        let shift = UInt64(upperbit + 64 - 52 - 3)
        var mantissa = high >> shift
        var power2 = ((((152_170 + 65_536) * q) >> 16) + 63) + upperbit - lz + 1023
        if power2 <= 0 { return nil }
        // Exactly halfway: round to even, not up.
        if low <= 1 && q >= -4 && q <= 23 && mantissa & 3 == 1 && (mantissa << shift) == high {
            mantissa &= ~UInt64(1)
        }
        mantissa += mantissa & 1
        mantissa >>= 1
        if mantissa >= (UInt64(2) << 52) {
            mantissa = UInt64(1) << 52
            power2 += 1
        }
        mantissa &= ~(UInt64(1) << 52)
        if power2 >= 0x7FF { return nil }
        return Double(bitPattern: mantissa | (UInt64(power2) << 52))
    }

    /// Bytes after the first byte of a number that `readNumber` wants in the buffer to read
    /// it in one pass (a longer token takes the two-pass way).
    static let numberWindow = 64

    func readNumber() throws -> Double { try number(convert: true) }

    /// `readNumber`; with `convert` false the token is only checked (the value is 0).
    @inline(__always)
    private func number(convert: Bool) throws -> Double {
        guard try peek() != nil else { throw fail("expected a value") }
        // One pass over the buffer when the token surely ends inside it; else (a token
        // near the end of the buffer, or longer than the window) find its end first.
        while end - position < Self.numberWindow && !eof {
            if !(try fill(keepFrom: position)) { break }
        }
        if let (x, stop) = try scanNumber(from: position, limit: end, whole: eof, convert: convert) {
            position = stop
            return x
        }
        // numberEnd may refill (moving the buffer): read `position` after it.
        let stop = try numberEnd()
        let start = position
        if stop == start { throw fail("expected a value") }
        guard let (x, at) = try scanNumber(from: start, limit: stop, whole: true, convert: convert) else { throw fail("invalid number", at: base + start) }
        if at != stop { throw fail("invalid number", at: base + start) }
        position = stop
        return x
    }

    /// Eight ASCII digits at `p` (any alignment) as their value; nil unless all are digits.
    @inline(__always)
    static func eightDigits(_ p: UnsafePointer<UInt8>) -> UInt64? {
        let v = UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
        let a = v &- 0x3030_3030_3030_3030
        // A byte below '0' borrows or sets bit 7 in `a`; above '9' sets bit 7 in v + 0x46.
        if ((v &+ 0x4646_4646_4646_4646) | a) & 0x8080_8080_8080_8080 != 0 { return nil }
        // Pairs, then quadruples, then all eight (the first digit is the lowest byte).
        let mask: UInt64 = 0x0000_00FF_0000_00FF
        let mul1: UInt64 = 0x000F_4240_0000_0064  // 100 + (1_000_000 << 32)
        let mul2: UInt64 = 0x0000_2710_0000_0001  // 1 + (10_000 << 32)
        let pairs = (a &* 10) &+ (a >> 8)
        let low = (pairs & mask) &* mul1
        let high = ((pairs >> 16) & mask) &* mul2
        return ((low &+ high) >> 32) & 0xFFFF_FFFF
    }

    /// Parses the number token at buffer[start...], reading no byte at or past `limit`.
    /// Returns the value and the token's end; nil when the token may go on past `limit`
    /// (`whole` false: more input follows). Throws for a malformed token.
    @inline(__always)
    private func scanNumber(from start: Int, limit stop: Int, whole: Bool, convert: Bool) throws -> (Double, Int)? {
        let p = buffer
        var i = start
        var negative = false
        if i < stop && p[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        var mantissa: UInt64 = 0
        /// Significant digits seen; past 19 they are dropped (the value goes to strtod).
        var digits = 0
        var exponent = 0
        let intStart = i
        while i < stop, p[i] &- UInt8(ascii: "0") < 10 {
            if digits < 19 {
                mantissa = mantissa &* 10 &+ UInt64(p[i] &- UInt8(ascii: "0"))
                if mantissa != 0 { digits += 1 }
            } else {
                exponent += 1
                digits += 1
            }
            i += 1
        }
        var valid = i > intStart && !(p[intStart] == UInt8(ascii: "0") && i - intStart > 1)
        if i < stop && p[i] == UInt8(ascii: ".") {
            i += 1
            let fracStart = i
            // Eight digits at a time while they fit (≤ 19 significant digits in all).
            while stop - i >= 8 && digits <= 11, let chunk = Self.eightDigits(p + i) {
                let before = mantissa
                mantissa = mantissa &* 100_000_000 &+ chunk
                if before != 0 {
                    digits += 8
                } else if chunk != 0 {
                    var d = 1
                    var c = chunk
                    while c >= 10 {
                        c /= 10
                        d += 1
                    }
                    digits = d
                }
                exponent -= 8
                i += 8
            }
            while i < stop, p[i] &- UInt8(ascii: "0") < 10 {
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(p[i] &- UInt8(ascii: "0"))
                    if mantissa != 0 { digits += 1 }
                    exponent -= 1
                } else {
                    digits += 1
                }
                i += 1
            }
            if i == fracStart { valid = false }
        }
        if i < stop && (p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E")) {
            i += 1
            var expNegative = false
            if i < stop && (p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-")) {
                expNegative = p[i] == UInt8(ascii: "-")
                i += 1
            }
            let expStart = i
            var e = 0
            while i < stop, p[i] &- UInt8(ascii: "0") < 10 {
                if e < 100_000 { e = e * 10 + Int(p[i] &- UInt8(ascii: "0")) }
                i += 1
            }
            if i == expStart { valid = false }
            exponent += expNegative ? -e : e
        }
        if i == stop && !whole { return nil }
        if i < stop {
            let b = p[i]
            let numberByte =
                b &- UInt8(ascii: "0") < 10 || b == UInt8(ascii: ".") || b == UInt8(ascii: "-") || b == UInt8(ascii: "+")
                || b == UInt8(ascii: "e") || b == UInt8(ascii: "E")
            if numberByte { valid = false }
        }
        if !valid { throw fail("invalid number", at: base + start) }
        if !convert { return (0, i) }
        return (Self.convert(mantissa: mantissa, digits: digits, exponent: exponent, negative: negative, token: p + start, length: i - start), i)
    }

    /// The double nearest to ±mantissa × 10^exponent (`digits` significant digits were
    /// read, mantissa holds the first 19), exactly as strtod rounds the token.
    @inline(__always)
    static func convert(
        mantissa: UInt64, digits: Int, exponent: Int, negative: Bool, token: UnsafePointer<UInt8>, length: Int
    ) -> Double {
        // Clinger's fast path: an exact mantissa and an exact power of ten.
        if digits <= 15 && mantissa < (1 << 53) && exponent >= -22 && exponent <= 22 {
            var v = Double(mantissa)
            if exponent < 0 { v /= Self.exactPowers[-exponent] } else { v *= Self.exactPowers[exponent] }
            return negative ? -v : v
        }
        if mantissa == 0 { return negative ? -0.0 : 0 }
        // Up to 19 digits (all of them read) and |exponent| ≤ 27: Eisel–Lemire. Python's
        // repr writes 16–17 digits: this is the path of most hyperfine and pytest times.
        if digits <= 19, let v = eiselLemire(mantissa, exponent) { return negative ? -v : v }
        // Everything else: glibc's correctly rounded strtod on a copy of the token.
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { tmp in
            for k in 0..<length { tmp[k] = CChar(bitPattern: token[k]) }
            tmp[length] = 0
            return strtod(tmp.baseAddress!, nil)
        }
    }

    func readLiteral(_ word: StaticString) throws {
        let bytes = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        _ = try peek()
        let at = offset
        for b in bytes {
            if position >= end, !(try fill(keepFrom: position)) { throw fail("unexpected end of input", at: at) }
            guard buffer[position] == b else { throw fail("invalid literal", at: at) }
            position += 1
        }
    }

    /// true/false; nil when the next value is not a boolean (nothing consumed).
    func readBool() throws -> Bool? {
        switch try peek() {
        case UInt8(ascii: "t"):
            try readLiteral("true")
            return true
        case UInt8(ascii: "f"):
            try readLiteral("false")
            return false
        default: return nil
        }
    }

    /// Consumes a null; false (nothing consumed) when the next value is not null.
    func readNull() throws -> Bool {
        guard try peek() == UInt8(ascii: "n") else { return false }
        try readLiteral("null")
        return true
    }

    /// Skips one value of any kind.
    func skipValue(depth: Int = 0) throws {
        if depth > 512 { throw fail("nesting too deep") }
        guard let b = try peek() else { throw fail("unexpected end of input, expected a value") }
        switch b {
        case UInt8(ascii: "{"):
            position += 1
            var first = true
            while try nextKey(first: &first) != nil { try skipValue(depth: depth + 1) }
        case UInt8(ascii: "["):
            position += 1
            var first = true
            while try nextElement(first: &first) { try skipValue(depth: depth + 1) }
        case UInt8(ascii: "\""): _ = try readString()
        case UInt8(ascii: "t"): try readLiteral("true")
        case UInt8(ascii: "f"): try readLiteral("false")
        case UInt8(ascii: "n"): try readLiteral("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try skipNumber()
        default: throw fail("unexpected \(describe(b))")
        }
    }

    /// A number that is not needed (exit codes, means): checked for its shape, not converted.
    func skipNumber() throws {
        let stop = try numberEnd()
        let start = position
        var i = start
        if buffer[i] == UInt8(ascii: "-") { i += 1 }
        let digitsStart = i
        while i < stop, buffer[i] >= UInt8(ascii: "0"), buffer[i] <= UInt8(ascii: "9") { i += 1 }
        if i == digitsStart { throw fail("invalid number", at: base + start) }
        if i == stop {
            if buffer[digitsStart] == UInt8(ascii: "0") && i - digitsStart > 1 { throw fail("invalid number", at: base + start) }
            position = stop
            return
        }
        // Fractions and exponents: the full check, no conversion.
        _ = try number(convert: false)
    }

    /// After the top-level value: only whitespace may follow.
    func expectEnd() throws {
        if let b = try peek() { throw fail("unexpected \(describe(b)) after the JSON document") }
    }
}
