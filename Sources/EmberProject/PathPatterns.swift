/// Glob matching on UTF-8 bytes, as gitignore and ruff's `exclude` read patterns: `*`
/// matches any run of bytes within one path component, `?` one byte of a component,
/// `[a-z]` / `[!a-z]` a class, `\x` the byte x; `**/` matches zero or more whole
/// components, a final `**` everything below, and `/**/` zero or more components between.
public enum Glob {
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        var p = pattern, t = text
        return p.withUTF8 { pb in t.withUTF8 { tb in match(pb, 0, tb, 0) } }
    }

    public static func matches(_ pattern: [UInt8], _ text: UnsafeBufferPointer<UInt8>) -> Bool {
        pattern.withUnsafeBufferPointer { match($0, 0, text, 0) }
    }

    static let slash = UInt8(ascii: "/"), star = UInt8(ascii: "*")

    static func match(_ p: UnsafeBufferPointer<UInt8>, _ pStart: Int, _ t: UnsafeBufferPointer<UInt8>, _ tStart: Int) -> Bool {
        var pi = pStart, ti = tStart
        while pi < p.count {
            let c = p[pi]
            if c == star {
                let double = pi + 1 < p.count && p[pi + 1] == star
                if double && (pi == 0 || p[pi - 1] == slash) {
                    if pi + 2 == p.count { return true }  // a final `**`: everything below
                    if p[pi + 2] == slash {
                        // `**/`: zero or more whole components.
                        if match(p, pi + 3, t, ti) { return true }
                        var k = ti
                        while k < t.count {
                            if t[k] == slash && match(p, pi + 3, t, k + 1) { return true }
                            k += 1
                        }
                        return false
                    }
                }
                // `*` (and a `**` that is not a whole component): within one component.
                var next = pi + 1
                while next < p.count && p[next] == star { next += 1 }
                var k = ti
                while true {
                    if match(p, next, t, k) { return true }
                    if k == t.count || t[k] == slash { return false }
                    k += 1
                }
            }
            guard ti < t.count else { return false }
            switch c {
            case UInt8(ascii: "?"):
                if t[ti] == slash { return false }
                pi += 1
            case UInt8(ascii: "["):
                guard let (matched, end) = matchClass(p, pi, t[ti]) else {
                    // No closing bracket: a literal `[`.
                    if t[ti] != c { return false }
                    pi += 1
                    break
                }
                if !matched || t[ti] == slash { return false }
                pi = end
            case UInt8(ascii: "\\") where pi + 1 < p.count:
                if t[ti] != p[pi + 1] { return false }
                pi += 2
            default:
                if t[ti] != c { return false }
                pi += 1
            }
            ti += 1
        }
        return ti == t.count
    }

    /// `[...]` at `start`: whether `byte` is in the class, and where the pattern goes on;
    /// nil when the bracket is not closed.
    static func matchClass(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ byte: UInt8) -> (Bool, Int)? {
        var i = start + 1
        var negate = false
        if i < p.count && (p[i] == UInt8(ascii: "!") || p[i] == UInt8(ascii: "^")) { negate = true; i += 1 }
        var matched = false
        var first = true
        while i < p.count {
            if p[i] == UInt8(ascii: "]") && !first { return (matched != negate, i + 1) }
            first = false
            var low = p[i]
            if low == UInt8(ascii: "\\") && i + 1 < p.count { i += 1; low = p[i] }
            if i + 2 < p.count && p[i + 1] == UInt8(ascii: "-") && p[i + 2] != UInt8(ascii: "]") {
                var high = p[i + 2]
                i += 3
                if high == UInt8(ascii: "\\") && i < p.count { high = p[i]; i += 1 }
                if byte >= low && byte <= high { matched = true }
            } else {
                if byte == low { matched = true }
                i += 1
            }
        }
        return nil
    }
}

/// `exclude` / `extend-exclude` as ruff reads them: a pattern without `/` matches any one
/// path component (`build`, `*_pb2.py`); one with `/` matches the path below the
/// configuration's folder (`tests/fixtures/**`), and a folder it names covers everything
/// below it.
public struct ExcludePatterns: Sendable {
    /// Folders and files left out unless `exclude` replaces the list (ruff's defaults, plus
    /// SwiftPM's and this tool's own folders). A default pattern never leaves out a Python
    /// package (a folder with `__init__.py`): pip's `_internal/operations/build` is code.
    public static let defaults = [".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints", ".mypy_cache", ".nox",
                                  ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache", ".svn", ".tox", ".venv", ".vscode",
                                  "__pypackages__", "_build", "buck-out", "build", "dist", "node_modules", "site-packages", "venv",
                                  ".build", ".swiftpm", ".ember-lint-cache"]

    /// The configuration's folder (absolute): where path patterns start.
    public let base: String
    /// Component patterns without wildcards, by name.
    let names: Set<String>
    let componentGlobs: [[UInt8]]
    let pathGlobs: [[UInt8]]
    /// Names that come from the defaults (a package is never left out by them).
    let defaultNames: Set<String>
    public let patterns: [String]

    /// `exclude` nil: the defaults; `extend` is added either way.
    public init(base: String, exclude: [String]?, extend: [String] = []) {
        self.base = base
        var names: Set<String> = [], components: [[UInt8]] = [], paths: [[UInt8]] = []
        let list = (exclude ?? ExcludePatterns.defaults) + extend
        patterns = list
        for raw in list {
            var p = raw
            while p.hasPrefix("./") { p.removeFirst(2) }
            if p.hasSuffix("/") && p.count > 1 { p.removeLast() }
            if !p.contains("/") {
                if p.contains(where: { "*?[\\".contains($0) }) { components.append(Array(p.utf8)) } else { names.insert(p) }
            } else {
                while p.hasPrefix("/") { p.removeFirst() }
                paths.append(Array(p.utf8))
                paths.append(Array((p + "/**").utf8))
            }
        }
        self.names = names
        componentGlobs = components
        pathGlobs = paths
        defaultNames = exclude == nil ? Set(ExcludePatterns.defaults).subtracting(extend) : []
    }

