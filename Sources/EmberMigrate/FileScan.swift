import EmberPython

/// How a run class is referred to at one place.
enum ClassUseKind: Hashable, Sendable {
    /// `X(...)`
    case construct
    case subclassed(by: PythonNodeID)
    case isinstanceCheck
    case dynamicAttribute
    case attributeAccess
    case value
    /// `from m import X [as y]`; the alias node.
    case importAlias(PythonNodeID)
}

struct ClassKey: Hashable, Sendable {
    var file: Int
    var node: PythonNodeID
}

struct ClassUse: Sendable {
    var kind: ClassUseKind
    var file: Int
    /// The Name or Attribute node that refers to the class (the alias for imports).
    var reference: PythonNodeID
    var offset: Int
    /// Names bound in the enclosing function scopes at the use (where new names must not clash).
    var enclosingLocals: Set<String> = []
    /// `X.attribute` for an attribute access.
    var attribute: String? = nil
    /// Class statements the use sits in (innermost last): their methods become nested
    /// functions of a factory whose names could capture the new name.
    var enclosingClasses: [PythonNodeID] = []
}

/// A class whose base resolves to a legacy operator.
struct LegacyClass: Sendable {
    var key: ClassKey
    var base: Resolved
    var isTopLevel: Bool
    /// The node whose body holds the class (module, function or class).
    var parent: PythonNodeID
    /// The scope its name is bound in (module, function or class body).
    var scope: PythonNodeID
    var inModuleScope: Bool
}

/// A `Sequential(...)` / `ChainOperator(...)` / `EnsembleOperator(...)` call.
struct CompositionCall: Sendable {
    var call: PythonNodeID
    var symbol: LegacySymbol
    var enclosingLocals: Set<String>
}

/// What one pass over a file found (phase 2 of a run).
struct FileScan: Sendable {
    var legacyClasses: [LegacyClass] = []
    var classUses: [ClassKey: [ClassUse]] = [:]
    var compositionCalls: [CompositionCall] = []
    /// isinstance/issubclass against the legacy Operator base itself (the Name/Attribute nodes).
    var operatorTypeChecks: [PythonNodeID] = []
    /// `from MODULE import *` at module level: (absolute module, offset).
    var starImports: [(module: String, offset: Int)] = []
    /// Names (Name nodes, unshadowed) that resolve to a legacy symbol or a run class.
    var touchesLegacy: Bool { !legacyClasses.isEmpty || !classUses.isEmpty || !compositionCalls.isEmpty || !operatorTypeChecks.isEmpty }
}

/// Names bound inside a function, lambda, comprehension or class body (not in nested
/// functions): parameters, assignment targets, imports, def/class names, except/with/for
/// targets. Over-approximating only makes the tool more careful.
func localNames(of scope: PythonNodeID, in tree: PythonSyntaxTree) -> Set<String> {
    var names: Set<String> = []
    let n = tree[scope]
    var pending: [PythonNodeID] = []
    switch n.kind {
    case .functionDef, .asyncFunctionDef, .lambda:
        for args in tree.children(of: scope, role: .arguments) {
            for (role, p) in tree.roledChildren(of: args) where [.posonlyArg, .argParam, .vararg, .kwonlyArg, .kwarg].contains(role) {
                names.insert(tree.nameText(p))
            }
        }
        pending = tree.children(of: scope, role: .body)
    case .classDef:
        pending = tree.children(of: scope, role: .body)
    case .listComp, .setComp, .dictComp, .generatorExp:
        pending = tree.children(of: scope, role: .generator)
    default:
        return names
    }
    var globals: Set<String> = []
    while let id = pending.popLast() {
        let node = tree[id]
        switch node.kind {
        case .functionDef, .asyncFunctionDef, .classDef:
            names.insert(tree.nameText(id))
            // decorators and defaults are evaluated in this scope, bodies are not
            for (role, c) in tree.roledChildren(of: id) where role == .decorator || role == .base || role == .keyword {
                pending.append(c)
            }
            continue
        case .lambda:
            continue
        case .global, .nonlocal:
            var k = Int(node.token)
            while k >= 0 && k < tree.tokens.count && tree.tokens[k].start < node.end {
                if tree.tokens[k].kind == .name { globals.insert(tree.tokenText(Int32(k))) }
                k += 1
            }
        case .alias:
            if let asName = tree.asName(of: id) { names.insert(asName) } else {
                let dotted = tree.identifier(of: id) ?? ""
                names.insert(String(dotted.split(separator: ".").first ?? ""))
            }
        case .exceptHandler:
            if let asName = tree.asName(of: id) { names.insert(asName) }
        case .matchAs, .matchStar:
            if let asName = tree.asName(of: id) { names.insert(asName) }
        default: break
        }
        for (role, c) in tree.roledChildren(of: id) {
            if role == .target || role == .optionalVars {
                collectTargetNames(c, tree, into: &names)
            }
            pending.append(c)
        }
    }
    names.subtract(globals)
    return names
}

