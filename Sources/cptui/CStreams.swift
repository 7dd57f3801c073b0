// The C streams `stdout` and `stderr` are global variables, which Swift 6 does not let code touch
// unless the module that declares them is imported @preconcurrency: this file alone does (without
// Foundation, whose import of Glibc would win). cptui touches them from one thread at a time.
@preconcurrency import Glibc

/// The C standard streams that `print` and error lines go through.
enum CStreams {
  static func writeStandardOutput(_ text: String) { fputs(text, stdout) }

  /// Writes to standard error; failures are ignored.
  static func writeStandardError(_ text: String) { fputs(text, stderr) }

  /// Flushes standard output; why a write failed since the start ("No space left on device"
  /// when this flush saw it; an earlier failure's reason is gone by now), nil when all went out.
  static func flushStandardOutput() -> String? {
    errno = 0
    let flushed = fflush(stdout) == 0
    let code = errno
    guard flushed && ferror(stdout) == 0 else {
      clearerr(stdout)
      return !flushed && code != 0 ? String(cString: strerror(code)) : "an earlier write failed"
    }
    return nil
  }

  /// Ends the process at once with `status`, the C streams flushed: without `exit()`'s clean-up,
  /// which frees OpenBLAS's buffers while another thread may still be inside it (a segfault, 1
  /// run in 5, on a second Ctrl-C) and runs while other threads still run.
  static func exitAtOnce(_ status: Int32) -> Never {
    fflush(nil)
    _exit(status)
  }
}
