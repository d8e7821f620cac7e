import EmberPython
import Testing

/// Messages of invalid f-strings and t-strings as CPython gives them. The 3.12 and 3.13
/// cases were recorded with CPython 3.12.1 and 3.13.0 (`ast.parse`; both agree on all of
/// them); the 3.14 ones are CPython 3.14's own expectations in its test suite
/// (Lib/test/test_tstring.py: test_syntax_errors and test_literal_concatenation, which
/// match the message with `assertRaisesRegex`, so a message containing it passes).
@Suite struct StringFieldMessageTests {
    static let fStringCases: [(String, String)] = [
        ("f'", "unterminated f-string literal (detected at line 1)"),
        ("f'''", "unterminated triple-quoted f-string literal (detected at line 1)"),
        ("f''''", "unterminated triple-quoted f-string literal (detected at line 1)"),
        ("f'{", "'{' was never closed"),
        ("f'{'", "f-string: expecting '}'"),
        ("f'{a'", "f-string: expecting '}'"),
        ("f'}'", "f-string: single '}' is not allowed"),
        ("f'{}'", "f-string: valid expression required before '}'"),
        ("f'{=x}'", "f-string: valid expression required before '='"),
        ("f'{!x}'", "f-string: valid expression required before '!'"),
        ("f'{:x}'", "f-string: valid expression required before ':'"),
        ("f'{x;y}'", "f-string: expecting '=', or '!', or ':', or '}'"),
        ("f'{x=y}'", "f-string: expecting '!', or ':', or '}'"),
        ("f'{x!s!}'", "f-string: expecting ':' or '}'"),
        ("f'{x!s:'", "f-string: expecting '}', or format specs"),
        ("f'{x!}'", "f-string: missing conversion character"),
        ("f'{x=!}'", "f-string: missing conversion character"),
        ("f'{x!z}'", "f-string: invalid conversion character 'z': expected 's', 'r', or 'a'"),
        ("f\"{f'{x!z}'}\"", "f-string: invalid conversion character 'z': expected 's', 'r', or 'a'"),
        ("f'{f\"{x!z}\"}'", "f-string: invalid conversion character 'z': expected 's', 'r', or 'a'"),
        ("f'{lambda:1}'", "f-string: lambda expressions are not allowed without parentheses"),
        ("f'{x:{;}}'", "f-string: expecting a valid expression after '{'"),
        ("f'{x y}'", "invalid syntax. Perhaps you forgot a comma?"),
        ("f'{x! r}'", "f-string: conversion type must come right after the exclamanation mark"),
        ("f'{x!ab}'", "f-string: invalid conversion character 'ab': expected 's', 'r', or 'a'"),
        ("f'{lambda x:}'", "f-string: lambda expressions are not allowed without parentheses"),
        ("f'{x=y=}'", "f-string: expecting '!', or ':', or '}'"),
        ("f'{x:{y;}}'", "f-string: expecting '=', or '!', or ':', or '}'"),
        ("f'{x:'", "f-string: expecting '}', or format specs"),
        ("f'{!}'", "f-string: valid expression required before '!'"),
        ("f'{x!1}'", "f-string: invalid conversion character"),
        ("f'{x!r=}'", "f-string: expecting ':' or '}'"),
        ("f'{a b c}'", "invalid syntax. Perhaps you forgot a comma?"),
        ("f'{,}'", "f-string: expecting a valid expression after '{'"),
        ("f'{print x}'", "Missing parentheses in call to 'print'. Did you mean print(...)?"),
        ("f'{match x}'", "f-string: expecting '=', or '!', or ':', or '}'"),
        ("f'{x \"a\"}'", "f-string: expecting '=', or '!', or ':', or '}'"),
        ("f'{x, y z}'", "invalid syntax. Perhaps you forgot a comma?"),
        ("f'{x:{y z}}'", "invalid syntax. Perhaps you forgot a comma?"),
    ]

