import Dispatch
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

/// Walks the given paths for `.py` and `.swift` files with readdir (fast, no Foundation),
/// skipping hidden folders, `__pycache__` and build folders; reports symlink loops,
/// unreadable folders and folders named like source files, and goes on.
public enum FileWalker {
    static let skippedFolders: Set<String> = ["__pycache__", "node_modules", ".build", "build", "site-packages"]

    /// Files and problems in no particular order (callers sort). Folders are read level by
    /// level, each level's folders in parallel on `jobs` threads.
    public static func walk(_ paths: [String], jobs: Int = 1) -> (files: [FoundFile], problems: [WalkProblem]) {
        var files: [FoundFile] = []
        var problems: [WalkProblem] = []
        var frontier: [PendingFolder] = []
        for path in paths {
            var st = stat()
            if stat(path, &st) != 0 {
                let reason = errno == ELOOP ? "symlink loop" : String(cString: strerror(errno))
                problems.append(WalkProblem(path: path, reason: reason))
                continue
            }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                if let lang = language(of: path) {
                    problems.append(WalkProblem(path: path, reason: "is a directory, not a \(lang == .python ? "Python" : "Swift") file"))
                    continue
                }
                frontier.append(PendingFolder(path: path, ancestors: []))
            } else if let lang = language(of: path) {
                if (st.st_mode & S_IFMT) == S_IFREG {
                    files.append(FoundFile(path: path, language: lang))
                } else {
                    problems.append(WalkProblem(path: path, reason: "not a regular file (a FIFO, socket or device); skipped"))
                }
            } else {
                problems.append(WalkProblem(path: path, reason: "not a .py or .swift file"))
            }
        }
        while !frontier.isEmpty {
            let level = frontier
            let scans = ResultSlots<FolderScan>(count: level.count)
            if jobs <= 1 || level.count < 4 {
                for i in level.indices { scans.set(i, scanFolder(level[i])) }
            } else {
                let next = AtomicCounter()
                DispatchQueue.concurrentPerform(iterations: min(jobs, level.count)) { _ in
                    while true {
                        let i = next.add(1)
                        guard i < level.count else { return }
                        scans.set(i, scanFolder(level[i]))
                    }
                }
            }
            frontier = []
            for i in level.indices {
                guard let scan = scans.get(i) else { continue }
                files.append(contentsOf: scan.files)
                problems.append(contentsOf: scan.problems)
                frontier.append(contentsOf: scan.folders)
            }
        }
        return (files, problems)
    }

    /// A folder still to read, with the folders above it on the way from a given path (a
    /// symlink back to one of them would loop forever).
    struct PendingFolder: Sendable {
        var path: String
        var ancestors: Set<FileIdentity>
    }

    struct FolderScan: Sendable {
        var files: [FoundFile] = []
        var problems: [WalkProblem] = []
        var folders: [PendingFolder] = []
    }

    static func scanFolder(_ folder: PendingFolder) -> FolderScan {
        var scan = FolderScan()
        let fd = open(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 {
            scan.problems.append(WalkProblem(path: folder.path, reason: errno == ELOOP ? "symlink loop" : "cannot open folder: \(String(cString: strerror(errno)))"))
            return scan
        }
        walkDirectory(folder.path, fd: fd, ancestors: folder.ancestors, into: &scan)
        return scan
    }

    struct FileIdentity: Hashable {
        var device: UInt64
        var inode: UInt64
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

    /// Reads one open folder (takes ownership of `fd`): its source files, and its
    /// subfolders to read next. Entries are looked up relative to the folder's descriptor,
    /// which spares the kernel a full path lookup per entry.
    static func walkDirectory(_ dir: String, fd: Int32, ancestors: Set<FileIdentity>, into scan: inout FolderScan) {
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            scan.problems.append(WalkProblem(path: dir, reason: String(cString: strerror(errno))))
            close(fd)
            return
        }
        let identity = FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
        // A symlink back to a folder already being walked would recurse forever.
        guard !ancestors.contains(identity) else {
            scan.problems.append(WalkProblem(path: dir, reason: "symlink loop (this folder is already being walked)"))
            close(fd)
            return
        }
        var childAncestors = ancestors
        childAncestors.insert(identity)
        guard let handle = fdopendir(fd) else {
            scan.problems.append(WalkProblem(path: dir, reason: "cannot open folder: \(String(cString: strerror(errno)))"))
            close(fd)
            return
        }
        defer { closedir(handle) }
        let dfd = dirfd(handle)
        var entries: [(String, UInt8)] = []
        while let entry = readdir(handle) {
            let type = entry.pointee.d_type
            let name: String? = withUnsafePointer(to: entry.pointee.d_name) { ptr in
                ptr.withMemoryRebound(to: UInt8.self, capacity: 256) { bytes in
                    // Regular files that are not sources (most of a tree's other files) are
                    // passed over on their bytes, without making a string.
                    if type == UInt8(DT_REG) && !FileWalker.hasSourceSuffix(bytes, strlen(UnsafeRawPointer(bytes).assumingMemoryBound(to: CChar.self))) { return nil }
                    return String(cString: bytes)
                }
            }
            guard let name, name != ".", name != ".." else { continue }
            entries.append((name, type))
        }
        for (name, type) in entries {
            let path = join(dir, name)
            var kind = type
            let lang = language(of: name)
            if kind == UInt8(DT_DIR) && (name.hasPrefix(".") || skippedFolders.contains(name)) { continue }
            if kind == UInt8(DT_LNK) || kind == UInt8(DT_UNKNOWN) {
                var target = stat()
                if fstatat(dfd, name, &target, 0) != 0 {
                    if errno == ELOOP { scan.problems.append(WalkProblem(path: path, reason: "symlink loop")) }
                    else if errno == ENOENT, lang != nil { scan.problems.append(WalkProblem(path: path, reason: "dangling symlink: its target does not exist")) }
                    else if lang != nil { scan.problems.append(WalkProblem(path: path, reason: "cannot read: \(String(cString: strerror(errno)))")) }
                    continue
                }
                let mode = target.st_mode & S_IFMT
                kind = mode == S_IFDIR ? UInt8(DT_DIR) : (mode == S_IFREG ? UInt8(DT_REG) : UInt8(DT_FIFO))
                if kind == UInt8(DT_DIR) && (name.hasPrefix(".") || skippedFolders.contains(name)) { continue }
            }
            if kind == UInt8(DT_DIR) {
                if let lang {
                    scan.problems.append(WalkProblem(path: path, reason: "is a directory, not a \(lang == .python ? "Python" : "Swift") file; skipped"))
                    continue
                }
                scan.folders.append(PendingFolder(path: path, ancestors: childAncestors))
            } else if let lang {
                // Reading a FIFO would block forever; sockets and devices are not sources.
                guard kind == UInt8(DT_REG) else {
                    scan.problems.append(WalkProblem(path: path, reason: "not a regular file (a FIFO, socket or device); skipped"))
                    continue
                }
                // No stat here: the analysis learns each file's stamp from the fstat of
                // the descriptor it reads (or stats the path when a cache entry needs
                // checking).
                scan.files.append(FoundFile(path: path, language: lang))
            }
        }
    }
}

/// Reads a whole file; the error names the reason in the system's words.
enum FileReader {
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
