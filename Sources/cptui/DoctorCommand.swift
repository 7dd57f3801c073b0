import ArgumentParser
import Experiment
import Foundation
import Tensor

/// `cptui doctor`: which OpenBLAS kernel and thread count cptui runs with, and why; the cores
/// and the memory a config is checked against.
struct DoctorCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "doctor",
    abstract: "Show the OpenBLAS kernel, threads, CPU features and memory in use.")

  func run() throws {
    let features = KernelSelection.cpuFeatures()
    let best = KernelSelection.bestCoreType(for: features) ?? "(none known)"
    print("cptui \(CPTUIVersion.string)")
    print("OpenBLAS kernel:  \(BLAS.coreName) (\(KernelSelection.origin.rawValue))")
    // A kernel as strong as the best one the CPU allows is as good (Cooperlake is SkylakeX's
    // AVX-512 with bfloat16): say so rather than suggest a mismatch.
    let verdict =
      KernelSelection.strength(ofCore: BLAS.coreName) >= KernelSelection.strength(ofCore: best)
      ? " (the kernel in use is as strong: nothing to do)" : " (cptui asks OpenBLAS for it)"
    print("best for CPU:     \(best) class\(verdict)")
    print("OpenBLAS threads: \(BLAS.threads)")
    print("OpenBLAS build:   \(BLAS.buildConfig)")
    let vector = ["avx512f", "avx512bw", "avx512vl", "avx2", "fma", "avx"].filter(features.contains)
    print("CPU vector flags: \(vector.joined(separator: " "))")
    print(
      "cores:            \(ProcessInfo.processInfo.activeProcessorCount) (the default --threads)")
    // The budget `run`, `live` and `sweep` check a config's training memory against.
    print("memory:           \(MachineMemory.current.phrase)")
  }
}
