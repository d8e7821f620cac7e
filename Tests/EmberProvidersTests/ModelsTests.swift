import Ember
import EmberTestSupport
import Foundation
import Synchronization
import Testing

/// The package root, found from this file (Tests/EmberProvidersTests/ModelsTests.swift).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func openAIBody(text: String = "ok", prompt: Int, completion: Int, cost: Double? = nil) -> String {
    let c = cost.map { #","cost":\#($0)"# } ?? ""
    return #"{"choices":[{"message":{"content":"\#(text)"}}],"usage":{"prompt_tokens":\#(prompt),"completion_tokens":\#(completion)\#(c)}}"#
}

func settings(_ server: LoopbackHTTPServer, strict: Bool = true) -> ModelSettings {
    ModelSettings(
        environment: ["OPENAI_API_KEY": "sk-models-test", "ANTHROPIC_API_KEY": "ak-models-test"],
        openAIBaseURL: server.baseURL, anthropicBaseURL: server.baseURL,
        http: HTTPProviderOptions(timeout: .seconds(10), retry: ProviderRetryPolicy(sleep: { _ in })),
        strictPricing: strict)
}

@Suite(.onDedicatedThreads) struct ModelsTests {
    @Test func gpt4CostsSixCentsForAThousandPromptAndFiveHundredCompletionTokens() async throws {
        let server = try LoopbackHTTPServer(responses: [.json(200, openAIBody(text: "hello", prompt: 1000, completion: 500))])
        defer { server.stop() }
        let models = Models(settings: settings(server))
        let r = try await models("gpt-4", "Say hello")
        #expect(r.text == "hello")
        #expect(r.usage == TokenUsage(promptTokens: 1000, completionTokens: 500))
        #expect(r.usage.totalTokens == 1500)
        #expect(abs(r.cost - 0.06) < 1e-12)
        #expect(r.costSource == .pricingTable)
        #expect(r.latency > .zero)
        #expect(r.provider == "openai" && r.model == "gpt-4")
        #expect(PricingTable.builtIn.price(for: "gpt-4")?.cost(of: TokenUsage(promptTokens: 1000, completionTokens: 500)) == 0.06)
    }

    @Test func providerReportedCostWins() async throws {
        let server = try LoopbackHTTPServer(responses: [.json(200, openAIBody(prompt: 1000, completion: 500, cost: 0.5))])
        defer { server.stop() }
        let r = try await Models(settings: settings(server))("openai/gpt-4", "x")
        #expect(r.cost == 0.5 && r.costSource == .provider)
    }

    @Test func routingByPrefixAndByRegistry() throws {
        let registry = ModelRegistry(settings: ModelSettings(environment: [:]))
        #expect(try registry.resolve("gpt-4o") == ResolvedModel(provider: "openai", model: "gpt-4o"))
        #expect(try registry.resolve("claude-3-5-sonnet") == ResolvedModel(provider: "anthropic", model: "claude-3-5-sonnet"))
        #expect(try registry.resolve("openai/my-finetune") == ResolvedModel(provider: "openai", model: "my-finetune"))
        #expect(try registry.resolve("anthropic/claude-x") == ResolvedModel(provider: "anthropic", model: "claude-x"))
        #expect(try registry.resolve("offline/anything") == ResolvedModel(provider: "offline", model: "anything"))
        #expect(try registry.provider(for: "gpt-4o") is OpenAIProvider)
        #expect(try registry.provider(for: "claude-3-haiku") is AnthropicProvider)
        #expect(try registry.provider(for: "offline/x") is OfflineProvider)
        for bad in ["gpt-5-imaginary", "mystery/gpt-4o", "openai/"] {
            do {
                _ = try registry.resolve(bad)
                Issue.record("\(bad) must not resolve")
            } catch let e as EmberError {
                guard case .unknownModel(let name, let hint) = e else { Issue.record("got \(e)"); continue }
                #expect(name == bad)
                #expect(hint.contains("openai/") || hint.contains("prefix"))
            }
        }
    }

    @Test func registeredPrefixRoutesToItsFactory() async throws {
        let registry = ModelRegistry(settings: ModelSettings(environment: [:]))
        registry.register(prefix: "local") { _, _ in OfflineProvider() }
        let models = Models(registry: registry)
        let r = try await models("local/llama", "hi")
        #expect(r.provider == "local" && r.costSource == .provider)
    }

