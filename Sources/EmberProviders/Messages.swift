import EmberCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One turn of a conversation.
///
/// `system` turns carry instructions, `user` turns the user's words, `assistant` turns what
/// the model said before (its text and the tools it called), and `tool` turns the result of
/// one tool call, naming the call by `toolCallID`.
public struct ChatMessage: Sendable, Equatable, Hashable {
    public enum Role: String, Sendable, Equatable, Hashable, Codable {
        case system, user, assistant, tool
    }

    public var role: Role
    public var content: String
    /// The tools an assistant turn called (empty otherwise).
    public var toolCalls: [ToolCall]
    /// For a `tool` turn: the id of the call it answers.
    public var toolCallID: String?

    public init(role: Role, content: String, toolCalls: [ToolCall] = [], toolCallID: String? = nil) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
    }

    public static func system(_ text: String) -> ChatMessage { ChatMessage(role: .system, content: text) }
    public static func user(_ text: String) -> ChatMessage { ChatMessage(role: .user, content: text) }
    public static func assistant(_ text: String, toolCalls: [ToolCall] = []) -> ChatMessage {
        ChatMessage(role: .assistant, content: text, toolCalls: toolCalls)
    }
    /// The result of the tool call `id`.
    public static func tool(id: String, _ result: String) -> ChatMessage {
        ChatMessage(role: .tool, content: result, toolCallID: id)
    }
}

/// A tool the model may call: a name, what it does, and its parameters as a JSON Schema
/// object (JSON text, sent as is).
public struct ToolDefinition: Sendable, Equatable, Hashable {
    public var name: String
    public var description: String
    /// A JSON Schema object, as JSON text: `{"type":"object","properties":{...}}`.
    public var parameters: String

    public init(name: String, description: String, parameters: String = #"{"type":"object","properties":{}}"#) {
        self.name = name
        self.description = description
        self.parameters = parameters
    }
}

/// A call of a tool by the model: its id (to answer with `ChatMessage.tool(id:_:)`), the
/// tool's name and the arguments as JSON text.
public struct ToolCall: Sendable, Equatable, Hashable, Codable {
    public var id: String
    public var name: String
    /// A JSON object, as the model wrote it.
    public var arguments: String

    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}
