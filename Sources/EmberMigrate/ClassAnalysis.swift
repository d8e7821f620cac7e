import EmberPython

/// One keyword-only parameter of the module function that configuration becomes.
struct ConfigParameter: Sendable {
    var name: String
    /// Source range of `name[: annotation]` (nil for class attributes: built from parts).
    var declaration: Range<Int>?
    /// Annotation range for class attributes (nil when none or ClassVar).
    var annotation: Range<Int>?
    var defaultValue: Range<Int>?
    /// True for `**kwargs` of `__init__`.
    var isKeywordsCollector = false
}

/// A safe-to-convert operator class, ready to be rewritten.
struct ConversionPlan: Sendable {
    var key: ClassKey
    var className: String
    var functionName: String
    var method: PythonNodeID
    var selfName: String
    /// `self.<attr>` read in the method -> parameter name.
    var attributeParameters: [String: String]
    var config: [ConfigParameter]
    /// Parameters that can be passed positionally at construction, in order.
    var positionalInitParameters: [String]
    var docstring: PythonNodeID?
    /// Comments of the class outside the behaviour method (kept at the top of the body).
    var strayComments: [Range<Int>]
    /// Specification attributes (`specification`, `signature`) of the class: the legacy base
    /// validated and converted inputs with them on every call; the module function does not.
    var droppedSpecifications: [String] = []
}

/// Why a legacy class is kept (with the adapter) instead of converted.
struct Refusal: Error, Sendable {
    var reason: String
}

/// Checks the shape of a legacy operator class and plans its conversion.
struct ClassAnalyzer {
    let file: IndexedFile
    let rules: MigrationRules
    var tree: PythonSyntaxTree { file.tree }

    func text(_ r: Range<Int>) -> String { String(decoding: file.source.text[r], as: UTF8.self) }
    func line(_ offset: Int) -> Int { file.source.lineTable.location(of: offset).line }
    func range(_ id: PythonNodeID) -> Range<Int> { tree[id].start..<tree[id].end }
    func classRangeStart(_ id: PythonNodeID) -> Int { tree[id].start }

    func isDocstring(_ statement: PythonNodeID) -> Bool {
        guard tree[statement].kind == .expr, let value = tree.children(of: statement, role: .value).first else { return false }
        guard tree[value].kind == .constant, tree[value].start < tree[value].end else { return false }
        // A string literal (not bytes) ends with a quote; bytes start with b/B.
        let first = file.source.text[tree[value].start] | 0x20
        return [0x22, 0x27].contains(lastByte(value)) && first != 0x62
    }

    private func lastByte(_ id: PythonNodeID) -> UInt8 { file.source.text[tree[id].end - 1] }

    /// Final identifier of a decorator expression: `jit`, `xcs.jit`, `jit(...)`.
    func decoratorName(_ id: PythonNodeID) -> String? {
        var node = id
        if tree[node].kind == .call, let fn = tree.children(of: node, role: .function).first { node = fn }
        switch tree[node].kind {
        case .name, .attribute: return tree.nameText(node)
        default: return nil
        }
    }

