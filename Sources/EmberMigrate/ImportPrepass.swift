import EmberPython

/// The first look at every file of a run: its imports only, from the import skimmer (no
/// syntax tree). A file can hold something to migrate only if it imports, at any depth, a
/// legacy module or a module of the run that does (transitively); the others need no
/// parse at all, which is most of a large tree.
enum ImportPrepass {
    /// Only `import` and `from` lines become tokens.
    static let filter = PythonImportSkimmer.Filter(lineStarters: ["from", "import"], namesAnywhere: [], commentMarker: "")

    /// The modules a file imports (absolute; for `from M import N` both M and M.N), or nil
    /// when the skimmer cannot read the file (a tokenizer error: the full parse words it).
    static func importedModules(text: [UInt8], moduleName: String, isPackageInit: Bool) -> [String]? {
        guard let tokens = PythonImportSkimmer.skim(text: text, filter: filter) else { return nil }
        var out: [String] = []
        var k = 0
        func word(_ t: PythonToken) -> String { String(decoding: text[t.start..<t.end], as: UTF8.self) }
        func isOp(_ t: PythonToken, _ byte: UInt8) -> Bool { t.kind == .op && t.end - t.start == 1 && text[t.start] == byte }
        /// A dotted name from k on; k ends after it.
        func dotted() -> String {
            var parts: [String] = []
            while k < tokens.count, tokens[k].kind == .name {
                parts.append(word(tokens[k]))
                k += 1
                if k < tokens.count, isOp(tokens[k], UInt8(ascii: ".")) { k += 1 } else { break }
            }
            return parts.joined(separator: ".")
        }
        while k < tokens.count {
            let t = tokens[k]
            guard t.kind == .name else { k += 1; continue }
            let first = word(t)
            k += 1
            if first == "import" {
                while k < tokens.count && tokens[k].kind != .newline {
                    if tokens[k].kind == .name {
                        let name = dotted()
                        if !name.isEmpty { out.append(name) }
                        if k < tokens.count, tokens[k].kind == .name, word(tokens[k]) == "as" { k += 2 }
                    } else {
                        k += 1
                    }
                }
            } else if first == "from" {
                var level = 0
                while k < tokens.count, tokens[k].kind == .op, text[tokens[k].start] == UInt8(ascii: ".") {
                    level += tokens[k].end - tokens[k].start  // "..." is one token
                    k += 1
                }
                var module: String? = nil
                if k < tokens.count, tokens[k].kind == .name, word(tokens[k]) != "import" { module = dotted() }
                let absolute = IndexedFile.absoluteModule(module, level: level, moduleName: moduleName, isPackageInit: isPackageInit)
                if !absolute.isEmpty { out.append(absolute) }
                if k < tokens.count, tokens[k].kind == .name, word(tokens[k]) == "import" { k += 1 }
                var expectName = true
                while k < tokens.count && tokens[k].kind != .newline {
                    let u = tokens[k]
                    if u.kind == .name && expectName {
                        let n = word(u)
                        if n == "as" { k += 2; continue }
                        out.append(absolute.isEmpty ? n : absolute + "." + n)
                        expectName = false
                    } else if isOp(u, UInt8(ascii: ",")) {
                        expectName = true
                    }
                    k += 1
                }
            }
            while k < tokens.count && tokens[k].kind != .newline { k += 1 }
        }
        return out
    }

    /// What the relevance test needs from one file's imports, worked out on the worker
    /// that skimmed it: whether one names legacy code, and those that name run modules.
    struct Facts: Sendable {
        var importsLegacy = false
        var runImports: [String] = []
        /// The skimmer could not read the file: it is relevant (the parse reports it).
        var unknown = false
    }

    /// Module-name facts shared by the workers.
    final class Context: Sendable {
        let rules: MigrationRules
        /// The rules' legacy module prefixes (read per import: kept out of the rules struct).
        let legacyPrefixes: [String]
        let aliasPrefixes: [String]
        /// First components of the run's modules and of the legacy names.
        let runTops: Set<Substring>
        let legacyTops: Set<Substring>
        /// Legacy modules and every prefix of them (`ember`, `ember.core`, ...).
        let legacyNames: Set<String>

