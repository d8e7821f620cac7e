import EmberPython

/// Canonical dump compared with `ast.parse` by scripts/conformance: for every statement and
/// expression in pre-order (CPython field order), "Kind line:col-endline:endcol"
/// with UTF-8 byte columns.
struct CanonicalDump: PythonSyntaxVisitor {
    var lines: [String] = []
    mutating func visit(_ node: PythonNodeID, in tree: PythonSyntaxTree) -> Bool {
        let n = tree[node]
        if n.kind.isStatement || n.kind.isExpression {
            let (s, e) = tree.location(of: node)
            lines.append("\(n.kind.astName) \(s.line):\(s.column)-\(e.line):\(e.column)")
        }
        return true
    }
}

func astDump(_ source: PythonSource, _ result: PythonTokenizeResult) -> String {
    let tree = PythonParser.parse(source, tokens: result)
    var out = ",\"parseDiagnostics\":\(diagnosticsJSON(tree.diagnostics))"
    if tree.isValid {
        var dump = CanonicalDump()
        tree.walk(&dump)
        out += ",\"ast\":[" + dump.lines.map { "\"\($0)\"" }.joined(separator: ",") + "]"
    }
    return out
}

func benchParse(_ source: PythonSource, _ result: PythonTokenizeResult) -> Int {
    PythonParser.parse(source, tokens: result).nodes.count
}
