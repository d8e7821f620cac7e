import EmberCore
import EmberProviders
import EmberUtils
import Foundation
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// When a provider call is tried again. The classification is `EmberError.isRetryable`
/// (the one `retry` in EmberExecution uses): 429, 5xx, 408, timeouts and transport failures
/// yes; 400, 401, 403, other 4xx, malformed answers and cancellation never. The backoff
/// formula is `Backoff`'s: `min(maxDelay, initialDelay * multiplier^(k-1))` scaled by a
/// seeded jitter factor in `[1 - jitter, 1]`; a 429's `Retry-After` is honoured when
/// longer, up to `maxRetryAfter` (a longer wait is returned to the caller as the 429).
public struct ProviderRetryPolicy: Sendable {
    public var maxAttempts: Int
    public var initialDelay: Duration
    public var multiplier: Double
    public var maxDelay: Duration
    public var jitter: Double
    public var seed: UInt64
    public var maxRetryAfter: Duration
    /// How the client waits between attempts; tests inject one that returns at once.
    public var sleep: @Sendable (_ nanoseconds: UInt64) async throws -> Void

    public init(
        maxAttempts: Int = 3, initialDelay: Duration = .milliseconds(500), multiplier: Double = 2,
        maxDelay: Duration = .seconds(20), jitter: Double = 0.5, seed: UInt64 = 0x5eed,
        maxRetryAfter: Duration = .seconds(60),
        sleep: @escaping @Sendable (_ nanoseconds: UInt64) async throws -> Void = { try await Task.sleep(nanoseconds: $0) }
    ) {
        precondition(maxAttempts >= 1, "maxAttempts must be at least 1, got \(maxAttempts)")
        self.maxAttempts = maxAttempts
        self.initialDelay = initialDelay
        self.multiplier = multiplier
        self.maxDelay = maxDelay
        self.jitter = min(max(jitter, 0), 1)
        self.seed = seed
        self.maxRetryAfter = maxRetryAfter
        self.sleep = sleep
    }

    public static let none = ProviderRetryPolicy(maxAttempts: 1)

    func delayNanoseconds(afterFailedAttempts k: Int, unitRandom: Double) -> UInt64 {
        let base = Double(initialDelay.nanosecondsValue) * pow(multiplier, Double(max(k - 1, 0)))
        let capped = min(base, Double(maxDelay.nanosecondsValue))
        return UInt64(max(capped * (1 - jitter * unitRandom), 0))
    }
}

extension Duration {
    var nanosecondsValue: Int64 {
        let (s, atto) = components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
    var secondsValue: Double { Double(nanosecondsValue) / 1e9 }
}

/// One HTTP answer.
struct HTTPAnswer: Sendable {
    var status: Int
    var headers: [String: String]  // lowercased names
    var body: Data
}

/// The HTTP half shared by the OpenAI and Anthropic providers: POST a JSON body with a
/// deadline, classify the answer into `EmberError`, retry what is retryable, and redact the
/// API key from every message.
final class HTTPModelClient: Sendable {
    let provider: String
    let endpoint: URL
    let timeout: Duration
    let retryPolicy: ProviderRetryPolicy
    let session: URLSession
    private let jitter: Mutex<SeededGenerator>

    init(provider: String, endpoint: URL, timeout: Duration, retry: ProviderRetryPolicy, session: URLSession) {
        self.provider = provider
        self.endpoint = endpoint
        self.timeout = timeout
        self.retryPolicy = retry
        self.session = session
        self.jitter = Mutex(SeededGenerator(seed: retry.seed))
    }

    /// POSTs `body` until a 2xx answer, a non-retryable error, or `maxAttempts`.
    func post(model: String, body: Data, headers: [(String, String)], key: APIKey) async throws -> HTTPAnswer {
        var failures = 0
        while true {
            do {
                return try await postOnce(model: model, body: body, headers: headers, key: key)
            } catch {
                failures += 1
                if RetryClassification.isCancellation(error) || Task.isCancelled { throw error }
                guard let e = error as? EmberError, e.isRetryable, failures < retryPolicy.maxAttempts else { throw error }
                let draw = jitter.withLock { g in Double(g.next() >> 11) / Double(1 << 53) }
                var delay = retryPolicy.delayNanoseconds(afterFailedAttempts: failures, unitRandom: draw)
                if case .rateLimited(_, _, let after?, _) = e {
                    if after > retryPolicy.maxRetryAfter.secondsValue { throw error }
                    delay = max(delay, UInt64(after * 1e9))
                }
                if delay > 0 { try await retryPolicy.sleep(delay) }
            }
        }
    }

