import EmberPython
import Testing

/// CPython's messages and lines for code that is missing a comma inside brackets, has an
/// assignment where an expression belongs, a comprehension without `in`, a positional
/// argument after keyword ones, an unexpected indent before a later tokenizer error, or a
/// broken parameter list, `del`, annotation, dictionary value or import;
/// recorded with CPython 3.11.7, 3.12.1 and 3.13.0 (`ast.parse`), each version's own.
@Suite struct CPythonMessageTests {
    /// Source, CPython 3.11's line and message, and a later version's where they changed
    /// (nil: as the version before).
    static let cases: [Case] = [
        Case("x = [1;]", 1, "invalid syntax"),
        Case("x = [1 2]", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("x = (1 2)", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("x = {1 2}", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("f(a b)", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("a[1 2]", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("x = [1, 2 3]", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("x = [\n    1\n    2\n]", 2, "invalid syntax. Perhaps you forgot a comma?"),
        Case("x = [1 if 2 else 3 4]", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("x = [*a b]", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("x = {1: 2 3}", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("x = {1: 2, 3 4}", 1, "':' expected after dictionary key"),
        Case("x = [a.b c]", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("x = [a() b]", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("x = [print 1]", 1, "Missing parentheses in call to 'print'. Did you mean print(...)?"),
        Case("x = [match 1]", 1, "invalid syntax"),
        Case("x = [a 'b']", 1, "invalid syntax"),
        Case("x = (1 + 2 3)", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("f(a=1 b)", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("x = [1 not 2]", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("x = [1 lambda: 2]", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("x = (1, 2 3)", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("x = [a for a in b c]", 1, "invalid syntax"),
        Case("x = [1 2 for x in y]", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("x = a[1:2 3]", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("x = [1\n2]", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("x = [f(x)\n g]", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("x = (yield 1 2)", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("f(*a b)", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("f(**a b)", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("x = {**a b}", 1, "invalid syntax"),
        Case("x = {1: 2 for a in b c}", 1, "invalid syntax"),
        Case("x = [a\n  .b\n c]", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("x = (a := 1 2)", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("print(1 2)", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("x = [a b c]", 1, "invalid syntax. Perhaps you forgot a comma?"),
        Case("x = [1 +]", 1, "invalid syntax"),
        Case("x = [)", 1, "closing parenthesis ')' does not match opening parenthesis '['"),
        Case("x = [1 2\n", 1, "'[' was never closed"),
        Case("[x for a b]", 1, "invalid syntax. Perhaps you forgot a comma?", since313: (1, "'in' expected after for-loop variables")),
        Case("[x for a]", 1, "invalid syntax", since313: (1, "'in' expected after for-loop variables")),
        Case("[x for 1 in y]", 1, "cannot assign to literal"),
        Case("[x for 'a' 'b']", 1, "cannot assign to literal", since313: (1, "'in' expected after for-loop variables")),
        Case("[x for a, b]", 1, "invalid syntax", since313: (1, "'in' expected after for-loop variables")),
        Case("(x for a\n b\n c)", 1, "invalid syntax. Perhaps you forgot a comma?", since313: (2, "'in' expected after for-loop variables")),
        Case("[x for a.b c]", 1, "invalid syntax. Perhaps you forgot a comma?", since313: (1, "'in' expected after for-loop variables")),
        Case("for a b: pass", 1, "invalid syntax"),
        Case("for 1 in x: pass", 1, "cannot assign to literal"),
        Case("[x for f() in y]", 1, "cannot assign to function call"),
        Case("[x\n for a\n\n]", 4, "invalid syntax", since313: (4, "'in' expected after for-loop variables")),
        Case("f(a=1,\n  b,\n  c)", 3, "positional argument follows keyword argument"),
        Case("f(**a,\n  b\n)", 3, "positional argument follows keyword argument unpacking"),
        Case("if x:\n    raise E\n        'a'\n    )\n", 3, "unexpected indent"),
        Case("x = (\n    'a'\n    'b' = 'c'\n)", 2, "cannot assign to literal here. Maybe you meant '==' instead of '='?"),
        Case("x = [a = 1]", 1, "invalid syntax. Maybe you meant '==' or ':=' instead of '='?"),
        Case("x = (f() = 1)", 1, "cannot assign to function call here. Maybe you meant '==' instead of '='?"),
        Case("x = {a.b = 1}", 1, "cannot assign to attribute here. Maybe you meant '==' instead of '='?"),
        Case("x = [1 = 2 = 3]", 1, "invalid syntax"),
        Case("x = (True = 1)", 1, "invalid syntax"),
        Case("def f(x=): pass", 1, "expected default value expression"),
        Case("def f(*x=1): pass", 1, "var-positional argument cannot have default value"),
        Case("def f(**x=1): pass", 1, "var-keyword argument cannot have default value"),
        Case("def f(a, *, b=): pass", 1, "expected default value expression"),
        Case("lambda x=: 1", 1, "invalid syntax"),
        Case("f(a=)", 1, "invalid syntax", since312: (1, "expected argument value expression")),
        Case("f(a=, b=1)", 1, "invalid syntax", since312: (1, "expected argument value expression")),
        Case("import a from b", 1, "invalid syntax", since312: (1, "Did you mean to use 'from ... import ...' instead?")),
        Case("import a.b, c from d", 1, "invalid syntax", since312: (1, "Did you mean to use 'from ... import ...' instead?")),
        Case("a, b: int", 1, "only single target (not tuple) can be annotated"),
        Case("[a, b]: int", 1, "only single target (not list) can be annotated"),
        Case("a + 1: int", 1, "illegal target for annotation"),
        Case("del a + b", 1, "cannot delete expression"),
        Case("del f()", 1, "cannot delete function call"),
        Case("del (a, b + 1)", 1, "cannot delete expression"),
        Case("del *a", 1, "cannot delete starred"),
        Case("del a, *b", 1, "cannot delete starred"),
        Case("x = {a: *b}", 1, "cannot use a starred expression in a dictionary value"),
        Case("x = {a:}", 1, "expression expected after dictionary key and ':'"),
        Case("x = {a: , b: 1}", 1, "expression expected after dictionary key and ':'"),
        Case("from a import", 1, "invalid syntax", since313: (1, "Expected one or more names after 'import'")),
        Case("import", 1, "invalid syntax", since313: (1, "Expected one or more names after 'import'")),
        Case("def f((a)): pass", 1, "Function parameters cannot be parenthesized"),
        Case("lambda (a): 1", 1, "Lambda expression parameters cannot be parenthesized"),
        Case("def f(a, (b)): pass", 1, "Function parameters cannot be parenthesized"),
        Case("print(*a for a in b)", 1, "iterable unpacking cannot be used in comprehension"),
        Case("f(**a, *b)", 1, "iterable argument unpacking follows keyword argument unpacking"),
        Case("def f(a, /, /): pass", 1, "/ may appear only once"),
        Case("def f(*, /): pass", 1, "/ must be ahead of *"),
        Case("def f(a, *b, *c): pass", 1, "* argument may appear only once"),
        Case("def f(**a, b): pass", 1, "arguments cannot follow var-keyword argument"),
        Case("def f(a=1, /, b): pass", 1, "non-default argument follows default argument", since312: (1, "parameter without a default follows parameter with a default")),
        Case("class A(x=): pass", 1, "invalid syntax", since312: (1, "expected argument value expression")),
        Case("del None", 1, "cannot delete None"),
        Case("... = 1", 1, "cannot assign to ellipsis here. Maybe you meant '==' instead of '='?"),
        Case("(True := 1)", 1, "cannot use assignment expressions with True"),
        Case("(a, 'b', c) = 1", 1, "cannot assign to literal"),
        Case("f() = 1", 1, "cannot assign to function call here. Maybe you meant '==' instead of '='?"),
        Case("yield = 1", 1, "assignment to yield expression not possible"),
        Case("def f(a=1, b): pass", 1, "non-default argument follows default argument", since312: (1, "parameter without a default follows parameter with a default")),
        Case("for None in x: pass", 1, "cannot assign to None"),
        Case("x = {1: 2, 3 4}", 1, "':' expected after dictionary key"),
        Case("(x for x in y) = 1", 1, "cannot assign to generator expression"),
        Case("[a, b()] = 1", 1, "cannot assign to function call"),
        Case("a.b = c = f() = 1", 1, "cannot assign to function call"),
    ]

    struct Case {
        var source: String
        var answer311: (line: Int, message: String)
        var since312: (line: Int, message: String)?
        var since313: (line: Int, message: String)?

        init(_ source: String, _ line: Int, _ message: String, since312: (Int, String)? = nil, since313: (Int, String)? = nil) {
            self.source = source
            answer311 = (line, message)
            self.since312 = since312.map { (line: $0.0, message: $0.1) }
            self.since313 = since313.map { (line: $0.0, message: $0.1) }
        }

        func answer(_ version: PythonVersion) -> (line: Int, message: String) {
            let a312 = since312 ?? answer311
            return version >= .v3_13 ? (since313 ?? a312) : version == .v3_12 ? a312 : answer311
        }
    }

    @Test(arguments: [PythonVersion.v3_11, .v3_12, .v3_13])
    func messagesAndLinesAsCPython(version: PythonVersion) throws {
        for c in Self.cases {
            let tree = PythonParser.parse(try PythonSource(utf8: c.source + "\n"), options: .init(targetVersion: version))
            let first = try #require(tree.diagnostics.first, "\(version) accepted \(c.source)")
            let expected = c.answer(version)
            #expect(first.message == expected.message, "\(version) \(c.source)")
            #expect(tree.source.lineTable.location(of: first.offset).line == expected.line, "\(version) \(c.source)")
        }
    }
}
