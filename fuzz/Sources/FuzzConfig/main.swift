import Experiment
// Fuzzes the experiment config reader: YAML text, then `--set` overrides after a NUL byte (one per
// line), parsed and checked into an `ExperimentConfig`.
import Foundation
import FuzzDriver

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = UnsafeBufferPointer(start: data, count: size)
  let split = bytes.firstIndex(of: 0) ?? size
  let yaml = String(decoding: bytes[..<split], as: UTF8.self)
  let rest = split < size ? String(decoding: bytes[(split + 1)...], as: UTF8.self) : ""
  let overrides = rest.split(separator: "\n").map(String.init)
  let loader = ConfigLoader(builtinDatasets: ["tinystories", "synthetic-a", "synthetic-b"])
  do {
    _ = try loader.parse(yaml: yaml, source: "fuzz", overrides: overrides)
  } catch {
    _ = error.description
  }
  return 0
}

// libFuzzer runs the target with the command line (corpus folders and -flags).
var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv as UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzConfig))
