import ArgumentParser
import Tensor

/// `cptui doctor`: which OpenBLAS kernel and thread count cptui runs with, and why.
struct DoctorCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "doctor", abstract: "Show the OpenBLAS kernel, threads and CPU features in use.")

  func run() throws {
    let features = KernelSelection.cpuFeatures()
    let best = KernelSelection.bestCoreType(for: features) ?? "(none known)"
    print("cptui \(CPTUIVersion.string)")
    print("OpenBLAS kernel:  \(BLAS.coreName) (\(KernelSelection.origin.rawValue))")
    print("best for CPU:     \(best)")
    print("OpenBLAS threads: \(BLAS.threads)")
    print("OpenBLAS build:   \(BLAS.buildConfig)")
    let vector = ["avx512f", "avx512bw", "avx512vl", "avx2", "fma", "avx"].filter(features.contains)
    print("CPU vector flags: \(vector.joined(separator: " "))")
  }
}
