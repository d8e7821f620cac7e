// Dev tool for scripts/conformance and benchmarks; not one of the shipped commands.
//
//   ember-python-dump tokens FILE...|@LIST   one JSON line per file: tokens as [kind, start, end]
//   ember-python-dump ast FILE...|@LIST      one JSON line per file: the full tree dump
//                                            (PythonSyntaxTree.fullDump: every node and field)
//   --split-fstrings (before the files): 3.12 f-string tokens and trees
//   --target-version 3.N (before the files): that version's tokens and grammar (3.12 and
//   later split f-strings as --split-fstrings does). Default: 3.11.
//   --positions-only (after --target-version): the older dump instead, "Kind L:C-L:C" per
//   statement and expression; 3.12+ then leaves out f-string parts unless
//   --fstring-parts follows.
//   ember-python-dump bench-tokenize FILE...|@LIST   tokenize only, print totals
//   ember-python-dump bench-parse FILE...|@LIST      tokenize + parse, print totals
// Offsets are UTF-8 byte offsets into the decoded text (PythonSource.text).
import EmberPython
import EmberUtils

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func readFile(_ path: String) -> [UInt8]? {
    guard let f = fopen(path, "rb") else { return nil }
    defer { fclose(f) }
    // One read of the whole file when its size is known.
    if fseek(f, 0, SEEK_END) == 0 {
        let size = ftell(f)
        rewind(f)
        if size > 0 {
            var out = [UInt8](repeating: 0, count: size)
            let got = out.withUnsafeMutableBytes { fread($0.baseAddress, 1, size, f) }
            if got == size && fgetc(f) == EOF { return out }
            rewind(f)
        }
    }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let got = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, 1 << 16, f) }
        if got <= 0 { break }
        out.append(contentsOf: chunk[0..<got])
    }
    return out
}

func jsonString(_ s: String) -> String { JSONText.quoted(s) }

nonisolated(unsafe) var stdoutBuffer: [UInt8] = []
func emit(_ s: String) {
    stdoutBuffer.append(contentsOf: s.utf8)
    stdoutBuffer.append(0x0A)
    if stdoutBuffer.count > 1 << 20 { flush() }
}
func flush() {
    writeAll(1, stdoutBuffer)
    stdoutBuffer.removeAll(keepingCapacity: true)
}

func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    bytes.withUnsafeBytes { raw in
        var done = 0
        while done < raw.count {
            let w = write(fd, raw.baseAddress! + done, raw.count - done)
            if w <= 0 { return }
            done += w
        }
    }
}
func fail(_ message: String) -> Never {
    writeAll(2, Array((message + "\n").utf8))
    exit(2)
}

func expandFiles(_ args: ArraySlice<String>) -> [String] {
    var files: [String] = []
    for a in args {
        if a.hasPrefix("@"), let bytes = readFile(String(a.dropFirst())) {
            files += String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
        } else {
            files.append(a)
        }
    }
    return files
}

/// Lossless check: tokens are ordered and non-overlapping, and every gap between them is
/// trivia (spaces, tabs, form feeds, backslash continuations, line breaks).
func roundTrips(_ text: [UInt8], _ tokens: [PythonToken]) -> Bool {
    var rebuilt: [UInt8] = []
    rebuilt.reserveCapacity(text.count)
    var at = 0
    for t in tokens {
        if t.start < at || t.end < t.start || t.end > text.count { return false }
        for b in text[at..<t.start] where !(b == 0x20 || b == 0x09 || b == 0x0C || b == 0x5C || b == 0x0A || b == 0x0D) {
            return false
        }
        rebuilt += text[at..<t.end]
        at = t.end
    }
    for b in text[at...] where !(b == 0x20 || b == 0x09 || b == 0x0C || b == 0x5C || b == 0x0A || b == 0x0D) { return false }
    rebuilt += text[at...]
    return rebuilt == text
}

func diagnosticsJSON(_ ds: [PythonDiagnostic]) -> String {
    "[" + ds.map { "[\(jsonString($0.message)),\($0.offset)]" }.joined(separator: ",") + "]"
}

let args = CommandLine.arguments
guard args.count >= 2 else {
    fail("usage: ember-python-dump tokens|ast|bench-tokenize|bench-parse [--split-fstrings|--target-version 3.N] FILE...|@LIST")
}
let mode = args[1]
var target = PythonVersion.v3_11
var rest = args[2...]
if rest.first == "--split-fstrings" { target = .v3_12; rest = rest.dropFirst() }
if rest.first == "--target-version" {
    rest = rest.dropFirst()
    guard let text = rest.first, let version = PythonVersion(text) else {
        fail("--target-version: expected a version from \(PythonVersion.oldest) to \(PythonVersion.newest), got \(rest.first ?? "nothing")")
    }
    target = version
    rest = rest.dropFirst()
}
// --fstring-parts: keep f-string parts in 3.12+ tree dumps (to compare them with 3.12+'s ast).
var positionsOnly = false
if rest.first == "--positions-only" { positionsOnly = true; rest = rest.dropFirst() }
var fstringParts = false
if rest.first == "--fstring-parts" { fstringParts = true; rest = rest.dropFirst() }
let splitFStrings = target.hasPEP701FStrings
let files = expandFiles(rest)
let options = PythonTokenizer.Options(targetVersion: target)

switch mode {
case "tokens", "ast":
    for path in files {
        guard let bytes = readFile(path) else {
            emit("{\"file\":\(jsonString(path)),\"error\":\"cannot read\"}")
            continue
        }
        let source: PythonSource
        do {
            source = try PythonSource(bytes: bytes)
        } catch {
            emit("{\"file\":\(jsonString(path)),\"decodeError\":\(jsonString(error.message)),\"offset\":\(error.offset)}")
            continue
        }
        let result = PythonTokenizer.tokenize(source, options: options)
        var line = "{\"file\":\(jsonString(path)),\"encoding\":\(jsonString(source.encoding))"
        line += ",\"roundtrip\":\(roundTrips(source.text, result.tokens))"
        line += ",\"diagnostics\":\(diagnosticsJSON(result.diagnostics))"
        if mode == "tokens" {
            var toks = ""
            toks.reserveCapacity(result.tokens.count * 16)
            for (i, t) in result.tokens.enumerated() {
                if i > 0 { toks += "," }
                toks += "[\"\(t.kind.cpythonName)\",\(t.start),\(t.end)]"
            }
            line += ",\"tokens\":[\(toks)]"
        } else {
            line += astDump(source, result, target: target, skippingFStringParts: splitFStrings && !fstringParts,
                            positionsOnly: positionsOnly)
        }
        emit(line + "}")
    }
case "bench-tokenize", "bench-parse":
    var totalBytes = 0, totalTokens = 0, failures = 0, nodes = 0
    for path in files {
        guard let bytes = readFile(path) else { failures += 1; continue }
        totalBytes += bytes.count
        guard let source = try? PythonSource(bytes: bytes) else { failures += 1; continue }
        let result = PythonTokenizer.tokenize(source, options: options)
        totalTokens += result.tokens.count
        if mode == "bench-parse" {
            nodes += benchParse(source, result, target: target)
        }
    }
    emit("files \(files.count) bytes \(totalBytes) tokens \(totalTokens) nodes \(nodes) undecodable \(failures)")
default:
    fail("unknown mode \(mode)")
}
flush()
