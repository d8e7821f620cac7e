import EmberUtils
import EmberCore
import Foundation
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

// The HTTP path of the providers, on URLSession (FoundationNetworking, so libcurl), built so
// that cancelling a call can never deadlock and never blocks the caller.
//
// swift-corelibs-foundation's `data(for:)` resumes its continuation on the session's queue
// while a canceller, inside Swift's task cancellation (holding the task's status lock), calls
// `URLSessionTask.cancel()`, which waits for that queue: each waits for the other. Here no
// Swift concurrency code ever waits for the session: tasks are created and resumed on a serial
// queue of our own (`control`), always asynchronously, and cancelled on another (`cancels`),
// only once resumed (a task is published to cancellers after `resume()` returns; one that
// ended before is cancelled by `control` itself), which also rules out the registry races
// FoundationNetworking crashes on. The session reports to a delegate on a serial queue of
// ours; the delegate only hands events to an `AsyncThrowingStream` (whose continuation never
// waits). Deadlines are timers on a third queue of ours.

/// The status line and headers of an HTTP answer.
struct HTTPHead: Sendable {
    var status: Int
    /// Names lowercased.
    var headers: [String: String]
    var url: URL?
}

enum TransportEvent: Sendable {
    case head(HTTPHead)
    case data(Data)
}

/// How one exchange failed below HTTP.
enum TransportFailure: Error, Sendable {
    /// No complete answer before the deadline (or no byte for the idle time, streaming).
    case timedOut(idle: Bool)
    /// The caller cancelled.
    case cancelled
    /// No HTTP answer: refused, reset, DNS, TLS... `message` is not redacted yet.
    case transport(message: String, code: Int)
}

/// When an exchange gives up.
struct ExchangeDeadline: Sendable {
    /// From the start of the exchange to its end (buffered) or to the answer's head
    /// (streaming): nanoseconds.
    var total: UInt64
    /// Streaming: the longest silence allowed after the head (nil: `total` bounds the whole
    /// exchange).
    var idle: UInt64?
}

/// Connection slots per origin: a call waits here, in order, before its request exists, so
/// time spent waiting for a connection is not charged to its deadline. A slot is given back
/// only when URLSession reports the task finished (its connection is free or closed).
final class ConnectionLimiter: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }
    private struct State {
        var available: Int
        var waiters: [Waiter] = []
        var head = 0  // waiters before this index are gone
        var nextID: UInt64 = 0
    }
    private let state: Mutex<State>
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        state = Mutex(State(available: capacity))
    }

    /// Slots in use (for tests and reports).
    var inUse: Int { state.withLock { capacity - $0.available } }
    /// Calls waiting for a slot.
    var waiting: Int { state.withLock { $0.waiters.count - $0.head } }

    /// Takes a slot, waiting in line when none is free. Throws `CancellationError` when the
    /// caller is cancelled while waiting, and `TransportFailure.timedOut` at `deadline`
    /// (monotonic nanoseconds), when given.
    func acquire(deadline: UInt64? = nil, timers: DispatchQueue) async throws {
        if state.withLock({ s in
            if s.available > 0 && s.head == s.waiters.count {
                s.available -= 1
                return true
            }
            return false
        }) { return }
        let id = state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let immediate: (any Error)?? = state.withLock { s in
                    if Task.isCancelled { return .some(CancellationError()) }
                    if s.available > 0 && s.head == s.waiters.count {
                        s.available -= 1
                        return .some(nil)
                    }
                    s.waiters.append(Waiter(id: id, continuation: c))
                    return nil
                }
                switch immediate {
                case .some(let error?): c.resume(throwing: error)
                case .some(nil): c.resume()
                case nil:
                    if let deadline {
                        let now = MonotonicClock.nanoseconds()
                        let wait = deadline > now ? deadline - now : 0
                        timers.asyncAfter(deadline: .now() + .nanoseconds(Int(min(wait, UInt64(Int.max))))) { [self] in
                            remove(id, with: TransportFailure.timedOut(idle: false))
                        }
                    }
                }
            }
        } onCancel: {
            remove(id, with: CancellationError())
        }
    }

    private func remove(_ id: UInt64, with error: any Error) {
        let c: CheckedContinuation<Void, any Error>? = state.withLock { s in
            guard let i = s.waiters[s.head...].firstIndex(where: { $0.id == id }) else { return nil }
            let w = s.waiters.remove(at: i)
            return w.continuation
        }
        c?.resume(throwing: error)
    }

    func release() {
        let next: CheckedContinuation<Void, any Error>? = state.withLock { s in
            if s.head < s.waiters.count {
                let w = s.waiters[s.head]
                s.head += 1
                if s.head > 64 && s.head * 2 > s.waiters.count {
                    s.waiters.removeFirst(s.head)
                    s.head = 0
                }
                return w.continuation  // the slot passes to the first in line
            }
            s.available += 1
            return nil
        }
        next?.resume()
    }
}

