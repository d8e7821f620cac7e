/// The internal import graph: one node per module, one arc per importer/imported pair
/// (remembering the first import statement that makes it, for positions).
struct ModuleGraph {
    var names: [String] = []
    /// Sorted, deduplicated successors: node v's are successorList[successorStart[v] ..<
    /// successorStart[v + 1]] (one array for all: no array per node).
    var successorStart: [Int] = [0]
    var successorList: [Int] = []
    /// The import statements (edges) the graph was built from, in lists (one per file).
    let edgeLists: [[ImportEdge]]
    /// The first edge for each (from, to) arc, keyed by `arcKey`: its list << 32 | its
    /// index in the list.
    var arcEdge = IntTable()

    /// The graph of the edges of `edgeLists`, in order (no list of them all is made); with
    /// `internalOnly`, of the internal ones only. Edges
    /// that carry node numbers from `known` (a name-sorted module list) are placed without
    /// hashing their names; the others are looked up by name.
    init(edgeLists: [[ImportEdge]], internalOnly: Bool = false, known: ModuleTable = ModuleTable([String]())) {
        self.edgeLists = edgeLists
        // Graph nodes are the modules the edges touch, in name order: known ones by
        // their numbers (already in name order), others collected by name.
        var usedKnown = [Bool](repeating: false, count: known.names.count)
        var extra = Set<String>()
        var count = 0
        // Fields are read in place: copying whole edges would retain their strings.
        for list in edgeLists {
            count += list.count
            for i in list.indices where !internalOnly || list[i].kind == .internal {
                if list[i].importerNode >= 0 { usedKnown[Int(list[i].importerNode)] = true } else { extra.insert(list[i].importer) }
                if list[i].importedNode >= 0 { usedKnown[Int(list[i].importedNode)] = true } else { extra.insert(list[i].imported) }
            }
        }
        let extraSorted = StringOrder.sorted(Array(extra))
        var knownToNode = [Int](repeating: -1, count: known.names.count)
        var extraIds: [String: Int] = [:]
        var k = 0, x = 0
        while k < known.names.count || x < extraSorted.count {
            while k < known.names.count && !usedKnown[k] { k += 1 }
            let takeKnown = k < known.names.count && (x >= extraSorted.count || known.names[k] < extraSorted[x])
            if takeKnown {
                knownToNode[k] = names.count
                names.append(known.names[k])
                k += 1
            } else if x < extraSorted.count {
                extraIds[extraSorted[x]] = names.count
                names.append(extraSorted[x])
                x += 1
            }
        }
        func node(_ number: Int32, _ name: String) -> Int { number >= 0 ? knownToNode[Int(number)] : extraIds[name]! }
        // Each arc once (the first edge that makes it is remembered), then the arcs grouped
        // by their source (counting sort) and each node's few successors sorted.
        var arcs: [(Int, Int)] = []
        arcs.reserveCapacity(count)
        let n = names.count
        arcEdge = IntTable(capacity: count)
        var start = [Int](repeating: 0, count: n + 1)
        for (l, list) in edgeLists.enumerated() {
            for i in list.indices where !internalOnly || list[i].kind == .internal {
                let a = node(list[i].importerNode, list[i].importer), b = node(list[i].importedNode, list[i].imported)
                guard a != b else { continue }
                if arcEdge.insertIfAbsent(ModuleGraph.arcKey(a, b, n), l << 32 | i) {
                    arcs.append((a, b))
                    start[a + 1] += 1
                }
            }
        }
        for v in 0..<n { start[v + 1] += start[v] }
        var list = [Int](repeating: 0, count: arcs.count)
        var fill = start
        for (a, b) in arcs {
            list[fill[a]] = b
            fill[a] += 1
        }
        for v in 0..<n where start[v + 1] - start[v] > 1 { list[start[v]..<start[v + 1]].sort() }
        successorStart = start
        successorList = list
    }

