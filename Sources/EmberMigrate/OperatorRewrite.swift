import EmberPython

extension FileRewriter {
    /// The bytes after `offset` up to and including the line break that ends its line.
    func lineBreakEnd(from offset: Int) -> Int {
        var end = lineEnd(from: offset)
        if end < text.count { end += (text[end] == 0x0D && end + 1 < text.count && text[end + 1] == 0x0A) ? 2 : 1 }
        return end
    }

    /// The comment token on the line that ends at `lineEnd`, if any.
    func trailingComment(before lineEnd: Int, after start: Int) -> Range<Int>? {
        tree.tokens.last { $0.kind == .comment && $0.start >= start && $0.end <= lineEnd }.map { $0.start..<$0.end }
    }

    /// First token starting at or after `offset`.
    func tokenIndex(atOrAfter offset: Int) -> Int? {
        var lo = 0, hi = tree.tokens.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if tree.tokens[mid].start < offset { lo = mid + 1 } else { hi = mid }
        }
        return lo < tree.tokens.count ? lo : nil
    }

    /// The `:` ending a compound statement's header, searched from `offset` at bracket depth 0.
    func headerColonEnd(from offset: Int) -> Int {
        var depth = 0
        var k = tokenIndex(atOrAfter: offset) ?? tree.tokens.count
        while k < tree.tokens.count {
            let t = tree.tokens[k]
            if t.kind == .op {
                let b = text[t.start]
                if b == 0x28 || b == 0x5B || b == 0x7B { depth += 1 }
                if b == 0x29 || b == 0x5D || b == 0x7D { depth -= 1 }
                if b == 0x3A && t.end - t.start == 1 && depth <= 0 { return t.end }
            }
            k += 1
        }
        return offset
    }

    /// Edits that remove `extra` indentation after `keep` on every line starting in
    /// `range`, except lines inside multi-line strings and lines indented less.
    mutating func dedent(_ range: Range<Int>, keep: String, extra: String) {
        guard !extra.isEmpty else { return }
        let lineStarts = file.source.lineTable.lineStarts
        let keepBytes = Array(keep.utf8), extraBytes = Array(extra.utf8)
        let strings = tree.tokens.filter { ($0.kind == .string || $0.kind == .fstringMiddle) && $0.end > range.lowerBound && $0.start < range.upperBound }
        var s = 0
        for start in lineStarts where start >= range.lowerBound && start < range.upperBound {
            while s < strings.count && strings[s].end <= start { s += 1 }
            if s < strings.count && strings[s].start < start { continue }
            let full = keepBytes + extraBytes
            guard start + full.count <= text.count, Array(text[start..<(start + full.count)]) == full else { continue }
            edits.append(Edit((start + keepBytes.count)..<(start + full.count), text: ""))
        }
    }

    /// A method's parameter list after its first parameter (`self`): where the rest starts
    /// and the token index of the closing parenthesis.
    func parametersAfterFirst(of method: PythonNodeID) -> (start: Int, close: Int) {
        let params = ClassAnalyzer(file: file, rules: rules).parameters(of: method)
        var open = tokenIndex(atOrAfter: tree[method].start)!
        while !(tree.tokens[open].kind == .op && text[tree.tokens[open].start] == 0x28) { open += 1 }
        var k = open + 1
        if let first = params.first {
            while k < tree.tokens.count && tree.tokens[k].start < tree[first.node].end { k += 1 }
            if k < tree.tokens.count && tree.tokens[k].kind == .op && text[tree.tokens[k].start] == 0x2C { k += 1 }
        }
        while k < tree.tokens.count && (tree.tokens[k].kind == .nl || tree.tokens[k].kind == .newline) { k += 1 }
        var depth = 1
        var j = open + 1
        while j < tree.tokens.count {
            let t = tree.tokens[j]
            if t.kind == .op {
                let b = text[t.start]
                if b == 0x28 || b == 0x5B || b == 0x7B { depth += 1 }
                if b == 0x29 || b == 0x5D || b == 0x7D { depth -= 1; if depth == 0 { break } }
            }
            j += 1
        }
        return (min(tree.tokens[k].start, tree.tokens[j].start), j)
    }

    /// The plan fits the short form: the function is `forward` itself (no `__init__`, no
    /// other methods, no state).
    func isForwardForm(_ plan: OperatorPlan) -> Bool {
        let classAttributes = Set(plan.classAttributes.map(\.name))
        // A one-line forward (`def forward(self, *, inputs): return x`) keeps its own def.
        let body = tree.children(of: plan.forward, role: .body)
        let oneLine = body.first.map { line(of: tree[$0].start) == line(of: tree[plan.forward].start) } ?? true
        return !oneLine && plan.inherited == nil && plan.initMethod == nil && plan.methods.count == 1 && plan.nonlocals.isEmpty && plan.exposedState.isEmpty
            && plan.accesses.allSatisfy { a in
                if case .getattr(let d) = a.form, d != nil, !classAttributes.contains(a.attribute) { return true }
                return classAttributes.contains(a.attribute)
            }
            && ClassAnalyzer(file: file, rules: rules).parameters(of: plan.forward).contains { tree.nameText($0.node) == "inputs" }
    }

    /// Rewrites a legacy operator class as a module factory (see `OperatorPlan`).
    mutating func convertOperator(_ plan: OperatorPlan) {
        let classNode = plan.key.node
        let nl = newline(of: text)
        let classStart = tree[classNode].start
        let classEnd = lineEnd(from: tree[classNode].end)
        let outerIndent = indentation(ofLineAt: classStart)
        let body = tree.children(of: classNode, role: .body)
        let bodyIndent = indentation(ofLineAt: tree[body[0]].start)
        let lastBase = tree.children(of: classNode, role: .base).last.map { tree[$0].end } ?? classStart
        let colonEnd = headerColonEnd(from: lastBase)
        let decorator = rules.moduleDecorator.name
        // A subclass merged with its base: the base's members are rendered as text from
        // the base's place in the file, with this class's edits.
        let inherited = plan.inherited
        var inheritedNodes = Set(inherited?.methods ?? [])
        if let i = inherited?.initMethod { inheritedNodes.insert(i) }
        if let i = inherited?.baseInit { inheritedNodes.insert(i) }
        let firstEdit = edits.count

        // Holes in the class text: (range, replacement parts), in order.
        var holes: [(range: Range<Int>, parts: [Edit.Part])] = []
        func deleteLines(of node: PythonNodeID, keepComment: Bool = true) {
            let start = lineStart(of: tree[node].start)
            let end = lineBreakEnd(from: tree[node].end)
            var parts: [Edit.Part] = []
            if keepComment, let comment = trailingComment(before: lineEnd(from: tree[node].end), after: tree[node].end) {
                parts = [.text(indentation(ofLineAt: tree[node].start)), .source(comment), .text(nl)]
            }
            holes.append((start..<end, parts))
        }
        for a in plan.classAttributes { deleteLines(of: a.statement) }
        for d in plan.declarations where !plan.instanceAttributes.contains(d.name) || plan.renamedAttributes[d.name] != nil { deleteLines(of: d.statement) }
        for m in plan.methods {
            for d in m.decorators { if inheritedNodes.contains(m.node) { deleteEdit(lines: d) } else { deleteLines(of: d) } }
        }
        // Inherited text, rendered once every edit is known: (where, what).
        var inheritedParams: Range<Int>? = nil
        var inheritedInitBody: Range<Int>? = nil

        // The header: `@module.operator("Name", attr=value, ...)` and `def name(<__init__ parameters>):`.
        var header: [Edit.Part] = [.text("@\(decorator).operator(\"\(plan.className)\"" + (inherited.map { ", " + $0.baseFunctionName } ?? ""))]
        // A value over several lines moves out one level with the decorator.
        let levelExtra = bodyIndent.hasPrefix(outerIndent) ? String(bodyIndent.dropFirst(outerIndent.count)) : ""
        for a in plan.classAttributes {
            header += [.text(", \(a.name)="), .source(tree[a.value].start..<tree[a.value].end)]
            dedent(tree[a.value].start..<tree[a.value].end, keep: outerIndent, extra: levelExtra)
        }
        header.append(.text(")\(nl)\(outerIndent)def \(plan.functionName)("))
        var initBody: Range<Int>? = nil
        let forwardForm = isForwardForm(plan)
        if forwardForm {
            // `def name(<forward's parameters>) -> R:`, then forward's body one level out.
            let forward = plan.forward
            let (paramsStart, close) = parametersAfterFirst(of: forward)
            let colon = headerColonEnd(from: tree.tokens[close].end)
            if tree[forward].kind == .asyncFunctionDef { header[header.count - 1] = .text(")\(nl)\(outerIndent)async def \(plan.functionName)(") }
            header.append(.source(paramsStart..<colon))
            let forwardIndent = indentation(ofLineAt: tree[forward].start)
            let firstStatement = tree.children(of: forward, role: .body)[0]
            let innerIndent = indentation(ofLineAt: tree[firstStatement].start)
            let extra = innerIndent.hasPrefix(forwardIndent) ? String(innerIndent.dropFirst(forwardIndent.count)) : ""
            dedent(paramsStart..<colon, keep: forwardIndent, extra: extra)
            if line(of: tree[firstStatement].start) != line(of: tree[forward].start) {
                dedent(colon..<classEnd, keep: forwardIndent, extra: extra)
            }
            // The forward header goes with the blank lines above it; a comment after it stays.
            var start = lineStart(of: tree[forward].start)
            while start > colonEnd {
                // The line before: skip the whole line break (CRLF is one).
                let breakLength = start >= 2 && text[start - 1] == 0x0A && text[start - 2] == 0x0D ? 2 : 1
                let previous = lineStart(of: start - breakLength)
                guard previous >= colonEnd, text[previous..<start].allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == 0x0C }) else { break }
                start = previous
            }
            if line(of: tree[firstStatement].start) != line(of: tree[forward].start) {
                var replacement: [Edit.Part] = []
                if let comment = trailingComment(before: lineEnd(from: colon), after: colon) {
                    replacement = [.text(bodyIndent), .source(comment), .text(nl)]
                }
                holes.append((start..<lineBreakEnd(from: colon), replacement))
            } else {
                holes.append((start..<colon, []))
            }
        } else if let initNode = plan.initMethod {
            let (paramsStart, close) = parametersAfterFirst(of: initNode)
            let closeStart = tree.tokens[close].start
            let initIsInherited = inheritedNodes.contains(initNode)
            if paramsStart < closeStart {
                if initIsInherited { inheritedParams = paramsStart..<closeStart } else { header.append(.source(paramsStart..<closeStart)) }
            }
            let initColon = headerColonEnd(from: tree.tokens[close].end)
            let headerEnd = lineBreakEnd(from: initColon)
            var removed: [Edit.Part] = []
            if let comment = trailingComment(before: lineEnd(from: initColon), after: initColon) {
                removed = [.text(bodyIndent), .source(comment), .text(nl)]
            }
            let initLineStart = lineStart(of: tree[initNode].start)
            let initIndent = indentation(ofLineAt: tree[initNode].start)
            let firstStatement = tree.children(of: initNode, role: .body)[0]
            let innerIndent = indentation(ofLineAt: tree[firstStatement].start)
            let extra = innerIndent.hasPrefix(initIndent) ? String(innerIndent.dropFirst(initIndent.count)) : ""
            // Parameter lines and body lines lose one level of indentation.
            dedent(paramsStart..<closeStart, keep: initIndent, extra: extra)
            let bodyEnd = lineEnd(from: tree[initNode].end)
            dedent(headerEnd..<bodyEnd, keep: initIndent, extra: extra)
            for s in plan.redundantStores.union(plan.superInits) { deleteEdit(lines: s) }
            if initIsInherited {
                // With the final line break, so that edits deleting the last line render.
                inheritedInitBody = headerEnd..<lineBreakEnd(from: tree[initNode].end)
            } else if plan.initBodyLast {
                holes.append((initLineStart..<lineBreakEnd(from: tree[initNode].end), []))
                initBody = headerEnd..<bodyEnd
            } else {
                holes.append((initLineStart..<headerEnd, removed))
            }
            for store in plan.setattrStores {
                edits.append(Edit(tree[store.call].start..<tree[store.call].end,
                                  [.text("\(plan.localName(of: store.name)) = "), .source(tree[store.value].start..<tree[store.value].end)]))
            }
        }
        if !forwardForm && inheritedParams == nil { header.append(.text("):")) }

        // Methods lose their instance parameter; `self.x` becomes x, a method name, or `name.x`.
        for m in plan.methods where !m.isStatic {
            guard let selfNode = m.selfParameter else { continue }
            removeParameter(selfNode)
            if let names = plan.nonlocals[m.node] {
                let statements = tree.children(of: m.node, role: .body)
                let first = statements.first { !ClassAnalyzer(file: file, rules: rules).isDocstring($0) } ?? statements[0]
                let at = lineStart(of: tree[first].start)
                edits.append(Edit(at..<at, text: "\(indentation(ofLineAt: tree[first].start))nonlocal \(names.map { plan.localName(of: $0) }.joined(separator: ", "))\(nl)"))
            }
        }
        if let inherited, let baseInit = inherited.baseInit, let statement = inherited.superInitStatement {
            // The base's __init__ as a nested function returning what it sets; the subclass's
            // super().__init__(...) takes those values.
            if tree[baseInit].token >= 0 {
                let t = tree.tokens[Int(tree[baseInit].token)]
                edits.append(Edit(t.start..<t.end, text: inherited.baseInitName))
            }
            if let selfNode = ClassAnalyzer(file: file, rules: rules).parameters(of: baseInit).first?.node {
                removeParameter(selfNode)
            }
            if let returns = tree.children(of: baseInit, role: .returns).first {
                // `-> None` no longer says what it returns.
                let (_, close) = parametersAfterFirst(of: baseInit)
                edits.append(Edit(tree.tokens[close].end..<tree[returns].end, text: ""))
            }
            let names = inherited.baseInitAttributes.map { plan.localName(of: $0) }
            let innerIndent = indentation(ofLineAt: tree[tree.children(of: baseInit, role: .body)[0]].start)
            let end = lineEnd(from: tree[baseInit].end)
            if !names.isEmpty {
                edits.append(Edit(end..<end, text: "\(nl)\(innerIndent)return " + names.joined(separator: ", ") + (names.count == 1 ? "," : "")))
            }
            if let call = tree.children(of: statement, role: .value).first {
                let args = tree.children(of: call, role: .arg) + tree.children(of: call, role: .keyword)
                var parts: [Edit.Part] = [.text((names.isEmpty ? "" : names.joined(separator: ", ") + (names.count == 1 ? "," : "") + " = ") + inherited.baseInitName + "(")]
                if let first = args.map({ tree[$0].start }).min(), let last = args.map({ tree[$0].end }).max() {
                    parts.append(.source(first..<last))
                }
                parts.append(.text(")"))
                edits.append(Edit(tree[statement].start..<tree[statement].end, parts))
            }
        }
        for node in plan.classReferences {
            edits.append(Edit(tree[node].start..<tree[node].end, text: plan.functionName))
        }
        for (node, name) in inherited?.renamedMethods ?? [:] where tree[node].token >= 0 {
            let t = tree.tokens[Int(tree[node].token)]
            edits.append(Edit(t.start..<t.end, text: name))
        }
        let methodNames = Set(plan.methods.map(\.name))
        let classAttributes = Set(plan.classAttributes.map(\.name)).union(inherited?.classAttributeNames ?? [])
        for a in plan.accesses {
            let range = tree[a.node].start..<tree[a.node].end
            if case .superMethod = a.form {
                let node = inherited?.methods.first { tree.nameText($0) == a.attribute }
                edits.append(Edit(range, text: node.flatMap { inherited?.renamedMethods[$0] } ?? a.attribute))
                continue
            }
            if case .classAttribute = a.form {
                edits.append(Edit(range, text: "\(plan.functionName).\(a.attribute)"))
                continue
            }
            if plan.instanceAttributes.contains(a.attribute) || methodNames.contains(a.attribute) {
                edits.append(Edit(range, text: plan.localName(of: a.attribute)))
            } else if classAttributes.contains(a.attribute) {
                edits.append(Edit(range, text: "\(plan.functionName).\(a.attribute)"))
            } else if case .getattr(let d?) = a.form {
                edits.append(Edit(range, [.text("("), .source(tree[d].start..<tree[d].end), .text(")")]))
            }
        }

        // Edits inside the base's members render the inherited text; they must not touch
        // the base's own conversion.
        var inheritedText = ""
        var inheritedLast = ""
        if let inherited {
            let memberRanges = inheritedNodes.map { node -> Range<Int> in
                let first = tree.children(of: node, role: .decorator).map { tree[$0].start }.min() ?? tree[node].start
                return lineStart(of: first)..<lineBreakEnd(from: tree[node].end)
            }
            let mine = edits[firstEdit...]
            let inside = mine.filter { e in memberRanges.contains { $0.lowerBound <= e.range.lowerBound && e.range.upperBound <= $0.upperBound } }
            edits = Array(edits[..<firstEdit]) + mine.filter { e in !memberRanges.contains { $0.lowerBound <= e.range.lowerBound && e.range.upperBound <= $0.upperBound } }
            let sliceEdits = inside + renameEdits
            func slice(_ r: Range<Int>) -> String {
                do { return String(decoding: try renderSlice(r, sliceEdits), as: UTF8.self) } catch {
                    conflicts.append("the members of \(tree.nameText(inherited.baseClass)) copied into \(plan.functionName): \(error.description)")
                    return ""
                }
            }
            if let p = inheritedParams { header.append(.text(slice(p) + "):")) }
            var pieces: [String] = []
            if let b = inheritedInitBody {
                var body = slice(b)
                while body.hasSuffix("\n") || body.hasSuffix("\r") { body.removeLast() }
                if plan.initBodyLast { inheritedLast = nl + body } else if !body.isEmpty { pieces.append(body + nl) }
            }
            for m in inherited.methods + (inherited.baseInit.map { [$0] } ?? []) {
                let first = tree.children(of: m, role: .decorator).map { tree[$0].start }.min() ?? tree[m].start
                pieces.append(slice(lineStart(of: first)..<lineBreakEnd(from: tree[m].end)))
            }
            inheritedText = nl + pieces.joined(separator: nl)
            if !inheritedText.hasSuffix(nl) { inheritedText += nl }
            // After the docstring (or the header line).
            let at = plan.docstring.map { lineBreakEnd(from: tree[$0].end) } ?? lineBreakEnd(from: colonEnd)
            holes.append((at..<at, [.text(inheritedText)]))
        }

        // The class text with its holes, the moved __init__ body, and the return.
        var parts: [Edit.Part] = header
        var cursor = colonEnd
        for hole in holes.sorted(by: { $0.range.lowerBound < $1.range.lowerBound }) {
            if hole.range.lowerBound > cursor { parts.append(.source(cursor..<hole.range.lowerBound)) }
            parts += hole.parts
            cursor = max(cursor, hole.range.upperBound)
        }
        if cursor < classEnd { parts.append(.source(cursor..<classEnd)) }
        if let initBody {
            parts += [.text(nl), .source(initBody)]
        }
        if !inheritedLast.isEmpty { parts.append(.text(inheritedLast)) }
        if forwardForm {
            edits.append(Edit(classStart..<classEnd, parts))
            neededTargets.insert(rules.moduleDecorator)
            if plan.functionName != plan.className { renameInDunderAll(plan.className, to: plan.functionName) }
            removeAdapterLine(of: plan)
            return
        }
        let forwardName = tree.nameText(plan.forward)
        var returned = forwardName
        if !plan.exposedState.isEmpty {
            returned = "\(decorator).state(\(forwardName), " + plan.exposedState.map { "\($0)=\(plan.localName(of: $0))" }.joined(separator: ", ") + ")"
        }
        parts.append(.text("\(nl)\(bodyIndent)return \(returned)"))
        edits.append(Edit(classStart..<classEnd, parts))
        neededTargets.insert(rules.moduleDecorator)
        if plan.functionName != plan.className { renameInDunderAll(plan.className, to: plan.functionName) }
        removeAdapterLine(of: plan)
    }

    /// An earlier run's `x = migrate_operator_to_module(ClassName)` goes once the class is converted.
    mutating func removeAdapterLine(of plan: OperatorPlan) {
        let adapterLast = String(rules.adapterFunction.name.split(separator: ".").last ?? "")
        var container: PythonNodeID? = nil
        for (i, n) in tree.nodes.enumerated() where [.module, .functionDef, .asyncFunctionDef, .classDef, .if, .try, .for, .while, .with].contains(n.kind) {
            if tree.children(of: PythonNodeID(i)).contains(plan.key.node) { container = PythonNodeID(i); break }
        }
        guard let container else { return }
        for s in tree.children(of: container) where tree[s].kind == .assign && tree[s].start > tree[plan.key.node].start {
            guard let value = tree.children(of: s, role: .value).first, tree[value].kind == .call,
                  let fn = tree.children(of: value, role: .function).first, [PythonNodeKind.name, .attribute].contains(tree[fn].kind),
                  tree.nameText(fn) == adapterLast else { continue }
            let args = tree.children(of: value, role: .arg)
            if args.count == 1, tree[args[0]].kind == .name, tree.nameText(args[0]) == plan.className {
                deleteEdit(lines: s)
            }
        }
    }

    func line(of offset: Int) -> Int { file.source.lineTable.location(of: offset).line }

    /// The text of `range` with the edits that lie inside it.
    func renderSlice(_ range: Range<Int>, _ candidates: [Edit]) throws(EditConflict) -> [UInt8] {
        let shift = range.lowerBound
        func moved(_ r: Range<Int>) -> Range<Int> { (r.lowerBound - shift)..<(r.upperBound - shift) }
        let inside = candidates.filter { range.lowerBound <= $0.range.lowerBound && $0.range.upperBound <= range.upperBound }.map { e in
            Edit(moved(e.range), e.parts.map { part -> Edit.Part in
                if case .source(let r) = part { return .source(moved(r)) }
                return part
            })
        }
        return try render(Array(text[range]), edits: inside)
    }

    /// Deletes a function's first parameter (`self`) with the comma and line breaks after it;
    /// in `(self, )` the closing parenthesis stays.
    mutating func removeParameter(_ parameter: PythonNodeID) {
        var k = tokenIndex(atOrAfter: tree[parameter].end) ?? tree.tokens.count
        var end = tree[parameter].end
        if k < tree.tokens.count && tree.tokens[k].kind == .op && text[tree.tokens[k].start] == 0x2C {
            k += 1
            while k < tree.tokens.count && (tree.tokens[k].kind == .nl || tree.tokens[k].kind == .newline) { k += 1 }
            end = k < tree.tokens.count ? tree.tokens[k].start : end
        }
        edits.append(Edit(tree[parameter].start..<end, text: ""))
    }

    /// Deletes the lines of a statement inside copied text (a nested edit).
    mutating func deleteEdit(lines node: PythonNodeID) {
        let start = lineStart(of: tree[node].start)
        let end = lineBreakEnd(from: tree[node].end)
        var replacement = ""
        if let comment = trailingComment(before: lineEnd(from: tree[node].end), after: tree[node].end) {
            replacement = indentation(ofLineAt: tree[node].start) + String(decoding: text[comment], as: UTF8.self) + newline(of: text)
        }
        edits.append(Edit(start..<end, text: replacement))
    }
}
