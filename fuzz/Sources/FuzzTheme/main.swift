// Fuzzes the theme reader: any bytes as a theme file's text.
import Foundation
import FuzzDriver
import Screens

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzTheme(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  do {
    _ = try ThemeParser.parse(text, file: "fuzz.theme")
  } catch {
    _ = error.description
  }
  return 0
}

// libFuzzer runs the target with the command line (corpus folders and -flags).
var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv as UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzTheme))
