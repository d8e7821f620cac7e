/// A Python language version (3.9 to 3.14) whose grammar the tokenizer and the parser
/// follow: what it accepts and what it rejects.
///
/// - 3.10: `match` statements.
/// - 3.11: `except*`, starred expressions in subscripts and `*args: *Ts` (PEP 646).
/// - 3.12: PEP 701 f-strings (split into FSTRING_START / FSTRING_MIDDLE / FSTRING_END,
///   same quotes, comments, backslashes and line breaks inside replacement fields), PEP 695
///   type parameter lists and `type` statements.
/// - 3.13: PEP 696 type parameter defaults.
/// - 3.14: PEP 750 template strings (`t"..."`), PEP 758 `except A, B:` without parentheses.
public struct PythonVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The minor version: 12 for Python 3.12.
    public let minor: Int

    public init?(minor: Int) {
        guard minor >= PythonVersion.oldest.minor && minor <= PythonVersion.newest.minor else { return nil }
        self.minor = minor
    }

    private init(uncheckedMinor: Int) { minor = uncheckedMinor }

    public static let v3_9 = PythonVersion(uncheckedMinor: 9)
    public static let v3_10 = PythonVersion(uncheckedMinor: 10)
    public static let v3_11 = PythonVersion(uncheckedMinor: 11)
    public static let v3_12 = PythonVersion(uncheckedMinor: 12)
    public static let v3_13 = PythonVersion(uncheckedMinor: 13)
    public static let v3_14 = PythonVersion(uncheckedMinor: 14)
    public static let oldest = v3_9
    public static let newest = v3_14
    public static let all: [PythonVersion] = (9...14).map { PythonVersion(uncheckedMinor: $0) }

    /// "3.12", "312", "py312" or "python3.12"; nil for anything else or a version outside 3.9-3.14.
    public init?(_ text: String) {
        var s = Substring(text.lowercased())
        for prefix in ["python", "py"] where s.hasPrefix(prefix) { s = s.dropFirst(prefix.count); break }
        let digits: Substring
        if s.hasPrefix("3.") { digits = s.dropFirst(2) } else if s.hasPrefix("3") && s.count >= 2 { digits = s.dropFirst(1) } else { return nil }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let minor = Int(digits) else { return nil }
        self.init(minor: minor)
    }

    public var description: String { "3.\(minor)" }

    public static func < (a: PythonVersion, b: PythonVersion) -> Bool { a.minor < b.minor }

    /// PEP 701 f-strings, in the split token form.
    public var hasPEP701FStrings: Bool { minor >= 12 }
    /// PEP 750 template strings.
    public var hasTemplateStrings: Bool { minor >= 14 }
}
