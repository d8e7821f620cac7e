import EmberCore
import EmberProviders
import EmberUtils
import Foundation
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// When a provider call is tried again, the way the vendors' own SDKs do it.
///
/// Retried: 408, 409, 429 and 5xx answers, timeouts and transport failures; an
/// `x-should-retry: true|false` header from the server overrides that either way. Never
/// retried: cancellation, a missing key, a malformed 2xx answer. The wait is the server's
/// `retry-after-ms` or `Retry-After` (seconds or an HTTP date) when it gives one between 0
/// and `maxRetryAfter` (a longer one returns the error to the caller: an hour's wait is its
/// decision), else `min(maxDelay, initialDelay * multiplier^(k-1))` scaled by a jitter factor
/// in `[1 - jitter, 1]` drawn from `random` (the process's system generator by default, so
/// separate processes do not retry in lockstep; tests inject a seeded one).
public struct ProviderRetryPolicy: Sendable {
    public var maxAttempts: Int
    public var initialDelay: Duration
    public var multiplier: Double
    public var maxDelay: Duration
    public var jitter: Double
    public var maxRetryAfter: Duration
    /// Uniform draws in [0, 1) for the jitter.
    public var random: @Sendable () -> Double
    /// How the client waits between attempts; tests inject one that returns at once.
    public var sleep: @Sendable (_ nanoseconds: UInt64) async throws -> Void

    public init(
        maxAttempts: Int = 3, initialDelay: Duration = .milliseconds(500), multiplier: Double = 2,
        maxDelay: Duration = .seconds(20), jitter: Double = 0.5, maxRetryAfter: Duration = .seconds(60),
        random: @escaping @Sendable () -> Double = ProviderRetryPolicy.systemRandom,
        sleep: @escaping @Sendable (_ nanoseconds: UInt64) async throws -> Void = { try await Task.sleep(nanoseconds: $0) }
    ) {
        precondition(maxAttempts >= 1, "maxAttempts must be at least 1, got \(maxAttempts)")
        self.maxAttempts = maxAttempts
        self.initialDelay = initialDelay
        self.multiplier = multiplier
        self.maxDelay = maxDelay
        self.jitter = min(max(jitter, 0), 1)
        self.maxRetryAfter = maxRetryAfter
        self.random = random
        self.sleep = sleep
    }

    public static let none = ProviderRetryPolicy(maxAttempts: 1)

    /// The operating system's generator: a different sequence in every process.
    public static let systemRandom: @Sendable () -> Double = { Double.random(in: 0..<1) }

    /// A reproducible generator for tests: the same seed, the same draws.
    public static func seeded(_ seed: UInt64) -> @Sendable () -> Double {
        let source = SharedRandomSource(seed: seed)
        return { source.nextUnit() }
    }

    func delayNanoseconds(afterFailedAttempts k: Int, unitRandom: Double) -> UInt64 {
        let base = Double(initialDelay.nanosecondsValue) * pow(multiplier, Double(max(k - 1, 0)))
        let capped = min(base, Double(maxDelay.nanosecondsValue))
        return UInt64(max(capped * (1 - jitter * unitRandom), 0))
    }
}

extension Duration {
    var nanosecondsValue: Int64 {
        let (s, atto) = components
        let (ns, overflow) = s.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return s < 0 ? Int64.min : Int64.max }
        return ns &+ atto / 1_000_000_000
    }
    var secondsValue: Double { Double(nanosecondsValue) / 1e9 }
    var clampedNanoseconds: UInt64 { UInt64(max(nanosecondsValue, 0)) }
}

/// This library's name and version, as its HTTP requests' User-Agent carries them.
public enum EmberVersion {
    public static let version = "0.1.0"
    public static let userAgent = "ember-swift/\(version) (Swift; \(platform))"
    private static var platform: String {
        #if os(Linux)
        return "Linux"
        #elseif os(macOS)
        return "macOS"
        #else
        return "unknown"
        #endif
    }
}

