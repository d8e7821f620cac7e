// Small text and output helpers in place of Foundation's (String(format:), range(of:),
// trimmingCharacters): with them the module needs FoundationEssentials only,
// which keeps Foundation's internationalization layer and ICU's data out of the binary.
import EmberUtils
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum MigrateIO {
    /// The file's text when it can be read and is valid UTF-8.
    public static func readUTF8(_ path: String) -> String? {
        guard let fd = Optional(open(path, O_RDONLY)), fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return nil }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[..<n])
        }
        // String(validating:as:) needs macOS 15; decoding repairs, so compare the bytes back.
        let text = String(decoding: bytes, as: UTF8.self)
        return text.utf8.elementsEqual(bytes) ? text : nil
    }
}

extension String {
    /// `value` with `digits` decimals, as printf's `%.Nf` (String(format:) without Foundation).
    static func fixed(_ value: Double, digits: Int) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let n = withVaList([value]) { args in
            buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress!, $0.count, "%.\(digits)f", args) }
        }
        guard n >= 0, n < buffer.count else { return "\(value)" }
        return String(decoding: buffer[..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension StringProtocol {
    /// The first (or, `last: true`, the last) occurrence of `needle`, compared by UTF-8 bytes.
    func byteRange(of needle: String, last: Bool = false) -> Range<Index>? {
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
    func trimmed(where drop: (Character) -> Bool) -> String {
        guard let first = firstIndex(where: { !drop($0) }), let last = lastIndex(where: { !drop($0) }) else { return "" }
        return String(self[first...last])
    }

    /// Without leading and trailing spaces and tabs (CharacterSet.whitespaces: tab and the
    /// Unicode space separators).
    func trimmingSpaces() -> String {
        trimmed { $0 == "\t" || $0.unicodeScalars.allSatisfy { $0.properties.generalCategory == .spaceSeparator } }
    }
}
