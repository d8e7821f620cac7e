import EmberPython

/// Second stage of a file's rewrite, on the text after the class and call rewrites:
/// legacy imports moved to the new API per the mapping or removed when unused, and the
/// imports the new code needs added.
struct ImportRewriter {
    let file: IndexedFile
    let rules: MigrationRules
    /// Module-level names that resolve to legacy names or legacy modules through any import
    /// (e.g. `from . import BaseOperator` re-exported by the package, `from ember.core import non`).
    var legacyBoundNames: Set<String> = []
    /// Names the file used before its rewrite: an import whose name the rewrite left unused
    /// (`ClassVar` of a moved class attribute) goes too.
    var usedBefore: Set<String> = []
    var tree: PythonSyntaxTree { file.tree }
    var text: [UInt8] { file.source.text }

    func slice(_ r: Range<Int>) -> String { String(decoding: text[r], as: UTF8.self) }

    /// Every name read or written anywhere except in import statements, plus `__all__` strings.
    func usedNames() -> Set<String> {
        var used: Set<String> = []
        for (i, n) in tree.nodes.enumerated() where n.kind == .name {
            used.insert(tree.nameText(PythonNodeID(i)))
        }
        for s in tree.children(of: tree.root) where tree[s].kind == .assign || tree[s].kind == .augAssign {
            guard tree.children(of: s, role: .target).contains(where: { tree[$0].kind == .name && tree.nameText($0) == "__all__" }) else { continue }
            for t in tree.tokens where t.kind == .string && t.start >= tree[s].start && t.end <= tree[s].end {
                let literal = String(decoding: text[t.start..<t.end], as: UTF8.self)
                used.insert(String(literal.filter { $0 != "'" && $0 != "\"" }))
            }
        }
        return used
    }

    func edits(needed: Set<TargetName>) -> [Edit] {
        let nl = newline(of: text)
        let used = usedNames()
        var edits: [Edit] = []
        var additions: [String: [String]] = [:]   // module -> "name" / "name as alias"
        var additionOrder: [String] = []
        func add(_ module: String, _ entry: String) {
            if additions[module] == nil { additionOrder.append(module); additions[module] = [] }
            if !(additions[module]!.contains(entry)) { additions[module]!.append(entry) }
        }
        func bound(_ name: String, to module: String, _ original: String) -> Bool {
            if case .importFrom(let m, let n, _)? = file.bindings[name] { return m == module && n == original }
            return false
        }
        // Statements whose names all move are replaced in place by the new imports.
        var inPlace: [(statement: PythonNodeID, kept: String?, modules: [String])] = []
        for s in tree.children(of: tree.root) {
            let n = tree[s]
            if n.kind == .importFrom {
                let module = file.absoluteModule(ofImportFrom: s)
                guard rules.isLegacyModule(module) else {
                    // Not a legacy module, but some names are legacy: a mapped name moves to
                    // its new home, and names leading to legacy ones are dropped when unused.
                    let aliases = tree.children(of: s)
                    var movedModules: [String] = []
                    let dropped = aliases.filter { alias in
                        let name = tree.identifier(of: alias) ?? ""
                        let local = tree.asName(of: alias) ?? name
                        if let target = rules.importMapping[QualifiedName(module: module, name: name)] {
                            if used.contains(local) || file.isPackageInit {
                                add(target.module, target.name == local ? target.name : "\(target.name) as \(local)")
                                if !movedModules.contains(target.module) { movedModules.append(target.module) }
                            }
                            return true
                        }
                        return !file.isPackageInit && (legacyBoundNames.contains(local) || usedBefore.contains(local)) && !used.contains(local)
                    }
                    guard !dropped.isEmpty else { continue }
                    let claimed = movedModules.filter { m in !inPlace.contains { $0.modules.contains(m) } }
                    if dropped.count == aliases.count && !claimed.isEmpty {
                        inPlace.append((s, nil, claimed))
                        continue
                    }
                    if dropped.count == aliases.count {
                        edits.append(removal(of: s))
                    } else {
                        let kept = aliases.filter { !dropped.contains($0) }.map { alias -> String in
                            let name = tree.identifier(of: alias) ?? ""
                            return tree.asName(of: alias).map { "\(name) as \($0)" } ?? name
                        }
                        let level = String(repeating: ".", count: Int(n.aux))
                        var moduleText = ""
                        if n.token >= 0, tree.tokens[Int(n.token)].kind == .name { moduleText = tree.identifier(of: s) ?? "" }
                        edits.append(Edit(n.start..<n.end, text: "from \(level)\(moduleText) import \(kept.joined(separator: ", "))"))
                    }
                    continue
                }
                var kept: [String] = []
                var changed = false
                var movedModules: [String] = []
                for alias in tree.children(of: s) {
                    let name = tree.identifier(of: alias) ?? ""
                    let asName = tree.asName(of: alias)
                    let local = asName ?? name
                    let spelled = asName.map { "\(name) as \($0)" } ?? name
                    if name == "*" { kept.append(spelled); continue }
                    // A package's __init__ re-exports what it imports: unused there is not unused.
                    if !used.contains(local) && !file.isPackageInit { changed = true; continue }
                    if let target = rules.importMapping[QualifiedName(module: module, name: name)] {
                        changed = true
                        add(target.module, target.name == local ? target.name : "\(target.name) as \(local)")
                        if !movedModules.contains(target.module) { movedModules.append(target.module) }
                        continue
                    }
                    kept.append(spelled)
                }
                guard changed else { continue }
                var keptText: String? = nil
                if !kept.isEmpty {
                    let level = String(repeating: ".", count: Int(n.aux))
                    var moduleText = ""
                    if n.token >= 0, tree.tokens[Int(n.token)].kind == .name { moduleText = tree.identifier(of: s) ?? "" }
                    keptText = "from \(level)\(moduleText) import \(kept.joined(separator: ", "))"
                }
                let claimed = movedModules.filter { m in !inPlace.contains { $0.modules.contains(m) } }
                if keptText == nil && claimed.isEmpty {
                    edits.append(removal(of: s))
                } else {
                    inPlace.append((s, keptText, claimed))
                }
            } else if n.kind == .import {
                var kept: [String] = []
                var changed = false
                for alias in tree.children(of: s) {
                    let dotted = tree.identifier(of: alias) ?? ""
                    let asName = tree.asName(of: alias)
                    let local = asName ?? String(dotted.split(separator: ".").first ?? "")
                    let spelled = asName.map { "\(dotted) as \($0)" } ?? dotted
                    if (rules.isLegacyModule(dotted) || legacyBoundNames.contains(local) || usedBefore.contains(local)) && !used.contains(local) && !file.isPackageInit {
                        changed = true
                        continue
                    }
                    kept.append(spelled)
                }
                guard changed else { continue }
                edits.append(kept.isEmpty ? removal(of: s) : Edit(n.start..<n.end, text: "import \(kept.joined(separator: ", "))"))
            }
        }
        for target in needed.sorted(by: { ($0.module, $0.name) < ($1.module, $1.name) }) {
            let name = target.importedName
            if bound(name, to: target.module, name) { continue }
            add(target.module, name)
        }
        var lines: [String] = []
        func fromLine(_ module: String) -> String {
            "from \(module) import \(additions[module]!.sorted().joined(separator: ", "))"
        }
        let placed = Set(inPlace.flatMap(\.modules))
        for entry in inPlace {
            let statement = tree[entry.statement]
            let parts = (entry.kept.map { [$0] } ?? []) + entry.modules.map(fromLine)
            edits.append(Edit(statement.start..<statement.end, text: parts.joined(separator: nl)))
        }
        for module in additionOrder.sorted() where !placed.contains(module) {
            lines.append(fromLine(module))
        }
        if !lines.isEmpty {
            let at = insertionPoint()
            var insertion = lines.map { $0 + nl }.joined()
            if at.afterLine {
                // Inserting after the last line of a file that lacks a final newline.
                insertion = nl + lines.joined(separator: nl)
            }
            edits.append(Edit(at.offset..<at.offset, text: insertion))
        }
        return edits
    }

