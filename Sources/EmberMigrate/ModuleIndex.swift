import EmberProject
import EmberPython

/// What a module-level name is bound to, as far as the migration cares.
enum Binding: Hashable, Sendable {
    /// `from MODULE import NAME [as x]` (MODULE made absolute).
    case importFrom(module: String, name: String, aliased: Bool)
    /// `import a.b` binds `a` to module `a`; `import a.b as m` binds `m` to `a.b`.
    case importModule(String)
    case classDef(PythonNodeID)
    /// Anything else (assignment, def, several bindings): never a legacy symbol.
    case other
}

/// A class statement as the first pass sees it: enough to tell legacy operators apart
/// without keeping the syntax tree.
struct ClassSummary: Sendable {
    var node: PythonNodeID
    var name: String
    var start: Int
    /// Each base as a dotted path (`Operator`, `ob.Operator`; `Operator[A, B]` gives
    /// `Operator`), or nil when it is some other expression.
    var bases: [[String]?]
    var isTopLevel: Bool
    /// The node whose body holds the class.
    var parent: PythonNodeID
    /// The scope the class name is bound in: the module, a function or a class body.
    var scope: PythonNodeID
    var inModuleScope: Bool    /// Imports of the enclosing functions (a base imported inside a test function).
    var localImports: [String: Binding] = [:]
}

/// One parsed file of the run with its module-level bindings and syntax tree (only files
/// that can reach legacy code are parsed: see `ImportPrepass`).
struct IndexedFile: Sendable {
    let path: String
    /// Dotted module name derived from the package layout (`__init__.py` folders).
    let moduleName: String
    let isPackageInit: Bool
    let source: PythonSource
    let tree: PythonSyntaxTree
    let bindings: [String: Binding]
    let classes: [ClassSummary]
    /// Module-level `from M import *`: (absolute module, offset).
    let starImports: [(module: String, offset: Int)]
    /// Absolute modules of the module-level imports (for the legacy-import test).
    let importedModules: [String]
    /// Every attribute name read or written in the file (`x.name`): which instance
    /// attributes of a converted class code might read from outside.
    let attributeNames: Set<String>
    /// The file reads some object's `__dict__` or calls `vars(...)`: instance state is looked
    /// at as a whole, so converted classes keep all of it readable.
    let inspectsInstanceDicts: Bool

    init(path: String, moduleName: String, isPackageInit: Bool, source: PythonSource, tree: PythonSyntaxTree) {
        self.path = path
        self.moduleName = moduleName
        self.isPackageInit = isPackageInit
        self.source = source
        self.tree = tree
        self.bindings = IndexedFile.collectBindings(tree, moduleName: moduleName, isPackageInit: isPackageInit)
        self.classes = IndexedFile.collectClasses(tree, moduleName: moduleName, isPackageInit: isPackageInit)
        var attributes: Set<String> = []
        for (i, n) in tree.nodes.enumerated() where n.kind == .attribute {
            // `self.x` inside a class is the class's own business.
            if let value = tree.children(of: PythonNodeID(i), role: .value).first, tree[value].kind == .name, tree.nameText(value) == "self" { continue }
            attributes.insert(tree.nameText(PythonNodeID(i)))
        }
        self.attributeNames = attributes
        var callsVars = false
        for (i, n) in tree.nodes.enumerated() where n.kind == .call {
            if let fn = tree.children(of: PythonNodeID(i), role: .function).first, tree[fn].kind == .name, tree.nameText(fn) == "vars",
               tree.children(of: PythonNodeID(i), role: .arg).count == 1 { callsVars = true; break }
        }
        self.inspectsInstanceDicts = callsVars || attributes.contains("__dict__")
        var stars: [(String, Int)] = []
        var modules: [String] = []
        for s in tree.children(of: tree.root) {
            let n = tree[s]
            if n.kind == .importFrom {
                var module: String? = nil
                if n.token >= 0, tree.tokens[Int(n.token)].kind == .name { module = tree.identifier(of: s) }
                let absolute = IndexedFile.absoluteModule(module, level: Int(n.aux), moduleName: moduleName, isPackageInit: isPackageInit)
                modules.append(absolute)
                if tree.children(of: s).contains(where: { tree.identifier(of: $0) == "*" }) { stars.append((absolute, n.start)) }
            } else if n.kind == .import {
                for alias in tree.children(of: s) { modules.append(tree.identifier(of: alias) ?? "") }
            }
        }
        self.starImports = stars
        self.importedModules = modules
    }


