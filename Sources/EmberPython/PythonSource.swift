import EmberUtils

/// Why a file could not be decoded. `offset` is a byte offset into the original bytes.
public struct PythonSourceError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public var offset: Int

    public init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { "byte \(offset): \(message)" }
}

/// A Python source file: the bytes as read, plus their UTF-8 decoding used for analysis.
///
/// Decoding follows CPython (PEP 263 / `tokenize.detect_encoding`): a UTF-8 BOM, else a
/// `coding[:=]` cookie in a comment on line 1 or 2 (line 2 only when line 1 is blank or a
/// comment), else UTF-8. Line endings (LF, CRLF, lone CR, mixed) are kept as they are.
public struct PythonSource: Sendable {
    /// The bytes exactly as read.
    public let original: [UInt8]
    /// UTF-8 text used for analysis: `original` without the BOM, transcoded from the
    /// cookie's codec when it is not UTF-8. Token offsets index into this array.
    public let text: [UInt8]
    public let lineTable: LineTable
    /// Normalised codec name: "utf-8", "latin-1", "cp1252", "koi8-r", "gbk", "shift_jis", ...
    public let encoding: String
    /// True when `original` starts with the UTF-8 byte order mark (kept out of `text`).
    public let hasBOM: Bool

    /// Byte offset in `original` where `text` starts (3 with a BOM, else 0).
    public var textOffsetInOriginal: Int { hasBOM ? 3 : 0 }

    /// Largest text accepted: offsets are stored in 32 bits.
    public static let maximumSize = Int(Int32.max)

    /// `buildLineTable: false` leaves `lineTable` empty, for callers that only need the
    /// positions of a few offsets near the start and build a table over that prefix.
    public init(bytes: [UInt8], buildLineTable: Bool = true) throws(PythonSourceError) {
        guard bytes.count < PythonSource.maximumSize else {
            throw PythonSourceError(message: "file too large (\(bytes.count) bytes; the limit is \(PythonSource.maximumSize))", offset: 0)
        }
        original = bytes
        var body = bytes
        var bom = false
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF {
            bom = true
            body = Array(bytes[3...])
        }
        hasBOM = bom
        let cookie = try PythonSource.findCookie(body, base: bom ? 3 : 0)
        var codec = "utf-8"
        if let cookie {
            codec = try PythonSource.normalisedCodec(cookie.name, offset: cookie.offset)
            // CPython compares its `_get_normal_name` result, so "utf8" with a BOM is an error.
            let lower = String(cookie.name.lowercased().prefix(12)).replacingUnderscores()
            if bom && !(lower == "utf-8" || lower.hasPrefix("utf-8-")) {
                throw PythonSourceError(message: "encoding problem: utf-8 (a byte order mark contradicts the coding cookie '\(cookie.name)')", offset: cookie.offset)
            }
        }
        encoding = codec
        switch codec {
        case "utf-8":
            if let bad = PythonSource.firstInvalidUTF8(body) {
                throw PythonSourceError(
                    message: "invalid UTF-8 byte 0x\(String(body[bad], radix: 16, uppercase: true)); declare the encoding with a '# -*- coding: NAME -*-' line or re-save as UTF-8",
                    offset: bad + (bom ? 3 : 0))
            }
            text = body
        case "latin-1":
            text = PythonSource.transcode(body) { UInt32($0) }
        default:
            if let iconvName = PythonMultiByteCodecs.iconvName(ofPython: codec) {
                switch PythonMultiByteCodecs.convert(body, from: iconvName, to: "UTF-8") {
                case .success(let utf8): text = utf8
                case .failure(.unavailable):
                    throw PythonSourceError(message: "encoding \(codec) is not available on this system (iconv)", offset: cookie?.offset ?? 0)
                case .failure(.invalid(let at)):
                    throw PythonSourceError(message: "'\(codec)' codec can't decode the bytes at this position", offset: at + (bom ? 3 : 0))
                }
                break
            }
            guard let table = PythonCodecTables.tables[codec] else {
                throw PythonSourceError(message: "unknown encoding: \(codec)", offset: cookie?.offset ?? 0)
            }
            for (i, b) in body.enumerated() where table[Int(b)] == 0xFFFF_FFFF {
                throw PythonSourceError(message: "'\(codec)' codec can't decode byte 0x\(String(b, radix: 16, uppercase: true))", offset: i)
            }
            text = PythonSource.transcode(body) { table[Int($0)] }
        }
        guard text.count < PythonSource.maximumSize else {
            throw PythonSourceError(message: "file too large once decoded (\(text.count) bytes; the limit is \(PythonSource.maximumSize))", offset: 0)
        }
        lineTable = buildLineTable ? LineTable(text) : LineTable([UInt8]())
    }

