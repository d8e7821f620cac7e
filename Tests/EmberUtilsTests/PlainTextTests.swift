import EmberUtils
import Foundation
import Testing

/// The Foundation-free text helpers agree with Foundation on the cases the tools use.
@Suite struct PlainTextTests {
    @Test func printfAgreesWithFoundation() {
        let values: [Double] = [0, -0.0, 1.5, 2.5, -2.345, 1e-7, 123_456_789.987654, 1e300, .infinity, -.infinity]
        for v in values {
            for format in ["%.0f", "%.1f", "%.3f", "%.4f", "%.1f%%", "%.3f×"] {
                #expect(String.printf(format, v) == String(format: format, v), "\(format) of \(v)")
            }
        }
        #expect(String.printf("%04d-%02d-%02d %02d:%02d", 2026, 12, 6, 9, 5) == "2026-12-06 09:05")
        #expect(String.printf("byte 0x%02X", 10) == "byte 0x0A")
        #expect(String.printf("sim/b%03d", 7) == "sim/b007")
        // Longer than the first buffer: the helper grows it.
        #expect(String.printf("%0300d", 42) == String(repeating: "0", count: 298) + "42")
        #expect(String.fixed(2.675, digits: 2) == String(format: "%.2f", 2.675))
    }

    @Test func textHelpers() {
        #expect("a | b | c".replacingAll(" | ", with: "|") == "a|b|c")
        #expect("aaa".replacingAll("aa", with: "b") == "ba")
        #expect("x".replacingAll("", with: "y") == "x")
        #expect(" \t\r\nkey \r\n".trimmingASCIIWhitespace() == "key")
        #expect("\u{00A0}\tmodel name \u{2003}".trimmingUnicodeSpaces() == "model name")
        #expect("\"Debian\"".trimmed { $0 == "\"" } == "Debian")
        let text = "p < 0.05 and p < 0.01"
        #expect(text.byteRange(of: " < ").map { text[$0.upperBound...] } == "0.05 and p < 0.01")
        #expect(text.byteRange(of: " < ", last: true).map { text[$0.upperBound...] } == "0.01")
        #expect(text.byteRange(of: "none") == nil)
    }
}
