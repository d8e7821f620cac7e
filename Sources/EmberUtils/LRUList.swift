/// A least-recently-used index over keys with O(1) touch, insert and eviction.
/// Nodes live in one array linked by index, so a touch allocates nothing.
public struct LRUList<Key: Hashable>: Sendable where Key: Sendable {
    private struct Node: Sendable {
        var key: Key
        var prev: Int
        var next: Int
    }

    private var nodes: [Node] = []
    private var slot: [Key: Int] = [:]
    private var free: [Int] = []
    private var head = -1  // most recent
    private var tail = -1  // least recent

    public init() {}

    public var count: Int { slot.count }

    public func contains(_ key: Key) -> Bool { slot[key] != nil }

    /// Marks `key` most recently used, inserting it when absent.
    public mutating func touch(_ key: Key) {
        if let i = slot[key] {
            guard i != head else { return }
            unlink(i)
            pushFront(i)
            return
        }
        let i: Int
        if let f = free.popLast() {
            nodes[f] = Node(key: key, prev: -1, next: -1)
            i = f
        } else {
            nodes.append(Node(key: key, prev: -1, next: -1))
            i = nodes.count - 1
        }
        slot[key] = i
        pushFront(i)
    }

    /// Removes and returns the least recently used key.
    public mutating func popLeastRecent() -> Key? {
        guard tail >= 0 else { return nil }
        let i = tail
        let key = nodes[i].key
        unlink(i)
        slot[key] = nil
        free.append(i)
        return key
    }

    public mutating func remove(_ key: Key) {
        guard let i = slot.removeValue(forKey: key) else { return }
        unlink(i)
        free.append(i)
    }

    /// Keys from most to least recently used.
    public var keysByRecency: [Key] {
        var out: [Key] = []
        out.reserveCapacity(count)
        var i = head
        while i >= 0 {
            out.append(nodes[i].key)
            i = nodes[i].next
        }
        return out
    }

    private mutating func unlink(_ i: Int) {
        let p = nodes[i].prev
        let n = nodes[i].next
        if p >= 0 { nodes[p].next = n } else { head = n }
        if n >= 0 { nodes[n].prev = p } else { tail = p }
        nodes[i].prev = -1
        nodes[i].next = -1
    }

    private mutating func pushFront(_ i: Int) {
        nodes[i].next = head
        nodes[i].prev = -1
        if head >= 0 { nodes[head].prev = i }
        head = i
        if tail < 0 { tail = i }
    }
}
