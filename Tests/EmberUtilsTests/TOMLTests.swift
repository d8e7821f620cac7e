import EmberUtils
import Testing

@Suite struct TOMLTests {
    func fails(_ text: String) -> TOMLError? {
        do { _ = try TOML.parse(text); return nil } catch { return error }
    }

    @Test func valuesKeepLineAndColumn() throws {
        let doc = try TOML.parse("""
            # c
            a = "x"
            [t]
              "é" = [1, 2.5,
                   true]
            [[aot]]
            k.l = 1979-05-27T07:32:00Z
            """)
        #expect(doc["a"]?.line == 2 && doc["a"]?.column == 5)
        #expect(doc.entry("a")?.line == 2 && doc.entry("a")?.column == 1)
        guard case .table(let t)? = doc["t"]?.kind, case .array(let items)? = t["é"]?.kind else { Issue.record("t"); return }
        #expect(doc["t"]?.line == 3 && t.entry("é")?.column == 3)
        #expect(items.map(\.line) == [4, 4, 5] && items.map(\.column) == [10, 13, 8])
        guard case .array(let aot)? = doc["aot"]?.kind, case .table(let first) = aot[0].kind,
              case .table(let k)? = first["k"]?.kind, case .offsetDateTime(let dt)? = k["l"]?.kind else { Issue.record("aot"); return }
        #expect(aot[0].line == 6 && k["l"]?.line == 7 && k["l"]?.column == 7)
        #expect(dt.text == "1979-05-27T07:32:00Z" && dt.offsetMinutes == 0)
        #expect(dt.date == TOMLDate(year: 1979, month: 5, day: 27) && dt.time == TOMLTime(hour: 7, minute: 32, second: 0, nanosecond: 0))
        #expect(doc.keys == ["a", "t", "aot"])
    }

    @Test func theFourDateTimeKinds() throws {
        let doc = try TOML.parse("a = 1979-05-27t07:32:00.123456789-07:30\nb = 1979-05-27 07:32:00.5\nc = 1979-05-27\nd = 23:59:59.000001\n")
        guard case .offsetDateTime(let a)? = doc["a"]?.kind, case .localDateTime(let b)? = doc["b"]?.kind,
              case .localDate(let c)? = doc["c"]?.kind, case .localTime(let d)? = doc["d"]?.kind else { Issue.record("kinds"); return }
        #expect(a.offsetMinutes == -450 && a.time?.nanosecond == 123_456_789 && a.canonicalText == "1979-05-27T07:32:00.123456-07:30")
        #expect(b.time?.nanosecond == 500_000_000 && b.offsetMinutes == nil && b.description == "1979-05-27 07:32:00.5")
        #expect(c.time == nil && c.canonicalText == "1979-05-27")
        #expect(d.date == nil && d.canonicalText == "23:59:59.000001")
        #expect(doc["a"]?.typeName == "offset date-time" && doc["d"]?.typeName == "local time")
    }

    @Test func numbers() throws {
        let doc = try TOML.parse("""
            a = 9_223_372_036_854_775_807
            b = -9223372036854775808
            c = 0xDEAD_beef
            d = 0o755
            e = 0b1101
            f = -inf
            g = +nan
            h = 6.626e-34
            i = -0.0
            j = 1e400
            """)
        let ints = ["a", "b", "c", "d", "e"].compactMap { k -> Int? in if case .integer(let n)? = doc[k]?.kind { n } else { nil } }
        #expect(ints == [Int.max, Int.min, 0xDEADBEEF, 0o755, 13])
        guard case .float(let f)? = doc["f"]?.kind, case .float(let g)? = doc["g"]?.kind, case .float(let h)? = doc["h"]?.kind,
              case .float(let i)? = doc["i"]?.kind, case .float(let j)? = doc["j"]?.kind else { Issue.record("floats"); return }
        #expect(f == -.infinity && g.isNaN && h == 6.626e-34 && i == 0 && i.sign == .minus && j == .infinity)
        #expect(TOML.canonicalJSON(doc) == #"{"a":9223372036854775807,"b":-9223372036854775808,"c":3735928559,"d":493,"e":13,"f":-Infinity,"g":NaN,"h":6.626e-34,"i":-0.0,"j":Infinity}"#)
        for bad in ["9223372036854775808", "-9223372036854775809", "0x1_0000_0000_0000_0000", "0b" + String(repeating: "1", count: 64)] {
            #expect(fails("x = \(bad)")?.message.contains("64 bits") == true, "\(bad)")
        }
        for bad in ["01", "1__0", "_1", "1_", "+0x1", "0x", "1.", ".5", "1e", "1.e5", "0X10", "inf_", "Inf", "1,000"] {
            #expect(fails("x = \(bad)") != nil, "\(bad)")
        }
    }

    @Test func pythonReprOfFloats() throws {
        let cases: [(String, String)] = [("1e16", "1e+16"), ("1e15", "1000000000000000.0"), ("0.0001", "0.0001"), ("0.00001", "1e-05"),
                                         ("5e-324", "5e-324"), ("123.456", "123.456"), ("1.5e300", "1.5e+300"), ("100.0", "100.0"),
                                         ("12345678901234567.0", "1.2345678901234568e+16")]
        for (toml, python) in cases {
            #expect(TOML.canonicalJSON(try TOML.parse("x = \(toml)")) == "{\"x\":\(python)}", "\(toml)")
        }
    }

