// libFuzzer entry point for EmberPython: decode, tokenize and parse in every target version,
// and check the invariants a caller relies on (lossless tokens, spans inside the text,
// children inside their parent). Built by scripts/fuzz/build.sh.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPython(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let text: [UInt8]
    let source: PythonSource
    do {
        source = try PythonSource(bytes: bytes)
        text = source.text
    } catch {
        precondition(error.offset >= 0 && error.offset <= bytes.count, "decode error offset out of range")
        return 0
    }
    for version in PythonVersion.all {  // every target version's tokens (3.11's form, 3.12's, 3.14's t-strings)
        let result = PythonTokenizer.tokenize(source, options: .init(targetVersion: version))
        var at = 0
        for t in result.tokens {
            precondition(t.start >= at && t.end >= t.start && t.end <= text.count, "token out of order or range")
            for b in text[at..<t.start] {
                precondition(b == 0x20 || b == 0x09 || b == 0x0C || b == 0x5C || b == 0x0A || b == 0x0D, "non-trivia gap")
            }
            at = t.end
        }
        precondition(result.tokens.last?.kind == .endmarker, "no ENDMARKER")
        for d in result.diagnostics { precondition(d.offset >= 0 && d.offset <= text.count, "diagnostic offset") }
    }
    for version in PythonVersion.all where version != .v3_11 {
        let treeOfVersion = PythonParser.parse(source, options: .init(targetVersion: version))
        for node in treeOfVersion.nodes {
            precondition(node.start >= 0 && node.start <= node.end && node.end <= text.count, "\(version) node span out of range")
        }
        for d in treeOfVersion.diagnostics { precondition(d.offset >= 0 && d.offset <= text.count, "\(version) parse diagnostic offset") }
    }
    let tree = PythonParser.parse(source, options: .init(targetVersion: .v3_11))
    for node in tree.nodes {
        precondition(node.start >= 0 && node.start <= node.end && node.end <= text.count, "node span out of range")
    }
    for d in tree.diagnostics { precondition(d.offset >= 0 && d.offset <= text.count, "parse diagnostic offset") }
    if tree.isValid {
        // Children lie inside their parent, except f-string parts (3.11 spans) which may equal it.
        for (k, node) in tree.nodes.enumerated() where node.kind != .module {
            for c in tree.children(of: PythonNodeID(k)) {
                let child = tree[c]
                precondition(child.start >= node.start && child.end <= node.end || node.kind == .formattedValue || node.kind == .joinedStr || node.kind == .interpolation || node.kind == .templateStr
                             || node.kind == .functionDef || node.kind == .asyncFunctionDef || node.kind == .classDef,
                             "child outside parent")
            }
        }
    }
    return 0
}
