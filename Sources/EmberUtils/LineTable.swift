#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Maps UTF-8 byte offsets to 1-based lines and 0-based byte columns. Built once per
/// file; a lookup is a binary search. Line breaks are LF, CRLF and lone CR, as in Python.
public struct LineTable: Sendable {
    /// Byte offset at which each line starts; `lineStarts[0] == 0`.
    public let lineStarts: [Int]
    public let byteCount: Int

    public init(_ bytes: UnsafeBufferPointer<UInt8>) {
        var starts = [0]
        starts.reserveCapacity(bytes.count / 32 + 1)
        var i = 0
        let n = bytes.count
        while i < n {
            // Eight bytes at a time: each LF found by a bit mask; a word holding a CR takes
            // the byte loop (CRLF may straddle words).
            if i + 8 <= n {
                let word = UnsafeRawPointer(bytes.baseAddress! + i).loadUnaligned(as: UInt64.self)
                if LineTable.zeroBytes(word ^ 0x0D0D_0D0D_0D0D_0D0D) == 0 {
                    var lf = LineTable.zeroBytes(word ^ 0x0A0A_0A0A_0A0A_0A0A)
                    while lf != 0 {
                        starts.append(i + lf.trailingZeroBitCount / 8 + 1)
                        lf &= lf &- 1
                    }
                    i += 8
                    continue
                }
            }
            let b = bytes[i]
            if b == 0x0A {
                starts.append(i + 1)
            } else if b == 0x0D {
                if i + 1 < n && bytes[i + 1] == 0x0A { i += 1 }
                starts.append(i + 1)
            }
            i += 1
        }
        lineStarts = starts
        byteCount = n
    }

    /// 0x80 in each byte of `v` that is zero, exactly (no carries between bytes).
    @inline(__always) static func zeroBytes(_ v: UInt64) -> UInt64 {
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        return ~(((v & low7) &+ low7) | v | low7)
    }

    public init(_ bytes: [UInt8]) {
        self = bytes.withUnsafeBufferPointer { LineTable($0) }
    }

    public var lineCount: Int { lineStarts.count }

    /// 1-based line and 0-based UTF-8 byte column of `offset`.
    public func location(of offset: Int) -> (line: Int, column: Int) {
        var lo = 0
        var hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) >> 1
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        return (lo + 1, offset - lineStarts[lo])
    }

    /// Byte offset of a 1-based line and 0-based byte column.
    public func offset(line: Int, column: Int) -> Int {
        lineStarts[line - 1] + column
    }

    /// Line and column of each of `offsets` (ascending) in one forward pass over `text`,
    /// without building a table: line breaks are counted eight bytes at a time. Gives what
    /// `LineTable(text).location(of:)` gives, for any offset.
    public static func locations(ofAscending offsets: [Int], in text: UnsafeBufferPointer<UInt8>) -> [(line: Int, column: Int)] {
        var out: [(line: Int, column: Int)] = []
        out.reserveCapacity(offsets.count)
        let n = text.count
        guard n > 0 else { return offsets.map { (1, $0) } }
        if memchr(text.baseAddress!, 0x0D, n) == nil {
            // Only LF breaks (nearly every file): count them 32 bytes at a time, and find the
            // line's start backwards (lines are short).
            var line = 1, i = 0
            for target in offsets {
                if target < i { line = 1; i = 0 }
                let limit = min(target, n)
                line += countLineFeeds(text, from: i, to: limit)
                i = limit
                var lineStart = limit
                while lineStart > 0 && text[lineStart - 1] != 0x0A { lineStart -= 1 }
                out.append((line, target - lineStart))
            }
            return out
        }
        var line = 1, lineStart = 0, i = 0
        for target in offsets {
            if target < i {
                // Not ascending after all: count again from the start.
                line = 1; lineStart = 0; i = 0
            }
            let limit = min(target, n)
            scan: while i < limit {
                if i + 8 <= limit {
                    let word = UnsafeRawPointer(text.baseAddress! + i).loadUnaligned(as: UInt64.self)
                    if zeroBytes(word ^ 0x0D0D_0D0D_0D0D_0D0D) == 0 {
                        let lf = zeroBytes(word ^ 0x0A0A_0A0A_0A0A_0A0A)
                        if lf != 0 {
                            line += lf.nonzeroBitCount
                            lineStart = i + (63 - lf.leadingZeroBitCount) / 8 + 1
                        }
                        i += 8
                        continue
                    }
                }
                let b = text[i]
                if b == 0x0A {
                    line += 1
                    lineStart = i + 1
                } else if b == 0x0D {
                    if i + 1 < n && text[i + 1] == 0x0A {
                        // CRLF: one break, which starts the next line only after the LF.
                        guard i + 1 < limit else { break scan }
                        i += 1
                    }
                    line += 1
                    lineStart = i + 1
                }
                i += 1
            }
            out.append((line, target - lineStart))
        }
        return out
    }

    /// LF bytes in `text[from..<to]`: SIMD compares summed in byte lanes (flushed before
    /// they can overflow), then the tail byte by byte.
    static func countLineFeeds(_ text: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int {
        var i = from, count = 0
        let base = UnsafeRawPointer(text.baseAddress!)
        let lf = SIMD32<UInt8>(repeating: 0x0A)
        while i + 32 <= to {
            var lanes = SIMD32<UInt8>(repeating: 0)
            var blocks = 0
            while blocks < 255 && i + 32 <= to {
                let v = (base + i).loadUnaligned(as: SIMD32<UInt8>.self)
                // A true lane is all ones (255): subtracting it adds one.
                lanes &-= unsafeBitCast(v .== lf, to: SIMD32<UInt8>.self)
                blocks += 1
                i += 32
            }
            count += Int(SIMD32<UInt16>(truncatingIfNeeded: lanes).wrappedSum())
        }
        while i < to {
            if text[i] == 0x0A { count += 1 }
            i += 1
        }
        return count
    }
}
