/// Levenshtein distance on bytes (for "did you mean" and "the closest existing module").
public func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.utf8), b = Array(b.utf8)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var row = Array(0...b.count)
    for i in 1...a.count {
        var previous = row[0]
        row[0] = i
        for j in 1...b.count {
            let current = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
            previous = current
        }
    }
    return row[b.count]
}

/// The candidate closest to `text` by edit distance (ties: the first in order), nil when
/// there is none.
public func closest(to text: String, in candidates: some Sequence<String>) -> String? {
    var best: (Int, String)?
    for c in candidates {
        let d = editDistance(text, c)
        if best == nil || d < best!.0 { best = (d, c) }
    }
    return best?.1
}