    func plan(classNode: PythonNodeID, key: ClassKey, functionName: String) -> Result<ConversionPlan, Refusal> {
        let className = tree.nameText(classNode)
        func refuse(_ reason: String) -> Result<ConversionPlan, Refusal> { .failure(Refusal(reason: reason)) }
        if !tree.children(of: classNode, role: .keyword).isEmpty { return refuse("class keywords (metaclass=...) need the class") }
        if tree.children(of: classNode, role: .base).count != 1 { return refuse("several base classes") }
        if !tree.children(of: classNode, role: .typeParam).isEmpty { return refuse("type parameters on the class") }
        for d in tree.children(of: classNode, role: .decorator) {
            guard let name = decoratorName(d), rules.functionDecorators.contains(name) else {
                return refuse("decorator @\(text(range(d))) (line \(line(tree[d].start))) may not apply to a function")
            }
        }
        var docstring: PythonNodeID? = nil
        var initMethod: PythonNodeID? = nil
        var behaviour: PythonNodeID? = nil
        var classAttributes: [(name: String, statement: PythonNodeID, annotation: PythonNodeID?, value: PythonNodeID?)] = []
        let body = tree.children(of: classNode, role: .body)
        for (index, s) in body.enumerated() {
            let n = tree[s]
            switch n.kind {
            case .expr where index == 0 && isDocstring(s):
                docstring = s
            case .pass:
                continue
            case .functionDef, .asyncFunctionDef:
                let name = tree.nameText(s)
                if name == "__init__" && n.kind == .functionDef {
                    initMethod = s
                } else if rules.behaviourMethods.contains(name) {
                    if let existing = behaviour {
                        return refuse("defines both \(tree.nameText(existing)) and \(name)")
                    }
                    behaviour = s
                } else {
                    return refuse("has other methods (\(name), line \(line(n.start)))")
                }
            case .assign:
                let targets = tree.children(of: s, role: .target)
                guard targets.count == 1, tree[targets[0]].kind == .name, let value = tree.children(of: s, role: .value).first else {
                    return refuse("class body statement at line \(line(n.start)) is not a simple attribute")
                }
                classAttributes.append((tree.nameText(targets[0]), s, nil, value))
            case .annAssign:
                guard let target = tree.children(of: s, role: .target).first, tree[target].kind == .name else {
                    return refuse("class body statement at line \(line(n.start)) is not a simple attribute")
                }
                classAttributes.append((tree.nameText(target), s, tree.children(of: s, role: .annotation).first,
                                        tree.children(of: s, role: .value).first))
            default:
                return refuse("class body statement at line \(line(n.start)) needs the class")
            }
        }
        guard let method = behaviour else {
            return refuse("no \(rules.behaviourMethods.joined(separator: "/")) method")
        }
        if !tree.children(of: method, role: .decorator).isEmpty { return refuse("\(tree.nameText(method)) has decorators") }
        if !tree.children(of: method, role: .typeParam).isEmpty { return refuse("type parameters on \(tree.nameText(method))") }
        let methodParams = parameters(of: method)
        guard let selfParam = methodParams.first, selfParam.role == .posonlyArg || selfParam.role == .argParam else {
            return refuse("\(tree.nameText(method)) has no self parameter")
        }
        let selfName = tree.nameText(selfParam.node)

        // __init__: parameters only stored on self.
        var config: [ConfigParameter] = []
        var attributeParameters: [String: String] = [:]
        var positional: [String] = []
        var sawInitKwargs = false
        if let initNode = initMethod {
            let params = parameters(of: initNode)
            guard let initSelf = params.first, initSelf.role != .vararg, initSelf.role != .kwonlyArg, initSelf.role != .kwarg else {
                return refuse("__init__ has no self parameter")
            }
            let initSelfName = tree.nameText(initSelf.node)
            var paramNames: Set<String> = []
            for p in params.dropFirst() {
                let name = tree.nameText(p.node)
                paramNames.insert(name)
                switch p.role {
                case .vararg: return refuse("__init__ takes *\(name)")
                case .kwarg:
                    sawInitKwargs = true
                    config.append(ConfigParameter(name: name, declaration: range(p.node), isKeywordsCollector: true))
                case .posonlyArg, .argParam:
                    positional.append(name)
                    config.append(ConfigParameter(name: name, declaration: range(p.node), defaultValue: p.defaultValue.map(range)))
                default:
                    config.append(ConfigParameter(name: name, declaration: range(p.node), defaultValue: p.defaultValue.map(range)))
                }
            }
            for (index, s) in tree.children(of: initNode, role: .body).enumerated() {
                if index == 0 && isDocstring(s) { continue }
                if tree[s].kind == .pass { continue }
                if isSuperInit(s) { continue }
                if let (attribute, parameter) = storedParameter(s, selfName: initSelfName), paramNames.contains(parameter) {
                    if let existing = attributeParameters[attribute], existing != parameter {
                        return refuse("__init__ stores self.\(attribute) twice")
                    }
                    attributeParameters[attribute] = parameter
                    continue
                }
                return refuse("__init__ does more than store its parameters (line \(line(tree[s].start)))")
            }
        }

        // The behaviour method: self only read for configuration.
        var readAttributes: Set<String> = []
        var methodNames: Set<String> = []
        var failure: String? = nil
        var replacementNodes: Set<PythonNodeID> = []
        walkWithParents(method, skipRoot: true) { id, parents in
            guard failure == nil else { return false }
            let n = tree[id]
            if n.kind == .name {
                let name = tree.nameText(id)
                if name == "super" { failure = "calls super() in \(tree.nameText(method))"; return false }
                if name == selfName {
                    guard let (parent, role) = parents.last, tree[parent].kind == .attribute, role == .value else {
                        failure = "uses \(selfName) other than reading configuration (line \(line(n.start)))"
                        return false
                    }
                    if isStorePosition(Array(parents.dropLast()), tree) {
                        failure = "mutates \(selfName).\(tree.nameText(parent)) in \(tree.nameText(method)) (line \(line(n.start)))"
                        return false
                    }
                    readAttributes.insert(tree.nameText(parent))
                    replacementNodes.insert(parent)
                } else {
                    methodNames.insert(name)
                }
            }
            if [.functionDef, .asyncFunctionDef, .lambda, .classDef].contains(n.kind) {
                methodNames.formUnion(localNames(of: id, in: tree))
            }
            return true
        }
        if let failure { return refuse(failure) }
        for p in methodParams.dropFirst() { methodNames.insert(tree.nameText(p.node)) }

        // Class attributes read through self become parameters defaulting to their value.
        var initParameterNames = Set(config.map(\.name))
        for attribute in readAttributes.sorted() where attributeParameters[attribute] == nil {
            guard let entry = classAttributes.last(where: { $0.name == attribute }) else {
                return refuse("reads \(selfName).\(attribute), which is not configuration")
            }
            if initParameterNames.contains(attribute) {
                return refuse("class attribute \(attribute) clashes with an __init__ parameter")
            }
            var annotation: Range<Int>? = entry.annotation.map(range)
            if let a = annotation {
                let t = text(a)
                if t.hasPrefix("ClassVar") || t.hasPrefix("typing.ClassVar") { annotation = nil }
            }
            if entry.value == nil && initMethod != nil {
                return refuse("reads \(selfName).\(attribute), declared but never set")
            }
            config.append(ConfigParameter(name: attribute, annotation: annotation, defaultValue: entry.value.map(range)))
            initParameterNames.insert(attribute)
            attributeParameters[attribute] = attribute
        }
        // Dataclass-style fields (no __init__): construction passes them by keyword.
        if initMethod == nil {
            for entry in classAttributes where entry.value == nil && attributeParameters[entry.name] == nil {
                config.append(ConfigParameter(name: entry.name, annotation: entry.annotation.map(range)))
                attributeParameters[entry.name] = entry.name
            }
            // Required (no default) keyword-only parameters may follow defaulted ones in Python.
        }
        for attribute in readAttributes where attributeParameters[attribute] == nil {
            return refuse("reads \(selfName).\(attribute), which is not configuration")
        }
        // Defaults and annotations are evaluated in the class body, where class attributes
        // are visible; in a module function they would mean module-level names instead.
        var classScope: Set<String> = Set(classAttributes.map(\.name))
        for st in body where [.functionDef, .asyncFunctionDef, .classDef].contains(tree[st].kind) { classScope.insert(tree.nameText(st)) }
        var evaluatedInClassScope: [Range<Int>] = []
        for c in config {
            if let d = c.defaultValue { evaluatedInClassScope.append(d) }
            if let a = c.annotation { evaluatedInClassScope.append(a) }
            if let decl = c.declaration { evaluatedInClassScope.append(decl) }
        }
        for p in methodParams {
            evaluatedInClassScope.append(range(p.node))
            if let d = p.defaultValue { evaluatedInClassScope.append(range(d)) }
        }
        for r in tree.children(of: method, role: .returns) { evaluatedInClassScope.append(range(r)) }
        for (i, n) in tree.nodes.enumerated() where n.kind == .name && n.start >= classRangeStart(classNode) && n.end <= tree[classNode].end {
            guard evaluatedInClassScope.contains(where: { $0.lowerBound <= n.start && n.end <= $0.upperBound }) else { continue }
            let name = tree.nameText(PythonNodeID(i))
            if classScope.contains(name) {
                return refuse("a default or annotation refers to the class attribute '\(name)' (line \(line(n.start)))")
            }
        }
        for c in config where methodNames.contains(c.name) {
            return refuse("configuration name '\(c.name)' is also used as a name in \(tree.nameText(method))")
        }
        if sawInitKwargs && methodParams.contains(where: { $0.role == .kwarg }) {
            return refuse("both __init__ and \(tree.nameText(method)) take **kwargs")
        }
        let methodParamNames = Set(methodParams.dropFirst().map { tree.nameText($0.node) })
        for c in config where methodParamNames.contains(c.name) {
            return refuse("configuration name '\(c.name)' is also a parameter of \(tree.nameText(method))")
        }

        // Comments of the class outside the method are carried into the function body.
        var comments: [Range<Int>] = []
        let methodRange = range(method)
        let classRange = range(classNode)
        for t in tree.tokens where t.kind == .comment && t.start > classRange.lowerBound && t.end <= classRange.upperBound {
            if methodRange.contains(t.start) { continue }
            comments.append(t.start..<t.end)
        }
        var plan = ConversionPlan(
            key: key, className: className, functionName: functionName, method: method, selfName: selfName,
            attributeParameters: attributeParameters, config: config, positionalInitParameters: positional,
            docstring: docstring, strayComments: comments)
        plan.droppedSpecifications = classAttributes.map(\.name).filter { rules.specAttributes.contains($0) }
        return .success(plan)
    }

