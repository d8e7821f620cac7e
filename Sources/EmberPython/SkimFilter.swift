#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The import skimmer's word tables: the filter compiled to bytes, the packed word table,
// the starter prefix map and the sieve that rules names out by length and end bytes.

/// The filter's words as bytes, checked by length first.
struct CompiledFilter: Sendable {
    let starters: [[UInt8]]
    let starterLengths: UInt64  // bit k set: some starter has length k (k < 64)
    let anywhere: [[UInt8]]
    let anywhereLengths: UInt64
    let headers: [[UInt8]]
    let headerLengths: UInt64
    let marker: [UInt8]
    /// Each anywhere-name's offset of its rarest byte (the one memchr looks for).
    let anywherePivots: [Int]
    /// The memchr passes of `anywhereOccurrences`, worked out once.
    let anywherePasses: [AnywherePass]
    /// Starters by their sieve hash, for an exact test with one lookup; nil when some
    /// starter is longer than 8 bytes or two share a hash (then `matches` compares bytes).
    let starterTable: PackedWordTable?
    /// The pairs of bytes a line starting with a starter starts with (see `StarterPrefixes`).
    let starterPrefixes: StarterPrefixes
    var structureNeedsAnywhereName = false
    /// Quick "certainly not" tests for the word lists, so that most names need no
    /// comparison against them (the lists are arrays of arrays: costly to walk per name).
    let starterSieve: WordSieve
    let anywhereSieve: WordSieve
    /// Offset in `marker` of the byte memchr looks for in a comment (the rarest kind).
    let markerPivot: Int
    /// The anywhere-names for `SkimMaps.build`'s SIMD search; nil: too many or too short
    /// (then `anywhereOccurrences` searches).
    let anywhereProbes: AnywhereProbes?

    init(lineStarters: [String], namesAnywhere: [String], commentMarker: String, headerWords: [String]) {
        starters = lineStarters.map { Array($0.utf8) }
        anywhere = namesAnywhere.map { Array($0.utf8) }
        headers = headerWords.map { Array($0.utf8) }
        marker = Array(commentMarker.utf8)
        starterLengths = starters.reduce(0) { $0 | ($1.count < 64 ? 1 << UInt64($1.count) : 0) }
        anywhereLengths = anywhere.reduce(0) { $0 | ($1.count < 64 ? 1 << UInt64($1.count) : 0) }
        headerLengths = headers.reduce(0) { $0 | ($1.count < 64 ? 1 << UInt64($1.count) : 0) }
        let pivots = anywhere.map { w in w.indices.min { rarity(w[$0]) < rarity(w[$1]) } ?? 0 }
        anywherePivots = pivots
        var byPivot: [UInt8: [Int]] = [:]  // pivot byte -> names
        for (x, w) in anywhere.enumerated() where !w.isEmpty { byPivot[w[pivots[x]], default: []].append(x) }
        anywherePasses = byPivot.keys.sorted().map { [anywhere] byte in
            let names = byPivot[byte]!
            // The byte after each name's pivot (-1: the pivot is its last byte).
            let afters = names.map { x in pivots[x] + 1 < anywhere[x].count ? Int32(anywhere[x][pivots[x] + 1]) : -1 }
            return AnywherePass(pivot: byte, names: names, afters: afters, words: names.map { anywhere[$0] }, offsets: names.map { pivots[$0] },
                                after: ByteSet(afters))
        }
        starterTable = PackedWordTable(starters, headers: headers)
        starterPrefixes = StarterPrefixes(starters)
        starterSieve = WordSieve(starters)
        anywhereSieve = WordSieve(anywhere)
        // A byte that is not a lowercase letter is rarer in comments (e.g. '-' of "ember-lint").
        markerPivot = marker.firstIndex { !((0x61...0x7A).contains($0)) } ?? 0
        anywhereProbes = AnywhereProbes(anywhere)
    }

