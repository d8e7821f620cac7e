import EmberProject
import EmberUtils
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// No vacuous pass: configuration that matches nothing in the project is an error (exit 2),
/// not a run that silently checks less than it says.
enum ProjectChecks {
    /// Layer patterns and `[[ignore]]` importers that match no module (neither in the run
    /// nor on disk below the configuration's roots), configured source roots that are not
    /// folders or hold no file of the run, and built-in Ember rules that govern nothing.
    static func unmatched(ruleSets: [RuleSet], used: Set<Int>, files: [ProjectFile], ruleIndex: [Int], modules: [String],
                          configurations: [ProjectConfiguration]) -> [ConfigError] {
        var errors: [ConfigError] = []
        let known = modules
        // Relative paths are made absolute against one working directory, read once (not a
        // getcwd per file).
        let cwd = ProjectPath.currentDirectory()
        func nearest(_ pattern: ModulePattern) -> String {
            let literal = pattern.text.replacingStars()
            guard let c = closest(to: literal, in: known) else { return "the run found no module at all" }
            return "the closest existing module is '\(c)'"
        }
        for r in used.sorted() {
            let rules = ruleSets[r]
            let configuration = r < configurations.count ? configurations[r] : nil
            let pythonFiles = files.indices.filter { ruleIndex[$0] == r && files[$0].language == .python }
            // Where modules of this configuration live on disk: its roots (configured or
            // detected) and the Swift packages' Sources/ and Tests/ folders.
            var roots: [String] = []
            var swiftFolders: [String] = []
            if let configuration {
                swiftFolders = [configuration.folder + "/Sources", configuration.folder + "/Tests"]
            }
            // The roots its files were named below (a typo is looked for there on disk too).
            var seenRoots: Set<String> = []
            for i in pythonFiles {
                let f = files[i]
                if let root = ModuleNaming.root(ofAbsolutePath: ProjectPath.absolute(f.path, cwd: cwd), module: f.module, isPackage: f.isPackage),
                   seenRoots.insert(root).inserted { roots.append(root) }
            }
            if roots.isEmpty, let configuration {
                roots = configuration.absoluteSourceRoots ?? ModuleNaming.detectedRoots(projectRoot: configuration.folder)
            }
            for file in files.indices where ruleIndex[file] == r && files[file].language == .swift {
                let parts = ProjectPath.absolute(files[file].path, cwd: cwd).split(separator: "/")
                if let i = parts.lastIndex(where: { $0 == "Sources" || $0 == "Tests" }) {
                    let package = "/" + parts[..<i].joined(separator: "/")
                    for f in [package + "/Sources", package + "/Tests"] where !swiftFolders.contains(f) { swiftFolders.append(f) }
                }
            }
            func matchesSomething(_ pattern: ModulePattern) -> Bool {
                if modules.contains(where: { pattern.matches($0) }) { return true }
                return existsOnDisk(pattern, roots: roots, swiftFolders: swiftFolders)
            }
            if rules.isBuiltIn && !rules.origin.contains("swift-package") {
                // The guide's rules on a tree that is not Ember's: they would check nothing.
                if !pythonFiles.isEmpty && !rules.layers.contains(where: { $0.modules.contains(where: { p in modules.contains { p.matches($0) } }) }) {
                    errors.append(ConfigError(file: rules.origin, line: 0, key: "",
                                              message: "no file of the run is in a layer of the built-in Ember rules (ember.utils, ember.core, ...): nothing would be checked; configure the layers in [tool.ember-lint] of pyproject.toml or in ember-lint.toml, or pass --rules FILE"))
                }
                continue
            }
            for layer in rules.layers {
                for pattern in layer.modules where !matchesSomething(pattern) {
                    errors.append(ConfigError(file: rules.origin, line: layer.line, key: "layers.modules",
                                              message: "layer '\(layer.name)': '\(pattern.text)' matches no module, so the layer would check nothing; \(nearest(pattern))"))
                }
            }
            for ignore in rules.ignores where !matchesSomething(ignore.importer) {
                errors.append(ConfigError(file: rules.origin, line: ignore.line, key: "ignore.importer",
                                          message: "'\(ignore.importer.text)' matches no module; \(nearest(ignore.importer))"))
            }
            if let configuration, let configured = configuration.absoluteSourceRoots {
                var missing = false
                for (written, root) in zip(rules.sourceRoots, configured) where !ProjectPath.isDirectory(root) {
                    missing = true
                    let folders = ProjectChecks.subfolders(of: configuration.folder)
                    let hint = closest(to: written, in: folders).map { "the closest existing folder is '\($0)'" } ?? "\(configuration.folder) has no folder"
                    errors.append(ConfigError(file: rules.origin, line: rules.sourceRootsLine, key: "source-roots",
                                              message: "'\(written)' is not a folder below \(ProjectPath.display(configuration.folder)); \(hint)"))
                }
                if !missing && !pythonFiles.isEmpty {
                    let rootBytes = configured.map { $0.hasSuffix("/") ? $0 : $0 + "/" }
                    let under = pythonFiles.contains { i in
                        let abs = ProjectPath.absolute(files[i].path, cwd: cwd)
                        return rootBytes.contains { abs.hasPrefix($0) }
                    }
                    if !under {
                        errors.append(ConfigError(file: rules.origin, line: rules.sourceRootsLine, key: "source-roots",
                                                  message: "no Python file of the run is below \(rules.sourceRoots.map { "'\($0)'" }.joined(separator: ", ")), so no module would be named right; fix source-roots or the paths given"))
                    }
                }
            }
        }
        return errors
    }

    /// Whether a module pattern names something on disk: `a.b` as `ROOT/a/b/` or
    /// `ROOT/a/b.py` below a Python root, or a target folder under `Sources/`/`Tests/`;
    /// segments with `*` are matched against the folder's entries.
    static func existsOnDisk(_ pattern: ModulePattern, roots: [String], swiftFolders: [String]) -> Bool {
        let segments = pattern.text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        func walk(_ folder: String, _ k: Int) -> Bool {
            let segment = segments[k]
            let names = segment.contains("*") ? subfolders(of: folder, files: true) : [segment, segment + ".py"]
            for name in names {
                let stem = name.hasSuffix(".py") ? String(name.dropLast(3)) : name
                guard stem == segment || (segment.contains("*") && Glob.matches(segment, stem)) else { continue }
                let path = ProjectPath.join(folder, name)
                if k == segments.count - 1 { if ProjectPath.exists(path) { return true } else { continue } }
                if ProjectPath.isDirectory(path) && walk(path, k + 1) { return true }
            }
            return false
        }
        for root in roots where walk(root, 0) { return true }
        if segments.count == 1 {
            for folder in swiftFolders where walk(folder, 0) { return true }
        }
        return false
    }

    /// The names in a folder (folders only, unless `files`).
    static func subfolders(of folder: String, files: Bool = false) -> [String] {
        guard let dir = opendir(folder) else { return [] }
        defer { closedir(dir) }
        var out: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            if files || ProjectPath.isDirectory(ProjectPath.join(folder, name)) { out.append(name) }
        }
        return out.sorted()
    }
}

extension String {
    /// The text with `*` removed (for the nearest-name hint of a pattern).
    func replacingStars() -> String { String(filter { $0 != "*" }) }
}
