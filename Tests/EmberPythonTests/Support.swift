import EmberPython
import EmberUtils
import Foundation

enum Fixture {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/python")

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: root.appendingPathComponent(name)))
    }

    static var allNames: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).filter { $0.hasSuffix(".py") }.sorted()
    }
}

/// "KIND text" for every token; empty tokens show as "KIND".
func tokenStrings(_ code: String, splitFStrings: Bool = false) throws -> [String] {
    let source = try PythonSource(utf8: code)
    let result = PythonTokenizer.tokenize(source, options: .init(splitFStrings: splitFStrings))
    return result.tokens.map { t in
        let text = String(decoding: source.text[t.start..<t.end], as: UTF8.self)
        return text.isEmpty ? t.kind.cpythonName : "\(t.kind.cpythonName) \(text)"
    }
}

func diagnostics(_ code: String) throws -> [String] {
    let source = try PythonSource(utf8: code)
    return PythonTokenizer.tokenize(source).diagnostics.map(\.message)
}

/// Tokens in order, non-overlapping, gaps only trivia, and concatenation == text.
func isLossless(_ text: [UInt8], _ tokens: [PythonToken]) -> Bool {
    var rebuilt: [UInt8] = []
    var at = 0
    let trivia: Set<UInt8> = [0x20, 0x09, 0x0C, 0x5C, 0x0A, 0x0D]
    for t in tokens {
        guard t.start >= at, t.end >= t.start, t.end <= text.count else { return false }
        guard text[at..<t.start].allSatisfy(trivia.contains) else { return false }
        rebuilt += text[at..<t.end]
        at = t.end
    }
    guard text[at...].allSatisfy(trivia.contains) else { return false }
    rebuilt += text[at...]
    return rebuilt == text
}
