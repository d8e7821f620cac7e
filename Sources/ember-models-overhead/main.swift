// The cost of going through `models(...)` (name routing, registry lookup, pricing,
// latency clock, response assembly) on top of the provider itself, measured on the
// offline provider with zero latency. Build in release:
//
//     swift run -c release ember-models-overhead [--batches 31] [--batch-size 2000]
//
// Batches of `models("offline/gpt-4o", prompt)` and of the peer, a direct
// `OfflineProvider.complete` with the same request, alternate in one run; each batch gives
// ns/call; the report is the median batch of each, their difference and ratio.
import Ember
import Foundation

func argument(_ name: String, default value: Int) -> Int {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name) else { return value }
    guard i + 1 < args.count, let v = Int(args[i + 1]), v > 0 else {
        FileHandle.standardError.write(Data("ember-models-overhead: \(name) needs a positive integer\n".utf8))
        exit(2)
    }
    return v
}

let batches = argument("--batches", default: 31)
let batchSize = argument("--batch-size", default: 2000)
let prompts = (0..<64).map { "Classify the sentiment of review number \($0): the food was good" }

let models = Models(settings: ModelSettings(environment: [:], offlineLatency: .zero))
let direct = OfflineProvider()

func timeModels() async throws -> Double {
    let start = MonotonicClock.nanoseconds()
    var sink = 0
    for i in 0..<batchSize { sink &+= try await models("offline/gpt-4o", prompts[i & 63]).usage.totalTokens }
    let ns = Double(MonotonicClock.nanoseconds() - start) / Double(batchSize)
    if sink == -1 { print(sink) }
    return ns
}

func timeDirect() async throws -> Double {
    let start = MonotonicClock.nanoseconds()
    var sink = 0
    for i in 0..<batchSize {
        sink &+= try await direct.complete(ModelRequest(model: "gpt-4o", prompt: prompts[i & 63])).usage.totalTokens
    }
    let ns = Double(MonotonicClock.nanoseconds() - start) / Double(batchSize)
    if sink == -1 { print(sink) }
    return ns
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

// Warm-up: registry entry, allocator, caches.
_ = try await timeModels()
_ = try await timeDirect()

var viaModels: [Double] = []
var viaProvider: [Double] = []
for b in 0..<batches {
    // Alternate which goes first so drift in machine load hits both alike.
    if b % 2 == 0 {
        viaModels.append(try await timeModels())
        viaProvider.append(try await timeDirect())
    } else {
        viaProvider.append(try await timeDirect())
        viaModels.append(try await timeModels())
    }
}
let m = median(viaModels)
let p = median(viaProvider)
print("models() on the offline provider, 0 latency: \(batches) batches × \(batchSize) calls, interleaved")
print(String(format: "  models(\"offline/gpt-4o\", prompt)   median %8.0f ns/call (min %.0f, max %.0f)", m, viaModels.min()!, viaModels.max()!))
print(String(format: "  OfflineProvider.complete (peer)    median %8.0f ns/call (min %.0f, max %.0f)", p, viaProvider.min()!, viaProvider.max()!))
print(String(format: "  overhead of models()               %8.0f ns/call (ratio %.2f×)", m - p, m / p))
