import EmberProject
import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Line and column of the few offsets a file's findings can point at, computed once while
/// the file's line table exists (so the table can be freed, and the facts cached).
struct PositionMap: Sendable {
    private var offsets: [Int] = []
    private var lines: [Int32] = []
    private var columns: [Int32] = []

    init() {}

    init(offsets wanted: [Int], lines fileLines: FileLines) {
        var sorted = wanted.sorted()
        var unique = 0
        for o in sorted where unique == 0 || sorted[unique - 1] != o {
            sorted[unique] = o
            unique += 1
        }
        sorted.removeLast(sorted.count - unique)
        offsets = sorted
        lines.reserveCapacity(sorted.count)
        columns.reserveCapacity(sorted.count)
        for (l, c) in fileLines.locations(ofAscending: sorted) {
            lines.append(Int32(l))
            columns.append(Int32(c))
        }
    }

    /// 1-based line and 0-based byte column; (1, 0) for an offset never registered.
    func location(of offset: Int) -> (line: Int, column: Int) {
        var lo = 0, hi = offsets.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if offsets[mid] < offset { lo = mid + 1 } else { hi = mid }
        }
        guard lo < offsets.count, offsets[lo] == offset else { return (1, 0) }
        return (Int(lines[lo]), Int(columns[lo]))
    }

    func write(_ w: inout BinaryWriter) {
        w.int(offsets.count)
        for i in offsets.indices { w.int(offsets[i]); w.int(Int(lines[i])); w.int(Int(columns[i])) }
    }

    static func read(_ r: inout BinaryReader) throws -> PositionMap {
        var m = PositionMap()
        let n = try r.count()
        for _ in 0..<n {
            m.offsets.append(try r.int())
            m.lines.append(Int32(truncatingIfNeeded: try r.int()))
            m.columns.append(Int32(truncatingIfNeeded: try r.int()))
        }
        return m
    }
}

/// What identifies a file's content without reading it.
/// Per-file analysis results kept between runs in `.ember-lint-cache/`, keyed by path and
/// stamp (size, modification time, inode). The facts do not depend on the rules, so a
/// rules change needs no invalidation; a new ember-lint version starts afresh.
/// A damaged or foreign cache file is ignored, and the cache is replaced atomically.
struct AnalysisCache: Sendable {
    static let formatVersion = "ember-lint-cache 4 " + Renderer.toolVersion
    let directory: String
    var entries: [String: (FileStamp, FileAnalysis)] = [:]

    var file: String { directory + "/analysis.bin" }

    static func load(directory: String) -> AnalysisCache {
        var cache = AnalysisCache(directory: directory)
        guard let data = SourceFileReader.contents(cache.file) else { return cache }
        var r = BinaryReader(bytes: data)
        do {
            guard try r.string() == formatVersion else { return cache }
            let n = try r.count()
            for _ in 0..<n {
                let path = try r.string()
                let stamp = FileStamp(size: Int64(try r.int()), mtimeSeconds: Int64(try r.int()),
                                      mtimeNanoseconds: Int64(try r.int()), inode: UInt64(try r.int()))
                let analysis = try FileAnalysis.read(&r, path: path)
                cache.entries[path] = (stamp, analysis)
            }
        } catch {
            return AnalysisCache(directory: directory)
        }
        return cache
    }

