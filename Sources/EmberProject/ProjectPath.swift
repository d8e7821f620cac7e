#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Path text and the few file-system questions the project model asks, on `/`-separated
/// paths, with plain system calls (FoundationEssentials' FileManager costs about a
/// millisecond to set up, a tenth of a small tree's lint run).
public enum ProjectPath {
    public static func join(_ a: String, _ b: String) -> String {
        if a.isEmpty || a == "." { return b }
        return a.hasSuffix("/") ? a + b : a + "/" + b
    }

    /// The folder part: "a/b/c" -> "a/b", "/a" -> "/", "a" -> "" (as NSString's
    /// deletingLastPathComponent).
    public static func parent(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return "" }
        if slash == p.startIndex { return "/" }
        var head = p[..<slash]
        while head.count > 1 && head.hasSuffix("/") { head = head.dropLast() }
        return String(head)
    }

    /// The last component ("a/b.py" -> "b.py").
    public static func lastComponent(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        if let slash = p.lastIndex(of: "/") { return String(p[p.index(after: slash)...]) }
        return String(p)
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    public static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        return getcwd(&buffer, buffer.count).map { String(cString: $0) } ?? "."
    }

    /// True when the path has a `.`/`..` segment or an empty one (bytes, no search).
    public static func needsNormalising(_ path: String) -> Bool {
        var previous: UInt8 = 0
        for b in path.utf8 {
            if previous == UInt8(ascii: "/") && (b == UInt8(ascii: ".") || b == UInt8(ascii: "/")) { return true }
            previous = b
        }
        return false
    }

    /// Absolute path with `.` and `..` segments removed (symlinks are kept as written).
    public static func absolute(_ path: String, cwd: String = currentDirectory()) -> String {
        let full = path.hasPrefix("/") ? path : (cwd.hasSuffix("/") ? cwd + path : cwd + "/" + path)
        if !needsNormalising(full) { return full }
        var out: [Substring] = []
        for part in full.split(separator: "/") {
            if part == "." || part.isEmpty { continue }
            if part == ".." { if !out.isEmpty { out.removeLast() }; continue }
            out.append(part)
        }
        return "/" + out.joined(separator: "/")
    }

    /// `path` relative to `base` when it lies below it (both absolute), else nil.
    public static func relative(_ path: String, to base: String) -> String? {
        if path == base { return "" }
        let prefix = base.hasSuffix("/") ? base : base + "/"
        guard path.hasPrefix(prefix) else { return nil }
        return String(path.utf8.dropFirst(prefix.utf8.count))!
    }

    /// `path` relative to `base` (both absolute), with `..` where it lies outside; "."
    /// for `base` itself. Compared by components, so repeated and trailing `/` do not count.
    public static func relative(_ path: String, from base: String) -> String {
        let target = path.split(separator: "/")
        let root = base.split(separator: "/")
        var common = 0
        while common < target.count && common < root.count && target[common] == root[common] { common += 1 }
        let parts = [Substring](repeating: "..", count: root.count - common) + target[common...]
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }

    /// A path for messages: below the working directory when it is, else as given.
    public static func display(_ path: String) -> String {
        relative(path, to: currentDirectory()).map { $0.isEmpty ? "." : $0 } ?? path
    }

    /// Whether the bytes are a Python identifier as module names use them (ASCII letters,
    /// digits, `_`, not starting with a digit; any non-ASCII byte is allowed).
    public static func isIdentifier<S: StringProtocol>(_ s: S) -> Bool {
        guard let first = s.utf8.first, !(first >= 0x30 && first <= 0x39) else { return false }
        return s.utf8.allSatisfy { $0 == 0x5F || ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 >= 0x80 }
    }
}

/// Size, modification time and inode of a file as read: the identity of its content for caches.
public struct FileStamp: Hashable, Sendable {
    public var size: Int64
    public var mtimeSeconds: Int64
    public var mtimeNanoseconds: Int64
    public var inode: UInt64

    public init(size: Int64, mtimeSeconds: Int64, mtimeNanoseconds: Int64, inode: UInt64) {
        self.size = size
        self.mtimeSeconds = mtimeSeconds
        self.mtimeNanoseconds = mtimeNanoseconds
        self.inode = inode
    }

    public static func of(_ path: String) -> FileStamp? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return FileStamp(size: Int64(st.st_size), mtimeSeconds: Int64(st.st_mtim.tv_sec),
                         mtimeNanoseconds: Int64(st.st_mtim.tv_nsec), inode: UInt64(st.st_ino))
    }
}

/// Reads whole files; errors name the reason in the system's words.
public enum SourceFileReader {
    /// A file's bytes, or nil when it cannot be read (missing, a folder, no permission).
    public static func contents(_ path: String) -> [UInt8]? {
        if case .success(let read) = read(withStamp: path) { return read.bytes }
        return nil
    }

    /// The bytes and the stamp (size, modification time, inode) of what was read: open,
    /// fstat, one read straight into the result, close.
    public static func read(withStamp path: String) -> Result<(bytes: [UInt8], stamp: FileStamp?), DiscoveryProblem> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            return .failure(DiscoveryProblem(path: path, reason: errno == ELOOP ? "symlink loop" : "cannot read: \(String(cString: strerror(errno)))"))
        }
        defer { close(fd) }
        var st = stat()
        let statted = fstat(fd, &st) == 0
        if statted, (st.st_mode & S_IFMT) == S_IFDIR {
            return .failure(DiscoveryProblem(path: path, reason: "is a directory, not a source file"))
        }
        let stamp = statted ? FileStamp(size: Int64(st.st_size), mtimeSeconds: Int64(st.st_mtim.tv_sec),
                                        mtimeNanoseconds: Int64(st.st_mtim.tv_nsec), inode: UInt64(st.st_ino)) : nil
        // Read straight into the result (no zero-fill, no second copy); a file that grew
        // since fstat is read on in chunks.
        let capacity = max(Int(st.st_size), 0) + 1
        var count = 0
        var failure: Int32 = 0
        var bytes = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            while count < buffer.count {
                let n = Glibc.read(fd, buffer.baseAddress! + count, buffer.count - count)
                if n < 0 { if errno == EINTR { continue }; failure = errno; break }
                if n == 0 { break }
                count += n
                // All the bytes fstat promised, in a short read: the end of the file (saves
                // a second read per file that would return 0).
                if statted && count == capacity - 1 { break }
            }
            initialized = count
        }
        if failure == 0 && count == capacity {
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if n < 0 { if errno == EINTR { continue }; failure = errno; break }
                if n == 0 { break }
                bytes.append(contentsOf: chunk[0..<n])
            }
        }
        if failure != 0 {
            return .failure(DiscoveryProblem(path: path, reason: "cannot read: \(String(cString: strerror(failure)))"))
        }
        return .success((bytes, stamp))
    }
}