    @inline(__always) static func arcKey(_ a: Int, _ b: Int, _ n: Int) -> Int { a * max(n, 1) + b }

    /// Strongly connected components with more than one module (Tarjan, iterative).
    func stronglyConnectedComponents() -> [[Int]] {
        let n = names.count
        var index = [Int](repeating: -1, count: n)
        var low = [Int](repeating: 0, count: n)
        var onStack = [Bool](repeating: false, count: n)
        var stack: [Int] = []
        var next = 0
        var components: [[Int]] = []
        for root in 0..<n where index[root] < 0 {
            var work: [(node: Int, child: Int)] = [(root, 0)]
            index[root] = next; low[root] = next; next += 1
            stack.append(root); onStack[root] = true
            while !work.isEmpty {
                let (v, c) = work[work.count - 1]
                if c < successorStart[v + 1] - successorStart[v] {
                    work[work.count - 1].child += 1
                    let w = successorList[successorStart[v] + c]
                    if index[w] < 0 {
                        index[w] = next; low[w] = next; next += 1
                        stack.append(w); onStack[w] = true
                        work.append((w, 0))
                    } else if onStack[w] {
                        low[v] = min(low[v], index[w])
                    }
                } else {
                    work.removeLast()
                    if let parent = work.last { low[parent.node] = min(low[parent.node], low[v]) }
                    if low[v] == index[v] {
                        var component: [Int] = []
                        while true {
                            let w = stack.removeLast()
                            onStack[w] = false
                            component.append(w)
                            if w == v { break }
                        }
                        if component.count > 1 { components.append(component.sorted()) }
                    }
                }
            }
        }
        return components
    }

    /// Shortest path from any source to a node where `isTarget` holds, following only arcs
    /// `allowed` permits; ties go to the alphabetically first path. Nil if none.
    func shortestPath(from sources: [Int], allowed: (Int, Int) -> Bool, isTarget: (Int) -> Bool) -> [Int]? {
        var previous = [Int](repeating: -2, count: names.count)
        var queue: [Int] = []
        for s in sources.sorted() { previous[s] = -1; queue.append(s) }
        var head = 0
        while head < queue.count {
            let v = queue[head]; head += 1
            for k in successorStart[v]..<successorStart[v + 1] where allowed(v, successorList[k]) {
                let w = successorList[k]
                // The target test comes first: a cycle ends at its own (visited) start.
                if isTarget(w) {
                    var path = [w]
                    var x = v
                    while x >= 0 { path.append(x); x = previous[x] }
                    return path.reversed()
                }
                guard previous[w] == -2 else { continue }
                previous[w] = v
                queue.append(w)
            }
        }
        return nil
    }

    /// The shortest cycle inside one component, as nodes with the first repeated at the end.
    func shortestCycle(in component: [Int]) -> [Int] {
        let members = Set(component)
        var best: [Int] = []
        for start in component {
            // BFS back to `start` within the component.
            if !best.isEmpty && best.count <= 3 { break }  // a 2-cycle cannot be beaten
            guard let path = shortestPath(from: [start], allowed: { members.contains($1) }, isTarget: { $0 == start }) else { continue }
            if best.isEmpty || path.count < best.count { best = path }
        }
        return best
    }

    func edge(_ a: Int, _ b: Int) -> ImportEdge {
        let at = arcEdge[ModuleGraph.arcKey(a, b, names.count)]!
        return edgeLists[at >> 32][at & 0xFFFF_FFFF]
    }

    func chainNotes(_ path: [Int]) -> [String] {
        zip(path, path.dropFirst()).map { a, b in
            let e = edge(a, b)
            return "\(names[a]) -> \(names[b]) (\(e.path):\(e.line):\(e.column))"
        }
    }