        init(moduleNames: [String], rules: MigrationRules, aliasPrefixes: [String]) {
            self.rules = rules
            self.legacyPrefixes = rules.legacyModulePrefixes
            self.aliasPrefixes = Array(Set(aliasPrefixes)).sorted { $0.count > $1.count }
            runTops = Set(moduleNames.filter { !$0.isEmpty }.map { ImportPrepass.firstComponent($0) })
            var names: Set<String> = []
            for m in rules.legacyModulePrefixes + rules.symbols.keys.map(\.module) {
                var prefix = ""
                for part in m.split(separator: ".") {
                    prefix = prefix.isEmpty ? String(part) : prefix + "." + part
                    names.insert(prefix)
                }
            }
            legacyNames = names
            legacyTops = Set(names.map { ImportPrepass.firstComponent($0) })
        }

        func isLegacy(_ module: String) -> Bool {
            guard legacyTops.contains(ImportPrepass.firstComponent(module)) else { return false }
            if legacyNames.contains(module) { return true }
            return legacyPrefixes.contains { module.hasPrefix($0) && module.utf8.dropFirst($0.utf8.count).first == UInt8(ascii: ".") }
        }

        /// Without a folder prefix code may put in front (`src.ember.x`).
        func canonical(_ module: String) -> String {
            for prefix in aliasPrefixes where module.hasPrefix(prefix + ".") {
                let rest = String(module.dropFirst(prefix.count + 1))
                if runTops.contains(ImportPrepass.firstComponent(rest)) || isLegacy(rest) { return rest }
            }
            if let dot = module.utf8.firstIndex(of: UInt8(ascii: ".")), !runTops.contains(Substring(module.utf8[..<dot])) {
                let rest = String(module[module.index(after: dot)...])
                if isLegacy(rest) { return rest }
            }
            return module
        }

        func facts(_ imports: [String]?) -> Facts {
            guard let imports else { return Facts(unknown: true) }
            var out = Facts()
            for m in imports {
                let c = canonical(m)
                if isLegacy(c) { out.importsLegacy = true; return out }
                if runTops.contains(ImportPrepass.firstComponent(c)) { out.runImports.append(c) }
            }
            return out
        }
    }

    static func firstComponent(_ module: String) -> Substring {
        if let dot = module.utf8.firstIndex(of: UInt8(ascii: ".")) { return Substring(module.utf8[..<dot]) }
        return Substring(module)
    }

    /// Which files can hold something to migrate: legacy modules themselves, files whose
    /// imports name legacy code, and, transitively, files that import (directly or through
    /// a package prefix) one of those.
    static func relevantFiles(moduleNames: [String], facts: [Facts], context: Context) -> [Bool] {
        var relevant = facts.map(\.importsLegacy)
        for (i, name) in moduleNames.enumerated() where !name.isEmpty && context.rules.isLegacyModule(name) { relevant[i] = true }
        var tainted: Set<String> = []
        func taint(_ module: String) {
            var prefix = ""
            for part in module.split(separator: ".") {
                prefix = prefix.isEmpty ? String(part) : prefix + "." + part
                tainted.insert(prefix)
            }
        }
        for i in relevant.indices where relevant[i] && !moduleNames[i].isEmpty { taint(moduleNames[i]) }
        var pending = (0..<facts.count).filter { !relevant[$0] && !facts[$0].runImports.isEmpty }
        var changed = true
        while changed && !tainted.isEmpty {
            changed = false
            pending.removeAll { i in
                guard facts[i].runImports.contains(where: { tainted.contains($0) }) else { return false }
                relevant[i] = true
                if !moduleNames[i].isEmpty { taint(moduleNames[i]) }
                changed = true
                return true
            }
        }
        // A file the skimmer could not read is parsed too (the parse reports why); its
        // module taints nothing, since nothing is known of its imports.
        for i in relevant.indices where facts[i].unknown { relevant[i] = true }
        return relevant
    }
}
