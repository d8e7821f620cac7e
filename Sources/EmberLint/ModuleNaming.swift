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
    }

    func module(of file: FoundFile) -> (String, Bool) {
        // Walked paths are already clean (joined names), so only relative ones need work.
        let abs = file.path.hasPrefix("/") ? file.path : ModuleNaming.absolute(file.path, cwd: cwd)
        switch file.language {
        case .swift:
            let parts = abs.split(separator: "/").map(String.init)
            if let i = parts.lastIndex(where: { $0 == "Sources" || $0 == "Tests" }), i + 1 < parts.count - 1 {
                return (parts[i + 1], false)
            }
            return (parts.count >= 2 ? parts[parts.count - 2] : "main", false)
        case .python:
            var relative = abs
            for root in roots where abs.hasPrefix(root + "/") {
                relative = String(abs.dropFirst(root.count + 1))
                break
            }
            if relative == abs { relative = abs.lastPathComponent }
            var parts = relative.split(separator: "/").map(String.init)
            let last = parts.removeLast()
            let stem = String(last.dropLast(3))
            if stem == "__init__" {
                return (parts.isEmpty ? "__init__" : parts.joined(separator: "."), !parts.isEmpty)
            }
            parts.append(stem)
            return (parts.joined(separator: "."), false)
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
