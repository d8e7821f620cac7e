#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which module a file is: one answer for ember-lint and ember-migrate.
///
/// Python: the dotted path below the file's source root (`/` becomes `.`, `.py` goes, a
/// package's `__init__.py` names the package; folders with or without `__init__.py` are
/// packages alike). The source roots of a file are, in order:
/// 1. its configuration's `source-roots` (relative to the configuration's folder);
/// 2. else detected in its project root, the nearest folder at or above it holding
///    `pyproject.toml`, `setup.py`, `setup.cfg`, `ember-lint.toml` or `ember-migrate.toml`
///    (so each package of a workspace is named below its own root): `ROOT/src` when it is a
///    folder that is not itself a package (src layout), and ROOT (climbing out of
///    `__init__.py` packages);
/// 3. else detected from each given path as in a project root (`PATH/src` and PATH, or the
///    folder above PATH's packages when PATH is a package); for a file, the folder above
///    its packages.
/// The longest root that holds the file wins; a file under none is named by its file name.
///
/// Swift: the target, the folder under the last `Sources/` or `Tests/` of the path (else
/// the file's folder).
public enum ModuleNaming {
    /// Roots with a final `/`, as bytes, longest first (for prefix tests without allocating).
    public static func rootBytes(_ roots: [String]) -> [[UInt8]] {
        Array(Set(roots)).sorted { $0.utf8.count > $1.utf8.count }.map { Array(($0.hasSuffix("/") ? $0 : $0 + "/").utf8) }
    }

    /// The roots detected in a project root: `ROOT/src` (src layout) and ROOT itself.
    public static func detectedRoots(projectRoot: String) -> [String] {
        var roots: [String] = []
        let src = ProjectPath.join(projectRoot, "src")
        if ProjectPath.isDirectory(src) && !ProjectPath.exists(src + "/__init__.py") { roots.append(src) }
        var dir = projectRoot
        while dir != "/" && ProjectPath.exists(dir + "/__init__.py") { dir = ProjectPath.parent(dir) }
        roots.append(dir)
        return roots
    }

    /// The roots detected from the given paths, for files in no project.
    static func fallbackRoots(paths: [String], cwd: String) -> [[UInt8]] {
        var roots: [String] = []
        for p in paths {
            let abs = ProjectPath.absolute(p, cwd: cwd)
            if ProjectPath.isDirectory(abs) {
                // As in a project root: PATH/src (src layout) and PATH, or the folder above
                // PATH's packages.
                roots += detectedRoots(projectRoot: abs)
            } else {
                var dir = ProjectPath.parent(abs)
                while dir != "/" && ProjectPath.exists(dir + "/__init__.py") { dir = ProjectPath.parent(dir) }
                roots.append(dir)
            }
        }
        return rootBytes(roots)
    }

    /// The dotted module of the absolute path of a `.py` file: the part below the first
    /// (longest) root that holds it, else the file name; and whether it is a package's
    /// `__init__.py`. On bytes: one string per file.
    public static func pythonModule(_ abs: String, roots: [[UInt8]]) -> (String, Bool) {
        var path = abs
        return path.withUTF8 { p -> (String, Bool) in
            var start = -1
            for root in roots where root.count < p.count {
                if memcmp(p.baseAddress!, root, root.count) == 0 { start = root.count; break }
            }
            if start < 0 {
                // Not under a root: the file name alone.
                start = 0
                for k in 0..<p.count where p[k] == UInt8(ascii: "/") { start = k + 1 }
            }
            var end = p.count - 3  // drop ".py"
            let initName: StaticString = "__init__"
            let n = 8
            var isInit = end - start >= n && (start == end - n || p[end - n - 1] == UInt8(ascii: "/"))
                && memcmp(p.baseAddress! + end - n, initName.utf8Start, n) == 0
            if isInit {
                if end - n == start { return ("__init__", false) }
                end -= n + 1  // the package folder
            } else {
                isInit = false
            }
            let name = String(unsafeUninitializedCapacity: max(end - start, 0)) { out in
                for k in start..<end { out[k - start] = p[k] == UInt8(ascii: "/") ? UInt8(ascii: ".") : p[k] }
                return end - start
            }
            return (name, isInit)
        }
    }

    /// A Swift file's target: the folder under the last `Sources/` or `Tests/`.
    public static func swiftModule(_ abs: String) -> String {
        let parts = abs.split(separator: "/").map(String.init)
        if let i = parts.lastIndex(where: { $0 == "Sources" || $0 == "Tests" }), i + 1 < parts.count - 1 {
            return parts[i + 1]
        }
        return parts.count >= 2 ? parts[parts.count - 2] : "main"
    }

    /// The root a Python file was named below: its absolute path minus the module's path.
    public static func root(ofAbsolutePath abs: String, module: String, isPackage: Bool) -> String? {
        var relative = module.split(separator: ".").joined(separator: "/")
        relative += isPackage ? "/__init__.py" : ".py"
        guard abs.hasSuffix("/" + relative) else { return nil }
        return String(abs.dropLast(relative.count + 1))
    }

    /// The dotted names code may put before a module to reach it through the folders
    /// above its root (`src` for `src.ember.core`, seen from the folder above `src`): the
    /// folders between the root and the highest of `anchors` (given paths, the working
    /// directory, the project root) that holds it, innermost first, stopping at a folder
    /// whose name is not an identifier.
    public static func aliasPrefixes(root: String, anchors: [String]) -> [String] {
        let parts = root.split(separator: "/")
        var depth: Int?
        for anchor in anchors {
            let a = anchor.split(separator: "/")
            if a.count < parts.count && Array(parts.prefix(a.count)) == a { depth = min(depth ?? a.count, a.count) }
        }
        guard let depth else { return [] }
        var out: [String] = []
        var prefix: [Substring] = []
        var k = parts.count
        while k > depth, ProjectPath.isIdentifier(parts[k - 1]) {
            prefix.insert(parts[k - 1], at: 0)
            out.append(prefix.joined(separator: "."))
            k -= 1
        }
        return out
    }
}

/// Relative imports, resolved as Python does.
public enum RelativeImport {
    /// The absolute package a relative import of `level` dots starts from in `module`
    /// (`isPackage`: the module is a package's `__init__.py`), or nil when it climbs above
    /// the top-level package.
    public static func base(of module: String, isPackage: Bool, level: Int) -> String? {
        // Drop the module's last name (a module, not a package, is inside its parent),
        // then `level - 1` more, on the bytes: each drop cuts at the last dot left.
        let utf8 = module.utf8
        guard !utf8.isEmpty else { return nil }
        var end = utf8.endIndex
        var drops = (isPackage ? 0 : 1) + level - 1
        while drops > 0 {
            guard let dot = utf8[utf8.startIndex..<end].lastIndex(of: UInt8(ascii: ".")) else {
                // Dropping the last remaining name leaves nothing: above the top package.
                return nil
            }
            end = dot
            drops -= 1
        }
        return end == utf8.endIndex ? module : String(module[..<end])
    }

    /// The absolute module of `from <dots><name> import ...` in `importer`: nil when it
    /// climbs above the top-level package.
    public static func resolve(_ name: String?, level: Int, importer: String, importerIsPackage: Bool) -> String? {
        guard level > 0 else { return name ?? "" }
        guard let package = base(of: importer, isPackage: importerIsPackage, level: level) else { return nil }
        guard let name, !name.isEmpty else { return package }
        return package + "." + name
    }
}