    static let tStringCases: [(String, String)] = [
        ("t'", "unterminated t-string literal"),
        ("t'''", "unterminated triple-quoted t-string literal"),
        ("t''''", "unterminated triple-quoted t-string literal"),
        ("t'{", "'{' was never closed"),
        ("t'{'", "t-string: expecting '}'"),
        ("t'{a'", "t-string: expecting '}'"),
        ("t'}'", "t-string: single '}' is not allowed"),
        ("t'{}'", "t-string: valid expression required before '}'"),
        ("t'{=x}'", "t-string: valid expression required before '='"),
        ("t'{!x}'", "t-string: valid expression required before '!'"),
        ("t'{:x}'", "t-string: valid expression required before ':'"),
        ("t'{x;y}'", "t-string: expecting '=', or '!', or ':', or '}'"),
        ("t'{x=y}'", "t-string: expecting '!', or ':', or '}'"),
        ("t'{x!s!}'", "t-string: expecting ':' or '}'"),
        ("t'{x!s:'", "t-string: expecting '}', or format specs"),
        ("t'{x!}'", "t-string: missing conversion character"),
        ("t'{x=!}'", "t-string: missing conversion character"),
        ("t'{x!z}'", "t-string: invalid conversion character 'z': expected 's', 'r', or 'a'"),
        ("f\"{t'{x!z}'}\"", "t-string: invalid conversion character 'z': expected 's', 'r', or 'a'"),
        ("t'{f\"{x!z}\"}'", "f-string: invalid conversion character 'z': expected 's', 'r', or 'a'"),
        ("t'{lambda:1}'", "t-string: lambda expressions are not allowed without parentheses"),
        ("t'{x:{;}}'", "t-string: expecting a valid expression after '{'"),
        ("t'{1:d\n}'", "t-string: newlines are not allowed in format specifiers"),
        ("t'{what}-string literal' 'str literal'", "cannot mix t-string literals with string or bytes literals"),
        ("t'{what}-string literal' u'unicode literal'", "cannot mix t-string literals with string or bytes literals"),
        ("t'{what}-string literal' f'f-string literal'", "cannot mix t-string literals with string or bytes literals"),
        ("t'{what}-string literal' r'raw string literal'", "cannot mix t-string literals with string or bytes literals"),
        ("t'{what}-string literal' rf'raw f-string literal'", "cannot mix t-string literals with string or bytes literals"),
        ("t'{what}-string literal' b'bytes literal'", "cannot mix t-string literals with string or bytes literals"),
        ("t'{what}-string literal' br'raw bytes literal'", "cannot mix t-string literals with string or bytes literals"),
        ("'str literal' t'{what}-string literal'", "cannot mix t-string literals with string or bytes literals"),
        ("u'unicode literal' t'{what}-string literal'", "cannot mix t-string literals with string or bytes literals"),
        ("f'f-string literal' t'{what}-string literal'", "cannot mix t-string literals with string or bytes literals"),
        ("r'raw string literal' t'{what}-string literal'", "cannot mix t-string literals with string or bytes literals"),
        ("rf'raw f-string literal' t'{what}-string literal'", "cannot mix t-string literals with string or bytes literals"),
        ("b'bytes literal' t'{what}-string literal'", "cannot mix t-string literals with string or bytes literals"),
        ("br'raw bytes literal' t'{what}-string literal'", "cannot mix t-string literals with string or bytes literals"),
    ]

    @Test(arguments: [PythonVersion.v3_12, .v3_13])
    func fStringMessagesAsCPython(version: PythonVersion) throws {
        for (source, message) in Self.fStringCases {
            let tree = PythonParser.parse(try PythonSource(utf8: source + "\n"), options: .init(targetVersion: version))
            #expect(tree.diagnostics.first?.message == message, "\(version) \(source)")
            #expect(tree.diagnostics.first.map { tree.source.lineTable.location(of: $0.offset).line } == 1)
        }
    }

    @Test func tStringMessagesAsCPython314() throws {
        for (source, message) in Self.tStringCases {
            let tree = PythonParser.parse(try PythonSource(utf8: source + "\n"), options: .init(targetVersion: .v3_14))
            let first = tree.diagnostics.first?.message ?? "(accepted)"
            #expect(first.contains(message), "\(source): \(first)")
        }
    }

    /// 3.13 reads on after a line break in a single-quoted spec; 3.14 refuses it.
    @Test func lineBreakInASingleQuotedSpec() throws {
        let source = "x = f'{1:d\n}'\n"
        #expect(PythonParser.parse(try PythonSource(utf8: source), options: .init(targetVersion: .v3_13)).isValid)
        let refused = PythonParser.parse(try PythonSource(utf8: source), options: .init(targetVersion: .v3_14))
        #expect(refused.diagnostics.first?.message == "f-string: newlines are not allowed in format specifiers for single quoted f-strings")
        // A triple-quoted one may hold it in every version.
        #expect(PythonParser.parse(try PythonSource(utf8: "x = f\"\"\"{1:d\n}\"\"\"\n"), options: .init(targetVersion: .v3_14)).isValid)
    }
}
