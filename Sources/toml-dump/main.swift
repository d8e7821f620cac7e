// Dev tool for scripts/toml-oracle.py; not one of the shipped commands.
//
//   toml-dump FILE          the document as canonical JSON (TOML.canonicalJSON), exit 0; or
//                           `error LINE:COLUMN: MESSAGE`, exit 1
//   toml-dump --batch FILE...   one line per file: `PATH<TAB>` then the JSON or the error line
import EmberUtils

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func readFile(_ path: String) -> [UInt8]? {
    guard let f = fopen(path, "rb") else { return nil }
    defer { fclose(f) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, 65536, f) }
        if n <= 0 { break }
        out.append(contentsOf: chunk[0..<n])
    }
    return out
}

func writeAll(_ fd: Int32, _ text: String) {
    let bytes = Array(text.utf8)
    var done = 0
    while done < bytes.count {
        let n = bytes[done...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n <= 0 { return }
        done += n
    }
}

/// The canonical JSON, or the error line; and whether it parsed.
func dump(_ path: String) -> (String, Bool) {
    guard let bytes = readFile(path) else { return ("error 0:0: cannot read \(path)", false) }
    do {
        return (TOML.canonicalJSON(try TOML.parse(bytes: bytes)), true)
    } catch {
        // One line whatever the message holds.
        let message = error.message.replacingNewlines()
        return ("error \(error.line):\(error.column): \(message)", false)
    }
}

var args = Array(CommandLine.arguments.dropFirst())
if args.first == "--batch" {
    args.removeFirst()
    var out = ""
    for path in args {
        out += path + "\t" + dump(path).0 + "\n"
        if out.utf8.count > 1 << 16 { writeAll(1, out); out = "" }
    }
    writeAll(1, out)
    exit(0)
}
guard args.count == 1 else {
    writeAll(2, "usage: toml-dump FILE | toml-dump --batch FILE...\n")
    exit(2)
}
let (text, ok) = dump(args[0])
print(text)
exit(ok ? 0 : 1)

extension String {
    func replacingNewlines() -> String {
        String(unicodeScalars.map { $0 == "\n" ? "\\n" : $0 == "\r" ? "\\r" : String($0) }.joined())
    }
}