    /// Writes `records` (path, stamp, facts) as the whole cache, replacing the file
    /// atomically. Records are encoded in `jobs` chunks in parallel.
    func save(_ records: [(String, FileStamp, FileAnalysis)], jobs: Int) {
        let chunks = max(1, min(jobs, records.count / 64))
        let parts = ResultSlots<[UInt8]>(count: chunks)
        let encode: @Sendable (Int) -> Void = { c in
            var w = BinaryWriter()
            let lower = records.count * c / chunks, upper = records.count * (c + 1) / chunks
            w.bytes.reserveCapacity((upper - lower) * 256)
            for (path, stamp, analysis) in records[lower..<upper] {
                w.string(path)
                w.int(Int(stamp.size)); w.int(Int(stamp.mtimeSeconds)); w.int(Int(stamp.mtimeNanoseconds)); w.int(Int(truncatingIfNeeded: stamp.inode))
                analysis.write(&w)
            }
            parts.set(c, w.bytes)
        }
        if chunks == 1 { encode(0) } else { DispatchQueue.concurrentPerform(iterations: chunks, execute: encode) }
        var w = BinaryWriter()
        w.string(AnalysisCache.formatVersion)
        w.int(records.count)
        for c in 0..<chunks { w.bytes.append(contentsOf: parts.get(c) ?? []) }
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let ignore = directory + "/.gitignore"
            if !fm.fileExists(atPath: ignore) { try "# Created by ember-lint.\n*\n".write(toFile: ignore, atomically: true, encoding: .utf8) }
            AnalysisCache.replace(file, with: w.bytes)
        } catch {
            // A cache that cannot be written only costs speed next time.
        }
    }
}

extension AnalysisCache {
    /// Writes a temporary file next to `path` and renames it over `path`: readers see the
    /// old or the new cache, never half of one. No fsync: a cache lost to a power cut is
    /// rebuilt, and a damaged one is ignored on load.
    static func replace(_ path: String, with bytes: [UInt8]) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        var written = 0
        let ok = bytes.withUnsafeBytes { raw -> Bool in
            while written < raw.count {
                let n = write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 { if errno == EINTR { continue }; return false }
                written += n
            }
            return true
        }
        close(fd)
        if !ok || rename(temporary, path) != 0 { unlink(temporary) }
    }
}

// MARK: - Binary encoding of the facts

struct BinaryWriter {
    var bytes: [UInt8] = []

    mutating func int(_ value: Int) {
        // Zigzag varint.
        var v = UInt64(bitPattern: Int64((value << 1) ^ (value >> 63)))
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
    mutating func bool(_ b: Bool) { bytes.append(b ? 1 : 0) }
    mutating func string(_ s: String) {
        int(s.utf8.count)
        bytes.append(contentsOf: s.utf8)
    }
    mutating func strings(_ list: [String]) { int(list.count); for s in list { string(s) } }
}

struct CacheFormatError: Error {}

struct BinaryReader {
    let bytes: [UInt8]
    var i = 0

    mutating func int() throws -> Int {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard i < bytes.count, shift < 64 else { throw CacheFormatError() }
            let b = bytes[i]; i += 1
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 { break }
            shift += 7
        }
        let n = Int64(bitPattern: v)
        return Int((n >> 1) ^ -(n & 1))
    }
    mutating func count() throws -> Int {
        let n = try int()
        guard n >= 0, n <= bytes.count - i + 1 else { throw CacheFormatError() }
        return n
    }
    mutating func bool() throws -> Bool {
        guard i < bytes.count else { throw CacheFormatError() }
        i += 1
        return bytes[i - 1] != 0
    }
    mutating func string() throws -> String {
        let n = try count()
        guard i + n <= bytes.count else { throw CacheFormatError() }
        defer { i += n }
        let start = i
        return bytes.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[start..<(start + n)]), as: UTF8.self) }
    }
    mutating func strings() throws -> [String] {
        let n = try count()
        var out: [String] = []
        for _ in 0..<n { out.append(try string()) }
        return out
    }
}

extension Suppression {
    func write(_ w: inout BinaryWriter) {
        w.strings(codes); w.string(reason); w.int(offset); w.int(end); w.int(line); w.int(column); w.int(targetLine)
    }
    static func read(_ r: inout BinaryReader) throws -> Suppression {
        Suppression(codes: try r.strings(), reason: try r.string(), offset: try r.int(), end: try r.int(),
                    line: try r.int(), column: try r.int(), targetLine: try r.int())
    }
}

