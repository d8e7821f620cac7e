#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if os(Linux)
/// glibc's pthread_getattr_np (a GNU extension the Glibc module map does not export).
@_silgen_name("pthread_getattr_np")
private func ember_pthread_getattr_np(_ thread: pthread_t, _ attr: UnsafeMutablePointer<pthread_attr_t>) -> Int32
#endif

/// Knows where the current thread's stack ends, so recursive descent can stop with a
/// diagnostic before it overflows, whatever stack size the caller's thread has (8 MB for a
/// main thread, 512 KB for a secondary thread on macOS, less in some pools).
enum StackGuard {
    /// Room kept free below the deepest check. The parser and the tokenizer check at every
    /// level of nesting; one level takes at most about 3.5 KB of stack in a release build
    /// (an f-string field; scripts/parser-depth/run.sh measures each form) and some tens of
    /// KB in a debug build, so 64 KB covers one level, the throw that unwinds, and a signal
    /// handler running on the stack meanwhile.
    static let margin: UInt = 64 * 1024

    /// Each thread's limit, worked out once per thread: reading a thread's stack bounds
    /// costs a system call (on Linux the main thread's reads /proc/self/maps).
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create")
        return key
    }()

    /// Lowest address recursion may reach on this thread (its stack bottom plus `margin`),
    /// or 0 when the platform does not tell (then only the depth limits apply).
    static func limitForCurrentThread() -> UInt {
        if let cached = pthread_getspecific(key) {
            let value = UInt(bitPattern: cached)
            return value == 1 ? 0 : value
        }
        let limit = readLimit() ?? 0
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: limit == 0 ? 1 : limit))
        return limit
    }

    private static func readLimit() -> UInt? {
        #if os(Linux)
        var attr = pthread_attr_t()
        guard ember_pthread_getattr_np(pthread_self(), &attr) == 0 else { return nil }
        defer { pthread_attr_destroy(&attr) }
        var address: UnsafeMutableRawPointer?
        var size = 0
        guard pthread_attr_getstack(&attr, &address, &size) == 0, let address else { return nil }
        return UInt(bitPattern: address) + margin
        #elseif canImport(Darwin)
        let top = UInt(bitPattern: pthread_get_stackaddr_np(pthread_self()))
        let size = UInt(pthread_get_stacksize_np(pthread_self()))
        return top - size + margin
        #else
        return nil
        #endif
    }

    /// Address of a local in the caller's frame (the stack grows down on supported targets).
    @inline(never)
    static func currentAddress() -> UInt {
        var marker: UInt8 = 0
        let address = withUnsafeMutablePointer(to: &marker) { UnsafeMutableRawPointer($0) }
        // Under AddressSanitizer with detect_stack_use_after_return (the default on Linux
        // since LLVM 15) a local whose address is taken lives in a "fake stack" on the heap:
        // its real frame is asked of the sanitizer's runtime.
        if let sanitizer = fakeStack, let real = sanitizer.realFrame(sanitizer.current(), address, nil, nil) {
            return UInt(bitPattern: real)
        }
        return UInt(bitPattern: address)
    }

    private typealias CurrentFakeStack = @convention(c) () -> UnsafeMutableRawPointer?
    private typealias AddressInFakeStack = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?,
                                                          UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                                          UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> UnsafeMutableRawPointer?

    /// AddressSanitizer's fake-stack functions when the process has them (a sanitized
    /// build, such as scripts/fuzz/), else nil.
    private static let fakeStack: (current: CurrentFakeStack, realFrame: AddressInFakeStack)? = {
        #if os(Linux)
        let everywhere: UnsafeMutableRawPointer? = nil  // RTLD_DEFAULT
        #elseif canImport(Darwin)
        let everywhere = UnsafeMutableRawPointer(bitPattern: -2)  // RTLD_DEFAULT
        #else
        return nil
        #endif
        guard let current = dlsym(everywhere, "__asan_get_current_fake_stack"),
              let real = dlsym(everywhere, "__asan_addr_is_in_fake_stack") else { return nil }
        return (unsafeBitCast(current, to: CurrentFakeStack.self), unsafeBitCast(real, to: AddressInFakeStack.self))
    }()

    /// Whether this thread's stack is used down to `limit` (0: unknown, never).
    @inline(__always)
    static func exhausted(_ limit: UInt) -> Bool { limit != 0 && currentAddress() < limit }
}