/// One HTTP request and its answer, as a stream of events.
final class Exchange: @unchecked Sendable {
    let events: AsyncThrowingStream<TransportEvent, any Error>
    private let continuation: AsyncThrowingStream<TransportEvent, any Error>.Continuation
    let request: URLRequest
    private let transport: HTTPTransport
    let limiter: ConnectionLimiter
    let deadline: ExchangeDeadline

    private struct State {
        var task: URLSessionTask?
        /// The stream was ended (answer complete, failure, timeout or cancellation).
        var finished = false
        /// URLSession reported the task done (or it was never created): the slot is free.
        var released = false
        var headSeen = false
        var lastActivity: UInt64 = 0
        var failure: TransportFailure?
        /// The whole answer arrived.
        var complete = false
        var timerQueue: DispatchQueue?
        var timerStart: UInt64 = 0
    }
    private let state = Mutex(State())

    init(request: URLRequest, transport: HTTPTransport, limiter: ConnectionLimiter, deadline: ExchangeDeadline) {
        (events, continuation) = AsyncThrowingStream.makeStream(of: TransportEvent.self, throwing: (any Error).self)
        self.request = request
        self.transport = transport
        self.limiter = limiter
        self.deadline = deadline
        continuation.onTermination = { [weak self] reason in
            // The consumer went away (cancelled, or dropped the stream): stop the request.
            // Runs inside task cancellation: it only records and schedules, never waits.
            if case .cancelled = reason { self?.fail(.cancelled) }
        }
    }

    /// How it ended, when it failed.
    var failure: TransportFailure? { state.withLock { $0.failure } }
    /// The whole answer arrived.
    var isComplete: Bool { state.withLock { $0.complete } }

    // MARK: called on the control queue

    /// Creates and resumes the URLSession task, unless the exchange already ended, and arms
    /// the deadline from that moment.
    func start(on session: URLSession, delegate: SessionDelegate, timers: DispatchQueue) {
        let proceed = state.withLock { s -> Bool in
            if s.finished {
                s.released = true
                return false
            }
            return true
        }
        guard proceed else {
            limiter.release()
            return
        }
        let task = session.dataTask(with: request)
        delegate.register(task.taskIdentifier, self)
        armTimer(queue: timers)
        task.resume()
        // Published only once resumed: whoever sees it may cancel it, from any queue.
        let cancelNow = state.withLock { s -> Bool in
            s.task = task
            s.lastActivity = MonotonicClock.nanoseconds()
            return s.finished
        }
        if cancelNow { task.cancel() }
    }

    // MARK: called by the session delegate (its serial operation queue)

    func receive(head: HTTPHead) {
        let now = MonotonicClock.nanoseconds()
        let (go, timer) = state.withLock { s -> (Bool, (DispatchQueue, UInt64)?) in
            guard !s.finished else { return (false, nil) }
            let first = !s.headSeen
            s.headSeen = true
            s.lastActivity = now
            if first, deadline.idle != nil, let q = s.timerQueue { return (true, (q, s.timerStart)) }
            return (true, nil)
        }
        if go { continuation.yield(.head(head)) }
        // Streaming: from the head on, the idle limit rules; check it from now.
        if let (queue, start) = timer, let idle = deadline.idle { schedule(queue: queue, at: now &+ idle, start: start) }
    }

