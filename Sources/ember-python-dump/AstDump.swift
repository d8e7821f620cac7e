import EmberPython

/// Tree part of a JSON line: parser diagnostics and, for valid files, the canonical dump
/// that scripts/conformance compares with `ast.parse`.
func astDump(_ source: PythonSource, _ result: PythonTokenizeResult) -> String {
    let tree = PythonParser.parse(source, tokens: result)
    var out = ",\"parseDiagnostics\":\(diagnosticsJSON(tree.diagnostics))"
    if tree.isValid {
        out += ",\"ast\":[" + tree.canonicalDump().map { "\"\($0)\"" }.joined(separator: ",") + "]"
    }
    return out
}

func benchParse(_ source: PythonSource, _ result: PythonTokenizeResult) -> Int {
    PythonParser.parse(source, tokens: result).nodes.count
}
