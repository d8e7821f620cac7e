import EmberPython

/// A replacement of `range` built from new text and copies of other source ranges; copies
/// are rendered with the edits nested inside them, so rewrites compose (a construction
/// site inside a converted method, a `self.x` inside a default value).
struct Edit: Sendable {
    enum Part: Sendable {
        case text(String)
        case source(Range<Int>)
    }
    var range: Range<Int>
    var parts: [Part]

    init(_ range: Range<Int>, _ parts: [Part]) {
        self.range = range
        self.parts = parts
    }

    init(_ range: Range<Int>, text: String) {
        self.init(range, [.text(text)])
    }
}

struct EditConflict: Error, CustomStringConvertible {
    var description: String
}

/// Applies composed edits to `text`. Edits must nest or be disjoint.
func render(_ text: [UInt8], edits: [Edit]) throws(EditConflict) -> [UInt8] {
    let sorted = edits.enumerated().sorted { a, b in
        let ka = (a.element.range.lowerBound, a.element.range.isEmpty ? 0 : 1, -a.element.range.upperBound, a.offset)
        let kb = (b.element.range.lowerBound, b.element.range.isEmpty ? 0 : 1, -b.element.range.upperBound, b.offset)
        return ka < kb
    }.map(\.element)
    var out: [UInt8] = []
    out.reserveCapacity(text.count + 256)

    // `active` holds the edits whose copies are being rendered: they enclose r and are skipped.
    var active: Set<Int> = []
    func emit(_ r: Range<Int>, _ out: inout [UInt8], topLevel: Bool) throws(EditConflict) {
        var position = r.lowerBound
        var i = 0
        while i < sorted.count && sorted[i].range.lowerBound < r.lowerBound { i += 1 }
        while i < sorted.count {
            let e = sorted[i]
            let inside = e.range.lowerBound < r.upperBound || (topLevel && e.range.lowerBound == r.upperBound && e.range.isEmpty)
            guard inside else { break }
            if active.contains(i) || (e.range.isEmpty && !topLevel && e.range.lowerBound == r.upperBound) { i += 1; continue }
            guard e.range.upperBound <= r.upperBound else {
                throw EditConflict(description: "edit \(e.range) crosses \(r)")
            }
            guard e.range.lowerBound >= position else {
                throw EditConflict(description: "edit \(e.range) overlaps an edit ending at \(position)")
            }
            out += text[position..<e.range.lowerBound]
            active.insert(i)
            for part in e.parts {
                switch part {
                case .text(let s): out += Array(s.utf8)
                case .source(let sr):
                    guard sr.lowerBound >= e.range.lowerBound, sr.upperBound <= e.range.upperBound || e.range.isEmpty else {
                        throw EditConflict(description: "copied range \(sr) lies outside its edit \(e.range)")
                    }
                    try emit(sr, &out, topLevel: false)
                }
            }
            active.remove(i)
            position = e.range.upperBound
            i += 1
            // Edits nested in a replaced range are consumed by its copies (or dropped).
            while i < sorted.count && sorted[i].range.lowerBound < e.range.upperBound {
                guard sorted[i].range.upperBound <= e.range.upperBound || active.contains(i) else {
                    throw EditConflict(description: "edit \(sorted[i].range) crosses \(e.range)")
                }
                i += 1
            }
        }
        out += text[position..<r.upperBound]
    }
    try emit(0..<text.count, &out, topLevel: true)
    return out
}

/// `MyOperator` -> `my_operator`, `HTTPJudge` -> `http_judge`.
public func snakeCase(_ name: String) -> String {
    let scalars = Array(name.unicodeScalars)
    var out = ""
    for (i, u) in scalars.enumerated() {
        let isUpper = u.properties.isUppercase
        if isUpper && i > 0 {
            let previous = scalars[i - 1]
            let nextIsLower = i + 1 < scalars.count && scalars[i + 1].properties.isLowercase
            if previous != "_" && (previous.properties.isLowercase || previous.properties.numericType != nil || nextIsLower) {
                out += "_"
            }
        }
        out += isUpper ? u.properties.lowercaseMapping : String(u)
    }
    return out
}

/// Line break used by the file (the first one found; LF when none).
func newline(of text: [UInt8]) -> String {
    for (i, b) in text.enumerated() {
        if b == 0x0A { return "\n" }
        if b == 0x0D { return i + 1 < text.count && text[i + 1] == 0x0A ? "\r\n" : "\r" }
    }
    return "\n"
}

/// Builds the edits for one file.
struct FileRewriter {
    let resolver: Resolver
    let fileIndex: Int
    let scan: FileScan
    let decisions: RunDecisions
    var file: IndexedFile { resolver.files[fileIndex] }
    var tree: PythonSyntaxTree { file.tree }
    var rules: MigrationRules { resolver.rules }
    var text: [UInt8] { file.source.text }

    var edits: [Edit] = []
    var neededTargets: Set<TargetName> = []
    var notes: [ReportLine] = []
    /// Renames of uses (kept apart: inherited text copied into a subclass renders them).
    var renameEdits: [Edit] = []
    /// Edits that could not be put together: the file's rewrite is abandoned.
    var conflicts: [String] = []