    private static func collectClasses(_ tree: PythonSyntaxTree, moduleName: String, isPackageInit: Bool) -> [ClassSummary] {
        let topLevel = Set(tree.children(of: tree.root))
        var out: [ClassSummary] = []
        // (node, enclosing scope, imports of the enclosing functions)
        var stack: [(PythonNodeID, PythonNodeID, [String: Binding])] = [(tree.root, tree.root, [:])]
        while let (id, scope, imports) = stack.popLast() {
            for c in tree.children(of: id) {
                let kind = tree[c].kind
                if kind == .classDef {
                    let bases = tree.children(of: c, role: .base).map { dottedPath(tree, $0) }
                    if !bases.isEmpty {
                        out.append(ClassSummary(node: c, name: tree.nameText(c), start: tree[c].start, bases: bases, isTopLevel: topLevel.contains(c), parent: id, scope: scope, inModuleScope: scope == tree.root, localImports: imports))
                    }
                    stack.append((c, c, imports))
                } else if kind == .functionDef || kind == .asyncFunctionDef {
                    var inner = imports
                    for (name, binding) in functionImports(tree, c, moduleName: moduleName, isPackageInit: isPackageInit) { inner[name] = binding }
                    stack.append((c, c, inner))
                } else if kind.isStatement || kind == .module || kind == .exceptHandler || kind == .matchCase {
                    // Classes sit in statement bodies; expressions cannot hold one.
                    stack.append((c, scope, imports))
                }
            }
        }
        return out.sorted { tree[$0.node].start < tree[$1.node].start }
    }

    /// The names an `import` or `from ... import` statement binds (`from M import *` binds none).
    static func importBindings(_ tree: PythonSyntaxTree, _ s: PythonNodeID, moduleName: String, isPackageInit: Bool) -> [(String, Binding)] {
        let n = tree[s]
        var out: [(String, Binding)] = []
        if n.kind == .importFrom {
            var module: String? = nil
            if n.token >= 0, tree.tokens[Int(n.token)].kind == .name { module = tree.identifier(of: s) }
            let absolute = absoluteModule(module, level: Int(n.aux), moduleName: moduleName, isPackageInit: isPackageInit)
            for alias in tree.children(of: s) {
                let name = tree.identifier(of: alias) ?? ""
                if name == "*" { continue }
                let asName = tree.asName(of: alias)
                out.append((asName ?? name, .importFrom(module: absolute, name: name, aliased: asName != nil)))
            }
        } else if n.kind == .import {
            for alias in tree.children(of: s) {
                let dotted = tree.identifier(of: alias) ?? ""
                if let asName = tree.asName(of: alias) { out.append((asName, .importModule(dotted))) } else {
                    let first = String(dotted.split(separator: ".").first ?? "")
                    out.append((first, .importModule(first)))
                }
            }
        }
        return out
    }

    /// `import`/`from ... import` statements anywhere in a function's own body (not in its
    /// nested functions), as bindings.
    static func functionImports(_ tree: PythonSyntaxTree, _ function: PythonNodeID, moduleName: String, isPackageInit: Bool) -> [String: Binding] {
        var out: [String: Binding] = [:]
        var stack = tree.children(of: function, role: .body)
        while let s = stack.popLast() {
            let n = tree[s]
            switch n.kind {
            case .importFrom, .import:
                for (name, binding) in importBindings(tree, s, moduleName: moduleName, isPackageInit: isPackageInit) { out[name] = binding }
            case .functionDef, .asyncFunctionDef, .classDef:
                continue
            default:
                if n.kind.isStatement || n.kind == .exceptHandler || n.kind == .matchCase { stack += tree.children(of: s) }
            }
        }
        return out
    }

