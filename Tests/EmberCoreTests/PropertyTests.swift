import Ember
import PropertyBased
import Testing

/// Universal laws, checked on random inputs drawn from swift-property-based's generators
/// with fixed seeds: every run checks the same cases, and a failure names its case.
@Suite struct PropertyTests {
    @Test func vmapEqualsSequentialMapForEveryBatchSize() async throws {
        let square = module("square") { (n: Int) in n &* n &+ 1 }
        try await checkProperty(count: 100, zip(Gen.int(in: -1_000...1_000).array(of: 0...100), Gen.int(in: 1...32))) {
            items, batchSize in
            let mapped = try await vmap(square, batchSize: batchSize)(items)
            #expect(mapped == items.map { $0 &* $0 &+ 1 })
        }
    }

    @Test func vmapKeepsInputOrderWhenLaterItemsFinishFirst() async throws {
        // Earlier items yield more often, so completion order differs from input order.
        let slowFirst = module("slowFirst") { (n: Int) -> Int in
            for _ in 0..<(100 - n % 100) { await Task.yield() }
            return n
        }
        try await checkProperty(count: 20, zip(Gen.int(in: 0...99).array(of: 0...60), Gen.int(in: 1...32))) {
            items, batchSize in
            let mapped = try await vmap(slowFirst, batchSize: batchSize)(items)
            #expect(mapped == items)
        }
    }

    @Test func chainIsAssociative() async throws {
        // Affine maps with wrapping arithmetic: composition order matters, so a chain that
        // reordered or dropped a stage would be caught.
        let coefficients = Gen.int(in: -50...50)
        try await checkProperty(count: 100, zip(coefficients.array(of: 6), Gen.int(in: -10_000...10_000))) { c, x in
            let a = module("a") { (v: Int) in v &* c[0] &+ c[1] }
            let b = module("b") { (v: Int) in v &* c[2] &+ c[3] }
            let d = module("c") { (v: Int) in v &* c[4] &+ c[5] }
            let left = try await chain(chain(a, b), d)(x)
            let right = try await chain(a, chain(b, d))(x)
            let flat = try await chain(a, b, d)(x)
            let byOperator = try await (a >>> b >>> d)(x)
            let expected = ((x &* c[0] &+ c[1]) &* c[2] &+ c[3]) &* c[4] &+ c[5]
            #expect(left == expected)
            #expect(right == expected)
            #expect(flat == expected)
            #expect(byOperator == expected)
        }
    }

    @Test func retryCallsFailuresPlusOneOrExactlyMaxAttempts() async throws {
        try await checkProperty(count: 100, zip(Gen.int(in: 0...12), Gen.int(in: 1...8))) { failures, maxAttempts in
            let calls = Counter()
            // The flaky module fails its first `failures` calls, each with its attempt number.
            let flaky = module("flaky") { (x: Int) -> Int in
                let n = calls.increment()
                if n <= failures { throw TestFailure(attempt: n) }
                return x * 10
            }
            let sturdy = retry(flaky, maxAttempts: maxAttempts, backoff: Backoff(initialDelay: .milliseconds(5)), sleep: { _ in })
            do {
                let value = try await sturdy(7)
                #expect(failures < maxAttempts, "succeeded although every attempt should fail")
                #expect(value == 70)
                #expect(calls.count == failures + 1)
            } catch let error as TestFailure {
                #expect(failures >= maxAttempts, "gave up although an attempt was left")
                #expect(calls.count == maxAttempts)
                #expect(error == TestFailure(attempt: maxAttempts), "must rethrow the last error")
            }
        }
    }

    @Test func backoffGrowsExponentiallyWithinJitterAndCap() async throws {
        try await checkProperty(count: 100, zip(Gen.int(in: 1...20), Gen.int(in: 0...1_000))) { failed, draw in
            let b = Backoff(initialDelay: .milliseconds(10), multiplier: 2, maxDelay: .seconds(5), jitter: 0.5)
            let unit = Double(draw) / 1_000
            let ns = b.delayNanoseconds(afterFailedAttempts: failed, unitRandom: unit)
            let uncapped = 10_000_000.0 * Double(1 << min(failed - 1, 40))
            let base = min(uncapped, 5e9)
            #expect(Double(ns) <= base + 1)
            #expect(Double(ns) >= base * 0.5 - 1)
        }
    }

    @Test func forwardLineCountingEqualsTheLineTable() async throws {
        // Texts of line breaks (LF, CR, CRLF and runs of them) among other bytes, long
        // enough to cross the counter's eight-byte words at every alignment; every offset
        // from 0 to past the end is asked, ascending, and in the table's answer.
        let pieces: [[UInt8]] = [[0x0A], [0x0D], [0x0D, 0x0A], [0x61], [0x62, 0x63, 0x64], Array("import os".utf8), [0xC3, 0xA9], [0x20]]
        try await checkProperty(count: 300, Gen.int(in: 0...(pieces.count - 1)).array(of: 0...80)) { choice in
            let text = choice.flatMap { pieces[$0] }
            let table = LineTable(text)
            let offsets = Array(0...(text.count + 2))
            let counted = text.withUnsafeBufferPointer { LineTable.locations(ofAscending: offsets, in: $0) }
            for o in offsets {
                #expect(counted[o] == table.location(of: o), "offset \(o) of \(text)")
            }
            // Sparse ascending offsets, and one that goes back (counted again from the start).
            let sparse = offsets.filter { $0 % 7 == 3 } + [1]
            let again = text.withUnsafeBufferPointer { LineTable.locations(ofAscending: sparse, in: $0) }
            for (k, o) in sparse.enumerated() { #expect(again[k] == table.location(of: o)) }
        }
    }

    @Test func forwardLineCountingWithoutCarriageReturnsEqualsTheLineTable() async throws {
        // Texts with LF breaks only take the 32-byte SIMD path; up to ~20 KB, so that lane
        // counters are flushed (every 255 blocks) at least once in the longer ones.
        let pieces: [[UInt8]] = [[0x0A], [0x0A, 0x0A], [0x61], Array("from . import x".utf8), [0xE2, 0x82, 0xAC], Array(repeating: 0x20, count: 40)]
        try await checkProperty(count: 150, zip(Gen.int(in: 0...(pieces.count - 1)).array(of: 0...1_200), Gen.int(in: 1...97))) { choice, step in
            let text = choice.flatMap { pieces[$0] }
            let table = LineTable(text)
            let offsets = Array(stride(from: 0, through: text.count + 1, by: step))
            let counted = text.withUnsafeBufferPointer { LineTable.locations(ofAscending: offsets, in: $0) }
            for (k, o) in offsets.enumerated() {
                #expect(counted[k] == table.location(of: o), "offset \(o) of a \(text.count)-byte text")
            }
        }
    }
}