/// One HTTP answer.
struct HTTPAnswer: Sendable {
    var status: Int
    var headers: [String: String]  // lowercased names
    var body: Data
    var requestID: String? { headers["x-request-id"] ?? headers["request-id"] }
}

/// Why an attempt failed, and whether (and when) to try again.
struct AttemptFailure: Error {
    var error: any Error
    var retryable: Bool
    /// The server's wait, in seconds, when it gave one.
    var retryAfter: Double?
}

/// A streamed answer whose head was 2xx: its body, chunk by chunk. Dropping it before the
/// end closes the connection.
final class OpenedStream {
    let head: HTTPHead
    private let exchange: Exchange
    private var iterator: AsyncThrowingStream<TransportEvent, any Error>.AsyncIterator
    private let failureMapper: (TransportFailure) -> any Error
    private(set) var ended = false

    init(
        head: HTTPHead, exchange: Exchange, iterator: AsyncThrowingStream<TransportEvent, any Error>.AsyncIterator,
        failureMapper: @escaping (TransportFailure) -> any Error
    ) {
        self.head = head
        self.exchange = exchange
        self.iterator = iterator
        self.failureMapper = failureMapper
    }

    var requestID: String? { head.headers["x-request-id"] ?? head.headers["request-id"] }

    /// The next piece of the body; nil at its end. Throws `EmberError`s (idle timeout,
    /// transport) and `CancellationError`.
    func nextChunk() async throws -> Data? {
        if ended { return nil }
        while true {
            let event: TransportEvent?
            do {
                event = try await iterator.next()
            } catch let f as TransportFailure {
                ended = true
                if case .cancelled = f { throw CancellationError() }
                throw failureMapper(f)
            }
            switch event {
            case .data(let d)?: return d
            case .head?: continue
            case nil:
                ended = true
                if exchange.isComplete { return nil }
                exchange.fail(.cancelled)
                if Task.isCancelled { throw CancellationError() }
                if let f = exchange.failure {
                    if case .cancelled = f { throw CancellationError() }
                    throw failureMapper(f)
                }
                throw CancellationError()
            }
        }
    }

    /// Stops reading: the connection is closed unless the answer was complete.
    func close() {
        ended = true
        exchange.fail(.cancelled)
    }

    deinit { exchange.fail(.cancelled) }
}

/// The HTTP half shared by the OpenAI and Anthropic providers: POST a JSON body within the
/// deadlines, classify the answer into `EmberError`, retry what is retryable, follow only
/// same-origin 307/308 redirects, and keep the API key out of every message.
final class HTTPModelClient: Sendable {
    let provider: String
    let endpoint: URL
    let options: HTTPProviderOptions
    let transport: HTTPTransport

    init(provider: String, endpoint: URL, options: HTTPProviderOptions) {
        self.provider = provider
        self.endpoint = endpoint
        self.options = options
        self.transport = options.transport ?? HTTPTransport.shared(maxConnectionsPerHost: options.maxConnectionsPerHost)
    }

    var timeout: Duration { options.timeout }
    var retryPolicy: ProviderRetryPolicy { options.retry }

    // MARK: requests

    func makeRequest(url: URL, body: Data, headers: [(String, String)], streaming: Bool) -> URLRequest {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = body
        request.timeoutInterval = 86_400  // our deadlines rule; URLSession's only backs them up
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(streaming ? "text/event-stream" : "application/json", forHTTPHeaderField: "Accept")
        request.setValue(options.userAgent, forHTTPHeaderField: "User-Agent")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        return request
    }

    /// POSTs `body` until a 2xx answer, an error not worth retrying, `maxAttempts`, or the
    /// overall deadline.
    func post(model: String, body: Data, headers: [(String, String)], key: APIKey) async throws -> HTTPAnswer {
        try await withRetries(model: model, key: key) { attemptTimeout, overallEnd in
            let request = self.makeRequest(url: self.endpoint, body: body, headers: headers, streaming: false)
            return try await self.attemptBuffered(request, model: model, key: key, timeout: attemptTimeout, overallEnd: overallEnd)
        }
    }