func collectTargetNames(_ node: PythonNodeID, _ tree: PythonSyntaxTree, into names: inout Set<String>) {
    let n = tree[node]
    switch n.kind {
    case .name: names.insert(tree.nameText(node))
    case .tuple, .list, .starred:
        for c in tree.children(of: node) { collectTargetNames(c, tree, into: &names) }
    default: break
    }
}

/// Whether `node` (reached through `parents`) sits where a value is stored or deleted.
func isStorePosition(_ parents: [(PythonNodeID, PythonRole)], _ tree: PythonSyntaxTree) -> Bool {
    var k = parents.count - 1
    while k >= 0 {
        let (parent, role) = parents[k]
        let kind = tree[parent].kind
        if role == .target || role == .optionalVars {
            return [.assign, .augAssign, .annAssign, .for, .asyncFor, .comprehension, .namedExpr, .delete, .withItem].contains(kind)
        }
        // Only tuple/list/starred unpacking passes a store position down.
        if k > 0, ![.tuple, .list, .starred].contains(kind) { return false }
        if k == 0 { return false }
        k -= 1
    }
    return false
}

struct FileScanner {
    let resolver: Resolver
    let file: Int
    var tree: PythonSyntaxTree { resolver.files[file].tree }
    var scan = FileScan()
    /// Interesting module-level names: those that resolve to something this tool rewrites.
    let interesting: [String: Resolved]
    let legacyClassKeys: Set<ClassKey>
    var scopes: [(node: PythonNodeID, locals: Set<String>, isClass: Bool)] = []
    /// What names imported inside a function resolve to (legacy names only), by scope.
    var scopeImports: [PythonNodeID: [String: Resolved]] = [:]
    /// Legacy classes bound in a function or class scope of this file: scope -> name -> class.
    var nestedClasses: [PythonNodeID: [String: ClassKey]] = [:]

    /// `relevantModules`: every prefix of a module that leads to legacy names or legacy
    /// classes; a module binding outside it cannot matter.
    init(resolver: Resolver, file: Int, relevantModules: Set<String>, legacyClassKeys: Set<ClassKey>) {
        self.resolver = resolver
        self.file = file
        self.legacyClassKeys = legacyClassKeys
        var interesting: [String: Resolved] = [:]
        for name in resolver.files[file].bindings.keys {
            if let r = resolver.resolve(name: name, inFile: file) {
                switch r {
                case .module(let m):
                    if relevantModules.contains(m) || resolver.rules.isLegacyModule(m) { interesting[name] = r }
                case .runClass(let f, let c):
                    if legacyClassKeys.contains(ClassKey(file: f, node: c)) { interesting[name] = r }
                case .legacy:
                    interesting[name] = r
                }
            }
        }
        self.interesting = interesting
    }

    /// Modules (with all their prefixes) that define legacy operator classes or bind legacy names.
    static func relevantModules(resolver: Resolver, legacyClassFiles: Set<Int>) -> Set<String> {
        var modules: [String] = resolver.symbolModules.sorted() + resolver.rules.legacyModulePrefixes
        for (i, f) in resolver.files.enumerated() where !f.moduleName.isEmpty {
            if legacyClassFiles.contains(i) { modules.append(f.moduleName); continue }
            for binding in f.bindings.values {
                if case .importFrom(let m, let n, _) = binding, resolver.rules.symbols[QualifiedName(module: m, name: n)] != nil {
                    modules.append(f.moduleName)
                    break
                }
            }
        }
        var out: Set<String> = []
        for m in modules {
            var prefix = ""
            for part in m.split(separator: ".") {
                prefix = prefix.isEmpty ? String(part) : prefix + "." + part
                out.insert(prefix)
            }
        }
        return out
    }