    /// Offsets where an anywhere-name's bytes occur in the text (in code, strings or
    /// comments, maybe inside a longer name), ascending. Most files hold none, and then no
    /// name needs to be looked at while skipping; in the others only the lines around
    /// these offsets do.
    func anywhereOccurrences(_ p: UnsafeBufferPointer<UInt8>) -> [Int] {
        guard let base = p.baseAddress else { return [] }
        let n = p.count
        var found: [Int] = []
        // One memchr pass per distinct pivot byte; its hits are tried against every name
        // with that pivot, first by the byte after the pivot (cheap, and it rules out most).
        for pass in anywherePasses {
            var from = 0
            while from < n, let hit = memchr(base + from, Int32(pass.pivot), n - from) {
                let j = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                from = j + 1
                let next: Int32 = j + 1 < n ? Int32(p[j + 1]) : -1
                guard next < 0 || pass.after.contains(UInt8(next)) else { continue }
                for y in 0..<pass.names.count where pass.afters[y] < 0 || pass.afters[y] == next {
                    let w = pass.words[y]
                    let s = j - pass.offsets[y]
                    guard s >= 0, s + w.count <= n else { continue }
                    var m = 0
                    while m < w.count && p[s + m] == w[m] { m += 1 }
                    if m == w.count { found.append(s) }
                }
            }
        }
        found.sort()
        return found
    }

    @inline(__always) static func matches(_ words: [[UInt8]], _ lengths: UInt64, _ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        let length = e - s
        guard length < 64, lengths & (1 << UInt64(length)) != 0 else { return false }
        for w in words where w.count == length {
            var k = 0
            while k < length && p[s + k] == w[k] { k += 1 }
            if k == length { return true }
        }
        return false
    }

    func containsMarker(_ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        let m = marker.count
        guard m > 0, e - s >= m, let base = p.baseAddress else { return false }
        let k = markerPivot
        // Candidate starts are s...e-m; their pivot bytes lie in s+k ..< e-m+k+1.
        var from = s + k
        let limit = e - m + k + 1
        while from < limit, let hit = memchr(base + from, Int32(marker[k]), limit - from) {
            let j = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            let start = j - k
            var t = 0
            while t < m && p[start + t] == marker[t] { t += 1 }
            if t == m { return true }
            from = j + 1
        }
        return false
    }
}

/// How common a byte is in Python source (higher: more common), to pick the byte of a
/// word that memchr finds the fewest times. Letters by their count in the CPython 3.11
/// stdlib, rarest first; other bytes ('_' is about as common as 'p') count as common.
func rarity(_ b: UInt8) -> Int {
    let lettersRarestFirst = Array("JQZYKXVWjGHzBUMDFPOqCSLRNAvIkwTyExbghmupdcflinoratse".utf8)
    return lettersRarestFirst.firstIndex(of: b) ?? 100
}

/// A word of 1...8 bytes as an integer: its bytes little-endian, zero above.
private func packedKey(_ w: [UInt8]) -> UInt64 {
    var key: UInt64 = 0
    for (k, b) in w.enumerated() { key |= UInt64(b) << (8 * UInt64(k)) }
    return key
}

/// Words of 1...8 bytes by their `WordSieve.hash`: the word packed into an integer
/// (`packedKey`) and whether it is a header word. Immutable after init.
final class PackedWordTable: @unchecked Sendable {
    let keys: UnsafeMutablePointer<UInt64>
    let isHeader: UnsafeMutablePointer<UInt8>  // 0: no word, 1: a starter, 2: a header starter

    init?(_ words: [[UInt8]], headers: [[UInt8]]) {
        guard words.allSatisfy({ !$0.isEmpty && $0.count <= 8 }) else { return nil }
        keys = .allocate(capacity: 256)
        keys.initialize(repeating: 0, count: 256)
        isHeader = .allocate(capacity: 256)
        isHeader.initialize(repeating: 0, count: 256)
        for w in words {
            let h = Int(WordSieve.hash(length: w.count, first: w[0], last: w[w.count - 1]))
            let key = packedKey(w)
            if isHeader[h] != 0 && keys[h] != key { return nil }  // deinit frees
            keys[h] = key
            isHeader[h] = headers.contains(w) ? 2 : 1
        }
    }

