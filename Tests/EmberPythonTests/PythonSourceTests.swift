import EmberPython
import EmberUtils
import Testing

@Suite struct PythonSourceTests {
    @Test func utf8WithoutBOMKeepsBytes() throws {
        let source = try PythonSource(bytes: Array("x = 'é'\n".utf8))
        #expect(source.encoding == "utf-8")
        #expect(!source.hasBOM)
        #expect(source.text == source.original)
    }

    @Test func bomIsKeptOutOfText() throws {
        let source = try PythonSource(bytes: try Fixture.bytes("bom.py"))
        #expect(source.hasBOM)
        #expect(source.original.count == source.text.count + 3)
        #expect(source.text.starts(with: Array("print".utf8)))
        #expect(try source.encode(text: source.text) == source.original)
    }

    @Test func latin1CookieDecodesToUTF8() throws {
        let source = try PythonSource(bytes: try Fixture.bytes("latin1_cookie.py"))
        #expect(source.encoding == "latin-1")
        #expect(String(decoding: source.text, as: UTF8.self).contains("café"))
        #expect(try source.encode(text: source.text) == source.original)
    }

    @Test func cp1252CookieOnSecondLine() throws {
        let source = try PythonSource(bytes: try Fixture.bytes("cp1252_cookie.py"))
        #expect(source.encoding == "cp1252")
        #expect(String(decoding: source.text, as: UTF8.self).contains("€ “quoted”"))
        #expect(try source.encode(text: source.text) == source.original)
    }

    @Test func koi8rCookie() throws {
        let source = try PythonSource(bytes: try Fixture.bytes("koi8r_cookie.py"))
        #expect(source.encoding == "koi8-r")
        #expect(String(decoding: source.text, as: UTF8.self).contains("Привет"))
    }

    @Test func cookieOnLineTwoIgnoredAfterCode() throws {
        // Line 1 is code, so the latin-1 cookie on line 2 does not count: the byte is invalid UTF-8.
        #expect(throws: PythonSourceError.self) {
            try PythonSource(bytes: Array("x = 1\n# coding: latin-1\n".utf8) + [0x23, 0xE9, 0x0A])
        }
    }

    @Test func invalidUTF8NamesTheOffset() throws {
        do {
            _ = try PythonSource(bytes: Array("x = '".utf8) + [0xFF] + Array("'\n".utf8))
            Issue.record("expected an error")
        } catch {
            #expect(error.offset == 5)
            #expect(error.message.contains("invalid UTF-8 byte 0xFF"))
        }
        // Overlong encodings and UTF-16 surrogates are invalid too.
        #expect(throws: PythonSourceError.self) { try PythonSource(bytes: [0xC0, 0xAF]) }
        #expect(throws: PythonSourceError.self) { try PythonSource(bytes: [0xED, 0xA0, 0x80]) }
        #expect(throws: PythonSourceError.self) { try PythonSource(bytes: [0xE2, 0x82]) }
    }

    @Test func unknownEncodingIsAnError() throws {
        do {
            _ = try PythonSource(bytes: Array("# coding: klingon\nx = 1\n".utf8))
            Issue.record("expected an error")
        } catch {
            #expect(error.message.hasPrefix("unknown encoding: klingon"))
            #expect(error.offset == 10)
        }
    }

    @Test func bomContradictingCookieIsAnError() throws {
        #expect(throws: PythonSourceError.self) {
            try PythonSource(bytes: [0xEF, 0xBB, 0xBF] + Array("# coding: latin-1\n".utf8))
        }
        // CPython quirk: "utf8" (no dash) with a BOM is also rejected.
        #expect(throws: PythonSourceError.self) {
            try PythonSource(bytes: [0xEF, 0xBB, 0xBF] + Array("# coding: utf8\n".utf8))
        }
        let ok = try PythonSource(bytes: [0xEF, 0xBB, 0xBF] + Array("# coding: utf-8\n".utf8))
        #expect(ok.hasBOM)
    }

    @Test func codecAliases() throws {
        for (cookie, expected) in [("latin1", "latin-1"), ("ISO-8859-1", "latin-1"), ("iso_8859_15", "iso8859-15"),
                                   ("windows-1252", "cp1252"), ("UTF-8", "utf-8"), ("utf8", "utf-8"), ("KOI8-R", "koi8-r")] {
            let source = try PythonSource(bytes: Array("# -*- coding: \(cookie) -*-\n".utf8))
            #expect(source.encoding == expected, "cookie \(cookie)")
        }
    }

    @Test func undefinedByteInCodec() throws {
        // 0x81 is undefined in cp1252.
        do {
            _ = try PythonSource(bytes: Array("# coding: cp1252\n".utf8) + [0x81])
            Issue.record("expected an error")
        } catch {
            #expect(error.offset == 17)
        }
    }

    @Test func mixedLineEndingsLineTable() throws {
        let source = try PythonSource(bytes: try Fixture.bytes("mixed_newlines.py"))
        #expect(source.lineTable.lineCount == 4)
        #expect(source.lineTable.location(of: 14).line == 3)
    }

    @Test func encodeRejectsUnrepresentableCharacter() throws {
        let source = try PythonSource(bytes: try Fixture.bytes("latin1_cookie.py"))
        #expect(throws: PythonSourceError.self) { try source.encode(text: Array("x = '€'".utf8)) }
    }
}

@Suite struct MultiByteCodecTests {
    @Test func gbkCookie() throws {
        let source = try PythonSource(bytes: try Fixture.bytes("gbk_cookie.py"))
        #expect(source.encoding == "gbk")
        #expect(String(decoding: source.text, as: UTF8.self).contains("名字 = \"中文字符串\""))
        #expect(try source.encode(text: source.text) == source.original)
        #expect(PythonParser.parse(source).isValid)
    }

    @Test func shiftJISCookie() throws {
        let source = try PythonSource(bytes: try Fixture.bytes("shift_jis_cookie.py"))
        #expect(source.encoding == "shift_jis")
        #expect(String(decoding: source.text, as: UTF8.self).contains("日本語のテキスト"))
        let edited = try source.applying([SourceEdit(range: 0..<0, replacement: "x = 1\n")])
        #expect(edited == Array("x = 1\n".utf8) + source.original)
    }

    @Test func invalidMultiByteSequenceNamesTheOffset() throws {
        do {
            _ = try PythonSource(bytes: Array("# coding: gbk\nx = '".utf8) + [0x81, 0x20] + Array("'\n".utf8))
            Issue.record("expected an error")
        } catch {
            #expect(error.offset == 19)
        }
    }

    @Test func unrepresentableCharacterOnEncode() throws {
        let source = try PythonSource(bytes: try Fixture.bytes("gbk_cookie.py"))
        #expect(throws: PythonSourceError.self) { try source.encode(text: Array("x = '日本語のテキスト€🙂'".utf8)) }
    }
}
