/// The stop map of a text for the skimmer: bit k of word w stands for byte 64w+k. It has
/// one more word than the text needs, whose highest bit is set, so that a search for the
/// next stop always ends (at or after the text's end) without a bounds check.
struct SkimMaps {
    /// Bytes the code loop must look at: every byte that is not plain (see `skimIsPlain`)
    /// except a '.' before neither a digit nor a '.' (no number starts there), and the plain
    /// TAB FF % & / | ~ (cheaper to stop at than to rule out).
    let stops: UnsafeMutablePointer<UInt64>
    /// Words of the map, the last one included.
    let words: Int

    init(count n: Int) {
        words = n / 64 + 1
        stops = .allocate(capacity: words)
    }

    func deallocate() { stops.deallocate() }

    /// Fills the map for `p` (whose count it was made for) and returns the offsets
    /// where one of the filter's `namesAnywhere` occurs, ascending (as `anywhereOccurrences`).
    func build(_ p: UnsafeBufferPointer<UInt8>, _ filter: CompiledFilter) -> [Int] {
        if let probes = filter.anywhereProbes {
            return build(p, filter, probes)
        }
        build(p, filter, NoProbes())
        return filter.anywhereOccurrences(p)
    }

    /// `build` with the names' probes (specialized: no probes, no cost).
    @discardableResult
    private func build<Probes: BlockProbes>(_ p: UnsafeBufferPointer<UInt8>, _ filter: CompiledFilter, _ probes: Probes) -> [Int] {
        let n = p.count
        var found: [Int] = []
        // Whole blocks straight from the text while the probes' reads stay inside it; the
        // rest from a copy padded with spaces (no stop, no name).
        var w = 0
        if let base = p.baseAddress {
            while w &* 64 &+ 64 &+ probes.reach <= n {
                let at = base + w &* 64
                let (code, maybeName) = SkimBytes.classify(at, probes)
                stops[w] = code
                if maybeName { findNames(p, at: at, from: w &* 64, probes, filter, &found) }
                w &+= 1
            }
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 192) { padded in
                let copy = padded.baseAddress!
                while w * 64 < n {
                    let from = w * 64
                    copy.initialize(repeating: SPACE, count: 192)
                    copy.update(from: base + from, count: min(n - from, 192))
                    let (code, maybeName) = SkimBytes.classify(UnsafePointer(copy), probes)
                    stops[w] = code
                    if maybeName { findNames(p, at: UnsafePointer(copy), from: from, probes, filter, &found) }
                    w += 1
                }
            }
        }
        if w < words {  // the text ends at a block's end: the last word is past it
            stops[w] = 0
        }
        stops[words - 1] |= 1 << 63
        return found
    }

    /// Rare (the probes matched in the block at `from`, whose bytes are at `at`): every name
    /// at every candidate.
    private func findNames<Probes: BlockProbes>(_ p: UnsafeBufferPointer<UInt8>, at: UnsafePointer<UInt8>, from: Int, _ probes: Probes,
                                                _ filter: CompiledFilter, _ found: inout [Int]) {
        var candidates: UInt64 = 0
        for k in 0..<4 {
            let v = UnsafeRawPointer(at + 16 * k).loadUnaligned(as: SkimBytes.Bytes.self)
            candidates |= SkimBytes.bitMask(probes.candidates(at + 16 * k, v)) << UInt64(16 * k)
        }
        while candidates != 0 {
            let s = from + candidates.trailingZeroBitCount
            candidates &= candidates - 1
            for name in filter.anywhere where s + name.count <= p.count {
                var m = 0
                while m < name.count && p[s + m] == name[m] { m += 1 }
                if m == name.count { found.append(s) }
            }
        }
    }
}

/// Where a block of `SkimMaps.build` may hold a name; `reach`: how many bytes past the
/// block's 64 `candidates` may read.
protocol BlockProbes {
    var reach: Int { get }
    /// Lanes (0xFF) of the 16 positions at `at` (whose bytes are `v`) where a name may start.
    func candidates(_ at: UnsafePointer<UInt8>, _ v: SkimBytes.Bytes) -> SkimBytes.Bytes
}

struct NoProbes: BlockProbes {
    var reach: Int { 1 }
    @inline(__always) func candidates(_ at: UnsafePointer<UInt8>, _ v: SkimBytes.Bytes) -> SkimBytes.Bytes { SkimBytes.Bytes(repeating: 0) }
}

