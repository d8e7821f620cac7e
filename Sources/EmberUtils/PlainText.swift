// Small text helpers in place of Foundation's (String(format:), range(of:),
// trimmingCharacters, replacingOccurrences): with them a module needs FoundationEssentials
// at most, which keeps Foundation's internationalization layer and ICU's data out of the
// tools' binaries.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension String {
    /// printf's formatting of numbers (`%d`, `%.3f`, `%02X`, `%%`; not `%s` or `%@`), as
    /// `String(format:)` without Foundation.
    package static func printf(_ format: String, _ arguments: CVarArg...) -> String {
        var buffer = [CChar](repeating: 0, count: 128)
        while true {
            let n = withVaList(arguments) { list in
                buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress!, $0.count, format, list) }
            }
            guard n >= 0 else { return format }
            if Int(n) < buffer.count {
                return String(decoding: buffer[..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            buffer = [CChar](repeating: 0, count: Int(n) + 1)
        }
    }

    /// `value` with `digits` decimals, as printf's `%.Nf`.
    package static func fixed(_ value: Double, digits: Int) -> String {
        printf("%.\(digits)f", value)
    }

    /// Replaces every occurrence of `target` (byte-wise, UTF-8).
    package func replacingAll(_ target: String, with replacement: String) -> String {
        let hay = Array(utf8)
        let needle = Array(target.utf8)
        guard !needle.isEmpty, hay.count >= needle.count else { return self }
        var out: [UInt8] = []
        out.reserveCapacity(hay.count)
        var i = 0
        while i < hay.count {
            if i + needle.count <= hay.count, hay[i] == needle[0], hay[i..<(i + needle.count)].elementsEqual(needle) {
                out.append(contentsOf: replacement.utf8)
                i += needle.count
            } else {
                out.append(hay[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension StringProtocol {
    /// The first (or, `last: true`, the last) occurrence of `needle`, compared by UTF-8 bytes.
    package func byteRange(of needle: String, last: Bool = false) -> Range<Index>? {
        let hay = Array(utf8), pattern = Array(needle.utf8)
        guard !pattern.isEmpty, pattern.count <= hay.count else { return nil }
        let starts = Array(0...(hay.count - pattern.count))
        for start in (last ? starts.reversed() : starts) where hay[start..<(start + pattern.count)].elementsEqual(pattern) {
            let lower = utf8.index(utf8.startIndex, offsetBy: start)
            return lower..<utf8.index(lower, offsetBy: pattern.count)
        }
        return nil
    }

    /// Without leading and trailing characters for which `drop` holds.
    package func trimmed(where drop: (Character) -> Bool) -> String {
        guard let first = firstIndex(where: { !drop($0) }), let last = lastIndex(where: { !drop($0) }) else { return "" }
        return String(self[first...last])
    }

    /// Without leading and trailing ASCII spaces, tabs and line breaks (`\r`, `\n`).
    package func trimmingASCIIWhitespace() -> String {
        trimmed { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" || $0 == "\r\n" }
    }

    /// Without leading and trailing spaces and tabs (CharacterSet.whitespaces: tab and the
    /// Unicode space separators).
    package func trimmingUnicodeSpaces() -> String {
        trimmed { $0 == "\t" || $0.unicodeScalars.allSatisfy { $0.properties.generalCategory == .spaceSeparator } }
    }
}
