// File reading without Foundation's FileHandle; the text helpers (String.printf,
// byteRange, trimmed) are EmberUtils' PlainText.
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
