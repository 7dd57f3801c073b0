import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Errors of dataset preparation and loading. Messages are written for the person at the terminal.
public enum CorpusError: Error, CustomStringConvertible, Equatable {
  /// A package could not be fetched (no network, unknown package, …).
  case fetchFailed(package: String, detail: String)
  /// A name that is neither a recipe, a mixture, a preset nor an existing path.
  case unknownDataset(String)
  /// Too little text for a validation split or a context window.
  case tooSmall(dataset: String, have: String, need: String)
  /// A user path or glob that matched no readable text.
  case noText(String)
  /// A tool (groff, dpkg-deb, …) failed.
  case toolFailed(String)
  /// A cache file is damaged or of another version.
  case badCache(String)
  /// A parameter out of range (batch size, replay share, …).
  case invalidArgument(String)

  public var description: String {
    switch self {
    case .fetchFailed(let package, let detail):
      return
        "could not fetch package '\(package)': \(detail)\n"
        + "  Use the built-in 'synthetic' corpus (no download), or your own text: a file, folder or "
        + "glob, e.g. 'cptui data prepare ./my-texts/'."
    case .unknownDataset(let name):
      return
        "unknown dataset '\(name)': not a recipe, mixture, preset or existing path "
        + "(see 'cptui data list')"
    case .tooSmall(let dataset, let have, let need):
      return "dataset '\(dataset)' is too small: it has \(have), needs \(need)"
    case .noText(let what):
      return "no usable text in \(what) (empty, binary or unreadable files are skipped)"
    case .toolFailed(let m): return m
    case .badCache(let m): return "damaged cache: \(m) (delete it and prepare again)"
    case .invalidArgument(let m): return m
    }
  }
}

/// The cache directory: `$CPTUI_CACHE`, else `$XDG_CACHE_HOME/cptui`, else `~/.cache/cptui`.
///
/// Layout:
/// - `downloads/` – `.deb` and `.whl` files as fetched, with `<file>.sha256`
/// - `packages/<package>/` – unpacked packages; `packages/<package>.json` holds version and SHA-256
/// - `text/<dataset>/` – extracted documents: `text.bin`, `docs.u64`, `manifest.json`
/// - `tokenizers/<hash>/tokenizer.json` – trained tokenizers
/// - `tokens/<tokenizer hash>/<dataset>/` – `train.bin`, `val.bin`, `meta.json`
public struct CorpusCache: Sendable {
  public let root: URL

  public init(root: URL) {
    self.root = root
  }

  /// The cache chosen by the environment (see the type's documentation).
  public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment)
    -> CorpusCache
  {
    if let dir = env["CPTUI_CACHE"], !dir.isEmpty {
      return CorpusCache(root: URL(fileURLWithPath: dir))
    }
    if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty {
      return CorpusCache(root: URL(fileURLWithPath: xdg).appendingPathComponent("cptui"))
    }
    let home = env["HOME"] ?? NSHomeDirectory()
    return CorpusCache(
      root: URL(fileURLWithPath: home).appendingPathComponent(".cache/cptui"))
  }

  public var downloads: URL { root.appendingPathComponent("downloads") }
  public var packages: URL { root.appendingPathComponent("packages") }
  public var text: URL { root.appendingPathComponent("text") }
  public var tokenizers: URL { root.appendingPathComponent("tokenizers") }
  public var tokens: URL { root.appendingPathComponent("tokens") }
}

/// A read-only memory-mapped file (empty files map to an empty buffer).
public final class MappedFile: @unchecked Sendable {
  public let url: URL
  public let count: Int
  private let base: UnsafeMutableRawPointer?

  public init(_ url: URL) throws {
    self.url = url
    let fd = open(url.path, O_RDONLY)
    guard fd >= 0 else { throw CorpusError.badCache("cannot open \(url.path)") }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw CorpusError.badCache("cannot stat \(url.path)") }
    count = Int(st.st_size)
    if count == 0 {
      base = nil
      return
    }
    let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
    guard let p, p != MAP_FAILED else { throw CorpusError.badCache("cannot map \(url.path)") }
    base = p
  }

  deinit {
    if let base { munmap(base, count) }
  }

  /// The file's bytes (valid while the object lives).
  public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}

/// Writes `data` atomically (temporary file + rename).
func writeAtomically(_ data: Data, to url: URL) throws {
  try FileManager.default.createDirectory(
    at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
  try data.write(to: url, options: .atomic)
}

/// Little-endian bytes of integers.
func littleEndianBytes(_ values: [UInt64]) -> Data {
  var data = Data(capacity: values.count * 8)
  for v in values {
    withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) }
  }
  return data
}