    deinit {
        keys.deallocate()
        isHeader.deallocate()
    }
}

/// A bit per pair of bytes (65,536 bits): set for the first two bytes of every starter, and
/// for a one-byte starter followed by any byte that does not continue an ASCII name. A line
/// whose first two bytes are not in it starts with no starter, so most lines need no look
/// at their first word. (A name running into non-ASCII is not told apart here: the skip
/// gives such a line to the tokenizer anyway.) Immutable after init.
final class StarterPrefixes: @unchecked Sendable {
    let bits: UnsafeMutablePointer<UInt64>

    init(_ starters: [[UInt8]]) {
        bits = .allocate(capacity: 1024)
        bits.initialize(repeating: 0, count: 1024)
        func insert(_ a: UInt8, _ b: UInt8) {
            let key = Int(a) << 8 | Int(b)
            bits[key >> 6] |= 1 << UInt64(key & 63)
        }
        for w in starters where !w.isEmpty {
            if w.count >= 2 {
                insert(w[0], w[1])
            } else {
                for b in 0...255 where !isASCIINameContinue(UInt8(b)) { insert(w[0], UInt8(b)) }
            }
        }
    }

    deinit { bits.deallocate() }

    @inline(__always) func contains(_ a: UInt8, _ b: UInt8) -> Bool {
        let key = Int(a) &<< 8 | Int(b)
        return (bits[key &>> 6] &>> UInt64(key & 63)) & 1 != 0
    }
}

/// One memchr pass of `CompiledFilter.anywhereOccurrences`: the names whose rarest byte is
/// `pivot`, where that byte sits in each, and the byte after it.
struct AnywherePass: Sendable {
    let pivot: UInt8
    let names: [Int]
    let afters: [Int32]
    let words: [[UInt8]]
    let offsets: [Int]
    /// Bytes some name has after its pivot (all bytes when one has none).
    let after: ByteSet
}

/// 256 bits, one per byte value.
struct ByteSet: Sendable {
    var bits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init() {}

    /// The bytes of `values` (-1: every byte).
    init(_ values: [Int32]) {
        for v in values {
            if v < 0 {
                for b in 0...255 { insert(UInt8(b)) }
            } else {
                insert(UInt8(v))
            }
        }
    }

    mutating func insert(_ b: UInt8) {
        switch b >> 6 {
        case 0: bits.0 |= 1 << UInt64(b & 63)
        case 1: bits.1 |= 1 << UInt64(b & 63)
        case 2: bits.2 |= 1 << UInt64(b & 63)
        default: bits.3 |= 1 << UInt64(b & 63)
        }
    }

    @inline(__always) func contains(_ b: UInt8) -> Bool {
        let word: UInt64
        switch b >> 6 {
        case 0: word = bits.0
        case 1: word = bits.1
        case 2: word = bits.2
        default: word = bits.3
        }
        return (word >> UInt64(b & 63)) & 1 != 0
    }
}

/// A 256-bit set of (length, first byte, last byte) hashes of a word list: a name whose
/// hash is absent is certainly not in the list.
struct WordSieve: Sendable {
    var hashes = ByteSet()

    init(_ words: [[UInt8]]) {
        for w in words where !w.isEmpty {
            hashes.insert(UInt8(WordSieve.hash(length: w.count, first: w[0], last: w[w.count - 1])))
        }
    }

    @inline(__always) static func hash(length: Int, first: UInt8, last: UInt8) -> UInt64 {
        (UInt64(truncatingIfNeeded: length) &* 37 &+ UInt64(first) &* 5 &+ UInt64(last) &* 11) & 255
    }

    /// False: the word p[s..<e] (non-empty) is not in the list.
    @inline(__always) func mayContain(_ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        hashes.contains(UInt8(WordSieve.hash(length: e - s, first: p[s], last: p[e - 1])))
    }
}
