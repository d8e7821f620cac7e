// A small HTTP/1.1 server on 127.0.0.1 for provider tests: real sockets, an ephemeral port,
// one thread per connection, `Connection: close` after each answer (or, with `keepAlive`,
// persistent connections). Tests script the answers (status, headers, body, delay, or a body
// streamed in timed pieces) and read back every request the server saw, and how each
// exchange ended: answered, or closed by the client before the answer was complete.
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if os(Linux)
private let noSignal = Int32(MSG_NOSIGNAL)
#else
private let noSignal: Int32 = 0
#endif

/// POLLRDHUP (Linux; the peer closed its end), which Glibc's module does not export.
#if os(Linux)
private let pollReadHangUp: Int16 = 0x2000
#else
private let pollReadHangUp: Int16 = 0
#endif

/// Monotonic nanoseconds (CLOCK_MONOTONIC, as EmberUtils' MonotonicClock).
public func loopbackNow() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

public struct RecordedRequest: Sendable {
    public var method: String
    public var path: String
    /// Header names lowercased.
    public var headers: [String: String]
    public var body: Data

    /// The body parsed as a JSON object (nil when it is not one).
    public var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
    }
}

/// A piece of a streamed body, sent after waiting `delay` seconds.
public struct BodyPiece: Sendable {
    public var bytes: Data
    public var delay: Double

    public init(_ bytes: Data, delay: Double = 0) {
        self.bytes = bytes
        self.delay = delay
    }

    public init(_ text: String, delay: Double = 0) {
        self.init(Data(text.utf8), delay: delay)
    }
}

public struct ScriptedResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: Data
    /// Seconds to wait before answering (a slow server). The wait ends early when the client
    /// closes the connection.
    public var delay: Double
    /// When set, the body is these pieces instead, sent with `Transfer-Encoding: chunked`,
    /// one write per piece, each after its delay.
    public var pieces: [BodyPiece]?

    public init(status: Int = 200, headers: [(String, String)] = [], body: Data = Data(), delay: Double = 0) {
        self.status = status
        self.headers = headers
        self.body = body
        self.delay = delay
    }

    public static func json(_ status: Int = 200, _ text: String, headers: [(String, String)] = [], delay: Double = 0) -> ScriptedResponse {
        ScriptedResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: Data(text.utf8), delay: delay)
    }

    /// A `text/event-stream` answer sent in timed pieces.
    public static func eventStream(_ pieces: [BodyPiece], status: Int = 200, headers: [(String, String)] = [], delay: Double = 0) -> ScriptedResponse {
        var r = ScriptedResponse(status: status, headers: [("Content-Type", "text/event-stream")] + headers, delay: delay)
        r.pieces = pieces
        return r
    }
}

public enum LoopbackServerError: Error, CustomStringConvertible {
    case socket(String)
    public var description: String {
        switch self {
        case .socket(let m): return "loopback server: \(m)"
        }
    }
}

/// How the server's exchanges ended so far.
public struct LoopbackStatistics: Sendable, Equatable {
    /// Connections accepted.
    public var connections = 0
    /// Requests read whose answer is neither complete nor abandoned.
    public var inFlight = 0
    /// Answers written completely.
    public var answered = 0
    /// Exchanges the client closed before their answer was complete.
    public var closedByClient = 0
    /// Connections open now.
    public var openConnections = 0
}

public final class LoopbackHTTPServer: Sendable {
    public let port: UInt16
    public let keepAlive: Bool
    private let listener: Int32
    private let handler: @Sendable (RecordedRequest, Int) -> ScriptedResponse
    private let seen = Mutex<[RecordedRequest]>([])
    private let stats = Mutex(LoopbackStatistics())
    /// When (monotonic ns) the server noticed each early close by a client.
    private let closeTimes = Mutex<[UInt64]>([])
    private let record: Bool
    private let stopped = Atomic<Bool>(false)

