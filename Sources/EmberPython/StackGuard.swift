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
/// diagnostic before it overflows, whatever stack size the caller's thread has.
enum StackGuard {
    /// Lowest address the parser may recurse down to on this thread (its stack bottom
    /// plus `margin`), or nil when the platform does not tell.
    static func limitForCurrentThread(margin: UInt = 160 * 1024) -> UInt? {
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
        return withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) }
    }
}
