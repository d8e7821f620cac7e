import EmberPython
import Testing

/// The expression text PEP 750 keeps in each Interpolation (`Interpolation.str` in the
/// tree, `.expression` at run time): CPython 3.14's own expectations in its test suite
/// (Lib/test/test_tstring.py: test_interpolation_expression_whitespace,
/// test_interpolation_expression_with_reconstructed_metadata, test_triple_quoted,
/// test_debug_specifier). Whitespace stays, comments go.
@Suite struct TemplateStringExpressionTests {
    static let cases: [(String, String)] = [
        ("t\"{x}\"", "x"),
        ("t\"{x }\"", "x "),
        ("t\"{ x}\"", " x"),
        ("t\"{ x }\"", " x "),
        ("t\"{  x  }\"", "  x  "),
        ("t\"\"\"{\n  x\n}\"\"\"", "\n  x\n"),
        ("t\"{ x !r}\"", " x "),
        ("t\"{ x :.2f}\"", " x "),
        ("t\"{ x = }\"", " x "),
        ("t\"{ x = !r}\"", " x "),
        ("t\"{ x = :.2f}\"", " x "),
        ("t\"{x == 42 = }\"", "x == 42 "),
        ("t'''{(\n            1,  # Force lexer metadata reconstruction.\n            \"\\\"#\")}'''", "(\n            1,  \n            \"\\\"#\")"),
        ("t'''{(\n            1,  # Force lexer metadata reconstruction.\n            \"\\\"#\")=}'''", "(\n            1,  \n            \"\\\"#\")"),
        ("t'{\"\"\"a\" # inside\"\"\"}'", "\"\"\"a\" # inside\"\"\""),
        ("t'{\"\"\"a\"\"\"\"#\" # outside\n}'", "\"\"\"a\"\"\"\"#\" \n"),
        ("t'{x != y # outside\n}'", "x != y \n"),
        ("t'''{f\"{d[\"a#b\"]}\"}'''", "f\"{d[\"a#b\"]}\""),
        ("t\"Value: {value = }\"", "value "),
        ("t\"\"\"Value: {value =\\\n}\"\"\"", "value "),
    ]

    @Test func interpolationTextAsCPython314() throws {
        for (literal, expression) in Self.cases {
            let tree = PythonParser.parse(try PythonSource(utf8: "x = " + literal + "\n"), options: .init(targetVersion: .v3_14))
            #expect(tree.isValid, "\(literal)")
            let line = try #require(tree.fullDump(target: .v3_14).first { $0.contains(" Interpolation ") }, "\(literal)")
            #expect(line.contains(" str=s:\(Self.dumped(expression)) "), "\(literal): \(line)")
        }
    }

    /// The dump's form of a str value: printable ASCII as it is, but for `"` and the
    /// backslash, which are written `\u{..}` like every other character.
    static func dumped(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if v >= 0x20 && v < 0x7F && v != 0x22 && v != 0x5C {
                out.unicodeScalars.append(scalar)
            } else {
                out += "\\u{" + String(v, radix: 16) + "}"
            }
        }
        return out + "\""
    }
}