    func receive(data: Data) {
        let go = state.withLock { s -> Bool in
            guard !s.finished else { return false }
            s.lastActivity = MonotonicClock.nanoseconds()
            return true
        }
        if go { continuation.yield(.data(data)) }
    }

    /// URLSession is done with the task: end the stream (if still open) and free the slot.
    func taskCompleted(error: (any Error)?) {
        endStream(error: error)
        let release = state.withLock { s -> Bool in
            defer { s.released = true }
            return !s.released
        }
        if release { limiter.release() }
    }

    /// Ends the stream with the answer received so far (`error` nil) or a failure.
    func endStream(error: (any Error)?) {
        let failure = state.withLock { s -> TransportFailure?? in
            guard !s.finished else { return .none }
            s.finished = true
            if let error {
                let f = Self.failure(from: error)
                s.failure = f
                return .some(f)
            }
            s.complete = true
            return .some(nil)
        }
        switch failure {
        case .none: return
        case .some(nil): continuation.finish()
        case .some(let f?): continuation.finish(throwing: f)
        }
    }

    static func failure(from error: any Error) -> TransportFailure {
        if let u = error as? URLError {
            if u.code == .cancelled { return .cancelled }
            if u.code == .timedOut { return .timedOut(idle: false) }
            return .transport(message: "\(u.localizedDescription) (URLError \(u.code.rawValue))", code: u.code.rawValue)
        }
        let ns = error as NSError
        return .transport(message: "\(ns.localizedDescription) (\(ns.domain) \(ns.code))", code: ns.code)
    }

    // MARK: called from anywhere, never waits

    /// Ends the exchange with `failure` and has the URLSession task cancelled (on the
    /// control queue, after it was resumed). Safe inside task cancellation handlers.
    func fail(_ failure: TransportFailure) {
        let task = state.withLock { s -> URLSessionTask?? in
            guard !s.finished else { return .none }
            s.finished = true
            s.failure = failure
            return .some(s.task)
        }
        guard case .some(let t) = task else { return }
        continuation.finish(throwing: failure)
        // A task seen here was resumed; the one not yet published is cancelled by `start`.
        if let t { transport.cancels.async { t.cancel() } }
    }

    /// Arms the deadline timer: `total` from now; with `idle`, after the head each silence
    /// longer than `idle` ends the exchange.
    func armTimer(queue: DispatchQueue) {
        let start = MonotonicClock.nanoseconds()
        state.withLock { s in
            s.timerQueue = queue
            s.timerStart = start
        }
        schedule(queue: queue, at: start &+ deadline.total, start: start)
    }

    private func schedule(queue: DispatchQueue, at when: UInt64, start: UInt64) {
        let now = MonotonicClock.nanoseconds()
        let wait = when > now ? when - now : 0
        queue.asyncAfter(deadline: .now() + .nanoseconds(Int(min(wait, UInt64(Int.max / 2))))) { [weak self] in
            self?.timerFired(queue: queue, start: start)
        }
    }

    private func timerFired(queue: DispatchQueue, start: UInt64) {
        let now = MonotonicClock.nanoseconds()
        let (finished, headSeen, last) = state.withLock { ($0.finished, $0.headSeen, $0.lastActivity) }
        if finished { return }
        if let idle = deadline.idle, headSeen {
            // Streaming, head received: the idle limit rules from here.
            let due = max(last, start) &+ idle
            if now >= due {
                fail(.timedOut(idle: true))
            } else {
                schedule(queue: queue, at: due, start: start)
            }
            return
        }
        if now >= start &+ deadline.total {
            fail(.timedOut(idle: false))
        } else {
            schedule(queue: queue, at: start &+ deadline.total, start: start)
        }
    }
}

