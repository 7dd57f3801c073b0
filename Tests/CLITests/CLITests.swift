import Foundation
import Testing

/// Runs the built `cptui` binary (it sits next to the test bundle) and returns status and output.
enum CLI {
  static var binary: String {
    let bundle = URL(fileURLWithPath: Bundle.main.bundlePath)
    for dir in [bundle, bundle.deletingLastPathComponent()] {
      let candidate = dir.appendingPathComponent("cptui").path
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return "cptui"
  }

  /// A new empty folder under the temporary directory, unique to this process and `name`; the
  /// caller removes it (`defer { try? FileManager.default.removeItem(at: folder) }`).
  static func temporaryFolder(_ name: String) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-\(name)-\(getpid())")
    try? FileManager.default.removeItem(at: folder)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
  }

  struct Result {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  static func run(
    _ arguments: [String], environment: [String: String] = [:], removing: [String] = []
  )
    throws -> Result
  {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for key in removing { env.removeValue(forKey: key) }
    env.merge(environment) { $1 }
    process.environment = env
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Result(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }
}

struct KernelCLITests {
  static let clean = ["OPENBLAS_CORETYPE", "CPTUI_OPENBLAS_REEXEC", "CPTUI_TEST_ASSUME_CORE"]

  @Test func weakKernelIsCorrectedByReexec() throws {
    // Pretend OpenBLAS fell back to its generic kernel: cptui must re-exec with the best one.
    let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    guard cpuinfo.contains(" avx2") || cpuinfo.contains(" avx512f") else { return }
    let r = try CLI.run(
      ["doctor"], environment: ["CPTUI_TEST_ASSUME_CORE": "Prescott"], removing: Self.clean)
    #expect(r.status == 0)
    #expect(r.stdout.contains("corrected by cptui"), "\(r.stdout)")
    #expect(!r.stdout.contains("Prescott"))
  }

  @Test func userChoiceIsRespected() throws {
    let r = try CLI.run(
      ["doctor"], environment: ["OPENBLAS_CORETYPE": "Haswell"], removing: Self.clean)
    #expect(r.status == 0)
    #expect(r.stdout.contains("OpenBLAS kernel:  Haswell (set by the user"), "\(r.stdout)")
  }

  @Test func noVariableGivesTheBestKernel() throws {
    let r = try CLI.run(["doctor"], removing: Self.clean)
    #expect(r.status == 0)
    // The budget the memory check uses, and the default thread count.
    #expect(
      r.stdout.contains("\nmemory:           this machine has ")
        || r.stdout.contains("\nmemory:           this process's control group allows "),
      "\(r.stdout)")
    #expect(r.stdout.contains("\ncores:            "), "\(r.stdout)")
    let kernelLine =
      r.stdout.split(separator: "\n").first { $0.hasPrefix("OpenBLAS kernel:") } ?? ""
    let bestLine = r.stdout.split(separator: "\n").first { $0.hasPrefix("best for CPU:") } ?? ""
    let best = bestLine.dropFirst("best for CPU:".count).split(separator: " ").first ?? ""
    if best == "SkylakeX" {
      #expect(
        ["SkylakeX", "Cooperlake", "SapphireRapids"].contains { kernelLine.contains($0) },
        "\(r.stdout)")
      // The kernel in use is as strong: doctor does not make it read as a mismatch.
      #expect(bestLine.contains("nothing to do"), "\(bestLine)")
    }
  }
}

