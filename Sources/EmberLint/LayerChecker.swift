/// Decides whether one import edge is allowed by the layer rules.
struct LayerChecker: Sendable {
    let rules: RuleSet

    init(rules: RuleSet) { self.rules = rules }

    func layer(of module: String) -> Layer? {
        rules.layers.isEmpty ? nil : rules.layer(of: module)
    }

    struct Verdict {
        var code: DiagnosticCode
        var message: String
        var explanation: String
    }

    func allowedList(_ layer: Layer) -> String {
        var s = layer.mayImport.isEmpty ? "nothing outside itself" : layer.mayImport.map(\.description).joined(separator: ", ")
        if !layer.mayNotImport.isEmpty { s += " except " + layer.mayNotImport.map(\.text).joined(separator: ", ") }
        return s
    }

    /// Whether `layer` may import `module` of the given kind.
    func allows(_ layer: Layer, _ module: String, kind: ImportTargetKind) -> Bool {
        if kind == .internal, let target = self.layer(of: module), target.name == layer.name { return true }
        if layer.mayNotImport.contains(where: { $0.matches(module) }) { return false }
        for permission in layer.mayImport {
            switch permission {
            case .stdlib: if kind == .stdlib { return true }
            case .thirdParty: if kind == .thirdParty { return true }
            case .modules(let pattern): if pattern.matches(module) { return true }
            }
        }
        return false
    }

    /// Nil when the edge is allowed. `layer` is the importer's (looked up once per file by
    /// the caller; an importer in no layer has nothing to check).
    func check(_ edge: ImportEdge, importerLayer layer: Layer) -> Verdict? {
        if allows(layer, edge.imported, kind: edge.kind) { return nil }
        var what = edge.imported
        switch edge.kind {
        case .internal:
            if let target = self.layer(of: edge.imported) { what += " (layer '\(target.name)')" }
        case .stdlib: what += " (stdlib)"
        case .thirdParty: what += " (third-party)"
        }
        var qualifiers: [String] = []
        if edge.typeChecking { qualifiers.append("under TYPE_CHECKING") }
        if edge.dynamic { qualifiers.append("dynamic import") }
        let qualifier = qualifiers.isEmpty ? "" : " [" + qualifiers.joined(separator: ", ") + "]"
        let message = "\(edge.importer) imports \(what)\(qualifier); layer '\(layer.name)' may import: \(allowedList(layer))"
        let explanation = "layer '\(layer.name)' is \(layer.modules.map(\.text).joined(separator: ", ")) (rules: \(rules.origin))"
        return Verdict(code: edge.kind == .internal ? .layerViolation : .externalNotAllowed, message: message, explanation: explanation)
    }
}
