import EmberProject

/// What makes one finding the same finding from run to run, whatever the wording of its
/// message (which names the layer's `may-import` list), however its path was spelt on the
/// command line (`src/`, `./src/`, `/abs/src`) and whichever folder ember-lint ran from:
///
/// - the finding's code;
/// - its file's path relative to the project root (see `ProjectRoot`), `/`-separated;
/// - the importer and the imported module (empty for findings that are not about one
///   import: EL003 and EL006 have an importer only, EL100/EL101/EL102/EL008/EL009 neither);
/// - its occurrence: 0 for the first finding (in report order: by line, then column) with
///   that code, path, importer and imported, 1 for the second, and so on. A file importing
///   the same forbidden module twice has two findings, #0 and #1.
///
/// Baselines store identities; SARIF carries each as its `partialFingerprints`, unique in a run.
public struct FindingIdentity: Hashable, Sendable, Comparable, Codable {
    public var code: String
    public var path: String
    public var importer: String
    public var imported: String
    public var occurrence: Int

    public init(code: String, path: String, importer: String, imported: String, occurrence: Int) {
        self.code = code
        self.path = path
        self.importer = importer
        self.imported = imported
        self.occurrence = occurrence
    }

    public static func < (a: Self, b: Self) -> Bool {
        (a.path, a.code, a.importer, a.imported, a.occurrence) < (b.path, b.code, b.importer, b.imported, b.occurrence)
    }

    /// `CODE|path|importer|imported|occurrence`, each field with `\` and `|` escaped by `\`.
    public var fingerprint: String {
        func field(_ s: String) -> String {
            guard s.utf8.contains(where: { $0 == UInt8(ascii: "|") || $0 == UInt8(ascii: "\\") }) else { return s }
            var out = ""
            for c in s.unicodeScalars {
                if c == "|" || c == "\\" { out.unicodeScalars.append("\\") }
                out.unicodeScalars.append(c)
            }
            return out
        }
        return "\(field(code))|\(field(path))|\(field(importer))|\(field(imported))|\(occurrence)"
    }

    /// The identities of `diagnostics` (in report order), in the same order.
    public static func assign(_ diagnostics: [Diagnostic], projectRoot: String, workingDirectory: String = ProjectRoot.workingDirectory()) -> [FindingIdentity] {
        var relative: [String: String] = [:]
        var seen: [FindingIdentity: Int] = [:]
        return diagnostics.map { d in
            let path: String
            if let known = relative[d.path] {
                path = known
            } else {
                path = ProjectRoot.relativePath(of: d.path, root: projectRoot, workingDirectory: workingDirectory)
                relative[d.path] = path
            }
            var identity = FindingIdentity(code: d.code.rawValue, path: path, importer: d.importer ?? "", imported: d.imported ?? "", occurrence: 0)
            let n = seen[identity, default: 0]
            seen[identity] = n + 1
            identity.occurrence = n
            return identity
        }
    }
}

/// The folder finding paths are made relative to, for finding identities: the folder of
/// the configuration file (the `--rules` file, or the discovered `ember-lint.toml` /
/// `pyproject.toml`); without one, the nearest folder at or above the first path that
/// holds a `pyproject.toml` or `.git`; else the working directory. Paths are made absolute
/// against the working directory and normalised as text (`.`, `..`, repeated `/`), not
/// through symlinks.
public enum ProjectRoot {
    public static func locate(rules: RuleSet, firstPath: String, workingDirectory cwd: String = workingDirectory()) -> String {
        if !rules.origin.isEmpty && !rules.origin.hasPrefix("built-in ") {
            return ProjectPath.absolute(rules.baseDirectory.isEmpty ? "." : rules.baseDirectory, cwd: cwd)
        }
        var dir = ProjectPath.absolute(firstPath, cwd: cwd)
        if !ProjectPath.isDirectory(dir) { dir = ProjectPath.parent(dir) }
        while true {
            if ProjectPath.exists(ProjectPath.join(dir, "pyproject.toml")) || ProjectPath.exists(ProjectPath.join(dir, ".git")) { return dir }
            let up = ProjectPath.parent(dir)
            if up == dir || up.isEmpty { break }
            dir = up
        }
        return cwd
    }

    /// `path` (relative to the working directory, or absolute) relative to `root`, with
    /// `..` where it lies outside. A path that is not a file's (the built-in rules) is kept.
    public static func relativePath(of path: String, root: String, workingDirectory cwd: String) -> String {
        if path.hasPrefix("built-in ") { return path }
        return ProjectPath.relative(ProjectPath.absolute(path, cwd: cwd), from: root)
    }

    public static func workingDirectory() -> String { ProjectPath.currentDirectory() }
}
