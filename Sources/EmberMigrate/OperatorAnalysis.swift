import EmberPython
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Why a legacy class is kept as a class: a stable code (the JSON report's `reason`) and a
/// message naming the place.
enum KeepReason: String, Sendable, CaseIterable {
    case suppressed = "suppressed"
    case notSelected = "not-selected"
    case legacyFramework = "legacy-framework"
    case classKeywords = "class-keywords"
    case multipleBases = "multiple-bases"
    case typeParameters = "type-parameters"
    case classDecorator = "class-decorator"
    case classBodyStatement = "class-body-statement"
    case noForward = "no-forward"
    case specialMethod = "special-method"
    case methodDecorator = "method-decorator"
    case selfEscapes = "self-escapes"
    case unknownAttribute = "unknown-self-attribute"
    case stateOutsideInit = "state-set-outside-init"
    case superCall = "super-call"
    case nameClash = "name-clash"
    case inheritance = "inherits-legacy-operator"
    case subclassed = "subclassed-by-kept-class"
    case classAttributeRead = "class-attribute-read"
    case starImported = "star-imported"
    case inClassBody = "inside-class-body"
    case layout = "layout"

    /// Words for the summary line.
    var family: String {
        switch self {
        case .suppressed: "keep comment"
        case .notSelected: "rule not selected"
        case .legacyFramework: "legacy framework"
        case .classKeywords, .multipleBases, .typeParameters, .classDecorator: "class machinery"
        case .classBodyStatement, .layout: "class body shape"
        case .noForward: "no forward"
        case .specialMethod: "special method"
        case .methodDecorator: "method decorator"
        case .selfEscapes: "self escapes"
        case .unknownAttribute: "unknown attribute"
        case .stateOutsideInit: "state set outside __init__"
        case .superCall: "super()"
        case .nameClash: "name clash"
        case .inheritance, .subclassed: "inheritance"
        case .classAttributeRead: "class attribute read"
        case .starImported: "star import"
        case .inClassBody: "inside a class body"
        }
    }
}

/// Why a legacy class is kept (with the adapter) instead of converted.
struct Refusal: Error, Sendable {
    var code: KeepReason
    var reason: String
}

/// One method of a legacy class as the conversion sees it.
struct MethodInfo: Sendable {
    var node: PythonNodeID
    var name: String
    /// The instance parameter (`self`), nil for a static method.
    var selfParameter: PythonNodeID?
    var selfName: String?
    var isStatic: Bool
    /// `@classmethod`: its first parameter (cls) stands for the class, the module's class.
    var isClassMethod = false
    /// Decorator lines to delete (`@staticmethod`, `@classmethod`).
    var decorators: [PythonNodeID]
}

/// `self.<attr>` at one place.
struct SelfAccess: Sendable {
    enum Context: Sendable { case load, store, delete }
    enum Form: Sendable {
        /// `self.x`
        case attribute
        /// `getattr(self, "x"[, default])`; the node is the call.
        case getattr(default: PythonNodeID?)
        /// `type(self).x` or `self.__class__.x`: the class attribute.
        case classAttribute
        /// `super().m`: the base's own method m (the node is the Attribute).
        case superMethod
    }
    /// The Attribute node (the call for getattr).
    var node: PythonNodeID
    var form: Form = .attribute
    var attribute: String
    var context: Context
    var method: PythonNodeID
    /// Inside a function, lambda or comprehension nested in the method.
    var nested: Bool
}

/// A legacy operator class that can be rewritten as a module factory: the decorated
/// function takes the former `__init__`'s parameters, runs its body with `self.x = v`
/// as plain locals, defines the former methods as nested functions and returns `forward`.
struct OperatorPlan: Sendable {
    var key: ClassKey
    var className: String
    var functionName: String
    /// Class attributes with values, in class order: become keyword arguments of the
    /// decorator (class attributes of the class it builds).
    var classAttributes: [(name: String, statement: PythonNodeID, value: PythonNodeID)] = []
    var declarations: [(name: String, statement: PythonNodeID)] = []
    var methods: [MethodInfo] = []
    var initMethod: PythonNodeID?
    var forward: PythonNodeID
    /// Names that became locals of the factory (instance attributes).
    var instanceAttributes: Set<String> = []
    var accesses: [SelfAccess] = []
    /// `object.__setattr__(self, "x", v)` / `setattr(self, "x", v)` statements in `__init__`: (call, name, value).
    var setattrStores: [(call: PythonNodeID, name: String, value: PythonNodeID)] = []
    /// `self.x = x` statements made redundant (the parameter already is the local).
    var redundantStores: Set<PythonNodeID> = []
    /// `super().__init__()` statements to drop.
    var superInits: Set<PythonNodeID> = []
    /// Instance attributes each method assigns (they need `nonlocal`).
    var nonlocals: [PythonNodeID: [String]] = [:]
    /// The `__init__` body goes after the methods (it calls one defined after it).
    var initBodyLast = false
    /// Instance attributes read from outside that neither the parameters nor `forward`'s
    /// closure carry: returned with `module.state(forward, ...)`.
    var exposedState: [String] = []
    var docstring: PythonNodeID?
    /// Every name the factory binds (parameters, `__init__` locals, instance attributes,
    /// methods): a use of another converted class inside must not be renamed to one of them.
    var factoryNames: Set<String> = []
    /// Instance attributes whose local has another name (`self_x`), because `__init__` also
    /// uses x for a parameter or local with another value.
    var renamedAttributes: [String: String] = [:]
    /// A subclass of a converted run class in the same scope: the base's members are
    /// copied into the function (see `InheritedMembers`).
    var inherited: InheritedMembers?
    /// `cls` in class methods (the module's class).
    var classReferences: [PythonNodeID] = []
    /// Instance attributes only ever set from the local of the same name (`self.x = x`):
    /// the local is the attribute.
    var sameAsLocal: Set<String> = []
    /// Why this conversion may change behaviour (applied only with --unsafe).
    var unsafeReasons: [String] = []

    func localName(of attribute: String) -> String { renamedAttributes[attribute] ?? attribute }
}

/// What a subclass takes from its base when both are flattened into one module function:
/// the base's statements (methods, `__init__`) copied in, its class attributes reached
/// through the base's module class (a base of the subclass's class).
struct InheritedMembers: Sendable {
    var baseClass: PythonNodeID
    /// The base's module class, as the subclass's code names it.
    var baseFunctionName: String
    /// Base methods copied in, in the base's order; an overridden one that `super()` calls
    /// is copied under another name.
    var methods: [PythonNodeID] = []
    var renamedMethods: [PythonNodeID: String] = [:]
    /// The base's `__init__`, when the subclass has none.
    var initMethod: PythonNodeID?
    var classAttributeNames: Set<String> = []
    /// `super().__init__(...)` in the subclass's `__init__` (a statement of its body): the
    /// base's `__init__` becomes a nested function returning the attributes it sets.
    var superInitStatement: PythonNodeID?
    var baseInit: PythonNodeID?
    var baseInitName = "base_init"
    var baseInitAttributes: [String] = []
}

/// Scope facts about one function-like node (names bound in it, names it reads from outside).
func freeNames(of scope: PythonNodeID, in tree: PythonSyntaxTree) -> Set<String> {
    let bound = localNames(of: scope, in: tree)
    var free: Set<String> = []
    var stack: [PythonNodeID] = []
    let kind = tree[scope].kind
    for (role, c) in tree.roledChildren(of: scope) {
        // Decorators, bases, defaults and annotations belong to the enclosing scope.
        if [.functionDef, .asyncFunctionDef, .classDef, .lambda].contains(kind) && [.decorator, .base, .keyword, .returns, .typeParam].contains(role) { continue }
        // Parameters are bound names; their defaults are evaluated outside.
        if role == .arguments { continue }
        stack.append(c)
    }
    while let id = stack.popLast() {
        let n = tree[id]
        switch n.kind {
        case .name:
            free.insert(tree.nameText(id))
        case .functionDef, .asyncFunctionDef, .lambda, .classDef, .listComp, .setComp, .dictComp, .generatorExp:
            // What the nested scope evaluates here (decorators, defaults) and what it reads from outside.
            for (role, c) in tree.roledChildren(of: id) where [.decorator, .base, .keyword, .returns].contains(role) { stack.append(c) }
            if let args = tree.children(of: id, role: .arguments).first {
                for (r, d) in tree.roledChildren(of: args) where r == .defaultValue || r == .kwDefault { stack.append(d) }
            }
            if n.kind == .listComp || n.kind == .setComp || n.kind == .dictComp || n.kind == .generatorExp {
                // The first iterable is evaluated in the enclosing scope.
                if let first = tree.children(of: id, role: .generator).first, let iter = tree.children(of: first, role: .iter).first {
                    stack.append(iter)
                }
            }
            free.formUnion(freeNames(of: id, in: tree))
        default:
            for c in tree.children(of: id) { stack.append(c) }
        }
    }
    return free.subtracting(bound)
}

/// Checks the shape of a legacy operator class and plans its rewrite as a module factory.
struct OperatorAnalyzer {
    let file: IndexedFile
    let rules: MigrationRules
    var tree: PythonSyntaxTree { file.tree }
    var text: [UInt8] { file.source.text }

    func line(_ offset: Int) -> Int { file.source.lineTable.location(of: offset).line }
    func slice(_ id: PythonNodeID) -> String { String(decoding: text[tree[id].start..<tree[id].end], as: UTF8.self) }
    var helper: ClassAnalyzer { ClassAnalyzer(file: file, rules: rules) }

    /// `inClassBody`: the class sits in another class's body, where a nested function cannot
    /// see the name it is bound to.
    /// `base`: a converted run class of the same file and scope that this class inherits
    /// from, with its plan; its members are merged in.
    func plan(classNode: PythonNodeID, key: ClassKey, functionName: String, inClassBody: Bool, allowUnsafe: Bool = false,
              base: (node: PythonNodeID, plan: OperatorPlan)? = nil) -> Result<OperatorPlan, Refusal> {
        let className = tree.nameText(classNode)
        func refuse(_ code: KeepReason, _ reason: String) -> Result<OperatorPlan, Refusal> { .failure(Refusal(code: code, reason: reason)) }
        if !tree.children(of: classNode, role: .keyword).isEmpty { return refuse(.classKeywords, "class keywords (metaclass=...) need the class") }
        if tree.children(of: classNode, role: .base).count != 1 { return refuse(.multipleBases, "several base classes") }
        if !tree.children(of: classNode, role: .typeParam).isEmpty { return refuse(.typeParameters, "type parameters on the class") }
        var unsafe: [String] = []
        for d in tree.children(of: classNode, role: .decorator) {
            guard let name = helper.decoratorName(d), rules.functionDecorators.contains(name) else {
                // It would be given the module's class instead of the legacy class.
                let why = "decorator @\(slice(d)) (line \(line(tree[d].start))) would receive the module's class"
                if allowUnsafe { unsafe.append(why); continue }
                return refuse(.classDecorator, why + " (an unsafe conversion: --unsafe)")
            }
        }
        var forward: PythonNodeID? = nil
        var plan = OperatorPlan(key: key, className: className, functionName: functionName, forward: -1)
        plan.unsafeReasons = unsafe
        let body = tree.children(of: classNode, role: .body)
        // Statements must stand alone on their lines: they are moved and deleted by line.
        for (i, s) in body.enumerated() where i > 0 && line(tree[s].start) == line(tree[body[i - 1]].end) {
            return refuse(.layout, "two statements share line \(line(tree[s].start))")
        }
        if let first = body.first, line(tree[first].start) == line(tree[classNode].start) {
            return refuse(.layout, "the class body starts on its header line")
        }
        for (index, s) in body.enumerated() {
            let n = tree[s]
            switch n.kind {
            case .expr where index == 0 && helper.isDocstring(s):
                plan.docstring = s
            case .expr where helper.isDocstring(s), .pass:
                continue
            case .functionDef, .asyncFunctionDef:
                let name = tree.nameText(s)
                let decorators = tree.children(of: s, role: .decorator)
                if name == "__init__" {
                    guard n.kind == .functionDef, decorators.isEmpty else { return refuse(.methodDecorator, "__init__ has decorators or is async") }
                    plan.initMethod = s
                    continue
                }
                if name.hasPrefix("__") && name.hasSuffix("__") {
                    return refuse(.specialMethod, "defines \(name) (line \(line(n.start))), which the module would not keep")
                }
                var isStatic = false
                var isClassMethod = false
                for d in decorators {
                    if tree[d].kind == .name && tree.nameText(d) == "staticmethod" { isStatic = true; continue }
                    if tree[d].kind == .name && tree.nameText(d) == "classmethod" && !inClassBody { isClassMethod = true; continue }
                    return refuse(.methodDecorator, "method \(name) has decorator @\(slice(d)) (line \(line(tree[d].start)))")
                }
                if !tree.children(of: s, role: .typeParam).isEmpty { return refuse(.typeParameters, "type parameters on \(name)") }
                if rules.behaviourMethods.contains(name) {
                    if isStatic { return refuse(.methodDecorator, "\(name) is a static method") }
                    if forward != nil { return refuse(.classBodyStatement, "defines \(name) twice") }
                    forward = s
                }
                if isClassMethod && rules.behaviourMethods.contains(name) { return refuse(.methodDecorator, "\(name) is a class method") }
                plan.methods.append(MethodInfo(node: s, name: name, selfParameter: nil, selfName: nil, isStatic: isStatic,
                                               isClassMethod: isClassMethod, decorators: decorators))
            case .assign:
                let targets = tree.children(of: s, role: .target)
                guard targets.count == 1, tree[targets[0]].kind == .name, let value = tree.children(of: s, role: .value).first else {
                    return refuse(.classBodyStatement, "class body statement at line \(line(n.start)) is not a simple attribute")
                }
                plan.classAttributes.append((tree.nameText(targets[0]), s, value))
            case .annAssign:
                guard let target = tree.children(of: s, role: .target).first, tree[target].kind == .name else {
                    return refuse(.classBodyStatement, "class body statement at line \(line(n.start)) is not a simple attribute")
                }
                if let value = tree.children(of: s, role: .value).first {
                    plan.classAttributes.append((tree.nameText(target), s, value))
                } else {
                    plan.declarations.append((tree.nameText(target), s))
                }
            default:
                return refuse(.classBodyStatement, "class body statement at line \(line(n.start)) needs the class")
            }
        }
        if let base {
            // The base's methods the subclass does not override, and overridden ones it
            // reaches with super(); its __init__ when the subclass has none.
            var inherited = InheritedMembers(baseClass: base.node, baseFunctionName: base.plan.functionName)
            inherited.classAttributeNames = Set(base.plan.classAttributes.map(\.name)).subtracting(plan.classAttributes.map(\.name))
                .union(base.plan.inherited?.classAttributeNames ?? [])
            let own = Set(plan.methods.map(\.name))
            let superCalled = superCalledMethods(classNode)
            var taken = Set(plan.methods.map(\.name)).union(base.plan.methods.map(\.name))
            for m in base.plan.methods {
                if !own.contains(m.name) {
                    inherited.methods.append(m.node)
                    plan.methods.insert(m, at: inherited.methods.count - 1)
                    if rules.behaviourMethods.contains(m.name), forward == nil { forward = m.node }
                } else if superCalled.contains(m.name) {
                    var fresh = "base_" + m.name.trimmed { $0 == "_" }
                    while taken.contains(fresh) { fresh = "_" + fresh }
                    taken.insert(fresh)
                    inherited.methods.append(m.node)
                    inherited.renamedMethods[m.node] = fresh
                    var renamed = m
                    renamed.name = fresh
                    plan.methods.insert(renamed, at: inherited.methods.count - 1)
                }
            }
            if let missing = superCalled.subtracting(base.plan.methods.map(\.name)).sorted().first, missing != "__init__" {
                return refuse(.superCall, "calls super().\(missing), which \(tree.nameText(base.node)) does not define")
            }
            if plan.initMethod == nil, let baseInit = base.plan.initMethod {
                inherited.initMethod = baseInit
                plan.initMethod = baseInit
            } else if let ownInit = plan.initMethod, superCalled.contains("__init__") {
                // super().__init__(...) as one statement of __init__'s body.
                let superStatements = tree.children(of: ownInit, role: .body).filter { isSuperInitCall($0) }
                guard superStatements.count == 1, superInitCallCount(ownInit) == 1 else {
                    return refuse(.superCall, "__init__ calls super().__init__ other than as one statement of its body")
                }
                inherited.superInitStatement = superStatements[0]
                if let baseInit = base.plan.initMethod {
                    guard base.plan.setattrStores.isEmpty else {
                        return refuse(.superCall, "the base's __init__ sets attributes through setattr")
                    }
                    let baseMethods = Set(base.plan.methods.map(\.name))
                    let baseStatements = Set(tree.children(of: baseInit, role: .body))
                    var attributes: Set<String> = []
                    for a in base.plan.accesses where a.method == baseInit {
                        if a.context == .load && baseMethods.contains(a.attribute) {
                            return refuse(.superCall, "the base's __init__ calls self.\(a.attribute)")
                        }
                        guard a.context == .store else { continue }
                        // Set at its top level, so bound when it returns.
                        guard let st = innermostStatement(containing: a.node, in: baseInit), baseStatements.contains(st) else {
                            return refuse(.superCall, "the base's __init__ sets self.\(a.attribute) only on some paths")
                        }
                        attributes.insert(a.attribute)
                    }
                    var taken = namesUsed(in: classNode).union(namesUsed(in: base.node))
                    var name = "base_init"
                    while taken.contains(name) { name = "_" + name }
                    taken.insert(name)
                    inherited.baseInit = baseInit
                    inherited.baseInitName = name
                    inherited.baseInitAttributes = attributes.sorted()
                } else if let call = tree.children(of: superStatements[0], role: .value).first,
                          !(tree.children(of: call, role: .arg).isEmpty && tree.children(of: call, role: .keyword).isEmpty) {
                    return refuse(.superCall, "__init__ passes arguments to super().__init__, which takes none")
                }
            }
            plan.inherited = inherited
        }
        guard let forwardNode = forward else {
            return refuse(.noForward, "no \(rules.behaviourMethods.joined(separator: "/")) method")
        }
        plan.forward = forwardNode
        var seen: Set<String> = []
        for a in plan.classAttributes {
            if a.name.hasPrefix("__") && a.name.hasSuffix("__") {
                return refuse(.classBodyStatement, "class attribute \(a.name) (line \(line(tree[a.statement].start))) needs the class")
            }
            if !seen.insert(a.name).inserted { return refuse(.classBodyStatement, "class attribute \(a.name) is set twice") }
        }
        let methodNames = Set(plan.methods.map(\.name))
        let classAttributeNames = Set(plan.classAttributes.map(\.name)).union(plan.inherited?.classAttributeNames ?? [])
        if let clash = methodNames.intersection(classAttributeNames).first {
            return refuse(.classBodyStatement, "\(clash) is both a method and a class attribute")
        }
        // Class attributes are evaluated as decorator arguments, outside the class body.
        var classScope = classAttributeNames.union(methodNames)
        classScope.insert("__init__")
        for d in plan.declarations { classScope.insert(d.name) }
        for a in plan.classAttributes {
            for name in namesIn(a.value) where classScope.contains(name) {
                return refuse(.classBodyStatement, "class attribute \(a.name) refers to the class's own \(name) (line \(line(tree[a.statement].start)))")
            }
        }

        // Methods: the instance parameter, and every use of it.
        for i in plan.methods.indices {
            let m = plan.methods[i]
            if m.isStatic { continue }
            let params = helper.parameters(of: m.node)
            guard let first = params.first, first.role == .posonlyArg || first.role == .argParam else {
                return refuse(.selfEscapes, "\(m.name) has no self parameter")
            }
            plan.methods[i].selfParameter = first.node
            plan.methods[i].selfName = tree.nameText(first.node)
            if first.defaultValue != nil { return refuse(.selfEscapes, "self has a default in \(m.name)") }
            if params.count > 1 && params[1].role == .posonlyArg && first.role == .posonlyArg && params.contains(where: { $0.role == .posonlyArg && $0.node != first.node }) == false {
                // `def f(self, /, ...)`: removing self would leave a lone '/'.
                return refuse(.layout, "\(m.name) has self as its only positional-only parameter")
            }
            if first.role == .posonlyArg && !params.dropFirst().contains(where: { $0.role == .posonlyArg }) {
                return refuse(.layout, "\(m.name) has self as its only positional-only parameter")
            }
        }
        var initSelfName: String? = nil
        var initParams: [ClassAnalyzer.Parameter] = []
        if let initNode = plan.initMethod {
            initParams = helper.parameters(of: initNode)
            guard let first = initParams.first, first.role == .posonlyArg || first.role == .argParam, first.defaultValue == nil else {
                return refuse(.selfEscapes, "__init__ has no self parameter")
            }
            if first.role == .posonlyArg && !initParams.dropFirst().contains(where: { $0.role == .posonlyArg }) {
                return refuse(.layout, "__init__ has self as its only positional-only parameter")
            }
            initSelfName = tree.nameText(first.node)
            initParams.removeFirst()
            if let b = tree.children(of: initNode, role: .body).first, line(tree[b].start) == line(tree[initNode].start) {
                return refuse(.layout, "__init__'s body starts on its header line")
            }
        }

        // __init__: stores become locals; other uses of self are refused.
        var initLocals: Set<String> = []
        if let initNode = plan.initMethod, let selfName = initSelfName {
            for s in tree.children(of: initNode, role: .body) {
                if helper.isSuperInit(s) {
                    if s == plan.inherited?.superInitStatement { continue }
                    guard let call = tree.children(of: s, role: .value).first, tree.children(of: call, role: .arg).isEmpty,
                          tree.children(of: call, role: .keyword).isEmpty else {
                        return refuse(.superCall, "__init__ passes arguments to super().__init__ (line \(line(tree[s].start)))")
                    }
                    plan.superInits.insert(s)
                    continue
                }
                if let store = setattrStore(s, selfName: selfName) {
                    plan.setattrStores.append(store)
                }
            }
            var setattrCalls = Dictionary(plan.setattrStores.map { ($0.call, $0.value) }, uniquingKeysWith: { a, _ in a })
            // `super().__init__()` goes: nothing in it is a use of self. A merged base's
            // __init__ call keeps its arguments, which are ordinary expressions.
            for s in plan.superInits { setattrCalls[s] = s }
            if let st = plan.inherited?.superInitStatement, let call = tree.children(of: st, role: .value).first {
                for arg in tree.children(of: call, role: .arg) + tree.children(of: call, role: .keyword) {
                    if let failure = collectAccesses(in: arg, selfName: selfName, skippingCalls: [:], into: &plan.accesses, method: initNode) {
                        return refuse(failure.0, failure.1)
                    }
                }
                setattrCalls[st] = st
            }
            if let failure = collectAccesses(in: initNode, selfName: selfName, skippingCalls: setattrCalls, into: &plan.accesses) {
                return refuse(failure.0, failure.1)
            }
            for a in plan.accesses where a.method == initNode && a.context == .store {
                if a.nested { return refuse(.stateOutsideInit, "sets self.\(a.attribute) inside a nested function of __init__ (line \(line(tree[a.node].start)))") }
                plan.instanceAttributes.insert(a.attribute)
            }
            for s in plan.setattrStores { plan.instanceAttributes.insert(s.name) }
            initLocals = localNames(of: initNode, in: tree)
            initLocals.remove(selfName)
        }
        if let baseInit = plan.inherited?.baseInit {
            let params = helper.parameters(of: baseInit)
            guard let first = params.first else { return refuse(.selfEscapes, "the base's __init__ has no self parameter") }
            let baseSelf = tree.nameText(first.node)
            var skip: [PythonNodeID: PythonNodeID] = [:]
            for st in tree.children(of: baseInit, role: .body) where helper.isSuperInit(st) { skip[st] = st }
            if let failure = collectAccesses(in: baseInit, selfName: baseSelf, skippingCalls: skip, into: &plan.accesses) {
                return refuse(failure.0, failure.1 + " (the base's __init__)")
            }
            for a in plan.accesses where a.method == baseInit && a.context == .store { plan.instanceAttributes.insert(a.attribute) }
            var free = freeNames(of: baseInit, in: tree)
            free.remove(baseSelf)
            if let clash = free.intersection(Set(plan.methods.map(\.name)).union(initLocals)).sorted().first {
                return refuse(.nameClash, "the base's __init__ reads the outer name \(clash), which the module's factory would bind")
            }
        }
        for m in plan.methods where m.isClassMethod {
            // cls: the module's class (Name nodes not rebound in a nested scope).
            let clsName = m.selfName!
            var stack: [PythonNodeID] = tree.children(of: m.node, role: .body)
            while let id = stack.popLast() {
                let n = tree[id]
                if n.kind == .name && tree.nameText(id) == clsName {
                    plan.classReferences.append(id)
                    continue
                }
                if [.functionDef, .asyncFunctionDef, .lambda, .classDef, .listComp, .setComp, .dictComp, .generatorExp].contains(n.kind),
                   localNames(of: id, in: tree).contains(clsName) { continue }
                stack += tree.children(of: id)
            }
            if localNames(of: m.node, in: tree).subtracting([clsName]).contains(plan.functionName) {
                return refuse(.nameClash, "\(m.name) binds \(plan.functionName), the module's name")
            }
        }
        let inheritedMethods = Set(plan.inherited?.methods ?? [])
        for m in plan.methods where !m.isStatic && !m.isClassMethod {
            let ownMethod = !inheritedMethods.contains(m.node)
            if let failure = collectAccesses(in: m.node, selfName: m.selfName!, skippingCalls: [:], allowSuper: plan.inherited != nil && ownMethod,
                                             into: &plan.accesses) {
                return refuse(failure.0, failure.1)
            }
        }

        // What each `self.x` stands for.
        for a in plan.accesses {
            let at = line(tree[a.node].start)
            if case .superMethod = a.form {
                guard let inherited = plan.inherited, inherited.methods.contains(where: { tree.nameText($0) == a.attribute }) else {
                    return refuse(.superCall, "calls super().\(a.attribute) (line \(at)), which is not a method of the base")
                }
                continue
            }
            if case .classAttribute = a.form {
                guard classAttributeNames.contains(a.attribute) || a.attribute == "__name__" || a.attribute == "__qualname__" else {
                    return refuse(.unknownAttribute, "reads type(self).\(a.attribute) (line \(at)), which is not a class attribute")
                }
                if a.context == .delete { return refuse(.selfEscapes, "deletes a class attribute (line \(at))") }
                if inClassBody { return refuse(.inClassBody, "reads the class attribute \(a.attribute) (line \(at)) inside a class body") }
                continue
            }
            switch a.context {
            case .delete:
                return refuse(.selfEscapes, "deletes self.\(a.attribute) (line \(at))")
            case .store where a.method != plan.initMethod && a.method != plan.inherited?.baseInit:
                guard plan.instanceAttributes.contains(a.attribute) else {
                    return refuse(.stateOutsideInit, "sets self.\(a.attribute) in \(tree.nameText(a.method)) (line \(at)), never in __init__")
                }
                if a.nested { return refuse(.stateOutsideInit, "sets self.\(a.attribute) in a function nested in \(tree.nameText(a.method)) (line \(at))") }
                if !(plan.nonlocals[a.method]?.contains(a.attribute) ?? false) { plan.nonlocals[a.method, default: []].append(a.attribute) }
            case .store:
                break
            case .load:
                if plan.instanceAttributes.contains(a.attribute) || methodNames.contains(a.attribute) { continue }
                if classAttributeNames.contains(a.attribute) {
                    if inClassBody { return refuse(.inClassBody, "reads the class attribute \(a.attribute) (line \(at)) inside a class body") }
                    continue
                }
                // getattr(self, "x", d) of an attribute never set: d, as getattr gives.
                if case .getattr(let d) = a.form, d != nil { continue }
                return refuse(.unknownAttribute, "reads self.\(a.attribute) (line \(at)), which the class does not define")
            }
        }
        if plan.instanceAttributes.contains("__init__") || methodNames.intersection(plan.instanceAttributes).first != nil {
            let clash = methodNames.intersection(plan.instanceAttributes).first ?? "__init__"
            return refuse(.nameClash, "\(clash) is both a method and an instance attribute")
        }
        for (method, names) in plan.nonlocals {
            if let b = tree.children(of: method, role: .body).first, line(tree[b].start) == line(tree[method].start) {
                return refuse(.layout, "\(tree.nameText(method)) sets \(names[0]) on its header line")
            }
        }

        // A method that binds a name itself would read its own local where `self.x` became
        // x: such an attribute's local gets another name; a method or class attribute read
        // must not be captured either.
        for a in plan.accesses where a.method != plan.initMethod {
            let bound = namesBound(around: a.node, in: a.method)
            if case .classAttribute = a.form {
                if bound.contains(plan.functionName) { return refuse(.nameClash, "\(tree.nameText(a.method)) binds \(plan.functionName), the module's name") }
                continue
            }
            if plan.instanceAttributes.contains(a.attribute) {
                if bound.contains(a.attribute) && plan.renamedAttributes[a.attribute] == nil {
                    var fresh = "self_" + a.attribute
                    let taken = initLocals.union(plan.instanceAttributes).union(methodNames).union(classAttributeNames)
                    while taken.contains(fresh) || plan.renamedAttributes.values.contains(fresh) || namesUsed(in: classNode).contains(fresh) { fresh = "_" + fresh }
                    plan.renamedAttributes[a.attribute] = fresh
                }
            } else if methodNames.contains(a.attribute) {
                if bound.contains(a.attribute) { return refuse(.nameClash, "\(tree.nameText(a.method)) binds \(a.attribute), the name of a method it calls through self") }
            } else if classAttributeNames.contains(a.attribute), bound.contains(plan.functionName) {
                return refuse(.nameClash, "\(tree.nameText(a.method)) binds \(plan.functionName), the module's name")
            }
        }

        // __init__ parameters and locals share the factory's scope with the attributes:
        // `self.x = v` becomes `x = v`, so after the first store the name x must mean the
        // attribute only. `self.x = x` then says nothing and goes.
        if let initNode = plan.initMethod {
            for attribute in plan.instanceAttributes where initLocals.contains(attribute) && plan.renamedAttributes[attribute] == nil {
                var stores: [PythonNodeID] = []
                for a in plan.accesses where a.method == initNode && a.context == .store && a.attribute == attribute {
                    if let s = innermostStatement(containing: a.node, in: initNode) { stores.append(s) }
                }
                stores += plan.setattrStores.filter { $0.name == attribute }.map(\.call)
                let exact = stores.filter { s in
                    guard let (attr, value) = helper.storedParameter(s, selfName: initSelfName!) else { return false }
                    return attr == attribute && value == attribute && tree[s].kind != .expr
                }
                let firstEnd = stores.map { tree[$0].end }.min() ?? 0
                // All stores copy the local: both stay equal unless the local is rebound later.
                // Otherwise the local must not be used at all after the first store.
                let clash = exact.count == stores.count
                    ? bindsName(attribute, in: initNode, after: firstEnd, excluding: Set(exact))
                    : usesName(attribute, in: initNode, after: firstEnd, excluding: Set(exact))
                if clash {
                    // Two values, two names: the attribute's local becomes self_x.
                    var fresh = "self_" + attribute
                    let taken = initLocals.union(plan.instanceAttributes).union(methodNames).union(classAttributeNames)
                    while taken.contains(fresh) || plan.renamedAttributes.values.contains(fresh) || namesUsed(in: classNode).contains(fresh) { fresh = "_" + fresh }
                    plan.renamedAttributes[attribute] = fresh
                    continue
                }
                plan.redundantStores.formUnion(exact)
                if exact.count == stores.count { plan.sameAsLocal.insert(attribute) }
            }
        }

        // The factory's own names must not capture what a method reads from outside.
        var factoryNames = initLocals.union(plan.instanceAttributes.map { plan.localName(of: $0) }).union(methodNames)
        plan.factoryNames = factoryNames
        factoryNames.insert(plan.functionName)
        for m in plan.methods {
            var free = freeNames(of: m.node, in: tree)
            if let s = m.selfName { free.remove(s) }
            if let clash = free.intersection(factoryNames).sorted().first {
                return refuse(.nameClash, "\(m.name) reads the outer name \(clash), which the module's factory would bind")
            }
            // Class attributes are reached through the function's name.
            if classUsesCount(in: m, plan: plan) > 0, localNames(of: m.node, in: tree).contains(plan.functionName) {
                return refuse(.nameClash, "\(m.name) binds \(plan.functionName), the module's name")
            }
        }
        if let initNode = plan.initMethod {
            var free = freeNames(of: initNode, in: tree)
            free.remove(initSelfName!)
            let introduced = Set(plan.instanceAttributes.map { plan.localName(of: $0) }).union(methodNames).subtracting(initLocals)
            if let clash = free.intersection(introduced).sorted().first {
                return refuse(.nameClash, "__init__ reads the outer name \(clash), which becomes a name of the factory")
            }
            if initLocals.contains(plan.functionName) && plan.accesses.contains(where: { $0.context == .load && classAttributeNames.contains($0.attribute) && !plan.instanceAttributes.contains($0.attribute) }) {
                return refuse(.nameClash, "__init__ binds \(plan.functionName), the module's name")
            }
            // __init__ calling a method defined after it runs once every method is defined.
            let initStart = tree[initNode].start
            for a in plan.accesses where a.method == initNode && a.context == .load && methodNames.contains(a.attribute) {
                if let m = plan.methods.first(where: { $0.name == a.attribute }), tree[m.node].start > initStart { plan.initBodyLast = true }
            }
        }
        if methodNames.contains("forward") == false && factoryNames.contains("forward") {
            return refuse(.nameClash, "the name forward is taken in the class")
        }
        return .success(plan)
    }

    /// `super().__init__(...)` as a statement.
    func isSuperInitCall(_ statement: PythonNodeID) -> Bool { helper.isSuperInit(statement) }

    /// How many `super().__init__` calls a function holds.
    func superInitCallCount(_ function: PythonNodeID) -> Int {
        var count = 0
        var stack = [function]
        while let id = stack.popLast() {
            if tree[id].kind == .attribute, tree.nameText(id) == "__init__", let value = tree.children(of: id, role: .value).first,
               tree[value].kind == .call, let fn = tree.children(of: value, role: .function).first, tree[fn].kind == .name,
               tree.nameText(fn) == "super" { count += 1 }
            stack += tree.children(of: id)
        }
        return count
    }

    /// Methods a class reaches with `super().m` anywhere in its body.
    func superCalledMethods(_ classNode: PythonNodeID) -> Set<String> {
        var out: Set<String> = []
        var stack = [classNode]
        while let id = stack.popLast() {
            if tree[id].kind == .attribute, let value = tree.children(of: id, role: .value).first, tree[value].kind == .call,
               let fn = tree.children(of: value, role: .function).first, tree[fn].kind == .name, tree.nameText(fn) == "super" {
                out.insert(tree.nameText(id))
            }
            stack += tree.children(of: id)
        }
        return out
    }

    /// A subclass whose body holds only a docstring, `pass` and simple class attributes, with
    /// one base, no class keywords and only function decorators (`@jit`).
    func isPlainSubclass(_ classNode: PythonNodeID) -> Bool {
        guard tree.children(of: classNode, role: .keyword).isEmpty, tree.children(of: classNode, role: .base).count == 1,
              tree.children(of: classNode, role: .typeParam).isEmpty else { return false }
        for d in tree.children(of: classNode, role: .decorator) {
            guard let name = helper.decoratorName(d), rules.functionDecorators.contains(name) else { return false }
        }
        for s in tree.children(of: classNode, role: .body) {
            switch tree[s].kind {
            case .pass: continue
            case .expr where helper.isDocstring(s): continue
            case .assign:
                let targets = tree.children(of: s, role: .target)
                guard targets.count == 1, tree[targets[0]].kind == .name, !tree.nameText(targets[0]).hasPrefix("__") else { return false }
            case .annAssign:
                guard let t = tree.children(of: s, role: .target).first, tree[t].kind == .name, !tree.nameText(t).hasPrefix("__") else { return false }
            default: return false
            }
        }
        return true
    }

    private func classUsesCount(in m: MethodInfo, plan: OperatorPlan) -> Int {
        let names = Set(plan.classAttributes.map(\.name))
        return plan.accesses.filter { $0.method == m.node && $0.context == .load && names.contains($0.attribute) && !plan.instanceAttributes.contains($0.attribute) }.count
    }

    /// The text of a plain one-part string literal (`"x"` or `'x'`), else nil.
    func stringLiteral(_ node: PythonNodeID) -> String? {
        guard tree[node].kind == .constant else { return nil }
        var literal = slice(node)
        guard literal.count >= 2, let q = literal.first, q == "\"" || q == "'", literal.last == q, !literal.hasPrefix("\"\"\"") else { return nil }
        literal.removeFirst(); literal.removeLast()
        return literal.contains("\\") ? nil : literal
    }

    /// Every identifier under a node (names, attributes, parameters): fresh names avoid them all.
    func namesUsed(in node: PythonNodeID) -> Set<String> {
        var out: Set<String> = []
        var stack = [node]
        while let id = stack.popLast() {
            if [.name, .attribute, .arg, .functionDef, .asyncFunctionDef, .classDef].contains(tree[id].kind) { out.insert(tree.nameText(id)) }
            stack += tree.children(of: id)
        }
        return out
    }

    /// Every Name read in an expression.
    func namesIn(_ node: PythonNodeID) -> Set<String> {
        var out: Set<String> = []
        var stack = [node]
        while let id = stack.popLast() {
            if tree[id].kind == .name { out.insert(tree.nameText(id)) }
            stack += tree.children(of: id)
        }
        return out
    }

    /// `object.__setattr__(self, "x", v)`, `setattr(self, "x", v)` or the legacy base's
    /// `self._init_field(field_name="x", value=v)` as a statement.
    func setattrStore(_ s: PythonNodeID, selfName: String) -> (call: PythonNodeID, name: String, value: PythonNodeID)? {
        guard tree[s].kind == .expr, let call = tree.children(of: s, role: .value).first, tree[call].kind == .call,
              let fn = tree.children(of: call, role: .function).first else { return nil }
        if tree[fn].kind == .attribute, tree.nameText(fn) == "_init_field",
           let owner = tree.children(of: fn, role: .value).first, tree[owner].kind == .name, tree.nameText(owner) == selfName,
           tree.children(of: call, role: .arg).isEmpty {
            var field: String? = nil
            var value: PythonNodeID? = nil
            for k in tree.children(of: call, role: .keyword) {
                guard let v = tree.children(of: k, role: .value).first else { return nil }
                switch tree.nameText(k) {
                case "field_name":
                    guard tree[v].kind == .constant else { return nil }
                    var literal = slice(v)
                    guard literal.count >= 2, let q = literal.first, q == "\"" || q == "'", literal.last == q else { return nil }
                    literal.removeFirst(); literal.removeLast()
                    field = literal
                case "value": value = v
                default: return nil
                }
            }
            guard let field, let value, isIdentifier(field) else { return nil }
            return (s, field, value)
        }
        guard tree.children(of: call, role: .keyword).isEmpty else { return nil }
        let isObjectSetattr = tree[fn].kind == .attribute && tree.nameText(fn) == "__setattr__"
            && tree.children(of: fn, role: .value).first.map { tree[$0].kind == .name && tree.nameText($0) == "object" } == true
        let isSetattr = tree[fn].kind == .name && tree.nameText(fn) == "setattr"
        guard isObjectSetattr || isSetattr else { return nil }
        let args = tree.children(of: call, role: .arg)
        guard args.count == 3, tree[args[0]].kind == .name, tree.nameText(args[0]) == selfName, tree[args[1]].kind == .constant else { return nil }
        var literal = slice(args[1])
        guard literal.count >= 2, let q = literal.first, q == "\"" || q == "'", literal.last == q else { return nil }
        literal.removeFirst(); literal.removeLast()
        guard isIdentifier(literal) else { return nil }
        return (s, literal, args[2])
    }

    /// Records `self.x` in `method`; returns a refusal when self is used any other way.
    func collectAccesses(in root: PythonNodeID, selfName: String, skippingCalls: [PythonNodeID: PythonNodeID], allowSuper: Bool = false,
                         into accesses: inout [SelfAccess], method owner: PythonNodeID? = nil) -> (KeepReason, String)? {
        let method = owner ?? root
        var failure: (KeepReason, String)? = nil
        var parents: [(PythonNodeID, PythonRole)] = []
        func go(_ id: PythonNodeID, nested: Bool) {
            guard failure == nil else { return }
            if let v = skippingCalls[id] {
                // setattr(self, "x", v): only the value is an expression of its own.
                if v != id { parents.append((id, .value)); go(v, nested: nested); parents.removeLast() }
                return
            }
            let n = tree[id]
            var innerNested = nested
            switch n.kind {
            case .name:
                let name = tree.nameText(id)
                if name == "super" {
                    // super().m(...) in a subclass merged with its base: the base's own m.
                    if allowSuper, parents.count >= 2, let (call, callRole) = parents.last, callRole == .function, tree[call].kind == .call,
                       tree.children(of: call, role: .arg).isEmpty, tree.children(of: call, role: .keyword).isEmpty,
                       case let (attribute, attributeRole) = parents[parents.count - 2], tree[attribute].kind == .attribute, attributeRole == .value {
                        accesses.append(SelfAccess(node: attribute, form: .superMethod, attribute: tree.nameText(attribute),
                                                   context: .load, method: method, nested: nested))
                        return
                    }
                    failure = (.superCall, "calls super() in \(tree.nameText(method)) (line \(line(n.start)))")
                    return
                }
                guard name == selfName else { return }
                // getattr(self, "x"[, default])
                if let (call, role) = parents.last, role == .arg, tree[call].kind == .call,
                   let fn = tree.children(of: call, role: .function).first, tree[fn].kind == .name, tree.nameText(fn) == "getattr",
                   tree.children(of: call, role: .keyword).isEmpty {
                    let args = tree.children(of: call, role: .arg)
                    if (args.count == 2 || args.count == 3) && args[0] == id, let attribute = stringLiteral(args[1]), isIdentifier(attribute),
                       !(attribute.hasPrefix("__") && attribute.hasSuffix("__")) {
                        accesses.append(SelfAccess(node: call, form: .getattr(default: args.count == 3 ? args[2] : nil), attribute: attribute,
                                                   context: .load, method: method, nested: nested))
                        if args.count == 3 { parents.append((call, .arg)); go(args[2], nested: nested); parents.removeLast() }
                        return
                    }
                }
                // type(self).x
                if parents.count >= 2, let (call, role) = parents.last, role == .arg, tree[call].kind == .call,
                   let fn = tree.children(of: call, role: .function).first, tree[fn].kind == .name, tree.nameText(fn) == "type",
                   tree.children(of: call, role: .arg).count == 1, tree.children(of: call, role: .keyword).isEmpty,
                   case let (outer, outerRole) = parents[parents.count - 2], tree[outer].kind == .attribute, outerRole == .value {
                    let attribute = tree.nameText(outer)
                    if !(attribute.hasPrefix("__") && attribute.hasSuffix("__")) || attribute == "__name__" || attribute == "__qualname__" {
                        let above = Array(parents.dropLast(2))
                        let context: SelfAccess.Context = isStorePosition(above, tree) ? (above.last.map { tree[$0.0].kind == .delete } == true ? .delete : .store) : .load
                        accesses.append(SelfAccess(node: outer, form: .classAttribute, attribute: attribute, context: context, method: method, nested: nested))
                        return
                    }
                }
                guard let (parent, role) = parents.last, tree[parent].kind == .attribute, role == .value else {
                    failure = (.selfEscapes, "uses \(selfName) other than for its attributes in \(tree.nameText(method)) (line \(line(n.start)))")
                    return
                }
                let attribute = tree.nameText(parent)
                var context = SelfAccess.Context.load
                let above = Array(parents.dropLast())
                if isStorePosition(above, tree) {
                    context = above.last.map { tree[$0.0].kind == .delete } == true ? .delete : .store
                }
                if attribute.hasPrefix("__") && attribute.hasSuffix("__") {
                    failure = (.selfEscapes, "uses \(selfName).\(attribute) in \(tree.nameText(method)) (line \(line(n.start)))")
                    return
                }
                accesses.append(SelfAccess(node: parent, attribute: attribute, context: context, method: method, nested: nested))
                return
            case .functionDef, .asyncFunctionDef, .lambda, .classDef, .listComp, .setComp, .dictComp, .generatorExp:
                if id != method {
                    if localNames(of: id, in: tree).contains(selfName) && n.kind != .classDef {
                        // A nested scope with its own `self`: not ours (its decorators and defaults still are).
                        for (role, c) in tree.roledChildren(of: id) where [.decorator, .base, .keyword, .returns].contains(role) {
                            parents.append((id, role)); go(c, nested: nested); parents.removeLast()
                        }
                        return
                    }
                    innerNested = true
                }
            default:
                break
            }
            for (role, c) in tree.roledChildren(of: id) {
                if id == method && (role == .decorator || role == .returns) { continue }
                if id == method && role == .arguments {
                    // Defaults of a method are evaluated in the class body, where self does not exist.
                    continue
                }
                parents.append((id, role)); go(c, nested: innerNested); parents.removeLast()
            }
        }
        go(root, nested: false)
        return failure
    }

    /// Whether `name` is assigned (other than as a parameter) anywhere in the function.
    func isRebound(_ name: String, in function: PythonNodeID) -> Bool {
        var found = false
        var parents: [(PythonNodeID, PythonRole)] = []
        func go(_ id: PythonNodeID) {
            if found { return }
            if tree[id].kind == .name && tree.nameText(id) == name && isStorePosition(parents, tree) { found = true; return }
            if [.global, .nonlocal].contains(tree[id].kind) { found = true; return }
            for (role, c) in tree.roledChildren(of: id) where !(id == function && role == .arguments) {
                parents.append((id, role)); go(c); parents.removeLast()
            }
        }
        for s in tree.children(of: function, role: .body) { parents = [(function, .body)]; go(s) }
        return found
    }

    /// Whether `name` is assigned (or declared global/nonlocal) in the function's body at or
    /// after `offset`, other than inside the `excluding` statements.
    func bindsName(_ name: String, in function: PythonNodeID, after offset: Int, excluding: Set<PythonNodeID>) -> Bool {
        var found = false
        var parents: [(PythonNodeID, PythonRole)] = []
        func go(_ id: PythonNodeID) {
            if found || excluding.contains(id) { return }
            let n = tree[id]
            if n.kind == .name && tree.nameText(id) == name && n.start >= offset && isStorePosition(parents, tree) { found = true; return }
            if (n.kind == .global || n.kind == .nonlocal) && n.end > offset { found = true; return }
            for (role, c) in tree.roledChildren(of: id) { parents.append((id, role)); go(c); parents.removeLast() }
        }
        for s in tree.children(of: function, role: .body) { parents = [(function, .body)]; go(s) }
        return found
    }

    /// Names bound in `method` and in the functions, lambdas and comprehensions inside it
    /// that hold `node` (its own parameter `self` aside).
    func namesBound(around node: PythonNodeID, in method: PythonNodeID) -> Set<String> {
        var out = localNames(of: method, in: tree)
        if let first = helper.parameters(of: method).first { out.remove(tree.nameText(first.node)) }
        let start = tree[node].start, end = tree[node].end
        var stack = tree.children(of: method, role: .body)
        while let id = stack.popLast() {
            let n = tree[id]
            guard n.start <= start && end <= n.end else { continue }
            if [.functionDef, .asyncFunctionDef, .lambda, .listComp, .setComp, .dictComp, .generatorExp].contains(n.kind) {
                out.formUnion(localNames(of: id, in: tree))
            }
            stack += tree.children(of: id)
        }
        return out
    }

    /// The innermost statement of `function` that holds `node`.
    func innermostStatement(containing node: PythonNodeID, in function: PythonNodeID) -> PythonNodeID? {
        let start = tree[node].start, end = tree[node].end
        var current: [PythonNodeID] = tree.children(of: function, role: .body)
        var found: PythonNodeID? = nil
        while let s = current.first(where: { tree[$0].start <= start && end <= tree[$0].end }) {
            found = s
            current = tree.children(of: s).filter { tree[$0].kind.isStatement || tree[$0].kind == .exceptHandler || tree[$0].kind == .matchCase }
            current = current.flatMap { tree[$0].kind.isStatement ? [$0] : tree.children(of: $0, role: .body) }
        }
        return found
    }

    /// Whether a Name `name` occurs in the function's body at or after `offset`, other than
    /// inside the `excluding` statements.
    func usesName(_ name: String, in function: PythonNodeID, after offset: Int, excluding: Set<PythonNodeID>) -> Bool {
        for s in tree.children(of: function, role: .body) {
            var stack = [s]
            while let id = stack.popLast() {
                if excluding.contains(id) { continue }
                if tree[id].kind == .name && tree.nameText(id) == name && tree[id].start >= offset { return true }
                stack += tree.children(of: id)
            }
        }
        return false
    }
}