    /// Opens a streamed answer: retried like `post` until the server answers 2xx; from then on
    /// the body is the caller's, and errors are not retried (the caller has seen output).
    func openStream(model: String, body: Data, headers: [(String, String)], key: APIKey) async throws -> OpenedStream {
        try await withRetries(model: model, key: key) { attemptTimeout, overallEnd in
            var request = self.makeRequest(url: self.endpoint, body: body, headers: headers, streaming: true)
            for _ in 0..<Self.maxRedirects {
                let idle = (self.options.streamIdleTimeout ?? self.options.timeout).clampedNanoseconds
                let exchange = try await self.open(
                    request, model: model, key: key, deadline: ExchangeDeadline(total: attemptTimeout, idle: max(idle, 1)),
                    overallEnd: overallEnd)
                var iterator = exchange.events.makeAsyncIterator()
                var head: HTTPHead?
                do {
                    while head == nil {
                        guard let event = try await iterator.next() else { break }
                        if case .head(let h) = event { head = h }
                    }
                } catch let f as TransportFailure {
                    throw self.attemptFailure(f, model: model, key: key, timeout: attemptTimeout, overallEnd: overallEnd)
                }
                guard let head else {
                    exchange.fail(.cancelled)
                    if Task.isCancelled { throw CancellationError() }
                    if let f = exchange.failure {
                        throw self.attemptFailure(f, model: model, key: key, timeout: attemptTimeout, overallEnd: overallEnd)
                    }
                    throw AttemptFailure(
                        error: EmberError.transport(provider: self.provider, model: model, message: "the connection closed before an HTTP answer"),
                        retryable: true)
                }
                if (200..<300).contains(head.status) {
                    let mapper: (TransportFailure) -> any Error = { [provider = self.provider] f in
                        switch f {
                        case .timedOut:
                            return EmberError.timeout(module: "\(provider)/\(model)", seconds: Double(idle) / 1e9)
                        case .cancelled:
                            return CancellationError()
                        case .transport(let message, _):
                            return EmberError.transport(
                                provider: provider, model: model, message: "the stream broke off: " + key.excerpt(message, limit: 300))
                        }
                    }
                    return OpenedStream(head: head, exchange: exchange, iterator: iterator, failureMapper: mapper)
                }
                // Not 2xx: read the (error) body within the same deadline, then decide.
                var body = Data()
                do {
                    while let event = try await iterator.next() {
                        if case .data(let d) = event { body.append(d) }
                    }
                } catch let f as TransportFailure {
                    throw self.attemptFailure(f, model: model, key: key, timeout: attemptTimeout, overallEnd: overallEnd)
                }
                let answer = HTTPAnswer(status: head.status, headers: head.headers, body: body)
                if let next = try self.redirectTarget(answer, from: request, model: model, key: key) {
                    request.url = next
                    continue
                }
                throw self.classify(answer, model: model, key: key)
            }
            throw AttemptFailure(error: self.tooManyRedirects(model: model), retryable: false)
        }
    }

    static let maxRedirects = 5

    private func open(
        _ request: URLRequest, model: String, key: APIKey, deadline: ExchangeDeadline, overallEnd: UInt64?
    ) async throws -> Exchange {
        do {
            return try await transport.open(request, deadline: deadline, overall: overallEnd)
        } catch let f as TransportFailure {
            throw attemptFailure(f, model: model, key: key, timeout: deadline.total, overallEnd: overallEnd)
        }
    }

    /// One attempt, redirects included: the answer when 2xx, else an `AttemptFailure`.
    private func attemptBuffered(
        _ first: URLRequest, model: String, key: APIKey, timeout: UInt64, overallEnd: UInt64?
    ) async throws -> HTTPAnswer {
        var request = first
        let start = MonotonicClock.nanoseconds()
        for _ in 0..<Self.maxRedirects {
            let elapsed = MonotonicClock.nanoseconds() &- start
            let left = timeout > elapsed ? timeout - elapsed : 0
            let head: HTTPHead
            let body: Data
            do {
                (head, body) = try await transport.send(request, timeout: left, overall: overallEnd)
            } catch let f as TransportFailure {
                throw attemptFailure(f, model: model, key: key, timeout: timeout, overallEnd: overallEnd)
            }
            let answer = HTTPAnswer(status: head.status, headers: head.headers, body: body)
            if (200..<300).contains(answer.status) { return answer }
            if let next = try redirectTarget(answer, from: request, model: model, key: key) {
                request.url = next
                continue
            }
            throw classify(answer, model: model, key: key)
        }
        throw AttemptFailure(error: tooManyRedirects(model: model), retryable: false)
    }

