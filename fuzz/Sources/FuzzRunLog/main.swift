// Fuzzes the run-log reader: whole-buffer reading, the same bytes fed in two chunks (must give the
// same events), and re-encoding every event read (must read back to the same line).
import Foundation
import FuzzDriver
import RunLog

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzRunLog(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  let whole = try? RunLogReader.read(bytes: bytes)
  var decoder = RunLogDecoder()
  let cut = size == 0 ? 0 : Int(bytes[0]) % (size + 1)
  var events = decoder.feed(Array(bytes[..<cut]))
  events += decoder.feed(Array(bytes[cut...]))
  events += decoder.finish()
  _ = decoder.skippedSummary
  if let whole {
    precondition(whole.events.map(\.jsonLine) == events.map(\.jsonLine), "chunked read differs")
    _ = whole.skippedSummary
  }
  for event in events {
    let line = event.jsonLine
    let again = try? RunEvent(jsonLine: line)
    precondition(again?.jsonLine == line, "event does not read back: \(line)")
  }
  return 0
}

// libFuzzer runs the target with the command line (corpus folders and -flags).
var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv as UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzRunLog))