    /// `handler(request, index)` answers the index-th request (0-based). `record: false`
    /// keeps no copy of the requests (long load runs). `keepAlive`: connections stay open
    /// for further requests.
    public init(
        keepAlive: Bool = false, record: Bool = true, handler: @escaping @Sendable (RecordedRequest, Int) -> ScriptedResponse
    ) throws {
        self.handler = handler
        self.keepAlive = keepAlive
        self.record = record
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw LoopbackServerError.socket("socket() failed: errno \(errno)") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0  // ephemeral
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            close(fd)
            throw LoopbackServerError.socket("bind(127.0.0.1:0) failed: errno \(errno)")
        }
        // A deep backlog: hundreds of clients connect at once in the pool tests.
        guard listen(fd, 4096) == 0 else {
            close(fd)
            throw LoopbackServerError.socket("listen() failed: errno \(errno)")
        }
        var actual = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        port = UInt16(bigEndian: actual.sin_port)
        listener = fd
        let thread = Thread { [self] in acceptLoop() }
        thread.stackSize = 256 * 1024
        thread.start()
    }

    /// Scripted answers in order; requests past the end get the last one.
    public convenience init(responses: [ScriptedResponse], keepAlive: Bool = false) throws {
        precondition(!responses.isEmpty)
        try self.init(keepAlive: keepAlive) { _, i in responses[min(i, responses.count - 1)] }
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Every request received so far, in arrival order.
    public var requests: [RecordedRequest] { seen.withLock { $0 } }

    /// Requests received so far (also with `record: false`).
    public var requestCount: Int { stats.withLock { $0.answered + $0.inFlight + $0.closedByClient } }

    public var statistics: LoopbackStatistics { stats.withLock { $0 } }

    /// Monotonic instants at which the server saw clients close before their answer was complete.
    public var clientCloseTimes: [UInt64] { closeTimes.withLock { $0 } }

    /// Waits (polling, up to `timeout` seconds) until `condition` holds for the statistics;
    /// answers whether it did.
    public func wait(timeout: Double, until condition: (LoopbackStatistics) -> Bool) async -> Bool {
        let end = loopbackNow() + UInt64(timeout * 1e9)
        while true {
            if condition(statistics) { return true }
            if loopbackNow() >= end { return false }
            try? await Task.sleep(nanoseconds: 1_000_000)
        }
    }

    /// The same, blocking the calling thread (for handlers, which run on connection threads).
    public func waitBlocking(timeout: Double, until condition: (LoopbackStatistics) -> Bool) -> Bool {
        let end = loopbackNow() + UInt64(timeout * 1e9)
        while true {
            if condition(statistics) { return true }
            if loopbackNow() >= end { return false }
            usleep(500)
        }
    }

    public func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    deinit { stop() }

    private func acceptLoop() {
        while !stopped.load(ordering: .relaxed) {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            var one: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            stats.withLock {
                $0.connections += 1
                $0.openConnections += 1
            }
            let t = Thread { [self] in serve(client) }
            t.stackSize = 256 * 1024
            t.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer {
            close(fd)
            stats.withLock { $0.openConnections -= 1 }
        }
        var buffer = [UInt8]()
        while true {
            guard let request = readRequest(fd, &buffer) else { return }
            let index = stats.withLock { s -> Int in
                s.inFlight += 1
                return s.answered + s.inFlight + s.closedByClient - 1
            }
            if record { seen.withLock { $0.append(request) } }
            let response = handler(request, index)
            let ok = answer(fd, response)
            stats.withLock { s in
                s.inFlight -= 1
                if ok { s.answered += 1 } else { s.closedByClient += 1 }
            }
            if !ok {
                let now = loopbackNow()
                closeTimes.withLock { $0.append(now) }
                return
            }
            if !keepAlive || request.headers["connection"]?.lowercased() == "close" {
                shutdown(fd, Int32(SHUT_WR))
                return
            }
        }
    }

    /// Writes the answer; false when the client closed first.
    private func answer(_ fd: Int32, _ response: ScriptedResponse) -> Bool {
        if response.delay > 0, !pause(fd, seconds: response.delay) { return false }
        var head = "HTTP/1.1 \(response.status) \(Self.reason(response.status))\r\n"
        if response.pieces != nil {
            head += "Transfer-Encoding: chunked\r\n"
        } else {
            head += "Content-Length: \(response.body.count)\r\n"
        }
        head += keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n"
        for (k, v) in response.headers { head += "\(k): \(v)\r\n" }
        head += "\r\n"
        guard let pieces = response.pieces else {
            return writeAll(fd, Data(head.utf8) + response.body)
        }
        guard writeAll(fd, Data(head.utf8)) else { return false }
        for piece in pieces {
            if piece.delay > 0, !pause(fd, seconds: piece.delay) { return false }
            if piece.bytes.isEmpty { continue }
            let chunk = Data(String(piece.bytes.count, radix: 16).utf8) + Data("\r\n".utf8) + piece.bytes + Data("\r\n".utf8)
            guard writeAll(fd, chunk) else { return false }
        }
        return writeAll(fd, Data("0\r\n\r\n".utf8))
    }

    /// Waits `seconds`, watching the socket: false as soon as the client closes it.
    private func pause(_ fd: Int32, seconds: Double) -> Bool {
        let end = loopbackNow() + UInt64(seconds * 1e9)
        while true {
            let now = loopbackNow()
            if now >= end { return true }
            var p = pollfd(fd: fd, events: Int16(POLLIN) | pollReadHangUp, revents: 0)
            let ms = Int32(min((end - now) / 1_000_000 + 1, 1000))
            let r = poll(&p, 1, ms)
            if r < 0 {
                if errno == EINTR { continue }
                return false
            }
            if r > 0 {
                if p.revents & (pollReadHangUp | Int16(POLLHUP) | Int16(POLLERR)) != 0 { return false }
                if p.revents & Int16(POLLIN) != 0 {
                    // Data during the wait (a pipelined request) is left for later; EOF is a close.
                    var byte: UInt8 = 0
                    let n = recv(fd, &byte, 1, Int32(MSG_PEEK))
                    if n <= 0 { return false }
                    usleep(1000)
                }
            }
        }
    }

    private func readRequest(_ fd: Int32, _ buffer: inout [UInt8]) -> RecordedRequest? {
        var chunk = [UInt8](repeating: 0, count: 16384)
        var headerEnd = Self.find([13, 10, 13, 10], in: buffer)
        while headerEnd == nil {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return nil }
            buffer.append(contentsOf: chunk[0..<n])
            headerEnd = Self.find([13, 10, 13, 10], in: buffer)
        }
        let head = String(decoding: buffer[0..<headerEnd!], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name] = value
        }
        if headers["expect"]?.lowercased() == "100-continue" {
            _ = writeAll(fd, Data("HTTP/1.1 100 Continue\r\n\r\n".utf8))
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        let bodyStart = headerEnd! + 4
        while buffer.count - bodyStart < length {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { break }
            buffer.append(contentsOf: chunk[0..<n])
        }
        let end = min(buffer.count, bodyStart + length)
        let body = Data(buffer[bodyStart..<end])
        buffer.removeFirst(end)
        return RecordedRequest(method: String(requestLine[0]), path: String(requestLine[1]), headers: headers, body: body)
    }

    private func writeAll(_ fd: Int32, _ data: Data) -> Bool {
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Bool in
            var offset = 0
            while offset < raw.count {
                // MSG_NOSIGNAL: a client that gave up (timeout test) must not SIGPIPE the tests.
                let n = send(fd, raw.baseAddress! + offset, raw.count - offset, noSignal)
                if n <= 0 {
                    if n < 0 && errno == EINTR { continue }
                    return false
                }
                offset += n
            }
            return true
        }
    }

    private static func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] {
            if hay[i + 1] == needle[1] && hay[i + 2] == needle[2] && hay[i + 3] == needle[3] { return i }
        }
        return nil
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 307: return "Temporary Redirect"
        case 308: return "Permanent Redirect"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }
}

/// A loopback port that refuses connections for as long as this value lives: the socket
/// is bound but never listens, so no other test's server can be given the same port
/// (a stopped server's port can be, which made "connection refused" tests flaky).
public final class RefusingLoopbackPort: Sendable {
    public let port: UInt16
    private let fd: Int32

    public init() throws {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw LoopbackServerError.socket("socket() failed: errno \(errno)") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            close(fd)
            throw LoopbackServerError.socket("bind(127.0.0.1:0) failed: errno \(errno)")
        }
        var actual = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        port = UInt16(bigEndian: actual.sin_port)
        self.fd = fd
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    deinit { close(fd) }
}
