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
    /// 3.14: a line break in a single-quoted f-string's (or t-string's) format spec is an
    /// error; 3.12 and 3.13 end the spec there and read on as code.
    public var forbidsLineBreaksInSingleQuotedFormatSpecs: Bool { minor >= 14 }

    /// How deep CPython's parser nests (`PythonParser.Options.maxDepth`), measured with each
    /// interpreter's `compile()`: 3.9 compiles 5,967 unary operators (`y = ----...1`),
    /// 3.10 to 3.12 about 2,990 (their AST and compiler recursion limits), 3.13 5,966 (its
    /// parser stack, 6,000 frames; 3.11 and 3.12 stop at about 3,000 with RecursionError).
    /// 3.14 is taken to be 3.13's.
    public var parserNestingLimit: Int { minor == 9 || minor >= 13 ? 6000 : 3000 }

    /// How deep a tree CPython builds (`PythonParser.Options.maxTreeDepth`), chains read in
    /// a loop included (`a.b.b...`, `1 + 1 + ...`, `f()()...`): 3.13 compiles 9,996 links
    /// (its C recursion limit, 10,000); before, as deep as the parser nests (3.9 compiles
    /// longer `+` chains, up to 20,000 and more: the one form we stop earlier).
    public var treeDepthLimit: Int { minor >= 13 ? 10000 : parserNestingLimit }
}

extension PythonVersion {
    /// The oldest version a `requires-python` specifier (PEP 440, as in pyproject.toml)
    /// allows, clamped to 3.9-3.14: the highest lower bound of its clauses (`>=3.10`,
    /// `~=3.11`, `==3.12.*`, `>3.9` is 3.9, `>=2.7` is 3.9, `<4` alone is no bound). Nil when no clause
    /// gives a lower bound on Python 3 or the text is not a specifier.
    public static func oldestAllowed(byRequiresPython spec: String) -> PythonVersion? {
        var lowest: Int?
        for clause in spec.split(separator: ",") {
            let c = String(clause).trimmingCharactersInSpaces()
            var rest = Substring(c)
            var op = ""
            while let f = rest.first, "<>=!~".contains(f) { op.append(f); rest.removeFirst() }
            rest = Substring(String(rest).trimmingCharactersInSpaces())
            let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count >= 1, let major = Int(parts[0]) else { return nil }
            let minor = parts.count >= 2 ? Int(parts[1]) ?? 0 : 0
            switch op {
            case ">=", "~=", "==", "===", ">":
                guard major <= 3 else { return nil }  // Python 4
                let bound = major < 3 ? 0 : minor  // `>=2.7`: every Python 3
                lowest = max(lowest ?? bound, bound)
            case "<", "<=", "!=":
                continue
            default:
                return nil
            }
        }
        guard let lowest else { return nil }
        return PythonVersion(minor: min(max(lowest, oldest.minor), newest.minor))
    }
}

extension String {
    fileprivate func trimmingCharactersInSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
