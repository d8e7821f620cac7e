#if canImport(Glibc)
import EmberProject
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Module names, numbered by their rank in name order (`StringOrder`), looked up by their
/// UTF-8 bytes. A name may be asked for in two pieces, `base` and `name`, standing for
/// "base.name": `from x import y` learns whether `x.y` is a module without making the
/// string. ASCII keys go through an open-addressing table over the bytes; a non-ASCII key
/// (or any key, when a name is non-ASCII) through a `[String: Int32]`, because `String`
/// equality is canonical equivalence (U+212A KELVIN SIGN equals "K"), which bytes are not.
final class ModuleTable: Sendable {
    /// The names in name order: `names[number]`.
    let names: [String]
    /// Every name, for the non-ASCII lookups.
    private let numbers: [String: Int32]
    /// All names' bytes, name k at `starts[k]..<starts[k + 1]`.
    private let bytes: [UInt8]
    private let starts: [Int32]
    /// Open addressing: a name's number, -1 for an empty slot; the count is a power of two.
    private let slots: [Int32]
    /// Whether every name is ASCII (then an ASCII key can only equal a name byte for byte).
    private let asciiOnly: Bool

    init(_ modules: some Collection<String>) {
        names = StringOrder.sorted(Array(modules))
        var numbers: [String: Int32] = [:]
        numbers.reserveCapacity(names.count)
        var bytes: [UInt8] = []
        var starts: [Int32] = [0]
        starts.reserveCapacity(names.count + 1)
        for (i, name) in names.enumerated() {
            numbers[name] = Int32(i)
            bytes.append(contentsOf: name.utf8)
            starts.append(Int32(bytes.count))
        }
        self.numbers = numbers
        asciiOnly = bytes.withUnsafeBufferPointer(ModuleTable.isASCII)
        var capacity = 16
        while capacity < names.count * 2 { capacity <<= 1 }
        var slots = [Int32](repeating: -1, count: capacity)
        let count = names.count
        bytes.withUnsafeBufferPointer { all in
            for i in 0..<count {
                let name = UnsafeBufferPointer(rebasing: all[Int(starts[i])..<Int(starts[i + 1])])
                var h = ModuleTable.hash(name, nil) & (capacity - 1)
                while slots[h] >= 0 { h = (h + 1) & (capacity - 1) }
                slots[h] = Int32(i)
            }
        }
        self.bytes = bytes
        self.starts = starts
        self.slots = slots
    }

    /// FNV-1a over the key's bytes ("base.name" when `name` is given).
    @inline(__always) static func hash(_ base: UnsafeBufferPointer<UInt8>, _ name: UnsafeBufferPointer<UInt8>?) -> Int {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in base { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        if let name {
            h = (h ^ 0x2E) &* 0x0000_0100_0000_01B3
            for b in name { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    /// The number of "base.name" (of `base` alone when `name` is nil); -1: not a module.
    func number(_ base: UnsafeBufferPointer<UInt8>, _ name: UnsafeBufferPointer<UInt8>? = nil) -> Int32 {
        guard asciiOnly, ModuleTable.isASCII(base), name.map(ModuleTable.isASCII) ?? true else {
            var key = String(decoding: base, as: UTF8.self)
            if let name { key += "." + String(decoding: name, as: UTF8.self) }
            return numbers[key] ?? -1
        }
        let length = base.count + (name.map { $0.count + 1 } ?? 0)
        let mask = slots.count - 1
        return bytes.withUnsafeBufferPointer { all in
            slots.withUnsafeBufferPointer { slots in
                starts.withUnsafeBufferPointer { starts in
                    var h = ModuleTable.hash(base, name) & mask
                    while true {
                        let k = Int(slots[h])
                        if k < 0 { return -1 }
                        let s = Int(starts[k])
                        if Int(starts[k + 1]) - s == length, ModuleTable.equal(all.baseAddress! + s, base, name) { return Int32(k) }
                        h = (h + 1) & mask
                    }
                }
            }
        }
    }

    func number(of module: String) -> Int32 { withUTF8Bytes(module) { number($0) } }

    /// Whether the bytes at `at` are "base.name" (the length is checked by the caller).
    @inline(__always) private static func equal(_ at: UnsafePointer<UInt8>, _ base: UnsafeBufferPointer<UInt8>, _ name: UnsafeBufferPointer<UInt8>?) -> Bool {
        if base.count > 0, memcmp(at, base.baseAddress!, base.count) != 0 { return false }
        guard let name else { return true }
        if at[base.count] != 0x2E { return false }
        return name.count == 0 || memcmp(at + base.count + 1, name.baseAddress!, name.count) == 0
    }

    @inline(__always) static func isASCII(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var any: UInt8 = 0
        for x in b { any |= x }
        return any < 0x80
    }
}

/// `body` with the string's UTF-8 bytes, without a copy when it has them in one piece.
@inline(__always) func withUTF8Bytes<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    if let r = s.utf8.withContiguousStorageIfAvailable(body) { return r }
    var copy = s
    return copy.withUTF8(body)
}
