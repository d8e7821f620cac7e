import EmberProject
import EmberUtils

extension LineTable: LineTableLike {}

/// One `import` declaration in a Swift file.
public struct SwiftImport: Sendable, Hashable {
    /// The imported module: the first component of `import X.Y` / `import struct X.Y`.
    public var module: String
    /// Byte span of the module name.
    public var offset: Int
    public var end: Int
    /// Attributes written before it: `testable`, `_exported`, `_implementationOnly`, ...
    public var attributes: [String]
    /// Inside an `#if` block (e.g. `#if canImport(Glibc)`); every branch counts.
    public var conditional: Bool
}

public struct SwiftScan: Sendable {
    public var imports: [SwiftImport] = []
    public var suppressions: [Suppression] = []
    /// Unterminated comment or string: the imports after it may be missing.
    public var problems: [(offset: Int, message: String)] = []
}

/// Finds import declarations in Swift source bytes, skipping comments (nested block
/// comments too) and string literals (including multi-line, raw and interpolated ones).
public enum SwiftImportScanner {
    static let modifiers: Set<[UInt8]> = Set(["public", "internal", "private", "fileprivate", "package", "open"].map { Array($0.utf8) })
    static let importKinds: Set<[UInt8]> = Set(["struct", "class", "enum", "protocol", "typealias", "func", "let", "var"].map { Array($0.utf8) })

    public static func scan(_ bytes: [UInt8], lineTable: LineTable) -> SwiftScan {
        bytes.withUnsafeBufferPointer { buffer in
            var scanner = Scanner(b: buffer, lineTable: lineTable)
            scanner.run()
            return scanner.result
        }
    }

    struct Scanner {
        let b: UnsafeBufferPointer<UInt8>
        let lineTable: LineTable
        var i = 0
        var result = SwiftScan()
        /// Only attributes and modifiers seen so far on this declaration.
        var atDeclarationStart = true
        var attributes: [String] = []
        var ifDepth = 0

        init(b: UnsafeBufferPointer<UInt8>, lineTable: LineTable) {
            self.b = b
            self.lineTable = lineTable
        }

        @inline(__always) func byte(_ k: Int) -> UInt8 { k < b.count ? b[k] : 0 }

        static func isIdentStart(_ c: UInt8) -> Bool {
            (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c >= 0x80
        }
        static func isIdent(_ c: UInt8) -> Bool { isIdentStart(c) || (c >= 0x30 && c <= 0x39) }

        mutating func run() {
            let n = b.count
            while i < n {
                let c = b[i]
                switch c {
                case 0x0A, 0x0D, 0x20, 0x09, 0x0C:
                    i += 1
                case UInt8(ascii: "/") where byte(i + 1) == UInt8(ascii: "/"):
                    lineComment()
                case UInt8(ascii: "/") where byte(i + 1) == UInt8(ascii: "*"):
                    blockComment()
                case UInt8(ascii: "\""):
                    atDeclarationStart = false
                    string()
                case UInt8(ascii: "#") where isRawStringStart(i):
                    atDeclarationStart = false
                    string()
                case UInt8(ascii: "#"):
                    directive()
                case UInt8(ascii: "@"):
                    i += 1
                    let start = i
                    while i < n, Scanner.isIdent(b[i]) { i += 1 }
                    attributes.append(String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self))
                    // Attribute arguments such as @_spi(Name) or @available(...)
                    if byte(i) == UInt8(ascii: "(") { skipBalancedParens() }
                case UInt8(ascii: "`"):
                    atDeclarationStart = false
                    i += 1
                    while i < n, b[i] != UInt8(ascii: "`"), b[i] != 0x0A { i += 1 }
                    if i < n, b[i] == UInt8(ascii: "`") { i += 1 }
                default:
                    if Scanner.isIdentStart(c) {
                        let start = i
                        while i < n, Scanner.isIdent(b[i]) { i += 1 }
                        word(start, i)
                    } else {
                        if c == UInt8(ascii: ";") || c == UInt8(ascii: "{") || c == UInt8(ascii: "}") {
                            atDeclarationStart = true
                        } else {
                            atDeclarationStart = false
                        }
                        attributes.removeAll()
                        i += 1
                    }
                }
            }
        }

