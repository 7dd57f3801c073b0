import Experiment
import Foundation
import Model
import Testing

/// A resumed run is checked for the memory of the thread count it resumes on: each data-parallel
/// replica holds gradients of its own, so a model that fits on one thread may not on more. The
/// log is a real tiny run whose header is edited to a model sized from this process's memory
/// budget to fit on one thread and not on the resume's; the check comes before the checkpoint is
/// read, so nothing that large is ever allocated.
struct ResumeMemoryCLITests {
  /// A 4-block model, batch and thread count (2 to 64: each thread past the first adds a replica's
  /// gradients) that fit in `budget` bytes on one thread and not on that many, with margins of
  /// 5 %, or nil when none of the sizes tried does.
  static func tooBigForThreads(budget: Double) -> (model: ModelConfig, batch: Int, threads: Int)? {
    for threads in [2, 4, 8, 16, 32, 64] {
      for width in stride(from: 4096, through: 256, by: -128) {
        for context in [32, 64, 128, 256, 512, 1024, 2048, 4096] {
          for batch in [2, 4, 8, 16, 32, 64, 128, 256] where batch >= threads {
            let model = ModelConfig(
              layers: 4, heads: width / 128, width: width, context: context, vocab: 256)
            guard model.parameterEstimate <= ModelConfig.largestParameterCount else { continue }
            if model.trainingBytes(batch: batch, threads: 1) <= 0.95 * budget
              && model.trainingBytes(batch: batch, threads: threads) > 1.05 * budget
            {
              return (model, batch, threads)
            }
          }
        }
      }
    }
    return nil
  }

  static let sizes = tooBigForThreads(budget: MachineMemory.current.bytes)

  @Test(
    .enabled(
      if: sizes != nil,
      "no model under cptui's parameter cap fits this machine on one thread and not on 64"))
  func aResumeOnMoreThreadsIsCheckedForTheirMemory() throws {
    let (big, batch, threads) = try #require(Self.sizes)
    let folder = try CLI.temporaryFolder("resume-memory")
    defer { try? FileManager.default.removeItem(at: folder) }
    let log = folder.appendingPathComponent("run.jsonl").path
    let env = ["CPTUI_CACHE": folder.appendingPathComponent("cache").path]
    let made = try CLI.run(
      ["run", "tiny", "--quiet", "--threads", "1", "--out", log], environment: env)
    try #require(made.status == 0, "\(made.stderr)")

    var lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(
      String.init)
    // Up to stage 1's checkpoint: an unfinished run that can be resumed.
    let checkpoint = try #require(lines.firstIndex { $0.contains("\"type\":\"checkpoint\"") })
    lines = Array(lines[...checkpoint])
    var header = try #require(
      JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
    var config = try #require(header["config"] as? [String: Any])
    var model = try #require(config["model"] as? [String: Any])
    model["layers"] = big.layers
    model["width"] = big.width
    model["heads"] = big.heads
    model["context"] = big.context
    config["model"] = model
    config["batchSize"] = batch
    header["config"] = config
    lines[0] = String(decoding: try JSONSerialization.data(withJSONObject: header), as: UTF8.self)
    let text = lines.joined(separator: "\n") + "\n"
    try text.write(toFile: log, atomically: true, encoding: .utf8)

    // `run --resume` and the live screen's `--resume` (in tmux: it wants a terminal) both refuse
    // before anything is loaded, name the log, say what that many threads need and that one
    // would do, and leave the log as it was. (Without tmux, as the live screen's tests, the
    // screen's half is not run.)
    let refused = try CLI.run(
      ["run", "--resume", log, "--threads", "\(threads)"], environment: env)
    #expect(refused.status == 1, "\(refused.stderr)")
    #expect(
      refused.stderr.contains(
        "\(log): training this model with batchSize \(batch) on \(threads) threads needs about "),
      "\(refused.stderr)")
    #expect(refused.stderr.contains("or train on fewer threads: --threads 1 needs"))
    #expect(try String(contentsOfFile: log, encoding: .utf8) == text)
    guard LiveScreenTests.tmuxAvailable else { return }
    let screen = try TmuxSession(
      width: 400, height: 10,
      command: "env CPTUI_CACHE='\(env["CPTUI_CACHE"]!)' '\(CLI.binary)' --resume '\(log)' "
        + "--threads \(threads); echo CPTUI-EXIT=$?; sleep 60")
    defer { screen.close() }
    let shown = try screen.waitFor(text: "CPTUI-EXIT=")
    #expect(shown.contains("CPTUI-EXIT=1"), "\(shown)")
    #expect(
      shown.contains(
        "\(log): training this model with batchSize \(batch) on \(threads) threads needs")
        && shown.contains("--threads 1 needs"), "\(shown)")
    #expect(try String(contentsOfFile: log, encoding: .utf8) == text)
  }
}