/// Up to three names of 3...48 bytes, each as two of its bytes compared 16 positions at a
/// time: its second byte and its rarest byte after that (`rarity`), which rules out most
/// positions where the name does not start (the few left are checked in full).
struct AnywhereProbes: BlockProbes, Sendable {
    typealias Bytes = SkimBytes.Bytes
    let second: (Bytes, Bytes, Bytes)
    let rare: (Bytes, Bytes, Bytes)
    /// Offset of each name's rare byte.
    let rareAt: (Int, Int, Int)
    /// Bytes past a block's start the probes read.
    let reach: Int

    init?(_ names: [[UInt8]]) {
        guard (1...3).contains(names.count), names.allSatisfy({ (3...48).contains($0.count) }) else { return nil }
        // Missing slots repeat the first name.
        let slots = (0..<3).map { names[$0 < names.count ? $0 : 0] }
        let rareAt = slots.map { w in (2..<w.count).min { rarity(w[$0]) < rarity(w[$1]) }! }
        func splat(_ b: UInt8) -> Bytes { Bytes(repeating: Int8(bitPattern: b)) }
        second = (splat(slots[0][1]), splat(slots[1][1]), splat(slots[2][1]))
        rare = (splat(slots[0][rareAt[0]]), splat(slots[1][rareAt[1]]), splat(slots[2][rareAt[2]]))
        self.rareAt = (rareAt[0], rareAt[1], rareAt[2])
        reach = slots.map(\.count).max()!
    }

    @inline(__always) func candidates(_ at: UnsafePointer<UInt8>, _ v: Bytes) -> Bytes {
        let raw = UnsafeRawPointer(at)
        let next = raw.loadUnaligned(fromByteOffset: 1, as: Bytes.self)
        @inline(__always) func probe(_ s: Bytes, _ r: Bytes, _ rareAt: Int) -> Bytes {
            SkimBytes.equal(next, s) & SkimBytes.equal(raw.loadUnaligned(fromByteOffset: rareAt, as: Bytes.self), r)
        }
        return probe(second.0, rare.0, rareAt.0) | probe(second.1, rare.1, rareAt.1) | probe(second.2, rare.2, rareAt.2)
    }
}

/// The skimmer's byte classes, 16 bytes at a time with SIMD (portable: no target flags
/// needed; SSE2 on x86-64, NEON on arm64). Vector types are spelled out in full: with an
/// inferred `SIMD16(repeating:)` the comparisons compile to a slow per-lane loop.
enum SkimBytes {
    typealias Bytes = SIMD16<Int8>

    @inline(__always) static func equal(_ v: Bytes, _ c: Bytes) -> Bytes { unsafeBitCast(v .== c, to: Bytes.self) }

    /// Lanes of `v` whose byte (unsigned) is in lo...hi, as 0xFF (else 0).
    @inline(__always) static func inRange(_ v: Bytes, _ lo: UInt8, _ hi: UInt8) -> Bytes {
        let shifted = v &+ Bytes(repeating: Int8(bitPattern: 0x80 &- lo))
        return unsafeBitCast(shifted .< Bytes(repeating: Int8(truncatingIfNeeded: -128 + Int(hi - lo) + 1)), to: Bytes.self)
    }

    /// The stop map's bytes (see `SkimMaps.stops`).
    @inline(__always) static func codeStops(_ v: Bytes, next: Bytes) -> Bytes {
        // Control bytes and 0x7B...0xFF ({ | } ~ DEL, non-ASCII) in one signed comparison.
        let outer = unsafeBitCast((v &+ Bytes(repeating: 5)) .< Bytes(repeating: 0x25), to: Bytes.self)
        // A dot matters only before a digit (a number) or a dot ("..." must not be taken
        // as a number's start); '/' before one is a harmless extra.
        let dots = equal(v, Bytes(repeating: 0x2E)) & inRange(next, 0x2E, 0x39)
        return outer | inRange(v, 0x21, 0x29) | dots | inRange(v, 0x2F, 0x39) | inRange(v, 0x5B, 0x5D)
            | equal(v, Bytes(repeating: 0x3F)) | equal(v, Bytes(repeating: 0x60))
    }