        func slice(_ s: Int, _ e: Int) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: b[s..<e]) }

        mutating func word(_ start: Int, _ end: Int) {
            let w = slice(start, end)
            let isNewStatement = atDeclarationStart || !lineHasCodeBefore(start)
            if w.elementsEqual("import".utf8) && (isNewStatement || !attributes.isEmpty) {
                importDeclaration()
                atDeclarationStart = false
                attributes.removeAll()
                return
            }
            if isNewStatement && SwiftImportScanner.modifiers.contains(Array(w)) {
                atDeclarationStart = true
                return
            }
            atDeclarationStart = false
            attributes.removeAll()
        }

        /// True when some code precedes `offset` on its line (other than attributes/modifiers
        /// tracked separately).
        func lineHasCodeBefore(_ offset: Int) -> Bool {
            var k = offset - 1
            while k >= 0 {
                let c = b[k]
                if c == 0x0A || c == 0x0D { return false }
                if c != 0x20 && c != 0x09 { return true }
                k -= 1
            }
            return false
        }

        mutating func skipSpacesAndComments() {
            while i < b.count {
                let c = b[i]
                if c == 0x20 || c == 0x09 { i += 1 }
                else if c == UInt8(ascii: "/") && byte(i + 1) == UInt8(ascii: "*") { blockComment() }
                else { return }
            }
        }

        mutating func readIdentifier() -> (Int, Int)? {
            skipSpacesAndComments()
            if byte(i) == UInt8(ascii: "`") {
                let s = i + 1
                var e = s
                while e < b.count, b[e] != UInt8(ascii: "`"), b[e] != 0x0A { e += 1 }
                guard e < b.count, b[e] == UInt8(ascii: "`") else { return nil }
                i = e + 1
                return (s, e)
            }
            guard Scanner.isIdentStart(byte(i)) else { return nil }
            let s = i
            while i < b.count, Scanner.isIdent(b[i]) { i += 1 }
            return (s, i)
        }

        mutating func importDeclaration() {
            guard var name = readIdentifier() else { return }
            if SwiftImportScanner.importKinds.contains(Array(slice(name.0, name.1))) {
                guard let next = readIdentifier() else { return }
                name = next
            }
            let module = String(decoding: slice(name.0, name.1), as: UTF8.self)
            result.imports.append(SwiftImport(module: module, offset: name.0, end: name.1,
                                              attributes: attributes, conditional: ifDepth > 0))
            // Skip `.Sub.Path`
            while byte(i) == UInt8(ascii: ".") {
                i += 1
                _ = readIdentifier()
            }
        }

        mutating func skipBalancedParens() {
            var depth = 0
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: "(") { depth += 1; i += 1 }
                else if c == UInt8(ascii: ")") { depth -= 1; i += 1; if depth == 0 { return } }
                else if c == UInt8(ascii: "\"") || (c == UInt8(ascii: "#") && isRawStringStart(i)) { string() }
                else if c == UInt8(ascii: "/") && byte(i + 1) == UInt8(ascii: "*") { blockComment() }
                else if c == UInt8(ascii: "/") && byte(i + 1) == UInt8(ascii: "/") { lineComment() }
                else { i += 1 }
            }
        }

        mutating func lineComment() {
            let start = i
            let standsAlone = !lineHasCodeBefore(start)
            i += 2
            let bodyStart = i
            while i < b.count, b[i] != 0x0A, b[i] != 0x0D { i += 1 }
            let body = Array(slice(bodyStart, i))[...]
            if let s = SuppressionParser.parse(comment: body, bodyOffset: bodyStart, commentOffset: start,
                                                standsAlone: standsAlone, lineTable: lineTable) {
                result.suppressions.append(s)
            }
        }

        mutating func blockComment() {
            let start = i
            i += 2
            var depth = 1
            while i < b.count {
                if b[i] == UInt8(ascii: "/") && byte(i + 1) == UInt8(ascii: "*") { depth += 1; i += 2 }
                else if b[i] == UInt8(ascii: "*") && byte(i + 1) == UInt8(ascii: "/") {
                    depth -= 1; i += 2
                    if depth == 0 { return }
                } else { i += 1 }
            }
            result.problems.append((start, "block comment is never closed with */; imports after it are not seen"))
        }

        func isRawStringStart(_ k: Int) -> Bool {
            var j = k
            while j < b.count, b[j] == UInt8(ascii: "#") { j += 1 }
            return j > k && j < b.count && b[j] == UInt8(ascii: "\"")
        }

        /// Skips one string literal starting at `i` (`"`, `"""`, `#"`, `##"""`, ...),
        /// including interpolations, which may hold further strings.
        mutating func string() {
            let start = i
            var hashes = 0
            while byte(i) == UInt8(ascii: "#") { hashes += 1; i += 1 }
            let multiline = byte(i) == 0x22 && byte(i + 1) == 0x22 && byte(i + 2) == 0x22
            i += multiline ? 3 : 1
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: "\\") {
                    // An escape counts only with the literal's number of '#'.
                    var j = i + 1
                    var h = 0
                    while h < hashes, byte(j) == UInt8(ascii: "#") { h += 1; j += 1 }
                    if h == hashes {
                        if byte(j) == UInt8(ascii: "(") {
                            i = j
                            skipBalancedParens()
                            continue
                        }
                        i = j + 1
                        continue
                    }
                    i += 1
                    continue
                }
                if !multiline && (c == 0x0A || c == 0x0D) {
                    result.problems.append((start, "string literal is not closed on its line"))
                    return
                }
                if c == 0x22 {
                    if multiline {
                        if byte(i + 1) == 0x22 && byte(i + 2) == 0x22 && closesWithHashes(i + 3, hashes) {
                            i += 3 + hashes
                            return
                        }
                    } else if closesWithHashes(i + 1, hashes) {
                        i += 1 + hashes
                        return
                    }
                }
                i += 1
            }
            result.problems.append((start, "string literal is never closed; imports after it are not seen"))
        }

        func closesWithHashes(_ k: Int, _ hashes: Int) -> Bool {
            for h in 0..<hashes where byte(k + h) != UInt8(ascii: "#") { return false }
            return true
        }

        /// `#if`, `#elseif`, `#else`, `#endif` lines; other `#` words (#available, #selector) are skipped.
        mutating func directive() {
            i += 1
            let ws = i
            while i < b.count, Scanner.isIdent(b[i]) { i += 1 }
            let w = slice(ws, i)
            if w.elementsEqual("if".utf8) { ifDepth += 1 }
            else if w.elementsEqual("endif".utf8) { ifDepth = max(0, ifDepth - 1) }
            if w.elementsEqual("if".utf8) || w.elementsEqual("elseif".utf8) || w.elementsEqual("else".utf8) || w.elementsEqual("endif".utf8) {
                // The condition runs to the end of the line; canImport(X) is a check, not an import.
                while i < b.count, b[i] != 0x0A, b[i] != 0x0D {
                    if b[i] == UInt8(ascii: "/") && byte(i + 1) == UInt8(ascii: "/") { lineComment(); break }
                    if b[i] == UInt8(ascii: "/") && byte(i + 1) == UInt8(ascii: "*") { blockComment(); continue }
                    i += 1
                }
                atDeclarationStart = true
                attributes.removeAll()
            } else {
                atDeclarationStart = false
            }
        }
    }
}