    /// Convenience for tests and tools that hold a String (always UTF-8, no cookie check).
    public init(utf8 string: String) throws(PythonSourceError) {
        try self.init(bytes: Array(string.utf8))
    }

    /// Re-encodes analysed UTF-8 text (for example after edits) into the file's own
    /// encoding, with the BOM when the original had one. Throws when a character cannot
    /// be represented in the codec.
    public func encode(text newText: [UInt8]) throws(PythonSourceError) -> [UInt8] {
        var out: [UInt8] = hasBOM ? [0xEF, 0xBB, 0xBF] : []
        if encoding == "utf-8" {
            out.append(contentsOf: newText)
            return out
        }
        if let iconvName = PythonMultiByteCodecs.iconvName(ofPython: encoding) {
            switch PythonMultiByteCodecs.convert(newText, from: "UTF-8", to: iconvName) {
            case .success(let bytes): return out + bytes
            case .failure(.unavailable):
                throw PythonSourceError(message: "encoding \(encoding) is not available on this system (iconv)", offset: 0)
            case .failure(.invalid(let at)):
                throw PythonSourceError(message: "a character cannot be encoded in \(encoding)", offset: at)
            }
        }
        var reverse: [UInt32: UInt8] = [:]
        if encoding == "latin-1" {
            for b in 0..<256 { reverse[UInt32(b)] = UInt8(b) }
        } else if let table = PythonCodecTables.tables[encoding] {
            for (b, s) in table.enumerated() where s != 0xFFFF_FFFF { reverse[s] = UInt8(b) }
        }
        var i = 0
        while i < newText.count {
            let (scalar, length) = PythonSource.decodeScalar(newText, at: i)
            guard let b = reverse[scalar] else {
                throw PythonSourceError(message: "character U+\(String(scalar, radix: 16, uppercase: true)) cannot be encoded in \(encoding)", offset: i)
            }
            out.append(b)
            i += length
        }
        return out
    }

    // MARK: - decoding helpers