    @Test func unknownPriceIsAnErrorBeforeAnyRequestUnlessNonStrict() async throws {
        let server = try LoopbackHTTPServer(responses: [.json(200, openAIBody(prompt: 10, completion: 10))])
        defer { server.stop() }
        do {
            _ = try await Models(settings: settings(server))("openai/my-finetune", "x")
            Issue.record("an unpriced model must fail in strict mode")
        } catch let e as EmberError {
            #expect(e.description.contains("openai/my-finetune") && e.description.contains("strictPricing: false"))
        }
        #expect(server.requests.isEmpty, "nothing is sent (or paid) before the price check")
        let r = try await Models(settings: settings(server, strict: false))("openai/my-finetune", "x")
        #expect(r.cost == 0 && r.costSource == .unpriced)
        #expect(server.requests.count == 1)
    }

    @Test func instanceDefaultsAreOverriddenAtCallTime() async throws {
        let server = try LoopbackHTTPServer(responses: [.json(200, openAIBody(prompt: 1, completion: 1))])
        defer { server.stop() }
        let models = Models(settings: settings(server))
        let m = models.instance("gpt-4o", temperature: 0.7, system: "You are terse.", maxTokens: 64)
        _ = try await m("first")
        _ = try await m("second", temperature: 0, system: "You are verbose.")
        _ = try await m.module()("third")
        let bodies = server.requests.compactMap(\.json)
        #expect(bodies.count == 3)
        #expect(bodies.map { $0["temperature"] as? Double } == [0.7, 0, 0.7])
        #expect(bodies.map { $0["max_completion_tokens"] as? Int } == [64, 64, 64])
        let systems = bodies.map { (($0["messages"] as? [[String: String]])?.first?["content"]) }
        #expect(systems == ["You are terse.", "You are verbose.", "You are terse."])
        #expect(m.module().determinism == .nondeterministic)
        #expect(models.instance("gpt-4o", temperature: 0).module().determinism == .deterministic)
        #expect(m.module().name == "models(gpt-4o)")
    }

    @Test func anthropicThroughModels() async throws {
        let server = try LoopbackHTTPServer(responses: [
            .json(200, #"{"content":[{"type":"text","text":"hi"}],"usage":{"input_tokens":1000000,"output_tokens":1000000}}"#)
        ])
        defer { server.stop() }
        let r = try await Models(settings: settings(server))("claude-3-haiku", "x", system: "s")
        #expect(r.text == "hi" && r.provider == "anthropic")
        #expect(abs(r.cost - 1.5) < 1e-9)  // 0.25 + 1.25 dollars per million
        #expect(server.requests.first?.headers["x-api-key"] == "ak-models-test")
    }

    @Test func offlineModelsAreFreeAndDeterministic() async throws {
        let models = Models(settings: ModelSettings(environment: [:]))
        let a = try await models("offline/gpt-4o", "Classify: good food")
        let b = try await models("offline/gpt-4o", "Classify: good food")
        #expect(a.text == b.text && a.usage == b.usage)
        #expect(a.cost == 0 && a.costSource == .provider)
        #expect(a.usage.promptTokens == 3)
    }

    @Test func offlineScriptedRepliesWinOverHashedText() async throws {
        var s = ModelSettings(environment: [:])
        s.offlineScript = ["What is 2+2?": "4, because two and two make four"]
        let models = Models(settings: s)
        let r = try await models("offline/m", "What is 2+2?")
        #expect(r.text == "4, because two and two make four")
        #expect(r.usage == TokenUsage(promptTokens: 3, completionTokens: 7))
        let other = try await models("offline/m", "Something else")
        #expect(other.text != r.text && !other.text.isEmpty)
    }

    @Test func fiftyConcurrentCallersGetOneProviderPerModel() async throws {
        let registry = ModelRegistry(settings: ModelSettings(environment: [:]))
        let names = ["gpt-4o", "openai/gpt-4o", "claude-3-haiku", "offline/a"]
        let ids = try await withThrowingTaskGroup(of: (String, ObjectIdentifier).self) { group in
            for i in 0..<50 {
                let name = names[i % names.count]
                group.addTask { (name, ObjectIdentifier(try registry.provider(for: name) as AnyObject)) }
            }
            var seen: [String: Set<ObjectIdentifier>] = [:]
            for try await (name, id) in group { seen[name, default: []].insert(id) }
            return seen
        }
        #expect(ids.values.allSatisfy { $0.count == 1 })
        // "gpt-4o" and "openai/gpt-4o" are the same model: one instance.
        #expect(ids["gpt-4o"] == ids["openai/gpt-4o"])
        #expect(registry.instanceCount == 3)
    }
}

@Suite struct PricingTableTests {
    @Test func compiledTableEqualsRulesFile() throws {
        let url = packageRoot.appendingPathComponent("rules/model-pricing.toml")
        let text = try String(contentsOf: url, encoding: .utf8)
        let parsed = try PricingTable.parse(toml: text, file: "rules/model-pricing.toml")
        // Name the entries that differ rather than print two whole tables.
        let compiled = PricingTable.builtIn.entries
        let differing = Set(parsed.entries.map(\.name)).union(compiled.map(\.name)).sorted().filter { name in
            parsed.entries.first { $0.name == name } != compiled.first { $0.name == name }
        }
        #expect(differing.isEmpty, "compiled table differs from rules/model-pricing.toml for \(differing); run: python3 scripts/generate-pricing.py")
        #expect(parsed.entries.map(\.name) == compiled.map(\.name), "same models in the same order")
        #expect(parsed.entries.count >= 10)
    }