    init(resolver: Resolver, fileIndex: Int, scan: FileScan, decisions: RunDecisions) {
        self.resolver = resolver
        self.fileIndex = fileIndex
        self.scan = scan
        self.decisions = decisions
    }

    func slice(_ r: Range<Int>) -> String { String(decoding: text[r], as: UTF8.self) }
    func range(_ id: PythonNodeID) -> Range<Int> { tree[id].start..<tree[id].end }
    func lineStart(of offset: Int) -> Int {
        var k = offset
        while k > 0 && text[k - 1] != 0x0A && text[k - 1] != 0x0D { k -= 1 }
        return k
    }
    func indentation(ofLineAt offset: Int) -> String {
        var k = lineStart(of: offset)
        var out: [UInt8] = []
        while k < text.count && (text[k] == 0x20 || text[k] == 0x09 || text[k] == 0x0C) { out.append(text[k]); k += 1 }
        return String(decoding: out, as: UTF8.self)
    }
    /// Offset of the line break ending the line that contains `offset` (text.count at EOF).
    func lineEnd(from offset: Int) -> Int {
        var k = offset
        while k < text.count && text[k] != 0x0A && text[k] != 0x0D { k += 1 }
        return k
    }

    mutating func build() {
        // Inner classes first: an inner and an outer class can end at the same offset, and
        // the inner adapter line (deeper indentation) must come before the outer one.
        var merged: [OperatorPlan] = []
        for legacy in scan.legacyClasses.sorted(by: { tree[$0.key.node].start > tree[$1.key.node].start }) {
            if let plan = decisions.plans[legacy.key], plan.inherited != nil {
                merged.append(plan)
            } else if let plan = decisions.plans[legacy.key] {
                convertOperator(plan)
            } else if let adapted = decisions.adapted[legacy.key] {
                addAdapter(legacy, adapted)
            }
        }
        for (key, uses) in scan.classUses {
            guard let plan = decisions.plans[key], plan.functionName != plan.className else { continue }
            for use in uses where use.file == fileIndex { rename(use, plan) }
        }
        // Subclasses merged with their base go last: they copy the base's members with the
        // renames inside them.
        for plan in merged { convertOperator(plan) }
        if decisions.anyConverted && decisions.options.applies(.isinstanceAcceptsModules) {
            // isinstance(x, Operator) / issubclass(c, Operator): converted modules pass too.
            let target = rules.operatorModuleClass
            for node in scan.operatorTypeChecks {
                edits.append(Edit(range(node), [.text("("), .source(range(node)), .text(", \(target.name))")]))
                neededTargets.insert(target)
            }
        }
        for call in scan.compositionCalls {
            if decisions.options.applies(.compositionToRuntime) {
                rewriteComposition(call)
            } else if decisions.options.rulesSelected.contains(.compositionToRuntime) {
                let line = file.source.lineTable.location(of: tree[call.call].start).line
                let name = slice(range(tree.children(of: call.call, role: .function)[0]))
                notes.append(ReportLine(path: file.path, line: line, kind: .unsafe,
                                        message: "\(name)(...) could become \(call.symbol == .chain ? rules.chainFunction.name : rules.ensembleFunction.name)(...), which calls its members differently: an unsafe rewrite (--unsafe)"))
            }
        }
    }

    /// A use of a converted class follows its new name: the module is the class's stand-in
    /// everywhere (construction, isinstance, attributes, imports, values).
    mutating func rename(_ use: ClassUse, _ plan: OperatorPlan) {
        let before = edits.count
        defer { renameEdits += edits[before...] }
        switch use.kind {
        case .importAlias(let alias):
            let token = tree[alias].token
            if token >= 0 {
                let t = tree.tokens[Int(token)]
                edits.append(Edit(t.start..<t.end, text: plan.functionName))
                // A re-export's `__all__` names what the module now binds.
                if tree.asName(of: alias) == nil { renameInDunderAll(plan.className, to: plan.functionName) }
            }
        default:
            let reference = use.reference
            if tree[reference].kind == .attribute {
                let token = tree[reference].token
                if token >= 0 {
                    let t = tree.tokens[Int(token)]
                    edits.append(Edit(t.start..<t.end, text: plan.functionName))
                }
            } else if tree[reference].kind == .name {
                // A local alias (`from m import X as Y`) keeps its name; the class name itself follows.
                let local = tree.nameText(reference)
                var isOwnName = local == plan.className
                if case .importFrom(_, _, let aliased)? = file.bindings[local], aliased { isOwnName = false }
                if isOwnName { edits.append(Edit(range(reference), text: plan.functionName)) }
            }
        }
    }

