import Ember
import Testing

@Suite struct ModuleTests {
    @Test func moduleCarriesNameAndDocumentation() async throws {
        let m = module("sentiment_classifier", doc: "Labels a text.") { (text: String) in
            text.contains("good") ? "positive" : "negative"
        }
        #expect(m.name == "sentiment_classifier")
        #expect(m.documentation == "Labels a text.")
        #expect(try await m("a good day") == "positive")
        #expect(try await m("rain") == "negative")
    }

    @Test func emptyChainIsIdentity() async throws {
        let id = chain(Int.self)
        #expect(try await id(41) == 41)
        let fromArray = chain([Module<String, String>]())
        #expect(try await fromArray("x") == "x")
    }

    @Test func chainFoldsLeftToRightAcrossTypes() async throws {
        let parse = module("parse") { (s: String) in Int(s) ?? 0 }
        let double = module("double") { (n: Int) in n * 2 }
        let show = module("show") { (n: Int) in "n=\(n)" }
        let c = chain(parse, double, show)
        #expect(try await c("21") == "n=42")
        #expect(try await (parse >>> double >>> show)("5") == "n=10")
    }
}
