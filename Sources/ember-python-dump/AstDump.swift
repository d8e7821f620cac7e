import EmberPython
import EmberUtils
import Foundation

/// Tree part of a JSON line: parser diagnostics and, for valid files, the full tree dump
/// (`PythonSyntaxTree.fullDump`; with `positionsOnly`, the older kinds-and-positions dump of
/// statements and expressions) that scripts/conformance compares with `ast.parse`.
func astDump(_ source: PythonSource, _ result: PythonTokenizeResult, target: PythonVersion, skippingFStringParts: Bool,
             positionsOnly: Bool) -> String {
    let tree = PythonParser.parse(source, tokens: result, options: .init(targetVersion: target))
    var out = ",\"parseDiagnostics\":\(diagnosticsJSON(tree.diagnostics))"
    if tree.isValid {
        if positionsOnly {
            let dump = tree.canonicalDump(skippingFStringParts: skippingFStringParts)
            out += ",\"ast\":[" + dump.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        } else {
            out += ",\"ast\":[" + tree.fullDump(target: target, normalizingIdentifiers: { $0.precomposedStringWithCompatibilityMapping }).map(JSONText.quoted).joined(separator: ",") + "]"
        }
    }
    return out
}

func benchParse(_ source: PythonSource, _ result: PythonTokenizeResult, target: PythonVersion) -> Int {
    PythonParser.parse(source, tokens: result, options: .init(targetVersion: target)).nodes.count
}