    /// `__all__ = ["X", ...]` at module level follows the rename (same quotes kept).
    mutating func renameInDunderAll(_ old: String, to new: String) {
        for s in tree.children(of: tree.root) where [.assign, .augAssign, .annAssign].contains(tree[s].kind) {
            guard tree.children(of: s, role: .target).contains(where: { tree[$0].kind == .name && tree.nameText($0) == "__all__" }) else { continue }
            for t in tree.tokens where t.kind == .string && t.start >= tree[s].start && t.end <= tree[s].end {
                let literal = text[t.start..<t.end]
                guard let quote = literal.first, quote == 0x22 || quote == 0x27, literal.count == old.utf8.count + 2,
                      Array(literal.dropFirst().dropLast()) == Array(old.utf8) else { continue }
                edits.append(Edit((t.start + 1)..<(t.end - 1), text: new))
            }
        }
    }

    // MARK: adapter

    mutating func addAdapter(_ legacy: LegacyClass, _ adapted: AdaptedClass) {
        let className = tree.nameText(legacy.key.node)
        let adapterName = rules.adapterFunction.name
        let adapterLast = String(adapterName.split(separator: ".").last ?? "")
        // Already adapted (a second run): `x = migrate_operator_to_module(ClassName)` in the same body.
        for (role, s) in tree.roledChildren(of: legacy.parent) where [.body, .orelse, .finalbody].contains(role) && tree[s].kind == .assign {
            guard let value = tree.children(of: s, role: .value).first, tree[value].kind == .call,
                  let fn = tree.children(of: value, role: .function).first,
                  [PythonNodeKind.name, .attribute].contains(tree[fn].kind), tree.nameText(fn) == adapterLast else { continue }
            let args = tree.children(of: value, role: .arg)
            if args.count == 1, tree[args[0]].kind == .name, tree.nameText(args[0]) == className { return }
        }
        let nl = newline(of: text)
        let end = lineEnd(from: tree[legacy.key.node].end)
        let indent = indentation(ofLineAt: tree[legacy.key.node].start)
        var prefix = end == text.count && (text.last != 0x0A && text.last != 0x0D) || end < text.count ? nl : ""
        if legacy.isTopLevel { prefix += nl }
        edits.append(Edit(end..<end, text: "\(prefix)\(indent)\(adapted.variableName) = \(adapterName)(\(className))\(end == text.count && prefix.isEmpty ? nl : "")"))
        neededTargets.insert(rules.adapterFunction)
    }

    mutating func rewriteComposition(_ composition: CompositionCall) {
        let call = composition.call
        let target = composition.symbol == .chain ? rules.chainFunction : rules.ensembleFunction
        if composition.enclosingLocals.contains(target.importedName) || isTakenAtModuleLevel(target) {
            let line = file.source.lineTable.location(of: tree[call].start).line
            notes.append(ReportLine(path: file.path, line: line, kind: .kept,
                                    message: "kept \(slice(range(tree.children(of: call, role: .function)[0]))) call: the name '\(target.importedName)' is taken here"))
            return
        }
        var members: [Edit.Part]? = nil
        var extra: [[Edit.Part]] = []
        let memberKeywords: Set<String> = composition.symbol == .chain ? ["operators"] : ["operators", "lm_modules", "models"]
        func membersOf(_ expr: PythonNodeID) -> [Edit.Part] {
            if tree[expr].kind == .list || tree[expr].kind == .tuple {
                var parts: [Edit.Part] = []
                for (i, e) in tree.children(of: expr).enumerated() {
                    if i > 0 { parts.append(.text(", ")) }
                    parts.append(.source(range(e)))
                }
                return parts
            }
            return [.text("*"), .source(range(expr))]
        }
        for (role, arg) in tree.roledChildren(of: call) {
            if role == .arg {
                guard members == nil, tree[arg].kind != .starred else { return keep(call, "positional arguments it does not know") }
                members = membersOf(arg)
            } else if role == .keyword {
                let name = tree[arg].token >= 0 ? tree.nameText(arg) : ""
                if memberKeywords.contains(name), members == nil, let value = tree.children(of: arg, role: .value).first {
                    members = membersOf(value)
                } else if composition.symbol == .ensemble && !name.isEmpty {
                    extra.append([.source(range(arg))])
                } else {
                    return keep(call, "argument \(name.isEmpty ? "**" : name + "=") has no chain() form")
                }
            }
        }
        var parts: [Edit.Part] = [.text(target.name + "(")]
        var first = true
        if let members, !members.isEmpty { parts += members; first = false }
        for e in extra {
            if !first { parts.append(.text(", ")) }
            parts += e
            first = false
        }
        parts.append(.text(")"))
        edits.append(Edit(range(call), parts))
        neededTargets.insert(target)
    }

    mutating func keep(_ call: PythonNodeID, _ why: String) {
        let line = file.source.lineTable.location(of: tree[call].start).line
        let name = slice(range(tree.children(of: call, role: .function)[0]))
        notes.append(ReportLine(path: file.path, line: line, kind: .kept, message: "kept \(name)(...) call: \(why)"))
    }

    func isTakenAtModuleLevel(_ target: TargetName) -> Bool {
        switch file.bindings[target.importedName] {
        case nil: return false
        case .importFrom(let module, let name, _)?: return !(module == target.module && name == target.importedName)
        default: return true
        }
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\u{0C}" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\n" { s.removeLast() }
        return String(s)
    }
}