    private func tooManyRedirects(model: String) -> EmberError {
        EmberError.http(provider: provider, model: model, status: 310, message: "more than \(Self.maxRedirects) redirects")
    }

    /// Where a redirect may be followed: a 307 or 308 to the same origin (method, body and
    /// headers kept). Any other redirect is an error; credentials never go to another origin.
    func redirectTarget(_ answer: HTTPAnswer, from request: URLRequest, model: String, key: APIKey) throws -> URL? {
        guard (300..<400).contains(answer.status), answer.status != 304 else { return nil }
        guard let current = request.url else { return nil }
        let location = answer.headers["location"] ?? ""
        guard !location.isEmpty, let target = URL(string: location, relativeTo: current)?.absoluteURL else {
            throw AttemptFailure(
                error: EmberError.http(
                    provider: provider, model: model, status: answer.status,
                    message: "a redirect without a usable Location" + requestIDSuffix(answer.requestID, key: key)),
                retryable: false)
        }
        let sameOrigin = HTTPTransport.origin(of: target) == HTTPTransport.origin(of: current)
        if (answer.status == 307 || answer.status == 308) && sameOrigin { return target }
        let shown = key.excerpt(HTTPTransport.origin(of: target), limit: 200)
        let why =
            sameOrigin
            ? "not followed: HTTP \(answer.status) would turn the POST into a GET without its body; set the base URL to where it points (\(key.excerpt(target.absoluteString, limit: 200)))"
            : "not followed: it points to another origin (\(shown)), and the API key is only ever sent to the configured one; set the base URL there if you trust it"
        throw AttemptFailure(
            error: EmberError.http(
                provider: provider, model: model, status: answer.status, message: "redirect " + why + requestIDSuffix(answer.requestID, key: key)),
            retryable: false)
    }

    // MARK: retries

    private func withRetries<T>(
        model: String, key: APIKey, _ attempt: (_ timeout: UInt64, _ overallEnd: UInt64?) async throws -> T
    ) async throws -> T {
        let start = MonotonicClock.nanoseconds()
        let overallEnd = options.deadline.map { start &+ $0.clampedNanoseconds }
        let perAttempt = options.timeout.clampedNanoseconds
        var failures = 0
        while true {
            var attemptTimeout = perAttempt
            if let end = overallEnd {
                let now = MonotonicClock.nanoseconds()
                guard now < end else { throw deadlineError(model: model) }
                attemptTimeout = min(attemptTimeout, end - now)
            }
            let failure: AttemptFailure
            do {
                return try await attempt(attemptTimeout, overallEnd)
            } catch let f as AttemptFailure {
                failure = f
            } catch {
                throw error  // cancellation, and errors raised before sending
            }
            failures += 1
            if Task.isCancelled { throw CancellationError() }
            guard failure.retryable, failures < retryPolicy.maxAttempts else { throw failure.error }
            var delay: UInt64
            if let after = failure.retryAfter, after > 0 {
                if after > retryPolicy.maxRetryAfter.secondsValue { throw failure.error }
                delay = UInt64(after * 1e9)
            } else {
                delay = retryPolicy.delayNanoseconds(afterFailedAttempts: failures, unitRandom: retryPolicy.random())
            }
            if let end = overallEnd, MonotonicClock.nanoseconds() &+ delay >= end {
                throw failure.error  // the wait would outlast the overall deadline
            }
            if delay > 0 { try await retryPolicy.sleep(delay) }
        }
    }

    private func deadlineError(model: String) -> EmberError {
        EmberError.timeout(module: "\(provider)/\(model)", seconds: options.deadline?.secondsValue ?? options.timeout.secondsValue)
    }