    func cycleDiagnostics() -> [Diagnostic] {
        stronglyConnectedComponents().map { component in
            let cycle = shortestCycle(in: component)
            let first = edge(cycle[0], cycle[1])
            let chain = cycle.map { names[$0] }.joined(separator: " -> ")
            let others = component.count > cycle.count - 1 ? "; \(component.count) modules import each other in all" : ""
            return Diagnostic(code: .importCycle, path: first.path, startOffset: first.startOffset, endOffset: first.endOffset,
                              line: first.line, column: first.column,
                              message: "import cycle: \(chain)\(others)",
                              notes: chainNotes(cycle), importer: first.importer, imported: first.imported)
        }
    }

    /// With --explain: for each layer and each layer it may not import, the shortest chain
    /// of allowed first steps that still reaches it (EL007).
    func indirectViolations(checker: LayerChecker) -> [Diagnostic] {
        var out: [Diagnostic] = []
        let rules = checker.rules
        let layerOf: [Layer?] = names.map { rules.layer(of: $0) }
        for layer in rules.layers {
            let sources = names.indices.filter { layerOf[$0]?.name == layer.name }
            guard !sources.isEmpty else { continue }
            for target in rules.layers where target.name != layer.name {
                let forbidden: (Int) -> Bool = { w in
                    layerOf[w]?.name == target.name && !checker.allows(layer, self.names[w], kind: .internal)
                }
                let path = shortestPath(from: sources, allowed: { v, w in
                    // Steps out of the layer must be allowed ones (a forbidden first step is a
                    // direct violation, reported already); never walk back into the layer.
                    if layerOf[w]?.name == layer.name { return false }
                    if layerOf[v]?.name == layer.name { return checker.allows(layer, self.names[w], kind: .internal) }
                    return true
                }, isTarget: forbidden)
                guard let path, path.count > 2 else { continue }
                let first = edge(path[0], path[1])
                out.append(Diagnostic(code: .indirectLayerViolation, path: first.path, startOffset: first.startOffset, endOffset: first.endOffset,
                                      line: first.line, column: first.column,
                                      message: "layer '\(layer.name)' reaches layer '\(target.name)' indirectly: \(path.map { names[$0] }.joined(separator: " -> ")); layer '\(layer.name)' may import: \(checker.allowedList(layer))",
                                      notes: chainNotes(path), importer: names[path[0]], imported: names[path[path.count - 1]]))
            }
        }
        return out
    }
}

/// Non-negative integer keys to integer values, by open addressing (a multiplicative
/// hash: the graph's arc keys need no protection against crafted collisions).
struct IntTable {
    private var keys: [Int] = [-1]
    private var values: [Int] = [0]
    private var count = 0

    init() {}

    /// Room for `capacity` keys without growing.
    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [Int](repeating: -1, count: size)
        values = [Int](repeating: 0, count: size)
    }

    @inline(__always) private func slot(_ key: Int) -> Int {
        Int(truncatingIfNeeded: (UInt64(bitPattern: Int64(key)) &* 0x9E37_79B9_7F4A_7C15) >> 32) & (keys.count - 1)
    }

    /// Adds `key` with `value` unless it is there; whether it was added.
    mutating func insertIfAbsent(_ key: Int, _ value: Int) -> Bool {
        precondition(key >= 0)
        if (count + 1) * 2 > keys.count { grow() }
        var h = slot(key)
        while keys[h] >= 0 {
            if keys[h] == key { return false }
            h = (h + 1) & (keys.count - 1)
        }
        keys[h] = key
        values[h] = value
        count += 1
        return true
    }

    private mutating func grow() {
        let old = (keys, values)
        self = IntTable(capacity: max(count * 2, 8))
        for (k, v) in zip(old.0, old.1) where k >= 0 { _ = insertIfAbsent(k, v) }
    }

    subscript(key: Int) -> Int? {
        var h = slot(key)
        while keys[h] >= 0 {
            if keys[h] == key { return values[h] }
            h = (h + 1) & (keys.count - 1)
        }
        return nil
    }
}
