import EmberPython

/// Tree part of a JSON line: parser diagnostics and, for valid files, the canonical dump
/// that scripts/conformance compares with `ast.parse`.
func astDump(_ source: PythonSource, _ result: PythonTokenizeResult, target: PythonVersion, skippingFStringParts: Bool) -> String {
    let tree = PythonParser.parse(source, tokens: result, options: .init(targetVersion: target))
    var out = ",\"parseDiagnostics\":\(diagnosticsJSON(tree.diagnostics))"
    if tree.isValid {
        let dump = tree.canonicalDump(skippingFStringParts: skippingFStringParts)
        out += ",\"ast\":[" + dump.map { "\"\($0)\"" }.joined(separator: ",") + "]"
    }
    return out
}

func benchParse(_ source: PythonSource, _ result: PythonTokenizeResult, target: PythonVersion) -> Int {
    PythonParser.parse(source, tokens: result, options: .init(targetVersion: target)).nodes.count
}