    /// ' " \\ LF CR.
    @inline(__always) static func stringStops(_ v: Bytes) -> Bytes {
        equal(v, Bytes(repeating: Int8(QUOTE1))) | equal(v, Bytes(repeating: Int8(QUOTE2))) | equal(v, Bytes(repeating: Int8(BACKSLASH)))
            | equal(v, Bytes(repeating: Int8(LF))) | equal(v, Bytes(repeating: Int8(CR)))
    }

    /// Bit k set for each lane k that is 0xFF (lanes are 0 or 0xFF).
    @inline(__always) static func bitMask(_ lanes: Bytes) -> UInt64 {
        let halves = unsafeBitCast(lanes & Bytes(repeating: 1), to: SIMD2<UInt64>.self)
        // Bytes 0 or 1: the multiplication gathers byte k's bit into bit 56+k, no carries.
        let gather: UInt64 = 0x0102_0408_1020_4080
        let low = (UInt64(littleEndian: halves[0]) &* gather) &>> 56
        let high = (UInt64(littleEndian: halves[1]) &* gather) &>> 56
        return low | high &<< 8
    }

    /// The 64 bytes at `at` as a stop-map word, and whether a name may start among them.
    @inline(__always) static func classify<Probes: BlockProbes>(_ at: UnsafePointer<UInt8>, _ probes: Probes) -> (UInt64, Bool) {
        var code: UInt64 = 0
        var candidates = Bytes(repeating: 0)
        for k in 0..<4 {
            let v = UnsafeRawPointer(at + 16 &* k).loadUnaligned(as: Bytes.self)
            let next = UnsafeRawPointer(at + 16 &* k + 1).loadUnaligned(as: Bytes.self)
            code |= bitMask(codeStops(v, next: next)) &<< UInt64(16 &* k)
            candidates |= probes.candidates(at + 16 &* k, v)
        }
        return (code, any(candidates))
    }

    /// How many of the 16 bytes at `at` are spaces before the first other byte.
    @inline(__always) static func leadingSpaces(_ at: UnsafePointer<UInt8>) -> Int {
        let v = UnsafeRawPointer(at).loadUnaligned(as: Bytes.self)
        return firstLane(~equal(v, Bytes(repeating: Int8(SPACE))))
    }

    /// Length (0...16) of the run of name bytes [0-9A-Za-z_] the 16 bytes at `at` start with.
    @inline(__always) static func leadingNameBytes(_ at: UnsafePointer<UInt8>) -> Int {
        let v = UnsafeRawPointer(at).loadUnaligned(as: Bytes.self)
        let name = inRange(v | Bytes(repeating: 0x20), 0x61, 0x7A) | inRange(v, 0x30, 0x39) | equal(v, Bytes(repeating: 0x5F))
        return firstLane(~name)
    }

    /// Offset (0..<16) of the first LF or CR of the 16 bytes at `at`; 16: none.
    @inline(__always) static func firstLineBreak(_ at: UnsafePointer<UInt8>) -> Int {
        let v = UnsafeRawPointer(at).loadUnaligned(as: Bytes.self)
        return firstLane(equal(v, Bytes(repeating: Int8(LF))) | equal(v, Bytes(repeating: Int8(CR))))
    }

    /// Offset (0..<16) of the first ' " \\ LF or CR of the 16 bytes at `at`; 16: none.
    @inline(__always) static func firstStringStop(_ at: UnsafePointer<UInt8>) -> Int {
        firstLane(stringStops(UnsafeRawPointer(at).loadUnaligned(as: Bytes.self)))
    }

    /// Index of the first 0xFF lane (lanes are 0 or 0xFF); 16: none.
    @inline(__always) static func firstLane(_ lanes: Bytes) -> Int {
        let halves = unsafeBitCast(lanes, to: SIMD2<UInt64>.self)
        let low = UInt64(littleEndian: halves[0]), high = UInt64(littleEndian: halves[1])
        if low != 0 { return low.trailingZeroBitCount &>> 3 }
        if high != 0 { return 8 &+ high.trailingZeroBitCount &>> 3 }
        return 16
    }

    @inline(__always) static func any(_ lanes: Bytes) -> Bool {
        let halves = unsafeBitCast(lanes, to: SIMD2<UInt64>.self)
        return halves[0] | halves[1] != 0
    }
}