    @Test func generatorIsUpToDate() throws {
        // The generator is Python (tomllib, a real TOML parser); where python3 is not on
        // PATH, env exits 127 and there is nothing to check.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", packageRoot.appendingPathComponent("scripts/generate-pricing.py").path, "--check"]
        let pipe = Pipe()
        p.standardError = pipe
        p.standardOutput = Pipe()
        try p.run()
        p.waitUntilExit()
        let err = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        if p.terminationStatus == 127 { return }  // no python3 on PATH
        #expect(p.terminationStatus == 0, "\(err)")
    }

    @Test func parserReportsLineAndColumn() {
        let cases: [(String, Int, Int, String)] = [
            ("[models.\"a\"]\nprovider = \"openai\"\ninput = 1\n", 1, 1, "no output"),
            ("[models.\"a\"]\nprovider = \"mistral\"\n", 2, 12, "provider 'mistral' is unknown"),
            ("[models.\"a\"]\nprovider = \"openai\"\ninput = -1\noutput = 2\n", 3, 9, "non-negative"),
            ("[models.\"a\"]\ncolour = \"red\"\n", 2, 1, "unknown key 'colour'"),
            ("input = 1\n", 1, 1, "before any [models"),
            ("[other]\n", 1, 2, "[models.\"<name>\"]"),
            ("[models.\"a\"]\nprovider = \"openai\nx", 2, 12, "not closed"),
            ("[models.\"a\"]\naliases = [\"b\" \"c\"]\n", 2, 16, "expected ',' or ']'"),
            ("[models.\"a\"]\nprovider = \"openai\"\ninput = \"1\"\noutput = 2\n", 3, 9, "non-negative number"),
            ("[models.\"a\"]\nprovider = \"openai\"\ninput = inf\noutput = 2\n", 3, 9, "non-negative number"),
            ("[models.\"a\"]\nprovider = \"openai\"\ninput = 1\noutput = 2\n[models.\"a\"]\n", 5, 2, "already defined"),
            ("[models]\nx = 1\n", 2, 1, "is an integer"),
        ]
        for (text, line, column, fragment) in cases {
            do {
                _ = try PricingTable.parse(toml: text, file: "p.toml")
                Issue.record("must fail: \(text)")
            } catch let e as PricingFileError {
                #expect(e.line == line && e.column == column, "\(e)")
                #expect(e.description.contains(fragment), "\(e)")
                #expect(e.description.hasPrefix("p.toml:\(line):\(column): "))
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
        #expect(throws: PricingFileError.self) {
            try PricingTable.parse(toml: "[models.a]\nprovider=\"openai\"\ninput=1\noutput=1\n[models.b]\nprovider=\"openai\"\ninput=1\noutput=1\naliases=[\"a\"]\n")
        }
    }

    @Test func parserAcceptsCommentsBareNamesAndCRLF() throws {
        let t = try PricingTable.parse(toml: "# c\r\n[models.gpt-x]  # c\r\nprovider = \"openai\" # c\r\ninput = 1_000.5\r\noutput = 2e1\r\naliases = [\"y\", ]\r\n")
        #expect(t.entries == [ModelPrice(name: "gpt-x", provider: "openai", inputPerMillion: 1000.5, outputPerMillion: 20, aliases: ["y"])])
        #expect(t.price(for: "y")?.name == "gpt-x")
    }
}