    /// A transport failure as the attempt's error.
    private func attemptFailure(_ f: TransportFailure, model: String, key: APIKey, timeout: UInt64, overallEnd: UInt64?) -> any Error {
        switch f {
        case .cancelled:
            return CancellationError()
        case .timedOut:
            if let end = overallEnd, MonotonicClock.nanoseconds() &+ 1_000_000 >= end {
                return AttemptFailure(error: deadlineError(model: model), retryable: false)
            }
            return AttemptFailure(
                error: EmberError.timeout(module: "\(provider)/\(model)", seconds: options.timeout.secondsValue), retryable: true)
        case .transport(let message, _):
            return AttemptFailure(
                error: EmberError.transport(provider: provider, model: model, message: key.excerpt(message, limit: 300)),
                retryable: true)
        }
    }

    // MARK: classifying answers

    /// A non-2xx answer as an `EmberError`: the provider's own message (redacted, then cut),
    /// the request id, and whether to retry.
    func classify(_ answer: HTTPAnswer, model: String, key: APIKey) -> AttemptFailure {
        let message = key.excerpt(Self.errorMessage(from: answer.body), limit: 300) + requestIDSuffix(answer.requestID, key: key)
        let status = answer.status
        let error = Self.error(status: status, provider: provider, model: model, message: message, retryAfter: Self.retryAfterSeconds(answer.headers))
        var retryable = status == 408 || status == 409 || status == 429 || status >= 500
        switch answer.headers["x-should-retry"]?.lowercased() {
        case "true"?: retryable = true
        case "false"?: retryable = false
        default: break
        }
        return AttemptFailure(error: error, retryable: retryable, retryAfter: Self.retryAfterSeconds(answer.headers))
    }

    static func error(status: Int, provider: String, model: String, message: String, retryAfter: Double?) -> EmberError {
        switch status {
        case 429: return .rateLimited(provider: provider, model: model, retryAfter: retryAfter, message: message)
        case 401, 403: return .authentication(provider: provider, model: model, status: status, message: message)
        default: return .http(provider: provider, model: model, status: status, message: message)
        }
    }

    func requestIDSuffix(_ id: String?, key: APIKey) -> String {
        guard let id, !id.isEmpty else { return "" }
        return " (request id \(key.excerpt(id, limit: 100)))"
    }

    /// The provider's own message: `error.message` (OpenAI and Anthropic), `error` as a
    /// string, `message`, or else the body. Not redacted, not cut: callers do both, in
    /// that order.
    static func errorMessage(from body: Data) -> String {
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] {
            if let text = errorMessage(fromObject: object) { return text }
        }
        let text = String(decoding: body.prefix(65_536), as: UTF8.self)
        return text.isEmpty ? "no message in the answer" : text
    }

    static func errorMessage(fromObject object: [String: Any]) -> String? {
        if let e = object["error"] as? [String: Any], let m = e["message"] as? String {
            if let t = e["type"] as? String { return "\(m) (\(t))" }
            return m
        }
        if let e = object["error"] as? String { return e }
        if let m = object["message"] as? String { return m }
        return nil
    }

    /// The server's wait in seconds: `retry-after-ms` (milliseconds), else `Retry-After`
    /// (seconds, or an HTTP date from now).
    static func retryAfterSeconds(_ headers: [String: String]) -> Double? {
        if let ms = headers["retry-after-ms"]?.trimmingASCIIWhitespace(), let v = Double(ms), v.isFinite {
            return max(v / 1000, 0)
        }
        return retryAfterSeconds(headers["retry-after"])
    }

    /// `Retry-After` as seconds: a number, or an HTTP date (RFC 9110) from now.
    static func retryAfterSeconds(_ value: String?) -> Double? {
        guard let v = value?.trimmingASCIIWhitespace(), !v.isEmpty else { return nil }
        if let s = Double(v), s.isFinite { return max(s, 0) }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        if let d = f.date(from: v) { return max(d.timeIntervalSinceNow, 0) }
        return nil
    }
}
