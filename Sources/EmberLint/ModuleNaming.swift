#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Gives every file its module: for Python the dotted name below its source root, for
/// Swift the target (the folder under `Sources/` or `Tests/`).
///
/// Python source roots are the configured `source-roots`, else detected per given path:
/// `PATH/src` when it exists (src layout); the parent of PATH when PATH is itself a
/// package (has `__init__.py`); else PATH (the folder holding the top-level packages).
/// A file given directly climbs out of its `__init__.py` packages.
struct ModuleNaming: Sendable {
    /// Absolute, normalised roots, longest first so nested roots win.
    let roots: [String]
    /// The working directory, read once (relative paths are resolved against it).
    let cwd: String
    /// `roots` with a final `/`, as bytes (for prefix tests without allocating).
    let rootBytes: [[UInt8]]

    init(paths: [String], rules: RuleSet) {
        cwd = ModuleNaming.currentDirectory()
        var roots: [String] = []
        if !rules.sourceRoots.isEmpty {
            roots = rules.sourceRoots.map { ModuleNaming.absolute($0.hasPrefix("/") ? $0 : ModuleNaming.join(rules.baseDirectory.isEmpty ? "." : rules.baseDirectory, $0)) }
        } else {
            for p in paths {
                let abs = ModuleNaming.absolute(p)
                if ModuleNaming.isDirectory(abs) {
                    if ModuleNaming.isDirectory(abs + "/src") && !ModuleNaming.exists(abs + "/__init__.py") {
                        roots.append(abs + "/src")
                    } else if ModuleNaming.exists(abs + "/__init__.py") {
                        var dir = abs
                        while ModuleNaming.exists(dir + "/__init__.py") { dir = ModuleNaming.parent(dir) }
                        roots.append(dir)
                    } else {
                        roots.append(abs)
                    }
                } else {
                    var dir = ModuleNaming.parent(abs)
                    while ModuleNaming.exists(dir + "/__init__.py") { dir = ModuleNaming.parent(dir) }
                    roots.append(dir)
                }
            }
        }
        self.roots = Array(Set(roots)).sorted { $0.count > $1.count }
        rootBytes = self.roots.map { Array(($0.hasSuffix("/") ? $0 : $0 + "/").utf8) }
    }

    func module(of file: FoundFile) -> (String, Bool) {
        // Walked paths are already clean (joined names), so only relative ones need work.
        var abs = file.path
        if !abs.hasPrefix("/") {
            // Paths walked from "." start with "./"; the rest is usually clean.
            let rest = abs.hasPrefix("./") ? String(abs.utf8.dropFirst(2))! : abs
            abs = ModuleNaming.needsNormalising("/" + rest) ? ModuleNaming.absolute(file.path, cwd: cwd) : ModuleNaming.join(cwd, rest)
        }
        switch file.language {
        case .swift:
            let parts = abs.split(separator: "/").map(String.init)
            if let i = parts.lastIndex(where: { $0 == "Sources" || $0 == "Tests" }), i + 1 < parts.count - 1 {
                return (parts[i + 1], false)
            }
            return (parts.count >= 2 ? parts[parts.count - 2] : "main", false)
        case .python:
            return ModuleNaming.pythonModule(abs, roots: rootBytes)
        }
    }

    /// The dotted module of the absolute path of a `.py` file: the part below the first
    /// (longest) root that holds it, else the file name; `/` becomes `.`, `.py` and a
    /// final `__init__` go (a package's `__init__.py` names the package). On bytes: one
    /// string per file.
    static func pythonModule(_ abs: String, roots: [[UInt8]]) -> (String, Bool) {
        var path = abs
        return path.withUTF8 { p -> (String, Bool) in
            var start = -1
            for root in roots where root.count < p.count {
                var same = true
                for k in 0..<root.count where p[k] != root[k] { same = false; break }
                if same { start = root.count; break }
            }
            if start < 0 {
                // Not under a root: the file name alone.
                start = 0
                for k in 0..<p.count where p[k] == UInt8(ascii: "/") { start = k + 1 }
            }
            var end = p.count - 3  // drop ".py"
            let initName = Array("__init__".utf8)
            var isInit = end - start >= initName.count && (start == end - initName.count || p[end - initName.count - 1] == UInt8(ascii: "/"))
            if isInit {
                for k in 0..<initName.count where p[end - initName.count + k] != initName[k] { isInit = false; break }
            }
            if isInit {
                if end - initName.count == start { return ("__init__", false) }
                end -= initName.count + 1  // the package folder
            }
            let name = String(unsafeUninitializedCapacity: max(end - start, 0)) { out in
                for k in start..<end { out[k - start] = p[k] == UInt8(ascii: "/") ? UInt8(ascii: ".") : p[k] }
                return end - start
            }
            return (name, isInit)
        }
    }

    static func join(_ a: String, _ b: String) -> String { a.hasSuffix("/") ? a + b : a + "/" + b }

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Absolute path with `.` and `..` segments removed (symlinks are kept as written).
    /// True when the path has a `.`/`..` segment or an empty one (bytes, no Foundation search).
    static func needsNormalising(_ path: String) -> Bool {
        var previous: UInt8 = 0
        for b in path.utf8 {
            if previous == UInt8(ascii: "/") && (b == UInt8(ascii: ".") || b == UInt8(ascii: "/")) { return true }
            previous = b
        }
        return false
    }

    static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        return getcwd(&buffer, buffer.count).map { String(cString: $0) } ?? "."
    }

    static func absolute(_ path: String, cwd: String = currentDirectory()) -> String {
        var full = path
        if !path.hasPrefix("/") {
            full = join(cwd, path)
        }
        // Fast path: nothing to normalise.
        if !ModuleNaming.needsNormalising(full) { return full }
        var out: [Substring] = []
        for part in full.split(separator: "/") {
            if part == "." || part.isEmpty { continue }
            if part == ".." { if !out.isEmpty { out.removeLast() }; continue }
            out.append(part)
        }
        return "/" + out.joined(separator: "/")
    }
}