    private static func dottedPath(_ tree: PythonSyntaxTree, _ node: PythonNodeID) -> [String]? {
        var n = node
        if tree[n].kind == .subscript, let value = tree.children(of: n, role: .value).first { n = value }
        var parts: [String] = []
        while tree[n].kind == .attribute, let value = tree.children(of: n, role: .value).first {
            parts.append(tree.nameText(n))
            n = value
        }
        guard tree[n].kind == .name else { return nil }
        parts.append(tree.nameText(n))
        return parts.reversed()
    }

    /// Absolute module of a (possibly relative) `from` import.
    static func absoluteModule(_ module: String?, level: Int, moduleName: String, isPackageInit: Bool) -> String {
        // The project model's resolution; one that climbs above the top package keeps
        // only the name after the dots.
        RelativeImport.resolve(module, level: level, importer: moduleName, importerIsPackage: isPackageInit) ?? (module ?? "")
    }

    func absoluteModule(ofImportFrom node: PythonNodeID) -> String {
        let n = tree[node]
        // The module token is absent for `from . import x`; `identifier` then reads a dot.
        var module: String? = nil
        if n.token >= 0, tree.tokens[Int(n.token)].kind == .name { module = tree.identifier(of: node) }
        return IndexedFile.absoluteModule(module, level: Int(n.aux), moduleName: moduleName, isPackageInit: isPackageInit)
    }

    private static func collectBindings(_ tree: PythonSyntaxTree, moduleName: String, isPackageInit: Bool) -> [String: Binding] {
        var out: [String: Binding] = [:]
        func bind(_ name: String, _ binding: Binding) {
            if let existing = out[name], existing != binding { out[name] = .other } else { out[name] = binding }
        }
        func bindTargets(_ node: PythonNodeID) {
            let n = tree[node]
            switch n.kind {
            case .name: bind(tree.nameText(node), .other)
            case .tuple, .list, .starred:
                for c in tree.children(of: node) { bindTargets(c) }
            default: break
            }
        }
        func visit(_ statements: [PythonNodeID]) {
            for s in statements {
                let n = tree[s]
                switch n.kind {
                case .classDef: bind(tree.tokenText(n.token), .classDef(s))
                case .functionDef, .asyncFunctionDef: bind(tree.tokenText(n.token), .other)
                case .importFrom, .import:
                    for (name, binding) in importBindings(tree, s, moduleName: moduleName, isPackageInit: isPackageInit) { bind(name, binding) }
                case .assign:
                    for t in tree.children(of: s, role: .target) { bindTargets(t) }
                case .annAssign, .augAssign:
                    for t in tree.children(of: s, role: .target) { bindTargets(t) }
                case .for, .asyncFor:
                    for t in tree.children(of: s, role: .target) { bindTargets(t) }
                    visit(tree.children(of: s, role: .body)); visit(tree.children(of: s, role: .orelse))
                case .if, .while:
                    visit(tree.children(of: s, role: .body)); visit(tree.children(of: s, role: .orelse))
                case .try, .tryStar:
                    visit(tree.children(of: s, role: .body)); visit(tree.children(of: s, role: .orelse))
                    visit(tree.children(of: s, role: .finalbody))
                    for h in tree.children(of: s, role: .handler) {
                        if let name = tree.asName(of: h) { bind(name, .other) }
                        visit(tree.children(of: h, role: .body))
                    }
                case .with, .asyncWith:
                    for item in tree.children(of: s, role: .item) {
                        for t in tree.children(of: item, role: .optionalVars) { bindTargets(t) }
                    }
                    visit(tree.children(of: s, role: .body))
                case .global, .nonlocal, .typeAlias, .match, .delete:
                    // Names bound here are rare at module level; treat any name seen as opaque.
                    for c in tree.children(of: s) where tree[c].kind == .name { bind(tree.nameText(c), .other) }
                default: break
                }
            }
        }
        visit(tree.children(of: tree.root))
        return out
    }
}

