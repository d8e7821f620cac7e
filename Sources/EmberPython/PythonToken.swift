/// Token kinds as CPython's `tokenize` module names them (OP covers every operator and
/// bracket; the `fstring*` kinds appear only with the 3.12 f-string split option).
public enum PythonTokenKind: UInt8, Sendable, Hashable, CaseIterable {
    case name, number, string, op, comment, newline, nl, indent, dedent, endmarker
    case fstringStart, fstringMiddle, fstringEnd, errorToken
    /// PEP 750 template strings (3.14).
    case tstringStart, tstringMiddle, tstringEnd

    /// The name CPython's `tokenize.tok_name` uses.
    public var cpythonName: String {
        switch self {
        case .name: "NAME"
        case .number: "NUMBER"
        case .string: "STRING"
        case .op: "OP"
        case .comment: "COMMENT"
        case .newline: "NEWLINE"
        case .nl: "NL"
        case .indent: "INDENT"
        case .dedent: "DEDENT"
        case .endmarker: "ENDMARKER"
        case .fstringStart: "FSTRING_START"
        case .fstringMiddle: "FSTRING_MIDDLE"
        case .fstringEnd: "FSTRING_END"
        case .errorToken: "ERRORTOKEN"
        case .tstringStart: "TSTRING_START"
        case .tstringMiddle: "TSTRING_MIDDLE"
        case .tstringEnd: "TSTRING_END"
        }
    }
}

/// One token: its kind and the byte range `start..<end` in `PythonSource.text`.
/// Offsets are stored in 32 bits (12 bytes per token; `PythonSource` refuses texts of
/// 2 GiB or more).
public struct PythonToken: Sendable, Hashable {
    public var kind: PythonTokenKind
    @usableFromInline var storedStart: Int32
    @usableFromInline var storedEnd: Int32

    public var start: Int {
        @inlinable get { Int(storedStart) }
        set { storedStart = Int32(newValue) }
    }

    public var end: Int {
        @inlinable get { Int(storedEnd) }
        set { storedEnd = Int32(newValue) }
    }

    @inlinable
    public init(kind: PythonTokenKind, start: Int, end: Int) {
        self.kind = kind
        self.storedStart = Int32(truncatingIfNeeded: start)
        self.storedEnd = Int32(truncatingIfNeeded: end)
    }
}

/// A tokenizer or parser error: CPython's wording, and a byte offset in `PythonSource.text`.
public struct PythonDiagnostic: Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var offset: Int
    /// How the diagnostic ranks when deciding which error CPython would report.
    var rank: DiagnosticRank = .syntax

    public init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { "byte \(offset): \(message)" }
}

public struct PythonTokenizeResult: Sendable {
    public var tokens: [PythonToken]
    /// The first is the error CPython reports (a NUL byte anywhere, say, comes first); the
    /// others follow earliest first.
    public var diagnostics: [PythonDiagnostic]
}

extension Array where Element == PythonDiagnostic {
    /// Keeps the first diagnostic (the error CPython reports, which is not always the
    /// earliest: a NUL byte, a later tokenizer error after a parse error) and orders the
    /// others earliest first, ties in their order.
    mutating func sortAfterFirst() {
        guard count > 2 else { return }
        var sorted = true
        for k in 2..<count where self[k].offset < self[k - 1].offset { sorted = false; break }
        if sorted { return }
        let tail = self[1...].enumerated().sorted { ($0.element.offset, $0.offset) < ($1.element.offset, $1.offset) }.map(\.element)
        replaceSubrange(1..., with: tail)
    }
}

/// How a tokenizer diagnostic ranks against a parse error (CPython's
/// `_PyPegen_tokenize_full_source_to_check_for_errors`: after a parse error, CPython
/// tokenizes the rest of the file, and the first tokenizer error it meets replaces the
/// parse error when the tokenizer raised it as a SyntaxError).
enum DiagnosticRank: UInt8, Sendable, Hashable {
    /// A SyntaxError raised by the tokenizer: wins over an earlier parse error.
    case syntax
    /// Such an error inside an f-string's replacement field (3.12+): the parse error stays.
    case syntaxInFString
    /// An error CPython's tokenizer only flags (indentation, continuation, EOF): the
    /// re-scan stops there without replacing the parse error.
    case quiet
    /// A bracket open at the end of the text: wins when it opened on a line before the
    /// parse error's.
    case unclosed
    /// A NUL byte: CPython refuses the text before parsing.
    case nul
    /// A parse error (the parser's, or a literal's contents).
    case parse
}