    public var isEmpty: Bool { names.isEmpty && componentGlobs.isEmpty && pathGlobs.isEmpty }
    var hasPathPatterns: Bool { !pathGlobs.isEmpty }

    /// Whether an entry is left out: `name` its last component, `absolute` its absolute path
    /// (read only when path patterns exist), `isPackage` asked only when a default pattern
    /// names a folder.
    public func excludes(name: String, absolute: @autoclosure () -> String, isDirectory: Bool, isPackage: () -> Bool) -> Bool {
        if names.contains(name) {
            if isDirectory && defaultNames.contains(name) && isPackage() { return false }
            return true
        }
        if !componentGlobs.isEmpty {
            var n = name
            if n.withUTF8({ b in componentGlobs.contains { Glob.matches($0, b) } }) { return true }
        }
        if !pathGlobs.isEmpty, var relative = ProjectPath.relative(absolute(), to: base) {
            if relative.withUTF8({ b in pathGlobs.contains { Glob.matches($0, b) } }) { return true }
        }
        return false
    }

    /// Whether a path (relative to `base`) is excluded by any of its components or as a path.
    public func excludes(relativePath: String) -> Bool {
        let parts = relativePath.split(separator: "/")
        for part in parts {
            var s = String(part)
            if names.contains(s) { return true }
            if s.withUTF8({ b in componentGlobs.contains { Glob.matches($0, b) } }) { return true }
        }
        var r = relativePath
        return r.withUTF8 { b in pathGlobs.contains { Glob.matches($0, b) } }
    }
}

/// One `.gitignore` (or `.git/info/exclude`): its rules, read against paths below its folder.
public struct GitIgnoreFile: Sendable {
    struct Rule: Sendable {
        var pattern: [UInt8]
        var negated: Bool
        var directoryOnly: Bool
        /// Has a `/` before its end: matched against the path below the file's folder;
        /// otherwise against the entry's name at any depth.
        var anchored: Bool
    }
    /// The folder the file governs (absolute, no final `/`).
    public let base: String
    let rules: [Rule]

    public var isEmpty: Bool { rules.isEmpty }

    /// Parses gitignore text: blank lines and `#` comments skipped, `\#` / `\!` escapes,
    /// trailing spaces dropped unless escaped, `!` negates, a final `/` matches folders only,
    /// a `/` elsewhere anchors the pattern to this folder.
    public init(base: String, text: [UInt8]) {
        self.base = base
        var rules: [Rule] = []
        var lineStart = 0
        let n = text.count
        while lineStart < n {
            var lineEnd = lineStart
            while lineEnd < n && text[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            var line = Array(text[lineStart..<lineEnd])
            lineStart = lineEnd + 1
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            // Trailing spaces go unless escaped with a backslash.
            while let last = line.last, last == UInt8(ascii: " ") {
                if line.count >= 2 && line[line.count - 2] == UInt8(ascii: "\\") { line.remove(at: line.count - 2); break }
                line.removeLast()
            }
            guard let first = line.first, first != UInt8(ascii: "#") else { continue }
            var negated = false
            if first == UInt8(ascii: "!") { negated = true; line.removeFirst() }
            else if first == UInt8(ascii: "\\"), line.count > 1, line[1] == UInt8(ascii: "#") || line[1] == UInt8(ascii: "!") { line.removeFirst() }
            var directoryOnly = false
            if line.last == UInt8(ascii: "/") { directoryOnly = true; line.removeLast() }
            guard !line.isEmpty else { continue }
            let anchored = line.contains(UInt8(ascii: "/"))
            if line.first == UInt8(ascii: "/") { line.removeFirst() }
            guard !line.isEmpty else { continue }
            rules.append(Rule(pattern: line, negated: negated, directoryOnly: directoryOnly, anchored: anchored))
        }
        self.rules = rules
    }

    /// The verdict of this file for one entry: true ignored, false re-included (a `!`
    /// rule), nil no rule matched. `relative`: the path below `base`; `name`: its last
    /// component. The last matching rule wins.
    public func verdict(relative: UnsafeBufferPointer<UInt8>, name: UnsafeBufferPointer<UInt8>, isDirectory: Bool) -> Bool? {
        for rule in rules.reversed() {
            if rule.directoryOnly && !isDirectory { continue }
            if Glob.matches(rule.pattern, rule.anchored ? relative : name) { return !rule.negated }
        }
        return nil
    }
}

/// The `.gitignore` files that apply in one folder, nearest last.
public struct GitIgnoreStack: Sendable {
    public var files: [GitIgnoreFile] = []
    public init() {}

    /// Whether an entry of `folder` (absolute) is ignored: the deepest file with a matching
    /// rule decides.
    public func ignores(folder: String, name: String, isDirectory: Bool) -> Bool {
        guard !files.isEmpty else { return false }
        let absolute = folder.hasSuffix("/") ? folder + name : folder + "/" + name
        var name = name
        return name.withUTF8 { nameBytes in
            for file in files.reversed() {
                guard var relative = ProjectPath.relative(absolute, to: file.base) else { continue }
                let verdict = relative.withUTF8 { file.verdict(relative: $0, name: nameBytes, isDirectory: isDirectory) }
                if let verdict { return verdict }
            }
            return false
        }
    }
}
