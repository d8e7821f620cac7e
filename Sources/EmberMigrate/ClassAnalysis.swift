import EmberPython

/// Small syntax questions about a legacy class and its methods.
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
}