    func enclosingLocals() -> Set<String> {
        var out: Set<String> = []
        for scope in scopes where !scope.isClass { out.formUnion(scope.locals) }
        return out
    }

    func isShadowed(_ name: String) -> Bool { bindingScope(of: name) != nil }

    /// Index in `scopes` of the scope that binds `name` where the walk is (the innermost
    /// class scope counts only for its own body statements); nil for module level.
    func bindingScope(of name: String) -> Int? {
        for (i, scope) in scopes.enumerated().reversed() {
            if scope.isClass && i != scopes.count - 1 { continue }
            if scope.locals.contains(name) { return i }
        }
        return nil
    }

    /// Classes of a file whose base resolves to a legacy operator (at any depth of nesting).
    static func legacyClasses(resolver: Resolver, file: Int) -> [LegacyClass] {
        resolver.files[file].classes.compactMap { summary in
            resolver.legacyBase(ofClass: summary.node, inFile: file).map {
                LegacyClass(key: ClassKey(file: file, node: summary.node), base: $0, isTopLevel: summary.isTopLevel, parent: summary.parent,
                            scope: summary.scope, inModuleScope: summary.inModuleScope)
            }
        }
    }

    mutating func run(legacyClasses: [LegacyClass]) -> FileScan {
        scan.legacyClasses = legacyClasses
        scan.starImports = resolver.files[file].starImports
        for c in legacyClasses where !c.inModuleScope {
            nestedClasses[c.scope, default: [:]][tree.nameText(c.key.node)] = c.key
        }
        if interesting.isEmpty && nestedClasses.isEmpty { return scan }
        var parents: [(PythonNodeID, PythonRole)] = []
        visit(tree.root, &parents)
        return scan
    }

    mutating func visit(_ id: PythonNodeID, _ parents: inout [(PythonNodeID, PythonRole)]) {
        let n = tree[id]
        switch n.kind {
        case .functionDef, .asyncFunctionDef, .lambda, .classDef, .listComp, .setComp, .dictComp, .generatorExp:
            // Decorators, bases and defaults belong to the enclosing scope: visit them first.
            for (role, c) in tree.roledChildren(of: id) where [.decorator, .base, .keyword, .returns].contains(role) {
                parents.append((id, role)); visit(c, &parents); parents.removeLast()
            }
            if n.kind == .functionDef || n.kind == .asyncFunctionDef || n.kind == .lambda {
                for args in tree.children(of: id, role: .arguments) {
                    for (role, d) in tree.roledChildren(of: args) {
                        parents.append((id, .arguments)); parents.append((args, role))
                        if role == .defaultValue || role == .kwDefault { visit(d, &parents) } else {
                            for ann in tree.children(of: d, role: .annotation) { visit(ann, &parents) }
                        }
                        parents.removeLast(); parents.removeLast()
                    }
                }
            }
            scopes.append((id, localNames(of: id, in: tree), n.kind == .classDef))
            if n.kind == .functionDef || n.kind == .asyncFunctionDef {
                let file = resolver.files[self.file]
                var resolved: [String: Resolved] = [:]
                for (name, binding) in IndexedFile.functionImports(tree, id, moduleName: file.moduleName, isPackageInit: file.isPackageInit) {
                    if let r = resolver.resolve(binding: binding, inFile: self.file, depth: 0) {
                        switch r {
                        case .legacy: resolved[name] = r
                        case .runClass(let f, let c) where legacyClassKeys.contains(ClassKey(file: f, node: c)): resolved[name] = r
                        default: break
                        }
                    }
                }
                if !resolved.isEmpty { scopeImports[id] = resolved }
            }
            for (role, c) in tree.roledChildren(of: id) where ![.decorator, .base, .keyword, .returns, .arguments].contains(role) {
                parents.append((id, role)); visit(c, &parents); parents.removeLast()
            }
            scopes.removeLast()
            return
        case .name:
            let name = tree.nameText(id)
            if let scope = bindingScope(of: name) {
                if let key = nestedClasses[scopes[scope].node]?[name] { record(id, .runClass(file: key.file, node: key.node), parents) }
                else if let imported = scopeImports[scopes[scope].node]?[name] { record(id, imported, parents) }
            } else if let resolved = interesting[name] {
                record(id, resolved, parents)
            }
            return
        case .attribute:
            if let resolved = resolver.resolve(expression: id, inFile: file, isShadowed: { self.isShadowed($0) }) {
                switch resolved {
                case .runClass, .legacy:
                    record(id, resolved, parents)
                    return
                case .module: break
                }
            }
        case .alias:
            recordImportAlias(id, parents)
            return
        default: break
        }
        for (role, c) in tree.roledChildren(of: id) {
            parents.append((id, role)); visit(c, &parents); parents.removeLast()
        }
    }