/// What an expression refers to after following imports through the run and the rules.
enum Resolved: Hashable, Sendable {
    case legacy(LegacySymbol, QualifiedName)
    case runClass(file: Int, node: PythonNodeID)
    case module(String)
}

/// Resolves names across the files of a run (read-only, shared by worker threads).
struct Resolver: Sendable {
    let files: [IndexedFile]
    let moduleIndex: [String: Int]
    let rules: MigrationRules
    /// Folder prefixes imports may put before a run module (`src`), longest first.
    let aliasPrefixes: [String]
    /// First components of the run's module names.
    let topLevelPackages: Set<String>
    /// Modules named by rule symbols, for the submodule test in `resolve(module:name:)`.
    let symbolModules: Set<String>

    init(files: [IndexedFile], rules: MigrationRules, aliasPrefixes: [String] = []) {
        self.files = files
        self.rules = rules
        self.aliasPrefixes = Array(Set(aliasPrefixes)).sorted { $0.count > $1.count }
        var index: [String: Int] = [:]
        for (i, f) in files.enumerated() where !f.moduleName.isEmpty && index[f.moduleName] == nil { index[f.moduleName] = i }
        moduleIndex = index
        topLevelPackages = Set(index.keys.map { String($0.split(separator: ".").first ?? "") })
        symbolModules = Set(rules.symbols.keys.map(\.module))
    }

    func resolve(name: String, inFile file: Int) -> Resolved? {
        guard let binding = files[file].bindings[name] else { return nil }
        return resolve(binding: binding, inFile: file, depth: 0)
    }

    /// The module name without a folder prefix that code may put before it (`src.ember.x`
    /// names the run's `ember.x`), when what follows the prefix is a run module or a
    /// legacy module.
    func canonical(_ module: String) -> String {
        for prefix in aliasPrefixes where module.hasPrefix(prefix + ".") {
            let rest = String(module.dropFirst(prefix.count + 1))
            let top = String(rest.split(separator: ".").first ?? "")
            if topLevelPackages.contains(top) || rules.isLegacyModule(rest) { return rest }
        }
        // A folder in front of the legacy package when the package itself is not in the run
        // (`src.ember.core...` seen from `tests/` alone).
        if moduleIndex[module] == nil, let dot = module.firstIndex(of: "."), !topLevelPackages.contains(String(module[..<dot])) {
            let rest = String(module[module.index(after: dot)...])
            if rules.isLegacyModule(rest) || symbolModules.contains(rest) { return rest }
        }
        return module
    }


    func resolve(binding: Binding, inFile file: Int, depth: Int) -> Resolved? {
        switch binding {
        case .classDef(let node): return .runClass(file: file, node: node)
        case .importModule(let module): return .module(canonical(module))
        case .importFrom(let module, let name, _): return resolve(module: module, name: name, depth: depth + 1)
        case .other: return nil
        }
    }

    func resolve(module given: String, name: String, depth: Int) -> Resolved? {
        guard depth < 32 else { return nil }
        let module = canonical(given)
        let qualified = QualifiedName(module: module, name: name)
        if let symbol = rules.symbols[qualified] { return .legacy(symbol, qualified) }
        if let file = moduleIndex[module], let binding = files[file].bindings[name] {
            return resolve(binding: binding, inFile: file, depth: depth)
        }
        let submodule = module + "." + name
        if moduleIndex[submodule] != nil || rules.isLegacyModule(submodule) || symbolModules.contains(submodule) {
            return .module(submodule)
        }
        return nil
    }