    struct Parameter {
        var node: PythonNodeID
        var role: PythonRole
        var defaultValue: PythonNodeID?
    }

    /// Parameters of a function in source order, each with its default.
    func parameters(of function: PythonNodeID) -> [Parameter] {
        guard let args = tree.children(of: function, role: .arguments).first else { return [] }
        var params: [Parameter] = []
        var defaults: [PythonNodeID] = []
        for (role, c) in tree.roledChildren(of: args) {
            switch role {
            case .posonlyArg, .argParam, .vararg, .kwonlyArg, .kwarg: params.append(Parameter(node: c, role: role))
            case .defaultValue, .kwDefault: defaults.append(c)
            default: break
            }
        }
        params.sort { tree[$0.node].start < tree[$1.node].start }
        for (i, p) in params.enumerated() {
            let lower = tree[p.node].end
            let upper = i + 1 < params.count ? tree[params[i + 1].node].start : Int.max
            params[i].defaultValue = defaults.first { tree[$0].start >= lower && tree[$0].start < upper }
        }
        return params
    }

    func isSuperInit(_ s: PythonNodeID) -> Bool {
        guard tree[s].kind == .expr, let call = tree.children(of: s, role: .value).first, tree[call].kind == .call,
              let fn = tree.children(of: call, role: .function).first, tree[fn].kind == .attribute,
              tree.nameText(fn) == "__init__",
              let inner = tree.children(of: fn, role: .value).first, tree[inner].kind == .call,
              let superName = tree.children(of: inner, role: .function).first, tree[superName].kind == .name else { return false }
        return tree.nameText(superName) == "super"
    }