    mutating func recordImportAlias(_ alias: PythonNodeID, _ parents: [(PythonNodeID, PythonRole)]) {
        guard let (statement, _) = parents.last, tree[statement].kind == .importFrom else { return }
        let module = resolver.files[file].absoluteModule(ofImportFrom: statement)
        let name = tree.identifier(of: alias) ?? ""
        if case .runClass(let f, let c)? = resolver.resolve(module: module, name: name, depth: 0), legacyClassKeys.contains(ClassKey(file: f, node: c)) {
            scan.classUses[ClassKey(file: f, node: c), default: []].append(
                ClassUse(kind: .importAlias(alias), file: file, reference: alias, offset: tree[alias].start))
        }
    }

    mutating func record(_ id: PythonNodeID, _ resolved: Resolved, _ parents: [(PythonNodeID, PythonRole)]) {
        if isStorePosition(parents, tree) { return }
        let parent = parents.last
        // isinstance(x, K) / issubclass(x, (K, L))
        /// The class is (in) the second argument of isinstance/issubclass.
        func inTypeCheck() -> Bool {
            var k = parents.count - 1
            var child = id
            while k >= 0 {
                let (p, role) = parents[k]
                if tree[p].kind == .tuple { child = p; k -= 1; continue }
                guard tree[p].kind == .call, role == .arg, let fn = tree.children(of: p, role: .function).first,
                      tree[fn].kind == .name else { return false }
                let fname = tree.nameText(fn)
                let args = tree.children(of: p, role: .arg)
                return (fname == "isinstance" || fname == "issubclass") && args.count == 2 && args[1] == child
            }
            return false
        }
        func inDynamicAttribute() -> Bool {
            guard let (p, role) = parent, tree[p].kind == .call, role == .arg,
                  let fn = tree.children(of: p, role: .function).first, tree[fn].kind == .name else { return false }
            return ["getattr", "setattr", "hasattr", "delattr", "vars"].contains(tree.nameText(fn))
        }
        switch resolved {
        case .legacy(.operatorBase, _), .legacy(.operatorAncestor, _):
            if inTypeCheck() { scan.operatorTypeChecks.append(id) }
        case .legacy(let symbol, _):
            if let (p, role) = parent, tree[p].kind == .call, role == .function {
                if !scan.compositionCalls.contains(where: { $0.call == p }) {
                    scan.compositionCalls.append(CompositionCall(call: p, symbol: symbol, enclosingLocals: enclosingLocals()))
                }
            }
        case .runClass(let f, let c):
            let key = ClassKey(file: f, node: c)
            guard legacyClassKeys.contains(key) else { return }
            var kind: ClassUseKind = .value
            var attribute: String? = nil
            if let (p, role) = parent {
                let pk = tree[p].kind
                if pk == .call && role == .function {
                    kind = .construct
                } else if pk == .classDef && role == .base {
                    kind = .subclassed(by: p)
                } else if pk == .attribute && role == .value {
                    kind = .attributeAccess
                    attribute = tree.nameText(p)
                } else if inTypeCheck() {
                    kind = .isinstanceCheck
                } else if inDynamicAttribute() {
                    kind = .dynamicAttribute
                }
            }
            scan.classUses[key, default: []].append(ClassUse(kind: kind, file: file, reference: id, offset: tree[id].start,
                                                             enclosingLocals: enclosingLocals(), attribute: attribute,
                                                             enclosingClasses: scopes.filter(\.isClass).map(\.node)))
        case .module:
            break
        }
    }
}
