import Corpus
// Fuzzes the tokenizer's readers and decoder; the first byte picks what the rest is:
//   0: a `tokenizer.json`; a tokenizer it loads must encode and decode a sample losslessly;
//   1: little-endian 32-bit token ids (any value), decoded by a small trained tokenizer;
//   2: bytes, which the trained tokenizer must encode and decode back unchanged.
import Foundation
import FuzzDriver

let sample = Array("Once upon a time, 42 tokens é\u{1F600}\n\n  x".utf8)
let trained: BPETokenizer = {
  var trainer = BPETrainer()
  trainer.add(String(repeating: "the cat sat on the mat. the dog's 12 bones! ", count: 20))
  return trainer.train(vocabSize: 300)
}()

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzTokenizer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  guard let data, size > 0 else { return 0 }
  let bytes = UnsafeBufferPointer(start: data + 1, count: size - 1)
  switch data[0] % 3 {
  case 0:
    guard let tok = try? BPETokenizer.load(json: Data(buffer: bytes)) else { return 0 }
    precondition(tok.decode(tok.encode(bytes: sample)) == sample, "load: not lossless")
  case 1:
    let raw = UnsafeRawBufferPointer(bytes)
    let ids = stride(from: 0, to: raw.count - 3, by: 4).map {
      Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0, as: Int32.self)))
    }
    _ = trained.decodeText(ids)
    _ = BPETokenizer.bytes.decode(ids)
  default:
    let input = Array(bytes)
    precondition(trained.decode(trained.encode(bytes: input)) == input, "encode: not lossless")
  }
  return 0
}

// libFuzzer runs the target with the command line (corpus folders and -flags).
var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv as UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzTokenizer))