/// Receives URLSession's events and hands them to the exchanges, by task identifier. Runs on
/// the session's serial delegate queue; never blocks.
final class SessionDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let exchanges = Mutex<[Int: Exchange]>([:])
    weak var transport: HTTPTransport?

    func register(_ id: Int, _ exchange: Exchange) {
        exchanges.withLock { $0[id] = exchange }
    }

    private func exchange(_ task: URLSessionTask) -> Exchange? {
        exchanges.withLock { $0[task.taskIdentifier] }
    }

    var activeTasks: Int { exchanges.withLock { $0.count } }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        if let http = response as? HTTPURLResponse, let e = exchange(dataTask) {
            e.receive(head: Self.head(of: http))
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        exchange(dataTask)?.receive(data: data)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        let e = exchanges.withLock { $0.removeValue(forKey: task.taskIdentifier) }
        e?.taskCompleted(error: error)
    }

    /// Redirects are never followed by URLSession (it would resend credentials to any origin
    /// and drop the body): the 3xx answer comes back, and the client decides.
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }

    /// A 401 with `WWW-Authenticate` would make FoundationNetworking wait for credentials
    /// (forever, without a delegate): refuse, and the client sees the 401 it already got.
    func urlSession(
        _ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
        completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
    ) {
        if let e = exchange(task), let http = challenge.failureResponse as? HTTPURLResponse {
            // The head and the body arrived before the challenge; end the stream with them.
            e.receive(head: Self.head(of: http))
            e.endStream(error: nil)
        }
        let control = transport?.cancels ?? DispatchQueue.global()
        let handler = UncheckedSendable(completionHandler)
        control.async { handler.value(.cancelAuthenticationChallenge, nil) }
    }

    static func head(of http: HTTPURLResponse) -> HTTPHead {
        var headers: [String: String] = [:]
        for (k, v) in http.allHeaderFields {
            if let k = k as? String, let v = v as? String { headers[k.lowercased()] = v }
        }
        return HTTPHead(status: http.statusCode, headers: headers, url: http.url)
    }
}

/// The connection pool of the HTTP providers: one URLSession, connection slots per origin
/// (`maxConnectionsPerHost`), deadlines, and cancellation that never waits.
///
/// Providers with the same settings share one transport (`HTTPTransport.shared(...)`), so
/// `gpt-4o` and `gpt-4o-mini` on one base URL draw on one pool.
public final class HTTPTransport: Sendable {
    /// Connections (requests in flight) per origin; further calls wait in line for a slot,
    /// and that wait is not charged to their timeout.
    public let maxConnectionsPerHost: Int
    let session: URLSession
    let delegate: SessionDelegate
    /// Creates and resumes URLSession tasks (and cancels one that ended before it was resumed).
    let control = DispatchQueue(label: "ember.http.control")
    /// Cancels resumed tasks (`URLSessionTask.cancel` waits for the session's queue): apart
    /// from `control`, so cancelling many calls does not hold up new ones.
    let cancels = DispatchQueue(label: "ember.http.cancel")
    /// Deadline timers.
    let timers = DispatchQueue(label: "ember.http.timers")
    /// Under the session's delegate queue.
    private let delegateDispatchQueue = DispatchQueue(label: "ember.http.delegate")
    private let limiters = Mutex<[String: ConnectionLimiter]>([:])

