// Bytes and ASCII byte classes the tokenizer and the import skimmer scan for.

let SPACE: UInt8 = 0x20, TAB: UInt8 = 0x09, FF: UInt8 = 0x0C, LF: UInt8 = 0x0A, CR: UInt8 = 0x0D
let HASH: UInt8 = 0x23, BACKSLASH: UInt8 = 0x5C, QUOTE1: UInt8 = 0x27, QUOTE2: UInt8 = 0x22