    /// `self.a = p` or `object.__setattr__(self, "a", p)`: (a, p).
    func storedParameter(_ s: PythonNodeID, selfName: String) -> (String, String)? {
        let n = tree[s]
        if n.kind == .assign || n.kind == .annAssign {
            let targets = tree.children(of: s, role: .target)
            guard targets.count == 1, tree[targets[0]].kind == .attribute,
                  let owner = tree.children(of: targets[0], role: .value).first, tree[owner].kind == .name,
                  tree.nameText(owner) == selfName,
                  let value = tree.children(of: s, role: .value).first, tree[value].kind == .name else { return nil }
            return (tree.nameText(targets[0]), tree.nameText(value))
        }
        if n.kind == .expr, let call = tree.children(of: s, role: .value).first, tree[call].kind == .call,
           let fn = tree.children(of: call, role: .function).first, tree[fn].kind == .attribute,
           tree.nameText(fn) == "__setattr__",
           let owner = tree.children(of: fn, role: .value).first, tree[owner].kind == .name, tree.nameText(owner) == "object" {
            let args = tree.children(of: call, role: .arg)
            guard args.count == 3, tree[args[0]].kind == .name, tree.nameText(args[0]) == selfName,
                  tree[args[1]].kind == .constant, tree[args[2]].kind == .name else { return nil }
            var literal = text(range(args[1]))
            guard literal.count >= 2, let q = literal.first, q == "\"" || q == "'", literal.last == q else { return nil }
            literal.removeFirst(); literal.removeLast()
            guard isIdentifier(literal) else { return nil }
            return (literal, tree.nameText(args[2]))
        }
        return nil
    }

    /// Pre-order walk with the parent chain; `body` returns false to skip children.
    func walkWithParents(_ root: PythonNodeID, skipRoot: Bool, _ body: (PythonNodeID, [(PythonNodeID, PythonRole)]) -> Bool) {
        var parents: [(PythonNodeID, PythonRole)] = []
        func go(_ id: PythonNodeID) {
            guard body(id, parents) else { return }
            for (role, c) in tree.roledChildren(of: id) {
                parents.append((id, role)); go(c); parents.removeLast()
            }
        }
        if skipRoot {
            for (role, c) in tree.roledChildren(of: root) where role != .decorator && role != .returns {
                parents.append((root, role)); go(c); parents.removeLast()
            }
        } else {
            go(root)
        }
    }

    /// Attribute nodes `self.x` read in the method (to be replaced by parameters).
    func selfReads(in plan: ConversionPlan) -> [PythonNodeID] {
        var out: [PythonNodeID] = []
        walkWithParents(plan.method, skipRoot: true) { id, parents in
            if tree[id].kind == .name, tree.nameText(id) == plan.selfName,
               let (parent, role) = parents.last, tree[parent].kind == .attribute, role == .value {
                out.append(parent)
            }
            return true
        }
        return out
    }
}