struct EngineCLITests {
  @Test func badModelConfigNamesTheField() throws {
    let r = try CLI.run(["bench", "--heads", "3"])
    #expect(r.status != 0)
    #expect(
      r.stderr.contains("--width") && r.stderr.contains("not divisible by heads 3"), "\(r.stderr)")
    let zero = try CLI.run(["bench", "--layers", "0"])
    #expect(zero.status != 0)
    #expect(zero.stderr.contains("--layers"), "\(zero.stderr)")
    let one = try CLI.run(["bench", "--vocab", "1"])
    #expect(one.status == 64 && one.stderr.contains("--vocab: must be at least 2"), "\(one.stderr)")
    // A sweep's name where a preset belongs is said so; a mistyped preset gets a suggestion.
    let sweep = try CLI.run(["schedule", "replay-strong"])
    #expect(
      sweep.status != 0
        && sweep.stderr.contains("(replay-strong is a sweep: cptui sweep replay-strong)"),
      "\(sweep.stderr)")
    let sort = try CLI.run([
      "compare", ExportCLITests.repository.appendingPathComponent("sample-runs/strong-shift").path,
      "--sort", "forgeting",
    ])
    #expect(
      sort.status == 64 && sort.stderr.contains("not a column (did you mean forgetting?)")
        && sort.stderr.contains("Usage: cptui compare <logs>"),
      "\(sort.status) \(sort.stderr)")
  }

  @Test func benchPrintsJSON() throws {
    let r = try CLI.run(
      [
        // V = 4·C: the output projection has the MLP's shapes, and keeps its own time.
        "bench", "--json", "--layers", "1", "--width", "32", "--context", "16", "--vocab", "128",
        "--steps", "2", "--warmup", "0", "--batch", "2",
      ])
    #expect(r.status == 0, "\(r.stderr)")
    let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
    #expect((object?["tokens_per_second"] as? Double ?? 0) > 0)
    #expect(object?["kernel"] is String)
    // With the output projection counted (6·V·C = 24576 FLOPs a token more than 6·N + 12·L·C·T =
    // 6·12768 + 12·32·16 = 82752), model ÷ sgemm grows by that share.
    let plain = object?["model_flops_over_sgemm"] as? Double ?? 0
    let headed = object?["model_flops_with_head_over_sgemm"] as? Double ?? 0
    #expect(
      plain > 0 && abs(headed / plain - (82752.0 + 24576) / 82752) < 1e-9, "\(plain) \(headed)")
    let alone = object?["gemm_alone_seconds_per_step"] as? [String: Double] ?? [:]
    #expect(alone.values.allSatisfy { $0 > 0 }, "\(alone)")
    #expect(
      alone.keys.sorted() == [
        "GEMMs (linear layers)", "GEMMs (output projection)", "attention (GEMMs + softmax)",
      ])
  }

  @Test func benchProfilePrintsTheSharesOfATrainingStepAndAnEvaluationPass() throws {
    let r = try CLI.run(
      [
        "bench", "--profile", "--layers", "1", "--width", "32", "--context", "16", "--vocab", "64",
        "--steps", "2", "--warmup", "0", "--batch", "2", "--threads", "1",
      ])
    #expect(r.status == 0, "\(r.stderr)")
    let gap = r.stdout.components(separatedBy: "gemm gap    ")
    try #require(gap.count == 2, "\(r.stdout)")
    let sections = gap[0].components(separatedBy: "profile     share of ")
    #expect(sections.count == 3, "\(r.stdout)")
    #expect(
      sections[1].hasPrefix("training step time:") && sections[2].hasPrefix("evaluation pass"))
    for (index, section) in sections.dropFirst().enumerated() {
      // Every line is "  12.3 %  4.56 ms/step  name"; the shares, "other" included, add up to 100.
      let shares = section.split(separator: "\n").dropFirst().compactMap {
        Double($0.split(separator: " ").first ?? "")
      }
      #expect(abs(shares.reduce(0, +) - 100) < 0.5, "section \(index): \(section)")
      #expect(section.contains("GEMMs (linear layers)") && section.contains("LayerNorm"))
    }
    #expect(!sections[2].contains("AdamW"), "an evaluation pass has no optimizer step")
    // The step's GEMMs run alone, per kind, next to the step: the kinds add up to the whole.
    let rows = gap[1].split(separator: "\n").compactMap { line -> (Double, Double, String)? in
      let parts = line.split(separator: " ", maxSplits: 2)
      guard parts.count == 3, let alone = Double(parts[0]), let inStep = Double(parts[1]) else {
        return nil
      }
      return (alone, inStep, parts[2].trimmingCharacters(in: .whitespaces))
    }
    #expect(rows.map(\.2.first) == ["l", "o", "a", "t"], "\(gap[1])")
    if rows.count == 4 {
      #expect(abs(rows[0].0 + rows[1].0 + rows[2].0 - rows[3].0) <= 0.1 * rows[3].0, "\(gap[1])")
      #expect(rows.allSatisfy { $0.0 >= 0 } && rows[3].0 > 0 && rows[3].1 > 0, "\(gap[1])")
    }
    #expect(gap[1].contains("model ÷ sgemm 0.8 needs a step of at most"))
  }

  @Test func evalReportsMissingAndForeignFiles() throws {
    let missing = try CLI.run([
      "eval", "--checkpoint", "/nonexistent.safetensors", "--tokens", "/x",
    ])
    #expect(missing.status != 0)
    #expect(missing.stderr.contains("/nonexistent.safetensors: no such file"), "\(missing.stderr)")
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cptui-cli-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let foreign = dir.appendingPathComponent("foreign.safetensors").path
    try "not a checkpoint at all".write(toFile: foreign, atomically: true, encoding: .utf8)
    let r = try CLI.run(["eval", "--checkpoint", foreign, "--tokens", "/x"])
    #expect(r.status != 0)
    #expect(r.stderr.contains(foreign) && r.stderr.contains("not safetensors"), "\(r.stderr)")
    let folder = try CLI.run(["eval", "--checkpoint", dir.path, "--tokens", "/x"])
    #expect(folder.status != 0 && folder.stderr.contains("is a folder"), "\(folder.stderr)")
  }

  /// Under a locale without UTF-8 the messages on standard error are plain ASCII (no — or …).
  @Test func messagesAreASCIIWithoutAUTF8Locale() throws {
    let r = try CLI.run(
      ["compare", "/nonexistent—file…"], environment: ["LANG": "C", "LC_ALL": "C", "LC_CTYPE": "C"])
    #expect(r.status != 0)
    let ascii = r.stderr.unicodeScalars.allSatisfy { $0.isASCII }
    #expect(ascii, "\(r.stderr)")
    #expect(r.stderr.contains("/nonexistent-file..."), "\(r.stderr)")
    let utf8 = try CLI.run(["compare", "/nonexistent—file…"], environment: ["LC_ALL": "C.UTF-8"])
    #expect(utf8.stderr.contains("/nonexistent—file…"), "\(utf8.stderr)")
    // Tables and lists on standard output too, and the table stays aligned (ηmax is 3 letters
    // longer in ASCII: every row is as long as the header).
    let c = ["LANG": "C", "LC_ALL": "C", "LC_CTYPE": "C"]
    let peak = SampleRunTests.root.appendingPathComponent("sample-runs/peak-lr").path
    for arguments in [["compare", peak], ["data", "list"]] {
      let out = try CLI.run(arguments, environment: c)
      #expect(out.status == 0, "\(out.stderr)")
      #expect(out.stdout.unicodeScalars.allSatisfy { $0.isASCII }, "\(out.stdout)")
    }
    let table = try CLI.run(["compare", peak], environment: c).stdout.split(separator: "\n")
    #expect(table.count > 2 && table.allSatisfy { $0.count == table[0].count }, "\(table)")
    #expect(table[1].contains("etamax"))
  }

  @Test func evalMatchesTheLibrary() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-eval-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let fixture = try CLI.run(["dev", "fixture", "--out", dir.path])
    #expect(fixture.status == 0, "\(fixture.stderr)")
    // 101 ids: 12 windows of 8+1 with T = 8.
    var data = Data()
    for i in 0..<101 {
      withUnsafeBytes(of: UInt16(i * 7 % 37).littleEndian) { data.append(contentsOf: $0) }
    }
    let tokens = dir.appendingPathComponent("tokens.bin").path
    try data.write(to: URL(fileURLWithPath: tokens))
    let r = try CLI.run([
      "eval", "--checkpoint", dir.appendingPathComponent("tiny.safetensors").path, "--tokens",
      tokens,
    ])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("over 12 windows of 8 tokens (96 predictions)"), "\(r.stdout)")
    let odd = dir.appendingPathComponent("odd.bin").path
    try Data([1, 2, 3]).write(to: URL(fileURLWithPath: odd))
    let bad = try CLI.run([
      "eval", "--checkpoint", dir.appendingPathComponent("tiny.safetensors").path, "--tokens", odd,
    ])
    #expect(bad.status != 0)
    #expect(bad.stderr.contains("not a whole number of uint16"), "\(bad.stderr)")
    // A device reads as the stream it is, a folder and a missing file are named so.
    for (path, message) in [
      ("/dev/null", "/dev/null: 0 tokens do not fill one window"),
      (dir.path, "\(dir.path): a folder, not a token file"),
      (dir.path + "/none.bin", "none.bin: no such file"),
    ] {
      let r = try CLI.run([
        "eval", "--checkpoint", dir.appendingPathComponent("tiny.safetensors").path, "--tokens",
        path,
      ])
      #expect(r.status == 1 && r.stderr.contains(message), "\(path): \(r.stderr)")
    }
  }
}