    /// Deletes a top-level statement with its line when it stands alone on it.
    func removal(of s: PythonNodeID) -> Edit {
        let n = tree[s]
        var lineStart = n.start
        while lineStart > 0 && text[lineStart - 1] != 0x0A && text[lineStart - 1] != 0x0D { lineStart -= 1 }
        var end = n.end
        while end < text.count && (text[end] == 0x20 || text[end] == 0x09) { end += 1 }
        let alone = text[lineStart..<n.start].allSatisfy { $0 == 0x20 || $0 == 0x09 } && (end == text.count || text[end] == 0x0A || text[end] == 0x0D)
        if alone {
            if end < text.count { end += (text[end] == 0x0D && end + 1 < text.count && text[end + 1] == 0x0A) ? 2 : 1 }
            return Edit(lineStart..<end, text: "")
        }
        return Edit(n.start..<n.end, text: "pass")
    }

    /// After the leading block of docstring, `__future__` and import statements; else
    /// before the first statement (never above a shebang or coding cookie).
    func insertionPoint() -> (offset: Int, afterLine: Bool) {
        let statements = tree.children(of: tree.root)
        var last: PythonNodeID? = nil
        for (i, s) in statements.enumerated() {
            let kind = tree[s].kind
            if kind == .import || kind == .importFrom { last = s; continue }
            if i == 0 && kind == .expr, let v = tree.children(of: s, role: .value).first, tree[v].kind == .constant {
                last = s; continue
            }
            break
        }
        if let last {
            var end = tree[last].end
            while end < text.count && text[end] != 0x0A && text[end] != 0x0D { end += 1 }
            if end == text.count { return (end, true) }
            end += (text[end] == 0x0D && end + 1 < text.count && text[end + 1] == 0x0A) ? 2 : 1
            return (end, false)
        }
        if let first = statements.first {
            var start = tree[first].start
            while start > 0 && text[start - 1] != 0x0A && text[start - 1] != 0x0D { start -= 1 }
            return (start, false)
        }
        if text.isEmpty { return (0, false) }
        let finalByte = text[text.count - 1]
        return (text.count, !(finalByte == 0x0A || finalByte == 0x0D))
    }
}