    @Test func stringsAndEscapes() throws {
        let doc = try TOML.parse("""
            a = "tab\\there \\u00E9 \\U0001F600 \\"q\\" \\\\"
            b = 'C:\\path'
            c = \"\"\"
            one \\
               two\"\"\"\"
            d = '''
            x''y'''''
            """)
        let strings = ["a", "b", "c", "d"].compactMap { k -> String? in if case .string(let s)? = doc[k]?.kind { s } else { nil } }
        #expect(strings == ["tab\there é 😀 \"q\" \\", "C:\\path", "one two\"", "x''y''"])
        #expect(fails("a = \"\\uD800\"")?.message.contains("not a Unicode scalar") == true)
        #expect(fails("a = \"\\x41\"")?.message.contains("unknown escape") == true)
        #expect(fails("a = \"bell \u{07}\"")?.column == 11)
        #expect(fails("a = 1 # \u{7F}")?.message.contains("comment") == true)
    }

    @Test func keysCompareByBytes() throws {
        // Precomposed and decomposed é are the same String in Swift, two keys in TOML.
        let doc = try TOML.parse("\"\u{E9}\" = 1\n\"e\u{301}\" = 2\n")
        #expect(doc.count == 2)
        #expect(TOML.canonicalJSON(doc) == "{\"e\u{301}\":2,\"\u{E9}\":1}")
    }

    @Test func redefinitionRules() {
        let invalid = [
            "[a]\n[a]", "a = 1\na = 2", "a.b = 1\n[a]", "[a]\nb.c = 1\n[a.b]", "a = {b = 1}\n[a]", "a = {b = 1}\na.c = 2",
            "a = [1]\n[[a]]", "[[a]]\n[a]", "[a]\n[[a]]", "[a.b]\n[a]\nb.c = 1", "a = {b = {c = 1}, b.d = 2}", "a = {x = 1, x = 2}",
            "[a]\nb = 1\n[a.b]", "a = [{b = 1}]\n[a.c]",
        ]
        for text in invalid { #expect(fails(text) != nil, "\(text)") }
        let valid = [
            "[a.b]\n[a]", "[a]\nb.c = 1\nb.d = 2", "[a.b.c]\n[a]\nb.d = 1", "[[a]]\n[a.b]\n[[a]]\n[a.b]", "[a]\nb.c = 1\n[a.b.d]",
            "a = {b.c = 1, b.d = 2}", "[fruit]\napple.color = 'red'\n[fruit.apple.texture]\nsmooth = true",
        ]
        for text in valid {
            do { _ = try TOML.parse(text) } catch { Issue.record("\(text): \(error)") }
        }
    }

    @Test func errorsNameLineAndColumn() {
        let cases: [(String, Int, Int, String)] = [
            ("a = 1\n[t]\nb = {c = 1,}\n", 3, 12, "trailing comma"),
            ("a = 1\nb = 1979-02-29\n", 2, 5, "does not exist"),
            ("x = \"é\" é", 1, 9, "end of the line"),
            ("[t]\n[t]\n", 2, 2, "already defined (line 1)"),
            ("a = {b = 1\n", 1, 11, "closed with '}' on the line"),
            ("a = [\n1,\n2\n", 1, 5, "never closed"),
        ]
        for (text, line, column, fragment) in cases {
            guard let e = fails(text) else { Issue.record("no error for \(text)"); continue }
            #expect(e.line == line && e.column == column, "\(text): \(e)")
            #expect(e.message.contains(fragment), "\(e.message)")
        }
    }

    @Test func bytesLevelRules() throws {
        let crlf = try TOML.parse(bytes: Array("a = \"\"\"x\r\ny\"\"\"\r\nb = 1\r\n".utf8))
        guard case .string(let a)? = crlf["a"]?.kind else { Issue.record("crlf"); return }
        #expect(a == "x\ny" && crlf["b"]?.line == 3, "\(a.debugDescription) \(String(describing: crlf["b"]))")
        #expect(throws: TOMLError.self) { try TOML.parse(bytes: [0xEF, 0xBB, 0xBF] + Array("a = 1\n".utf8)) }
        #expect(throws: TOMLError.self) { try TOML.parse(bytes: Array("a = 1\r b = 2".utf8)) }
        let bad = Array("a = 1\nb = \"".utf8) + [0xC3, 0x28] + Array("\"\n".utf8)
        do { _ = try TOML.parse(bytes: bad); Issue.record("invalid UTF-8 accepted") } catch {
            #expect(error.line == 2 && error.column == 6 && error.message.contains("UTF-8"))
        }
        for overlong in [[0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]] as [[UInt8]] {
            #expect(throws: TOMLError.self) { try TOML.parse(bytes: Array("a = '".utf8) + overlong + [0x27]) }
        }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = "a = " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(fails(deep)?.message.contains("nested") == true)
        let fine = "a = " + String(repeating: "[", count: TOML.maximumNesting) + String(repeating: "]", count: TOML.maximumNesting)
        #expect(fails(fine) == nil)
        let header = "[" + Array(repeating: "k", count: 10_000).joined(separator: ".") + "]"
        #expect(fails(header) != nil)
    }
}