    private func postOnce(model: String, body: Data, headers: [(String, String)], key: APIKey) async throws -> HTTPAnswer {
        var request = URLRequest(url: endpoint)
        request.httpMethod = "POST"
        request.httpBody = body
        // URLSession's own timeout works in whole seconds on Linux (a sub-second value fires
        // at once), so it only backs up the exact deadline `send` keeps.
        request.timeoutInterval = max(timeout.secondsValue.rounded(.up) + 1, 2)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }

        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await send(request)
        } catch let e as EmberError {
            throw e
        } catch {
            if RetryClassification.isCancellation(error) { throw CancellationError() }
            if let u = error as? URLError, u.code == .timedOut {
                throw EmberError.timeout(module: "\(provider)/\(model)", seconds: timeout.secondsValue)
            }
            throw EmberError.transport(provider: provider, model: model, message: key.redact(describe(error)))
        }
        guard let http = response as? HTTPURLResponse else {
            throw EmberError.transport(provider: provider, model: model, message: "the answer was not HTTP")
        }
        var names: [String: String] = [:]
        for (k, v) in http.allHeaderFields {
            if let k = k as? String, let v = v as? String { names[k.lowercased()] = v }
        }
        let status = http.statusCode
        if (200..<300).contains(status) { return HTTPAnswer(status: status, headers: names, body: data) }
        let message = key.redact(Self.errorMessage(from: data))
        switch status {
        case 429:
            throw EmberError.rateLimited(
                provider: provider, model: model, retryAfter: Self.retryAfterSeconds(names["retry-after"]), message: message)
        case 401, 403:
            throw EmberError.authentication(provider: provider, model: model, status: status, message: message)
        default:
            throw EmberError.http(provider: provider, model: model, status: status, message: message)
        }
    }

    /// Runs the request against a deadline. The URLSession call runs in its own task so a
    /// timeout (or the caller's cancellation) returns at once and cancels it, whatever the
    /// server does.
    private func send(_ request: URLRequest) async throws -> (Data, URLResponse) {
        let race = Race<(Data, URLResponse)>()
        let session = self.session
        let timeoutNs = UInt64(max(timeout.nanosecondsValue, 1))
        let seconds = timeout.secondsValue
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<(Data, URLResponse), any Error>) in
                race.start(c)
                let call = Task {
                    do { race.finish(.success(try await session.data(for: request))) } catch { race.finish(.failure(error)) }
                }
                let timer = Task {
                    try? await Task.sleep(nanoseconds: timeoutNs)
                    race.finish(.failure(URLError(.timedOut, userInfo: ["seconds": seconds])))
                }
                race.attach([call, timer])
            }
        } onCancel: {
            race.finish(.failure(CancellationError()))
        }
    }

    private func describe(_ error: any Error) -> String {
        if let u = error as? URLError {
            return "\(u.localizedDescription) (URLError \(u.code.rawValue))"
        }
        return String(describing: error)
    }

    /// The provider's own message: `error.message` (OpenAI and Anthropic), `error` as a
    /// string, `message`, or else the start of the body.
    static func errorMessage(from body: Data) -> String {
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] {
            if let e = object["error"] as? [String: Any], let m = e["message"] as? String {
                if let t = e["type"] as? String { return "\(m) (\(t))" }
                return m
            }
            if let e = object["error"] as? String { return e }
            if let m = object["message"] as? String { return m }
        }
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        return text.isEmpty ? "no message in the answer" : text
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

/// The first of several outcomes resumes the continuation; the losers are cancelled.
final class Race<Value: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Value, any Error>?
        var early: Result<Value, any Error>?
        var tasks: [Task<Void, Never>] = []
        var done = false
    }
    private let state = Mutex(State())

    func start(_ c: CheckedContinuation<Value, any Error>) {
        let early: Result<Value, any Error>? = state.withLock { s in
            if let e = s.early { s.early = nil; return e }
            s.continuation = c
            return nil
        }
        if let e = early { c.resume(with: e) }
    }

    func attach(_ tasks: [Task<Void, Never>]) {
        let cancelNow = state.withLock { s in
            if s.done { return true }
            s.tasks = tasks
            return false
        }
        if cancelNow { tasks.forEach { $0.cancel() } }
    }

    func finish(_ result: Result<Value, any Error>) {
        let (c, tasks): (CheckedContinuation<Value, any Error>?, [Task<Void, Never>]) = state.withLock { s in
            if s.done { return (nil, []) }
            s.done = true
            let t = s.tasks
            s.tasks = []
            if let c = s.continuation {
                s.continuation = nil
                return (c, t)
            }
            s.early = result  // cancelled before the continuation existed
            return (nil, t)
        }
        tasks.forEach { $0.cancel() }
        c?.resume(with: result)
    }
}
