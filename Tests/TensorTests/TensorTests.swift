import Foundation
import Testing

@testable import Tensor

struct FastMathTests {
  @Test func expIsWithinAFewUlps() {
    var worst: Float = 0
    var x: Float = -87
    while x < 88 {
      let v = FastMath.V16((0..<16).map { x + Float($0) * 0.0037 })
      let e = FastMath.exp(v)
      for i in 0..<16 {
        let exact = Foundation.exp(Double(v[i]))
        let rel = Float(abs(Double(e[i]) - exact) / exact)
        worst = max(worst, rel)
      }
      x += 0.0731
    }
    #expect(worst < 4e-7, "worst relative error \(worst)")
    #expect(FastMath.exp(0) == 1)
    #expect(FastMath.exp(-1000) < 1e-37)
    #expect(FastMath.exp(-Float.infinity) < 1e-37)
    #expect(FastMath.exp(1000).isFinite)
  }

  @Test func normalCDFAndPDF() {
    var worstCDF = 0.0
    var worstPDF = 0.0
    var x: Float = -12
    while x < 12 {
      let (cdf, pdf) = FastMath.normalCDFAndPDF(FastMath.V16(repeating: x))
      let exactCDF = 0.5 * erfc(-Double(x) / 2.0.squareRoot())
      let exactPDF = Foundation.exp(-0.5 * Double(x) * Double(x)) / (2 * Double.pi).squareRoot()
      worstCDF = max(worstCDF, abs(Double(cdf[0]) - exactCDF))
      worstPDF = max(worstPDF, abs(Double(pdf[0]) - exactPDF))
      x += 0.013
    }
    #expect(worstCDF < 3e-7, "cdf error \(worstCDF)")
    #expect(worstPDF < 1e-7, "pdf error \(worstPDF)")
  }

  @Test func partialLoadsAndStores() {
    let values: [Float] = [1, 2, 3]
    let v = values.withUnsafeBufferPointer { FastMath.loadPartial($0.baseAddress!, 3, fill: -1) }
    #expect(v[0] == 1 && v[2] == 3 && v[3] == -1 && v[15] == -1)
    var out = [Float](repeating: 0, count: 4)
    out.withUnsafeMutableBufferPointer { FastMath.storePartial(v, $0.baseAddress!, 3) }
    #expect(out == [1, 2, 3, 0])
  }
}

struct BLASTests {
  /// Test processes hold OpenBLAS to one thread from load time (Tests/OneBLASThread), whatever
  /// OPENBLAS_NUM_THREADS says, so tests that compare bits never see another test's thread count.
  /// Read twice around a parallel part that calls BLAS: the engine's toggle leaves it at 1.
  @Test func testProcessesRunOpenBLASOnOneThread() {
    #expect(BLAS.threads == 1)
    Parallel.forEachSlice(4, threads: 2, callsBLAS: true) { _, _ in }
    #expect(BLAS.threads == 1)
  }

  /// Every transpose combination against a naive triple loop, with strides wider than the rows.
  @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
  func gemmMatchesNaive(transA: Bool, transB: Bool) {
    let (m, n, k) = (5, 7, 3)
    var rng = SeededRNG(seed: 1)
    let lda = (transA ? m : k) + 2
    let ldb = (transB ? k : n) + 1
    let ldc = n + 3
    let aRows = transA ? k : m
    let bRows = transB ? n : k
    let a = (0..<(aRows * lda)).map { _ in Float(rng.nextNormal()) }
    let b = (0..<(bRows * ldb)).map { _ in Float(rng.nextNormal()) }
    var c = (0..<(m * ldc)).map { _ in Float(rng.nextNormal()) }
    let c0 = c
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        c.withUnsafeMutableBufferPointer { pc in
          BLAS.gemm(
            transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: pa.baseAddress!,
            lda: lda, b: pb.baseAddress!, ldb: ldb, beta: 2, c: pc.baseAddress!, ldc: ldc)
        }
      }
    }
    for i in 0..<m {
      for j in 0..<n {
        var s: Float = 0
        for p in 0..<k {
          let av = transA ? a[p * lda + i] : a[i * lda + p]
          let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
          s += av * bv
        }
        #expect(abs(c[i * ldc + j] - (0.5 * s + 2 * c0[i * ldc + j])) < 1e-5)
      }
    }
    // Padding columns of C are untouched.
    #expect(c[n] == c0[n])
  }
}

struct VectorOpsTests {
  @Test(arguments: [0, 1, 15, 16, 17, 33, 100])
  func reductions(n: Int) {
    let x = (0..<n).map { Float($0) * 0.5 - 3 }
    let y = (0..<n).map { Float($0 % 7) }
    x.withUnsafeBufferPointer { px in
      y.withUnsafeBufferPointer { py in
        #expect(Vec.sum(px.baseAddress!, n) == x.reduce(0, +))
        #expect(
          abs(Vec.dot(px.baseAddress!, py.baseAddress!, n) - zip(x, y).map(*).reduce(0, +)) < 1e-3)
        #expect(
          abs(Vec.sumOfSquares(px.baseAddress!, n) - Double(x.map { $0 * $0 }.reduce(0, +))) < 1e-3)
      }
    }
  }
}

struct KernelSelectionTests {
  @Test func bestCoreForFeatures() {
    #expect(
      KernelSelection.bestCoreType(for: ["avx512f", "avx512bw", "avx512vl", "avx2", "fma"])
        == "SkylakeX")
    #expect(KernelSelection.bestCoreType(for: ["avx2", "fma", "avx"]) == "Haswell")
    #expect(KernelSelection.bestCoreType(for: ["avx"]) == "Sandybridge")
    #expect(KernelSelection.bestCoreType(for: ["sse3"]) == nil)
  }

  @Test func coreStrengthOrdersKernels() {
    #expect(
      KernelSelection.strength(ofCore: "Prescott") < KernelSelection.strength(ofCore: "Haswell"))
    #expect(
      KernelSelection.strength(ofCore: "Haswell") < KernelSelection.strength(ofCore: "SkylakeX"))
    #expect(
      KernelSelection.strength(ofCore: "Cooperlake") == KernelSelection.strength(ofCore: "SkylakeX")
    )
  }

  @Test func cpuinfoParsing() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("cpuinfo-\(getpid())")
      .path
    try "processor\t: 0\nflags\t\t: fpu sse3 avx2 fma avx512f\nbogomips\t: 1\n".write(
      toFile: path, atomically: true, encoding: .utf8)
    #expect(
      KernelSelection.cpuFeatures(cpuinfo: path) == ["fpu", "sse3", "avx2", "fma", "avx512f"])
    #expect(KernelSelection.cpuFeatures(cpuinfo: "/nonexistent").isEmpty)
  }

}
