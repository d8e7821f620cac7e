/// Unified diff (3 lines of context) of two texts, line-based, via Myers' O(ND) algorithm.
public func unifiedDiff(old: [UInt8], new: [UInt8], oldName: String, newName: String, context: Int = 3) -> String {
    let a = splitLines(old), b = splitLines(new)
    let script = myers(a, b)
    guard script.contains(where: { $0.kind != .same }) else { return "" }
    var out = "--- \(oldName)\n+++ \(newName)\n"
    // Group changes into hunks with `context` lines around them.
    var i = 0
    while i < script.count {
        guard script[i].kind != .same else { i += 1; continue }
        var start = i
        var back = 0
        while start > 0 && back < context && script[start - 1].kind == .same { start -= 1; back += 1 }
        var end = i
        while end < script.count {
            if script[end].kind != .same { end += 1; continue }
            var run = end
            while run < script.count && script[run].kind == .same { run += 1 }
            if run == script.count || run - end > 2 * context {
                end = min(end + context, run)
                break
            }
            end = run
        }
        let hunk = script[start..<end]
        let oldStart = hunk.first!.oldIndex, newStart = hunk.first!.newIndex
        let oldCount = hunk.filter { $0.kind != .insert }.count
        let newCount = hunk.filter { $0.kind != .delete }.count
        out += "@@ -\(oldCount == 0 ? oldStart : oldStart + 1),\(oldCount) +\(newCount == 0 ? newStart : newStart + 1),\(newCount) @@\n"
        for op in hunk {
            let line: ArraySlice<UInt8>
            let marker: String
            switch op.kind {
            case .same: marker = " "; line = a[op.oldIndex]
            case .delete: marker = "-"; line = a[op.oldIndex]
            case .insert: marker = "+"; line = b[op.newIndex]
            }
            out += marker + String(decoding: line, as: UTF8.self)
            if line.last != 0x0A && line.last != 0x0D { out += "\n\\ No newline at end of file\n" }
        }
        i = end
    }
    return out
}

struct DiffOp {
    enum Kind { case same, delete, insert }
    var kind: Kind
    var oldIndex: Int
    var newIndex: Int
}

/// Lines including their terminator (LF, CRLF or CR), so the diff shows line endings as they are.
func splitLines(_ text: [UInt8]) -> [ArraySlice<UInt8>] {
    var lines: [ArraySlice<UInt8>] = []
    var start = 0
    var k = 0
    while k < text.count {
        if text[k] == 0x0A {
            lines.append(text[start...k]); start = k + 1
        } else if text[k] == 0x0D {
            if k + 1 < text.count && text[k + 1] == 0x0A { k += 1 }
            lines.append(text[start...k]); start = k + 1
        }
        k += 1
    }
    if start < text.count { lines.append(text[start...]) }
    return lines
}

func myers(_ a: [ArraySlice<UInt8>], _ b: [ArraySlice<UInt8>]) -> [DiffOp] {
    // Common prefix and suffix first: migrations change few lines of large files.
    var prefix = 0
    while prefix < a.count && prefix < b.count && a[prefix] == b[prefix] { prefix += 1 }
    var suffix = 0
    while suffix < a.count - prefix && suffix < b.count - prefix && a[a.count - 1 - suffix] == b[b.count - 1 - suffix] { suffix += 1 }
    let x = Array(a[prefix..<(a.count - suffix)]), y = Array(b[prefix..<(b.count - suffix)])
    let n = x.count, m = y.count
    let maxD = n + m
    let offset = maxD + 1
    var v = [Int](repeating: 0, count: 2 * maxD + 3)
    var trace: [[Int]] = []
    var found = false
    for d in 0...maxD {
        trace.append(v)
        var k = -d
        while k <= d {
            var px: Int
            if k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) { px = v[offset + k + 1] } else { px = v[offset + k - 1] + 1 }
            var py = px - k
            while px < n && py < m && x[px] == y[py] { px += 1; py += 1 }
            v[offset + k] = px
            if px >= n && py >= m { found = true; break }
            k += 2
        }
        if found { break }
    }
    // Backtrack.
    var ops: [DiffOp] = []
    var px = n, py = m
    for d in stride(from: trace.count - 1, through: 0, by: -1) {
        let vd = trace[d]
        let k = px - py
        let prevK: Int
        if k == -d || (k != d && vd[offset + k - 1] < vd[offset + k + 1]) { prevK = k + 1 } else { prevK = k - 1 }
        let prevX = d == 0 ? 0 : vd[offset + prevK]
        let prevY = prevX - prevK
        while px > prevX && py > prevY {
            px -= 1; py -= 1
            ops.append(DiffOp(kind: .same, oldIndex: px + prefix, newIndex: py + prefix))
        }
        if d > 0 {
            if px == prevX { py -= 1; ops.append(DiffOp(kind: .insert, oldIndex: px + prefix, newIndex: py + prefix)) }
            else { px -= 1; ops.append(DiffOp(kind: .delete, oldIndex: px + prefix, newIndex: py + prefix)) }
        }
    }
    ops.reverse()
    var result: [DiffOp] = (0..<prefix).map { DiffOp(kind: .same, oldIndex: $0, newIndex: $0) }
    result += ops
    for s in 0..<suffix { result.append(DiffOp(kind: .same, oldIndex: a.count - suffix + s, newIndex: b.count - suffix + s)) }
    return result
}