    static func transcode(_ body: [UInt8], _ map: (UInt8) -> UInt32) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count + body.count / 8)
        for b in body {
            let s = map(b)
            if s < 0x80 {
                out.append(UInt8(s))
            } else if s < 0x800 {
                out.append(UInt8(0xC0 | (s >> 6)))
                out.append(UInt8(0x80 | (s & 0x3F)))
            } else {
                out.append(UInt8(0xE0 | (s >> 12)))
                out.append(UInt8(0x80 | ((s >> 6) & 0x3F)))
                out.append(UInt8(0x80 | (s & 0x3F)))
            }
        }
        return out
    }

    /// Decodes one scalar from valid UTF-8; returns (scalar, byte length).
    static func decodeScalar(_ t: [UInt8], at i: Int) -> (UInt32, Int) {
        let b0 = UInt32(t[i])
        if b0 < 0x80 { return (b0, 1) }
        if b0 < 0xE0, i + 1 < t.count { return (((b0 & 0x1F) << 6) | (UInt32(t[i + 1]) & 0x3F), 2) }
        if b0 < 0xF0, i + 2 < t.count {
            return (((b0 & 0x0F) << 12) | ((UInt32(t[i + 1]) & 0x3F) << 6) | (UInt32(t[i + 2]) & 0x3F), 3)
        }
        if i + 3 < t.count {
            return (((b0 & 0x07) << 18) | ((UInt32(t[i + 1]) & 0x3F) << 12) | ((UInt32(t[i + 2]) & 0x3F) << 6) | (UInt32(t[i + 3]) & 0x3F), 4)
        }
        return (0xFFFD, 1)
    }

    /// Index of the first byte that is not valid UTF-8 (strict: no overlongs, no
    /// surrogates, nothing above U+10FFFF), or nil.
    static func firstInvalidUTF8(_ t: [UInt8]) -> Int? {
        t.withUnsafeBufferPointer { p -> Int? in
            var i = 0
            let n = p.count
            let raw = UnsafeRawPointer(p.baseAddress)
            while i < n {
                // ASCII fast path: 32 bytes at a time, then eight.
                if let raw, i + 32 <= n,
                   (raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) | raw.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)
                    | raw.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self) | raw.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self))
                    & 0x8080_8080_8080_8080 == 0 {
                    i += 32
                    continue
                }
                if let raw, i + 8 <= n, raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                    i += 8
                    continue
                }
                let b = p[i]
                if b < 0x80 { i += 1; continue }
                var need = 0
                var lo: UInt8 = 0x80
                var hi: UInt8 = 0xBF
                switch b {
                case 0xC2...0xDF: need = 1
                case 0xE0: need = 2; lo = 0xA0
                case 0xE1...0xEC, 0xEE...0xEF: need = 2
                case 0xED: need = 2; hi = 0x9F
                case 0xF0: need = 3; lo = 0x90
                case 0xF1...0xF3: need = 3
                case 0xF4: need = 3; hi = 0x8F
                default: return i
                }
                if i + need >= n { return i }
                let c1 = p[i + 1]
                if c1 < lo || c1 > hi { return i }
                var k = 2
                while k <= need {
                    if p[i + k] & 0xC0 != 0x80 { return i }
                    k += 1
                }
                i += need + 1
            }
            return nil
        }
    }

    struct Cookie { var name: String; var offset: Int }

    /// PEP 263: `^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)` on line 1, or on line 2 when
    /// line 1 is blank or only a comment.
    static func findCookie(_ body: [UInt8], base: Int) throws(PythonSourceError) -> Cookie? {
        var lineStart = 0
        for lineIndex in 0..<2 {
            guard lineStart < body.count || lineIndex == 0 else { return nil }
            var lineEnd = lineStart
            while lineEnd < body.count && body[lineEnd] != 0x0A && body[lineEnd] != 0x0D { lineEnd += 1 }
            let line = body[lineStart..<lineEnd]
            if let cookie = cookie(in: line, base: base) { return cookie }
            // Line 2 is only consulted when line 1 is blank or a comment.
            var p = lineStart
            while p < lineEnd && (body[p] == 0x20 || body[p] == 0x09 || body[p] == 0x0C) { p += 1 }
            if p < lineEnd && body[p] != 0x23 { return nil }
            if lineEnd < body.count && body[lineEnd] == 0x0D && lineEnd + 1 < body.count && body[lineEnd + 1] == 0x0A {
                lineEnd += 1
            }
            lineStart = lineEnd + 1
        }
        return nil
    }

    static func cookie(in line: ArraySlice<UInt8>, base: Int) -> Cookie? {
        var p = line.startIndex
        while p < line.endIndex && (line[p] == 0x20 || line[p] == 0x09 || line[p] == 0x0C) { p += 1 }
        guard p < line.endIndex && line[p] == 0x23 else { return nil }
        let coding = Array("coding".utf8)
        var q = p + 1
        while q + 6 < line.endIndex {
            if line[q] == 0x63 && Array(line[q..<q + 6]) == coding && (line[q + 6] == 0x3A || line[q + 6] == 0x3D) {
                var s = q + 7
                while s < line.endIndex && (line[s] == 0x20 || line[s] == 0x09) { s += 1 }
                var e = s
                while e < line.endIndex {
                    let c = line[e]
                    let isWord = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D || c == 0x2E
                    if !isWord { break }
                    e += 1
                }
                if e > s {
                    return Cookie(name: String(decoding: line[s..<e], as: UTF8.self), offset: base + s)
                }
            }
            q += 1
        }
        return nil
    }

    /// CPython's `_get_normal_name` plus the alias table of the generated codecs.
    static func normalisedCodec(_ name: String, offset: Int) throws(PythonSourceError) -> String {
        let lower = String(name.lowercased().prefix(12)).replacingUnderscores()
        if lower == "utf-8" || lower.hasPrefix("utf-8-") || lower == "utf8" { return "utf-8" }
        for latin in ["latin-1", "iso-8859-1", "iso-latin-1"] where lower == latin || lower.hasPrefix(latin + "-") {
            return "latin-1"
        }
        let full = name.lowercased().replacingUnderscores()
        if ["latin1", "l1", "iso8859-1", "8859", "cp819", "latin"].contains(full) { return "latin-1" }
        if let canonical = PythonCodecTables.aliases[full] { return canonical }
        if let multiByte = PythonMultiByteCodecs.aliases[full] { return multiByte.python }
        throw PythonSourceError(message: "unknown encoding: \(name) (supported: utf-8, latin-1, common single-byte codecs such as cp1252 and koi8-r, and the East Asian gbk, gb2312, gb18030, big5, shift_jis, cp932, euc_jp, euc_kr, cp949)", offset: offset)
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String {
        String(String.UnicodeScalarView(unicodeScalars.map { $0 == "_" || $0 == " " ? "-" : $0 }))
    }
}
