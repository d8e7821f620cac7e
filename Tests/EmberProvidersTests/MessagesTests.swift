import Ember
import EmberTestSupport
import Foundation
import Testing

let weatherTool = ToolDefinition(
    name: "get_weather", description: "Current weather in a city",
    parameters: #"{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"#)

/// A conversation with every kind of turn: instructions, a question, the model calling a
/// tool, the tool's answer, and a follow-up.
let conversation: [ChatMessage] = [
    .system("Answer in French."),
    .user("Weather in Paris?"),
    .assistant("", toolCalls: [ToolCall(id: "call_1", name: "get_weather", arguments: #"{"city":"Paris"}"#)]),
    .tool(id: "call_1", #"{"temp_c":21}"#),
    .assistant("Il fait 21 °C."),
    .user("Et demain ?"),
]

/// JSON text with sorted keys, to compare bodies as data.
func canonical(_ object: Any) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
}

@Suite(.onDedicatedThreads) struct MessagesAndToolsTests {
    @Test func openAISendsEveryTurnWithItsRole() async throws {
        let server = try LoopbackHTTPServer(responses: [.json(200, openAISuccess)])
        defer { server.stop() }
        let p = try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(SleepLog()))
        _ = try await p.complete(ModelRequest(model: "gpt-4o", messages: conversation, system: "Be brief.", tools: [weatherTool]))
        let body = try #require(server.requests.first?.json)
        let messages = try #require(body["messages"])
        #expect(
            canonical(messages)
                == canonical([
                    ["role": "system", "content": "Be brief."],
                    ["role": "system", "content": "Answer in French."],
                    ["role": "user", "content": "Weather in Paris?"],
                    [
                        "role": "assistant", "content": NSNull(),
                        "tool_calls": [["id": "call_1", "type": "function", "function": ["name": "get_weather", "arguments": #"{"city":"Paris"}"#]]],
                    ],
                    ["role": "tool", "tool_call_id": "call_1", "content": #"{"temp_c":21}"#],
                    ["role": "assistant", "content": "Il fait 21 °C."],
                    ["role": "user", "content": "Et demain ?"],
                ] as [Any]))
        #expect(
            canonical(try #require(body["tools"]))
                == canonical([
                    [
                        "type": "function",
                        "function": [
                            "name": "get_weather", "description": "Current weather in a city",
                            "parameters": ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]],
                        ],
                    ]
                ] as [Any]))
    }

    @Test func anthropicMergesSystemTurnsAndSendsToolUseAndResults() async throws {
        let server = try LoopbackHTTPServer(responses: [.json(200, anthropicSuccess)])
        defer { server.stop() }
        let p = try AnthropicProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(SleepLog()))
        _ = try await p.complete(ModelRequest(model: "claude-3-5-sonnet", messages: conversation, system: "Be brief.", tools: [weatherTool]))
        let body = try #require(server.requests.first?.json)
        #expect(body["system"] as? String == "Be brief.\n\nAnswer in French.")
        #expect(
            canonical(try #require(body["messages"]))
                == canonical([
                    ["role": "user", "content": [["type": "text", "text": "Weather in Paris?"]]],
                    ["role": "assistant", "content": [["type": "tool_use", "id": "call_1", "name": "get_weather", "input": ["city": "Paris"]]]],
                    ["role": "user", "content": [["type": "tool_result", "tool_use_id": "call_1", "content": #"{"temp_c":21}"#]]],
                    ["role": "assistant", "content": [["type": "text", "text": "Il fait 21 °C."]]],
                    ["role": "user", "content": [["type": "text", "text": "Et demain ?"]]],
                ] as [Any]))
        #expect(
            canonical(try #require(body["tools"]))
                == canonical([
                    [
                        "name": "get_weather", "description": "Current weather in a city",
                        "input_schema": ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]],
                    ]
                ] as [Any]))
    }

    @Test func toolCallsComeBackFromBothProviders() async throws {
        let openAI = #"""
            {"choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":null,
              "tool_calls":[{"id":"call_9","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Lyon\"}"}}]}}],
             "usage":{"prompt_tokens":50,"completion_tokens":12}}
            """#
        let anthropic = #"""
            {"content":[{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_9","name":"get_weather","input":{"city":"Lyon"}}],
             "stop_reason":"tool_use","usage":{"input_tokens":60,"output_tokens":20}}
            """#
        let server = try LoopbackHTTPServer { request, _ in .json(200, request.path.contains("messages") ? anthropic : openAI) }
        defer { server.stop() }
        let models = Models(settings: settings(server))
        let a = try await models("gpt-4o", messages: [.user("Weather in Lyon?")], tools: [weatherTool])
        #expect(a.toolCalls == [ToolCall(id: "call_9", name: "get_weather", arguments: #"{"city":"Lyon"}"#)])
        #expect(a.text == "" && a.finishReason == "tool_calls" && a.usage.totalTokens == 62)
        let b = try await models.instance("claude-3-5-sonnet", tools: [weatherTool])(messages: [.user("Weather in Lyon?")])
        #expect(b.toolCalls == [ToolCall(id: "toolu_9", name: "get_weather", arguments: #"{"city":"Lyon"}"#)])
        #expect(b.text == "Let me check." && b.finishReason == "tool_use")
        #expect(server.requests.allSatisfy { ($0.json?["tools"] as? [Any])?.count == 1 })
    }

    @Test func badToolSchemasAndArgumentsFailBeforeSending() async throws {
        let server = try LoopbackHTTPServer(responses: [.json(200, openAISuccess)])
        defer { server.stop() }
        let p = try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(SleepLog()))
        await #expect(throws: EmberError.self) {
            try await p.complete(ModelRequest(model: "m", prompt: "x", tools: [ToolDefinition(name: "t", description: "", parameters: "[1,2]")]))
        }
        let a = try AnthropicProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(SleepLog()))
        await #expect(throws: EmberError.self) {
            try await a.complete(ModelRequest(model: "m", messages: [.assistant("", toolCalls: [ToolCall(id: "1", name: "t", arguments: "not json")])]))
        }
        #expect(server.requests.isEmpty)
    }

    @Test func promptIsTheLastUserTurn() {
        var r = ModelRequest(model: "m", messages: conversation)
        #expect(r.prompt == "Et demain ?")
        r.prompt = "Et après-demain ?"
        #expect(r.messages.count == conversation.count && r.messages.last == .user("Et après-demain ?"))
        var s = ModelRequest(model: "m", messages: [.user("q"), .assistant("a")])
        s.prompt = "q2"
        #expect(s.messages == [.user("q"), .assistant("a"), .user("q2")])
        #expect(ModelRequest(model: "m", prompt: "hi").messages == [.user("hi")])
    }

    @Test func offlineConversationsAreDeterministicAndOnePromptIsUnchanged() async throws {
        let offline = OfflineProvider()
        let single = try await offline.complete(ModelRequest(model: "m", prompt: "hello"))
        let same = try await offline.complete(ModelRequest(model: "m", messages: [.user("hello")]))
        #expect(single == same, "a one-turn conversation is the one prompt")
        let multi = try await offline.complete(ModelRequest(model: "m", messages: [.user("a"), .assistant("b"), .user("hello")]))
        let again = try await offline.complete(ModelRequest(model: "m", messages: [.user("a"), .assistant("b"), .user("hello")]))
        #expect(multi == again && multi.text != single.text, "earlier turns change the answer, deterministically")
    }
}
