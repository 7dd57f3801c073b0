import COpenBLAS

#if canImport(Glibc)
  import Glibc
#endif

/// Makes sure OpenBLAS runs the best kernel this CPU supports.
///
/// Debian 12's OpenBLAS 0.3.21 does not recognise some newer CPUs and silently falls back to its
/// generic SSE3 "Prescott" kernel (about 5× slower). `OPENBLAS_CORETYPE` fixes that only when it is
/// in the environment before the library loads, so cptui re-executes itself once with it set.
/// A value the user set is always respected.
public enum KernelSelection {
  /// Environment variable OpenBLAS reads at load time.
  public static let coreTypeVariable = "OPENBLAS_CORETYPE"
  /// Set by cptui on its re-exec so it never loops.
  public static let reexecMarker = "CPTUI_OPENBLAS_REEXEC"
  /// Test hook: pretend OpenBLAS picked this core, to exercise the re-exec path on any machine.
  public static let assumeCoreVariable = "CPTUI_TEST_ASSUME_CORE"

  /// How the kernel came to be chosen, for `cptui doctor` and `cptui bench`.
  public enum Origin: String, Sendable {
    case automatic = "chosen by OpenBLAS"
    case userSet = "set by the user (OPENBLAS_CORETYPE)"
    case corrected = "corrected by cptui (OPENBLAS_CORETYPE re-exec)"
  }

  /// The best OpenBLAS core type for the CPU's features, strongest first.
  public static func bestCoreType(for features: Set<String>) -> String? {
    if features.contains("avx512f") && features.contains("avx512bw")
      && features.contains("avx512vl")
    {
      return "SkylakeX"
    }
    if features.contains("avx2") && features.contains("fma") { return "Haswell" }
    if features.contains("avx") { return "Sandybridge" }
    return nil
  }

  /// Rank of an OpenBLAS x86-64 core name by vector width (higher is stronger); unknown names rank 0.
  public static func strength(ofCore name: String) -> Int {
    switch name.lowercased() {
    case "sapphirerapids", "cooperlake", "skylakex": return 4
    case "haswell", "zen", "skylake", "excavator": return 3
    case "sandybridge", "bulldozer", "piledriver", "steamroller": return 2
    case "prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "barcelona", "opteron",
      "katmai", "coppermine", "northwood", "banias", "bobcat", "nano":
      return 1
    default: return 0
    }
  }

  /// CPU feature flags from /proc/cpuinfo (empty when unreadable).
  public static func cpuFeatures(cpuinfo path: String = "/proc/cpuinfo") -> Set<String> {
    guard let file = fopen(path, "r") else { return [] }
    defer { fclose(file) }
    var line: UnsafeMutablePointer<CChar>? = nil
    var capacity = 0
    defer { free(line) }
    while getline(&line, &capacity, file) > 0 {
      guard let line else { break }
      let text = String(cString: line)
      if text.hasPrefix("flags") {
        guard let colon = text.firstIndex(of: ":") else { continue }
        return Set(
          text[text.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\n" })
            .map(String.init))
      }
    }
    return []
  }

  /// Where the running kernel came from, judged from the environment.
  public static var origin: Origin {
    if getenv(reexecMarker) != nil { return .corrected }
    if getenv(coreTypeVariable) != nil { return .userSet }
    return .automatic
  }

  /// If OpenBLAS chose a weaker kernel than the CPU allows and the user set none, re-executes the
  /// current program with `OPENBLAS_CORETYPE` set. Returns (without exec) when nothing is to be done
  /// or the exec fails. Call first thing in `main`, before any thread starts.
  public static func ensureBestKernel(arguments: [String] = CommandLine.arguments) {
    if getenv(coreTypeVariable) != nil || getenv(reexecMarker) != nil { return }
    guard let best = bestCoreType(for: cpuFeatures()) else { return }
    let current = getenv(assumeCoreVariable).map { String(cString: $0) } ?? BLAS.coreName
    if strength(ofCore: current) >= strength(ofCore: best) { return }
    setenv(coreTypeVariable, best, 1)
    setenv(reexecMarker, "1", 1)
    unsetenv(assumeCoreVariable)
    var cArgs: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
    cArgs.append(nil)
    execv("/proc/self/exe", cArgs)
    // The exec failed: carry on with the kernel we have, and leave the environment as it was.
    unsetenv(coreTypeVariable)
    unsetenv(reexecMarker)
    for p in cArgs { free(p) }
  }
}
