import COpenBLAS

/// Matrix products on OpenBLAS. Every matrix in cptui is row-major fp32; this is the one place that
/// calls `cblas_sgemm`.
public enum BLAS {
  /// C[m×n] = alpha · op(A) · op(B) + beta · C, row-major.
  /// op(A) is m×k (A is k×m when `transA`), op(B) is k×n (B is n×k when `transB`).
  /// `lda`, `ldb`, `ldc` are row strides in elements.
  @inlinable
  public static func gemm(
    transA: Bool = false, transB: Bool = false,
    m: Int, n: Int, k: Int,
    alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    cblas_sgemm(
      CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
      Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
  }

  /// The number of threads OpenBLAS uses for one call.
  public static var threads: Int {
    get { Int(openblas_get_num_threads()) }
    set { openblas_set_num_threads(Int32(max(newValue, 1))) }
  }

  /// The name of the kernel OpenBLAS picked for this CPU, e.g. "SkylakeX", "Haswell", "Prescott".
  public static var coreName: String { String(cString: openblas_get_corename()) }

  /// OpenBLAS's build description (version, DYNAMIC_ARCH, threading model).
  public static var buildConfig: String { String(cString: openblas_get_config()) }
}
