/// An inline `ember-lint: ignore[EL001,EL004] reason` comment (`#` in Python, `//` in Swift).
/// It applies to findings on its own line, or, when the comment stands alone on its line,
/// to the next line.
public struct Suppression: Sendable, Hashable {
    public var codes: [String]
    public var reason: String
    public var offset: Int
    public var end: Int
    public var line: Int
    public var column: Int
    /// The line whose findings it silences.
    public var targetLine: Int
}

enum SuppressionParser {
    static let marker = Array("ember-lint:".utf8)

    /// Parses the text of one comment (without its `#` or `//`), given where the comment
    /// body starts in the file. Nil when the comment is not an ember-lint directive.
    static func parse(comment: ArraySlice<UInt8>, bodyOffset: Int, commentOffset: Int, standsAlone: Bool, lineTable: LineTableLike) -> Suppression? {
        var i = comment.startIndex
        while i < comment.endIndex, comment[i] == 0x20 || comment[i] == 0x09 { i += 1 }
        guard comment.endIndex - i >= marker.count, Array(comment[i..<(i + marker.count)]) == marker else { return nil }
        i += marker.count
        while i < comment.endIndex, comment[i] == 0x20 { i += 1 }
        let word = Array("ignore".utf8)
        let (line, column) = lineTable.location(of: commentOffset)
        var s = Suppression(codes: [], reason: "", offset: commentOffset, end: bodyOffset + (comment.endIndex - comment.startIndex),
                            line: line, column: column + 1, targetLine: standsAlone ? line + 1 : line)
        guard comment.endIndex - i >= word.count, Array(comment[i..<(i + word.count)]) == word else {
            return nil  // prose such as "ember-lint: checks imports", not a directive
        }
        i += word.count
        if i < comment.endIndex, comment[i] == UInt8(ascii: "[") {
            i += 1
            let start = i
            while i < comment.endIndex, comment[i] != UInt8(ascii: "]") { i += 1 }
            let list = String(decoding: comment[start..<i], as: UTF8.self)
            s.codes = list.split(separator: ",").map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
            if i < comment.endIndex { i += 1 }
        }
        s.reason = String(decoding: comment[i..<comment.endIndex], as: UTF8.self).trimmingSpaces()
        return s
    }
}

/// What suppression parsing needs of a line table (EmberUtils.LineTable conforms).
public protocol LineTableLike {
    func location(of offset: Int) -> (line: Int, column: Int)
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}