    /// Resolves a Name / Attribute / Subscript (`Operator[In, Out]`) / Call-free expression.
    /// `isShadowed` says whether a bare name is bound locally at the use site.
    func resolve(expression node: PythonNodeID, inFile file: Int, isShadowed: (String) -> Bool) -> Resolved? {
        let tree: PythonSyntaxTree = files[file].tree
        let n = tree[node]
        switch n.kind {
        case .name:
            let name = tree.nameText(node)
            if isShadowed(name) { return nil }
            return resolve(name: name, inFile: file)
        case .attribute:
            guard let value = tree.children(of: node, role: .value).first,
                  case .module(let module)? = resolve(expression: value, inFile: file, isShadowed: isShadowed) else { return nil }
            return resolve(module: module, name: tree.nameText(node), depth: 0)
        case .subscript:
            guard let value = tree.children(of: node, role: .value).first else { return nil }
            return resolve(expression: value, inFile: file, isShadowed: isShadowed)
        default:
            return nil
        }
    }

    /// A dotted path (`ob.Operator`) at module level of `file`.
    func resolve(path: [String], inFile file: Int) -> Resolved? {
        guard let first = path.first, var current = resolve(name: first, inFile: file) else { return nil }
        for part in path.dropFirst() {
            guard case .module(let module) = current, let next = resolve(module: module, name: part, depth: 0) else { return nil }
            current = next
        }
        return current
    }

    /// A dotted path as seen from a class statement: a class of the same function or class
    /// scope defined before it, an import of an enclosing function, or a module-level name.
    func resolve(path: [String], inFile file: Int, from summary: ClassSummary) -> Resolved? {
        guard let first = path.first else { return nil }
        if !summary.inModuleScope {
            var current: Resolved? = nil
            if let sibling = files[file].classes.last(where: { $0.scope == summary.scope && $0.node != summary.node
                    && $0.start < summary.start && $0.name == first }) {
                current = .runClass(file: file, node: sibling.node)
            } else if let binding = summary.localImports[first] {
                current = resolve(binding: binding, inFile: file, depth: 0)
            }
            if var current {
                for part in path.dropFirst() {
                    guard case .module(let module) = current, let next = resolve(module: module, name: part, depth: 0) else { return nil }
                    current = next
                }
                return current
            }
        }
        return resolve(path: path, inFile: file)
    }

    /// The base that makes a class a legacy operator: the root `Operator`, or another run
    /// class that is itself one. nil when the class is not a legacy operator.
    func legacyBase(ofClass node: PythonNodeID, inFile file: Int, depth: Int = 0) -> Resolved? {
        guard depth < 32, let summary = files[file].classes.first(where: { $0.node == node }) else { return nil }
        for case let path? in summary.bases {
            switch resolve(path: path, inFile: file, from: summary) {
            case .legacy(let symbol, let q)? where symbol != .operatorAncestor: return .legacy(symbol, q)
            case .runClass(let f, let c)?:
                if legacyBase(ofClass: c, inFile: f, depth: depth + 1) != nil { return .runClass(file: f, node: c) }
            default: continue
            }
        }
        return nil
    }
}

extension PythonSyntaxTree {
    /// The identifier a Name / Attribute / keyword / arg / def / class carries. Nodes parsed
    /// inside f-strings have no token of their own, so the name is read from the span.
    func nameText(_ id: PythonNodeID) -> String {
        let n = self[id]
        if n.token >= 0 { return tokenText(n.token) }
        let bytes = source.text
        func isIdentifierByte(_ b: UInt8) -> Bool {
            b == 0x5F || (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || b >= 0x80
        }
        switch n.kind {
        case .name:
            return String(decoding: bytes[n.start..<n.end], as: UTF8.self)
        case .attribute:
            var k = n.end
            while k > n.start && isIdentifierByte(bytes[k - 1]) { k -= 1 }
            return String(decoding: bytes[k..<n.end], as: UTF8.self)
        case .keyword, .arg:
            var k = n.start
            while k < n.end && isIdentifierByte(bytes[k]) { k += 1 }
            return String(decoding: bytes[n.start..<k], as: UTF8.self)
        default:
            return ""
        }
    }
}