extension FileAnalysis {
    func write(_ w: inout BinaryWriter) {
        w.bool(file.language == .python)
        w.bool(initLogicChecked)
        positions.write(&w)
        if let failure {
            w.bool(true); w.string(failure.message); w.int(failure.offset)
        } else {
            w.bool(false)
        }
        if let py = python {
            w.bool(true)
            w.string(py.encoding)
            w.int(py.imports.count)
            for s in py.imports {
                w.int(s.level); w.string(s.module); w.int(s.offset); w.int(s.end); w.bool(s.typeChecking); w.bool(s.dynamic)
                if let names = s.names {
                    w.bool(true); w.int(names.count)
                    for n in names { w.string(n.name); w.int(n.offset); w.int(n.end) }
                } else {
                    w.bool(false)
                }
            }
            w.int(py.computedDynamicImports.count)
            for d in py.computedDynamicImports { w.int(d.offset); w.int(d.end) }
            w.int(py.initLogic.count)
            for l in py.initLogic { w.int(l.offset); w.int(l.end); w.string(l.what) }
            w.int(py.suppressions.count)
            for s in py.suppressions { s.write(&w) }
            w.int(py.syntaxErrors.count)
            for e in py.syntaxErrors { w.int(e.offset); w.string(e.message) }
            w.int(py.versionErrors.count)
            for e in py.versionErrors { w.int(e.offset); w.string(e.message) }
        } else {
            w.bool(false)
        }
        if let sw = swift {
            w.bool(true)
            w.int(sw.imports.count)
            for i in sw.imports { w.string(i.module); w.int(i.offset); w.int(i.end); w.strings(i.attributes); w.bool(i.conditional) }
            w.int(sw.suppressions.count)
            for s in sw.suppressions { s.write(&w) }
            w.int(sw.problems.count)
            for p in sw.problems { w.int(p.offset); w.string(p.message) }
        } else {
            w.bool(false)
        }
    }

    static func read(_ r: inout BinaryReader, path: String) throws -> FileAnalysis {
        var a = FileAnalysis(file: ProjectFile(path: path, language: try r.bool() ? .python : .swift))
        a.initLogicChecked = try r.bool()
        a.positions = try PositionMap.read(&r)
        if try r.bool() { a.failure = (try r.string(), try r.int()) }
        if try r.bool() {
            var py = PythonFileFacts()
            py.encoding = try r.string()
            for _ in 0..<(try r.count()) {
                var s = PythonImportStatement(level: try r.int(), module: try r.string(), offset: try r.int(), end: try r.int(), names: nil)
                s.typeChecking = try r.bool()
                s.dynamic = try r.bool()
                if try r.bool() {
                    var names: [ImportedName] = []
                    for _ in 0..<(try r.count()) { names.append(ImportedName(name: try r.string(), offset: try r.int(), end: try r.int())) }
                    s.names = names
                }
                py.imports.append(s)
            }
            for _ in 0..<(try r.count()) { py.computedDynamicImports.append((try r.int(), try r.int())) }
            for _ in 0..<(try r.count()) { py.initLogic.append((try r.int(), try r.int(), try r.string())) }
            for _ in 0..<(try r.count()) { py.suppressions.append(try Suppression.read(&r)) }
            for _ in 0..<(try r.count()) { py.syntaxErrors.append((try r.int(), try r.string())) }
            for _ in 0..<(try r.count()) { py.versionErrors.append((try r.int(), try r.string())) }
            a.python = py
        }
        if try r.bool() {
            var sw = SwiftScan()
            for _ in 0..<(try r.count()) {
                sw.imports.append(SwiftImport(module: try r.string(), offset: try r.int(), end: try r.int(),
                                              attributes: try r.strings(), conditional: try r.bool()))
            }
            for _ in 0..<(try r.count()) { sw.suppressions.append(try Suppression.read(&r)) }
            for _ in 0..<(try r.count()) { sw.problems.append((try r.int(), try r.string())) }
            a.swift = sw
        }
        return a
    }
}