/// `cptui data` knows the experiment presets `cptui run` knows, and prepares what they need.
struct DataCLITests {
  @Test func presetsAreTheExperimentPresets() throws {
    let list = try CLI.run(["data", "list"])
    #expect(list.status == 0, "\(list.stderr)")
    for name in ["strong-shift", "weak-shift", "tiny-live", "union-strong-shift"] {
      #expect(list.stdout.contains("\n  \(name) "), "\(name) missing:\n\(list.stdout)")
    }
    #expect(!list.stdout.contains("domain-sequence"), "a preset no config defines:\n\(list.stdout)")
    // An experiment preset stands for its datasets, tokenized as the experiment does (tiny: bytes).
    let cache = try CLI.temporaryFolder("data-cache").path
    defer { try? FileManager.default.removeItem(atPath: cache) }
    func tinyLine() throws -> String {
      let list = try CLI.run(["data", "list"], environment: ["CPTUI_CACHE": cache])
      return list.stdout.split(separator: "\n").first { $0.hasPrefix("  tiny ") }.map(String.init)
        ?? ""
    }
    #expect(try !tinyLine().contains("✓"), "nothing prepared yet")
    // Sizes of recipes not prepared are the recipes' estimates, marked as such.
    let empty = try CLI.run(["data", "list"], environment: ["CPTUI_CACHE": cache])
    #expect(empty.stdout.contains("  synthetic        ≈ 3.0 MB    generated"), "\(empty.stdout)")
    let info = try CLI.run(["data", "info", "tiny"], environment: ["CPTUI_CACHE": cache])
    #expect(info.status == 0, "\(info.stderr)")
    #expect(info.stdout.contains("bytes, as tiny"), "\(info.stdout)")
    #expect(info.stdout.contains("\nsynthetic ") && info.stdout.contains("\nsynthetic-de "))
    // A config file stands for its datasets just as a preset does (it is not text to count).
    let configFile = cache + "/my-tiny.yaml"
    let preset = SampleRunTests.root.appendingPathComponent("presets/tiny.yaml").path
    try String(contentsOfFile: preset, encoding: .utf8).write(
      toFile: configFile, atomically: true, encoding: .utf8)
    let fromFile = try CLI.run(["data", "info", configFile], environment: ["CPTUI_CACHE": cache])
    #expect(fromFile.status == 0, "\(fromFile.stderr)")
    #expect(fromFile.stdout.contains("bytes, as tiny"), "\(fromFile.stdout)")
    #expect(!fromFile.stdout.contains("my-tiny.yaml "), "read as text:\n\(fromFile.stdout)")
    let prepared = try CLI.run(
      ["data", "prepare", "tiny", "--tokenize"], environment: ["CPTUI_CACHE": cache])
    #expect(prepared.status == 0 && prepared.stdout.contains("tiny: tokenizer"), "\(prepared)")
    #expect(try tinyLine().contains("✓ D0 → D1"), "its text is prepared now")
    // A tokenizer option without --tokenize would do nothing: refused, naming the fix.
    let noTokenize = try CLI.run(["data", "prepare", "tiny", "--vocab", "512"])
    #expect(noTokenize.status == 64 && noTokenize.stderr.contains("add it"), "\(noTokenize)")
    let ascii = try CLI.run(
      ["data", "list"], environment: ["CPTUI_CACHE": cache, "LANG": "C"],
      removing: ["LC_ALL", "LC_CTYPE"])
    #expect(ascii.stdout.contains("  tiny                       + D0 -> D1"), "\(ascii.stdout)")
  }
}