    public init(maxConnectionsPerHost: Int = HTTPProviderOptions.defaultMaxConnectionsPerHost) {
        precondition(maxConnectionsPerHost >= 1, "maxConnectionsPerHost must be at least 1, got \(maxConnectionsPerHost)")
        self.maxConnectionsPerHost = maxConnectionsPerHost
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = maxConnectionsPerHost
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        configuration.urlCache = nil
        configuration.urlCredentialStorage = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        // Deadlines are ours (exact, sub-second); URLSession's own fire only far beyond them.
        configuration.timeoutIntervalForRequest = 86_400
        configuration.timeoutIntervalForResource = 86_400 * 7
        let delegate = SessionDelegate()
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        queue.name = "ember.http.delegate"
        // A serial queue of our own under it: an OperationQueue otherwise runs on the global
        // queues, whose few threads (one per core) anything else in the process can keep busy.
        queue.underlyingQueue = delegateDispatchQueue  // held by self: the property is unowned
        self.delegate = delegate
        session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: queue)
        delegate.transport = self
    }

    deinit {
        session.finishTasksAndInvalidate()
    }

    private static let sharedTransports = Mutex<[Int: HTTPTransport]>([:])

    /// The process-wide transport for these settings: one URLSession per configuration.
    public static func shared(maxConnectionsPerHost: Int = HTTPProviderOptions.defaultMaxConnectionsPerHost) -> HTTPTransport {
        if let t = sharedTransports.withLock({ $0[maxConnectionsPerHost] }) { return t }
        let made = HTTPTransport(maxConnectionsPerHost: maxConnectionsPerHost)
        return sharedTransports.withLock { table in
            if let t = table[maxConnectionsPerHost] { return t }
            table[maxConnectionsPerHost] = made
            return made
        }
    }

    func limiter(for url: URL) -> ConnectionLimiter {
        let origin = Self.origin(of: url)
        if let l = limiters.withLock({ $0[origin] }) { return l }
        return limiters.withLock { table in
            if let l = table[origin] { return l }
            let l = ConnectionLimiter(capacity: maxConnectionsPerHost)
            table[origin] = l
            return l
        }
    }

    /// `scheme://host:port`, the unit of connection slots and of redirect trust.
    static func origin(of url: URL) -> String {
        let scheme = url.scheme?.lowercased() ?? ""
        let port = url.port ?? (scheme == "https" ? 443 : scheme == "http" ? 80 : -1)
        return "\(scheme)://\(url.host?.lowercased() ?? ""):\(port)"
    }

    /// Requests in flight on this transport (URLSession tasks not yet reported done).
    public var activeRequests: Int { delegate.activeTasks }

    /// Waits for a connection slot (not charged to the deadline; bounded by `overall`, the
    /// monotonic nanosecond instant of the caller's overall deadline), then starts the
    /// request and arms its deadline. The events end with the answer, or throw a
    /// `TransportFailure`.
    func open(_ request: URLRequest, deadline: ExchangeDeadline, overall: UInt64? = nil) async throws -> Exchange {
        guard let url = request.url else { throw TransportFailure.transport(message: "the request has no URL", code: -1) }
        let limiter = limiter(for: url)
        try await limiter.acquire(deadline: overall, timers: timers)
        let exchange = Exchange(request: request, transport: self, limiter: limiter, deadline: deadline)
        if Task.isCancelled { exchange.fail(.cancelled) }
        let session = self.session
        let delegate = self.delegate
        let timers = self.timers
        control.async { exchange.start(on: session, delegate: delegate, timers: timers) }
        return exchange
    }

    /// The whole answer: head and body. Throws `TransportFailure` (or `CancellationError`
    /// when the caller was cancelled).
    func send(_ request: URLRequest, timeout: UInt64, overall: UInt64? = nil) async throws -> (HTTPHead, Data) {
        let exchange = try await open(request, deadline: ExchangeDeadline(total: timeout, idle: nil), overall: overall)
        var head: HTTPHead?
        var body = Data()
        do {
            for try await event in exchange.events {
                switch event {
                case .head(let h): head = h
                case .data(let d): body.append(d)
                }
            }
        } catch let f as TransportFailure {
            if case .cancelled = f { throw CancellationError() }
            throw f
        }
        // The stream also ends, without an error, when the consumer is cancelled.
        if !exchange.isComplete {
            exchange.fail(.cancelled)
            if Task.isCancelled { throw CancellationError() }
            switch exchange.failure {
            case .cancelled?, nil: throw CancellationError()
            case let f?: throw f
            }
        }
        guard let head else { throw TransportFailure.transport(message: "the connection closed before an HTTP answer", code: -1) }
        return (head, body)
    }
}

/// A value FoundationNetworking hands over that is safe to call from another queue, but not
/// marked `Sendable`.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// How `retry` classifies a `URLError` that reaches it (from URLSession code of your own
/// inside a module; the providers' own transport turns it into an `EmberError` first):
/// a cancelled task is a cancellation, never retried; connection and DNS failures,
/// timeouts and a bad server response are temporary; anything else is not.
extension URLError: RetryableError {
    public var isCancellation: Bool { code == .cancelled }

    public var isRetryable: Bool {
        switch code {
        case .timedOut, .networkConnectionLost, .cannotConnectToHost, .cannotFindHost,
            .dnsLookupFailed, .notConnectedToInternet, .badServerResponse:
            return true
        default:
            return false
        }
    }
}
