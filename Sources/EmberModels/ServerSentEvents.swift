/// One server-sent event (the `text/event-stream` format both providers stream in).
public struct ServerSentEvent: Sendable, Equatable {
    /// The `event:` field; "message" when the event had none.
    public var event: String
    /// The `data:` lines joined with "\n".
    public var data: String
    /// The last `id:` seen so far in the stream, if any.
    public var id: String?
    /// The last `retry:` (milliseconds) in this event, if any.
    public var retry: Int?

    public init(event: String = "message", data: String, id: String? = nil, retry: Int? = nil) {
        self.event = event
        self.data = data
        self.id = id
        self.retry = retry
    }
}

/// An incremental parser of `text/event-stream`, as the HTML standard specifies it: bytes
/// in any pieces (a line, a CRLF or a UTF-8 character split across reads), lines ended by
/// CRLF, LF or CR, a leading byte order mark ignored, `:` comments (keep-alives) ignored,
/// `field: value` with one optional space, several `data:` lines joined with "\n", an event
/// dispatched at a blank line (none when it has no data), and at the end an unfinished
/// event discarded.
public struct ServerSentEventParser: Sendable {
    private var line: [UInt8] = []
    private var afterCR = false
    private var atStart = true
    private var eventType = ""
    private var data: [UInt8] = []
    private var hasData = false
    private var lastID: String?
    private var retry: Int?

    public init() {}

    /// The events completed by these bytes, in order.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        var out: [ServerSentEvent] = []
        for b in bytes {
            if afterCR {
                afterCR = false
                if b == 0x0A { continue }  // the LF of a CRLF split from its CR, or not
            }
            switch b {
            case 0x0A:
                endLine(into: &out)
            case 0x0D:
                afterCR = true
                endLine(into: &out)
            default:
                line.append(b)
                if atStart && line.count == 3 {
                    if line == [0xEF, 0xBB, 0xBF] { line.removeAll() }
                    atStart = false
                }
            }
        }
        return out
    }

    /// The end of the stream: an event without its blank line is not dispatched.
    public mutating func finish() -> [ServerSentEvent] {
        line.removeAll()
        data.removeAll()
        hasData = false
        eventType = ""
        return []
    }

    private mutating func endLine(into out: inout [ServerSentEvent]) {
        if atStart {
            if line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
            atStart = false
        }
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            dispatch(into: &out)
            return
        }
        if line[0] == UInt8(ascii: ":") { return }  // a comment
        let name: ArraySlice<UInt8>
        var value: ArraySlice<UInt8>
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            name = line[..<colon]
            value = line[(colon + 1)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        } else {
            name = line[...]
            value = []
        }
        switch String(decoding: name, as: UTF8.self) {
        case "event":
            eventType = String(decoding: value, as: UTF8.self)
        case "data":
            data.append(contentsOf: value)
            data.append(0x0A)
            hasData = true
        case "id":
            if !value.contains(0) { lastID = String(decoding: value, as: UTF8.self) }
        case "retry":
            if !value.isEmpty, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                retry = Int(String(decoding: value, as: UTF8.self))
            }
        default:
            break  // unknown fields are ignored
        }
    }

    private mutating func dispatch(into out: inout [ServerSentEvent]) {
        defer {
            eventType = ""
            data.removeAll(keepingCapacity: true)
            hasData = false
            retry = nil
        }
        guard hasData else { return }
        if data.last == 0x0A { data.removeLast() }
        out.append(
            ServerSentEvent(
                event: eventType.isEmpty ? "message" : eventType, data: String(decoding: data, as: UTF8.self), id: lastID,
                retry: retry))
    }
}
