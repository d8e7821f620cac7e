import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finding, reading and atomically writing the files of a run.
public enum MigrationFiles {
    /// `.py` files under `paths` (files given directly are taken as they are), sorted;
    /// hidden folders and `__pycache__` are skipped. Throws for a path that does not exist.
    public static func collect(_ paths: [String]) throws(InputError) -> [String] {
        try collectWithLeftovers(paths).files
    }

    /// `.NAME.ember-migrate-XXXXXX`: the temporary file of a `--write` that was interrupted
    /// before its rename.
    public static func isLeftoverTemporary(_ name: String) -> Bool {
        let marker = ".ember-migrate-"
        guard name.hasPrefix("."), let range = name.range(of: marker, options: .backwards) else { return false }
        let suffix = name[range.upperBound...]
        return suffix.count == 6 && suffix.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } && name.distance(from: name.startIndex, to: range.lowerBound) > 1
    }

    /// The `.py` files under `paths` and the leftover temporary files of interrupted writes.
    public static func collectWithLeftovers(_ paths: [String], exclude: [String] = [], base: String? = nil) throws(InputError) -> (files: [String], leftovers: [String]) {
        var leftovers: [String] = []
        // Patterns without a '/' match one component: the entry's name (its folders were
        // checked on the way down). The others match the path below the configuration's
        // folder (or the given folder).
        let componentPatterns = exclude.filter { !$0.contains("/") }.map { Array($0.utf8)[...] }
        let pathPatterns = exclude.filter { $0.contains("/") }
        let baseFolder = base.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        func excluded(_ path: String, name: String, root: String, rootFromBase: String) -> Bool {
            let nameBytes = Array(name.utf8)[...]
            if componentPatterns.contains(where: { globMatch(nameBytes, $0) }) { return true }
            guard !pathPatterns.isEmpty else { return false }
            var relative = String(path.dropFirst(root.count))
            while relative.hasPrefix("/") { relative.removeFirst() }
            if !rootFromBase.isEmpty { relative = rootFromBase + "/" + relative }
            return pathPatterns.contains { pathMatches(relative, pattern: $0) }
        }
        var out: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw InputError("\(path): no such file or directory")
            }
            if !isDirectory.boolValue { out.append(path); continue }
            var found: [String] = []
            var rootFromBase = ""
            let absoluteRoot = URL(fileURLWithPath: path).standardizedFileURL.path
            if let b = baseFolder, absoluteRoot.hasPrefix(b + "/") { rootFromBase = String(absoluteRoot.dropFirst(b.count + 1)) }
            walk(path, into: &found, leftovers: &leftovers, skip: { excluded($0, name: $1, root: path, rootFromBase: rootFromBase) })
            out += found.sorted()
        }
        var seen: Set<String> = []
        return (out.filter { seen.insert($0).inserted }, leftovers.sorted())
    }

    private static func walk(_ folder: String, into out: inout [String], leftovers: inout [String], skip: (String, String) -> Bool = { _, _ in false }) {
        // opendir/readdir with d_type: FileManager's listing and a stat per entry cost
        // more than the rest of a run over a large tree.
        guard let dir = opendir(folder) else { return }
        var subfolders: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            if isLeftoverTemporary(name) {
                leftovers.append(folder.hasSuffix("/") ? folder + name : folder + "/" + name)
                continue
            }
            if name.hasPrefix(".") || name == "__pycache__" { continue }
            let path = folder.hasSuffix("/") ? folder + name : folder + "/" + name
            var type = entry.pointee.d_type
            if type == UInt8(DT_UNKNOWN) {
                var st = stat()
                guard lstat(path, &st) == 0 else { continue }
                let mode = st.st_mode & S_IFMT
                type = mode == S_IFDIR ? UInt8(DT_DIR) : mode == S_IFLNK ? UInt8(DT_LNK) : mode == S_IFREG ? UInt8(DT_REG) : 0
            }
            // A symlinked folder is not followed (a link to a parent would loop).
            if type == UInt8(DT_DIR) {
                if !skip(path, name) { subfolders.append(path) }
            } else if name.hasSuffix(".py") && (type == UInt8(DT_REG) || type == UInt8(DT_LNK)) {
                if type == UInt8(DT_LNK) {
                    var target = stat()
                    guard stat(path, &target) == 0, (target.st_mode & S_IFMT) == S_IFREG else { continue }
                }
                if !skip(path, name) { out.append(path) }
            }
        }
        closedir(dir)
        for sub in subfolders { walk(sub, into: &out, leftovers: &leftovers, skip: skip) }
    }

    /// Reads every file, with its dotted module name from the `__init__.py` layout, and the
    /// folder names above its package root that code may also import it through (a tree
    /// whose code says `src.ember.core` for the package `ember` in `src/`): the folders
    /// between the root and a given folder or the working directory.
    public static func load(_ paths: [String], roots givenRoots: [String] = []) -> [InputFile] {
        var packageCache: [String: Bool] = [:]
        func isPackage(_ folder: String) -> Bool {
            if let v = packageCache[folder] { return v }
            let v = access(folder + "/__init__.py", F_OK) == 0
            packageCache[folder] = v
            return v
        }
        let cwd = FileManager.default.currentDirectoryPath
        func absoluteParts(_ path: String) -> [Substring] {
            // Plain string work: URL normalisation costs more than reading a small file.
            var parts: [Substring] = []
            for part in ((path.hasPrefix("/") ? "" : cwd + "/") + path).split(separator: "/") {
                if part == "." { continue }
                if part == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
                parts.append(part)
            }
            return parts
        }
        let roots = (givenRoots + [cwd]).map { absoluteParts($0) }
        return paths.map { path in
            var parts = absoluteParts(path)
            let fileName = parts.popLast().map(String.init) ?? path
            let stem = String(fileName.dropLast(fileName.hasSuffix(".py") ? 3 : 0))
            let isInit = stem == "__init__"
            var components: [String] = isInit ? [] : [stem]
            while !parts.isEmpty && isPackage("/" + parts.joined(separator: "/")) {
                components.insert(String(parts.removeLast()), at: 0)
            }
            let valid = components.allSatisfy { isIdentifier($0) }
            var file = InputFile(path: path, moduleName: valid ? components.joined(separator: ".") : "", isPackageInit: isInit, diskPath: path)
            // Namespace folders above the package root, up to the highest root that holds it.
            let depth = roots.filter { $0.count < parts.count && Array(parts.prefix($0.count)) == $0 }.map(\.count).min()
            if valid, let depth {
                var prefix: [String] = []
                var k = parts.count
                while k > depth, isIdentifier(parts[k - 1]) {
                    prefix.insert(String(parts[k - 1]), at: 0)
                    file.aliasPrefixes.append(prefix.joined(separator: "."))
                    k -= 1
                }
            }
            return file
        }
    }

    /// The project's other `.py` files: those under the project root (the nearest folder
    /// above the first path holding pyproject.toml, setup.py, setup.cfg or .git) that the run
    /// does not cover. nil when there is no such root.
    public static func projectFilesOutside(run: [String], paths: [String]) -> [String]? {
        guard let first = paths.first else { return nil }
        var folder = URL(fileURLWithPath: first).standardizedFileURL
        if !folder.hasDirectoryPath && !((try? folder.resourceValues(forKeys: [.isDirectoryKey]))?.isDirectory ?? false) { folder.deleteLastPathComponent() }
        var root: URL? = nil
        var candidate = folder
        while true {
            if ["pyproject.toml", "setup.py", "setup.cfg", ".git"].contains(where: { FileManager.default.fileExists(atPath: candidate.appendingPathComponent($0).path) }) {
                root = candidate
                break
            }
            let parent = candidate.deletingLastPathComponent()
            if parent.path == candidate.path { break }
            candidate = parent
        }
        guard let root, let all = try? collect([root.path]) else { return nil }
        let covered = Set(run.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
        return all.filter { !covered.contains(URL(fileURLWithPath: $0).standardizedFileURL.path) }
    }

    public static func read(_ path: String) -> Result<[UInt8], InputError> {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return .failure(InputError("cannot read: \(String(cString: strerror(errno))); check its permissions")) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return .failure(InputError("cannot read: \(String(cString: strerror(errno)))")) }
        var out = [UInt8](repeating: 0, count: Int(st.st_size))
        var got = 0
        while got < out.count {
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + got, $0.count - got) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(InputError("cannot read: \(String(cString: strerror(errno)))"))
            }
            if n == 0 { break }
            got += n
        }
        if got < out.count { out.removeLast(out.count - got) }
        return .success(out)
    }

    /// Replaces `path` with `bytes` atomically: a temporary file in the same folder, written,
    /// given the original's permissions, fsynced, then renamed over the original (and the
    /// folder fsynced), so an interrupted run leaves the old or the new file, never half.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(InputError) {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var template = Array((folder + "/." + url.lastPathComponent + ".ember-migrate-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw InputError("\(path): cannot create a temporary file in \(folder): \(String(cString: strerror(errno)))") }
        let tempPath = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        func fail(_ what: String) -> InputError {
            let message = "\(path): \(what): \(String(cString: strerror(errno))); the original is untouched"
            close(fd)
            unlink(tempPath)
            return InputError(message)
        }
        var st = stat()
        if stat(path, &st) == 0 {
            guard fchmod(fd, st.st_mode & 0o7777) == 0 else { throw fail("cannot set permissions") }
        }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("cannot write")
            }
            written += n
        }
        guard fsync(fd) == 0 else { throw fail("cannot sync") }
        guard close(fd) == 0 else { unlink(tempPath); throw InputError("\(path): cannot close the temporary file; the original is untouched") }
        guard rename(tempPath, path) == 0 else {
            let message = "\(path): cannot replace: \(String(cString: strerror(errno))); the original is untouched"
            unlink(tempPath)
            throw InputError(message)
        }
        let dirFD = open(folder, O_RDONLY)
        if dirFD >= 0 { fsync(dirFD); close(dirFD) }
    }
}
