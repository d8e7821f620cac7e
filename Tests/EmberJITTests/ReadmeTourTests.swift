import Ember
import Foundation
import Testing

/// The README's tour, compiled and run (on the offline provider where the README names a
/// hosted model), so the front page cannot drift from the API.
@Suite struct ReadmeTourTests {
    @Test func tourCompilesAndBehaves() async throws {
        let sentiment = module("sentiment_classifier", doc: "Labels a text.") { (text: String) in
            text.contains("good") ? "positive" : "negative"
        }
        #expect(try await sentiment("a good day") == "positive")
        let shout = module("shout") { (s: String) in s.uppercased() }
        let pipeline = chain(shout, sentiment)
        let same = shout >>> sentiment
        #expect(try await pipeline("good") == "negative")  // "GOOD" has no "good"
        #expect(try await same("good") == "negative")
        let vote = ensemble(operators: [sentiment, sentiment, sentiment]) { votes in votes[0] }
        #expect(try await vote("good") == "positive")
        let both = ensemble(sentiment, module("length") { (s: String) in s.count })
        let (label, length) = try await both("good")
        #expect(label == "positive" && length == 4)
        let sturdy = retry(sentiment, maxAttempts: 3, backoff: Backoff(initialDelay: .milliseconds(100)))
        #expect(try await sturdy("good") == "positive")
        let cached = cache(sentiment, maxSize: 1_000)
        #expect(try await cached("bad") == "negative")
        let labels = try await vmap(sentiment, batchSize: 16)(["good", "bad"])
        #expect(labels == ["positive", "negative"])

        let models = Models(settings: ModelSettings(environment: [:]))
        let r = try await models("offline/gpt-4o", "Capital of France?")
        #expect(!r.text.isEmpty && r.usage.totalTokens > 0)
        let judge = models.instance("offline/gpt-4o", temperature: 0, system: "Answer yes or no.")
        let step: Module<String, ModelResponse> = judge.module()
        let fast = jit(step)
        #expect(fast.strategy == .basic)
        let batch = jit(judge.module(), over: [[String]].self, producing: [[ModelResponse]].self)
        #expect(batch.strategy == .advanced)
        let answers = try await batch([["a", "b"], ["a"]])
        #expect(answers.map { $0.count } == [2, 1])
        #expect(answers[0][0].text == (try await step("a")).text)
    }
}