/// `cptui data` errors: one line naming the file, exit 1; a preset trains its own tokenizer.
struct DataErrorCLITests {
  @Test func tokenizerAndFileErrorsNameTheFile() throws {
    let folder = try CLI.temporaryFolder("data-errors").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let text = folder + "/t.txt"
    try "hello".write(toFile: text, atomically: true, encoding: .utf8)
    let notTokenizer = folder + "/run.jsonl"
    try "{\"type\":\"header\"}".write(toFile: notTokenizer, atomically: true, encoding: .utf8)
    let notJSON = folder + "/bad.json"
    try "not json at all".write(toFile: notJSON, atomically: true, encoding: .utf8)
    for (path, reason) in [
      (notTokenizer, "not a tokenizer cptui reads"), (notJSON, "not valid JSON"),
      (folder + "/missing.json", "no such file"),
    ] {
      let r = try CLI.run(["data", "encode", "--tokenizer", path, text])
      #expect(r.status == 1, "\(r)")
      #expect(r.stderr.hasPrefix("Error: \(path): \(reason)"), "\(r.stderr)")
      #expect(
        !r.stderr.contains("NSCocoaErrorDomain") && r.stderr.split(separator: "\n").count == 1)
    }
    let cache = folder + "/cache"
    let out = folder + "/tok.json"
    let preset = try CLI.run(
      ["data", "tokenizer", "tiny", "--output", out], environment: ["CPTUI_CACHE": cache])
    #expect(preset.status == 0 && preset.stdout.contains("vocab 256"), "\(preset)")
    let encoded = try CLI.run(["data", "encode", "--tokenizer", out, text])
    #expect(encoded.status == 0 && encoded.stdout.contains("[104,101,108,108,111]"), "\(encoded)")
    // A tokenizer read from a file is said to be read from it (it read "trained on tok.json").
    let dataInfo = try CLI.run(
      ["data", "info", "synthetic", "--tokenizer", out], environment: ["CPTUI_CACHE": cache])
    #expect(dataInfo.status == 0 && dataInfo.stdout.contains("read from \(out)"), "\(dataInfo)")
    // A device is written in place (a full one fails, naming it), never replaced by a file; a
    // folder is refused.
    let full = try CLI.run(
      ["data", "tokenizer", "tiny", "--output", "/dev/full"], environment: ["CPTUI_CACHE": cache])
    #expect(full.status != 0 && full.stderr.contains("/dev/full"), "\(full)")
    var info = stat()
    #expect(stat("/dev/full", &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR)
    let toFolder = try CLI.run(
      ["data", "tokenizer", "tiny", "--output", folder + "/"], environment: ["CPTUI_CACHE": cache])
    #expect(toFolder.status != 0 && toFolder.stderr.contains("a folder"), "\(toFolder)")
  }
}
