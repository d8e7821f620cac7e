import EmberPython

/// Placeholder until the parser lands: no tree, only tokens.
func astDump(_ source: PythonSource, _ result: PythonTokenizeResult) -> String { "" }
func benchParse(_ source: PythonSource, _ result: PythonTokenizeResult) -> Int { 0 }
