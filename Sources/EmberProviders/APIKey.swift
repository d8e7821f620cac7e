/// An API key that never shows itself: `print`, string interpolation, `dump`, `debugPrint`
/// and reflection all see `<redacted>`. Only the HTTP layer reads `value` to build a header.
public struct APIKey: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// For the HTTP layer's headers only.
    package let value: String

    public init?(_ value: String?) {
        guard let v = value?.trimmingASCIIWhitespace(), !v.isEmpty else { return nil }
        self.value = v
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "APIKey(<redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    /// `text` with every occurrence of the key (and of `Bearer <key>`) replaced, for any
    /// message that may echo a request or a server's answer.
    public func redact(_ text: String) -> String {
        guard text.contains(value) else { return text }
        return text.replacingAll(value, with: "<redacted>")
    }
}

extension String {
    package func trimmingASCIIWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\n" || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\n" || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
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
