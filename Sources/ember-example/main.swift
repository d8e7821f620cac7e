// An example pipeline of the module core on the offline, deterministic provider:
// three "models" vote on the sentiment of each review (ensemble + majority aggregator),
// each vote is retried on injected failures and cached, and the reviews are classified
// concurrently (vmap). The output is the same on every run and every machine.
import Ember
import Foundation

let labels = ["positive", "negative", "neutral"]

/// One voter: asks an offline model and takes the first label word of its answer.
func voter(_ model: String, provider: OfflineProvider) -> Module<String, String> {
    module("vote.\(model)", doc: "Sentiment label from \(model).") { (review: String) in
        let reply = try await provider.complete(
            ModelRequest(model: model, prompt: "Sentiment of: \(review)", temperature: 0))
        return reply.text.split(separator: " ").map(String.init).first(where: labels.contains) ?? "neutral"
    }
}

let majority = module("majority", doc: "Most frequent label; ties go to the earliest voter.") {
    (votes: [String]) -> String in
    var counts: [String: Int] = [:]
    for v in votes { counts[v, default: 0] += 1 }
    return votes.max { counts[$0]! < counts[$1]! || (counts[$0]! == counts[$1]! && votes.firstIndex(of: $0)! > votes.firstIndex(of: $1)!) }!
}

let flaky = OfflineProvider(latency: .milliseconds(2), failureRate: 0.2, seed: 7)
let voters = ["gpt-4o", "claude-3-5-sonnet", "llama-3-70b"].map {
    cache(retry(voter($0, provider: flaky), maxAttempts: 8, backoff: .none), maxSize: 256)
}
let classify = ensemble(operators: voters, aggregator: majority, name: "sentiment")
let pipeline = vmap(classify, batchSize: 4)

let path = CommandLine.arguments.dropFirst().first ?? "fixtures/example/reviews.txt"
guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
    FileHandle.standardError.write(Data("ember-example: cannot read \(path): give a UTF-8 text file, one review per line\n".utf8))
    exit(2)
}
let reviews = text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }

MetricsRecorder.shared.setEnabled(true)
let results = try await pipeline(reviews)
for (review, label) in zip(reviews, results) {
    print(label.padding(toLength: 9, withPad: " ", startingAt: 0), review)
}
let firstPass = MetricsRecorder.shared.drain()
let again = try await pipeline(reviews)  // every vote is now a cache hit
let secondPass = MetricsRecorder.shared.drain()
precondition(again == results, "a cached pipeline must give the same labels")
print(
    "\(reviews.count) reviews, \(firstPass.filter { $0.name.hasPrefix("vote.") }.count) model calls answered;",
    "second pass: \(secondPass.filter(\.cacheHit).count) cache hits, same labels")
