import EmberUtils
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

    /// `text` with the key removed: every occurrence of it, and every run of 8 or more
    /// consecutive characters of it (a key cut by a proxy, a server or a length limit), is
    /// replaced with `<redacted>`. For any message that may echo a request or an answer.
    public func redact(_ text: String) -> String {
        let key = Array(value.utf8)
        let bytes = Array(text.utf8)
        guard !key.isEmpty, !bytes.isEmpty else { return text }
        var marked = [Bool](repeating: false, count: bytes.count)
        var any = false
        if key.count < Self.fragmentLength {
            // A short key: whole occurrences only (a fragment of it says nothing).
            var i = 0
            while i + key.count <= bytes.count {
                if bytes[i] == key[0], bytes[i..<(i + key.count)].elementsEqual(key) {
                    for j in i..<(i + key.count) { marked[j] = true }
                    any = true
                    i += key.count
                } else {
                    i += 1
                }
            }
        } else {
            // Every window of 8 bytes that is a substring of the key is marked; a run of 8 or
            // more key characters is covered by such windows, the whole key included.
            var grams = Set<UInt64>()
            grams.reserveCapacity(key.count)
            for i in 0...(key.count - Self.fragmentLength) { grams.insert(Self.window(key, i)) }
            if bytes.count >= Self.fragmentLength {
                for i in 0...(bytes.count - Self.fragmentLength) where grams.contains(Self.window(bytes, i)) {
                    for j in i..<(i + Self.fragmentLength) { marked[j] = true }
                    any = true
                }
            }
        }
        guard any else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if marked[i] {
                out.append(contentsOf: "<redacted>".utf8)
                while i < bytes.count && marked[i] { i += 1 }
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A run of this many key characters in a text is taken for the key.
    public static let fragmentLength = 8

    private static func window(_ b: [UInt8], _ i: Int) -> UInt64 {
        var w: UInt64 = 0
        for j in i..<(i + fragmentLength) { w = w << 8 | UInt64(b[j]) }
        return w
    }

    /// At most `limit` characters of `text`, redacted first (so a cut never leaves part of
    /// the key behind), then cut, with "…" when something was cut.
    public func excerpt(_ text: String, limit: Int) -> String {
        Self.truncate(redact(text), limit: limit)
    }

    /// The same for a body: decoded as UTF-8 (invalid bytes replaced), redacted, then cut.
    /// Bodies over 64 KiB are read up to there (the key removal still covers the cut).
    public func excerpt(_ body: some Collection<UInt8>, limit: Int) -> String {
        excerpt(String(decoding: body.prefix(65_536), as: UTF8.self), limit: limit)
    }

    /// `text` cut to `limit` characters, "…" appended when cut.
    public static func truncate(_ text: String, limit: Int) -> String {
        guard limit >= 0 else { return text }
        var count = 0
        var end = text.startIndex
        while end < text.endIndex {
            if count == limit { return String(text[..<end]) + "…" }
            count += 1
            end = text.index(after: end)
        }
        return text
    }
}
