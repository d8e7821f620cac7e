#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Every error the framework raises. Cases are meant to be switched on: whether a failure
/// may be retried is a property of the case, and each message names the module (or the
/// provider and model) that failed.
public enum EmberError: Error, Sendable, Equatable {
    /// A temporary failure of a module; retrying may succeed.
    case transient(module: String, message: String)
    /// A failure that retrying will not fix (bad input, a bug, a refused request).
    case permanent(module: String, message: String)
    /// The caller gave input the module cannot handle.
    case invalidInput(module: String, message: String)
    /// A module did not finish within its time limit.
    case timeout(module: String, seconds: Double)
    /// The provider answered 429; `retryAfter` is its `Retry-After` in seconds, when given.
    case rateLimited(provider: String, model: String, retryAfter: Double?, message: String)
    /// The provider answered with an HTTP error status other than 429 and 401/403.
    case http(provider: String, model: String, status: Int, message: String)
    /// The provider refused the credentials (401 or 403). Never retried.
    case authentication(provider: String, model: String, status: Int, message: String)
    /// The request never got an HTTP answer (connection refused, reset, DNS).
    case transport(provider: String, model: String, message: String)
    /// The provider answered 2xx with a body that is not the documented wire format.
    case malformedResponse(provider: String, model: String, message: String)
    /// The API key's environment variable is unset or empty.
    case missingAPIKey(provider: String, variable: String)
    /// No provider or price is known for a model name.
    case unknownModel(name: String, hint: String)
    /// A configuration value is invalid; `key` names it.
    case invalidConfiguration(key: String, message: String)

    /// Whether `retry` may try again after this error.
    public var isRetryable: Bool {
        switch self {
        case .transient, .timeout, .rateLimited, .transport:
            return true
        case .http(_, _, let status, _):
            return status >= 500 || status == 408
        case .permanent, .invalidInput, .authentication, .malformedResponse, .missingAPIKey,
            .unknownModel, .invalidConfiguration:
            return false
        }
    }

    /// The module, or `provider/model`, the error is about.
    public var subject: String {
        switch self {
        case .transient(let m, _), .permanent(let m, _), .invalidInput(let m, _), .timeout(let m, _):
            return m
        case .rateLimited(let p, let m, _, _), .http(let p, let m, _, _),
            .authentication(let p, let m, _, _), .transport(let p, let m, _),
            .malformedResponse(let p, let m, _):
            return "\(p)/\(m)"
        case .missingAPIKey(let p, _): return p
        case .unknownModel(let n, _): return n
        case .invalidConfiguration(let k, _): return k
        }
    }
}

extension EmberError: CustomStringConvertible, LocalizedError {
    public var description: String {
        switch self {
        case .transient(let m, let msg):
            return "module '\(m)' failed (temporary, may be retried): \(msg)"
        case .permanent(let m, let msg):
            return "module '\(m)' failed: \(msg)"
        case .invalidInput(let m, let msg):
            return "module '\(m)' rejected its input: \(msg)"
        case .timeout(let m, let s):
            return "module '\(m)' timed out after \(s) s"
        case .rateLimited(let p, let m, let after, let msg):
            let wait = after.map { "; retry after \($0) s" } ?? ""
            return "\(p) rate-limited model '\(m)' (HTTP 429)\(wait): \(msg)"
        case .http(let p, let m, let status, let msg):
            return "\(p) returned HTTP \(status) for model '\(m)': \(msg)"
        case .authentication(let p, let m, let status, let msg):
            return "\(p) refused the credentials for model '\(m)' (HTTP \(status)): \(msg); check the API key"
        case .transport(let p, let m, let msg):
            return "\(p) could not be reached for model '\(m)': \(msg)"
        case .malformedResponse(let p, let m, let msg):
            return "\(p) answered for model '\(m)' with a body that is not its wire format: \(msg)"
        case .missingAPIKey(let p, let v):
            return "no API key for \(p): set the environment variable \(v)"
        case .unknownModel(let n, let hint):
            return "unknown model '\(n)': \(hint)"
        case .invalidConfiguration(let k, let msg):
            return "invalid configuration '\(k)': \(msg)"
        }
    }

    public var errorDescription: String? { description }
}

/// Classifies any error for retrying: cancellation never (`CancellationError`, or an error
/// that says it is one: on Linux a cancelled URLSession task surfaces as
/// `URLError(.cancelled)`, classified where the HTTP code lives, in EmberModels);
/// `EmberError` by its case; anything else no, unless it conforms to `RetryableError` and
/// says so.
public enum RetryClassification {
    public static func isCancellation(_ error: Error) -> Bool {
        if error is CancellationError { return true }
        if let r = error as? RetryableError { return r.isCancellation }
        return false
    }

    public static func isRetryable(_ error: Error) -> Bool {
        if isCancellation(error) { return false }
        if let e = error as? EmberError { return e.isRetryable }
        if let r = error as? RetryableError { return r.isRetryable }
        return false
    }
}

/// Adopt this in your own error types to tell `retry` whether a failure is temporary.
public protocol RetryableError: Error {
    var isRetryable: Bool { get }
    /// True when this error is how a cancelled operation surfaced; `retry` then stops at
    /// once whatever `isRetryable` says. `false` unless the type says otherwise.
    var isCancellation: Bool { get }
}

extension RetryableError {
    public var isCancellation: Bool { false }
}
