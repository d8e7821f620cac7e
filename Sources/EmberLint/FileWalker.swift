#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A source file found under the given paths.
public struct FoundFile: Sendable, Hashable {
    /// The path as shown in reports (as reached from the given path).
    public var path: String
    public var language: SourceLanguage
    /// Size, modification time and inode seen while walking (saves a second stat).
    var stamp: FileStamp? = nil
}

public enum SourceLanguage: String, Codable, Sendable {
    case python, swift
}

/// A path that could not be walked or is not a source file it claims to be.
public struct WalkProblem: Error, Sendable, Hashable {
    public var path: String
    public var reason: String
}

#if os(Linux)
/// glibc's getdents64 (2.30+): a folder's entries in one system call, without the DIR
/// buffer and fcntl calls of opendir/readdir.
@_silgen_name("getdents64") private func getdents64(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int
#endif

/// Walks the given paths for `.py` and `.swift` files (system calls only, no Foundation),
/// skipping hidden folders, `__pycache__` and build folders; reports symlink loops,
/// unreadable folders and folders named like source files, and goes on.
public enum FileWalker {
    static let skippedFolders: Set<String> = ["__pycache__", "node_modules", ".build", "build", "site-packages"]
    /// Deeper folders are reported and skipped (a bind mount can loop without symlinks).
    static let maximumDepth = 256

    /// Files and problems in no particular order (callers sort). `found` receives each
    /// folder's source files as soon as the folder is read (on the calling thread), so
    /// that work on them can start while the walk goes on.
    public static func walk(_ paths: [String], found: ([FoundFile]) -> Void = { _ in }) -> (files: [FoundFile], problems: [WalkProblem]) {
        withoutActuallyEscaping(found) { found in walk(paths, into: Walker(found: found)) }
    }

    private static func walk(_ paths: [String], into start: Walker) -> (files: [FoundFile], problems: [WalkProblem]) {
        var walker = start
        defer { walker.buffer.deallocate() }
        for path in paths {
            var st = stat()
            if stat(path, &st) != 0 {
                let reason = errno == ELOOP ? "symlink loop" : String(cString: strerror(errno))
                walker.problems.append(WalkProblem(path: path, reason: reason))
                continue
            }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                if let lang = language(of: path) {
                    walker.problems.append(WalkProblem(path: path, reason: "is a directory, not a \(lang == .python ? "Python" : "Swift") file"))
                    continue
                }
                let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                if fd < 0 {
                    walker.problems.append(WalkProblem(path: path, reason: "cannot open folder: \(String(cString: strerror(errno)))"))
                    continue
                }
                var ancestors = [Ancestor(path: path, identity: FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)))]
                walker.walkFolder(path, fd: fd, ancestors: &ancestors)
            } else if let lang = language(of: path) {
                if (st.st_mode & S_IFMT) == S_IFREG {
                    walker.emit([FoundFile(path: path, language: lang)])
                } else {
                    walker.problems.append(WalkProblem(path: path, reason: "not a regular file (a FIFO, socket or device); skipped"))
                }
            } else {
                walker.problems.append(WalkProblem(path: path, reason: "not a .py or .swift file"))
            }
        }
        return (walker.files, walker.problems)
    }

    struct FileIdentity: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    /// A folder on the way down from a given path; its identity is looked up only when a
    /// symlinked folder below needs comparing (symlinks are the only way back up, apart
    /// from bind mounts, which the depth limit stops).
    struct Ancestor {
        var path: String
        var identity: FileIdentity?
    }

    /// Whether the C string of `length` bytes ends in `.py` or `.swift`.
    @inline(__always) static func hasSourceSuffix(_ p: UnsafePointer<UInt8>, _ length: Int) -> Bool {
        if length >= 3 && p[length - 3] == 0x2E && p[length - 2] == 0x70 && p[length - 1] == 0x79 { return true }
        guard length >= 6, p[length - 6] == 0x2E else { return false }
        return p[length - 5] == 0x73 && p[length - 4] == 0x77 && p[length - 3] == 0x69 && p[length - 2] == 0x66 && p[length - 1] == 0x74
    }

    static func language(of name: String) -> SourceLanguage? {
        if name.hasSuffix(".py") { return .python }
        if name.hasSuffix(".swift") { return .swift }
        return nil
    }

    static func join(_ dir: String, _ name: String) -> String {
        if dir == "." { return name }
        return dir.hasSuffix("/") ? dir + name : dir + "/" + name
    }

    private struct Walker {
        let found: ([FoundFile]) -> Void
        var files: [FoundFile] = []
        var problems: [WalkProblem] = []
        /// getdents64's buffer, reused for every folder.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 32 * 1024, alignment: 8)

        init(found: @escaping ([FoundFile]) -> Void) { self.found = found }

        mutating func emit(_ batch: [FoundFile]) {
            guard !batch.isEmpty else { return }
            files.append(contentsOf: batch)
            found(batch)
        }

        /// The folder's entries as (name, type); nil when it cannot be read.
        func entries(of fd: Int32) -> [(String, UInt8)]? {
            var out: [(String, UInt8)] = []
#if os(Linux)
            while true {
                let n = getdents64(fd, buffer.baseAddress!, buffer.count)
                if n < 0 { if errno == EINTR { continue }; return nil }
                if n == 0 { return out }
                var k = 0
                while k < n {
                    let record = buffer.baseAddress! + k
                    let length = Int(record.loadUnaligned(fromByteOffset: 16, as: UInt16.self))
                    let type = record.load(fromByteOffset: 18, as: UInt8.self)
                    let name = (record + 19).assumingMemoryBound(to: UInt8.self)
                    k += length
                    // Regular files that are not sources (most of a tree's other files) are
                    // passed over on their bytes, without making a string.
                    let count = strlen(UnsafeRawPointer(name).assumingMemoryBound(to: CChar.self))
                    if type == UInt8(DT_REG) && !FileWalker.hasSourceSuffix(name, count) { continue }
                    if name[0] == 0x2E && (count == 1 || (count == 2 && name[1] == 0x2E)) { continue }  // . and ..
                    out.append((String(decoding: UnsafeBufferPointer(start: name, count: count), as: UTF8.self), type))
                }
            }
#else
            guard let handle = fdopendir(dup(fd)) else { return nil }
            defer { closedir(handle) }
            while let entry = readdir(handle) {
                let name = withUnsafePointer(to: entry.pointee.d_name) { ptr in
                    ptr.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                }
                if name == "." || name == ".." { continue }
                out.append((name, entry.pointee.d_type))
            }
            return out
#endif
        }

        /// Reads one open folder (takes ownership of `fd`) and the folders below it, depth
        /// first. Entries are looked up relative to the folder's descriptor, which spares
        /// the kernel a full path lookup per entry.
        mutating func walkFolder(_ dir: String, fd: Int32, ancestors: inout [Ancestor]) {
            defer { close(fd) }
            guard ancestors.count <= FileWalker.maximumDepth else {
                problems.append(WalkProblem(path: dir, reason: "folders nested deeper than \(FileWalker.maximumDepth) levels (a loop?); skipped"))
                return
            }
            guard let entries = entries(of: fd) else {
                problems.append(WalkProblem(path: dir, reason: "cannot open folder: \(String(cString: strerror(errno)))"))
                return
            }
            var batch: [FoundFile] = []
            var subfolders: [String] = []
            for (name, type) in entries {
                let path = join(dir, name)
                var kind = type
                let lang = language(of: name)
                if kind == UInt8(DT_DIR) && (name.hasPrefix(".") || skippedFolders.contains(name)) { continue }
                if kind == UInt8(DT_LNK) || kind == UInt8(DT_UNKNOWN) {
                    var target = stat()
                    if fstatat(fd, name, &target, 0) != 0 {
                        if errno == ELOOP { problems.append(WalkProblem(path: path, reason: "symlink loop")) }
                        else if errno == ENOENT, lang != nil { problems.append(WalkProblem(path: path, reason: "dangling symlink: its target does not exist")) }
                        else if lang != nil { problems.append(WalkProblem(path: path, reason: "cannot read: \(String(cString: strerror(errno)))")) }
                        continue
                    }
                    let mode = target.st_mode & S_IFMT
                    kind = mode == S_IFDIR ? UInt8(DT_DIR) : (mode == S_IFREG ? UInt8(DT_REG) : UInt8(DT_FIFO))
                    if kind == UInt8(DT_DIR) && (name.hasPrefix(".") || skippedFolders.contains(name)) { continue }
                    if kind == UInt8(DT_DIR) && type == UInt8(DT_LNK) {
                        // A symlink back to a folder already being walked would recurse forever.
                        let identity = FileIdentity(device: UInt64(target.st_dev), inode: UInt64(target.st_ino))
                        if isAncestor(identity, &ancestors) {
                            problems.append(WalkProblem(path: path, reason: "symlink loop (this folder is already being walked)"))
                            continue
                        }
                    }
                }
                if kind == UInt8(DT_DIR) {
                    if let lang {
                        problems.append(WalkProblem(path: path, reason: "is a directory, not a \(lang == .python ? "Python" : "Swift") file; skipped"))
                        continue
                    }
                    subfolders.append(name)
                } else if let lang {
                    // Reading a FIFO would block forever; sockets and devices are not sources.
                    guard kind == UInt8(DT_REG) else {
                        problems.append(WalkProblem(path: path, reason: "not a regular file (a FIFO, socket or device); skipped"))
                        continue
                    }
                    // No stat here: the analysis learns each file's stamp from the fstat of
                    // the descriptor it reads (or stats the path when a cache entry needs
                    // checking).
                    batch.append(FoundFile(path: path, language: lang))
                }
            }
            emit(batch)
            for name in subfolders {
                let path = join(dir, name)
                let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                if child < 0 {
                    problems.append(WalkProblem(path: path, reason: errno == ELOOP ? "symlink loop" : "cannot open folder: \(String(cString: strerror(errno)))"))
                    continue
                }
                ancestors.append(Ancestor(path: path, identity: nil))
                walkFolder(path, fd: child, ancestors: &ancestors)
                ancestors.removeLast()
            }
        }

        /// Whether a folder with `identity` is one of `ancestors` (their identities are
        /// looked up now, once, when a symlinked folder first needs them).
        func isAncestor(_ identity: FileIdentity, _ ancestors: inout [Ancestor]) -> Bool {
            for i in ancestors.indices {
                if ancestors[i].identity == nil {
                    var st = stat()
                    if stat(ancestors[i].path, &st) == 0 {
                        ancestors[i].identity = FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
                    }
                }
                if ancestors[i].identity == identity { return true }
            }
            return false
        }
    }
}

/// Reads a whole file; the error names the reason in the system's words.
enum FileReader {
    /// A file's bytes, or nil when it cannot be read (missing, a folder, no permission).
    /// Plain system calls: FoundationEssentials' FileManager costs about a millisecond to
    /// set up, a tenth of a small tree's run.
    static func contents(_ path: String) -> [UInt8]? {
        if case .success(let read) = read(withStamp: path) { return read.bytes }
        return nil
    }

    /// The bytes and the stamp (size, modification time, inode) of what was read.
    static func read(withStamp path: String) -> Result<(bytes: [UInt8], stamp: FileStamp?), WalkProblem> {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            return .failure(WalkProblem(path: path, reason: errno == ELOOP ? "symlink loop" : "cannot read: \(String(cString: strerror(errno)))"))
        }
        defer { close(fd) }
        var st = stat()
        let statted = fstat(fd, &st) == 0
        if statted, (st.st_mode & S_IFMT) == S_IFDIR {
            return .failure(WalkProblem(path: path, reason: "is a directory, not a source file"))
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
            return .failure(WalkProblem(path: path, reason: "cannot read: \(String(cString: strerror(failure)))"))
        }
        return .success((bytes, stamp))
    }
}
