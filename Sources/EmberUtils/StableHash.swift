import Synchronization

/// FNV-1a, 64 bit. Unlike `Hasher`, its value is the same in every process, which is
/// what deterministic outputs (the offline provider, seeded tests) need.
public struct StableHash: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    @inline(__always)
    public mutating func combine(byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
    }

    public mutating func combine<S: Sequence>(bytes: S) where S.Element == UInt8 {
        for b in bytes { combine(byte: b) }
    }

    public mutating func combine(_ string: String) {
        combine(bytes: string.utf8)
        combine(byte: 0xff)  // separator: ("ab","c") and ("a","bc") hash differently
    }

    public mutating func combine(_ integer: UInt64) {
        var v = integer
        for _ in 0..<8 {
            combine(byte: UInt8(truncatingIfNeeded: v))
            v >>= 8
        }
    }

    public static func of(_ string: String) -> UInt64 {
        var h = StableHash()
        h.combine(string)
        return h.value
    }
}

/// SplitMix64: a small, fast, seedable generator. Tests and jitter take one so that a
/// run can be replayed from its seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// A seeded generator that concurrent callers can share: each draw takes a lock.
/// A class, because escaping closures must capture it by reference (a `Mutex` local
/// captured by an escaping closure is not safe).
public final class SharedRandomSource: Sendable {
    private let generator: Mutex<SeededGenerator>

    public init(seed: UInt64) { generator = Mutex(SeededGenerator(seed: seed)) }

    /// A uniform draw in [0, 1).
    public func nextUnit() -> Double {
        generator.withLock { g in Double(g.next() >> 11) / Double(UInt64(1) << 53) }
    }
}
