#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// East Asian multi-byte codecs a PEP 263 cookie may name, decoded with the C library's
/// iconv (part of libc, no extra dependency). Keys are normalised cookie names
/// (lower case, '_' -> '-'); values are (CPython's codec name, iconv's name).
enum PythonMultiByteCodecs {
    static let aliases: [String: (python: String, iconv: String)] = [
        "gbk": ("gbk", "GBK"), "cp936": ("gbk", "GBK"), "ms936": ("gbk", "GBK"),
        "gb2312": ("gb2312", "GB2312"), "euc-cn": ("gb2312", "GB2312"),
        "gb18030": ("gb18030", "GB18030"),
        "big5": ("big5", "BIG5"), "big5-tw": ("big5", "BIG5"), "csbig5": ("big5", "BIG5"),
        "big5hkscs": ("big5hkscs", "BIG5-HKSCS"), "big5-hkscs": ("big5hkscs", "BIG5-HKSCS"),
        "cp950": ("cp950", "CP950"), "ms950": ("cp950", "CP950"),
        "shift-jis": ("shift_jis", "SHIFT_JIS"), "sjis": ("shift_jis", "SHIFT_JIS"), "s-jis": ("shift_jis", "SHIFT_JIS"),
        "shiftjis": ("shift_jis", "SHIFT_JIS"), "csshiftjis": ("shift_jis", "SHIFT_JIS"),
        "cp932": ("cp932", "CP932"), "ms932": ("cp932", "CP932"), "mskanji": ("cp932", "CP932"),
        "euc-jp": ("euc_jp", "EUC-JP"), "eucjp": ("euc_jp", "EUC-JP"), "ujis": ("euc_jp", "EUC-JP"), "u-jis": ("euc_jp", "EUC-JP"),
        "euc-kr": ("euc_kr", "EUC-KR"), "euckr": ("euc_kr", "EUC-KR"), "ks-c-5601-1987": ("euc_kr", "EUC-KR"),
        "cp949": ("cp949", "CP949"), "ms949": ("cp949", "CP949"), "uhc": ("cp949", "CP949"),
        "johab": ("johab", "JOHAB"), "cp1361": ("johab", "JOHAB"),
    ]

    static func iconvName(ofPython name: String) -> String? {
        aliases.values.first { $0.python == name }?.iconv
    }

    enum Failure: Error { case unavailable, invalid(at: Int) }

    /// Converts `input` between iconv encodings; `.invalid(at:)` gives the input offset
    /// of the first byte sequence that does not convert.
    static func convert(_ input: [UInt8], from: String, to: String) -> Result<[UInt8], Failure> {
        let cd = iconv_open(to, from)
        guard cd != iconv_t(bitPattern: -1) else { return .failure(.unavailable) }
        defer { iconv_close(cd) }
        var output = [UInt8](repeating: 0, count: input.count * 4 + 16)
        var source = input
        let inputCount = input.count
        var failedAt: Int? = nil
        var produced = 0
        source.withUnsafeMutableBufferPointer { src in
            output.withUnsafeMutableBufferPointer { dst in
                src.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(inputCount, 1)) { srcChars in
                    dst.baseAddress!.withMemoryRebound(to: CChar.self, capacity: dst.count) { dstChars in
                        var inPointer: UnsafeMutablePointer<CChar>? = srcChars
                        var inLeft = inputCount
                        var outPointer: UnsafeMutablePointer<CChar>? = dstChars
                        var outLeft = dst.count
                        if inputCount > 0 && iconv(cd, &inPointer, &inLeft, &outPointer, &outLeft) == -1 {
                            failedAt = inputCount - inLeft
                        }
                        produced = dst.count - outLeft
                    }
                }
            }
        }
        if let failedAt { return .failure(.invalid(at: failedAt)) }
        return .success(Array(output[0..<produced]))
    }
}
